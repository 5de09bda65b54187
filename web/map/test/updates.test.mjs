// Unit tests of how live changes are applied (node --test), with a fake
// registry and a fake API: a change refetches its feature; a delete or a
// 404 removes it; an unchanged answer is no change; many changes to one
// layer, or a reset, reload the layer; a failed fetch is tried again,
// MAX_TRIES times; the rooms hear of each batch's changes once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createUpdater, BULK, MAX_TRIES, RETRY_MS } from "../src/updates.js";
import { RESET } from "../src/live.js";

// registry is the part of ui/features.js's Registry the updater uses.
function registry(initial = {}) {
  const entries = new Map();
  const r = {
    get: (c, id) => entries.get(`${c}/${id}`),
    all: (c) => [...entries.values()].filter((e) => !c || e.collection === c),
    upsert(c, f) {
      const key = `${c}/${f.id}`;
      const e = entries.get(key) ?? { key, collection: c, id: String(f.id) };
      e.feature = f;
      entries.set(key, e);
      return e;
    },
    remove: (c, id) => entries.delete(`${c}/${id}`),
  };
  for (const [c, fs] of Object.entries(initial)) for (const f of fs) r.upsert(c, f);
  return r;
}

const wp = (id, status) => ({ type: "Feature", id, geometry: null, properties: { status } });

// server is a fake API over collections of features; fail names what fails.
function server(data, fail = {}) {
  const calls = [];
  return {
    calls,
    async feature(c, id) {
      calls.push(`feature ${c}/${id}`);
      if (fail.feature) throw new Error("network down");
      return (data[c] || []).find((f) => f.id === id) ?? null;
    },
    async items(c) {
      calls.push(`items ${c}`);
      if (fail.items) throw new Error("network down");
      return data[c] || [];
    },
  };
}

function updater(reg, api, extra = {}) {
  const heard = [];
  const requeued = [];
  const apply = createUpdater({
    collections: ["waterlogging_points", "depots"],
    registry: reg,
    feature: api.feature,
    items: api.items,
    requeue: (item, ms) => requeued.push({ item, ms }),
    onChanges: (list) => heard.push(list.map((x) => `${x.removed ? "-" : "+"}${x.entry.key}`)),
    warn: () => {},
    ...extra,
  });
  return { apply, heard, requeued };
}

const item = (collection, id, action = "observe", tries = 0) => ({ collection, id, action, tries });

test("a change refetches the feature and the rooms hear of it once", async () => {
  const reg = registry({ waterlogging_points: [wp("a", "clear"), wp("b", "clear")] });
  const api = server({ waterlogging_points: [wp("a", "closed"), wp("b", "clear"), wp("c", "ponding")] });
  const u = updater(reg, api);
  await u.apply([item("waterlogging_points", "a"), item("waterlogging_points", "b"), item("waterlogging_points", "c", "create")]);
  assert.equal(reg.get("waterlogging_points", "a").feature.properties.status, "closed");
  assert.equal(reg.get("waterlogging_points", "c").feature.properties.status, "ponding");
  // b came back unchanged: no change to report.
  assert.deepEqual(u.heard, [["+waterlogging_points/a", "+waterlogging_points/c"]]);
  assert.deepEqual(api.calls.sort(), ["feature waterlogging_points/a", "feature waterlogging_points/b", "feature waterlogging_points/c"]);
});

test("a delete removes without asking; a 404 removes too", async () => {
  const reg = registry({ depots: [{ id: "d1" }, { id: "d2" }] });
  const api = server({ depots: [] });
  const u = updater(reg, api);
  await u.apply([item("depots", "d1", "delete"), item("depots", "d2", "patch")]);
  assert.equal(reg.all("depots").length, 0);
  assert.deepEqual(api.calls, ["feature depots/d2"]);
  assert.deepEqual(u.heard, [["-depots/d1", "-depots/d2"]]);
});

