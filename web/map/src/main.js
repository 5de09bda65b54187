// The map of hazardmap: Xingyang's waterlogging points, riverbed
// relocation sites and emergency-supply depots over a configured base map
// or, offline, the county and township outlines from data/. Mobile first:
// a crew member on a phone in the rain and a planner at a desk.
//
// Configuration comes from <meta> tags that the server fills in (no inline
// script: the Content-Security-Policy forbids it). Every string from data
// is inserted as text (dom.js).
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import "./style.css";
import { h, replace } from "./dom.js";
import { t, setLang, getLang, distance, featureName } from "./i18n.js";
import * as api from "./api.js";
import { projector } from "./gcj02.js";
import { Registry, HAZARDS, representative, precisionOf } from "./features.js";
import { content as popupContent, unlocatedItem } from "./popup.js";
import * as live from "./live.js";

const COLLECTIONS = ["waterlogging_points", "relocation_sites", "depots"];
const DESKTOP = window.matchMedia("(min-width: 900px)");
const PRESETS = [1000, 3000, 5000, 10000];

const cfg = api.config();
const toDisplay = projector(cfg.datum);
/** project maps a WGS-84 [lon, lat] to a Leaflet LatLng in the tiles' datum. */
const project = (c) => {
  const [x, y] = toDisplay(c[0], c[1]);
  return L.latLng(y, x);
};

// ---------------------------------------------------------------- state

const state = {
  panel: null, // "layers" | "reach" | "unlocated" | "locate" | null
  analysis: null, // null unknown, true, false
  reach: { threshold: 3000, active: false, loading: false, report: null, error: null },
  locate: { status: "idle", pos: null, depot: null, error: null },
  selected: null, // registry entry
  contextAttributions: [],
  tilesFailed: false,
  loadError: null,
  sliding: false, // a finger on the threshold slider: live updates do not redraw the panel under it
  panelStale: false,
};

try {
  setLang(localStorage.getItem("hazardmap.lang") || "zh");
} catch {
  setLang("zh");
}

// ---------------------------------------------------------------- map

const map = L.map("map", {
  zoomControl: false,
  attributionControl: false,
  minZoom: 8,
  maxZoom: 19,
  tapTolerance: 20,
}).setView([34.79, 113.38], 11);
// On a phone the zoom buttons sit bottom right, clear of popups and under the thumb.
L.control.zoom({ position: DESKTOP.matches ? "topright" : "bottomright", zoomInTitle: "+", zoomOutTitle: "−" }).addTo(map);
L.control.scale({ position: "bottomleft", imperial: false }).addTo(map);

map.createPane("hm-context").style.zIndex = 350;
map.createPane("hm-context-labels").style.zIndex = 560;
map.getPane("hm-context-labels").style.pointerEvents = "none";
map.createPane("hm-selection").style.zIndex = 450;

let tiles = null;
if (cfg.tileURL) {
  tiles = L.tileLayer(cfg.tileURL, { maxZoom: 19, maxNativeZoom: 18 });
  let loaded = 0;
  let failed = 0;
  tiles.on("tileload", () => {
    loaded++;
    if (state.tilesFailed) {
      state.tilesFailed = false;
      map.getContainer().classList.remove("hm-offline");
      renderNotice();
    }
  });
  tiles.on("tileerror", () => {
    failed++;
    if (failed >= 4 && loaded === 0 && !state.tilesFailed) {
      state.tilesFailed = true;
      map.getContainer().classList.add("hm-offline");
      renderNotice();
    }
  });
  tiles.addTo(map);
} else {
  map.getContainer().classList.add("hm-offline");
}

// Attribution as text (Leaflet's own control inserts HTML).
const Attribution = L.Control.extend({
  options: { position: "bottomright" },
  onAdd() {
    this._el = h("div", { class: "hm-attrib" });
    this.update();
    return this._el;
  },
  update() {
    if (!this._el) return;
    const parts = [];
    if (cfg.tileURL && cfg.tileAttribution) parts.push(cfg.tileAttribution);
    parts.push("Leaflet");
    replace(this._el, parts.join(" | "));
  },
});
const attribution = new Attribution().addTo(map);

const groups = {
  waterlogging_points: L.layerGroup().addTo(map),
  relocation_sites: L.layerGroup().addTo(map),
  depots: L.layerGroup().addTo(map),
  context: L.layerGroup().addTo(map),
};
const selection = L.layerGroup().addTo(map);
const reachLines = L.layerGroup().addTo(map);
const meLayer = L.layerGroup().addTo(map);
const townLabels = [];

const registry = new Registry(map, project, groups, (e) => select(e));
// For tests and the console: the registry by id, the map, the event stream.
window.hazardmap = { registry, map, live: null, updates: 0 };

// Labels appear only when zoomed in, where they do not overlap; zoomed
// out to the county, symbols shrink.
function labelZoom() {
  map.getContainer().classList.toggle("hm-labels", map.getZoom() >= 14);
  map.getContainer().classList.toggle("hm-far", map.getZoom() < 13);
}
map.on("zoomend", labelZoom);
labelZoom();

// ---------------------------------------------------------------- chrome

const $ = (id) => document.getElementById(id);

