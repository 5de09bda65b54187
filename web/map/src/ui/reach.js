// reach is the 覆盖 panel: a distance threshold, the server's reach report
// for it (every hazard, its nearest ready depot, within or beyond), the
// hazards beyond reach ringed on the map and listed, with lines from each
// hazard to its depot. A new threshold aborts the question before it
// (latest.js); after a live update the report is asked again and the old
// one stays on screen until the new one arrives.
import L from "leaflet";
import { h } from "../dom.js";
import { t, distance, featureName } from "../i18n.js";
import * as api from "../api.js";
import { Latest } from "../latest.js";
import { reachGroups, reachResults } from "../analysis.js";
import { HAZARDS } from "./features.js";
import { FIT_PADDING } from "./map.js";

/** PRESETS are the thresholds offered as buttons, in metres. */
const PRESETS = [1000, 3000, 5000, 10000];

/** installReach adds the reach panel. app: map, project, registry, sheet, selection, desktop, hooks, analysis. */
export function installReach(app) {
  const { map, project, registry, sheet, selection, desktop, hooks } = app;
  const lines = L.layerGroup().addTo(map);
  const requests = new Latest();
  const r = { threshold: 3000, active: false, loading: false, report: null, error: null };

  function setThreshold(m) {
    r.threshold = m;
    run();
  }

  // run asks for the reach report at the threshold. quiet (after a live
  // update): the current results stay on screen until the new ones arrive.
  async function run({ quiet = false } = {}) {
    const signal = requests.next();
    if (!quiet) {
      r.loading = true;
      r.error = null;
      sheet.update("reach");
    }
    try {
      const { report, lines } = await api.reach(r.threshold, { signal });
      if (signal.aborted) return;
      r.report = report;
      r.error = null;
      app.analysis = true;
      apply(report, lines);
    } catch (err) {
      if (signal.aborted) return;
      r.error = err instanceof api.AnalysisUnavailable ? "unavailable" : err.message;
      if (err instanceof api.AnalysisUnavailable) app.analysis = false;
      apply(null, null);
    }
    r.loading = false;
    sheet.update("reach", { keep: quiet });
  }

  // apply rings the hazards beyond reach and draws the report's lines.
  function apply(report, fc) {
    const results = reachResults(report);
    for (const c of HAZARDS) {
      for (const e of registry.all(c)) {
        const next = results.get(e.key) ?? null;
        if (e.reach !== next) {
          e.reach = next;
          registry.refresh(e);
        }
      }
    }
    lines.clearLayers();
    if (fc?.features) {
      L.geoJSON(fc, {
        coordsToLatLng: project,
        interactive: false,
        style: (f) => ({ className: `hm-reach-line hm-reach-line--${f.properties?.result ?? "within"}` }),
      }).addTo(lines);
    }
  }

  function off() {
    r.active = false;
    r.report = null;
    requests.cancel();
    apply(null, null);
    sheet.close();
  }

  function render() {
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
    const value = h("strong", { id: "hm-threshold-value", text: distance(r.threshold) });
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
        value.textContent = distance(Number(ev.target.value));
      },
    });
    const intro = h("p", { class: "hm-muted hm-small", text: t("reachIntro") });
    const out = [t("reachTitle"), h("div", { class: "hm-threshold" }, h("label", { for: "hm-threshold", text: `${t("threshold")}：` }), value), presets, slider];
    if (app.analysis === false || r.error === "unavailable") {
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
    const { beyond, noDepot } = reachGroups(rep);
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
            if (!desktop.matches) sheet.close();
            map.fitBounds(L.latLngBounds(ringed.map((e) => e.marker.getLatLng())), { ...FIT_PADDING, maxZoom: 15 });
          },
        }),
      );
    }
    out.push(h("h3", { text: `${t("beyondList")} (${beyond.length})` }));
    out.push(beyond.length ? h("ul", { class: "hm-list" }, beyond.map((x) => row(x, rep.max_distance_m))) : h("p", { class: "hm-muted", text: t("noneBeyond") }));
    if (noDepot.length) {
      out.push(h("h3", { text: `${t("noDepotList")} (${noDepot.length})` }));
      out.push(h("ul", { class: "hm-list" }, noDepot.map((x) => row(x, rep.max_distance_m))));
    }
    if (rep.summary.unlocated) out.push(h("p", { class: "hm-muted", text: t("unlocatedNote", rep.summary.unlocated) }));
    out.push(intro, h("button", { type: "button", class: "hm-btn hm-wide", text: t("reachOff"), onclick: off }));
    return out;
  }

  function row(x, max) {
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
            if (e) selection.select(e, { fly: true });
          },
        },
        h("span", { class: "hm-row-name", text: name }),
        h("span", { class: "hm-row-sub", text: x.depot && x.result === "beyond" ? `${depot} · ${t("beyondBy", distance(x.depot.distance_m - max))}` : depot }),
      ),
    );
  }

  sheet.add({
    name: "reach",
    label: () => t("tabReach"),
    render,
    onOpen() {
      if (r.active) return;
      r.active = true;
      run();
    },
  });
  hooks.on("changes", () => {
    if (r.active) run({ quiet: true });
  });
}
