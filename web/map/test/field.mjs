// field.mjs checks field mode in a real browser (Chromium, headless, with
// its service worker) against a running hazardmap server that
// web/field_test.go starts on each store. It prints one line per check and
// exits 1 if any failed.
//
// Environment (besides harness.mjs's HM_BASE_URL, HM_OUT_DIR, HM_STORE, HM_CHROMIUM):
//   HM_CREW_CODE      a one-time sign-in code of a crew (opened as a link)
//   HM_PLANNER_CODE   a one-time sign-in code of a planner (typed in the panel)
//   HM_PLANNER_TOKEN  a planner's bearer token, to check the server's side
//   HM_PHOTO          a JPEG from a "camera" (2400×1800, with EXIF)
import { harness, within, openPanel, MOBILE as PHONE } from "./harness.mjs";

const { base, store, check, checkBar, shot, api: get, launch, run } = harness("field.mjs", { shots: "field-", tagged: true });
const planner = process.env.HM_PLANNER_TOKEN;
const api = (path, init) => get(path, { token: planner, init });
const chaos = (body) => fetch(`${base}/test/chaos`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());

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

const browser = await launch();
const MOBILE = { ...PHONE, serviceWorkers: "allow" };
const SPOT = { latitude: 34.7902, longitude: 113.3801 };

