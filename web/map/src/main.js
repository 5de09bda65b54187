// The map of hazardmap. This first version draws the three layers from the
// OGC API; the full map (legend, reach panel, unlocated list) follows.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import "./style.css";

const map = L.map("map").setView([34.79, 113.39], 12);

async function load(collection, style) {
  const res = await fetch(`/collections/${collection}/items?limit=1000`, { headers: { Accept: "application/geo+json" } });
  const fc = await res.json();
  L.geoJSON(fc, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, style),
  }).bindTooltip((layer) => {
    const el = document.createElement("span");
    el.textContent = layer.feature.properties.name;
    return el;
  }).addTo(map);
}

load("waterlogging_points", { radius: 8, color: "#1565c0" });
load("relocation_sites", { radius: 8, color: "#6a1b9a" });
load("depots", { radius: 8, color: "#2e7d32" });