function renderChrome() {
  document.title = t("title");
  $("title").textContent = t("title");
  const lang = $("lang");
  lang.textContent = t("langSwitch");
  lang.setAttribute("aria-label", t("langSwitchLabel"));
  lang.setAttribute("lang", getLang() === "en" ? "zh-CN" : "en");
  $("map").setAttribute("aria-label", t("title"));
  $("sheet-close").setAttribute("aria-label", t("close"));
  $("strip").classList.toggle("hm-strip--en", getLang() === "en");
  replace(
    $("strip"),
    h("span", { class: "hm-strip-title", text: `${t("legendStrip")}${getLang() === "en" ? ":" : "："}` }),
    ["clear", "ponding", "closed", null].map((s) =>
      h("span", { class: "hm-strip-item" }, h("span", { class: `hm-dot hm-st--${s ?? "null"}` }), t(`status_${s ?? "null"}`)),
    ),
  );
  // The tabs are built once and updated in place, so focus stays put.
  const toolbar = $("toolbar");
  if (!toolbar.firstChild) {
    for (const name of ["layers", "reach", "unlocated", "locate"]) {
      toolbar.append(
        h("button", { type: "button", class: "hm-tab", dataset: { panel: name }, onclick: () => (name === "locate" ? locate() : togglePanel(name)) }, h("span"), h("span", { class: "hm-count" })),
      );
    }
  }
  const unlocated = registry.all().filter((e) => !e.marker).length;
  const labels = { layers: t("tabLayers"), reach: t("tabReach"), unlocated: t("tabUnlocated"), locate: t("tabLocate") };
  for (const btn of toolbar.children) {
    const name = btn.dataset.panel;
    btn.setAttribute("aria-pressed", state.panel === name ? "true" : "false");
    btn.firstChild.textContent = labels[name];
    const count = btn.lastChild;
    count.textContent = name === "unlocated" && unlocated ? String(unlocated) : "";
    count.hidden = !count.textContent;
  }
  attribution.update();
  viewButton?.update();
  renderLive();
  for (const l of townLabels) l.setIcon(townIcon(l.feature));
}

function renderNotice() {
  const msgs = [];
  if (state.loadError) msgs.push(`${t("loadFailed")}${state.loadError}`);
  if (state.tilesFailed) msgs.push(t("tilesFailed"));
  const n = $("notice");
  n.hidden = msgs.length === 0;
  replace(n, msgs.join(" "));
}

$("lang").addEventListener("click", () => {
  setLang(getLang() === "en" ? "zh" : "en");
  try {
    localStorage.setItem("hazardmap.lang", getLang());
  } catch {
    /* private mode */
  }
  registry.refreshAll();
  renderChrome();
  renderPanel();
  if (state.selected) select(state.selected, { keepView: true });
});
$("sheet-close").addEventListener("click", () => closePanel());

// ---------------------------------------------------------------- panels

function togglePanel(name) {
  if (state.panel === name && !DESKTOP.matches) closePanel();
  else openPanel(name);
}

function openPanel(name) {
  state.panel = name;
  if (name === "reach" && !state.reach.active) {
    state.reach.active = true;
    runReach(state.reach.threshold);
  }
  renderPanel();
  renderChrome();
}

function closePanel() {
  state.panel = DESKTOP.matches ? "layers" : null;
  renderPanel();
  renderChrome();
}

DESKTOP.addEventListener("change", () => {
  if (DESKTOP.matches && !state.panel) state.panel = "layers";
  renderPanel();
  renderChrome();
  map.invalidateSize();
});

function renderPanel() {
  const sheet = $("sheet");
  const body = $("sheet-body");
  if (!state.panel) {
    sheet.hidden = true;
    document.body.classList.remove("hm-sheet-open");
    return;
  }
  sheet.hidden = false;
  document.body.classList.toggle("hm-sheet-open", !DESKTOP.matches);
  sheet.dataset.panel = state.panel;
  const render = { layers: layersPanel, reach: reachPanel, unlocated: unlocatedPanel, locate: locatePanel }[state.panel];
  const [title, ...children] = render();
  $("sheet-title").textContent = title;
  replace(body, children);
}

// rerenderPanel redraws the open panel after a live update, keeping the
// reader's place: the scroll position, which sections are open, and the
// focused control. It waits while a finger is on the slider.
function rerenderPanel() {
  if (!state.panel) return;
  if (state.sliding) {
    state.panelStale = true;
    return;
  }
  const sheet = $("sheet");
  const body = $("sheet-body");
  const scroll = sheet.scrollTop;
  const detailsKey = (d, i) => (d.dataset.id ? `${d.dataset.collection}/${d.dataset.id}` : `${i}`);
  const open = new Set([...body.querySelectorAll("details")].map((d, i) => (d.open ? detailsKey(d, i) : null)));
  const focusable = () => [...body.querySelectorAll("button, input, summary, a[href]")];
  const focused = focusable().indexOf(document.activeElement);
  renderPanel();
  body.querySelectorAll("details").forEach((d, i) => {
    if (open.has(detailsKey(d, i))) d.open = true;
  });
  sheet.scrollTop = scroll;
  if (focused >= 0) focusable()[focused]?.focus({ preventScroll: true });
}