test("a batch with nothing changed tells no one", async () => {
  const reg = registry({ waterlogging_points: [wp("a", "clear")] });
  const u = updater(reg, server({ waterlogging_points: [wp("a", "clear")] }));
  await u.apply([item("waterlogging_points", "a"), item("depots", "gone", "delete")]);
  assert.deepEqual(u.heard, []);
});

test(`more than ${BULK} changes to one layer reload it in one request`, async () => {
  const reg = registry({ waterlogging_points: [wp("old", "clear")] });
  const fresh = Array.from({ length: BULK + 1 }, (_, i) => wp(`p${i}`, "ponding"));
  const api = server({ waterlogging_points: fresh, depots: [{ id: "d1", v: 2 }] });
  const u = updater(reg, api);
  await u.apply([...fresh.map((f) => item("waterlogging_points", f.id, "import")), item("depots", "d1", "patch")]);
  assert.deepEqual(api.calls.sort(), ["feature depots/d1", "items waterlogging_points"]);
  assert.equal(reg.all("waterlogging_points").length, BULK + 1);
  assert.equal(reg.get("waterlogging_points", "old"), undefined);
  assert.equal(u.heard.length, 1);
  assert.ok(u.heard[0].includes("-waterlogging_points/old"));
});

test("a reset reloads every layer", async () => {
  const reg = registry({ waterlogging_points: [wp("a", "clear")], depots: [{ id: "d1" }] });
  const api = server({ waterlogging_points: [wp("a", "closed")], depots: [{ id: "d1" }, { id: "d2" }] });
  const u = updater(reg, api);
  await u.apply([item("waterlogging_points", "x"), { key: RESET }]);
  assert.deepEqual(api.calls.sort(), ["items depots", "items waterlogging_points"]);
  assert.deepEqual(u.heard, [["+waterlogging_points/a", "+depots/d2"]]);
});

test("a failed refetch is tried again later, at most MAX_TRIES times", async () => {
  const reg = registry({ waterlogging_points: [wp("a", "clear")] });
  const u = updater(reg, server({}, { feature: true }));
  await u.apply([item("waterlogging_points", "a")]);
  assert.deepEqual(u.requeued, [{ item: item("waterlogging_points", "a"), ms: RETRY_MS }]);
  await u.apply([item("waterlogging_points", "a", "observe", MAX_TRIES)]);
  assert.equal(u.requeued.length, 1, "given up after MAX_TRIES");
  assert.deepEqual(u.heard, []);
});

test("a failed reload asks for a reset later", async () => {
  const reg = registry();
  const u = updater(reg, server({}, { items: true }));
  await u.apply([{ key: RESET, tries: 2 }]);
  assert.deepEqual(u.requeued, [{ item: { key: RESET, tries: 2 }, ms: RETRY_MS }]);
  await u.apply([{ key: RESET, tries: MAX_TRIES }]);
  assert.equal(u.requeued.length, 1);
});

test("the batch waits for the rooms to follow", async () => {
  const reg = registry();
  let done = false;
  const u = updater(reg, server({ depots: [{ id: "d1" }] }), {
    onChanges: async () => {
      await new Promise((r) => setTimeout(r, 5));
      done = true;
    },
  });
  await u.apply([item("depots", "d1", "create")]);
  assert.equal(done, true);
});

test("readings and alerts refetch no items: the map draws no such layers", async () => {
  const reg = registry({ waterlogging_points: [wp("a", "clear")] });
  const api = server({ waterlogging_points: [wp("a", "closed")] });
  const u = updater(reg, api);
  const many = Array.from({ length: 40 }, (_, i) => item("readings", `g${i}`, "reading"));
  await u.apply([item("alerts", "x1", "open"), ...many, item("waterlogging_points", "a")]);
  assert.deepEqual(api.calls, ["feature waterlogging_points/a"]);
  assert.deepEqual(u.heard, [["+waterlogging_points/a"]]);
});
