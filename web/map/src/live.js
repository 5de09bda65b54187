// live keeps the map current. It subscribes to the server's change stream
// (GET /events, Server-Sent Events: `id:` the change's seq, `event:` the
// action, `data:` {collection, id, action, version, time}, never feature
// data) and hands the changes on in batches: many events for one feature
// within a burst become one refetch. The caller refetches each feature
// through the API (which applies the privacy filter) and updates its
// marker.
//
// Reconnecting: an EventSource reconnects by itself and sends
// Last-Event-ID, and the server replays what was missed (or sends
// `reset`: reload everything). When the server answers with an error
// instead, the EventSource gives up; we open a new one after a pause,
// resuming with ?after=<last id>. When the phone is back on the network
// (the browser's online event) or the map is looked at again
// (visibilitychange to visible) while not live, we do not wait for
// either: a new stream opens at once, resuming after the last event.

import { WATER_ACTIONS } from "./water.js";

/** The actions of change events (api/events.go). */
export const ACTIONS = ["create", "replace", "patch", "delete", "import", "seed", "observe", "revoke", "link", "propose", "accept", "reject", ...WATER_ACTIONS];

/** RESET is the key of a batch item that says: reload every layer. */
export const RESET = "*reset*";

/** Coalescing: wait DEBOUNCE_MS after the last event, never more than MAX_WAIT_MS after the first. */
export const DEBOUNCE_MS = 150;
export const MAX_WAIT_MS = 300;

/**
 * Batcher collects items by key (the last one for a key wins) and calls
 * flush(items) once a burst is over: DEBOUNCE_MS after the last add, but
 * no later than MAX_WAIT_MS after the first add of the batch. One flush
 * runs at a time (it may return a promise); items added meanwhile wait
 * for the next, which starts as soon as the running one ends if they have
 * already waited long enough. While paused it only collects.
 */
export class Batcher {
  constructor(flush, { debounce = DEBOUNCE_MS, maxWait = MAX_WAIT_MS, now = () => Date.now(), setTimer = (f, ms) => setTimeout(f, ms), clearTimer = (t) => clearTimeout(t) } = {}) {
    Object.assign(this, { flush, debounce, maxWait, now, setTimer, clearTimer });
    this.pending = new Map();
    this.first = 0; // when the oldest pending item arrived
    this.timer = null;
    this.busy = false;
    this.paused = false;
  }

  add(key, item) {
    if (this.pending.size === 0) this.first = this.now();
    this.pending.delete(key); // keep insertion order = order of the latest events
    this.pending.set(key, item);
    this.schedule();
  }

  /** clear drops the pending items (a reset supersedes them). */
  clear() {
    this.pending.clear();
    if (this.timer != null) this.clearTimer(this.timer);
    this.timer = null;
  }

  pause() {
    this.paused = true;
    if (this.timer != null) this.clearTimer(this.timer);
    this.timer = null;
  }

  resume() {
    this.paused = false;
    this.schedule();
  }

  schedule() {
    if (this.paused || this.busy || this.pending.size === 0) return;
    if (this.timer != null) this.clearTimer(this.timer);
    const wait = Math.max(0, Math.min(this.debounce, this.first + this.maxWait - this.now()));
    this.timer = this.setTimer(() => this.run(), wait);
  }