$("sheet-body").addEventListener("pointerdown", (ev) => {
  if (ev.target instanceof HTMLInputElement && ev.target.type === "range") state.sliding = true;
});
for (const type of ["pointerup", "pointercancel"]) {
  window.addEventListener(type, () => {
    if (!state.sliding) return;
    state.sliding = false;
    if (state.panelStale) {
      state.panelStale = false;
      rerenderPanel();
    }
  });
}

function toggleRow(label, layer, checked, extra) {
  const input = h("input", {
    type: "checkbox",
    checked: checked ? true : null,
    onchange: (ev) => (ev.target.checked ? map.addLayer(layer) : map.removeLayer(layer)),
  });
  return h("div", { class: "hm-layer" }, h("label", { class: "hm-check" }, input, h("span", { text: label })), extra);
}

function legendItem(symbol, label) {
  return h("li", null, symbol, h("span", { text: label }));
}

function sym(classes, inner) {
  return h("span", { class: `hm-legend-sym ${classes}` }, h("span", { class: "hm-shape-sym" }), inner);
}

function layersPanel() {
  const count = (c) => registry.all(c).filter((e) => e.marker).length;
  const depotSym = (level, ready, mark) =>
    sym(`hm-depot hm-depot--${level} hm-ready--${ready}`, [
      h("span", { class: "hm-depot-box", text: t(`levelMark_${level}`) }),
      h("span", { class: "hm-badge", text: mark }),
    ]);
  const sources = state.contextAttributions;
  return [
    t("tabLayers"),
    toggleRow(
      `${t("waterlogging_points")} (${count("waterlogging_points")})`,
      groups.waterlogging_points,
      map.hasLayer(groups.waterlogging_points),
      h(
        "ul",
        { class: "hm-legend" },
        ["clear", "ponding", "closed", null].map((s) => legendItem(sym(`hm-wp hm-wp--road hm-st--${s ?? "null"}`), t(`status_${s ?? "null"}`))),
        legendItem(sym("hm-wp hm-wp--underpass hm-st--null"), t("kind_railway_underpass")),
        legendItem(sym("hm-wp hm-wp--road hm-st--null"), t("kind_road_spot")),
      ),
    ),
    toggleRow(
      `${t("relocation_sites")} (${count("relocation_sites")})`,
      groups.relocation_sites,
      map.hasLayer(groups.relocation_sites),
      h("ul", { class: "hm-legend" }, legendItem(sym("hm-rs"), t("legendRelocation"))),
    ),
    toggleRow(
      `${t("depots")} (${count("depots")})`,
      groups.depots,
      map.hasLayer(groups.depots),
      h(
        "ul",
        { class: "hm-legend" },
        ["city", "township", "village", "facility"].map((l) => legendItem(depotSym(l, "unknown", "?"), t(`level_${l}`))),
        legendItem(depotSym("township", "yes", "✓"), t("ready_true")),
        legendItem(depotSym("township", "no", "✕"), t("ready_false")),
        legendItem(depotSym("township", "unknown", "?"), state.analysis === false ? `${t("ready_null")} — ${t("analysisUnavailable")}` : t("ready_null")),
      ),
    ),
    h(
      "ul",
      { class: "hm-legend hm-legend--notes" },
      legendItem(sym("hm-wp hm-wp--road hm-st--null hm-coarse"), t("legendImprecise")),
      legendItem(h("span", { class: "hm-legend-sym hm-legend-line" }), t("legendLines")),
    ),
    toggleRow(t("context"), groups.context, map.hasLayer(groups.context)),
    tiles ? toggleRow(t("basemap"), tiles, map.hasLayer(tiles)) : h("p", { class: "hm-muted", text: t("legendOffline") }),
    sources.length ? h("details", null, h("summary", { text: t("dataSources") }), h("ul", null, sources.map((s) => h("li", { text: s })))) : null,
  ];
}

