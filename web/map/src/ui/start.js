// start loads the map and keeps it current: it subscribes to the live
// changes first and loads the layers once the stream has started (or
// after a short wait), so no change between the two is lost; then the
// context layers, the starting view and the depots' readiness; then it
// applies the changes that arrived meanwhile, and each batch as it comes.
import * as api from "../api.js";
import * as live from "../live.js";
import { t } from "../i18n.js";
import { createUpdater } from "../updates.js";
import { COLLECTIONS } from "./features.js";
import { loadReadiness } from "./readiness.js";
import { warm } from "./offline.js";
import { WATER_COLLECTIONS } from "../water.js";

/** STREAM_WAIT_MS is how long the first load waits for the stream to start. */
const STREAM_WAIT_MS = 500;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * start runs the page. rooms: context (installContext) and views
 * (createViews). The page's state is on <html data-state="loading|ready|error">
 * with data-located (markers drawn) and data-analysis, for tests.
 */
export async function start(app, { context, views }) {
  const { registry, sheet, chrome, hooks } = app;
  const root = document.documentElement;
  const located = () => String(registry.all().filter((e) => e.marker).length);
  sheet.start();
  root.dataset.state = "loading";
  const county = context.load().catch((err) => {
    console.warn("context layers:", err.message);
    return null;
  });

  // After each batch: the changed markers pulse, the readiness badges are
  // asked again when depots changed, then every room follows ("changes").
  const apply = createUpdater({
    collections: COLLECTIONS,
    registry,
    feature: api.feature,
    items: api.items,
    requeue: (item, ms) => stream.requeue(item, ms),
    onChanges: async (list) => {
      for (const x of list) if (!x.removed) registry.flash(x.entry);
      if (list.some((x) => x.collection === "depots")) await loadReadiness(app);
      await hooks.emit("changes", list);
      root.dataset.located = located();
      window.hazardmap.updates++;
    },
  });
  // Should the stream start only after the layers began loading, it
  // reloads them once (live.js).
  let loadStarted = false;
  const stream = live.connect({
    // Rooms that follow more than features (the review panel: proposals) hear every batch first.
    onBatch: async (items) => {
      await hooks.emit("events", items);
      return apply(items);
    },
    onStatus: (status) => {
      chrome.live(status);
      hooks.emit("live", status);
      // Live again (back on the network: live.js reconnects at once) while
      // the layers shown came from the phone's cache: reload them now; the
      // offline banner goes when they arrive (offline.js).
      if (status === "live" && app.offline?.stale) stream.reset();
    },
    // Readings and alerts too: their rooms hear them ("events"); the
    // updater refetches items of the drawn layers only.
    wanted: (c) => COLLECTIONS.includes(c) || WATER_COLLECTIONS.includes(c),
    loadStarted: () => loadStarted,
  });
  window.hazardmap.live = stream;
  chrome.live(stream.status());
  await Promise.race([stream.ready, sleep(STREAM_WAIT_MS)]);

  loadStarted = true;
  let failed = false;
  try {
    const lists = await Promise.all(COLLECTIONS.map((c) => api.items(c)));
    lists.forEach((fs, i) => fs.forEach((f) => registry.upsert(COLLECTIONS[i], f)));
  } catch (err) {
    failed = true;
    chrome.notice("load", () => `${t("loadFailed")}${err.message}`);
  }
  await hooks.emit("loaded"); // the water room reads the levels of the gauges just drawn
  views.start(await county);
  // The first visit: the service worker controls the page only from the
  // next load, so what this one loaded is put in its caches now.
  if (!navigator.serviceWorker?.controller && app.offline) {
    app.offline.swReady?.then((reg) => reg && warm([...COLLECTIONS.map((c) => api.itemsURL(c)), "/session"]));
  }
  await loadReadiness(app);
  sheet.render();
  // Changes that arrived meanwhile are applied now, then as they come.
  stream.resume();
  root.dataset.state = failed ? "error" : "ready";
  root.dataset.located = located();
  root.dataset.analysis = String(app.analysis);
}
