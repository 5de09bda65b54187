// Unit tests of the coalescing of live updates (node --test): a burst of
// events becomes one batch with one item per feature; a lone event waits
// DEBOUNCE_MS; a long burst is cut at MAX_WAIT_MS; one flush at a time.
// And of reconnecting: back online, or looked at again, the stream opens
// at once, resuming after the last event.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Batcher, DEBOUNCE_MS, MAX_WAIT_MS, connect } from "../src/live.js";

// clock is a fake time source with timers, advanced by hand.
function clock() {
  let now = 0;
  let timers = [];
  let next = 1;
  return {
    now: () => now,
    setTimer: (f, ms) => {
      const id = next++;
      timers.push({ id, at: now + ms, f });
      return id;
    },
    clearTimer: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (!t || t.at > end) break;
        timers.shift();
        now = t.at;
        t.f();
        await new Promise((r) => setImmediate(r)); // let the flush's promise settle
      }
      now = end;
    },
  };
}

function batcher(c, flush) {
  return new Batcher(flush, { now: c.now, setTimer: c.setTimer, clearTimer: c.clearTimer });
}

test("a lone event is flushed after the debounce", async () => {
  const c = clock();
  const got = [];
  const b = batcher(c, (items) => got.push({ at: c.now(), items }));
  b.add("wp/1", { id: "1", action: "observe" });
  await c.advance(DEBOUNCE_MS - 1);
  assert.equal(got.length, 0);
  await c.advance(1);
  assert.deepEqual(got, [{ at: DEBOUNCE_MS, items: [{ id: "1", action: "observe" }] }]);
});

test("many events for one feature become one item, the last", async () => {
  const c = clock();
  const got = [];
  const b = batcher(c, (items) => got.push(items));
  for (let i = 0; i < 5; i++) {
    b.add("wp/1", { id: "1", n: i });
    await c.advance(20);
  }
  b.add("depots/a", { id: "a", action: "delete" });
  await c.advance(DEBOUNCE_MS);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], [{ id: "1", n: 4 }, { id: "a", action: "delete" }]);
});

test("a burst never delays its first event more than MAX_WAIT_MS", async () => {
  const c = clock();
  const got = [];
  const b = batcher(c, (items) => got.push({ at: c.now(), n: items.length }));
  for (let i = 0; i < 40; i++) {
    b.add(`wp/${i}`, { id: String(i) });
    await c.advance(50); // an event every 50 ms: the debounce alone would never fire
  }
  await c.advance(1000);
  assert.equal(got[0].at, MAX_WAIT_MS);
  for (let i = 1; i < got.length; i++) assert.ok(got[i].at - got[i - 1].at <= MAX_WAIT_MS, JSON.stringify(got));
  assert.equal(got.reduce((s, g) => s + g.n, 0), 40);
});

test("one flush at a time; what arrives meanwhile follows at once if it waited long enough", async () => {
  const c = clock();
  const got = [];
  let release;
  const b = batcher(c, (items) => {
    got.push({ at: c.now(), ids: items.map((x) => x.id) });
    if (got.length === 1) return new Promise((r) => (release = r));
  });
  b.add("wp/1", { id: "1" });
  await c.advance(DEBOUNCE_MS);
  assert.equal(got.length, 1);
  b.add("wp/2", { id: "2" });
  await c.advance(MAX_WAIT_MS + 100); // the first flush is still running
  assert.equal(got.length, 1);
  release();
  await new Promise((r) => setImmediate(r));
  await c.advance(0);
  assert.equal(got.length, 2);
  assert.deepEqual(got[1].ids, ["2"]);
});

test("paused: events are kept until resume", async () => {
  const c = clock();
  const got = [];
  const b = batcher(c, (items) => got.push(items.map((x) => x.id)));
  b.pause();
  b.add("wp/1", { id: "1" });
  b.add("wp/1", { id: "1" });
  await c.advance(2000);
  assert.equal(got.length, 0);
  b.resume();
  await c.advance(0);
  assert.deepEqual(got, [["1"]]);
});

// FakeES stands in for EventSource: it records each stream opened and
// lets the test send its events.
class FakeES {
  static all = [];
  constructor(url) {
    Object.assign(this, { url, readyState: 0, listeners: {}, closed: false });
    FakeES.all.push(this);
  }
  addEventListener(type, f) {
    (this.listeners[type] ??= []).push(f);
  }
  emit(type, ev = {}) {
    if (type === "ready") this.readyState = 1;
    for (const f of this.listeners[type] ?? []) f(ev);
  }
  close() {
    this.readyState = 2;
    this.closed = true;
  }
}

test("back online, or looked at again while not live, the stream reopens at once after the last event", async () => {
  FakeES.all = [];
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: "visible" });
  const statuses = [];
  const s = connect({ ES: FakeES, win, doc, onBatch: () => {}, onStatus: (x) => statuses.push(x) });
  FakeES.all[0].emit("ready", { lastEventId: "7" });
  assert.equal(s.status(), "live");
  // The network comes back (it went while the stream looked live).
  win.dispatchEvent(new Event("online"));
  assert.equal(FakeES.all.length, 2);
  assert.ok(FakeES.all[0].closed, "the old stream is dropped");
  assert.equal(FakeES.all[1].url, "/events?after=7", "resumed after the last event");
  assert.equal(s.status(), "reconnecting");
  FakeES.all[1].emit("ready", { lastEventId: "7" });
  assert.deepEqual(statuses, ["live", "reconnecting", "live"], "live again: the page hears it (the offline banner goes)");
  // Looked at again while live: nothing to do.
  doc.dispatchEvent(new Event("visibilitychange"));
  assert.equal(FakeES.all.length, 2);
  // The server refused a reconnection (CLOSED): a pause begins…
  FakeES.all[1].emit("observe", { lastEventId: "9", data: JSON.stringify({ collection: "waterlogging_points", id: "wp-1" }) });
  FakeES.all[1].readyState = 2;
  FakeES.all[1].emit("error");
  assert.equal(s.status(), "reconnecting");
  // …but the crew opens the map again: no waiting it out.
  doc.visibilityState = "hidden";
  doc.dispatchEvent(new Event("visibilitychange"));
  assert.equal(FakeES.all.length, 2, "hidden: nothing");
  doc.visibilityState = "visible";
  doc.dispatchEvent(new Event("visibilitychange"));
  assert.equal(FakeES.all.length, 3);
  assert.equal(FakeES.all[2].url, "/events?after=9");
  FakeES.all[2].emit("ready", { lastEventId: "9" });
  assert.equal(s.status(), "live");
  // The pause's timer was cleared: no fourth stream later.
  await new Promise((r) => setTimeout(r, 2100));
  assert.equal(FakeES.all.length, 3);
});