function reachPanel() {
  const r = state.reach;
  const presets = h(
    "div",
    { class: "hm-presets", role: "group", "aria-label": t("threshold") },
    PRESETS.map((m) =>
      h("button", {
        type: "button",
        class: "hm-btn hm-preset",
        "aria-pressed": r.threshold === m ? "true" : "false",
        dataset: { preset: String(m) },
        text: distance(m),
        onclick: () => setThreshold(m),
      }),
    ),
  );
  const slider = h("input", {
    type: "range",
    class: "hm-range",
    id: "hm-threshold",
    min: "500",
    max: "20000",
    step: "500",
    value: String(r.threshold),
    "aria-label": t("threshold"),
    onchange: (ev) => setThreshold(Number(ev.target.value)),
    oninput: (ev) => {
      $("hm-threshold-value").textContent = distance(Number(ev.target.value));
    },
  });
  const intro = h("p", { class: "hm-muted hm-small", text: t("reachIntro") });
  const out = [
    t("reachTitle"),
    h("div", { class: "hm-threshold" }, h("label", { for: "hm-threshold", text: `${t("threshold")}：` }), h("strong", { id: "hm-threshold-value", text: distance(r.threshold) })),
    presets,
    slider,
  ];
  if (state.analysis === false || r.error === "unavailable") {
    out.push(h("p", { class: "hm-warn", dataset: { reach: "unavailable" }, text: t("reachUnavailable") }), intro);
    return out;
  }
  if (r.error) {
    out.push(h("p", { class: "hm-warn", text: `${t("loadFailed")}${r.error}` }), intro);
    return out;
  }
  if (r.loading || !r.report) {
    out.push(h("p", { class: "hm-muted", text: t("loading") }), intro);
    return out;
  }
  const rep = r.report;
  const beyond = rep.hazards.filter((x) => x.result === "beyond");
  const noDepot = rep.hazards.filter((x) => x.result === "no_depot");
  out.push(h("p", { class: "hm-summary", dataset: { reach: "ready", threshold: String(rep.max_distance_m) }, text: t("reachSummary", rep.summary, distance(rep.max_distance_m)) }));
  const ringed = [...beyond, ...noDepot].map((x) => registry.get(x.collection, x.id)).filter((e) => e?.marker);
  if (ringed.length) {
    out.push(
      h("button", {
        type: "button",
        class: "hm-btn hm-wide",
        dataset: { showBeyond: "" },
        text: t("showBeyond", ringed.length),
        onclick: () => {
          if (!DESKTOP.matches) closePanel();
          map.fitBounds(L.latLngBounds(ringed.map((e) => e.marker.getLatLng())), { ...fitPadding(), maxZoom: 15 });
        },
      }),
    );
  }
  out.push(h("h3", { text: `${t("beyondList")} (${beyond.length})` }));
  out.push(beyond.length ? h("ul", { class: "hm-list" }, beyond.map((x) => reachRow(x, rep.max_distance_m))) : h("p", { class: "hm-muted", text: t("noneBeyond") }));
  if (noDepot.length) {
    out.push(h("h3", { text: `${t("noDepotList")} (${noDepot.length})` }));
    out.push(h("ul", { class: "hm-list" }, noDepot.map((x) => reachRow(x, rep.max_distance_m))));
  }
  if (rep.summary.unlocated) out.push(h("p", { class: "hm-muted", text: t("unlocatedNote", rep.summary.unlocated) }));
  out.push(intro, h("button", { type: "button", class: "hm-btn hm-wide", text: t("reachOff"), onclick: reachOff }));
  return out;
}

function reachRow(x, max) {
  const e = registry.get(x.collection, x.id);
  const name = e ? featureName(e.feature.properties) : x.name;
  const de = x.depot ? registry.get("depots", x.depot.id) : null;
  const depot = x.depot ? t("nearestReadyAt", de ? featureName(de.feature.properties) : x.depot.name, distance(x.depot.distance_m)) : t("noReadyDepot");
  return h(
    "li",
    null,
    h(
      "button",
      {
        type: "button",
        class: "hm-row-btn",
        dataset: { reachRow: "", id: x.id, collection: x.collection, result: x.result },
        onclick: () => {
          if (e) select(e, { fly: true });
        },
      },
      h("span", { class: "hm-row-name", text: name }),
      h("span", { class: "hm-row-sub", text: x.depot && x.result === "beyond" ? `${depot} · ${t("beyondBy", distance(x.depot.distance_m - max))}` : depot }),
    ),
  );
}

function unlocatedPanel() {
  const list = registry.all().filter((e) => !e.marker);
  return [
    `${t("unlocatedTitle")} (${list.length})`,
    h("p", { class: "hm-muted", text: t("unlocatedIntro", list.length) }),
    COLLECTIONS.map((c) => {
      const items = list.filter((e) => e.collection === c);
      if (!items.length) return null;
      return [h("h3", { text: `${t(c)} (${items.length})` }), h("div", { class: "hm-unlocated" }, items.map(unlocatedItem))];
    }),
  ];
}

function locatePanel() {
  const s = state.locate;
  const out = [t("locateTitle")];
  if (s.status === "locating") out.push(h("p", { text: t("locating") }));
  if (s.status === "error") out.push(h("p", { class: "hm-warn", text: s.error }));
  if (s.pos) {
    out.push(h("p", { dataset: { me: "" }, text: t("myPosition", distance(s.pos.accuracy)) }));
    if (s.depot === "unavailable") out.push(h("p", { class: "hm-warn", text: t("analysisUnavailable") }));
    else if (s.depot === "none") out.push(h("p", { text: t("noReadyDepot") }));
    else if (s.depot) {
      const e = registry.get("depots", s.depot.id);
      out.push(
        h("h3", { text: t("nearestReadyFromHere") }),
        h(
          "button",
          { type: "button", class: "hm-row-btn", dataset: { nearestDepot: s.depot.id }, onclick: () => e && select(e, { fly: true }) },
          h("span", { class: "hm-row-name", text: e ? featureName(e.feature.properties) : s.depot.name }),
          h("span", { class: "hm-row-sub", text: distance(s.depot.distance_m) }),
        ),
      );
    }
  }
  out.push(h("button", { type: "button", class: "hm-btn hm-wide", text: t("again"), onclick: locate }));
  return out;
}

// ---------------------------------------------------------------- selection

let selectToken = 0;

function clearSelection() {
  selection.clearLayers();
  if (state.selected) {
    const e = state.selected;
    state.selected = null;
    e.marker?.getElement()?.classList.remove("hm-selected");
  }
}

