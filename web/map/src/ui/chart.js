// chart draws a gauge's last 72 hours with uPlot (a small chart library
// from npm, bundled; no CDN), with the flood limit of each time (it
// changes with the season's period), the warning and the guaranteed
// level as lines. It is a chunk of its own, loaded when a gauge's popup
// first opens: the first load of the map stays small (uPlot's 2 KB of
// CSS go with the map's stylesheet, main.js: esbuild links no CSS of a
// chunk loaded later).
import uPlot from "uplot";
import { t } from "../i18n.js";
import { chartData, limitLines } from "../water.js";

const COLORS = { level: "#0b3d91", floodLimit: "#d7191c", warning_level: "#f29e00", guaranteed_level: "#7b1fa2" };

/**
 * drawChart draws readings (oldest first) of gauge props in el, width
 * px wide, and returns the uPlot instance (with .hm: what it drew, for
 * tests: {points, lines: [{key, value}]}).
 */
export function drawChart(el, props, readings, width) {
  const [xs, ys] = chartData(readings);
  const lines = limitLines(props, xs);
  const series = [{}, { label: t("chartLevel"), stroke: COLORS.level, width: 2, points: { show: xs.length < 60 } }];
  const data = [xs, ys];
  for (const l of lines) {
    series.push({ label: t(`chart_${l.key}`), stroke: COLORS[l.key], width: 2, dash: l.key === "floodLimit" ? [] : [6, 4], points: { show: false } });
    data.push(l.values);
  }
  const all = [...ys, ...lines.flatMap((l) => l.values)].filter((v) => v != null);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = Math.max(0.1, (hi - lo) * 0.15);
  const u = new uPlot(
    {
      width,
      height: 180,
      series,
      scales: { x: { time: true }, y: { range: [lo - pad, hi + pad] } },
      axes: [{ size: 28 }, { size: 52, values: (_, vals) => vals.map((v) => v.toFixed(2)) }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    },
    data,
    el,
  );
  u.hm = { points: xs.length, lines: lines.map((l) => ({ key: l.key, value: l.values.findLast((v) => v != null) })) };
  return u;
}
