// selection is what a tap on a marker opens: the popup, the precision
// circle and, for hazards, the lines to the nearest depots with their
// distances. One selection at a time: a newer one aborts the older one's
// requests (latest.js). After a live update the popup is redrawn in
// place, or closed when its feature is gone.
import L from "leaflet";
import { h, replace } from "../dom.js";
import { t, distance, featureName } from "../i18n.js";
import * as api from "../api.js";
import { Latest } from "../latest.js";
import { representative, precisionOf } from "../geometry.js";
import { nearestList } from "../analysis.js";
import { content as popupContent } from "./popup.js";

/** LABEL_PX: a depot line carries its distance only when it is at least this long on screen. */
const LABEL_PX = 90;

/**
 * createSelection returns { select(entry, {fly, keepView}), current() }.
 * app: map, project, registry, sheet, desktop, hooks, analysis.
 */
export function createSelection(app) {
  const { map, registry, project, sheet, desktop, hooks } = app;
  const layer = L.layerGroup().addTo(map);
  const popup = L.popup({ className: "hm-leaflet-popup", autoPanPaddingTopLeft: [12, 24], autoPanPaddingBottomRight: [12, 24] });
  const requests = new Latest();
  let selected = null; // registry entry

  function clear() {
    layer.clearLayers();
    if (selected) {
      const e = selected;
      selected = null;
      e.marker?.getElement()?.classList.remove("hm-selected");
    }
  }
  map.on("popupclose", (ev) => {
    if (ev.popup === popup) clear();
  });

  /** select opens an entry's popup, draws its precision circle and, for hazards, lines to its nearest depots. */
  function select(e, { fly = false, keepView = false } = {}) {
    if (!e.marker) return;
    const signal = requests.next();
    const ll = e.marker.getLatLng();
    if (fly && !desktop.matches) sheet.close();
    const { el, nearest } = popupContent(e);
    hooks.emit("popup", { entry: e, el }); // rooms add to it (the report form, 在此定位)
    const w = map.getSize();
    popup.options.maxWidth = Math.min(360, w.x - 72); // content width; the wrapper adds 28 px of margin
    popup.options.minWidth = Math.min(260, w.x - 72);
    popup.options.maxHeight = Math.max(180, Math.round(w.y * (desktop.matches ? 0.6 : 0.5)));
    popup.options.autoPan = !keepView;
    popup.options.offset = L.point(e.shift ?? 0, -12); // over the icon, which may be spread aside
    const open = () => {
      if (signal.aborted) return;
      popup.setLatLng(ll).setContent(el).openOn(map);
      clear();
      selected = e;
      draw(e, nearest, signal);
    };
    if (fly) {
      map.once("moveend", open);
      map.flyTo(ll, Math.max(map.getZoom(), 15), { duration: 0.6 });
    } else open();
  }

  // draw marks the selected entry: its marker, its precision circle, and
  // (for hazards) the lines to its nearest depots.
  function draw(e, nearest, signal) {
    layer.clearLayers();
    e.marker.getElement()?.classList.add("hm-selected");
    const p = precisionOf(e.feature.properties);
    if (p) {
      L.circle(e.marker.getLatLng(), { radius: p, className: "hm-precision", interactive: false, pane: "hm-selection" }).addTo(layer);
    }
    if (nearest) drawNearest(e, nearest, signal);
  }

  // refresh re-renders the open popup in place after a live update of its
  // feature (or of the depots it lists): new content, same place, no
  // panning, the same sections open and the same scroll position. The old
  // nearest-depot list stays until the new answer replaces it.
  function refresh() {
    const e = selected;
    if (!e?.marker || !map.hasLayer(popup)) return;
    const signal = requests.next();
    const node = popup.getElement()?.querySelector(".leaflet-popup-content");
    const scroll = node?.scrollTop ?? 0;
    const open = node ? [...node.querySelectorAll("details")].map((d) => d.open) : [];
    const { el, nearest } = popupContent(e);
    hooks.emit("popup", { entry: e, el });
    const old = node?.querySelector(".hm-nearest");
    if (nearest && old) replace(nearest, [...old.childNodes]);
    popup.options.autoPan = false;
    popup.options.offset = L.point(e.shift ?? 0, -12);
    popup.setLatLng(e.marker.getLatLng()).setContent(el);
    el.querySelectorAll("details").forEach((d, i) => {
      if (open[i]) d.open = true;
    });
    if (node) node.scrollTop = scroll;
    draw(e, nearest, signal);
  }

  async function drawNearest(e, slot, signal) {
    const at = representative(e.feature.geometry);
    let list;
    try {
      if (app.analysis === false) throw new api.AnalysisUnavailable("no /analysis");
      const [anyRes, readyRes] = await Promise.all([api.nearestDepots(at[0], at[1], 3, false, { signal }), api.nearestDepots(at[0], at[1], 1, true, { signal })]);
      list = nearestList(anyRes, readyRes);
    } catch (err) {
      if (signal.aborted) return;
      replace(slot, h("h3", { text: t("nearestDepots") }), h("p", { class: "hm-warn", text: err instanceof api.AnalysisUnavailable ? t("analysisUnavailable") : `${t("loadFailed")}${err.message}` }));
      popup.update();
      return;
    }
    if (signal.aborted) return;
    const from = e.marker.getLatLng();
    for (const d of list.depots) {
      if (!d.geometry) continue;
      const to = project(d.geometry.coordinates);
      const line = L.polyline([from, to], {
        className: `hm-depot-line ${d.ready ? "hm-depot-line--ready" : "hm-depot-line--notready"}`,
        interactive: false,
        pane: "hm-selection",
      });
      if (map.latLngToLayerPoint(from).distanceTo(map.latLngToLayerPoint(to)) > LABEL_PX) {
        line.bindTooltip(h("span", { text: distance(d.distance_m) }), { permanent: true, direction: "center", className: "hm-line-label" });
      }
      line.addTo(layer);
    }
    replace(slot, h("h3", { text: t("nearestDepots") }), list.depots.length === 0 ? h("p", { text: t("none") }) : h("ul", { class: "hm-list" }, list.depots.map((d) => depotRow(d, list.nearestReady))));
    popup.update();
  }

  function depotRow(d, nearestReady) {
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
  }

  // After live changes: close the popup when its feature is gone or lost
  // its place; redraw it when it changed, or when depots changed (its
  // nearest depots may have).
  hooks.on("changes", (list) => {
    const sel = selected;
    if (!sel) return;
    const depots = list.some((x) => x.collection === "depots");
    if (registry.get(sel.collection, sel.id) !== sel || !sel.marker) map.closePopup(popup);
    else if (list.some((x) => x.entry === sel) || (depots && sel.collection !== "depots")) refresh();
  });
  hooks.on("lang", () => {
    if (selected) select(selected, { keepView: true });
  });

  return { select, current: () => selected };
}