const popup = L.popup({ className: "hm-leaflet-popup", autoPanPaddingTopLeft: [12, 24], autoPanPaddingBottomRight: [12, 24] });
map.on("popupclose", (ev) => {
  if (ev.popup === popup) clearSelection();
});

/** select opens an entry's popup, draws its precision circle and, for hazards, lines to its nearest depots. */
function select(e, { fly = false, keepView = false } = {}) {
  if (!e.marker) return;
  const token = ++selectToken;
  const ll = e.marker.getLatLng();
  if (fly && !DESKTOP.matches) closePanel();
  const { el, nearest } = popupContent(e);
  const w = map.getSize();
  popup.options.maxWidth = Math.min(360, w.x - 72); // content width; the wrapper adds 28 px of margin
  popup.options.minWidth = Math.min(260, w.x - 72);
  popup.options.maxHeight = Math.max(180, Math.round(w.y * (DESKTOP.matches ? 0.6 : 0.5)));
  popup.options.autoPan = !keepView;
  popup.options.offset = L.point(e.shift ?? 0, -12); // over the icon, which may be spread aside
  const open = () => {
    if (token !== selectToken) return;
    popup.setLatLng(ll).setContent(el).openOn(map);
    clearSelection();
    state.selected = e;
    drawSelection(e, nearest, token);
  };
  if (fly) {
    map.once("moveend", open);
    map.flyTo(ll, Math.max(map.getZoom(), 15), { duration: 0.6 });
  } else open();
}

// drawSelection marks the selected entry: its marker, its precision
// circle, and (for hazards) the lines to its nearest depots.
function drawSelection(e, nearest, token) {
  selection.clearLayers();
  e.marker.getElement()?.classList.add("hm-selected");
  const p = precisionOf(e.feature.properties);
  if (p) {
    L.circle(e.marker.getLatLng(), { radius: p, className: "hm-precision", interactive: false, pane: "hm-selection" }).addTo(selection);
  }
  if (nearest) drawNearest(e, nearest, token);
}

/**
 * refreshSelected re-renders the open popup in place after a live update
 * of its feature (or of the depots it lists): new content, same place,
 * no panning, the same sections open and the same scroll position. The
 * old nearest-depot list stays until the new answer replaces it.
 */
function refreshSelected() {
  const e = state.selected;
  if (!e?.marker || !map.hasLayer(popup)) return;
  const token = ++selectToken;
  const node = popup.getElement()?.querySelector(".leaflet-popup-content");
  const scroll = node?.scrollTop ?? 0;
  const open = node ? [...node.querySelectorAll("details")].map((d) => d.open) : [];
  const { el, nearest } = popupContent(e);
  const old = node?.querySelector(".hm-nearest");
  if (nearest && old) replace(nearest, [...old.childNodes]);
  popup.options.autoPan = false;
  popup.options.offset = L.point(e.shift ?? 0, -12);
  popup.setLatLng(e.marker.getLatLng()).setContent(el);
  el.querySelectorAll("details").forEach((d, i) => {
    if (open[i]) d.open = true;
  });
  if (node) node.scrollTop = scroll;
  drawSelection(e, nearest, token);
}

async function drawNearest(e, slot, token) {
  const at = representative(e.feature.geometry);
  let anyRes;
  let readyRes;
  try {
    if (state.analysis === false) throw new api.AnalysisUnavailable("no /analysis");
    [anyRes, readyRes] = await Promise.all([api.nearestDepots(at[0], at[1], 3, false), api.nearestDepots(at[0], at[1], 1, true)]);
  } catch (err) {
    if (token !== selectToken) return;
    replace(slot, h("h3", { text: t("nearestDepots") }), h("p", { class: "hm-warn", text: err instanceof api.AnalysisUnavailable ? t("analysisUnavailable") : `${t("loadFailed")}${err.message}` }));
    popup.update();
    return;
  }
  if (token !== selectToken) return;
  const byId = new Map();
  for (const d of [...(anyRes.depots || []), ...(readyRes.depots || [])]) byId.set(d.id, d);
  const nearestReady = (readyRes.depots || [])[0]?.id;
  const depots = [...byId.values()].sort((a, b) => a.distance_m - b.distance_m);
  const from = e.marker.getLatLng();
  for (const d of depots) {
    if (!d.geometry) continue;
    const to = project(d.geometry.coordinates);
    const line = L.polyline([from, to], {
      className: `hm-depot-line ${d.ready ? "hm-depot-line--ready" : "hm-depot-line--notready"}`,
      interactive: false,
      pane: "hm-selection",
    });
    // A label only where the line is long enough on screen to carry it.
    if (map.latLngToLayerPoint(from).distanceTo(map.latLngToLayerPoint(to)) > 90) {
      line.bindTooltip(h("span", { text: distance(d.distance_m) }), { permanent: true, direction: "center", className: "hm-line-label" });
    }
    line.addTo(selection);
  }
  replace(
    slot,
    h("h3", { text: t("nearestDepots") }),
    depots.length === 0
      ? h("p", { text: t("none") })
      : h(
          "ul",
          { class: "hm-list" },
          depots.map((d) => {
            const de = registry.get("depots", d.id);
            return h(
              "li",
              null,
              h(
                "button",
                { type: "button", class: "hm-row-btn", dataset: { depotId: d.id }, onclick: () => de && select(de, { fly: true }) },
                h("span", { class: "hm-row-name" }, h("span", { class: `hm-readiness hm-readiness--${d.ready}`, text: d.ready ? "✓" : "✕" }), " ", de ? featureName(de.feature.properties) : d.name),
                h("span", { class: "hm-row-sub", text: [distance(d.distance_m), t(`ready_${d.ready}`), d.id === nearestReady ? t("nearestReady") : null].filter(Boolean).join(" · ") }),
              ),
            );
          }),
        ),
  );
  popup.update();
}

