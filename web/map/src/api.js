// api talks to the hazardmap server: the OGC API collections and the
// analysis endpoints. Analysis may be missing (an older server, or one
// being upgraded); callers get an AnalysisUnavailable error and degrade.
// Every request takes an optional { signal } (see latest.js): a request
// that is superseded is aborted.

import { FROM_CACHE_HEADER } from "./swmark.js";
import { problemOf, serverWords } from "./problem.js";

export class AnalysisUnavailable extends Error {}

const geojson = { Accept: "application/geo+json, application/json" };

/**
 * FROM_CACHE is the header the service worker (sw.js) adds to a response
 * it answered from its cache because the network failed: the page then
 * says it is offline, and since when its data are (the Date header).
 */
export { FROM_CACHE_HEADER as FROM_CACHE } from "./swmark.js";

// freshness tells the page (an "hm:data" event on window) whether a data
// response came from the network or from the service worker's cache.
function freshness(url, res) {
  if (typeof globalThis.dispatchEvent !== "function" || typeof CustomEvent !== "function") return;
  const cached = res.headers.get(FROM_CACHE_HEADER) != null;
  globalThis.dispatchEvent(new CustomEvent("hm:data", { detail: { url, cached, date: res.headers.get("Date") } }));
}

async function getJSON(url, init = {}) {
  const res = await fetch(url, { headers: geojson, ...init });
  if (res.ok) freshness(url, res);
  if (!res.ok) {
    let detail = "";
    try {
      const p = await res.json();
      detail = p.detail || p.title || "";
    } catch {
      /* not a problem body */
    }
    const err = new Error(`${res.status} ${detail}`.trim());
    err.status = res.status;
    throw err;
  }
  return res.json();
}

/** itemsURL is the first page of a collection as the map loads it. */
export function itemsURL(collection) {
  return `/collections/${encodeURIComponent(collection)}/items?limit=1000`;
}

/** items returns every feature of a collection, following next links. */
export async function items(collection, { signal } = {}) {
  let url = itemsURL(collection);
  const out = [];
  for (let page = 0; url && page < 50; page++) {
    const fc = await getJSON(url, { signal });
    out.push(...(fc.features || []));
    const next = (fc.links || []).find((l) => l.rel === "next");
    url = next ? sameOriginPath(next.href) : null;
  }
  return out;
}

/**
 * feature returns one feature as the server shows it now, or null when it
 * is gone (404). "no-cache": the browser revalidates with the ETag, so an
 * unchanged feature costs a 304.
 */
