// field.mjs checks field mode in a real browser (Chromium, headless, with
// its service worker) against a running hazardmap server that
// web/field_test.go starts on each store. It prints one line per check and
// exits 1 if any failed.
//
// Environment:
//   HM_BASE_URL       the server (required)
//   HM_OUT_DIR        where screenshots go (default ./test-output)
//   HM_STORE          the store's name, for the output
//   HM_CHROMIUM       the browser (default /usr/bin/chromium)
//   HM_CREW_CODE      a one-time sign-in code of a crew (opened as a link)
//   HM_PLANNER_CODE   a one-time sign-in code of a planner (typed in the panel)
//   HM_PLANNER_TOKEN  a planner's bearer token, to check the server's side
//   HM_PHOTO          a JPEG from a "camera" (2400×1800, with EXIF)
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = (process.env.HM_BASE_URL || "").replace(/\/$/, "");
if (!base) {
  console.error("field.mjs: set HM_BASE_URL");
  process.exit(2);
}
const out = process.env.HM_OUT_DIR || "test-output";
mkdirSync(out, { recursive: true });
const store = process.env.HM_STORE || "store";
const planner = process.env.HM_PLANNER_TOKEN;

const failures = [];
function check(ok, what, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} [${store}] ${what}${detail ? ` — ${detail}` : ""}`);
  if (!ok) failures.push(what);
  return ok;
}

async function api(path, init = {}) {
  const res = await fetch(base + path, { ...init, headers: { Accept: "application/json", Authorization: `Bearer ${planner}`, ...(init.headers || {}) } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.headers.get("Content-Type")?.includes("json") ? res.json() : res.arrayBuffer();
}
const chaos = (body) => fetch(`${base}/test/chaos`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());

async function shot(page, name) {
  const path = join(out, `field-${store}-${name}`);
  await page.screenshot({ path });
  console.log(`screenshot ${path}`);
}

async function within(page, ms, fn, arg) {
  const t0 = Date.now();
  const ok = await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 }).then(
    () => true,
    () => false,
  );
  return ok ? Date.now() - t0 : -1;
}

// reports returns the reports of a point (newest first), as a planner sees them.
async function reports(id) {
  return (await api(`/collections/waterlogging_points/items/${id}/observations?limit=1000`)).observations;
}

const wps = (await api("/collections/waterlogging_points/items?limit=1000")).features;
const all = [];
for (const c of ["waterlogging_points", "relocation_sites", "depots"]) all.push(...(await api(`/collections/${c}/items?limit=1000`)).features);
const located = all.filter((f) => f.geometry).length;
const points = wps.filter((f) => f.geometry?.type === "Point").slice(0, 4).map((f) => f.id);
const unlocated = wps.filter((f) => !f.geometry).map((f) => f.id);
console.log(`[${store}] ${all.length} features, ${located} located; report points ${points.join(",")}; unlocated ${unlocated.slice(0, 2).join(",")}`);

const browser = await chromium.launch({
  executablePath: process.env.HM_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const MOBILE = { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: "zh-CN", serviceWorkers: "allow" };
const SPOT = { latitude: 34.7902, longitude: 113.3801 };

try {
  // ------------------------------------------------------------ 1. sign in through the link
  const crew = await browser.newContext({ ...MOBILE, permissions: ["geolocation"], geolocation: { ...SPOT, accuracy: 12 } });
  const page = await crew.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/#signin=${process.env.HM_CREW_CODE}`, { waitUntil: "load" });
  await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  const signedIn = await within(page, 10000, () => document.documentElement.dataset.role === "crew");
  const chip = await page.locator("#who").textContent();
  check(signedIn >= 0 && chip.includes("城建局一队") && chip.includes("抢险班组"), "sign in through the one-time link: the bar says who and the role", chip);
  const url = await page.evaluate(() => location.href);
  check(!url.includes("signin") && !url.includes("#"), "the code left the address bar", url);
  const cookies = await crew.cookies();
  const session = cookies.find((c) => c.name.endsWith("hm_session"));
  check(session?.httpOnly && session.sameSite === "Strict", "the token is an HttpOnly, SameSite=Strict cookie", JSON.stringify({ name: session?.name, httpOnly: session?.httpOnly, sameSite: session?.sameSite }));
  check(!(await page.evaluate(() => document.cookie)).includes("hm_"), "no script can read the token (document.cookie)");
  await page.evaluate(() => window.hazardmap.field);
  await page.waitForSelector('#toolbar [data-panel="outbox"]:not([hidden])', { timeout: 10000 });
  const sw = await page.evaluate(() => navigator.serviceWorker.ready.then((r) => !!r.active));
  check(sw, "the service worker is installed");
  const manifest = await page.evaluate(async () => (await fetch(document.querySelector('link[rel="manifest"]').href)).json());
  check(manifest.display === "standalone" && manifest.icons.some((i) => i.sizes === "512x512") && manifest.start_url === "/", "installable: a web manifest with icons, standalone", manifest.name);

  // ------------------------------------------------------------ 2. a report with a photo
  const P0 = points[0];
  const before0 = (await reports(P0)).length;
  await page.evaluate((id) => window.hazardmap.select("waterlogging_points", id), P0);
  await page.waitForSelector(`.leaflet-popup .hm-report[data-report="${P0}"]`, { timeout: 5000 });
  await page.locator('.hm-report [data-status-button="ponding"]').tap();
  await page.locator('.hm-report input[name="depth_cm"]').fill("35");
  await page.locator('.hm-report input[name="note"]').fill("桥下积水，已设警示");
  await page.locator('.hm-report input[name="photo"]').setInputFiles(process.env.HM_PHOTO);
  await page.waitForSelector(".hm-report[data-photo]", { timeout: 10000 });
  const resized = await page.locator(".hm-report").getAttribute("data-photo");
  check(resized === "1600x1200", "the photo is resized on the phone to 1600 px", resized);
  await page.locator(".leaflet-popup-content").evaluate((el) => (el.scrollTop = 0));
  await shot(page, "report-form.png");
  await page.locator(".hm-report [data-report-send]").tap();
  const sent = await within(page, 15000, () => document.documentElement.dataset.outboxWaiting === "0" && document.documentElement.dataset.outboxItems === "1");
  const after0 = await reports(P0);
  const mine = after0[0];
  check(sent >= 0 && after0.length === before0 + 1 && mine.photo?.width === 1600 && mine.accuracy_m === 12 && mine.position && mine.note === "桥下积水，已设警示",
    "the report with its photo, position and accuracy reached the server once", JSON.stringify({ sent, n: after0.length - before0, photo: mine.photo, acc: mine.accuracy_m }));
  const jpg = Buffer.from(await api(new URL(mine.photo.href).pathname));
  check(jpg[0] === 0xff && jpg[1] === 0xd8 && !jpg.includes("HUAWEI") && !jpg.includes("Exif"), "the stored photo is a JPEG without the camera's EXIF", `${jpg.length} bytes`);

  // ------------------------------------------------------------ 3. offline: the map opens from the phone
  await page.reload({ waitUntil: "load" }); // now under the service worker's control
  await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  check(await page.evaluate(() => !!navigator.serviceWorker.controller), "the service worker controls the page");
  await crew.setOffline(true);
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  const markers = await page.locator(".leaflet-marker-pane [data-marker-id]").count();
  check(markers === located, "offline, reloaded: the map opens with the cached layers", `${markers} markers, ${located} located`);
  const banner = await within(page, 5000, () => /离线 · 数据更新于 \d\d:\d\d/.test(document.getElementById("notice").textContent));
  check(banner >= 0, "offline: the banner says 离线 · 数据更新于 HH:MM", await page.locator("#notice").textContent());
  await within(page, 10000, () => document.documentElement.dataset.role === "crew" && document.documentElement.dataset.outboxItems != null);
  check((await page.evaluate(() => document.documentElement.dataset.role)) === "crew", "offline: still signed in (the session from the cache)");
  await shot(page, "offline-banner.png");

  // ------------------------------------------------------------ 4. 20 reports and 2 proposals offline
  const counts = {};
  for (const id of points) counts[id] = (await reports(id)).length;
  const made = {};
  for (let i = 0; i < 20; i++) {
    const id = points[i % points.length];
    await page.evaluate((id) => window.hazardmap.select("waterlogging_points", id), id);
    await page.waitForSelector(`.leaflet-popup .hm-report[data-report="${id}"]`, { timeout: 5000 });
    await page.locator(`.hm-report [data-status-button="${i % 2 ? "closed" : "ponding"}"]`).tap();
    await page.locator('.hm-report input[name="depth_cm"]').fill(String(20 + i));
    await page.locator('.hm-report input[name="note"]').fill(`offline-${i}`);
    await page.locator(".hm-report [data-report-send]").tap();
    await page.waitForSelector(".hm-report [data-report-queued]", { timeout: 5000 });
    made[id] = (made[id] ?? 0) + 1;
    await page.evaluate(() => window.hazardmap.map.closePopup());
  }
  // Two proposals from the spot: one fix good enough for the map to take,
  // one the crew takes (10–30 m).
  const [U1, U2] = unlocated;
  for (const [id, accuracy] of [[U1, 6], [U2, 20]]) {
    await crew.setGeolocation({ ...SPOT, accuracy });
    await page.locator('#toolbar [data-panel="unlocated"]').tap();
    await page.locator(`#sheet .hm-unlocated-item[data-id="${id}"] > summary`).tap();
    await page.locator(`#sheet [data-locate-here="${id}"]`).tap();
    if (accuracy > 10) {
      await page.waitForSelector("#hm-float [data-locate-accept]", { timeout: 10000 });
      await page.locator("#hm-float [data-locate-accept]").tap();
    }
    await page.waitForSelector("#hm-float [data-locate-queued]", { timeout: 10000 });
  }
  const waiting = await page.evaluate(() => document.documentElement.dataset.outboxWaiting);
  check(waiting === "22", "offline: 20 reports and 2 location proposals wait in the outbox", waiting);

  // ------------------------------------------------------------ 5. online again: each arrives once, in order
  await crew.setOffline(false);
  const drained = await within(page, 60000, () => document.documentElement.dataset.outboxWaiting === "0");
  check(drained >= 0, "online: the outbox empties by itself", `${drained} ms`);
  let ours = [];
  let exact = true;
  for (const id of points) {
    const rs = await reports(id);
    if (rs.length - counts[id] !== (made[id] ?? 0)) exact = false;
    ours.push(...rs.filter((r) => /^offline-\d+$/.test(r.note)));
  }
  const notes = ours.map((r) => r.note);
  check(exact && ours.length === 20 && new Set(notes).size === 20, "all 20 reports arrived exactly once", `${ours.length} arrived, ${new Set(notes).size} distinct`);
  ours.sort((a, b) => a.id - b.id);
  const inOrder = ours.every((r, i) => i === 0 || r.observed_at >= ours[i - 1].observed_at) && ours.every((r, i) => r.note === `offline-${i}`);
  check(inOrder, "they arrived in the order observed (observed_at kept from the phone)", ours.map((r) => r.note.replace("offline-", "")).join(","));
  const pend = (await api("/location-proposals?status=pending")).proposals;
  const props = pend.filter((p) => p.feature_id === U1 || p.feature_id === U2);
  check(props.length === 2 && props[0].feature_id === U1 && props[0].method === "auto" && props[1].method === "accepted" && props[0].observed_at <= props[1].observed_at,
    "both location proposals arrived once, in order (auto, then accepted by the crew)", props.map((p) => `${p.feature_id}:${p.method}:${p.accuracy_m}`).join(" "));
  const lastReport = ours[ours.length - 1];
  check(!lastReport || lastReport.observed_at <= props[0].observed_at, "reports and proposals share one order");

  // ------------------------------------------------------------ 6. the outbox, with an item in each state
  await page.evaluate((id) =>
    window.hazardmap.app.outbox.add({ id: crypto.randomUUID(), kind: "report", collection: "waterlogging_points", featureId: id, name: "测试", body: { depth_cm: 40, status: "clear", observed_at: new Date().toISOString() }, observedAt: new Date().toISOString() }),
  points[1]);
  await within(page, 10000, () => !!document.querySelector('html[data-outbox-waiting="0"]'));
  // One held on the server (发送中), one queued behind it (待发送).
  await chaos({ hold: true });
  await page.evaluate((id) =>
    window.hazardmap.app.outbox.add({ id: crypto.randomUUID(), kind: "report", collection: "waterlogging_points", featureId: id, name: "发送中测试", body: { depth_cm: 12, status: "ponding", observed_at: new Date().toISOString() }, observedAt: new Date().toISOString() }),
  points[2]);
  await within(page, 5000, () => !!document.querySelector('html[data-outbox-waiting="1"]'));
  await page.evaluate((id) =>
    window.hazardmap.app.outbox.add({ id: crypto.randomUUID(), kind: "report", collection: "waterlogging_points", featureId: id, name: "待发送测试", body: { depth_cm: 8, status: "ponding", observed_at: new Date(Date.now() + 1000).toISOString() }, observedAt: new Date(Date.now() + 1000).toISOString() }),
  points[3]);
  await page.locator('#toolbar [data-panel="outbox"]').tap();
  await page.waitForSelector('#sheet[data-panel="outbox"]:not([hidden])');
  const states = await page.locator("#sheet [data-outbox-id]").evaluateAll((els) => [...new Set(els.map((e) => e.dataset.state))].sort());
  const reason = await page.locator('#sheet [data-state="rejected"] [data-reason]').first().textContent().catch(() => "");
  check(JSON.stringify(states) === JSON.stringify(["delivered", "pending", "rejected", "sending"]), "the outbox shows items 待发送, 发送中, 已送达 and 被拒绝", states.join(","));
  check(/15/.test(reason), "a refused item shows the server's reason", reason);
  await page.evaluate(() => {
    document.getElementById("sheet").scrollTop = 0;
    document.getElementById("hm-float").hidden = true;
  });
  await shot(page, "outbox-states.png");
  await chaos({ hold: false });
  await within(page, 30000, () => document.documentElement.dataset.outboxWaiting === "0");
  await page.evaluate(() => window.hazardmap.app.outbox.flush({ force: true }));

  // ------------------------------------------------------------ 7. chaos: 100 uploads cut at random points
  const CH = points[1];
  const chBefore = (await reports(CH)).length;
  await chaos({ p: 0.5 });
  await page.evaluate(async (id) => {
    const box = window.hazardmap.app.outbox;
    const t0 = Date.now() - 60000;
    for (let i = 0; i < 100; i++) {
      const at = new Date(t0 + i * 100).toISOString();
      await box.add({ id: crypto.randomUUID(), kind: "report", collection: "waterlogging_points", featureId: id, name: "chaos", body: { depth_cm: 5, status: "ponding", note: `chaos-${i}`, observed_at: at }, observedAt: at });
    }
  }, CH);
  const t0 = Date.now();
  let rounds = 0;
  while (Date.now() - t0 < 120000) {
    const left = await page.evaluate(async () => {
      await window.hazardmap.app.outbox.flush({ force: true });
      return window.hazardmap.app.outbox.waiting();
    });
    rounds++;
    if (left === 0) break;
  }
  const stats = await fetch(`${base}/test/chaos`).then((r) => r.json());
  await chaos({ p: 0 });
  const chAfter = await reports(CH);
  const chaosNotes = chAfter.filter((r) => /^chaos-\d+$/.test(r.note ?? "")).map((r) => r.note);
  check(chAfter.length - chBefore === 100 && new Set(chaosNotes).size === 100 && chaosNotes.length === 100,
    "chaos: 100 uploads cut at random points; the server holds exactly 100, no duplicates",
    `${chAfter.length - chBefore} new, ${new Set(chaosNotes).size} distinct; ${rounds} rounds in ${Date.now() - t0} ms`);
  console.log(`[${store}] chaos: requests dropped before the server ${stats.before}, answers dropped after the commit ${stats.after}`);

  // ------------------------------------------------------------ 8. a planner accepts; the crew's map follows
  await page.locator('#toolbar [data-panel="unlocated"]').tap();
  await page.waitForSelector(`#sheet .hm-unlocated-item[data-id="${U1}"]`);
  const desk = await browser.newContext({ ...MOBILE });
  const pp = await desk.newPage();
  await pp.goto(base + "/", { waitUntil: "load" });
  await pp.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  await pp.locator("#who").tap();
  await pp.locator("#hm-code").fill(process.env.HM_PLANNER_CODE.toLowerCase().replaceAll("-", " "));
  await pp.locator('#sheet form button[type="submit"]').tap();
  const planned = await within(pp, 10000, () => document.documentElement.dataset.role === "planner");
  check(planned >= 0 && (await pp.locator("#who").textContent()).includes("规划人员"), "a planner signs in by typing the code", await pp.locator("#who").textContent());
  await pp.waitForSelector('#toolbar [data-panel="review"]:not([hidden])', { timeout: 10000 });
  await pp.locator('#toolbar [data-panel="review"]').tap();
  await pp.waitForSelector(`#sheet [data-accept]`, { timeout: 10000 });
  const listed = await pp.locator("#sheet [data-proposal-id]").count();
  check(listed >= 2, "the review panel lists the pending proposals", `${listed}`);
  const p1 = props[0];
  await pp.locator(`#sheet [data-proposal-id="${p1.id}"] button`, { hasText: "查看" }).tap();
  await pp.waitForTimeout(500);
  await shot(pp, "review-panel.png");
  await pp.locator(`#sheet [data-accept="${p1.id}"]`).tap();
  const left = await within(
    page,
    5000,
    (id) => !!window.hazardmap.registry.get("waterlogging_points", id)?.marker && !document.querySelector(`#sheet .hm-unlocated-item[data-id="${id}"]`),
    U1,
  );
  check(left >= 0, "the point leaves 待定位 on the crew's open map through /events", left >= 0 ? `${left} ms` :
    `not within 5 s: ${await page.evaluate((id) => JSON.stringify({ live: document.documentElement.dataset.live, geometry: window.hazardmap.registry.get("waterlogging_points", id)?.feature.geometry, updates: window.hazardmap.updates }), U1)}`);
  const f = await api(`/collections/waterlogging_points/items/${U1}`);
  check(f.geometry?.type === "Point" && f.properties.location_precision_m === 6 && /城建局一队/.test(f.properties.location_source), "the point has the position, the measured precision and who stood there", f.properties.location_source);
  // The other proposal is rejected with a reason.
  const p2 = props[1];
  await pp.locator(`#sheet [data-reject="${p2.id}"]`).tap();
  await pp.locator(`#sheet [data-reject-reason="${p2.id}"]`).fill("位置偏差较大，请到路口重新定位");
  await pp.locator(`#sheet [data-reject-send="${p2.id}"]`).tap();
  const rejected = await within(pp, 5000, (id) => !document.querySelector(`#sheet [data-proposal-id="${id}"]`), p2.id);
  const p2now = await api(`/location-proposals/${p2.id}`);
  check(rejected >= 0 && p2now.status === "rejected" && p2now.reason.includes("路口"), "a planner rejects a proposal with a reason", p2now.status);

  // Drag-to-correct: the planner moves a point; If-Match guards it.
  const M = points[2];
  await pp.evaluate((id) => window.hazardmap.select("waterlogging_points", id), M);
  await pp.waitForSelector(`.leaflet-popup [data-move="${M}"]`, { timeout: 5000 });
  await pp.locator(`.leaflet-popup [data-move="${M}"]`).tap();
  // Where the finger lets go (Leaflet's own drag moves the marker there).
  await pp.evaluate((id) => {
    const m = window.hazardmap.registry.get("waterlogging_points", id).marker;
    const ll = m.getLatLng();
    m.setLatLng([ll.lat + 0.0003, ll.lng + 0.0004]);
  }, M);
  await pp.locator("[data-move-confirm]").tap();
  const moved = await within(pp, 5000, () => document.querySelector("[data-move-bar]").hidden);
  const mf = await api(`/collections/waterlogging_points/items/${M}`);
  const orig = wps.find((x) => x.id === M);
  check(moved >= 0 && JSON.stringify(mf.geometry.coordinates) !== JSON.stringify(orig.geometry.coordinates) && /Moved on the map by 规划科 王工/.test(mf.properties.location_source),
    "a planner drags a point to correct it (PATCH with If-Match)", `${orig.geometry.coordinates} → ${mf.geometry.coordinates}`);

  check(errors.length === 0, "no page errors on the crew's phone", errors.join(" | "));
  await desk.close();
  await crew.close();
} catch (err) {
  check(false, "field run", err.stack || String(err));
} finally {
  await browser.close();
}

console.log(failures.length ? `\n${failures.length} check(s) failed` : "\nall checks passed");
process.exit(failures.length ? 1 : 0);
