// Unit tests of the geometry helpers (node --test): where a feature's
// marker goes, and which precision it claims.
import { test } from "node:test";
import assert from "node:assert/strict";
import { representative, mean, precisionOf } from "../src/geometry.js";

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
