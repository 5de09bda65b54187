// files is the 表格 (Files) panel of signed-in crews and planners: every
// layer as a download in each format the server offers (the collection's
// rel="alternate" links: Excel, CSV, KML for 奥维/Google Earth, GPX), with
// what the session's role may see; and, for planners, the import of an
// edited Excel or CSV export: choose the file, 试运行 (dry run) shows what
// every row would do, 导入 writes it (POST /collections/{id}/import, with
// an Idempotency-Key so that a retry after a lost answer writes once).
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { formatLabel, importType, reportRows, canApply } from "../files.js";
import { uuid } from "../outbox.js";

/** installFiles adds the panel. app: sheet, hooks, can. */
export function installFiles(app) {
  const { sheet, hooks } = app;
  const s = {
    collections: null, // [{id, title, links}] from /collections
    error: null,
    collection: "depots",
    file: null,
    goodOnly: false,
    busy: false,
    report: null, // the last answer's report
    applied: false, // report is of a write, not of a dry run
    message: null,
    key: null, // the Idempotency-Key of the next import of this file
  };

  async function load() {
    try {
      const res = await fetch("/collections", { headers: { Accept: "application/json" }, cache: "no-cache" });
      if (!res.ok) throw new Error(String(res.status));
      s.collections = (await res.json()).collections;
      s.error = null;
    } catch (err) {
      s.error = `${t("filesLoadFailed")}${err.message}`;
    }
    sheet.update("files");
  }

  // send posts the chosen file; dry says whether to write.
  async function send(dry) {
    if (!s.file) {
      s.message = t("filesNoFile");
      return sheet.update("files", { keep: true });
    }
    const type = importType(s.file.name);
    if (!type) {
      s.message = t("filesXls");
      return sheet.update("files", { keep: true });
    }
    s.busy = true;
    s.message = null;
    sheet.update("files", { keep: true });
    const q = new URLSearchParams();
    if (dry) q.set("dry_run", "true");
    if (s.goodOnly) q.set("apply_good_rows", "true");
    const headers = { "Content-Type": type, Accept: "application/json" };
    if (!dry) headers["Idempotency-Key"] = `"${s.key}"`;
    try {
      const res = await fetch(`/collections/${encodeURIComponent(s.collection)}/import?${q}`, { method: "POST", headers, body: s.file });
      const body = await res.json().catch(() => ({}));
      const report = res.ok ? body : body.import;
      if (report) {
        s.report = report;
        s.applied = !dry && res.ok;
      }
      const lang = document.documentElement.lang === "en" ? "en" : "zh";
      s.message = report ? report[`message_${lang}`] : `${t("filesFailed")}${body.detail || res.status}`;
      if (!dry && res.ok) s.key = uuid(); // the next import of the file is a new write
    } catch (err) {
      s.message = `${t("filesFailed")}${err.message}`; // the key stays: a retry replays
    }
    s.busy = false;
    sheet.update("files", { keep: true });
  }

  function exportList() {
    if (s.error) return h("p", { class: "hm-warn", text: s.error });
    if (!s.collections) return h("p", { class: "hm-muted", text: t("loading") });
    return h(
      "ul",
      { class: "hm-exports" },
      s.collections.map((c) =>
        h(
          "li",
          { dataset: { collection: c.id } },
          h("span", { class: "hm-export-name", text: t(c.id) !== c.id ? t(c.id) : c.title }),
          h(
            "span",
            { class: "hm-export-links" },
            (c.links || [])
              .filter((l) => l.rel === "alternate")
              .map((l) => {
                const u = new URL(l.href, location.href);
                // Same origin, so that the session's cookie goes with it.
                return h("a", { class: "hm-btn hm-export", href: u.pathname + u.search, download: "", dataset: { export: `${c.id}/${u.searchParams.get("f")}` }, title: l.title, text: formatLabel(l.type) });
              }),
          ),
        ),
      ),
    );
  }

  function reportTable() {
    const r = s.report;
    if (!r) return null;
    const lang = document.documentElement.lang === "en" ? "en" : "zh";
    const rows = reportRows(r);
    const shown = rows.filter((x) => x.action !== "unchanged");
    const unchanged = rows.length - shown.length;
    return h(
      "div",
      { class: "hm-import-report", dataset: { applied: String(s.applied) } },
      h(
        "p",
        { class: "hm-import-counts" },
        ["create", "update", "unchanged", "stale", "invalid"].map((a) =>
          h("span", { class: `hm-action hm-action--${a}`, dataset: { count: a }, text: `${t(`action_${a}`)} ${r.counts?.[a] ?? 0}` }),
        ),
      ),
      // A list, not a table: on a phone a row's id and its problem need the whole width.
      shown.length
        ? h(
            "ol",
            { class: "hm-import-rows" },
            shown.map((x) =>
              h(
                "li",
                { dataset: { row: String(x.row), action: x.action } },
                h(
                  "p",
                  { class: "hm-import-row-head" },
                  h("span", { class: `hm-action hm-action--${x.action}`, text: t(`action_${x.action}`) }),
                  h("span", { text: t("filesRow", x.row) }),
                  h("span", { class: "hm-import-id", text: x.id || t("filesNew") }),
                ),
                x.problems?.length
                  ? h("ul", null, x.problems.map((p) => h("li", { text: p[lang] })))
                  : x.changed?.length
                    ? h("p", { class: "hm-muted", text: x.changed.join(", ") })
                    : null,
              ),
            ),
          )
        : null,
      unchanged ? h("p", { class: "hm-muted", text: t("filesUnchanged", unchanged) }) : null,
    );
  }

  function importForm() {
    if (!app.can("planner")) return null;
    const layers = (s.collections || []).map((c) => h("option", { value: c.id, selected: c.id === s.collection, text: t(c.id) !== c.id ? t(c.id) : c.title }));
    return h(
      "section",
      { class: "hm-import" },
      h("h3", { text: t("filesImport") }),
      h("p", { class: "hm-muted", text: t("filesImportIntro") }),
      h(
        "label",
        { class: "hm-field" },
        t("filesLayer"),
        h("select", {
          class: "hm-input",
          dataset: { importCollection: "" },
          onchange: (ev) => {
            s.collection = ev.target.value;
            s.report = null;
            s.message = null;
            sheet.update("files", { keep: true });
          },
        }, layers),
      ),
      h(
        "label",
        { class: "hm-field" },
        t("filesChoose"),
        h("input", {
          type: "file",
          class: "hm-input",
          accept: ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          dataset: { importFile: "" },
          onchange: (ev) => {
            s.file = ev.target.files?.[0] ?? null;
            s.report = null;
            s.message = null;
            s.key = uuid();
            sheet.update("files", { keep: true });
          },
        }),
      ),
      // The panel is redrawn as it goes, which empties a file input: say which file it holds.
      s.file ? h("p", { class: "hm-file-chosen", dataset: { importChosen: "" }, text: `${t("filesChosen")}${s.file.name}` }) : null,
      h(
        "label",
        { class: "hm-check" },
        h("input", {
          type: "checkbox",
          checked: s.goodOnly,
          dataset: { importGoodOnly: "" },
          onchange: (ev) => {
            s.goodOnly = ev.target.checked;
            sheet.update("files", { keep: true });
          },
        }),
        t("filesGoodOnly"),
      ),
      h(
        "p",
        { class: "hm-actions" },
        h("button", { type: "button", class: "hm-btn", disabled: s.busy || !s.file, dataset: { importDry: "" }, onclick: () => send(true), text: t("filesDryRun") }),
        h("button", {
          type: "button",
          class: "hm-btn hm-primary",
          disabled: s.busy || !s.file || s.applied || !s.report || !canApply(s.report, s.goodOnly),
          dataset: { importApply: "" },
          onclick: () => send(false),
          text: t("filesApply"),
        }),
      ),
      s.busy ? h("p", { class: "hm-muted", text: t("filesBusy") }) : null,
      s.message ? h("p", { class: s.report?.counts?.invalid && !s.goodOnly ? "hm-warn" : null, dataset: { importMessage: "" }, text: s.message }) : null,
      reportTable(),
    );
  }

  function render() {
    return [t("filesTitle"), h("section", null, h("h3", { text: t("filesExport") }), h("p", { class: "hm-muted", text: t("filesExportIntro") }), exportList()), importForm()];
  }

  sheet.add({ name: "files", label: () => t("tabFiles"), visible: () => app.can("crew"), onOpen: () => (s.collections ? null : load()), render });
  hooks.on("session", () => {
    s.collections = null; // what a role may export is its own
    if (sheet.current() === "files") load();
  });
  hooks.on("lang", () => sheet.update("files"));
}
