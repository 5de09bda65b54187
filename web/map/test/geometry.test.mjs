// Unit tests of the geometry helpers (node --test): where a feature's
// marker goes, which precision it claims, and what is nearest the crew.
import { test } from "node:test";
import assert from "node:assert/strict";
import { representative, mean, precisionOf, roughDistance, nearestFirst } from "../src/geometry.js";

test("representative point of each geometry type", () => {
  assert.equal(representative(null), null);
  assert.deepEqual(representative({ type: "Point", coordinates: [113.38, 34.79] }), [113.38, 34.79]);
  const line = [
    [113.3, 34.7],
    [113.4, 34.8],
    [113.5, 34.9],
  ];
  assert.deepEqual(representative({ type: "LineString", coordinates: line }), [113.4, 34.8]);
  assert.deepEqual(representative({ type: "MultiLineString", coordinates: [line, [[0, 0], [1, 1]]] }), [113.4, 34.8]);
  // The closing vertex of a ring is counted once.
  const ring = [
    [0, 0],
    [4, 0],
    [4, 2],
    [0, 2],
    [0, 0],
  ];
  assert.deepEqual(representative({ type: "Polygon", coordinates: [ring] }), [2, 1]);
  assert.deepEqual(representative({ type: "MultiPolygon", coordinates: [[ring], [[[9, 9], [9, 9]]]] }), [2, 1]);
  assert.equal(representative({ type: "GeometryCollection", geometries: [] }), null);
  assert.equal(representative({ type: "Polygon", coordinates: [[]] }), null);
});

test("mean of points", () => {
  assert.equal(mean([]), null);
  assert.deepEqual(mean([[1, 2], [3, 6]]), [2, 4]);
});

test("precisionOf takes only a positive number", () => {
  assert.equal(precisionOf({ location_precision_m: 50 }), 50);
  assert.equal(precisionOf({ location_precision_m: 0 }), null);
  assert.equal(precisionOf({ location_precision_m: "50" }), null);
  assert.equal(precisionOf({ location_precision_m: null }), null);
  assert.equal(precisionOf({}), null);
});

test("roughDistance: a degree of latitude, of longitude at 60°, and nothing", () => {
  // On the mean sphere (R = 6371008.8 m) a degree is 2πR/360 = 111 195.08 m;
  // at latitude 60° a degree of longitude is half that.
  assert.ok(Math.abs(roughDistance([0, 0], [0, 1]) - 111195.08) < 0.01);
  assert.ok(Math.abs(roughDistance([10, 60], [11, 60]) - 111195.08 / 2) < 0.01);
  assert.equal(roughDistance([113.38, 34.79], [113.38, 34.79]), 0);
});

test("nearestFirst puts the nearest first; no position or no place keeps the order, after", () => {
  const items = [
    { id: "far", at: [113.5, 34.8] },
    { id: "none", at: null },
    { id: "near", at: [113.381, 34.79] },
    { id: "mid", at: [113.4, 34.79] },
  ];
  const ids = (xs) => xs.map((x) => x.item.id);
  assert.deepEqual(ids(nearestFirst(items, [113.38, 34.79], (x) => x.at)), ["near", "mid", "far", "none"]);
  assert.deepEqual(ids(nearestFirst(items, null, (x) => x.at)), ["far", "none", "near", "mid"]);
  assert.equal(nearestFirst(items, null, (x) => x.at)[0].distance, null);
});
