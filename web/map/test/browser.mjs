// browser.mjs checks the map in a real browser (Chromium, headless) against
// a running hazardmap server. web/map_test.go starts the server (real
// handler stack, embedded store, seed data plus one feature named
// `<img src=x onerror=alert(1)>`) and runs this script; it prints one
// line per check and exits 1 if any failed.
//
// Environment (besides harness.mjs's HM_BASE_URL, HM_OUT_DIR, HM_CHROMIUM):
//   HM_XSS_ID           id of the waterlogging point with the hostile name
//   HM_EXPECT_ANALYSIS  "1": the analysis API must exist; "0" or unset: use it if it answers
//   HM_MAX_BYTES        budget of the page's transferred bytes (default 153600)
//   HM_GCJ_BASE_URL     a server of the same data configured with GCJ-02 tiles
//                       that fail (…/tiles/{z}/{x}/{y}.png answering 404)
//   HM_CREW_TOKEN       a crew's bearer token and a planner's: with both, the
//   HM_PLANNER_TOKEN    live-update checks run (they change the data: run last)
import { harness, within as waitFor, openPanel, MOBILE, DESKTOP } from "./harness.mjs";

const { base, check, checkBar, shot, api: get, launch, run } = harness("browser.mjs");
const xssID = process.env.HM_XSS_ID || "";
const XSS = "<img src=x onerror=alert(1)>";
const maxBytes = Number(process.env.HM_MAX_BYTES || 150 * 1024);

// ------------------------------------------------------------ facts from the API

const api = (path) => get(path);

const COLLECTIONS = ["waterlogging_points", "relocation_sites", "depots", "gauges"];
const features = {};
for (const c of COLLECTIONS) features[c] = (await api(`/collections/${c}/items?limit=10000`)).features;
const all = COLLECTIONS.flatMap((c) => features[c].map((f) => ({ c, f })));
const located = all.filter((x) => x.f.geometry);
const unlocated = all.filter((x) => !x.f.geometry);
console.log(`api: ${all.length} features, ${located.length} located, ${unlocated.length} unlocated`);

const probe = await fetch(`${base}/analysis/nearest-depots?lon=113.38&lat=34.79&k=1`);
const analysis = probe.ok;
if (process.env.HM_EXPECT_ANALYSIS === "1") check(analysis, "analysis API answers /analysis/nearest-depots", `status ${probe.status}`);
console.log(`api: analysis ${analysis ? "available: reach and nearest-depot checks run" : `unavailable (${probe.status}): the page must degrade`}`);

// ------------------------------------------------------------ browser

const browser = await launch();

const HOME = { latitude: 34.7874, longitude: 113.3835, accuracy: 30 }; // 荥阳 city centre

