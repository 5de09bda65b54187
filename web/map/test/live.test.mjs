// Unit tests of the coalescing of live updates (node --test): a burst of
// events becomes one batch with one item per feature; a lone event waits
// DEBOUNCE_MS; a long burst is cut at MAX_WAIT_MS; one flush at a time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Batcher, DEBOUNCE_MS, MAX_WAIT_MS } from "../src/live.js";

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
