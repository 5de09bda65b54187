// locate is 我的位置 (where am I): the phone's position from the browser's
// geolocation (HTTPS or localhost), drawn with its accuracy, and the line
// to the nearest ready depot from there. A newer position aborts the
// question for the older one (latest.js); when depots change, the
// nearest one is asked again.
import L from "leaflet";
import { h } from "../dom.js";
import { t, distance, featureName } from "../i18n.js";
import * as api from "../api.js";
import { Latest } from "../latest.js";

/** GEOLOCATION are the options of the position request: a fresh, precise fix, or none within 20 s. */
const GEOLOCATION = { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 };

/** installLocate adds the where-am-I panel. app: map, project, registry, sheet, selection, desktop, hooks. */
export function installLocate(app) {
  const { map, project, registry, sheet, selection, desktop, hooks } = app;
  const layer = L.layerGroup().addTo(map);
  const requests = new Latest();
  const s = { status: "idle", pos: null, depot: null, error: null };

  function fail(error) {
    Object.assign(s, { status: "error", error });
  }

  function locate() {
    if (!("geolocation" in navigator)) fail(t("locateUnsupported"));
    else if (!window.isSecureContext) fail(t("locateInsecure"));
    else Object.assign(s, { status: "locating", error: null });
    sheet.open("locate");
    if (s.status !== "locating") return;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const { longitude: lon, latitude: lat, accuracy } = pos.coords;
        Object.assign(s, { status: "located", pos: { lon, lat, accuracy }, depot: null });
        show(true);
      },
      (err) => {
        fail(`${t("locateFailed")}${err.message || err.code}`);
        sheet.update("locate");
      },
      GEOLOCATION,
    );
  }

  // show draws the position and the line to the nearest ready depot, and
  // fits the map to both (fit) — or, after a live update of the depots,
  // only redraws them.
  async function show(fit) {
    const { lon, lat, accuracy } = s.pos;
    const signal = requests.next();
    const me = project([lon, lat]);
    let to = null;
    const draw = () => {
      layer.clearLayers();
      L.circle(me, { radius: accuracy, className: "hm-me-accuracy", interactive: false }).addTo(layer);
      L.marker(me, { icon: L.divIcon({ className: "hm-me", iconSize: [22, 22] }), interactive: false, keyboard: false, zIndexOffset: 2000 }).addTo(layer);
      if (to) L.polyline([me, to], { className: "hm-me-line", interactive: false }).addTo(layer);
    };
    if (fit) draw(); // the position at once; the depot when the server answers
    try {
      const res = await api.nearestDepots(lon, lat, 1, true, { signal });
      if (signal.aborted) return;
      const d = (res.depots || [])[0];
      s.depot = d || "none";
      if (d?.geometry) to = project(d.geometry.coordinates);
    } catch (err) {
      if (signal.aborted) return;
      s.depot = err instanceof api.AnalysisUnavailable ? "unavailable" : null;
      if (!(err instanceof api.AnalysisUnavailable)) fail(`${t("loadFailed")}${err.message}`);
    }
    draw();
    if (fit) {
      const bounds = to ? L.latLngBounds([me, to]) : L.latLngBounds([me]);
      const bottom = desktop.matches ? 40 : sheet.el.offsetHeight + 20;
      map.fitBounds(bounds, { paddingTopLeft: [40, 40], paddingBottomRight: [40, bottom], maxZoom: 16 });
    }
    sheet.update("locate", { keep: !fit });
  }

  function render() {
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
            { type: "button", class: "hm-row-btn", dataset: { nearestDepot: s.depot.id }, onclick: () => e && selection.select(e, { fly: true }) },
            h("span", { class: "hm-row-name", text: e ? featureName(e.feature.properties) : s.depot.name }),
            h("span", { class: "hm-row-sub", text: distance(s.depot.distance_m) }),
          ),
        );
      }
    }
    out.push(h("button", { type: "button", class: "hm-btn hm-wide", text: t("again"), onclick: locate }));
    return out;
  }

  sheet.add({ name: "locate", label: () => t("tabLocate"), render, onTab: locate });
  hooks.on("changes", (list) => {
    if (s.pos && list.some((x) => x.collection === "depots")) show(false);
  });
}