await run(browser, async () => {
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
  // A crew's bar at 360 px: its work first, the rest under 更多.
  await checkBar(page, "crew at 360×640", ["report", "outbox", "unlocated", "locate", "more"]);
  await shot(page, "tabs-crew-360x640.png");
  await openPanel(page, "more");
  const more = await page.locator("#sheet [data-more-panel]").evaluateAll((els) => els.map((e) => e.dataset.morePanel));
  check(more.join() === "alerts,layers,reach,files", "crew: 更多 lists the other panels (告警, 图层, 覆盖, 表格)", more.join());
  await shot(page, "tabs-crew-more-360x640.png");
  await page.locator("#lang").tap();
  await checkBar(page, "crew at 360×640 in English", ["report", "outbox", "unlocated", "locate", "more"]);
  await page.locator("#lang").tap();
  await openPanel(page, "report");
  await page.waitForSelector("#sheet [data-pick]", { timeout: 5000 });
  const picks = await page.locator("#sheet [data-pick]").evaluateAll((els) => els.map((e) => e.dataset.pick));
  const nearest = wps.filter((f) => f.geometry?.type === "Point").map((f) => [f.id, Math.hypot((f.geometry.coordinates[0] - SPOT.longitude) * Math.cos((SPOT.latitude * Math.PI) / 180), f.geometry.coordinates[1] - SPOT.latitude)]).sort((a, b) => a[1] - b[1])[0][0];
  await within(page, 10000, () => /±/.test(document.querySelector("#sheet .hm-muted")?.textContent ?? ""));
  const pickedFirst = await page.locator("#sheet [data-pick]").first().getAttribute("data-pick");
  check(picks.length >= points.length && pickedFirst === nearest, "上报 lists the points, the nearest to the crew first", `${pickedFirst}, nearest ${nearest}; ${picks.length} listed`);
  const sw = await page.evaluate(() => navigator.serviceWorker.ready.then((r) => !!r.active));
  check(sw, "the service worker is installed");
  const manifest = await page.evaluate(async () => (await fetch(document.querySelector('link[rel="manifest"]').href)).json());
  check(manifest.display === "standalone" && manifest.icons.some((i) => i.sizes === "512x512") && manifest.start_url === "/", "installable: a web manifest with icons, standalone", manifest.name);

  // ------------------------------------------------------------ 2. a report with a photo
  const P0 = points[0];
  const before0 = (await reports(P0)).length;
  await page.locator(`#sheet [data-pick="${P0}"]`).tap(); // from 上报: flies there, opens the form
  await page.waitForSelector(`.leaflet-popup .hm-report[data-report="${P0}"]`, { timeout: 5000 });
  // What the server refuses never enters the queue: 畅通 with 40 cm is
  // said at once (GB 51222), with the status that the server takes.
  await page.locator('.hm-report [data-status-button="clear"]').tap();
  await page.locator('.hm-report input[name="depth_cm"]').fill("40");
  const rule = (await page.locator(".hm-report [data-report-error]").textContent().catch(() => "")) ?? "";
  check(rule.includes("15 厘米") && rule.includes("畅通") && (await page.locator('.hm-report [data-report-fix="ponding"]').count()) === 1,
    "the form says as it is typed that 畅通 over 15 cm is refused, and offers 改报积水", rule);
  await page.locator(".hm-report [data-report-send]").tap();
  await page.waitForTimeout(300);
  check((await page.evaluate(() => document.documentElement.dataset.outboxItems)) === "0", "…and 上报 does not queue it");
  await page.locator(".leaflet-popup-content").evaluate((el) => el.querySelector("[data-report-error]")?.scrollIntoView({ block: "center" }));
  await shot(page, "report-rule.png");
  await page.locator('.hm-report [data-report-fix="ponding"]').tap();
  const switched = await page.evaluate(() => ({
    pressed: document.querySelector('.hm-report [data-status-button="ponding"]').getAttribute("aria-pressed"),
    error: !!document.querySelector(".hm-report [data-report-error]"),
  }));
  check(switched.pressed === "true" && !switched.error, "改报积水 switches the status and the warning goes", JSON.stringify(switched));
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
    if ((await page.locator('#sheet[data-panel="unlocated"]:not([hidden])').count()) === 0) await openPanel(page, "unlocated");
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
  // The banner goes as soon as the stream is back and the layers came
  // from the network again, not when the stream's own retry comes round.
  await page.evaluate(() => {
    window.__fresh = 0;
    addEventListener("hm:data", (ev) => {
      if (!ev.detail.cached) window.__fresh ||= Date.now();
    });
  });
  const before = await page.evaluate(() => ({ live: document.documentElement.dataset.live, offline: document.documentElement.dataset.offline }));
  const backAt = Date.now();
  await crew.setOffline(false);
  const bannerGone = await within(page, 20000, () => document.getElementById("notice").hidden || !/离线/.test(document.getElementById("notice").textContent));
  const liveAgain = await within(page, 20000, () => document.documentElement.dataset.live === "live");
  await within(page, 20000, () => window.__fresh > 0);
  const fresh = await page.evaluate(() => window.__fresh);
  check(bannerGone >= 0 && liveAgain >= 0 && fresh > 0 && bannerGone < 10000 && fresh - backAt <= bannerGone + 50,
    "online: the stream reconnects at once, the layers come from the network and the offline banner goes",
    `banner gone ${bannerGone} ms, stream live ${liveAgain} ms, layers from the network ${fresh ? fresh - backAt : "never"} ms after the network came back (before: ${JSON.stringify(before)})`);
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
  await openPanel(page, "outbox");
  const states = await page.locator("#sheet [data-outbox-id]").evaluateAll((els) => [...new Set(els.map((e) => e.dataset.state))].sort());
  const reason = (await page.locator('#sheet [data-state="rejected"] .hm-reason-text').first().textContent().catch(() => "")) ?? "";
  const words = (await page.locator('#sheet [data-state="rejected"] .hm-reason-detail').first().textContent().catch(() => "")) ?? "";
  check(JSON.stringify(states) === JSON.stringify(["delivered", "pending", "rejected", "sending"]), "the outbox shows items 待发送, 发送中, 已送达 and 被拒绝", states.join(","));
  check(reason.startsWith("水深超过 15 厘米不能报“畅通”") && words.includes("clear contradicts a depth above 15 cm"),
    "a refused item says why in Chinese, the server's English small beneath", `${reason} | ${words}`);
  await page.evaluate(() => {
    document.getElementById("sheet").scrollTop = 0;
    document.getElementById("hm-float").hidden = true;
  });
  await shot(page, "outbox-states.png");
  await chaos({ hold: false });
  await within(page, 30000, () => document.documentElement.dataset.outboxWaiting === "0");
  await page.evaluate(() => window.hazardmap.app.outbox.flush({ force: true }));
  // 改报积水并重发: the refused report goes again as ponding, under a new key.
  await page.locator('#sheet [data-state="rejected"] [data-resend="ponding"]').first().tap();
  const resent = await within(page, 15000, () => !document.querySelector('#sheet [data-state="rejected"]') && document.documentElement.dataset.outboxWaiting === "0");
  const again = (await reports(points[1]))[0];
  check(resent >= 0 && again.status === "ponding" && again.depth_cm === 40, "改报积水并重发: the refused report arrives as ponding, 40 cm, and leaves 被拒绝", JSON.stringify({ resent, status: again.status, depth: again.depth_cm }));

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
  await openPanel(page, "unlocated");
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
  await pp.evaluate(() => window.hazardmap.field);
  await checkBar(pp, "planner at 360×640", ["review", "alerts", "files", "reach", "more"]);
  await openPanel(pp, "more");
  const pmore = await pp.locator("#sheet [data-more-panel]").evaluateAll((els) => els.map((e) => e.dataset.morePanel));
  check(pmore.join() === "layers,unlocated,locate,report,outbox", "planner: 更多 lists 图层, 待定位, 我的位置, 上报, 发送", pmore.join());
  await shot(pp, "tabs-planner-more-360x640.png");
  await openPanel(pp, "review");
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
});
