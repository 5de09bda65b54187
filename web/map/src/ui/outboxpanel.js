// outboxpanel is the 发送 (outbox) room: the queue of reports and
// locations made on this phone, each with its state (待发送 / 发送中 /
// 已送达 / 被拒绝) and why, in the crew's words (reasons.js) with the
// server's own small beneath; a report refused for its status offers the
// status that the server takes (改报积水), as a new item. What keeps it moving — it
// sends when the page becomes visible, when the browser says it is
// online, on a timer, right after an item is made, and (where the browser
// has it) on Background Sync, never only that. It also shows whether the
// browser keeps the offline data for good, the base-map tiles cached, and
// (when the tile source allows it) the download of the area in view.
import L from "leaflet";
import { h } from "../dom.js";
import { t, getLang } from "../i18n.js";
import { clock } from "../field.js";
import { openOutbox, SYNC_TAG } from "../outboxdb.js";
import { PENDING, SENDING, DELIVERED, REJECTED, uuid } from "../outbox.js";
import { TILES } from "../caches.js";
import { explain } from "../reasons.js";
import { statusConflict, number } from "../rules.js";
import { reasonView } from "./reasonview.js";

/** TIMER_MS: while items wait, the queue is tried this often. */
const TIMER_MS = 15000;
/** BULK_MAX caps a bulk tile download, in tiles; TILE_KB is the size assumed per tile for the estimate. */
const BULK_MAX = 2000;
const TILE_KB = 20;

