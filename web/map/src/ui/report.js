// report is the status report a crew makes from a waterlogging point's
// popup: three large buttons 畅通 / 积水 / 封闭, the depth in cm on the
// numeric keypad with the GB 51222 15 cm hint, a note, one photo from the
// camera (resized on the phone to at most 1600 px and re-encoded as a
// JPEG through a canvas, which leaves the camera's EXIF — position,
// model — behind), and the phone's position with its accuracy. The report
// goes into the outbox (outboxpanel.js) with an Idempotency-Key made now,
// and is sent from there — but only what the server accepts (rules.js): a
// status that contradicts the depth (畅通 over 15 cm, 积水 at 0 cm) is
// said as it is typed, with a button that switches the status, and never
// enters the queue. What was typed survives the popup being redrawn by a
// live update. The 上报 tab lists the waterlogging points and gauges,
// nearest to the phone first: a tap flies there and opens the form.
import { h } from "../dom.js";
import { t, distance, featureName } from "../i18n.js";
import { representative, nearestFirst } from "../geometry.js";
import { fitWithin } from "../field.js";
import { uuid } from "../outbox.js";
import { checkReport, STATUSES } from "../rules.js";
import { ruleHint } from "./reasonview.js";
/** FIX_MAX_AGE_MS: a position this old still goes with a report. */
const FIX_MAX_AGE_MS = 120000;

/** resizePhoto returns {blob, width, height} of file resized to fit 1600 px, as a fresh JPEG (no EXIF). */
export async function resizePhoto(file) {
  let src;
  try {
    src = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    src = await new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("not an image"));
      img.src = URL.createObjectURL(file);
    });
  }
  const [w, h2] = fitWithin(src.width, src.height);
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h2;
  canvas.getContext("2d").drawImage(src, 0, 0, w, h2);
  const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.85));
  return { blob, width: w, height: h2 };
}

