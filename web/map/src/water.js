// water reads the gauges' levels for the map: the flood limit of a date
// (the gauge's SL 323 windows, month-days in China time), the state a
// marker is coloured by, the series and limit lines of a chart, and which
// live events concern the water rooms rather than a drawn layer. Pure:
// no DOM, no Leaflet; tested with node:test.

/** WATER_COLLECTIONS are the /events collections of readings and alerts: no layer of items. */
export const WATER_COLLECTIONS = ["readings", "alerts"];

/** WATER_ACTIONS are the /events actions of readings and alerts. */
export const WATER_ACTIONS = ["reading", "open", "acknowledge", "escalate", "resolve"];

/** CHART_HOURS is the span of a gauge's chart. */
export const CHART_HOURS = 72;

const CST_MS = 8 * 3600 * 1000;

/** monthDay returns "MM-DD" of a time (ms or Date) in China time (UTC+8). */
export function monthDay(t) {
  const d = new Date(+t + CST_MS);
  return `${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
}

/** inWindow reports whether "MM-DD" md lies in the window start..end (ends included; end before start runs across the new year). */
export function inWindow(md, start, end) {
  return start <= end ? start <= md && md <= end : md >= start || md <= end;
}

/** floodLimitAt returns the flood-limit window {level, period, start, end} of props for time t, or null. */
export function floodLimitAt(props, t) {
  const md = monthDay(t);
  for (const w of props?.flood_limits ?? []) if (inWindow(md, w.start, w.end)) return w;
  return null;
}

/** silentAfterMs returns how long a gauge may stay without a reading before it is silent (twice its interval), or null. */
export function silentAfterMs(props) {
  const n = props?.report_interval_min;
  return typeof n === "number" && n > 0 ? 2 * n * 60000 : null;
}

/**
 * levelState returns what a gauge marker shows: "alert" (an unresolved
 * alert), "silent" (no reading for twice its interval), "none" (no
 * reading), "over" (above the flood limit of the date, the warning or
 * the guaranteed level), "ok" (below them), or "nolimit" (a level but no
 * limit to compare it with). latest: {level, at} or null; alerts: the
 * gauge's unresolved alerts; now: ms.
 */
export function levelState(props, latest, alerts, now) {
  if (alerts?.length) return "alert";
  const silent = silentAfterMs(props);
  if (!latest) return silent != null ? "silent" : "none";
  const at = Date.parse(latest.at);
  if (silent != null && now - at > silent) return "silent";
  const limits = [floodLimitAt(props, at)?.level, props?.warning_level, props?.guaranteed_level].filter((x) => typeof x === "number");
  if (!limits.length) return "nolimit";
  return limits.some((l) => latest.level > l) ? "over" : "ok";
}

/** chartData returns uPlot's data of readings (oldest first): [[unix seconds], [levels]]. */
export function chartData(readings) {
  return [readings.map((r) => Date.parse(r.at) / 1000), readings.map((r) => r.level)];
}

/**
 * limitLines returns the horizontal lines of a chart from `from` to `to`
 * (ms): the flood limit of each time (it may change with the period, so
 * it is a series over the readings' times), the warning and the
 * guaranteed level: [{key, values}] aligned with xs (unix seconds); a
 * null value where there is no limit.
 */
export function limitLines(props, xs) {
  const out = [];
  const flood = xs.map((x) => floodLimitAt(props, x * 1000)?.level ?? null);
  if (flood.some((v) => v != null)) out.push({ key: "floodLimit", values: flood });
  for (const key of ["warning_level", "guaranteed_level"]) {
    const v = props?.[key];
    if (typeof v === "number") out.push({ key, values: xs.map(() => v) });
  }
  return out;
}

/** splitEvents separates a live batch: water items (readings, alerts) and the rest (layers of items). */
export function splitEvents(items) {
  const water = [];
  const rest = [];
  for (const it of items) (WATER_COLLECTIONS.includes(it.collection) ? water : rest).push(it);
  return { water, rest };
}
