// Unit tests of the WGS-84 → GCJ-02 forward transform (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { wgs84ToGcj02, outOfChina, projector } from "../src/gcj02.js";

// Published reference values (eviltransform's test table, used by many
// ports): WGS-84 lon/lat → GCJ-02 lon/lat.
const known = [
  { city: "Shanghai", wgs: [121.5272106, 31.1774276], gcj: [121.531541859215, 31.17530398364597] },
  { city: "Shenzhen", wgs: [113.912316, 22.543847], gcj: [113.9171764808363, 22.540796131694766] },
  { city: "Beijing", wgs: [116.377817, 39.911954], gcj: [116.38404722455657, 39.91334545536069] },
];

for (const k of known) {
  test(`wgs84ToGcj02 ${k.city}`, () => {
    const [lon, lat] = wgs84ToGcj02(...k.wgs);
    assert.ok(Math.abs(lon - k.gcj[0]) < 1e-9, `lon ${lon}, want ${k.gcj[0]}`);
    assert.ok(Math.abs(lat - k.gcj[1]) < 1e-9, `lat ${lat}, want ${k.gcj[1]}`);
  });
}

// Metres per degree at a latitude (spherical, good to 0.5% for a check).
const mPerDegLat = 111320;
const mPerDegLon = (lat) => 111320 * Math.cos((lat * Math.PI) / 180);

test("wgs84ToGcj02 at Xingyang: ~600 m east, ~90 m south", () => {
  const wgs = [113.3835, 34.7874]; // 荥阳市 city centre
  const [lon, lat] = wgs84ToGcj02(...wgs);
  const east = (lon - wgs[0]) * mPerDegLon(wgs[1]);
  const north = (lat - wgs[1]) * mPerDegLat;
  assert.ok(east > 550 && east < 650, `east shift ${east.toFixed(1)} m`);
  assert.ok(north < -60 && north > -120, `north shift ${north.toFixed(1)} m`);
});

test("wgs84ToGcj02 agrees with the seed data's own GCJ-02 source point", () => {
  // data/seed/depots.geojson depot-yulong-feilong: GCJ-02 113.43492,34.759166
  // from Amap data, converted to WGS-84 113.4284,34.76 (4 decimals, ±6 m).
  const [lon, lat] = wgs84ToGcj02(113.4284, 34.76);
  const dx = (lon - 113.43492) * mPerDegLon(34.76);
  const dy = (lat - 34.759166) * mPerDegLat;
  assert.ok(Math.hypot(dx, dy) < 10, `off by ${Math.hypot(dx, dy).toFixed(1)} m`);
});

test("outside China the transform is the identity", () => {
  assert.equal(outOfChina(13.4, 52.5), true);
  assert.deepEqual(wgs84ToGcj02(13.4, 52.5), [13.4, 52.5]);
});

test("projector picks the transform by datum", () => {
  assert.deepEqual(projector("wgs84")(113.38, 34.79), [113.38, 34.79]);
  assert.deepEqual(projector("gcj02")(113.38, 34.79), wgs84ToGcj02(113.38, 34.79));
});
