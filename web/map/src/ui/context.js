// context draws the read-only context layers the server announces
// (county outline, rough township zones, railway, from data/context), so
// the map is readable with no base-map tiles, and the townships' names.
import L from "leaflet";
import { h } from "../dom.js";
import { getLang } from "../i18n.js";
import * as api from "../api.js";
import { representative } from "../geometry.js";

const STYLE = {
  county_boundary: { className: "hm-ctx hm-ctx--county" },
  townships_2000_approx: { className: "hm-ctx hm-ctx--township" },
  longhai_railway_approx: { className: "hm-ctx hm-ctx--railway" },
};

/** shortName is the part of a name before its first space or bracket. */
function shortName(s) {
  return String(s ?? "").split(/[ (（]/)[0];
}

function townIcon(f) {
  const p = f.properties;
  const name = getLang() === "en" ? shortName(p.name_en) : shortName(p.name_current || p.name);
  return L.divIcon({ className: "hm-town-label", html: h("span", { text: name }), iconSize: [90, 20], iconAnchor: [45, 10] });
}

/**
 * installContext returns { load() → the county outline's layer or null,
 * attributions: the layers' sources, once each }. The layers go in
 * app.groups.context.
 */
export function installContext(app) {
  const { project, hooks } = app;
  const group = app.groups.context;
  const labels = [];
  const attributions = [];

  async function load() {
    let county = null;
    for (const { name, fc } of await api.contextLayers()) {
      const layer = L.geoJSON(fc, {
        coordsToLatLng: project,
        interactive: false,
        pane: "hm-context",
        style: () => STYLE[name] ?? { className: "hm-ctx" },
      });
      group.addLayer(layer);
      if (name === "county_boundary") county = layer;
      if (name.startsWith("townships")) {
        for (const f of fc.features) {
          const at = representative(f.geometry);
          if (!at) continue;
          const m = L.marker(project(at), { icon: townIcon(f), interactive: false, keyboard: false, pane: "hm-context-labels" });
          m.feature = f;
          labels.push(m);
          group.addLayer(m);
        }
      }
      for (const f of fc.features) {
        const a = f.properties?.attribution;
        if (a && !attributions.includes(a)) attributions.push(a);
      }
    }
    return county;
  }

  hooks.on("lang", () => {
    for (const l of labels) l.setIcon(townIcon(l.feature));
  });
  return { load, attributions };
}
