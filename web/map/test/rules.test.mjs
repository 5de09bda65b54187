// What the phone refuses before anything enters the queue: the server's
// rules (GB 51222, the depth, a gauge's readable range, the note), so that
// a report never waits through an outage only to be refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkReport, checkReading, statusConflict, number, readableRange, MAX_LEVEL } from "../src/rules.js";

const keys = (ps) => ps.map((p) => p.key);

test("number reads what an input holds", () => {
  assert.equal(number("40"), 40);
  assert.equal(number(" 12.5 "), 12.5);
  assert.equal(number(0), 0);
  for (const v of ["", "  ", null, undefined, "abc", "1,5", NaN, Infinity]) assert.equal(number(v), null, String(v));
});

test("GB 51222: clear over 15 cm and ponding at 0 cm are refused, each with the status that fixes it", () => {
  assert.deepEqual(statusConflict("clear", 40), { key: "clearTooDeep", fix: "ponding" });
  assert.equal(statusConflict("clear", 15), null, "15 cm is still clear");
  assert.deepEqual(statusConflict("clear", 15.5), { key: "clearTooDeep", fix: "ponding" });
  assert.deepEqual(statusConflict("ponding", 0), { key: "pondingZero", fix: "clear" });
  assert.equal(statusConflict("ponding", 1), null);
  assert.equal(statusConflict("closed", 0), null, "closing a road is the crew's call at any depth");
  assert.equal(statusConflict("closed", 300), null);
  assert.equal(statusConflict("clear", null), null);
});

test("a report form: status, depth and note as the server checks them", () => {
  assert.deepEqual(checkReport({ status: "ponding", depth: "35", note: "" }), []);
  assert.deepEqual(checkReport({ status: "clear", depth: "40", note: "" }), [{ field: "status", key: "clearTooDeep", fix: "ponding" }]);
  assert.deepEqual(checkReport({ status: "ponding", depth: "0" }), [{ field: "status", key: "pondingZero", fix: "clear" }]);
  assert.deepEqual(keys(checkReport({ status: null, depth: "" })), ["needStatus", "needDepth"]);
  assert.deepEqual(keys(checkReport({ status: "closed", depth: "-1" })), ["depthRange"]);
  assert.deepEqual(keys(checkReport({ status: "closed", depth: "501" })), ["depthRange"]);
  assert.deepEqual(keys(checkReport({ status: "closed", depth: "500" })), []);
  assert.deepEqual(keys(checkReport({ status: "closed", depth: "e" })), ["needDepth"]);
  assert.deepEqual(keys(checkReport({ status: "closed", depth: "20", note: "积".repeat(501) })), ["noteTooLong"]);
  assert.deepEqual(keys(checkReport({ status: "closed", depth: "20", note: "😀".repeat(500) })), [], "characters, not UTF-16 units");
  assert.deepEqual(keys(checkReport({ status: "closed", depth: "20", note: "a\u0000b" })), ["noteBad"]);
});

test("a reading: a level the gauge can read, where the map knows its range", () => {
  const g = { level_min: 140, level_max: 155 };
  assert.deepEqual(readableRange(g), [140, 155]);
  assert.deepEqual(checkReading({ level: "149.65" }, g), []);
  assert.deepEqual(keys(checkReading({ level: "" }, g)), ["needLevel"]);
  assert.deepEqual(keys(checkReading({ level: "abc" }, g)), ["needLevel"]);
  assert.deepEqual(checkReading({ level: "139.9" }, g), [{ field: "level", key: "levelRange", range: [140, 155] }]);
  // Typed in centimetres: the level in metres is offered.
  assert.deepEqual(checkReading({ level: "14965" }, g), [{ field: "level", key: "levelRange", range: [140, 155], fix: 149.65 }]);
  // With no range known, any possible level goes, and nothing is guessed.
  assert.deepEqual(checkReading({ level: "14965" }, {}), [{ field: "level", key: "levelImpossible", range: [-500, MAX_LEVEL] }]);
  assert.deepEqual(checkReading({ level: "12" }, { level_min: null }), []);
  assert.deepEqual(keys(checkReading({ level: "150", note: "x".repeat(501) }, g)), ["noteTooLong"]);
});
