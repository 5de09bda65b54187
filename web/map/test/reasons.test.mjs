// Why the server refused a crew's report, reading, proposal or
// acknowledgement, in Chinese first: from the status, the fields the
// problem names and the kind of route, never from the server's English.
import { test } from "node:test";
import assert from "node:assert/strict";
import { problemOf, serverWords } from "../src/problem.js";
import { reasons, explain } from "../src/reasons.js";

// The problem bodies as the server sends them (api/problem.go, geo/observation.go).
const clear40 = problemOf(400, {
  type: "about:blank",
  title: "Bad Request",
  status: 400,
  detail: "invalid observation",
  errors: [{ field: "status", detail: "clear contradicts a depth above 15 cm: GB 51222-2017 counts water deeper than 15 cm on a carriageway as waterlogging; report ponding or closed" }],
});

test("problemOf keeps the parts; serverWords the server's own words", () => {
  assert.equal(clear40.status, 400);
  assert.deepEqual(clear40.fields.map((f) => f.field), ["status"]);
  assert.equal(clear40.retry, false);
  assert.match(serverWords(clear40), /^invalid observation — status: clear contradicts/);
  assert.deepEqual(problemOf(503, null, 5), { status: 503, title: "", detail: "", fields: [], retry: true });
  assert.deepEqual(problemOf(400, { errors: [null, { field: 3 }, { field: "note" }] }).fields, [{ field: "note", detail: "" }], "what is not a field error is ignored");
  assert.equal(serverWords(problemOf(500, null)), "");
});

test("a refused report says which GB 51222 rule, from what was sent", () => {
  assert.deepEqual(reasons({ kind: "report", problem: clear40, request: { status: "clear", depth_cm: 40 } }), ["clearTooDeep"]);
  assert.deepEqual(reasons({ kind: "report", problem: clear40, request: { status: "ponding", depth_cm: 0 } }), ["pondingZero"]);
  assert.deepEqual(reasons({ kind: "report", problem: clear40, request: { status: "flooded", depth_cm: 4 } }), ["status"]);
  const { text, detail } = explain({ kind: "report", problem: clear40, request: { status: "clear", depth_cm: 40 } });
  assert.match(text, /^水深超过 15 厘米不能报“畅通”/);
  assert.match(text, /积水或封闭/);
  assert.match(detail, /GB 51222-2017/, "the server's English stays as the detail");
  assert.match(explain({ kind: "report", problem: clear40, request: { status: "clear", depth_cm: 40 }, lang: "en" }).text, /^Over 15 cm cannot be “clear”/);
});

test("fields name the reason, two at most, by kind", () => {
  const p = (...fields) => problemOf(400, { errors: fields.map((field) => ({ field, detail: "x" })) });
  assert.deepEqual(reasons({ kind: "report", problem: p("depth_cm", "note", "position") }), ["depth", "note"]);
  assert.deepEqual(reasons({ kind: "report", problem: p("photo") }), ["photoBad"]);
  assert.deepEqual(reasons({ kind: "report", problem: p("observed_at") }), ["observedAt"]);
  assert.deepEqual(reasons({ kind: "reading", problem: p("level") }), ["level"]);
  assert.deepEqual(reasons({ kind: "reading", problem: p("at") }), ["readingAt"]);
  assert.deepEqual(reasons({ kind: "proposal", problem: p("method") }), ["method"]);
  assert.deepEqual(reasons({ kind: "proposal", problem: p("accuracy_m") }), ["accuracy"]);
  assert.deepEqual(reasons({ kind: "acknowledge", problem: p("note") }), ["alertNote"]);
  assert.deepEqual(reasons({ kind: "report", problem: p("body", "Content-Type") }), ["format"]);
  assert.deepEqual(reasons({ kind: "report", problem: p("mystery") }), ["invalid"]);
  assert.deepEqual(reasons({ kind: "report", problem: problemOf(400, { detail: "bad" }) }), ["invalid"]);
  assert.equal(explain({ kind: "report", problem: p("depth_cm", "note") }).text, "水深须在 0–500 厘米之间；备注过长（最多 500 字）或含无效字符");
});

test("every status class has a Chinese reason", () => {
  const zh = (status, kind = "report", retry = 0) => explain({ kind, problem: problemOf(status, { title: "x" }, retry) }).text;
  assert.equal(zh(401), "登录已失效，请重新登录（登录后自动发送）");
  assert.match(zh(403), /^无权限/);
  assert.match(zh(404), /积水点已不存在/);
  assert.match(zh(404, "reading"), /水位站已不存在/);
  assert.match(zh(404, "acknowledge"), /告警已不存在/);
  assert.match(zh(409, "report", 2), /仍在处理中/, "the same key in flight");
  assert.match(zh(409, "proposal"), /已有准确位置/, "located meanwhile");
  assert.match(zh(409, "acknowledge"), /已被他人处理/);
  assert.match(zh(409, "resolve"), /已被他人处理/);
  assert.match(zh(412), /^数据已被他人更新/);
  assert.match(zh(413), /^照片太大/);
  assert.match(zh(413, "reading"), /^内容太大/);
  assert.match(zh(415), /格式/);
  assert.match(zh(422), /发送编号/);
  assert.match(zh(429), /^发送太频繁/);
  for (const s of [500, 502, 503, 504]) assert.match(zh(s), /^服务器暂时不可用/, String(s));
  assert.match(zh(418), /^服务器拒绝了/);
  for (const s of [400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 500, 418]) {
    assert.doesNotMatch(zh(s), /[A-Za-z]{3}/, `${s}: no English in the Chinese reason`);
    assert.ok(explain({ kind: "report", problem: problemOf(s, null), lang: "en" }).text.length > 5, `${s}: an English reason too`);
  }
});

test("a dead network, and an item queued by an older map (no problem kept)", () => {
  assert.deepEqual(explain({ kind: "report", problem: null, status: 0, error: "Failed to fetch" }), { text: "网络不通，恢复后自动发送", detail: "" });
  assert.deepEqual(explain({ kind: "report", status: 400, error: "invalid observation — status: …" }), { text: "内容有误，服务器未接受", detail: "invalid observation — status: …" });
});
