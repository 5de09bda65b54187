// gauges is the water room: the gauges' markers coloured by their latest
// level against today's limit (grey without data or when silent, red
// while an alert is unresolved), a popup with the last 72 hours drawn
// with the limit lines (uPlot, loaded on first use) and, for crews, a
// form to enter a reading (through the outbox when field mode is loaded,
// so it survives a dead network); a red banner with 确认 for signed-in
// users whenever an alert is open and unacknowledged; and the 告警 panel:
// the alerts with their history, acknowledged by crews and resolved by
// planners. It follows /events: a reading recolours its gauge, an alert
// step updates the banner, the panel and the marker.
import { h, replace } from "../dom.js";
import { t, featureName, getLang } from "../i18n.js";
import * as api from "../api.js";
import { levelState, splitEvents, CHART_HOURS } from "../water.js";
import { uuid } from "../outbox.js";
import { RESET } from "../live.js";
import { checkReading } from "../rules.js";
import { reasonView, ruleHint } from "./reasonview.js";

/** RECENT is how many alerts of any state the panel lists. */
const RECENT = 30;

/** installGauges adds the water room. app: registry, hooks, sheet, selection, can, session, outbox (field mode). */
export function installGauges(app) {
  const { registry, hooks, sheet } = app;
  const latest = new Map(); // gauge id → its latest reading
  const active = new Map(); // alert id → an unresolved alert
  let recent = []; // the latest alerts, any state, newest first
  const forms = new Map(); // alert id → {action, note, error, busy}
  const readingForms = new Map(); // gauge id → {level, note, msg, error}
  const state = { loaded: false, events: 0 };
  let reasons = null; // reasons.js, once a step failed
  window.hazardmap.water = state;

  const alertsOf = (gauge) => [...active.values()].filter((a) => a.gauge_id === gauge);
  const gaugeName = (id) => {
    const e = registry.get("gauges", id);
    return e ? featureName(e.feature.properties) : id;
  };

  // restyle sets each gauge entry's reading and level state and redraws
  // its marker when that changed.
  function restyle(flash = new Set()) {
    const now = Date.now();
    for (const e of registry.all("gauges")) {
      const reading = latest.get(e.id) ?? null;
      const level = levelState(e.feature.properties, reading, alertsOf(e.id), now);
      if (e.level !== level || e.reading !== reading) {
        e.level = level;
        e.reading = reading;
        registry.refresh(e);
      }
      if (flash.has(e.id)) registry.flash(e);
    }
  }

  async function load() {
    try {
      const [rs, as] = await Promise.all([api.latestReadings(), api.activeAlerts()]);
      latest.clear();
      for (const r of rs) latest.set(r.gauge_id, r);
      active.clear();
      for (const a of as) active.set(a.id, a);
      state.loaded = true;
    } catch (err) {
      console.warn("water levels:", err.message);
    }
    restyle();
    renderBanner();
    sheet.update("alerts", { keep: true });
    sheet.tabs?.();
  }

  async function loadRecent() {
    try {
      recent = await api.recentAlerts(RECENT);
    } catch (err) {
      console.warn("alerts:", err.message);
    }
    sheet.update("alerts", { keep: true });
  }

  // put records an alert as it is now: in the active set while
  // unresolved, in the recent list always.
  function put(a) {
    if (a.state === "resolved") active.delete(a.id);
    else active.set(a.id, a);
    recent = [a, ...recent.filter((x) => x.id !== a.id)].sort((x, y) => y.opened.localeCompare(x.opened)).slice(0, RECENT);
  }

  hooks.on("loaded", load);
  hooks.on("session", () => {
    renderBanner();
    sheet.tabs?.();
  });
  hooks.on("changes", (list) => {
    if (list.some((x) => x.collection === "gauges")) restyle();
  });
  // A gauge falls silent without any event: look again every minute.
  setInterval(() => {
    restyle();
    renderBanner();
  }, 60000);

  hooks.on("events", async (items) => {
    // A reset (the stream started afresh, e.g. back from offline): read
    // the levels and alerts again.
    if (items.some((x) => x.key === RESET)) return load();
    const { water } = splitEvents(items);
    if (!water.length) return;
    const gauges = [...new Set(water.filter((x) => x.collection === "readings").map((x) => x.id))];
    const alertIds = [...new Set(water.filter((x) => x.collection === "alerts").map((x) => x.id))];
    try {
      const [rs, as] = await Promise.all([gauges.length ? api.latestReadings(gauges) : [], Promise.all(alertIds.map((id) => api.alert(id)))]);
      for (const r of rs) latest.set(r.gauge_id, r);
      for (const a of as) if (a) put(a);
    } catch (err) {
      console.warn("water levels: live update:", err.message);
      return;
    }
    const touched = new Set([...gauges, ...recent.filter((a) => alertIds.includes(a.id)).map((a) => a.gauge_id)]);
    restyle(touched);
    renderBanner();
    sheet.update("alerts", { keep: true });
    sheet.tabs?.();
    state.events++;
    // An open popup of a gauge that changed is redrawn (new chart point,
    // new state).
    const sel = app.selection.current?.();
    if (sel?.collection === "gauges" && touched.has(sel.id)) app.selection.select(sel, { keepView: true });
  });

  // The banner: every open, unacknowledged alert, for signed-in users.
  const banner = h("div", { id: "hm-alert-banner", class: "hm-alert-banner", role: "alert", hidden: true });
  document.body.append(banner);

  function renderBanner() {
    const open = [...active.values()].filter((a) => a.state === "open").sort((x, y) => y.opened.localeCompare(x.opened));
    const show = app.can("crew") && open.length > 0;
    banner.hidden = !show;
    document.documentElement.dataset.alerts = String(open.length);
    if (!show) return replace(banner, []);
    replace(
      banner,
      open.slice(0, 3).map((a) => alertRow(a, true)),
      open.length > 3 ? h("p", { class: "hm-alert-more", text: t("alertsMore", open.length - 3) }) : null,
    );
  }

  // alertRow is one alert: what, where, when, and its step buttons (or
  // the form of the step being taken).
  function alertRow(a, compact) {
    const f = forms.get(a.id);
    const when = new Date(a.opened).toLocaleString();
    const buttons = [];
    if (a.state === "open" && app.can("crew")) buttons.push(h("button", { type: "button", class: "hm-btn hm-ack", dataset: { ack: a.id }, text: t("acknowledge"), onclick: () => startStep(a, "acknowledge") }));
    if (!compact && a.state !== "resolved" && app.can("planner")) buttons.push(h("button", { type: "button", class: "hm-btn", dataset: { resolve: a.id }, text: t("resolve"), onclick: () => startStep(a, "resolve") }));
    return h(
      "div",
      { class: `hm-alert hm-alert--${a.state}${a.escalated ? " hm-alert--escalated" : ""}`, dataset: { alertId: a.id, state: a.state } },
      h("p", { class: "hm-alert-what" }, h("strong", { text: `⚠ ${gaugeName(a.gauge_id)} ${a.title}` }), a.escalated ? h("span", { class: "hm-alert-esc", text: ` ${t("escalated")}` }) : null),
      h("p", { class: "hm-alert-desc", text: `${a.description} · ${when}` }),
      f ? stepForm(a, f) : buttons.length ? h("div", { class: "hm-alert-buttons" }, buttons) : null,
    );
  }

  function startStep(a, action) {
    forms.set(a.id, { action, note: "", error: null, busy: false });
    renderBanner();
    sheet.update("alerts", { keep: true });
    document.querySelector(`[data-alert-id="${a.id}"] input[name="note"]`)?.focus();
  }

  function stepForm(a, f) {
    const note = h("input", { type: "text", name: "note", class: "hm-input", maxlength: "500", value: f.note, placeholder: t(f.action === "acknowledge" ? "ackNoteHint" : "resolveNoteHint"), "aria-label": t("note"), oninput: (ev) => (f.note = ev.target.value) });
    const submit = async (ev) => {
      ev.preventDefault();
      if (!f.note.trim()) {
        f.error = t("needNote");
        return redraw();
      }
      f.busy = true;
      try {
        const got = await api.post(`/alerts/${encodeURIComponent(a.id)}/${f.action}`, { note: f.note.trim(), version: a.version }, { "Idempotency-Key": `"${uuid()}"` });
        forms.delete(a.id);
        put(got);
        restyle(new Set([got.gauge_id]));
      } catch (err) {
        // Why, in the crew's words (reasons.js: a chunk of its own, which field mode has loaded).
        reasons ??= await import("../reasons.js");
        Object.assign(f, { busy: false, error: { kind: f.action, problem: err.problem ?? null, error: err.message } });
        if (err.status === 409) loadOne(a.id); // someone was first: show what it is now
      }
      redraw();
    };
    const redraw = () => {
      renderBanner();
      sheet.update("alerts", { keep: true });
    };
    return h(
      "form",
      { class: "hm-form hm-step-form", dataset: { step: f.action }, onsubmit: submit },
      h("p", { class: "hm-muted", text: t(f.action === "acknowledge" ? "ackPublic" : "resolveIntro") }),
      note,
      f.error ? reasonView(f.error.kind ? reasons.explain({ ...f.error, lang: getLang() }) : { text: f.error }, t("reasonDetail")) : null,
      h(
        "div",
        { class: "hm-alert-buttons" },
        h("button", { type: "submit", class: "hm-btn hm-primary", disabled: f.busy, text: t(f.action === "acknowledge" ? "acknowledgeGo" : "resolveGo") }),
        h("button", {
          type: "button",
          class: "hm-btn",
          text: t("cancel"),
          onclick: () => {
            forms.delete(a.id);
            redraw();
          },
        }),
      ),
    );
  }

  async function loadOne(id) {
    const a = await api.alert(id).catch(() => null);
    if (a) put(a);
    renderBanner();
    sheet.update("alerts", { keep: true });
  }

  // The 告警 panel.
  function render() {
    const open = [...active.values()].sort((x, y) => y.opened.localeCompare(x.opened));
    const past = recent.filter((a) => a.state === "resolved");
    return [
      `${t("tabAlerts")} (${open.length})`,
      open.length ? h("div", { class: "hm-alert-list" }, open.map((a) => alertRow(a, false))) : h("p", { class: "hm-muted", text: t("noAlerts") }),
      past.length
        ? h(
            "details",
            null,
            h("summary", { text: `${t("resolvedAlerts")} (${past.length})` }),
            past.map((a) =>
              h(
                "div",
                { class: "hm-alert hm-alert--resolved", dataset: { alertId: a.id, state: a.state } },
                h("p", { class: "hm-alert-what" }, h("strong", { text: `${gaugeName(a.gauge_id)} ${a.title}` })),
                h("ol", { class: "hm-steps" }, a.steps.map((s) => h("li", { text: `${new Date(s.at).toLocaleString()} ${t(`step_${s.action}`)} ${s.actor.id === "system" ? t("bySystem") : s.actor.name}：${s.note}` }))),
              ),
            ),
          )
        : null,
      h("p", { class: "hm-muted" }, h("a", { href: "/cap/alerts.atom", text: t("capFeed") })),
    ];
  }
  sheet.add({
    name: "alerts",
    label: () => t("tabAlerts"),
    badge: () => String([...active.values()].filter((a) => a.state === "open").length || ""),
    urgent: true,
    visible: () => app.can("crew"),
    onOpen: loadRecent,
    render,
    followsData: true,
  });

  // The popup of a gauge: its chart, and the reading form for crews.
  hooks.on("popup", ({ entry, el }) => {
    if (entry.collection !== "gauges") return;
    const slot = h("section", { class: "hm-chart", dataset: { chart: entry.id } }, h("h3", { text: t("chartTitle", CHART_HOURS) }), h("p", { class: "hm-muted", text: t("loading") }));
    el.querySelector(".hm-dl")?.after(slot);
    drawChart(entry, slot);
    if (app.can("crew")) slot.after(readingForm(entry));
  });

  async function drawChart(entry, slot) {
    const from = new Date(Date.now() - CHART_HOURS * 3600 * 1000);
    try {
      const [chart, rs] = await Promise.all([import("./chart.js"), api.readings(entry.id, from)]);
      if (!rs.length) {
        replace(slot, h("h3", { text: t("chartTitle", CHART_HOURS) }), h("p", { class: "hm-muted", text: t("noReading") }));
        return;
      }
      const box = h("div", { class: "hm-chart-box" });
      replace(slot, h("h3", { text: t("chartTitle", CHART_HOURS) }), box);
      const width = Math.max(220, Math.min(320, window.innerWidth - 110));
      const u = chart.drawChart(box, entry.feature.properties, rs, width);
      slot.dataset.points = String(u.hm.points);
      slot.dataset.lines = u.hm.lines.map((l) => l.key).join(",");
      window.hazardmap.chart = { gauge: entry.id, ...u.hm, plot: u };
    } catch (err) {
      replace(slot, h("h3", { text: t("chartTitle", CHART_HOURS) }), h("p", { class: "hm-warn", text: `${t("loadFailed")}${err.message}` }));
    }
  }

  function readingForm(entry) {
    if (!readingForms.has(entry.id)) readingForms.set(entry.id, { level: "", note: "", msg: null, error: null, tried: false });
    const f = readingForms.get(entry.id);
    const el = h("form", { class: "hm-form hm-reading", dataset: { readingForm: entry.id } });
    const redraw = () => el.replaceWith(readingForm(entry));
    // What the server would refuse (rules.js), said as it is typed: a
    // level the gauge cannot read, with the level in metres when it was
    // typed in centimetres.
    const hint = ruleHint("reading", (x) => {
      f.level = x;
      level.value = x;
      rules();
    });
    const rules = () => {
      const p = checkReading(f, entry.feature.properties).find((x) => f.tried || x.key !== "needLevel");
      hint.show(p?.key, p && t(`rule_${p.key}`, ...(p.range ?? [])), p?.fix, p?.fix != null && t("fix_level", p.fix));
    };
    const level = h("input", {
      type: "number", inputmode: "decimal", step: "0.01", class: "hm-input", name: "level", value: f.level, "aria-label": t("readingLevel"),
      oninput: (ev) => {
        f.level = ev.target.value;
        rules();
      },
    });
    const note = h("input", {
      type: "text", maxlength: "500", class: "hm-input", name: "note", value: f.note, "aria-label": t("reportNote"),
      oninput: (ev) => {
        f.note = ev.target.value;
        rules();
      },
    });
    el.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      f.tried = true;
      f.msg = null;
      if (checkReading(f, entry.feature.properties).length) return rules();
      const at = new Date().toISOString();
      const body = { level: Number(f.level), at };
      if (f.note.trim()) body.note = f.note.trim();
      const name = featureName(entry.feature.properties) || entry.id;
      try {
        if (app.outbox) {
          // Field mode: through the outbox, which keeps it through a dead
          // network and sends it once (Idempotency-Key).
          await app.outbox.add({ id: uuid(), kind: "reading", collection: "gauges", featureId: entry.id, name, body, observedAt: at });
          readingForms.set(entry.id, { level: "", note: "", msg: t("readingQueued"), error: null, tried: false });
        } else {
          await api.post(`/collections/gauges/items/${encodeURIComponent(entry.id)}/readings`, body, { "Idempotency-Key": `"${uuid()}"` });
          readingForms.set(entry.id, { level: "", note: "", msg: t("readingSent"), error: null, tried: false });
        }
      } catch (err) {
        Object.assign(f, { error: `${t("stepFailed")}${err.message}`, msg: null });
      }
      redraw();
    });
    el.append(
      h("h3", { text: t("enterReading") }),
      h("label", { class: "hm-field" }, h("span", { text: t("readingLevel") }), level),
      h("label", { class: "hm-field" }, h("span", { text: t("reportNote") }), note),
      hint.el,
      f.error ? h("p", { class: "hm-warn", text: f.error }) : null,
      h("button", { type: "submit", class: "hm-btn hm-wide hm-primary", dataset: { readingSend: "" }, text: t("readingSend") }),
      f.msg ? h("p", { class: "hm-ok", dataset: { readingSent: "" }, text: f.msg }) : null,
    );
    rules();
    return el;
  }
}
