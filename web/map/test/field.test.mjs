// The rules of field mode the rooms share.
import { test } from "node:test";
import assert from "node:assert/strict";
import { signInCode, normalizeCode, locateMethod, needsLocating, fitWithin, pinPrecision, clock } from "../src/field.js";
import { wgs84ToGcj02, gcj02ToWgs84 } from "../src/gcj02.js";

test("a sign-in link's fragment gives its code; anything else gives none", () => {
  assert.equal(signInCode("#signin=7KQ2-M9XD-4TRA-0ZPB"), "7KQ2-M9XD-4TRA-0ZPB");
  assert.equal(signInCode("#signin=7kq2m9xd4tra0zpb"), "7kq2m9xd4tra0zpb");
  for (const h of ["", "#", "#signin=", "#signin=<script>", "#other=7KQ2-M9XD-4TRA-0ZPB", "#signin=abc"]) assert.equal(signInCode(h), null, h);
  assert.equal(normalizeCode(" 7kq2 m9xd-4tra0zpb "), "7KQ2-M9XD-4TRA-0ZPB");
});

test("locating: auto at ≤ 10 m, the crew accepts at ≤ 30 m, beyond that the pin is dragged", () => {
  assert.equal(locateMethod(4), "auto");
  assert.equal(locateMethod(10), "auto");
  assert.equal(locateMethod(10.5), "accepted");
  assert.equal(locateMethod(30), "accepted");
  assert.equal(locateMethod(31), "dragged");
  assert.equal(locateMethod(undefined), "dragged");
  assert.equal(needsLocating({ geometry: null, properties: {} }), true);
  assert.equal(needsLocating({ geometry: {}, properties: { location_precision_m: 5000 } }), true);
  assert.equal(needsLocating({ geometry: {}, properties: { location_precision_m: null } }), true);
  assert.equal(needsLocating({ geometry: {}, properties: { location_precision_m: 50 } }), false);
});

test("photos shrink to 1600 px on the long side, never grow", () => {
  assert.deepEqual(fitWithin(4032, 3024), [1600, 1200]);
  assert.deepEqual(fitWithin(3024, 4032), [1200, 1600]);
  assert.deepEqual(fitWithin(800, 600), [800, 600]);
});

test("a pin placed by hand is as precise as a fingertip at that zoom", () => {
  assert.ok(pinPrecision(18, 34.8) <= 6);
  assert.ok(pinPrecision(12, 34.8) > 300);
});

test("GCJ-02 back to WGS-84 inverts the forward shift to well under a centimetre", () => {
  for (const [lon, lat] of [[113.3835, 34.7874], [113.2, 34.65], [116.397, 39.908]]) {
    const [gx, gy] = wgs84ToGcj02(lon, lat);
    const [x, y] = gcj02ToWgs84(gx, gy);
    assert.ok(Math.abs(x - lon) < 1e-8 && Math.abs(y - lat) < 1e-8, `${lon},${lat} → ${x},${y}`);
  }
  assert.deepEqual(gcj02ToWgs84(2.35, 48.85), [2.35, 48.85]);
});

test("clock is HH:MM", () => {
  assert.equal(clock(new Date(2024, 6, 20, 8, 5)), "08:05");
});