// ---------------------------------------------------------------- reach

let reachToken = 0;

function setThreshold(m) {
  state.reach.threshold = m;
  runReach(m);
}

// runReach asks for the reach report at m metres. quiet (after a live
// update): the current results stay on screen until the new ones arrive.
async function runReach(m, { quiet = false } = {}) {
  const token = ++reachToken;
  const r = state.reach;
  if (!quiet) {
    r.loading = true;
    r.error = null;
    renderPanel();
  }
  try {
    const { report, lines } = await api.reach(m);
    if (token !== reachToken) return;
    r.report = report;
    r.error = null;
    state.analysis = true;
    applyReach(report, lines);
  } catch (err) {
    if (token !== reachToken) return;
    r.error = err instanceof api.AnalysisUnavailable ? "unavailable" : err.message;
    if (err instanceof api.AnalysisUnavailable) state.analysis = false;
    applyReach(null, null);
  }
  r.loading = false;
  if (state.panel === "reach") (quiet ? rerenderPanel : renderPanel)();
}

function applyReach(report, lines) {
  const results = new Map();
  for (const x of report?.hazards || []) results.set(`${x.collection}/${x.id}`, x.result);
  for (const c of HAZARDS) {
    for (const e of registry.all(c)) {
      const next = results.get(e.key) ?? null;
      if (e.reach !== next) {
        e.reach = next;
        registry.refresh(e);
        if (state.selected === e) e.marker?.getElement()?.classList.add("hm-selected");
      }
    }
  }
  reachLines.clearLayers();
  if (lines?.features) {
    L.geoJSON(lines, {
      coordsToLatLng: project,
      interactive: false,
      style: (f) => ({ className: `hm-reach-line hm-reach-line--${f.properties?.result ?? "within"}` }),
    }).addTo(reachLines);
  }
}

function reachOff() {
  state.reach.active = false;
  state.reach.report = null;
  reachToken++;
  applyReach(null, null);
  closePanel();
}

// ---------------------------------------------------------------- where am I

function locate() {
  const s = state.locate;
  state.panel = "locate";
  if (!("geolocation" in navigator)) {
    Object.assign(s, { status: "error", error: t("locateUnsupported") });
    renderPanel();
    renderChrome();
    return;
  }
  if (!window.isSecureContext) {
    Object.assign(s, { status: "error", error: t("locateInsecure") });
    renderPanel();
    renderChrome();
    return;
  }
  Object.assign(s, { status: "locating", error: null });
  renderPanel();
  renderChrome();
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const { longitude: lon, latitude: lat, accuracy } = pos.coords;
      Object.assign(s, { status: "located", pos: { lon, lat, accuracy }, depot: null });
      showPosition(true);
    },
    (err) => {
      Object.assign(s, { status: "error", error: `${t("locateFailed")}${err.message || err.code}` });
      if (state.panel === "locate") renderPanel();
    },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 },
  );
}

let locateToken = 0;

// showPosition draws the user's position and the line to the nearest ready
// depot, and fits the map to both (fit) — or, after a live update of the
// depots, only redraws them.
async function showPosition(fit) {
  const s = state.locate;
  const { lon, lat, accuracy } = s.pos;
  const token = ++locateToken;
  const me = project([lon, lat]);
  let bounds = L.latLngBounds([me]);
  let to = null;
  const draw = () => {
    meLayer.clearLayers();
    L.circle(me, { radius: accuracy, className: "hm-me-accuracy", interactive: false }).addTo(meLayer);
    L.marker(me, { icon: L.divIcon({ className: "hm-me", iconSize: [22, 22] }), interactive: false, keyboard: false, zIndexOffset: 2000 }).addTo(meLayer);
    if (to) L.polyline([me, to], { className: "hm-me-line", interactive: false }).addTo(meLayer);
  };
  if (fit) draw(); // the position at once; the depot when the server answers
  try {
    const res = await api.nearestDepots(lon, lat, 1, true);
    const d = (res.depots || [])[0];
    if (token !== locateToken) return;
    s.depot = d || "none";
    if (d?.geometry) to = project(d.geometry.coordinates);
  } catch (err) {
    if (token !== locateToken) return;
    s.depot = err instanceof api.AnalysisUnavailable ? "unavailable" : null;
    if (!(err instanceof api.AnalysisUnavailable)) Object.assign(s, { status: "error", error: `${t("loadFailed")}${err.message}` });
  }
  draw();
  if (to) bounds = bounds.extend(to);
  if (fit) {
    const bottom = DESKTOP.matches ? 40 : $("sheet").offsetHeight + 20;
    map.fitBounds(bounds, { paddingTopLeft: [40, 40], paddingBottomRight: [40, bottom], maxZoom: 16 });
  }
  if (state.panel === "locate") (fit ? renderPanel : rerenderPanel)();
}

