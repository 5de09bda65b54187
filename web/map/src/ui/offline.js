// offline makes the map keep working with no network (三断): it installs
// the service worker (sw.js), fills its caches with what this first visit
// loaded (the worker controls the page only from its next load), asks the
// browser to keep that data for good, and says plainly when what the map
// shows came from the phone, not the server: 离线 · 数据更新于 HH:MM —
// until the server's data are back: at once when the stream is live again
// and what the map shows was current when the network went, or when the
// layers, reloaded (start.js), arrive from the network.
import { t } from "../i18n.js";
import { clock } from "../field.js";
import * as api from "../api.js";
import { PAGES, DATA, ASSETS, isData } from "../caches.js";

/** SW_URL is the service worker: served from /assets/ with Service-Worker-Allowed: / (web.go). */
const SW_URL = "/assets/sw.js";
const DATA_AT = "hazardmap.dataAt";

/**
 * installOffline returns app.offline: { persisted (true, false or null
 * when the browser cannot tell), swReady (a promise of the registration
 * or null), since: when the data shown were fetched while offline,
 * stale: whether data shown came from the phone's cache }.
 */
export function installOffline(app) {
  const { chrome, hooks } = app;
  const s = { persisted: null, registration: null, since: null, offline: false, stale: false };
  app.offline = s;
  const root = document.documentElement;

  function show() {
    root.dataset.offline = String(s.offline);
    chrome.notice("offline", s.offline ? () => (s.since ? t("offlineBanner", clock(s.since)) : t("offlineNoData")) : null);
  }
  function goOffline(date) {
    s.offline = true;
    if (date) s.since = new Date(date);
    else if (!s.since) {
      const kept = Number(localStorage.getItem(DATA_AT));
      s.since = kept ? new Date(kept) : null;
    }
    show();
  }
  function goOnline(date) {
    const at = date ? new Date(date) : new Date();
    try {
      localStorage.setItem(DATA_AT, String(at.getTime()));
    } catch {
      /* private mode */
    }
    if (!s.offline) return;
    s.offline = false;
    s.since = null;
    show();
  }

  window.addEventListener("hm:data", (ev) => {
    const { url, cached, date } = ev.detail;
    if (!isData(new URL(url, location.href).pathname)) return;
    s.stale = cached;
    if (cached) goOffline(date);
    else goOnline(date);
  });
  window.addEventListener("offline", () => goOffline());
  // Live again: what the map shows is current if it was when the network
  // went (the stream resumes after its last event); data from the cache
  // wait for the layers' reload.
  hooks.on("live", (status) => {
    if (status === "live" && navigator.onLine && !s.stale) goOnline();
  });
  hooks.on("lang", show);
  hooks.on("signout", async () => {
    // What a crew or planner saw (proposals, notes) is not kept for the next person.
    if ("caches" in window) await caches.delete(DATA);
  });
  if (!navigator.onLine) goOffline();

  s.swReady = register(s);
  return s;
}

// register installs the worker once the page has loaded, then caches what
// this visit loaded and asks for lasting storage.
async function register(s) {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return null;
  if (document.readyState !== "complete") await new Promise((r) => window.addEventListener("load", r, { once: true }));
  try {
    s.registration = await navigator.serviceWorker.register(SW_URL, { scope: "/" });
    await navigator.serviceWorker.ready;
  } catch (err) {
    console.warn("service worker:", err.message);
    return null;
  }
  try {
    s.persisted = navigator.storage?.persist ? await navigator.storage.persist() : null;
  } catch {
    s.persisted = null;
  }
  return s.registration;
}

/**
 * warm puts what the map loaded before the worker controlled it into the
 * worker's caches, so that it opens offline after one visit: the page,
 * the data URLs, the context layers. The page is asked for as a browser
 * would (Accept: text/html: "/" is JSON for other clients).
 */
export async function warm(dataURLs) {
  if (!("caches" in window)) return;
  const put = async (name, url, init) => {
    const res = await fetch(url, init);
    if (res.ok) await (await caches.open(name)).put(url, res);
  };
  await Promise.all([
    put(PAGES, "/", { headers: { Accept: "text/html" } }),
    ...dataURLs.map((u) => put(DATA, u, { headers: { Accept: "application/geo+json, application/json" } })),
    ...api.contextURLs().map((u) => put(ASSETS, u)),
  ]).catch((err) => console.warn("offline cache:", err.message));
}
