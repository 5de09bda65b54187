// features keeps every feature on the map in one registry, keyed by
// collection and id, with its marker. upsert and remove change one
// feature in place, so a live-update stream (/events) can move a marker,
// recolour it or take it away without redrawing the rest.
import L from "leaflet";
import { h } from "../dom.js";
import { t, featureName } from "../i18n.js";
import { representative, precisionOf } from "../geometry.js";

/** COLLECTIONS are the layers the map draws, in the order they are listed. */
export const COLLECTIONS = ["waterlogging_points", "relocation_sites", "depots", "gauges"];

/** Collections of hazards (what reach and nearest-depot lines are about). */
export const HAZARDS = ["waterlogging_points", "relocation_sites"];

/** SPREAD_PX is how far apart markers that share a place are drawn. */
const SPREAD_PX = 46;

/** FLASH_MS is how long a ring pulses around a marker that a live update changed. */
const FLASH_MS = 1800;

/** COARSE_M is the precision beyond which a marker is drawn as rough. */
export const COARSE_M = 1000;

/**
 * Registry holds features and their layers. Entries:
 * {key, collection, id, feature, marker, shape, ready, reach}
 */
export class Registry {
  constructor(map, project, groups, onSelect) {
    this.map = map;
    this.project = project; // WGS-84 [lon, lat] → L.LatLng for the tiles' datum
    this.groups = groups; // collection → L.LayerGroup
    this.onSelect = onSelect;
    this.entries = new Map(); // `${collection}/${id}` → entry
    this.pulses = L.layerGroup().addTo(map); // rings around markers just updated
  }

  key(collection, id) {
    return `${collection}/${id}`;
  }

  get(collection, id) {
    return this.entries.get(this.key(collection, id));
  }

  /** all returns the entries, optionally of one collection. */
  all(collection) {
    const out = [...this.entries.values()];
    return collection ? out.filter((e) => e.collection === collection) : out;
  }

  /** upsert adds a feature or updates it in place. */
  upsert(collection, feature) {
    const key = this.key(collection, feature.id);
    let e = this.entries.get(key);
    if (!e) {
      e = { key, collection, id: String(feature.id), feature, marker: null, shape: null, ready: null, reach: null };
      this.entries.set(key, e);
    }
    e.feature = feature;
    const at = representative(feature.geometry);
    const group = this.groups[collection];
    // The geometry's own shape (a line or an area), drawn under the marker.
    if (e.shape) {
      group.removeLayer(e.shape);
      e.shape = null;
    }
    if (feature.geometry && feature.geometry.type !== "Point") {
      e.shape = L.geoJSON(feature.geometry, {
        coordsToLatLng: (c) => this.project(c),
        interactive: false,
        className: `hm-shape hm-shape--${collection}`,
      });
      group.addLayer(e.shape);
    }
    if (!at) {
      if (e.marker) {
        group.removeLayer(e.marker);
        e.marker = null;
        this.layout();
      }
      return e;
    }
    const ll = this.project(at);
    if (e.marker) {
      e.marker.setLatLng(ll);
      this.refresh(e);
    } else {
      e.marker = L.marker(ll, {
        icon: icon(e),
        title: featureName(feature.properties),
        alt: featureName(feature.properties),
        zIndexOffset: zOffset(e),
        riseOnHover: true,
      });
      e.marker.on("click", () => this.onSelect(e));
      group.addLayer(e.marker);
    }
    this.layout();
    return e;
  }

  /**
   * layout spreads markers that share a place (two depots on one township
   * seat, a relocation site and its village store) side by side, by
   * shifting their icons in pixels: each marker keeps its true position
   * (and precision circle), and each stays tappable.
   */
  layout() {
    const at = new Map();
    const located = [...this.entries.values()].filter((e) => e.marker);
    located.sort((a, b) => COLLECTIONS.indexOf(a.collection) - COLLECTIONS.indexOf(b.collection) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const e of located) {
      const ll = e.marker.getLatLng();
      const k = `${ll.lat.toFixed(5)},${ll.lng.toFixed(5)}`;
      if (!at.has(k)) at.set(k, []);
      at.get(k).push(e);
    }
    for (const group of at.values()) {
      group.forEach((e, i) => {
        const shift = Math.round((i - (group.length - 1) / 2) * SPREAD_PX);
        if ((e.shift ?? 0) !== shift) {
          e.shift = shift;
          this.refresh(e);
        }
      });
    }
  }

  /** remove takes a feature off the map and out of the registry. */
  remove(collection, id) {
    const e = this.get(collection, id);
    if (!e) return;
    const group = this.groups[collection];
    if (e.marker) group.removeLayer(e.marker);
    if (e.shape) group.removeLayer(e.shape);
    this.entries.delete(e.key);
    this.layout();
  }