// ---------------------------------------------------------------- live updates

// The map subscribes to GET /events (live.js) and applies each batch of
// changes: it refetches each changed feature through the API (which
// applies the privacy filter) and updates its marker in place, or takes it
// away (a delete, or a 404); a reset reloads every layer. Then it
// refreshes whatever shows those features: the open popup, the readiness
// badges (when depots changed), the reach results, the position panel's
// nearest depot, the counts and the open panel.

/** BULK: more changes than this to one collection in one batch reload the collection in one request. */
const BULK = 25;
/** A refetch that fails (the network) is tried again this many times, 3 s apart. */
const MAX_TRIES = 5;
let stream = null;
let loadStarted = false;

function renderLive() {
  const el = $("live");
  const s = stream?.status() ?? "off";
  el.hidden = s === "off";
  if (el.hidden) return;
  el.dataset.live = s;
  el.textContent = t(`live_${s}`);
  el.title = t(`liveHint_${s}`);
  document.documentElement.dataset.live = s;
}

// put upserts a feature unless it is unchanged, and records the change.
function put(collection, f, changed) {
  const e = registry.get(collection, f.id);
  if (e && JSON.stringify(e.feature) === JSON.stringify(f)) return;
  const entry = registry.upsert(collection, f);
  changed.set(entry.key, { entry, collection, removed: false });
}

// drop removes a feature, and records the change.
function drop(collection, id, changed) {
  const e = registry.get(collection, id);
  if (!e) return;
  registry.remove(collection, id);
  changed.set(e.key, { entry: e, collection, removed: true });
}

async function refetch(it, changed) {
  if (it.action === "delete") {
    drop(it.collection, it.id, changed);
    return;
  }
  let f;
  try {
    f = await api.feature(it.collection, it.id);
  } catch (err) {
    console.warn(`live update of ${it.collection}/${it.id}:`, err.message);
    if ((it.tries ?? 0) < MAX_TRIES) stream.requeue(it, 3000);
    return;
  }
  if (f) put(it.collection, f, changed);
  else drop(it.collection, it.id, changed);
}

// reloadCollection reloads a whole layer: what is new or changed is
// upserted, what is gone is removed.
async function reloadCollection(collection, changed) {
  const fs = await api.items(collection);
  const ids = new Set(fs.map((f) => String(f.id)));
  for (const f of fs) put(collection, f, changed);
  for (const e of registry.all(collection)) if (!ids.has(e.id)) drop(collection, e.id, changed);
}

async function applyBatch(items) {
  const changed = new Map();
  const reset = items.find((it) => it.key === live.RESET);
  try {
    if (reset) {
      await Promise.all(COLLECTIONS.map((c) => reloadCollection(c, changed)));
    } else {
      const byCollection = new Map();
      for (const it of items) {
        if (!byCollection.has(it.collection)) byCollection.set(it.collection, []);
        byCollection.get(it.collection).push(it);
      }
      await Promise.all(
        [...byCollection].map(([c, list]) => (list.length > BULK ? reloadCollection(c, changed) : Promise.all(list.map((it) => refetch(it, changed))))),
      );
    }
  } catch (err) {
    // A layer failed to reload (the network): reload everything later.
    console.warn("live update: reload failed:", err.message);
    if ((reset?.tries ?? 0) < MAX_TRIES) stream.requeue({ key: live.RESET, tries: reset?.tries ?? 0 }, 3000);
  }
  if (changed.size) await afterChanges([...changed.values()]);
}