/** installOutbox opens the queue and adds its panel; it returns app.outbox: { add(item), flush(opts), items(), waiting() }. */
export async function installOutbox(app) {
  const { sheet, hooks } = app;
  let items = [];
  let tiles = null;
  let bulk = null; // {i, n} while downloading, {done: n} after
  const root = document.documentElement;

  async function reload() {
    items = await box.items();
    const waiting = items.filter((it) => it.state === PENDING || it.state === SENDING).length;
    root.dataset.outboxWaiting = String(waiting);
    root.dataset.outboxItems = String(items.length);
    sheet.tabs();
    sheet.update("outbox", { keep: true });
  }
  const box = await openOutbox({ onChange: () => reload() });

  let flushing = null;
  async function flush(opts) {
    if (flushing) return flushing;
    flushing = box.flush(opts).finally(() => (flushing = null));
    const r = await flushing;
    if (r.signin && !app.session.ended) app.session.ended = true;
    return r;
  }

  async function add(item) {
    const it = await box.add(item);
    try {
      const reg = await navigator.serviceWorker?.getRegistration?.();
      await reg?.sync?.register(SYNC_TAG);
    } catch {
      /* no Background Sync here: the page sends by itself */
    }
    flush();
    return it;
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") flush();
  });
  window.addEventListener("online", () => flush({ force: true }));
  setInterval(() => {
    if (items.some((it) => it.state === PENDING || it.state === SENDING)) flush();
  }, TIMER_MS);

  async function countTiles() {
    if (!app.tiles || !("caches" in window)) return;
    tiles = (await (await caches.open(TILES)).keys()).length;
    sheet.update("outbox", { keep: true });
  }

  // The tiles of the view at this zoom and the next two (at most 17).
  function viewTiles() {
    const map = app.map;
    const z0 = map.getZoom();
    const out = [];
    for (let z = z0; z <= Math.min(17, z0 + 2); z++) {
      const b = map.getPixelBounds(map.getCenter(), z);
      const size = 256;
      for (let x = Math.floor(b.min.x / size); x <= Math.floor(b.max.x / size); x++) {
        for (let y = Math.floor(b.min.y / size); y <= Math.floor(b.max.y / size); y++) out.push({ x, y, z });
      }
    }
    return out;
  }

  async function download() {
    const list = viewTiles();
    if (list.length > BULK_MAX) return;
    const subs = app.tiles.options.subdomains;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      const url = L.Util.template(app.cfg.tileURL, { ...c, s: subs[Math.abs(c.x + c.y) % subs.length] });
      bulk = { i: i + 1, n: list.length };
      if (i % 20 === 0) sheet.update("outbox", { keep: true });
      await fetch(url, { mode: "no-cors" }).catch(() => {});
    }
    bulk = { done: list.length };
    await countTiles();
  }

  // resend queues a refused report again with the status the server
  // takes, under a new key (the refused one keeps its answer), and takes
  // the refused one off the list.
  async function resend(it, status) {
    const { kind, collection, featureId, name, body, observedAt } = it;
    await add({ id: uuid(), kind, collection, featureId, name, body: { ...body, status }, photo: null, observedAt });
    await box.dismiss(it.id);
  }

  // why says why an item was refused, or why it still waits (after a try).
  function why(it) {
    if (it.state !== REJECTED && !(it.state === PENDING && it.tries > 0)) return null;
    const r = explain({ kind: it.kind, problem: it.problem ?? null, request: it.body, status: it.status ?? 0, error: it.error ?? "", lang: getLang() });
    return reasonView(r, t("reasonDetail"), it.state === REJECTED);
  }

  function row(it) {
    const when = clock(it.observedAt || it.created);
    const fix = it.state === REJECTED && it.kind === "report" && it.status === 400 ? statusConflict(it.body.status, number(it.body.depth_cm))?.fix : null;
    return h(
      "li",
      { class: `hm-out hm-out--${it.state}`, dataset: { outboxId: it.id, state: it.state, kind: it.kind } },
      h("span", { class: `hm-out-state hm-out-state--${it.state}`, text: t(`state_${it.state}`) }),
      h("span", { class: "hm-out-what", text: `${t(`kind_${it.kind}`)} · ${it.name} · ${when}` }),
      it.kind === "reading" ? h("span", { class: "hm-out-sub", text: `${it.body.level} ${t("unitM")}` }) : null,
      it.kind === "report" ? h("span", { class: "hm-out-sub", text: `${t(`status_${it.body.status}`)} ${it.body.depth_cm} ${t("cm")}${it.photo ? " · 📷" : ""}` }) : null,
      why(it),
      fix ? h("button", { type: "button", class: "hm-btn hm-primary", dataset: { resend: fix }, text: t("resendAs", t(`status_${fix}`)), onclick: () => resend(it, fix) }) : null,
      it.state === REJECTED ? h("button", { type: "button", class: "hm-btn", text: t("dismiss"), onclick: () => box.dismiss(it.id) }) : null,
    );
  }

  function render() {
    const waiting = items.filter((it) => it.state === PENDING || it.state === SENDING);
    const out = [t("outboxTitle"), h("p", { class: "hm-muted", text: t("outboxIntro") })];
    // Shown by what needs the crew's eye: what is moving or waiting (in
    // the order it goes), what was refused, then what arrived, newest first.
    const rank = { [SENDING]: 0, [PENDING]: 1, [REJECTED]: 2, [DELIVERED]: 3 };
    const shown = [...items].sort((a, b) => rank[a.state] - rank[b.state] || (a.state === DELIVERED ? b.delivered - a.delivered : 0));
    out.push(items.length ? h("ul", { class: "hm-outbox" }, shown.map(row)) : h("p", { dataset: { outboxEmpty: "" }, text: t("outboxEmpty") }));
    const actions = [];
    if (waiting.length) actions.push(h("button", { type: "button", class: "hm-btn hm-primary", text: t("outboxSendNow"), onclick: () => flush({ force: true }) }));
    if (items.some((it) => it.state === DELIVERED)) {
      actions.push(h("button", { type: "button", class: "hm-btn", text: t("outboxClear"), onclick: async () => Promise.all(items.filter((it) => it.state === DELIVERED).map((it) => box.dismiss(it.id))) }));
    }
    if (actions.length) out.push(h("div", { class: "hm-actions" }, actions));
    const p = app.offline?.persisted;
    out.push(h("p", { class: p ? "hm-muted" : "hm-warn", dataset: { persisted: String(p) }, text: p === true ? t("storagePersisted") : p === false ? t("storageNotPersisted") : t("storageUnknown") }));
    if (app.tiles) {
      out.push(h("h3", { text: t("tilesSection") }));
      if (tiles != null) out.push(h("p", { class: "hm-muted", text: t("tilesCached", tiles) }));
      if (app.cfg.tileBulk) {
        const n = viewTiles().length;
        if (bulk?.n) out.push(h("p", { text: t("tilesDownloading", bulk.i, bulk.n) }));
        else if (n > BULK_MAX) out.push(h("p", { class: "hm-muted", text: t("tilesTooMany", n) }));
        else out.push(h("button", { type: "button", class: "hm-btn hm-wide", dataset: { tileDownload: String(n) }, text: t("tilesDownload", n, ((n * TILE_KB) / 1024).toFixed(1)), onclick: download }));
        if (bulk?.done) out.push(h("p", { class: "hm-muted", text: t("tilesDone", bulk.done) }));
      }
    }
    return out;
  }

  sheet.add({
    name: "outbox",
    label: () => t("tabOutbox"),
    badge: () => String(items.filter((it) => it.state === PENDING || it.state === SENDING).length || ""),
    urgent: true,
    visible: () => app.can("crew") || items.length > 0,
    onOpen: () => {
      countTiles();
    },
    render,
  });
  hooks.on("lang", () => sheet.update("outbox"));
  await reload();
  flush();
  const api = { add, flush, items: () => box.items(), waiting: () => box.waiting() };
  app.outbox = api;
  return api;
}