/** installReport adds the form to waterlogging points' popups for crews and above. app: hooks, outbox, can. */
export function installReport(app) {
  const forms = new Map(); // feature id → {status, depth, note, photo, msg, tried}
  let fix = null; // {lon, lat, accuracy, at}

  function locate() {
    if (!("geolocation" in navigator)) return;
    navigator.geolocation.getCurrentPosition(
      (p) => {
        fix = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, at: Date.now() };
        document.querySelectorAll("[data-report-position]").forEach((el) => (el.textContent = positionText()));
        app.sheet.update("report", { keep: true });
      },
      () => {},
      { enableHighAccuracy: true, maximumAge: 60000, timeout: 20000 },
    );
  }
  const freshFix = () => (fix && Date.now() - fix.at < FIX_MAX_AGE_MS ? fix : null);
  const positionText = () => (freshFix() ? t("reportPosition", distance(freshFix().accuracy)) : t("reportNoPosition"));

  async function send(entry, f, redraw) {
    f.tried = true;
    if (checkReport(f).length) return redraw();
    const now = new Date().toISOString();
    const body = { depth_cm: Number(f.depth), status: f.status, observed_at: now };
    if (f.note.trim()) body.note = f.note.trim();
    const at = freshFix();
    if (at) Object.assign(body, { position: { type: "Point", coordinates: [at.lon, at.lat] }, accuracy_m: Math.max(0.1, at.accuracy) });
    await app.outbox.add({ id: uuid(), kind: "report", collection: entry.collection, featureId: entry.id, name: entry.feature.properties.name ?? entry.id, body, photo: f.photo?.blob ?? null, observedAt: now });
    forms.set(entry.id, { status: null, depth: "", note: "", photo: null, msg: t("reportQueued"), tried: false });
    redraw();
  }

  function form(entry) {
    if (!forms.has(entry.id)) forms.set(entry.id, { status: null, depth: "", note: "", photo: null, msg: null, tried: false });
    const f = forms.get(entry.id);
    const el = h("section", { class: "hm-report", dataset: { report: entry.id } });
    const redraw = () => el.replaceWith(form(entry));
    const pick = (st) => {
      f.status = st;
      f.msg = null;
      el.querySelectorAll("[data-status-button]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.statusButton === st)));
      rules();
    };
    // What the server would refuse, said as it is typed: a contradiction
    // at once, a missing status or depth once the crew tried to send.
    const hint = ruleHint("report", (st) => pick(st));
    const rules = () => {
      const p = checkReport(f).find((x) => f.tried || !x.key.startsWith("need"));
      hint.show(p?.key, p && t(`rule_${p.key}`), p?.fix, p?.fix && t(`fix_${p.fix}`));
    };
    const depth = h("input", {
      type: "number", inputmode: "numeric", pattern: "[0-9]*", min: "0", max: "500", step: "1", class: "hm-input", name: "depth_cm", value: f.depth,
      oninput: (ev) => {
        f.depth = ev.target.value;
        rules();
      },
    });
    const note = h("input", {
      type: "text", maxlength: "500", class: "hm-input", name: "note", value: f.note,
      oninput: (ev) => {
        f.note = ev.target.value;
        rules();
      },
    });
    const photoInfo = h("span", { class: "hm-muted", dataset: { photoInfo: "" }, text: f.photo ? t("photoResized", f.photo.width, f.photo.height, Math.round(f.photo.blob.size / 1024)) : "" });
    const photo = h("input", {
      type: "file",
      accept: "image/*",
      capture: "environment",
      class: "hm-file",
      name: "photo",
      onchange: async (ev) => {
        const file = ev.target.files?.[0];
        if (!file) return;
        try {
          f.photo = await resizePhoto(file);
          photoInfo.textContent = t("photoResized", f.photo.width, f.photo.height, Math.round(f.photo.blob.size / 1024));
          el.dataset.photo = `${f.photo.width}x${f.photo.height}`;
        } catch (err) {
          photoInfo.textContent = err.message;
        }
      },
    });
    if (f.photo) el.dataset.photo = `${f.photo.width}x${f.photo.height}`;
    el.append(
      h("h3", { text: t("report") }),
      h(
        "div",
        { class: "hm-status-buttons", role: "group", "aria-label": t("status") },
        STATUSES.map((st) => h("button", { type: "button", class: `hm-status-btn hm-st--${st}`, dataset: { statusButton: st }, "aria-pressed": String(f.status === st), text: t(`status_${st}`), onclick: () => pick(st) })),
      ),
      h("label", { class: "hm-field" }, h("span", { text: t("reportDepth") }), depth),
      h("p", { class: "hm-hint", text: t("reportHint") }),
      hint.el,
      h("label", { class: "hm-field" }, h("span", { text: t("reportNote") }), note),
      h("label", { class: "hm-field hm-photo" }, h("span", { text: t("reportPhoto") }), photo),
      photoInfo,
      h("p", { class: "hm-muted", dataset: { reportPosition: "" }, text: positionText() }),
      h("button", { type: "button", class: "hm-btn hm-wide hm-primary", dataset: { reportSend: "" }, text: t("reportSend"), onclick: () => send(entry, f, redraw) }),
      f.msg ? h("p", { class: "hm-ok", dataset: { reportQueued: "" }, text: f.msg }) : null,
    );
    rules();
    return el;
  }

  // The 上报 panel: where to report, nearest first.
  function panel() {
    const at = freshFix();
    const from = at ? [at.lon, at.lat] : null;
    const list = (c) => nearestFirst(app.registry.all(c).filter((e) => e.marker), from, (e) => representative(e.feature.geometry));
    const row = ({ item: e, distance: d }) => {
      const status = e.feature.properties.status ?? "null";
      const sub = [e.collection === "waterlogging_points" ? t(`status_${status}`) : null, d != null ? distance(d) : null].filter(Boolean).join(" · ");
      return h(
        "li",
        null,
        h(
          "button",
          { type: "button", class: "hm-row-btn", dataset: { pick: e.id, collection: e.collection }, onclick: () => app.selection.select(e, { fly: true }) },
          h("span", { class: "hm-row-name" }, e.collection === "waterlogging_points" ? h("span", { class: `hm-dot hm-st--${status}` }) : null, ` ${featureName(e.feature.properties) || e.id}`),
          sub ? h("span", { class: "hm-row-sub", text: sub }) : null,
        ),
      );
    };
    const section = (c) => {
      const rows = list(c);
      return rows.length ? [h("h3", { text: t(c) }), h("ul", { class: "hm-list" }, rows.map(row))] : null;
    };
    return [t("report"), h("p", { class: "hm-muted", text: at ? t("reportPickNear", distance(at.accuracy)) : t("reportPick") }), section("waterlogging_points"), section("gauges")];
  }
  app.sheet.add({
    name: "report",
    label: () => t("tabReport"),
    visible: () => app.can("crew"),
    onOpen: () => {
      if (!freshFix()) locate();
    },
    render: panel,
    followsData: true,
  });

  app.hooks.on("popup", ({ entry, el }) => {
    if (entry.collection !== "waterlogging_points" || !app.can("crew") || !app.outbox) return;
    el.querySelector(".hm-popup-title")?.after(form(entry));
    if (!freshFix()) locate();
  });
}