async function afterChanges(list) {
  for (const x of list) if (!x.removed) registry.flash(x.entry);
  const depots = list.some((x) => x.collection === "depots");
  if (depots) await loadReadiness();
  const sel = state.selected;
  if (sel) {
    if (registry.get(sel.collection, sel.id) !== sel || !sel.marker) map.closePopup(popup);
    else if (list.some((x) => x.entry === sel) || (depots && sel.collection !== "depots")) refreshSelected();
  }
  if (state.reach.active) runReach(state.reach.threshold, { quiet: true });
  if (depots && state.locate.pos) showPosition(false);
  document.documentElement.dataset.located = String(registry.all().filter((e) => e.marker).length);
  renderChrome();
  if (state.panel === "layers" || state.panel === "unlocated") rerenderPanel();
  window.hazardmap.updates++;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- context layers

const contextStyle = {
  county_boundary: { className: "hm-ctx hm-ctx--county" },
  townships_2000_approx: { className: "hm-ctx hm-ctx--township" },
  longhai_railway_approx: { className: "hm-ctx hm-ctx--railway" },
};

function shortName(s) {
  return String(s ?? "").split(/[ (（]/)[0];
}

function townIcon(f) {
  const p = f.properties;
  const name = getLang() === "en" ? shortName(p.name_en) : shortName(p.name_current || p.name);
  return L.divIcon({ className: "hm-town-label", html: h("span", { text: name }), iconSize: [90, 20], iconAnchor: [45, 10] });
}

async function loadContext() {
  const seen = new Set();
  const all = await Promise.all(
    api.contextURLs().map(async (url) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: ${res.status}`);
      return [url.split("/").pop().replace(/-[0-9a-f]+\.geojson$|\.geojson$/, ""), await res.json()];
    }),
  );
  let county = null;
  for (const [name, fc] of all) {
    const layer = L.geoJSON(fc, {
      coordsToLatLng: project,
      interactive: false,
      pane: "hm-context",
      style: () => contextStyle[name] ?? { className: "hm-ctx" },
    });
    groups.context.addLayer(layer);
    if (name === "county_boundary") county = layer;
    if (name.startsWith("townships")) {
      for (const f of fc.features) {
        const at = representative(f.geometry);
        if (!at) continue;
        const m = L.marker(project(at), { icon: townIcon(f), interactive: false, keyboard: false, pane: "hm-context-labels" });
        m.feature = f;
        townLabels.push(m);
        groups.context.addLayer(m);
      }
    }
    for (const f of fc.features) {
      const a = f.properties?.attribution;
      if (a && !seen.has(a)) {
        seen.add(a);
        state.contextAttributions.push(a);
      }
    }
  }
  return county;
}

// ---------------------------------------------------------------- readiness

// loadReadiness asks the server which depots are ready (and why not): the
// nearest-depots answer for every located depot carries the server's
// verdict, so the map shows it without restating the rules.
async function loadReadiness() {
  const located = registry.all("depots").filter((e) => e.marker);
  if (located.length === 0) return;
  const pts = located.map((e) => representative(e.feature.geometry));
  const lon = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const lat = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  try {
    // k is at most 50 on the server; beyond that, depots further than the
    // 50th show "unknown" until asked for themselves.
    const res = await api.nearestDepots(lon, lat, Math.min(located.length, 50), false);
    state.analysis = true;
    for (const d of res.depots || []) {
      const e = registry.get("depots", d.id);
      if (!e) continue;
      e.ready = d.ready;
      e.reasons = d.reasons || [];
      registry.refresh(e);
    }
  } catch (err) {
    if (err instanceof api.AnalysisUnavailable) state.analysis = false;
    else console.warn("readiness:", err.message);
  }
}

// ---------------------------------------------------------------- views

// fitPadding leaves room around fitted features for the controls on the
// right (zoom and view buttons).
function fitPadding() {
  return { paddingTopLeft: [36, 44], paddingBottomRight: [80, 44] };
}

const views = { county: null, city: null, current: null };

function showView(name) {
  const b = views[name];
  if (!b || !b.isValid()) return;
  views.current = name;
  const pad = name === "city" ? fitPadding() : { padding: [8, 8] };
  map.fitBounds(b, { ...pad, maxZoom: 15, animate: false });
  viewButton?.update();
}

let viewButton = null;
const ViewControl = L.Control.extend({
  options: { position: DESKTOP.matches ? "topright" : "bottomright" },
  onAdd() {
    viewButton = this;
    this._btn = h("button", {
      type: "button",
      class: "hm-btn hm-view-btn",
      onclick: (ev) => {
        ev.stopPropagation();
        showView(views.current === "city" ? "county" : "city");
      },
    });
    L.DomEvent.disableClickPropagation(this._btn);
    this.update();
    return this._btn;
  },
  update() {
    if (this._btn) this._btn.textContent = views.current === "city" ? t("viewCounty") : t("viewCity");
  },
});

// ---------------------------------------------------------------- start

async function start() {
  renderChrome();
  if (DESKTOP.matches) state.panel = "layers";
  renderPanel();
  document.documentElement.dataset.state = "loading";
  const contextP = loadContext().catch((err) => {
    console.warn("context layers:", err.message);
    return null;
  });
  // Subscribe first, and load the layers once the stream has started (or
  // after a short wait): then no change between the two is lost. Should
  // the stream start later, it reloads the layers once (live.js).
  stream = live.connect({
    onBatch: applyBatch,
    onStatus: renderLive,
    wanted: (c) => COLLECTIONS.includes(c),
    loadStarted: () => loadStarted,
  });
  window.hazardmap.live = stream;
  renderLive();
  await Promise.race([stream.ready, sleep(500)]);
  loadStarted = true;
  try {
    const lists = await Promise.all(COLLECTIONS.map((c) => api.items(c)));
    lists.forEach((fs, i) => fs.forEach((f) => registry.upsert(COLLECTIONS[i], f)));
  } catch (err) {
    state.loadError = err.message;
    renderNotice();
  }
  const county = await contextP;
  const located = registry.all().filter((e) => e.marker);
  views.county = county ? county.getBounds() : L.latLngBounds(located.map((e) => e.marker.getLatLng()));
  const city = registry.all("waterlogging_points").filter((e) => e.marker);
  views.city = city.length ? L.latLngBounds(city.map((e) => e.marker.getLatLng())) : null;
  // A crew on a phone starts on the city's ponding points, a planner at a
  // desk on the whole county; the view button switches.
  showView(DESKTOP.matches || !views.city ? "county" : "city");
  new ViewControl().addTo(map);
  await loadReadiness();
  renderChrome();
  renderPanel();
  // Changes that arrived meanwhile are applied now, then as they come.
  stream.resume();
  document.documentElement.dataset.state = state.loadError ? "error" : "ready";
  document.documentElement.dataset.located = String(located.length);
  document.documentElement.dataset.analysis = String(state.analysis);
}

start();
