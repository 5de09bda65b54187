// Unit tests of the gauges' reading for the map (node --test): flood-limit
// windows by China-time date (across the new year too), the marker's
// state, the chart's data and limit lines, and the split of live events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { monthDay, inWindow, floodLimitAt, levelState, chartData, limitLines, splitEvents } from "../src/water.js";

const gauge = {
  flood_limits: [
    { start: "06-01", end: "07-15", level: 150, period: "transition" },
    { start: "07-16", end: "08-31", level: 149.5, period: "main" },
    { start: "12-01", end: "02-28", level: 151, period: "post" },
  ],
  warning_level: 151.5,
  report_interval_min: 10,
};
const at = (s) => Date.parse(s);

test("month-days are China time", () => {
  assert.equal(monthDay(at("2024-08-17T16:30:00Z")), "08-18"); // 00:30 the next day in Xingyang
  assert.equal(monthDay(at("2024-08-18T15:59:00Z")), "08-18");
});

test("windows, ends included, across the new year", () => {
  assert.ok(inWindow("07-16", "07-16", "08-31"));
  assert.ok(inWindow("08-31", "07-16", "08-31"));
  assert.ok(!inWindow("09-01", "07-16", "08-31"));
  assert.ok(inWindow("01-10", "12-01", "02-28"));
  assert.ok(!inWindow("03-01", "12-01", "02-28"));
  assert.equal(floodLimitAt(gauge, at("2024-08-18T01:00:00Z")).level, 149.5);
  assert.equal(floodLimitAt(gauge, at("2024-07-15T01:00:00Z")).period, "transition");
  assert.equal(floodLimitAt(gauge, at("2024-10-01T01:00:00Z")), null);
});

test("the marker's state", () => {
  const now = at("2024-08-18T01:05:00Z");
  const r = (level, t = "2024-08-18T01:00:00Z") => ({ level, at: t });
  assert.equal(levelState(gauge, r(149.65), [], now), "over");
  assert.equal(levelState(gauge, r(149.4), [], now), "ok");
  assert.equal(levelState(gauge, r(149.4), [{ id: "a" }], now), "alert");
  assert.equal(levelState(gauge, null, [], now), "silent");
  assert.equal(levelState(gauge, r(149.4, "2024-08-18T00:40:00Z"), [], now), "silent");
  assert.equal(levelState({}, null, [], now), "none");
  assert.equal(levelState({}, r(3), [], now), "nolimit");
  assert.equal(levelState({ warning_level: 3 }, r(3.1), [], now), "over");
});

test("chart data and limit lines", () => {
  const rs = [
    { at: "2024-07-15T15:00:00Z", level: 149 },
    { at: "2024-07-15T17:00:00Z", level: 149.2 },
  ];
  const [xs, ys] = chartData(rs);
  assert.deepEqual(ys, [149, 149.2]);
  assert.equal(xs[0], at("2024-07-15T15:00:00Z") / 1000);
  const lines = limitLines(gauge, xs);
  assert.deepEqual(lines.map((l) => l.key), ["floodLimit", "warning_level"]);
  // 23:00 on 15 July is still the transition period; 01:00 on the 16th is the main one.
  assert.deepEqual(lines[0].values, [150, 149.5]);
  assert.deepEqual(limitLines({}, xs), []);
});

test("live events of readings and alerts are not layers", () => {
  const { water, rest } = splitEvents([
    { collection: "alerts", id: "a1", action: "open" },
    { collection: "gauges", id: "g", action: "patch" },
    { collection: "readings", id: "g", action: "reading" },
  ]);
  assert.deepEqual(water.map((x) => x.collection), ["alerts", "readings"]);
  assert.deepEqual(rest.map((x) => x.collection), ["gauges"]);
});
