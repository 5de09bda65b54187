// Unit tests of the distance formatting the crews read (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { distance, setLang } from "../src/i18n.js";

globalThis.document = { documentElement: {} }; // setLang sets the page language

test("distance in Chinese", () => {
  setLang("zh");
  assert.equal(distance(850.4), "850 米");
  assert.equal(distance(1000), "1 公里");
  assert.equal(distance(2349), "2.3 公里");
  assert.equal(distance(15500), "15.5 公里");
  assert.equal(distance(null), "未知");
});

test("distance in English", () => {
  setLang("en");
  assert.equal(distance(3000), "3 km");
  assert.equal(distance(12480), "12.5 km");
  setLang("zh");
});
