// Unit tests of how the map reads the server's analysis answers
// (node --test): the nearest-depot list of a popup, the reach groups and
// rings, and the readiness question.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nearestList, reachGroups, reachResults, readinessQuestion, READINESS_K } from "../src/analysis.js";

test("nearestList: each depot once, nearest first, and the nearest ready one", () => {
  const anyRes = {
    depots: [
      { id: "a", distance_m: 800, ready: false },
      { id: "b", distance_m: 1200, ready: true },
      { id: "c", distance_m: 2500, ready: false },
    ],
  };
  const readyRes = { depots: [{ id: "b", distance_m: 1200, ready: true }] };
  const got = nearestList(anyRes, readyRes);
  assert.deepEqual(got.depots.map((d) => d.id), ["a", "b", "c"]);
  assert.equal(got.nearestReady, "b");

  // The nearest ready depot may lie beyond the k nearest: it is listed too.
  const far = nearestList(anyRes, { depots: [{ id: "z", distance_m: 9000, ready: true }] });
  assert.deepEqual(far.depots.map((d) => d.id), ["a", "b", "c", "z"]);
  assert.equal(far.nearestReady, "z");

  const none = nearestList({ depots: [] }, { depots: [] });
  assert.deepEqual(none, { depots: [], nearestReady: undefined });
});

const report = {
  max_distance_m: 3000,
  hazards: [
    { collection: "waterlogging_points", id: "wp-1", result: "within" },
    { collection: "waterlogging_points", id: "wp-2", result: "beyond" },
    { collection: "relocation_sites", id: "rs-1", result: "no_depot" },
    { collection: "waterlogging_points", id: "wp-3", result: "unlocated" },
    { collection: "relocation_sites", id: "rs-2", result: "beyond" },
  ],
};

test("reachGroups: beyond and no depot, in the report's order", () => {
  const { beyond, noDepot } = reachGroups(report);
  assert.deepEqual(beyond.map((x) => x.id), ["wp-2", "rs-2"]);
  assert.deepEqual(noDepot.map((x) => x.id), ["rs-1"]);
  assert.deepEqual(reachGroups(null), { beyond: [], noDepot: [] });
});

test("reachResults: each hazard's result by registry key", () => {
  const got = reachResults(report);
  assert.equal(got.get("waterlogging_points/wp-2"), "beyond");
  assert.equal(got.get("relocation_sites/rs-1"), "no_depot");
  assert.equal(got.get("depots/wp-2"), undefined);
  assert.equal(reachResults(null).size, 0);
});

test("readinessQuestion: the depots' mean, at most READINESS_K of them", () => {
  assert.equal(readinessQuestion([]), null);
  assert.deepEqual(readinessQuestion([[113, 34], [114, 35]]), { lon: 113.5, lat: 34.5, k: 2 });
  const many = Array.from({ length: 80 }, () => [113.4, 34.8]);
  assert.equal(readinessQuestion(many).k, READINESS_K);
});