  async run() {
    this.timer = null;
    if (this.paused || this.busy || this.pending.size === 0) return;
    const items = [...this.pending.values()];
    this.pending.clear();
    this.busy = true;
    try {
      await this.flush(items);
    } catch (err) {
      console.warn("live update:", err?.message ?? err);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}

/**
 * connect subscribes to url and returns a handle:
 *   ready     a promise that settles on the first `ready` event or the first error
 *   resume()  start handing batches on (call it once the layers are loaded)
 *   requeue(item, ms)  try an item again later (its refetch failed)
 *   status()  "connecting" | "live" | "reconnecting"
 *   reconnect()  open a new stream now, resuming after the last event
 *   reset()   hand on a reset: every layer is reloaded
 * Options:
 *   onBatch(items)    items: [{collection, id, action, version, seq}] or {key: RESET}
 *   onStatus(status)
 *   wanted(collection)  whether the map draws it (others are ignored)
 *   loadStarted()     whether the layers have begun loading: a stream that
 *                     starts afresh (no resume point) after that reloads
 *                     them once, so no change between the load and the
 *                     stream is lost
 *   win, doc          where online and visibilitychange are heard (window, document)
 */
export function connect({ url = "/events", onBatch, onStatus = () => {}, wanted = () => true, loadStarted = () => false, ES = globalThis.EventSource, win = globalThis, doc = globalThis.document } = {}) {
  const batcher = new Batcher(onBatch);
  batcher.pause();
  let es = null;
  let lastId = null; // the id of the last event received: where to resume
  let status = "connecting";
  let retryTimer = null;
  let backoff = 2000;
  let settle;
  const ready = new Promise((r) => (settle = r));

  const setStatus = (s) => {
    if (s === status) return;
    status = s;
    onStatus(s);
  };

  const track = (ev) => {
    if (ev.lastEventId) lastId = ev.lastEventId;
  };

  function onChange(ev) {
    track(ev);
    let d;
    try {
      d = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!d || typeof d.collection !== "string" || d.id == null || !wanted(d.collection)) return;
    const item = { collection: d.collection, id: String(d.id), action: d.action || ev.type, version: d.version, seq: ev.lastEventId, tries: 0 };
    batcher.add(`${item.collection}/${item.id}`, item);
  }

  function reset() {
    batcher.clear();
    batcher.add(RESET, { key: RESET });
  }

  function open() {
    retryTimer = null;
    const resuming = lastId != null;
    es = new ES(resuming ? `${url}?after=${encodeURIComponent(lastId)}` : url);
    es.addEventListener("ready", (ev) => {
      // A stream that starts afresh after the layers began loading may
      // have missed changes in between: reload them. (A resumed stream,
      // including the EventSource's own reconnections with
      // Last-Event-ID, replays them.)
      const fresh = lastId == null;
      track(ev);
      backoff = 2000;
      setStatus("live");
      if (fresh && loadStarted()) reset();
      settle();
    });
    for (const a of ACTIONS) es.addEventListener(a, onChange);
    es.addEventListener("reset", (ev) => {
      track(ev);
      reset();
    });
    es.addEventListener("error", () => {
      settle();
      setStatus("reconnecting");
      if (es.readyState === 2 /* CLOSED: an error status, not a dropped line */) {
        es.close();
        scheduleOpen(backoff);
        backoff = Math.min(backoff * 2, 30000);
      }
    });
  }

  function scheduleOpen(ms) {
    if (retryTimer == null) retryTimer = setTimeout(open, ms);
  }

  // reconnect drops the stream there is (a dead one after the network
  // went, or one waiting out a pause) and opens a new one now. The bar
  // says 重连中 until the new one is ready: "live" then tells the page
  // (and its offline banner) that it is current again.
  function reconnect() {
    if (retryTimer != null) clearTimeout(retryTimer);
    retryTimer = null;
    es?.close();
    backoff = 2000;
    setStatus("reconnecting");
    open();
  }

  if (typeof ES !== "function") {
    settle();
    return { ready, resume() {}, requeue() {}, reconnect() {}, reset() {}, status: () => "off", lastId: () => null };
  }
  // Back on the network: whatever the stream was doing, it was doing it
  // over the network that went. Looked at again: reconnect unless live.
  win?.addEventListener?.("online", reconnect);
  doc?.addEventListener?.("visibilitychange", () => {
    if (doc.visibilityState === "visible" && status !== "live") reconnect();
  });
  open();
  return {
    ready,
    resume: () => batcher.resume(),
    requeue(item, ms) {
      setTimeout(() => {
        const key = item.key ?? `${item.collection}/${item.id}`;
        if (!batcher.pending.has(key)) batcher.add(key, { ...item, tries: (item.tries ?? 0) + 1 });
      }, ms);
    },
    status: () => status,
    lastId: () => lastId,
    reconnect,
    reset,
  };
}
