// Unit tests of Latest, which keeps one request of a kind in flight
// (node --test): a newer request aborts the older one's fetch, and code
// after an await sees its signal aborted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Latest } from "../src/latest.js";

test("next aborts the request before and returns a live signal", () => {
  const requests = new Latest();
  const first = requests.next();
  assert.equal(first.aborted, false);
  const second = requests.next();
  assert.equal(first.aborted, true);
  assert.equal(second.aborted, false);
  requests.cancel();
  assert.equal(second.aborted, true);
  requests.cancel(); // nothing in flight: nothing to do
});

// answer is a request that settles when told to, or rejects with an
// AbortError when its signal aborts, as fetch does.
function answer(signal) {
  let settle;
  const p = new Promise((resolve, reject) => {
    settle = resolve;
    signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
  });
  return { p, settle };
}

test("only the latest answer lands: an older one is aborted in flight, or ignored once answered", async () => {
  const requests = new Latest();
  const shown = [];
  async function ask(name, req, signal) {
    try {
      const v = await req.p;
      if (signal.aborted) return;
      shown.push(`${name}: ${v}`);
    } catch (err) {
      if (signal.aborted) return;
      shown.push(`${name} failed: ${err.message}`);
    }
  }
  const s1 = requests.next();
  const r1 = answer(s1);
  const done1 = ask("3 km", r1, s1);
  const s2 = requests.next(); // the crew tapped 5 km before 3 km came back
  const r2 = answer(s2);
  const done2 = ask("5 km", r2, s2);
  r2.settle("12 beyond");
  await Promise.all([done1, done2]);
  assert.deepEqual(shown, ["5 km: 12 beyond"]);

  // An answer already in hand when a newer request starts is dropped too.
  const s3 = requests.next();
  const r3 = answer(s3);
  r3.settle("old");
  const done3 = ask("1 km", r3, s3);
  requests.next();
  await done3;
  assert.deepEqual(shown, ["5 km: 12 beyond"]);
});
