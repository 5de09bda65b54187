// Unit tests of the map's API client (node --test) over a fake fetch:
// paging by next links (kept on this origin), problem details in errors,
// a 404 feature as null, a missing analysis API as AnalysisUnavailable,
// and the abort signal handed to fetch.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as api from "../src/api.js";

globalThis.location = { href: "http://map.test/" };

let routes;
let requests;
beforeEach(() => {
  routes = new Map();
  requests = [];
  globalThis.fetch = async (url, init = {}) => {
    requests.push({ url, init });
    const r = routes.get(url);
    if (r instanceof Error) throw r;
    if (!r) return new Response(JSON.stringify({ title: "Not Found", detail: `no route ${url}` }), { status: 404 });
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200 });
  };
});

test("items follows next links, keeping only their path", async () => {
  routes.set("/collections/depots/items?limit=1000", {
    body: { features: [{ id: "a" }], links: [{ rel: "next", href: "https://proxy.example/collections/depots/items?limit=1000&offset=1" }] },
  });
  routes.set("/collections/depots/items?limit=1000&offset=1", { body: { features: [{ id: "b" }], links: [{ rel: "self", href: "x" }] } });
  const got = await api.items("depots");
  assert.deepEqual(got.map((f) => f.id), ["a", "b"]);
  assert.equal(requests.length, 2);
  assert.match(requests[0].init.headers.Accept, /application\/geo\+json/);
});

test("an error carries the status and the problem's detail", async () => {
  routes.set("/collections/depots/items?limit=1000", { status: 400, body: { title: "Bad Request", detail: "limit: at most 10000" } });
  await assert.rejects(api.items("depots"), (err) => err.status === 400 && err.message === "400 limit: at most 10000");
});

test("feature: the server's copy, revalidated, or null when it is gone", async () => {
  routes.set("/collections/waterlogging_points/items/wp%2F1", { body: { id: "wp/1" } });
  assert.deepEqual(await api.feature("waterlogging_points", "wp/1"), { id: "wp/1" });
  assert.equal(requests[0].init.cache, "no-cache");
  assert.equal(await api.feature("waterlogging_points", "gone"), null);
  routes.set("/collections/waterlogging_points/items/busy", { status: 503, body: {} });
  await assert.rejects(api.feature("waterlogging_points", "busy"), (err) => err.status === 503);
});

test("analysis: a missing API is AnalysisUnavailable, a bad question is not", async () => {
  await assert.rejects(api.nearestDepots(113.38, 34.79, 3, true), api.AnalysisUnavailable);
  assert.equal(requests[0].url, "/analysis/nearest-depots?lon=113.38&lat=34.79&k=3&ready=true");
  routes.set("/analysis/nearest-depots?lon=113.38&lat=34.79&k=1", new TypeError("Failed to fetch"));
  await assert.rejects(api.nearestDepots(113.38, 34.79, 1, false), api.AnalysisUnavailable);
  routes.set("/analysis/nearest-depots?lon=999&lat=34.79&k=1", { status: 400, body: { detail: "lon: out of range" } });
  await assert.rejects(api.nearestDepots(999, 34.79, 1, false), (err) => !(err instanceof api.AnalysisUnavailable) && err.status === 400);
});

test("reach asks for the report and its lines; lines that fail are null", async () => {
  const q = "max_distance_m=3000&collections=waterlogging_points%2Crelocation_sites&ready=true";
  routes.set(`/analysis/reach?${q}`, { body: { hazards: [] } });
  const { report, lines } = await api.reach(3000);
  assert.deepEqual(report, { hazards: [] });
  assert.equal(lines, null);
  routes.set(`/analysis/reach?${q}&format=geojson`, { body: { type: "FeatureCollection", features: [] } });
  assert.equal((await api.reach(3000)).lines.type, "FeatureCollection");
});

test("every request hands its signal to fetch", async () => {
  const signal = new AbortController().signal;
  routes.set("/collections/depots/items?limit=1000", { body: { features: [] } });
  routes.set("/collections/depots/items/d1", { body: { id: "d1" } });
  await api.items("depots", { signal });
  await api.feature("depots", "d1", { signal });
  await api.nearestDepots(1, 2, 1, false, { signal }).catch(() => {});
  await api.reach(1000, { signal }).catch(() => {});
  assert.equal(requests.length, 5);
  for (const r of requests) assert.equal(r.init.signal, signal, r.url);
});

test("contextName is the layer's name without its content hash", () => {
  assert.equal(api.contextName("/assets/context/county_boundary-938693ff813c.geojson"), "county_boundary");
  assert.equal(api.contextName("/assets/context/longhai_railway_approx.geojson"), "longhai_railway_approx");
});