  /**
   * flash rings an entry's marker for a moment (a CSS animation; a still
   * ring under prefers-reduced-motion), after a live update changed it.
   * The ring is a marker of its own under the markers, so redrawing the
   * marker's icon does not cut it short.
   */
  flash(e) {
    if (!e.marker || !this.map.hasLayer(this.groups[e.collection])) return;
    const dx = e.shift ?? 0;
    const ring = L.marker(e.marker.getLatLng(), {
      icon: L.divIcon({ className: "hm-pulse", html: h("span", { class: "hm-pulse-ring", dataset: { pulse: e.key } }), iconSize: [44, 44], iconAnchor: [22 - dx, 22] }),
      interactive: false,
      keyboard: false,
      pane: "shadowPane",
    });
    this.pulses.addLayer(ring);
    setTimeout(() => this.pulses.removeLayer(ring), FLASH_MS);
  }

  /** refresh redraws an entry's icon from its current state. */
  refresh(e) {
    if (!e.marker) return;
    // setIcon resets the element's classes: keep the selection mark.
    const selected = e.marker.getElement()?.classList.contains("hm-selected");
    e.marker.setIcon(icon(e));
    if (selected) e.marker.getElement()?.classList.add("hm-selected");
    e.marker.setZIndexOffset(zOffset(e));
    const el = e.marker.getElement();
    if (el) {
      el.title = featureName(e.feature.properties);
      el.setAttribute("alt", featureName(e.feature.properties));
    }
  }

  refreshAll() {
    for (const e of this.entries.values()) this.refresh(e);
  }
}

// zOffset stacks markers: hazards over depots, and among waterlogging
// points the worse state on top (closed, ponding, clear, not reported).
function zOffset(e) {
  if (e.collection === "depots") return 0;
  if (e.collection === "gauges") return e.level === "alert" ? 2000 : 800;
  if (e.collection === "relocation_sites") return 500;
  return 1000 + ({ closed: 300, ponding: 200, clear: 100 }[e.feature.properties.status] ?? 0);
}

/** householdsLabel is "待搬迁 22/26", or "待搬迁 未公布" when the report gives no count. */
export function householdsLabel(props) {
  const rem = props.households_remaining;
  const tot = props.households_total;
  if (rem == null) return `${t("toMove")} ${t("notPublished")}`;
  return `${t("toMove")} ${rem}/${tot ?? t("notPublished")}`;
}

// icon builds a marker's icon: a 44 px touch target around a symbol whose
// shape says the kind, colour the status, outline the precision, and
// badge the readiness. The symbol element carries data-marker-id.
function icon(e) {
  const p = e.feature.properties;
  const coarse = (precisionOf(p) ?? 0) > COARSE_M;
  const cls = ["hm-sym"];
  if (coarse) cls.push("hm-coarse");
  if (e.reach === "beyond" || e.reach === "no_depot") cls.push("hm-beyond");
  let inner = [];
  let label = featureName(p);
  switch (e.collection) {
    case "waterlogging_points":
      cls.push("hm-wp", p.kind === "railway_underpass" ? "hm-wp--underpass" : "hm-wp--road", `hm-st--${p.status ?? "null"}`);
      break;
    case "relocation_sites":
      cls.push("hm-rs");
      inner = [h("span", { class: "hm-rs-count", text: householdsLabel(p) })];
      break;
    case "gauges":
      // ui/water.js sets e.level (water.js levelState) and e.reading.
      cls.push("hm-gauge", `hm-lv--${e.level ?? "none"}`);
      inner = [h("span", { class: "hm-gauge-level", text: e.reading ? e.reading.level.toFixed(2) : "—" })];
      break;
    case "depots": {
      const level = ["city", "township", "village", "facility"].includes(p.level) ? p.level : "township";
      const ready = e.ready === true ? "yes" : e.ready === false ? "no" : "unknown";
      cls.push("hm-depot", `hm-depot--${level}`, `hm-ready--${ready}`);
      inner = [
        h("span", { class: "hm-depot-box", text: t(`levelMark_${level}`) }),
        h("span", { class: "hm-badge", "aria-hidden": "true", text: ready === "yes" ? "✓" : ready === "no" ? "✕" : "?" }),
      ];
      break;
    }
  }
  const el = h(
    "div",
    { class: cls.join(" "), dataset: e.collection === "waterlogging_points" ? { markerId: e.id, collection: e.collection, status: p.status ?? "null" } : e.collection === "gauges" ? { markerId: e.id, collection: e.collection, level: e.level ?? "none" } : { markerId: e.id, collection: e.collection } },
    h("span", { class: "hm-shape-sym" }),
    inner,
    h("span", { class: "hm-label", text: label }),
  );
  const dx = e.shift ?? 0;
  return L.divIcon({ html: el, className: `hm-marker hm-marker--${e.collection}`, iconSize: [44, 44], iconAnchor: [22 - dx, 22], popupAnchor: [dx, -18] });
}