export async function feature(collection, id, { signal } = {}) {
  try {
    return await getJSON(`/collections/${encodeURIComponent(collection)}/items/${encodeURIComponent(id)}`, { cache: "no-cache", signal });
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

// sameOriginPath keeps only the path and query of a link, so that a
// proxy's idea of our host cannot send the page elsewhere.
function sameOriginPath(href) {
  const u = new URL(href, location.href);
  return u.pathname + u.search;
}

async function analysis(path, params, signal) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") q.set(k, String(v));
  try {
    return await getJSON(`/analysis/${path}?${q}`, { signal });
  } catch (err) {
    if (err.status === 404 || err.status === 501 || err.status === 503 || err instanceof TypeError) {
      throw new AnalysisUnavailable(err.message);
    }
    throw err;
  }
}

/** nearestDepots asks for the k depots nearest to a WGS-84 point. */
export function nearestDepots(lon, lat, k, ready, { signal } = {}) {
  return analysis("nearest-depots", { lon, lat, k, ready: ready ? "true" : null }, signal);
}

/** reach asks for the reach report (JSON) and its lines (GeoJSON). */
export async function reach(maxDistance, { signal } = {}) {
  const params = {
    max_distance_m: maxDistance,
    collections: "waterlogging_points,relocation_sites",
    ready: "true",
  };
  const [report, lines] = await Promise.all([
    analysis("reach", params, signal),
    analysis("reach", { ...params, format: "geojson" }, signal).catch(() => null),
  ]);
  return { report, lines };
}

/** contextURLs returns the URLs of the context layers the server announced. */
export function contextURLs() {
  const meta = document.querySelector('meta[name="hazardmap:context"]');
  return (meta?.content || "")
    .split(/\s+/).filter((u) => u.startsWith("/"));
}

/** contextLayers fetches every announced context layer: [{name, fc}]. */
export function contextLayers() {
  return Promise.all(contextURLs().map(async (url) => ({ name: contextName(url), fc: await getJSON(url) })));
}

/** contextName is a context layer's name from its URL: /assets/context/county_boundary-1a2b.geojson → county_boundary. */
export function contextName(url) {
  return url.split("/").pop().replace(/-[0-9a-f]+\.geojson$|\.geojson$/, "");
}

/** config reads the page's settings from its <meta> tags (filled in by the server). */
export function config() {
  const get = (n) => {
    const v = document.querySelector(`meta[name="hazardmap:${n}"]`)?.content ?? "";
    return /^%[A-Z_]+%$/.test(v) ? "" : v; // a page not served by hazardmap
  };
  const datum = get("tile-datum") === "gcj02" ? "gcj02" : "wgs84";
  return { tileURL: get("tile-url"), tileAttribution: get("tile-attribution"), datum, tileBulk: get("tile-bulk") === "true" };
}

/** session returns who the browser is signed in as (GET /session): {signed_in, name, role, …}. */
export async function session() {
  return getJSON("/session", { cache: "no-store" });
}

/** signIn exchanges a one-time code for the session cookie (POST /session). */
export async function signIn(code) {
  const res = await fetch("/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }) });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.detail || `${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** signOut ends the session: the server revokes its token and clears the cookie. */
export async function signOut() {
  await fetch("/session", { method: "DELETE" });
}

/** latestReadings returns the latest reading of every gauge (or of ids): [{gauge_id, at, level, …}]. */
export async function latestReadings(ids = []) {
  const q = ids.length ? `?gauge_id=${ids.map(encodeURIComponent).join(",")}` : "";
  return (await getJSON(`/readings/latest${q}`, { cache: "no-store" })).readings;
}

/** readings returns the readings of gauge id since `from` (a Date), oldest first. */
export async function readings(id, from, { signal } = {}) {
  const q = new URLSearchParams({ from: from.toISOString(), limit: "10000" });
  return (await getJSON(`/collections/gauges/items/${encodeURIComponent(id)}/readings?${q}`, { cache: "no-store", signal })).readings;
}

/** activeAlerts returns the unresolved alerts, newest first. */
export async function activeAlerts() {
  return (await getJSON("/alerts?state=active&limit=1000", { cache: "no-store" })).alerts;
}

/** recentAlerts returns the latest alerts of any state. */
export async function recentAlerts(limit = 20) {
  return (await getJSON(`/alerts?limit=${limit}`, { cache: "no-store" })).alerts;
}

/** alert returns one alert, or null when it is gone. */
export async function alert(id) {
  try {
    return await getJSON(`/alerts/${encodeURIComponent(id)}`, { cache: "no-store" });
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

/** post sends body as JSON to path (same origin: the session cookie goes along) and returns the answer's JSON; a refusal throws with the server's words, its status and its problem in parts (problem.js). */
export async function post(path, body, headers = {}) {
  const res = await fetch(path, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", Accept: "application/json", ...headers }, body: JSON.stringify(body) });
  let out = null;
  try {
    out = await res.json();
  } catch {
    /* no body */
  }
  if (!res.ok) {
    const problem = problemOf(res.status, out, Number(res.headers.get("Retry-After")) || 0);
    const err = new Error(serverWords(problem) || String(res.status));
    err.status = res.status;
    err.problem = problem; // reasons.js words it for the crew
    throw err;
  }
  return out;
}
