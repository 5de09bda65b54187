// outbox is the queue of what a crew sends from the spot — status reports
// (with a photo), location proposals — kept on the phone until the server
// has answered for each, so that nothing is lost when the network is not
// there (三断) and nothing arrives twice when it comes back.
//
// Every item carries an Idempotency-Key made when the item was created
// (its id, a UUID), never when it is sent: a retry after a lost answer is
// the same request, and the server answers it with the first answer
// instead of writing again. An item leaves the queue only on a definitive
// answer: a success (已送达) or a refusal that sending again cannot change
// (被拒绝, with the server's reason, which reasons.js puts in the crew's
// words). A network error, a 5xx, a 409 with Retry-After (the same key
// still in flight), a 429, or a 401 (signed out: sign in and it goes)
// leave it waiting (待发送), to be tried again later. Items are sent
// one at a time in the order they were observed, and a transient failure
// stops the round, so that a later report never overtakes an earlier one.
//
// Pure: the storage (IndexedDB in the page and the service worker, a Map
// in node:test), the network and the clock are passed in.

/** The states of an item, as the map shows them: 待发送 / 发送中 / 已送达 / 被拒绝. */
export const PENDING = "pending";
export const SENDING = "sending";
export const DELIVERED = "delivered";
export const REJECTED = "rejected";

/** DELIVERED_KEEP_MS is how long a delivered item stays listed (as 已送达) before it is pruned. */
export const DELIVERED_KEEP_MS = 24 * 3600 * 1000;

/** backoff returns the wait before try n (1, 2, …): 2 s doubling to 60 s. */
export function backoff(n) {
  return Math.min(60000, 2000 * 2 ** Math.max(0, n - 1));
}

import { problemOf, serverWords } from "./problem.js";

