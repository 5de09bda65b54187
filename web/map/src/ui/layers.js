// layers is the 图层 panel: each layer with its count and a switch, the
// legend of every symbol, the base map and the context layers' sources.
import { h } from "../dom.js";
import { t } from "../i18n.js";

function toggleRow(map, label, layer, extra) {
  const input = h("input", {
    type: "checkbox",
    checked: map.hasLayer(layer) ? true : null,
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

function depotSym(level, ready, mark) {
  return sym(`hm-depot hm-depot--${level} hm-ready--${ready}`, [h("span", { class: "hm-depot-box", text: t(`levelMark_${level}`) }), h("span", { class: "hm-badge", text: mark })]);
}

/**
 * installLayersPanel adds the layers panel (the one a desk opens first
 * when it is installed first). app: map, groups, tiles, registry, sheet,
 * analysis; context: the context room (its sources).
 */
export function installLayersPanel(app, context) {
  const { map, groups, tiles, registry } = app;
  const count = (c) => registry.all(c).filter((e) => e.marker).length;
  const layerRow = (c, legend) => toggleRow(map, `${t(c)} (${count(c)})`, groups[c], h("ul", { class: "hm-legend" }, legend));

  function render() {
    const sources = context.attributions;
    return [
      t("tabLayers"),
      layerRow("waterlogging_points", [
        ["clear", "ponding", "closed", null].map((s) => legendItem(sym(`hm-wp hm-wp--road hm-st--${s ?? "null"}`), t(`status_${s ?? "null"}`))),
        legendItem(sym("hm-wp hm-wp--underpass hm-st--null"), t("kind_railway_underpass")),
        legendItem(sym("hm-wp hm-wp--road hm-st--null"), t("kind_road_spot")),
      ]),
      layerRow("relocation_sites", legendItem(sym("hm-rs"), t("legendRelocation"))),
      layerRow("depots", [
        ["city", "township", "village", "facility"].map((l) => legendItem(depotSym(l, "unknown", "?"), t(`level_${l}`))),
        legendItem(depotSym("township", "yes", "✓"), t("ready_true")),
        legendItem(depotSym("township", "no", "✕"), t("ready_false")),
        legendItem(depotSym("township", "unknown", "?"), app.analysis === false ? `${t("ready_null")} — ${t("analysisUnavailable")}` : t("ready_null")),
      ]),
      layerRow(
        "gauges",
        ["ok", "over", "alert", "silent"].map((s) => legendItem(sym(`hm-gauge hm-lv--${s}`), t(`level_state_${s}`))),
      ),
      h(
        "ul",
        { class: "hm-legend hm-legend--notes" },
        legendItem(sym("hm-wp hm-wp--road hm-st--null hm-coarse"), t("legendImprecise")),
        legendItem(h("span", { class: "hm-legend-sym hm-legend-line" }), t("legendLines")),
      ),
      toggleRow(map, t("context"), groups.context),
      tiles ? toggleRow(map, t("basemap"), tiles) : h("p", { class: "hm-muted", text: t("legendOffline") }),
      sources.length ? h("details", null, h("summary", { text: t("dataSources") }), h("ul", null, sources.map((s) => h("li", { text: s })))) : null,
    ];
  }

  app.sheet.add({ name: "layers", label: () => t("tabLayers"), render, followsData: true });
}
