// map makes the Leaflet map: controls, panes, the base-map tiles (and the
// offline look when there are none, or they fail), the attribution as
// text, one layer group per collection and one for the context layers.
import L from "leaflet";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { projector } from "../gcj02.js";

/** FIT_PADDING leaves room around fitted features for the controls on the right (zoom and view buttons). */
export const FIT_PADDING = { paddingTopLeft: [36, 44], paddingBottomRight: [80, 44] };

/** TILES_FAILED: this many tile errors before any tile loaded mean the base map is unreachable. */
const TILES_FAILED = 4;

/**
 * createMapView returns { map, project, groups, tiles }: project maps a
 * WGS-84 [lon, lat] to a Leaflet LatLng in the tiles' datum; groups has a
 * layer group per collection and "context"; tiles is null without a tile
 * URL. chrome shows the notice when the tiles fail.
 */
export function createMapView(cfg, desktop, chrome) {
  const toDisplay = projector(cfg.datum);
  const project = (c) => {
    const [x, y] = toDisplay(c[0], c[1]);
    return L.latLng(y, x);
  };

  const map = L.map("map", {
    zoomControl: false,
    attributionControl: false,
    minZoom: 8,
    maxZoom: 19,
    tapTolerance: 20,
  }).setView([34.79, 113.38], 11);
  // On a phone the zoom buttons sit bottom right, clear of popups and under the thumb.
  L.control.zoom({ position: desktop.matches ? "topright" : "bottomright", zoomInTitle: "+", zoomOutTitle: "−" }).addTo(map);
  L.control.scale({ position: "bottomleft", imperial: false }).addTo(map);

  map.createPane("hm-context").style.zIndex = 350;
  map.createPane("hm-context-labels").style.zIndex = 560;
  map.getPane("hm-context-labels").style.pointerEvents = "none";
  map.createPane("hm-selection").style.zIndex = 450;

  const tiles = cfg.tileURL ? tileLayer(cfg.tileURL, map, chrome) : null;
  if (!tiles) map.getContainer().classList.add("hm-offline");
  new Attribution(cfg).addTo(map);

  const groups = {
    waterlogging_points: L.layerGroup().addTo(map),
    relocation_sites: L.layerGroup().addTo(map),
    depots: L.layerGroup().addTo(map),
    gauges: L.layerGroup().addTo(map),
    context: L.layerGroup().addTo(map),
  };

  // Labels appear only when zoomed in, where they do not overlap; zoomed
  // out to the county, symbols shrink.
  const labelZoom = () => {
    map.getContainer().classList.toggle("hm-labels", map.getZoom() >= 14);
    map.getContainer().classList.toggle("hm-far", map.getZoom() < 13);
  };
  map.on("zoomend", labelZoom);
  labelZoom();

  return { map, project, groups, tiles };
}

// tileLayer adds the base map; when it fails (TILES_FAILED errors before
// any tile loaded) the page says so and takes the offline look, until a
// tile loads after all.
function tileLayer(url, map, chrome) {
  const tiles = L.tileLayer(url, { maxZoom: 19, maxNativeZoom: 18 });
  let loaded = 0;
  let failed = 0;
  let down = false;
  const offline = (on) => {
    down = on;
    map.getContainer().classList.toggle("hm-offline", on);
    chrome.notice("tiles", on ? () => t("tilesFailed") : null);
  };
  tiles.on("tileload", () => {
    loaded++;
    if (down) offline(false);
  });
  tiles.on("tileerror", () => {
    failed++;
    if (!down && failed >= TILES_FAILED && loaded === 0) offline(true);
  });
  return tiles.addTo(map);
}

// Attribution shows the tiles' attribution as text (Leaflet's own control
// inserts HTML).
const Attribution = L.Control.extend({
  options: { position: "bottomright" },
  initialize(cfg) {
    this.cfg = cfg;
  },
  onAdd() {
    const parts = [];
    if (this.cfg.tileURL && this.cfg.tileAttribution) parts.push(this.cfg.tileAttribution);
    parts.push("Leaflet");
    return replace(h("div", { class: "hm-attrib" }), parts.join(" | "));
  },
});