/** order sorts items as they are sent: by observation time, then creation time, then id. */
export function order(a, b) {
  return (a.observedAt ?? "").localeCompare(b.observedAt ?? "") || a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * verdict classifies the server's answer to an item: "delivered" (2xx),
 * "rejected" (a refusal that will not change: 400, 403, 404, 410, 412,
 * 413, 415, 422, and a 409 without Retry-After: the data moved on, e.g.
 * the record was located meanwhile), "signin" (401: the session ended),
 * or "retry" (anything else: 408, 425, 429, 5xx, and a 409 with
 * Retry-After: the same key still in flight). retry: whether the answer
 * had a Retry-After.
 */
export function verdict(status, retry = false) {
  if (status >= 200 && status < 300) return DELIVERED;
  if (status === 401) return "signin";
  if (status === 409) return retry ? "retry" : REJECTED;
  if ([400, 403, 404, 405, 410, 412, 413, 415, 422].includes(status)) return REJECTED;
  return "retry";
}

/**
 * Outbox keeps the queue in store and sends it with send.
 *   store   { all() → items, put(item), delete(id) }  (promises)
 *   send(item) → { status, problem, retryAfter, body }  (a promise; it throws on a network error; problem: reasons.problemOf)
 *   now()   the clock, in ms
 *   onChange()  called after every change of an item
 *   lock(fn)    runs fn alone among the page and its service worker (navigator.locks); default: at once
 */
export class Outbox {
  constructor({ store, send, now = () => Date.now(), onChange = () => {}, lock = (fn) => fn() }) {
    Object.assign(this, { store, send, now, onChange, lock });
  }

  /**
   * add queues an item: { id (the Idempotency-Key), kind, collection,
   * featureId, name, body, photo?, observedAt }. It is stored first, then
   * sent at the next flush.
   */
  async add(item) {
    const it = { state: PENDING, tries: 0, nextTry: 0, error: null, status: null, created: this.now(), ...item };
    await this.store.put(it);
    this.onChange();
    return it;
  }

  /** items returns every item, in the order they are sent. */
  async items() {
    return (await this.store.all()).sort(order);
  }

  /** waiting returns how many items have had no definitive answer. */
  async waiting() {
    return (await this.store.all()).filter((it) => it.state === PENDING || it.state === SENDING).length;
  }

  /**
   * flush sends the waiting items, in order, one at a time, until one
   * fails for a reason that may pass (then it waits its backoff, and the
   * round ends). force sends even those still in their backoff. It
   * returns { sent, rejected, waiting, signin }.
   */
  flush({ force = false } = {}) {
    return this.lock(() => this.round(force));
  }

  async round(force) {
    const out = { sent: 0, rejected: 0, waiting: 0, signin: false };
    await this.prune();
    const todo = (await this.items()).filter((it) => it.state === PENDING || it.state === SENDING);
    for (let i = 0; i < todo.length; i++) {
      const it = todo[i];
      if (!force && it.nextTry > this.now()) {
        out.waiting = todo.length - i;
        break;
      }
      it.state = SENDING;
      await this.store.put(it);
      this.onChange();
      let answer;
      try {
        answer = await this.send(it);
      } catch (err) {
        answer = { status: 0, error: err?.message ?? String(err) };
      }
      const v = answer.status ? verdict(answer.status, answer.retryAfter > 0) : "retry";
      it.status = answer.status || null;
      // What the server said, in parts (reasons.js words it for the crew),
      // and in its own words.
      it.problem = answer.status && v !== DELIVERED ? (answer.problem ?? problemOf(answer.status, null, answer.retryAfter)) : null;
      const words = it.problem ? serverWords(it.problem) || `HTTP ${answer.status}` : answer.error || null;
      it.tries++;
      if (v === DELIVERED) {
        Object.assign(it, { state: DELIVERED, delivered: this.now(), error: null, photo: null, response: answer.body ?? null });
        out.sent++;
      } else if (v === REJECTED) {
        Object.assign(it, { state: REJECTED, error: words, photo: null });
        out.rejected++;
      } else {
        const wait = answer.retryAfter > 0 ? answer.retryAfter * 1000 : backoff(it.tries);
        Object.assign(it, { state: PENDING, nextTry: this.now() + wait, error: words });
        out.signin = v === "signin";
      }
      await this.store.put(it);
      this.onChange();
      if (it.state === PENDING) {
        out.waiting = todo.length - i;
        break;
      }
    }
    return out;
  }

  /** dismiss takes a delivered or rejected item off the list. */
  async dismiss(id) {
    const it = (await this.store.all()).find((x) => x.id === id);
    if (it && (it.state === DELIVERED || it.state === REJECTED)) {
      await this.store.delete(id);
      this.onChange();
    }
  }

  /** prune forgets delivered items older than DELIVERED_KEEP_MS. */
  async prune() {
    for (const it of await this.store.all()) {
      if (it.state === DELIVERED && this.now() - it.delivered > DELIVERED_KEEP_MS) await this.store.delete(it.id);
    }
  }
}

/**
 * request returns the HTTP request that sends item: [url, init]. A
 * report with a photo is a form (the report's JSON and the JPEG); others
 * are JSON. The Idempotency-Key is the item's id, as the draft's quoted
 * string. FormData is passed in (the page and the service worker have
 * one; node:test a fake).
 */
export function request(item, { FormData = globalThis.FormData } = {}) {
  const headers = { "Idempotency-Key": `"${item.id}"`, Accept: "application/json" };
  const c = encodeURIComponent(item.collection);
  const id = encodeURIComponent(item.featureId);
  const url = `/collections/${c}/items/${id}/${{ proposal: "location-proposals", reading: "readings" }[item.kind] ?? "observations"}`;
  let body;
  if (item.photo) {
    body = new FormData();
    body.append("report", JSON.stringify(item.body));
    body.append("photo", item.photo, "photo.jpg");
  } else {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(item.body);
  }
  return [url, { method: "POST", headers, body, credentials: "same-origin" }];
}

/** sendWith returns a send function for Outbox over fetch: the status, the problem in parts (problemOf), Retry-After, the body of a success. */
export function sendWith(fetchFn = (...a) => fetch(...a), opts) {
  return async (item) => {
    const [url, init] = request(item, opts);
    const res = await fetchFn(url, init);
    let body = null;
    try {
      body = await res.json();
    } catch {
      /* no JSON body */
    }
    const retryAfter = Number(res.headers.get("Retry-After")) || 0;
    return { status: res.status, problem: res.ok ? null : problemOf(res.status, body, retryAfter), retryAfter, body: res.ok ? body : null };
  };
}

/** uuid returns a random UUID v4 (crypto.randomUUID where it exists: a secure context). */
export function uuid(crypto = globalThis.crypto) {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
