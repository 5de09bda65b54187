// Tests of files.js: tel: links, import media types, report order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { telHref, importType, reportRows, canApply, formatLabel, XLSX, CSV } from "../src/files.js";
import { isData } from "../src/caches.js";

test("telHref dials what the server accepts as a phone number (geo/phone.go)", () => {
  for (const [phone, want] of [
    ["13912345678", "tel:13912345678"],
    ["139 1234 5678", "tel:13912345678"],
    ["+86 138 0013 8000", "tel:+8613800138000"],
    ["0371-86572555", "tel:037186572555"],
    ["(0371)86572555", "tel:037186572555"],
    ["0371-86572555转123", "tel:037186572555;ext=123"],
    ["0371-86572555 ext. 12", "tel:037186572555;ext=12"],
    ["0371-86572555-123", "tel:037186572555;ext=123"],
    ["86572555", "tel:86572555"],
    ["４００-８８８-８８８８", "tel:4008888888"],
    ["０３７１－８６５７２５５５", "tel:037186572555"],
    ["", null],
    [null, null],
    ["12", null],
  ]) {
    assert.equal(telHref(phone), want, `telHref(${JSON.stringify(phone)})`);
  }
});

test("importType sends xlsx as xlsx, anything else as CSV, and refuses an old .xls", () => {
  assert.equal(importType("depots.XLSX"), XLSX);
  assert.equal(importType("积水点.csv"), CSV);
  assert.equal(importType("export.txt"), CSV);
  assert.equal(importType("old.xls"), null);
  assert.equal(formatLabel(XLSX), "Excel");
  assert.equal(formatLabel("application/gpx+xml"), "GPX");
});

test("reportRows puts what needs the planner's eye first", () => {
  const rows = reportRows({ rows: [
    { row: 2, action: "unchanged" }, { row: 3, action: "update" }, { row: 4, action: "invalid" },
    { row: 5, action: "stale" }, { row: 6, action: "create" }, { row: 7, action: "invalid" },
  ] });
  assert.deepEqual(rows.map((r) => r.row), [4, 7, 5, 6, 3, 2]);
  assert.deepEqual(reportRows(null), []);
});

test("canApply needs a write and, unless good rows only, no invalid row", () => {
  assert.equal(canApply({ counts: { create: 1, update: 0, invalid: 0 } }, false), true);
  assert.equal(canApply({ counts: { create: 0, update: 0, stale: 3, invalid: 0 } }, false), false);
  assert.equal(canApply({ counts: { update: 2, invalid: 1 } }, false), false);
  assert.equal(canApply({ counts: { update: 2, invalid: 1 } }, true), true);
  assert.equal(canApply(null, true), false);
});

test("files are downloads, not data kept offline", () => {
  assert.equal(isData("/collections/depots/items", "?limit=1000"), true);
  assert.equal(isData("/collections/depots/items", "?f=xlsx"), false);
  assert.equal(isData("/collections/depots/items", "?limit=2&f=kml"), false);
  assert.equal(isData("/collections/depots/items", "?f=json"), true);
  assert.equal(isData("/collections/depots/items"), true);
});