async function open(device, extra = {}) {
  // The service worker is kept out: these checks hold requests back with page.route, which
  // sees only what the page fetches itself (field.mjs tests the worker).
  const context = await browser.newContext({ ...device, locale: "zh-CN", serviceWorkers: "block", ...extra });
  const page = await context.newPage();
  const problems = { console: [], pageErrors: [], dialogs: [], requests: [] };
  page.on("request", (r) => problems.requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const url = m.location()?.url || "";
    // Without the analysis API its probes are 404s, which Chromium logs.
    if (!analysis && url.includes("/analysis/")) return;
    problems.console.push(`${m.text()} ${url}`);
  });
  page.on("pageerror", (e) => problems.pageErrors.push(String(e)));
  page.on("dialog", (d) => {
    problems.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  return { context, page, problems };
}

async function clean(page, problems, where) {
  const csp = await page.evaluate(() => window.__csp);
  check(problems.console.length === 0, `${where}: no console errors`, problems.console.join(" | "));
  check(problems.pageErrors.length === 0, `${where}: no page errors`, problems.pageErrors.join(" | "));
  check(csp.length === 0, `${where}: no CSP violations`, csp.join(" | "));
  check(problems.dialogs.length === 0, `${where}: no alert or dialog`, problems.dialogs.join(" | "));
}

// noHorizontalScroll: the page and the panel are no wider than the screen.
async function noHorizontalScroll(page, where) {
  const r = await page.evaluate(() => {
    const sheet = document.getElementById("sheet");
    return {
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      vw: window.innerWidth,
      sheet: sheet.hidden ? 0 : sheet.scrollWidth - sheet.clientWidth,
    };
  });
  check(r.doc <= r.vw && r.body <= r.vw && r.sheet <= 0, `${where}: no horizontal scrolling`, JSON.stringify(r));
}

// touchTargets: every visible control is at least 44×44 CSS px.
async function touchTargets(page, where) {
  const small = await page.evaluate(() => {
    const sel = 'button, a[href], input, select, textarea, summary, [role="button"], .leaflet-marker-icon.leaflet-interactive';
    const bad = [];
    for (const el of document.querySelectorAll(sel)) {
      let target = el;
      if (el.matches('input[type="checkbox"], input[type="radio"]')) target = el.closest("label") || el;
      const r = target.getBoundingClientRect();
      const style = getComputedStyle(target);
      if (r.width === 0 || r.height === 0 || style.visibility === "hidden") continue;
      if (r.bottom < 0 || r.right < 0 || r.top > innerHeight || r.left > innerWidth) continue; // off screen
      if (r.width < 43.5 || r.height < 43.5) {
        bad.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} "${(el.textContent || el.getAttribute("aria-label") || "").trim().slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return bad;
  });
  check(small.length === 0, `${where}: touch targets ≥ 44 px`, small.join("; "));
}

// centre puts a feature's marker mid-screen at a street zoom, so a tap
// reaches it and not a neighbour.
async function centre(page, collection, id, zoom = 16) {
  await page.evaluate(
    ({ collection, id, zoom }) => {
      const e = window.hazardmap.registry.get(collection, id);
      window.hazardmap.map.setView(e.marker.getLatLng(), zoom, { animate: false });
    },
    { collection, id, zoom },
  );
  await page.waitForTimeout(300);
}

async function tapMarker(page, collection, id, zoom = 16) {
  await centre(page, collection, id, zoom);
  const marker = page.locator(`.leaflet-marker-pane [data-marker-id="${id}"][data-collection="${collection}"]`);
  await marker.tap();
  await page.waitForSelector(".leaflet-popup-content .hm-popup", { timeout: 5000 });
  await page.waitForTimeout(400); // the fade-in, for the screenshots
  return page.locator(".leaflet-popup-content");
}

async function closePopup(page) {
  await page.evaluate(() => window.hazardmap.map.closePopup());
}

const tab = openPanel;

// write sends a write to the API with a bearer token; PATCH and DELETE
// first read the feature's ETag (If-Match is required).
async function write(token, method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (method === "PATCH" || method === "DELETE") {
    const cur = await fetch(base + path, { headers });
    if (!cur.ok) throw new Error(`GET ${path}: ${cur.status} ${await cur.text()}`);
    headers["If-Match"] = cur.headers.get("ETag");
  }
  if (body !== undefined) headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

// hold keeps the page's requests whose URL matches (a predicate on a URL)
// waiting until release(), as a slow network would, and records those
// the page aborted meanwhile (a newer question superseding them).
async function hold(page, matches) {
  const held = [];
  const aborted = [];
  let open;
  const gate = new Promise((r) => (open = r));
  const handler = async (route) => {
    held.push(route.request().url());
    await gate;
    await route.continue().catch(() => {}); // aborted by the page meanwhile
  };
  const failed = (r) => {
    if (matches(new URL(r.url())) && /ABORTED/.test(r.failure()?.errorText ?? "")) aborted.push(r.url());
  };
  page.on("requestfailed", failed);
  await page.route(matches, handler);
  return {
    held,
    aborted,
    async release() {
      open();
      await page.unroute(matches, handler);
      page.off("requestfailed", failed);
    },
  };
}

// within polls fn in the page every 50 ms (live updates are timed).
const within = (page, ms, fn, arg) => waitFor(page, ms, fn, arg, 50);

async function liveUpdates(crew, planner) {
  const where = "live 360×640";
  const { context, page, problems } = await open(MOBILE);
  const itemGets = new Map(); // path → single-feature GETs the page made
  page.on("request", (r) => {
    const p = new URL(r.url()).pathname;
    if (/^\/collections\/[^/]+\/items\/[^/]+$/.test(p)) itemGets.set(p, (itemGets.get(p) ?? 0) + 1);
  });
  await page.waitForSelector('#live[data-live="live"]', { timeout: 10000 }).catch(() => {});
  check((await page.locator("#live").textContent()) === "实时", `${where}: the bar says the map is live (实时)`, await page.locator("#live").textContent());
  await touchTargets(page, where);
  await noHorizontalScroll(page, where);

  // 1. A crew at the 陇海路 × 荥泽大道 underpass reports 40 cm, road closed.
  const XZ = "wp-underpass-xingze";
  const popup = await tapMarker(page, "waterlogging_points", XZ);
  check(!(await popup.locator(".hm-status.hm-st--closed").count()), `${where}: before the report the underpass is not closed`, await popup.locator(".hm-status").textContent());
  await page.evaluate(() => (window.__popupEl = document.querySelector(".leaflet-popup")));
  const t0 = Date.now();
  await write(crew, "POST", `/collections/waterlogging_points/items/${XZ}/observations`, { depth_cm: 40, status: "closed", note: "路段封闭" });
  const posted = Date.now() - t0;
  const took = await within(
    page,
    3000,
    (id) => {
      const e = window.hazardmap.registry.get("waterlogging_points", id);
      const m = document.querySelector(`.leaflet-marker-pane [data-marker-id="${id}"]`);
      return e?.feature.properties.status === "closed" && e.feature.properties.depth_cm === 40 && m?.dataset.status === "closed" && m.classList.contains("hm-st--closed");
    },
    XZ,
  );
  check(took >= 0, `${where}: the report reaches the open map within 3 s (marker status closed)`, took >= 0 ? `${took + posted} ms from sending the report` : "not within 3 s");
  const colour = await page.evaluate((id) => getComputedStyle(document.querySelector(`.leaflet-marker-pane [data-marker-id="${id}"]`)).color, XZ);
  check(colour === "rgb(198, 40, 40)", `${where}: the underpass marker is drawn red (封闭)`, colour);
  const pulses = await page.locator(`.hm-pulse-ring[data-pulse="waterlogging_points/${XZ}"]`).count();
  check(pulses === 1, `${where}: the updated marker pulses`, `${pulses} rings`);
  const popupOK = await within(
    page,
    3000,
    (id) => {
      const pop = document.querySelector(`.leaflet-popup-content .hm-popup[data-feature-id="${id}"]`);
      return !!pop && pop.querySelector(".hm-status.hm-st--closed")?.textContent === "封闭" && [...pop.querySelectorAll(".hm-row dd")].some((dd) => dd.textContent === "40 厘米");
    },
    XZ,
  );
  check(popupOK >= 0, `${where}: the open popup shows 封闭 and 40 厘米`, (await popup.textContent()).slice(0, 120));
  const same = await page.evaluate(() => window.__popupEl === document.querySelector(".leaflet-popup") && window.__popupEl.isConnected);
  check(same, `${where}: the popup was re-rendered in place (not closed and reopened)`);
  await page.waitForTimeout(250); // the ring mid-pulse, for the screenshot
  await shot(page, "mobile-live-update.png");
  await touchTargets(page, `${where} after the report`);

  // 2. A burst: three reports in a row for one point are one refetch.
  //    (With reduced motion asked for: the ring stays still.)
  await page.emulateMedia({ reducedMotion: "reduce" });
  const XH = "wp-underpass-xinghua";
  const path = `/collections/waterlogging_points/items/${XH}`;
  const before = itemGets.get(path) ?? 0;
  for (const [d, st] of [[20, "ponding"], [30, "ponding"], [50, "closed"]]) {
    await write(crew, "POST", `${path}/observations`, { depth_cm: d, status: st });
  }
  const burst = await within(
    page,
    3000,
    (id) => {
      const p = window.hazardmap.registry.get("waterlogging_points", id)?.feature.properties;
      return p?.status === "closed" && p.depth_cm === 50;
    },
    XH,
  );
  const still = await page.evaluate((key) => {
    const ring = document.querySelector(`.hm-pulse-ring[data-pulse="${key}"]`);
    return ring ? getComputedStyle(ring).animationName : "no ring";
  }, `waterlogging_points/${XH}`);
  check(still === "none", `${where}: under prefers-reduced-motion the ring does not move`, still);
  await page.emulateMedia({ reducedMotion: "no-preference" });
  await page.waitForTimeout(500); // any further refetch would come now
  const gets = (itemGets.get(path) ?? 0) - before;
  check(burst >= 0 && gets >= 1 && gets <= 2, `${where}: a burst of 3 reports for one point is coalesced (ends closed, 50 cm)`, `${gets} refetch(es), ${burst} ms`);
  await closePopup(page);

  // 3. A planner clears a depot's location: its marker goes, 待定位 lists it.
  await tab(page, "unlocated");
  const countBefore = Number((await page.locator('#toolbar [data-panel="unlocated"] .hm-count').textContent()) || 0);
  const moved = features.depots.find((f) => f.id === "depot-wangzongdian" && f.geometry) || features.depots.find((f) => f.geometry);
  await write(planner, "PATCH", `/collections/depots/items/${moved.id}`, { geometry: null, properties: { location_precision_m: null } });
  const unloc = await within(
    page,
    3000,
    ({ id, n }) =>
      !document.querySelector(`.leaflet-marker-pane [data-marker-id="${id}"]`) &&
      window.hazardmap.registry.get("depots", id)?.feature.geometry === null &&
      !!document.querySelector(`#sheet .hm-unlocated-item[data-id="${id}"][data-collection="depots"]`) &&
      document.querySelector('#toolbar [data-panel="unlocated"] .hm-count').textContent === String(n + 1),
    { id: moved.id, n: countBefore },
  );
  check(unloc >= 0, `${where}: a planner's PATCH (geometry null) removes the depot's marker and lists it under 待定位 live`, unloc >= 0 ? `${unloc} ms` : "not within 3 s");

  // 4. A planner deletes the depot that most hazards reach first: the
  //    marker goes and the open reach panel re-runs its query.
  await tab(page, "reach");
  if (analysis) {
    await page.locator('#sheet [data-preset="3000"]').tap();
    await page.waitForSelector('#sheet [data-reach="ready"][data-threshold="3000"]', { timeout: 10000 });
  }
  const q = "/analysis/reach?max_distance_m=3000&collections=waterlogging_points,relocation_sites&ready=true";
  let gone = features.depots.find((f) => f.geometry && f.id !== moved.id).id;
  let wantBefore = [];
  if (analysis) {
    const rep = await api(q);
    wantBefore = rep.hazards.filter((x) => x.result === "beyond").map((x) => `${x.collection}/${x.id}`).sort();
    const served = new Map();
    for (const x of rep.hazards) if (x.result === "within" && x.depot) served.set(x.depot.id, (served.get(x.depot.id) ?? 0) + 1);
    gone = [...served].sort((a, b) => b[1] - a[1])[0]?.[0] ?? gone;
  }
  await write(planner, "DELETE", `/collections/depots/items/${gone}`);
  const del = await within(
    page,
    3000,
    (id) => !window.hazardmap.registry.get("depots", id) && !document.querySelector(`.leaflet-marker-pane [data-marker-id="${id}"]`),
    gone,
  );
  check(del >= 0, `${where}: a planner's DELETE removes the depot's marker live`, `${gone}: ${del >= 0 ? `${del} ms` : "not within 3 s"}`);
  if (analysis) {
    const rep = await api(q);
    const want = rep.hazards.filter((x) => x.result === "beyond").map((x) => `${x.collection}/${x.id}`).sort();
    const reach = await within(
      page,
      3000,
      (want) => {
        const got = [...document.querySelectorAll('#sheet [data-reach-row][data-result="beyond"]')].map((e) => `${e.dataset.collection}/${e.dataset.id}`).sort();
        return JSON.stringify(got) === JSON.stringify(want);
      },
      want,
    );
    check(reach >= 0 && JSON.stringify(want) !== JSON.stringify(wantBefore), `${where}: the open reach panel follows (the API's new beyond list)`, `beyond ${wantBefore.length} → ${want.length}, ${reach} ms`);
  }
  await shot(page, "mobile-live-reach.png");

  // 5. The stream breaks (a proxy restarts, the phone loses its link) and
  //    new connections fail for a while: the bar says so; a report made
  //    meanwhile arrives once the stream is back, resumed after the last
  //    event seen (no reload of the layers).
  if (process.env.HM_STREAM_SWITCH === "1") {
    const reloads = () => problems.requests.filter((u) => /\/items\?/.test(u)).length;
    const reloadsBefore = reloads();
    const xzPath = `/collections/waterlogging_points/items/${XZ}`;
    const xzBefore = itemGets.get(xzPath) ?? 0;
    const consoleBefore = problems.console.length;
    await fetch(`${base}/test/events/down`, { method: "POST" });
    const down = await within(page, 5000, () => document.querySelector("#live")?.dataset.live === "reconnecting");
    check(down >= 0, `${where}: the stream breaks: the bar says 重连中 at once`, `${down} ms, ${await page.locator("#live").textContent()}`);
    await shot(page, "mobile-live-reconnecting.png");
    await write(crew, "POST", `${xzPath}/observations`, { depth_cm: 10, status: "clear" });
    await page.waitForTimeout(3000); // the EventSource retries (after 2 s), gets 503 and gives up: the page retries itself
    await fetch(`${base}/test/events/up`, { method: "POST" });
    const back = await within(
      page,
      10000,
      (id) => document.querySelector("#live")?.dataset.live === "live" && window.hazardmap.registry.get("waterlogging_points", id)?.feature.properties.status === "clear",
      XZ,
    );
    check(back >= 0, `${where}: the stream is back: the report made meanwhile arrives, the bar says 实时 again`, back >= 0 ? `${back} ms` : await page.locator("#live").textContent());
    check(reloads() === reloadsBefore && (itemGets.get(xzPath) ?? 0) - xzBefore === 1, `${where}: it resumed after the last event (one refetch, no reload)`, `${reloads() - reloadsBefore} reloads, ${(itemGets.get(xzPath) ?? 0) - xzBefore} refetches`);
    // The browser's own messages about the refused reconnection are the test's doing.
    const mine = problems.console.slice(consoleBefore);
    problems.console.splice(consoleBefore, Infinity, ...mine.filter((m) => !m.includes("/events")));
    if (mine.length) console.log(`${where}: browser messages during the outage (expected): ${mine.join(" | ")}`);

    // The database behind the server was rebuilt (or restored from a
    // backup): the id the page resumes from is ahead of every change the
    // server has. It answers reset; the page reloads its layers, then
    // follows: a report made after that arrives.
    const beforeAhead = reloads();
    await fetch(`${base}/test/events/ahead`, { method: "POST" });
    let reloaded = -1;
    for (const t0 = Date.now(); Date.now() - t0 < 10000; await page.waitForTimeout(50)) {
      if (reloads() > beforeAhead && (await page.evaluate(() => document.querySelector("#live")?.dataset.live)) === "live") {
        reloaded = Date.now() - t0;
        break;
      }
    }
    check(reloaded >= 0, `${where}: resuming from an id ahead of the server's (a rebuilt database), the page gets reset and reloads its layers`, reloaded >= 0 ? `${reloaded} ms, ${reloads() - beforeAhead} layer requests` : "no reload within 10 s");
    await write(crew, "POST", `${xzPath}/observations`, { depth_cm: 30, status: "ponding" });
    const after = await within(page, 5000, (id) => window.hazardmap.registry.get("waterlogging_points", id)?.feature.properties.status === "ponding", XZ);
    check(after >= 0, `${where}: after the reset the page follows the stream again`, after >= 0 ? `${after} ms` : "the report did not arrive within 5 s");
  }
  console.log(`${where}: single-feature refetches: ${[...itemGets].map(([p, n]) => `${p.split("/").pop()} ${n}`).join(", ")}`);

  await clean(page, problems, where);
  await context.close();
}

await run(browser, async () => {
  // ---------------------------------------------------------- phone, 360×640
  {
    const { context, page, problems } = await open(MOBILE, { geolocation: HOME, permissions: ["geolocation"] });
    const where = "360×640";
    const markers = await page.locator(".leaflet-marker-pane [data-marker-id]").count();
    check(markers === located.length, `${where}: one marker per located feature`, `${markers} markers, API has ${located.length} located`);
    check((await page.locator("#title").textContent()).includes("荥阳"), `${where}: Chinese title`);
    await shot(page, "mobile-360x640.png");
    await checkBar(page, `${where} public`, ["layers", "reach", "unlocated", "locate"]);
    await noHorizontalScroll(page, where);
    await touchTargets(page, where);

    // A popup with the Chinese name and the findings.
    const wp = features.waterlogging_points.find((f) => f.id === "wp-underpass-xinghua") || features.waterlogging_points.find((f) => f.geometry);
    const popup = await tapMarker(page, "waterlogging_points", wp.id);
    const text = await popup.textContent();
    check(text.includes(wp.properties.name), `${where}: popup shows the Chinese name`, wp.properties.name);
    const finding = wp.properties.findings?.[0]?.finding ?? "";
    check(finding !== "" && text.includes(finding.slice(0, 40)), `${where}: popup shows the inspection findings`);
    check(text.includes("定位精度"), `${where}: popup states the location precision`);
    check((await page.locator("path.hm-precision").count()) === 1, `${where}: precision circle drawn for the selected feature`);

    // Tapping a hazard draws lines to its nearest depots.
    if (analysis) {
      const [lon, lat] = wp.geometry.coordinates;
      const [any, ready] = await Promise.all([api(`/analysis/nearest-depots?lon=${lon}&lat=${lat}&k=3`), api(`/analysis/nearest-depots?lon=${lon}&lat=${lat}&k=1&ready=true`)]);
      const want = new Set([...any.depots, ...ready.depots].filter((d) => d.geometry).map((d) => d.id));
      await page.waitForSelector("path.hm-depot-line", { timeout: 5000 }).catch(() => {});
      const lines = await page.locator("path.hm-depot-line").count();
      check(lines > 0 && lines === want.size, `${where}: tapping a hazard draws lines to its nearest depots`, `${lines} lines, API nearest ${[...want].join(",")}`);
      const rows = await page.locator(".hm-nearest [data-depot-id]").evaluateAll((els) => els.map((e) => e.dataset.depotId));
      check(rows.length === want.size && rows.every((id) => want.has(id)), `${where}: popup lists the nearest depots with distances`, rows.join(","));
    } else {
      await page.waitForFunction(() => document.querySelector(".hm-nearest .hm-warn"), null, { timeout: 5000 }).catch(() => {});
      const msg = await page.locator(".hm-nearest").textContent();
      check(msg.includes("不可用"), `${where}: without the analysis API the popup says distances are unavailable`, msg);
    }
    await shot(page, "mobile-popup.png");
    await touchTargets(page, `${where} with a popup`);
    await noHorizontalScroll(page, `${where} with a popup`);
    await closePopup(page);

    // A newer selection supersedes the older one's questions: tapping
    // another point while the first one's nearest depots are still on the
    // way aborts them, and only the second one's lines are drawn.
    if (analysis) {
      const [first, second] = features.waterlogging_points.filter((f) => f.geometry?.type === "Point" && f.id !== xssID).slice(0, 2);
      const lon = String(first.geometry.coordinates[0]);
      const slow = await hold(page, (u) => u.pathname === "/analysis/nearest-depots" && u.searchParams.get("lon") === lon);
      await tapMarker(page, "waterlogging_points", first.id);
      await page.waitForFunction(() => document.querySelector(".hm-nearest .hm-muted"), null, { timeout: 5000 }).catch(() => {});
      await tapMarker(page, "waterlogging_points", second.id);
      await page.waitForSelector(`.leaflet-popup-content .hm-popup[data-feature-id="${second.id}"] .hm-nearest [data-depot-id]`, { timeout: 5000 }).catch(() => {});
      await slow.release();
      await page.waitForTimeout(300); // a stale answer would land now
      const [a, r] = second.geometry.coordinates.map(String);
      const [any, ready] = await Promise.all([api(`/analysis/nearest-depots?lon=${a}&lat=${r}&k=3`), api(`/analysis/nearest-depots?lon=${a}&lat=${r}&k=1&ready=true`)]);
      const want = new Set([...any.depots, ...ready.depots].filter((d) => d.geometry).map((d) => d.id));
      const lines = await page.locator("path.hm-depot-line").count();
      const shown = await page.locator(".leaflet-popup-content .hm-popup").getAttribute("data-feature-id");
      check(
        slow.held.length === 2 && slow.aborted.length === 2 && shown === second.id && lines === want.size,
        `${where}: a newer selection aborts the older one's nearest-depot questions`,
        `${slow.held.length} held, ${slow.aborted.length} aborted, popup ${shown}, ${lines} lines (want ${want.size})`,
      );
      await closePopup(page);
    }

    // A depot placed only on its township seat shows that, not a crisp pin.
    const coarse = features.depots.filter((f) => f.geometry && f.properties.location_precision_m > 5000).sort((a, b) => b.properties.location_precision_m - a.properties.location_precision_m)[0];
    if (coarse) {
      const popup = await tapMarker(page, "depots", coarse.id, 11);
      const t = await popup.textContent();
      check(t.includes(coarse.properties.name) && t.includes("位置粗略"), `${where}: a township-seat depot's popup says its location is rough`, coarse.id);
      const radius = await page.evaluate(() => {
        let r = null;
        window.hazardmap.map.eachLayer((l) => {
          if (l.options?.className === "hm-precision") r = l.getRadius();
        });
        return r;
      });
      check(radius === coarse.properties.location_precision_m, `${where}: its precision circle has radius location_precision_m`, `${radius} m`);
      const dashed = await page.locator(`[data-marker-id="${coarse.id}"].hm-coarse`).count();
      check(dashed === 1, `${where}: its marker is drawn as rough (dashed ring)`);
      await shot(page, "mobile-depot-popup.png");
      await closePopup(page);
    }

    // The hostile name shows as text and runs nothing.
    if (xssID) {
      const popup = await tapMarker(page, "waterlogging_points", xssID);
      const t = await popup.textContent();
      check(t.includes(XSS), "XSS: the name shows as text in the popup", t.slice(0, 60));
      const title = await page.locator(`[data-marker-id="${xssID}"] .hm-label`).textContent();
      check(title === XSS, "XSS: the name shows as text in the marker label", title);
      const imgs = await page.evaluate(() => document.querySelectorAll('img[src="x"], img[onerror]').length);
      check(imgs === 0, "XSS: no <img> element was created from the name");
      await page.waitForTimeout(500);
      check(problems.dialogs.length === 0, "XSS: no alert or dialog fired", problems.dialogs.join(" | "));
      await closePopup(page);
    } else {
      console.log("skip XSS checks: HM_XSS_ID not set");
    }

    // The unlocated records are listed, not hidden.
    await tab(page, "unlocated");
    const items = await page.locator("#sheet .hm-unlocated-item").evaluateAll((els) => els.map((e) => `${e.dataset.collection}/${e.dataset.id}`));
    const wantUnlocated = unlocated.map((x) => `${x.c}/${x.f.id}`).sort();
    check(JSON.stringify(items.sort()) === JSON.stringify(wantUnlocated), `${where}: 待定位 lists every record with no geometry`, `${items.length} listed, API has ${wantUnlocated.length}`);
    const unnamed = await page.locator("#sheet .hm-unlocated-name", { hasText: "未具名道路积水点" }).count();
    check(unnamed === 11, `${where}: the 11 unnamed road spots are listed`, `${unnamed}`);
    await shot(page, "mobile-unlocated.png");
    await noHorizontalScroll(page, `${where} 待定位`);
    await touchTargets(page, `${where} 待定位`);

    // Layers and legend.
    await tab(page, "layers");
    check((await page.locator("#sheet .hm-legend").count()) >= 3, `${where}: legend in the layers panel`);
    await shot(page, "mobile-layers.png");
    await noHorizontalScroll(page, `${where} layers`);
    await touchTargets(page, `${where} layers`);

    // Reach.
    await tab(page, "reach");
    if (analysis) {
      for (const m of [3000, 10000, 1000]) {
        await page.locator(`#sheet [data-preset="${m}"]`).tap();
        await page.waitForSelector(`#sheet [data-reach="ready"][data-threshold="${m}"]`, { timeout: 10000 });
        const rep = await api(`/analysis/reach?max_distance_m=${m}&collections=waterlogging_points,relocation_sites&ready=true`);
        const want = rep.hazards.filter((x) => x.result === "beyond").map((x) => `${x.collection}/${x.id}`).sort();
        const got = await page.locator('#sheet [data-reach-row][data-result="beyond"]').evaluateAll((els) => els.map((e) => `${e.dataset.collection}/${e.dataset.id}`).sort());
        check(JSON.stringify(got) === JSON.stringify(want), `${where}: reach panel lists exactly the hazards beyond ${m} m`, `page ${got.length} [${got.join(",")}], API ${want.length}`);
        const ringed = await page.locator(".leaflet-marker-pane .hm-beyond").count();
        const wantRinged = rep.hazards.filter((x) => (x.result === "beyond" || x.result === "no_depot") && x.located !== false).length;
        check(ringed === wantRinged, `${where}: hazards beyond ${m} m are highlighted on the map`, `${ringed} ringed, want ${wantRinged}`);
      }
      await shot(page, "mobile-reach.png");
      // A newer threshold supersedes the question in flight: tapping 3 km
      // while the 5 km report is still on the way aborts it (the report
      // and its lines), and the panel ends on 3 km.
      {
        const slow = await hold(page, (u) => u.pathname === "/analysis/reach" && u.searchParams.get("max_distance_m") === "5000");
        await page.locator('#sheet [data-preset="5000"]').tap();
        await page.locator('#sheet [data-preset="3000"]').tap();
        await page.waitForSelector('#sheet [data-reach="ready"][data-threshold="3000"]', { timeout: 10000 }).catch(() => {});
        await slow.release();
        await page.waitForTimeout(300); // a stale answer would land now
        const shown = await page.locator("#sheet [data-reach]").getAttribute("data-threshold");
        const pressed = await page.locator('#sheet [data-preset][aria-pressed="true"]').getAttribute("data-preset");
        check(
          slow.held.length === 2 && slow.aborted.length === 2 && shown === "3000" && pressed === "3000",
          `${where}: a newer reach threshold aborts the question before it`,
          `${slow.held.length} held, ${slow.aborted.length} aborted, panel shows ${shown} (${pressed} pressed)`,
        );
      }
      const show = page.locator("#sheet [data-show-beyond]");
      if ((await show.count()) > 0) {
        await show.tap();
        await page.waitForTimeout(600);
        await shot(page, "mobile-reach-map.png");
        await tab(page, "reach");
      }
      const first = page.locator('#sheet [data-reach-row][data-result="beyond"]').first();
      if ((await first.count()) > 0) {
        const id = await first.getAttribute("data-id");
        await first.tap();
        await page.waitForSelector(`.leaflet-popup-content .hm-popup[data-feature-id="${id}"]`, { timeout: 5000 }).catch(() => {});
        check((await page.locator(`.leaflet-popup-content .hm-popup[data-feature-id="${id}"]`).count()) === 1, `${where}: a reach row flies to its hazard and opens it`, id);
        await closePopup(page);
      }
    } else {
      await page.waitForSelector('#sheet [data-reach="unavailable"]', { timeout: 5000 }).catch(() => {});
      check((await page.locator('#sheet [data-reach="unavailable"]').count()) === 1, `${where}: reach panel says the analysis is unavailable`);
      await shot(page, "mobile-reach.png");
    }
    await noHorizontalScroll(page, `${where} reach`);
    await touchTargets(page, `${where} reach`);

    // Where am I.
    await page.locator('#toolbar [data-panel="locate"]').tap();
    await page.waitForSelector("#sheet [data-me]", { timeout: 10000 }).catch(() => {});
    await page.waitForTimeout(800); // the map flies to show position and depot
    check((await page.locator("#sheet [data-me]").count()) === 1 && (await page.locator(".hm-me").count()) === 1, `${where}: where-am-I shows the position`);
    if (analysis) {
      const near = await api(`/analysis/nearest-depots?lon=${HOME.longitude}&lat=${HOME.latitude}&k=1&ready=true`);
      const want = near.depots[0]?.id ?? "";
      await page.waitForSelector("#sheet [data-nearest-depot]", { timeout: 5000 }).catch(() => {});
      const got = (await page.locator("#sheet [data-nearest-depot]").getAttribute("data-nearest-depot").catch(() => "")) ?? "";
      check(got === want, `${where}: where-am-I names the nearest ready depot`, `page ${got}, API ${want}`);
    }
    await shot(page, "mobile-locate.png");
    await touchTargets(page, `${where} locate`);
    await noHorizontalScroll(page, `${where} locate`);

    // English.
    await page.locator("#lang").tap();
    check((await page.locator("#title").textContent()).includes("Xingyang"), `${where}: English switch`);
    await noHorizontalScroll(page, `${where} English`);
    await page.locator("#lang").tap();

    await clean(page, problems, where);
    await context.close();
  }

  // ---------------------------------------------------------- desk, 1366×768
  {
    const { context, page, problems } = await open(DESKTOP);
    const where = "1366×768";
    const markers = await page.locator(".leaflet-marker-pane [data-marker-id]").count();
    check(markers === located.length, `${where}: one marker per located feature`, `${markers} markers`);
    await shot(page, "desktop-1366x768.png");
    const wp = features.waterlogging_points.find((f) => f.id === "wp-underpass-jingcheng") || features.waterlogging_points.find((f) => f.geometry);
    await centre(page, "waterlogging_points", wp.id, 15);
    await page.locator(`.leaflet-marker-pane [data-marker-id="${wp.id}"]`).click();
    await page.waitForSelector(".leaflet-popup-content .hm-popup");
    await page.waitForTimeout(400);
    if (analysis) await page.waitForSelector("path.hm-depot-line", { timeout: 5000 }).catch(() => {});
    await shot(page, "desktop-popup.png");
    await noHorizontalScroll(page, where);
    await clean(page, problems, where);
    await context.close();
  }

  // ---------------------------------------------------------- GCJ-02 tiles that fail
  // A second server of the same store whose configured tiles are GCJ-02
  // and unreachable: features are drawn shifted to GCJ-02, the tiles'
  // attribution shows as text, and the page says the tiles failed and
  // keeps the offline outlines.
  if (process.env.HM_GCJ_BASE_URL) {
    const gcjBase = process.env.HM_GCJ_BASE_URL.replace(/\/$/, "");
    const context = await browser.newContext({ ...MOBILE, locale: "zh-CN" });
    const page = await context.newPage();
    const errors = [];
    page.on("console", (m) => {
      const url = m.location()?.url || "";
      if (m.type() === "error" && !url.includes("/tiles/") && (analysis || !url.includes("/analysis/"))) errors.push(`${m.text()} ${url}`);
    });
    await page.goto(gcjBase + "/", { waitUntil: "load" });
    await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
    const f = located.find((x) => x.c === "waterlogging_points" && x.f.geometry.type === "Point").f;
    const { wgs84ToGcj02 } = await import("../src/gcj02.js");
    const [wantLon, wantLat] = wgs84ToGcj02(...f.geometry.coordinates);
    const got = await page.evaluate((id) => window.hazardmap.registry.get("waterlogging_points", id).marker.getLatLng(), f.id);
    check(Math.abs(got.lng - wantLon) < 1e-9 && Math.abs(got.lat - wantLat) < 1e-9, "GCJ-02 tiles: markers are shifted to GCJ-02", `${f.id} at ${got.lng},${got.lat}, want ${wantLon},${wantLat}`);
    await page.waitForSelector("#notice:not([hidden])", { timeout: 10000 }).catch(() => {});
    const notice = await page.locator("#notice").textContent();
    check(notice.includes("底图加载失败"), "failed tiles: the page says so and keeps the offline outlines", notice);
    check((await page.locator("path.hm-ctx--county").count()) === 1, "failed tiles: the county outline is drawn");
    const attrib = await page.locator(".hm-attrib").textContent();
    check(attrib.includes("<b>© Test tiles</b>"), "tile attribution shows as text", attrib);
    check(errors.length === 0, "GCJ-02 page: no console errors besides the failed tiles", errors.join(" | "));
    await shot(page, "mobile-gcj02-tiles-failed.png");
    await context.close();
  }

  // ---------------------------------------------------------- live updates
  // The page open on a phone; a crew reports a status, a planner patches
  // and deletes depots, all through the API as anyone would; the page
  // must follow within 3 s (polled), in place, without a reload.
  if (process.env.HM_CREW_TOKEN && process.env.HM_PLANNER_TOKEN) {
    await liveUpdates(process.env.HM_CREW_TOKEN, process.env.HM_PLANNER_TOKEN);
  } else {
    console.log("skip live-update checks: HM_CREW_TOKEN and HM_PLANNER_TOKEN not set");
  }

  // ---------------------------------------------------------- bytes on the wire
  {
    const context = await browser.newContext({ ...MOBILE, locale: "zh-CN" });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    // A new context has an empty cache: every request of the first load
    // goes to the network. The cache stays on so that what the page
    // fetches again to fill the service worker's caches (offline.js warm)
    // costs what it costs a real first visit — a revalidation, not a second
    // download — whether or not it falls inside this measurement.

    const urls = new Map();
    const sizes = new Map();
    const encodings = new Map();
    cdp.on("Network.responseReceived", (e) => {
      urls.set(e.requestId, e.response.url);
      encodings.set(e.requestId, e.response.headers["content-encoding"] || e.response.headers["Content-Encoding"] || "");
    });
    cdp.on("Network.loadingFinished", (e) => sizes.set(e.requestId, e.encodedDataLength));
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
    await page.waitForLoadState("networkidle");
    let total = 0;
    const rows = [];
    for (const [id, n] of sizes) {
      const url = urls.get(id) || "?";
      if (url.startsWith("data:")) continue;
      total += n;
      rows.push(`  ${String(n).padStart(7)}  ${encodings.get(id) || "identity"}  ${url.replace(base, "")}`);
    }
    console.log(`transfer: ${rows.length} requests, ${total} bytes (${(total / 1024).toFixed(1)} KiB) on the wire, gzip, no tiles:\n${rows.sort().join("\n")}`);
    // The map itself, what the first visit costs before any data: the
    // page, its script and its stylesheet.
    const code = [...sizes].filter(([id]) => /^\/$|\/assets\/[^/]+\.(js|css)$/.test(new URL(urls.get(id) || "", base).pathname)).reduce((s, [, n]) => s + n, 0);
    console.log(`first load of the map (page + script + stylesheet, gzip, headers included): ${code} bytes (${(code / 1024).toFixed(1)} KiB)`);
    check(total > 0 && total <= maxBytes, `page transfer ≤ ${(maxBytes / 1024).toFixed(0)} KiB`, `${(total / 1024).toFixed(1)} KiB`);
    const uncompressed = [...encodings].filter(([id, enc]) => !enc && (sizes.get(id) ?? 0) > 2048 && /\.(js|css|geojson)$|\/items/.test(urls.get(id) || ""));
    check(uncompressed.length === 0, "page, scripts, styles and data are sent gzipped", uncompressed.map(([id]) => urls.get(id)).join(" "));
    await context.close();
  }
});
