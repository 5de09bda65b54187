// sw is the map's service worker, built with Workbox (workbox-precaching,
// -routing, -strategies, -expiration) by build.mjs, which fills in the
// precache manifest (self.__WB_MANIFEST: every hashed script, stylesheet,
// image and the web manifest of this build). It makes the map open with
// no network (三断):
//   - the page: from the network, or after 5 s (or at once when offline)
//     the copy last seen;
//   - the map's code: precached, so even the parts loaded on demand (the
//     report form) are there offline;
//   - the data (layers, the session, the proposals): from the network,
//     else the copy last seen, marked X-Hazardmap-From-Cache so that the
//     page says it is offline and since when (its Date);
//   - base-map tiles from another origin: kept as they are viewed, the
//     oldest dropped beyond TILES_MAX;
//   - the offline queue: sent on Background Sync where the browser has it
//     (the page also sends on its own: visibility, online, a timer).
import { precacheAndRoute, cleanupOutdatedCaches } from "workbox-precaching";
import { registerRoute } from "workbox-routing";
import { NetworkFirst, CacheFirst } from "workbox-strategies";
import { ExpirationPlugin } from "workbox-expiration";
import { FROM_CACHE_HEADER } from "./swmark.js";
import { PAGES, DATA, ASSETS, TILES, TILES_MAX, isData } from "./caches.js";
import { openOutbox, SYNC_TAG } from "./outboxdb.js";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (ev) => ev.waitUntil(self.clients.claim()));

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// fromCache marks an answer that the cache gave because the network failed.
const fromCache = {
  cachedResponseWillBeUsed: async ({ cachedResponse }) => {
    if (!cachedResponse) return null;
    const headers = new Headers(cachedResponse.headers);
    headers.set(FROM_CACHE_HEADER, "1");
    return new Response(await cachedResponse.blob(), { status: cachedResponse.status, statusText: cachedResponse.statusText, headers });
  },
};
// onePage keeps one copy of the page, whatever its query.
const onePage = { cacheKeyWillBeUsed: async () => "/" };
const same = (url) => url.origin === self.location.origin;

registerRoute(({ request, url }) => request.mode === "navigate" && same(url) && url.pathname === "/",
  new NetworkFirst({ cacheName: PAGES, networkTimeoutSeconds: 5, plugins: [onePage], matchOptions: { ignoreVary: true } }));
registerRoute(({ request, url }) => request.method === "GET" && same(url) && isData(url.pathname, url.search),
  new NetworkFirst({ cacheName: DATA, networkTimeoutSeconds: 8, plugins: [fromCache], matchOptions: { ignoreVary: true } }));
registerRoute(({ url }) => same(url) && url.pathname.startsWith("/assets/"), new CacheFirst({ cacheName: ASSETS, matchOptions: { ignoreVary: true } }));
registerRoute(({ request, url }) => request.destination === "image" && !same(url),
  new CacheFirst({ cacheName: TILES, plugins: [new ExpirationPlugin({ maxEntries: TILES_MAX, purgeOnQuotaError: true })] }));

self.addEventListener("sync", (ev) => {
  if (ev.tag !== SYNC_TAG) return;
  ev.waitUntil(
    openOutbox().then(async (box) => {
      const r = await box.flush({ force: true });
      if (r.waiting) throw new Error("the queue still waits: the browser tries the sync again later");
    }),
  );
});
