// views are the two places the map starts from: the city's ponding points
// (a crew on a phone) and the whole county (a planner at a desk), with a
// button that switches between them.
import L from "leaflet";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { FIT_PADDING } from "./map.js";

/**
 * createViews returns { start(county) }: start takes the county outline's
 * layer (or null: the located features' bounds stand in), shows the view
 * for this screen and adds the button.
 */
export function createViews(app) {
  const { map, registry, desktop, hooks } = app;
  const bounds = { county: null, city: null };
  let current = null;
  let button = null;

  const label = () => (current === "city" ? t("viewCounty") : t("viewCity"));

  function show(name) {
    const b = bounds[name];
    if (!b || !b.isValid()) return;
    current = name;
    const pad = name === "city" ? FIT_PADDING : { padding: [8, 8] };
    map.fitBounds(b, { ...pad, maxZoom: 15, animate: false });
    if (button) button.textContent = label();
  }

  const Control = L.Control.extend({
    options: { position: desktop.matches ? "topright" : "bottomright" },
    onAdd() {
      button = h("button", {
        type: "button",
        class: "hm-btn hm-view-btn",
        text: label(),
        onclick: (ev) => {
          ev.stopPropagation();
          show(current === "city" ? "county" : "city");
        },
      });
      L.DomEvent.disableClickPropagation(button);
      return button;
    },
  });

  hooks.on("lang", () => {
    if (button) button.textContent = label();
  });

  return {
    start(county) {
      const located = registry.all().filter((e) => e.marker);
      bounds.county = county ? county.getBounds() : L.latLngBounds(located.map((e) => e.marker.getLatLng()));
      const city = registry.all("waterlogging_points").filter((e) => e.marker);
      bounds.city = city.length ? L.latLngBounds(city.map((e) => e.marker.getLatLng())) : null;
      // A crew on a phone starts on the city's ponding points, a planner at
      // a desk on the whole county; the button switches.
      show(desktop.matches || !bounds.city ? "county" : "city");
      new Control().addTo(map);
    },
  };
}
