// outboxdb opens the offline queue (outbox.js) on IndexedDB, for the page
// and for the service worker alike: one database, one lock (Web Locks) so
// that the page, another tab and a Background Sync replay never send at
// the same time, and a BroadcastChannel that tells every page when an
// item changed (the service worker may deliver while the page is open).
import { openDB } from "idb";
import { Outbox, sendWith } from "./outbox.js";

const DB = "hazardmap";
const STORE = "outbox";
const CHANNEL = "hm-outbox";
/** SYNC_TAG is the Background Sync tag of the queue. */
export const SYNC_TAG = "hm-outbox";

/** openOutbox returns the Outbox over IndexedDB; onChange runs in every page after any change. */
export async function openOutbox({ onChange = () => {} } = {}) {
  const db = await openDB(DB, 1, {
    upgrade(d) {
      d.createObjectStore(STORE, { keyPath: "id" });
    },
  });
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
  if (channel) channel.onmessage = () => onChange();
  const store = {
    all: () => db.getAll(STORE),
    put: (it) => db.put(STORE, it),
    delete: (id) => db.delete(STORE, id),
  };
  const locks = globalThis.navigator?.locks;
  return new Outbox({
    store,
    send: sendWith(),
    lock: locks ? (fn) => locks.request(CHANNEL, fn) : (fn) => fn(),
    onChange: () => {
      onChange();
      channel?.postMessage("changed");
    },
  });
}
