// analysis reads the server's analysis answers (/analysis/nearest-depots,
// /analysis/reach) into what the map shows. The rules (readiness, reach)
// live on the server; this only sorts and groups its verdicts. Pure: no
// DOM, no Leaflet.
import { mean } from "./geometry.js";

/** READINESS_K is the most depots one nearest-depots question may ask for (the server's limit). */
export const READINESS_K = 50;

/**
 * nearestList merges the answers for "the k nearest depots" and "the
 * nearest ready depot" of one place: each depot once, nearest first, and
 * the id of the nearest ready one (undefined when there is none).
 */
export function nearestList(anyRes, readyRes) {
  const byId = new Map();
  for (const d of [...(anyRes?.depots || []), ...(readyRes?.depots || [])]) byId.set(d.id, d);
  return {
    depots: [...byId.values()].sort((a, b) => a.distance_m - b.distance_m),
    nearestReady: (readyRes?.depots || [])[0]?.id,
  };
}

/** reachGroups splits a reach report's hazards into those beyond the threshold and those with no qualifying depot. */
export function reachGroups(report) {
  const hazards = report?.hazards || [];
  return {
    beyond: hazards.filter((x) => x.result === "beyond"),
    noDepot: hazards.filter((x) => x.result === "no_depot"),
  };
}

/** reachResults maps "collection/id" to each hazard's result ("within", "beyond", "no_depot", …). */
export function reachResults(report) {
  const out = new Map();
  for (const x of report?.hazards || []) out.set(`${x.collection}/${x.id}`, x.result);
  return out;
}

/**
 * readinessQuestion is where to ask for the readiness of the depots at
 * points (WGS-84 [lon, lat]): their mean, and how many to ask for; null
 * when there are none. Depots beyond the READINESS_K nearest stay unknown.
 */
export function readinessQuestion(points) {
  const at = mean(points);
  return at && { lon: at[0], lat: at[1], k: Math.min(points.length, READINESS_K) };
}
