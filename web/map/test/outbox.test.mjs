// The offline queue: order, exactly-once keys, definitive answers only,
// backoff, and what a request looks like.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Outbox, PENDING, DELIVERED, REJECTED, verdict, backoff, request, sendWith, uuid } from "../src/outbox.js";
import { problemOf } from "../src/problem.js";

function memStore() {
  const m = new Map();
  return {
    m,
    all: async () => [...m.values()].map((x) => ({ ...x })),
    put: async (it) => void m.set(it.id, { ...it }),
    delete: async (id) => void m.delete(id),
  };
}

function report(id, observedAt, extra = {}) {
  return { id, kind: "report", collection: "waterlogging_points", featureId: "wp-1", name: "x", body: { depth_cm: 20, status: "ponding", observed_at: observedAt }, observedAt, ...extra };
}

test("items are sent in the order they were observed, each with its own key", async () => {
  const store = memStore();
  const seen = [];
  let t = 1000;
  const box = new Outbox({ store, now: () => t, send: async (it) => (seen.push(it.id), { status: 201 }) });
  await box.add(report("c", "2024-07-20T08:03:00Z"));
  await box.add(report("a", "2024-07-20T08:01:00Z"));
  await box.add(report("b", "2024-07-20T08:02:00Z"));
  const r = await box.flush();
  assert.deepEqual(seen, ["a", "b", "c"]);
  assert.equal(r.sent, 3);
  assert.equal(await box.waiting(), 0);
  assert.deepEqual((await box.items()).map((x) => x.state), [DELIVERED, DELIVERED, DELIVERED]);
});

test("a lost answer leaves the item waiting, the round stops, and the retry is the same request", async () => {
  const store = memStore();
  let t = 0;
  const calls = [];
  let fail = true;
  const box = new Outbox({
    store,
    now: () => t,
    send: async (it) => {
      calls.push(it.id);
      if (fail) throw new TypeError("Failed to fetch");
      return { status: 201 };
    },
  });
  await box.add(report("a", "2024-07-20T08:01:00Z"));
  await box.add(report("b", "2024-07-20T08:02:00Z"));
  let r = await box.flush();
  assert.deepEqual(calls, ["a"], "b must not overtake a");
  assert.equal(r.waiting, 2);
  const a = (await box.items())[0];
  assert.equal(a.state, PENDING);
  assert.equal(a.nextTry, backoff(1));
  // Not yet due: nothing is sent; forced: it is.
  r = await box.flush();
  assert.deepEqual(calls, ["a"]);
  fail = false;
  r = await box.flush({ force: true });
  assert.deepEqual(calls, ["a", "a", "b"]);
  assert.equal(await box.waiting(), 0);
});

test("only definitive answers take an item out of the queue", () => {
  for (const s of [200, 201, 204]) assert.equal(verdict(s), DELIVERED);
  for (const s of [400, 403, 404, 413, 415, 422]) assert.equal(verdict(s), REJECTED);
  for (const s of [408, 425, 429, 500, 502, 503]) assert.equal(verdict(s), "retry");
  assert.equal(verdict(401), "signin");
  // A 409 with Retry-After is the same key still in flight; without, the
  // data moved on (a proposal for a record located meanwhile).
  assert.equal(verdict(409, true), "retry");
  assert.equal(verdict(409), REJECTED);
});

test("a refusal is kept with the server's reason, in parts and in its words; 409 in flight and 401 wait", async () => {
  const store = memStore();
  const refusal = { title: "Bad Request", detail: "invalid observation", errors: [{ field: "status", detail: "clear contradicts a depth above 15 cm" }] };
  const answers = { a: { status: 400, problem: problemOf(400, refusal) }, b: { status: 409, retryAfter: 2 } };
  let t = 0;
  const box = new Outbox({ store, now: () => t, send: async (it) => answers[it.id] });
  await box.add(report("a", "2024-07-20T08:01:00Z"));
  await box.add(report("b", "2024-07-20T08:02:00Z"));
  await box.flush();
  const [a, b] = await box.items();
  assert.equal(a.state, REJECTED);
  assert.equal(a.error, "invalid observation — status: clear contradicts a depth above 15 cm");
  assert.deepEqual(a.problem.fields, [{ field: "status", detail: "clear contradicts a depth above 15 cm" }]);
  assert.equal(b.problem.retry, true);
  assert.equal(b.state, PENDING);
  assert.equal(b.nextTry, 2000, "Retry-After is honoured");
  answers.b = { status: 401, problem: problemOf(401, { title: "Unauthorized" }) };
  t = 5000;
  const r = await box.flush();
  assert.equal(r.signin, true);
  assert.equal((await box.items())[1].state, PENDING);
  await box.dismiss("a");
  assert.equal((await box.items()).length, 1);
});

test("delivered items drop their photo and are pruned after a day", async () => {
  const store = memStore();
  let t = 0;
  const box = new Outbox({ store, now: () => t, send: async () => ({ status: 201 }) });
  await box.add(report("a", "2024-07-20T08:01:00Z", { photo: { size: 3 } }));
  await box.flush();
  assert.equal((await box.items())[0].photo, null);
  t = 25 * 3600 * 1000;
  await box.flush();
  assert.equal((await box.items()).length, 0);
});

test("a request carries the key as a quoted string; a photo makes a form", async () => {
  class FakeForm {
    constructor() {
      this.parts = [];
    }
    append(...a) {
      this.parts.push(a);
    }
  }
  const [url, init] = request(report("8e03978e-40d5-43e8-bc93-6894a57f9324", "2024-07-20T08:01:00Z"), { FormData: FakeForm });
  assert.equal(url, "/collections/waterlogging_points/items/wp-1/observations");
  assert.equal(init.headers["Idempotency-Key"], '"8e03978e-40d5-43e8-bc93-6894a57f9324"');
  assert.equal(init.headers["Content-Type"], "application/json");
  assert.equal(JSON.parse(init.body).depth_cm, 20);
  const [, withPhoto] = request(report("k", "x", { photo: "blob" }), { FormData: FakeForm });
  assert.ok(withPhoto.body instanceof FakeForm);
  assert.equal(withPhoto.body.parts[0][0], "report");
  assert.equal(withPhoto.body.parts[1][0], "photo");
  assert.equal(withPhoto.headers["Content-Type"], undefined, "the browser sets the form's boundary");
  const [purl] = request({ ...report("p", "x"), kind: "proposal", collection: "depots", featureId: "d 1" });
  assert.equal(purl, "/collections/depots/items/d%201/location-proposals");
  const send = sendWith(async () => ({ status: 422, ok: false, headers: new Map([["Retry-After", "0"]]), json: async () => ({ detail: "used for a different request", errors: [{ field: "Idempotency-Key", detail: "x" }] }) }));
  const ans = await send(report("k", "x"));
  assert.equal(ans.status, 422);
  assert.deepEqual(ans.problem, { status: 422, title: "", detail: "used for a different request", fields: [{ field: "Idempotency-Key", detail: "x" }], retry: false });
});

test("uuid makes version-4 UUIDs with or without randomUUID", () => {
  const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(uuid(), re);
  assert.match(uuid({ getRandomValues: (b) => b.fill(7) }), re);
});
