// updates applies the batches of changes that live.js hands on: it
// refetches each changed feature through the API (which applies the
// privacy filter) and upserts it in the registry, or takes it away (a
// delete, or a 404); many changes to one layer, or a reset, reload the
// layer instead. Then it reports what changed, once, so the rooms that
// show those features can follow. Pure: the registry and the API are
// passed in, so node:test drives it with fakes.
import { RESET } from "./live.js";

/** BULK: more changes than this to one collection in one batch reload the collection in one request. */
export const BULK = 25;
/** A refetch that fails (the network) is tried again this many times, RETRY_MS apart. */
export const MAX_TRIES = 5;
export const RETRY_MS = 3000;

/**
 * createUpdater returns apply(items), the onBatch of live.connect.
 *   collections        the collections the map draws (a reset reloads them all)
 *   registry           get(c, id), all(c), upsert(c, feature) → entry, remove(c, id)
 *   feature(c, id)     the feature as the server shows it now, or null when it is gone
 *   items(c)           every feature of a collection
 *   requeue(item, ms)  try an item again later (live.js counts its tries)
 *   onChanges(list)    list: [{entry, collection, removed}], one per changed feature; awaited
 */
export function createUpdater({ collections, registry, feature, items, requeue, onChanges, warn = (...a) => console.warn(...a) }) {
  // put upserts a feature unless it is unchanged, and records the change.
  function put(collection, f, changed) {
    const e = registry.get(collection, f.id);
    if (e && JSON.stringify(e.feature) === JSON.stringify(f)) return;
    const entry = registry.upsert(collection, f);
    changed.set(entry.key, { entry, collection, removed: false });
  }

  // drop removes a feature, and records the change.
  function drop(collection, id, changed) {
    const e = registry.get(collection, id);
    if (!e) return;
    registry.remove(collection, id);
    changed.set(e.key, { entry: e, collection, removed: true });
  }

  async function refetch(it, changed) {
    if (it.action === "delete") {
      drop(it.collection, it.id, changed);
      return;
    }
    let f;
    try {
      f = await feature(it.collection, it.id);
    } catch (err) {
      warn(`live update of ${it.collection}/${it.id}:`, err.message);
      if ((it.tries ?? 0) < MAX_TRIES) requeue(it, RETRY_MS);
      return;
    }
    if (f) put(it.collection, f, changed);
    else drop(it.collection, it.id, changed);
  }

  // reload reloads a whole layer: what is new or changed is upserted,
  // what is gone is removed.
  async function reload(collection, changed) {
    const fs = await items(collection);
    const ids = new Set(fs.map((f) => String(f.id)));
    for (const f of fs) put(collection, f, changed);
    for (const e of registry.all(collection)) if (!ids.has(e.id)) drop(collection, e.id, changed);
  }

  return async function apply(batch) {
    const changed = new Map();
    const reset = batch.find((it) => it.key === RESET);
    try {
      if (reset) {
        await Promise.all(collections.map((c) => reload(c, changed)));
      } else {
        const byCollection = new Map();
        // Only the layers drawn: the changes of readings and alerts (or
        // of any collection the map does not draw) are no items to
        // refetch; their rooms follow them ("events").
        for (const it of batch.filter((x) => collections.includes(x.collection))) {
          if (!byCollection.has(it.collection)) byCollection.set(it.collection, []);
          byCollection.get(it.collection).push(it);
        }
        await Promise.all([...byCollection].map(([c, list]) => (list.length > BULK ? reload(c, changed) : Promise.all(list.map((it) => refetch(it, changed))))));
      }
    } catch (err) {
      // A layer failed to reload (the network): reload everything later.
      warn("live update: reload failed:", err.message);
      if ((reset?.tries ?? 0) < MAX_TRIES) requeue({ key: RESET, tries: reset?.tries ?? 0 }, RETRY_MS);
    }
    if (changed.size) await onChanges([...changed.values()]);
  };
}
