// water.mjs checks the water room in a real browser (Chromium, headless)
// against a running hazardmap server that web/water_test.go starts on
// each store, with a gauge 饮马坑水库 (test limits, not facts of the
// report) that has 72 hours of readings below its flood limit:
//   - its marker is coloured by the level against today's limit;
//   - its popup draws the last 72 hours with the flood-limit line (the
//     line's red pixels are found on the canvas at the limit's height);
//   - a crew signed in through a one-time link enters a reading 0.15 m
//     over the limit from the popup; the alert opens on the server, the
//     red banner with 确认 appears on the open map and the marker turns
//     red; 确认 with a note acknowledges it (checked on the server);
//   - a page nobody signed in to shows no banner.
// It prints one line per check and exits 1 if any failed.
//
// Environment: HM_BASE_URL, HM_OUT_DIR, HM_STORE, HM_CHROMIUM,
// HM_CREW_CODE (a crew's one-time sign-in code), HM_PLANNER_TOKEN,
// HM_GAUGE (the gauge's id), HM_LIMIT (its flood limit today).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = (process.env.HM_BASE_URL || "").replace(/\/$/, "");
if (!base) {
  console.error("water.mjs: set HM_BASE_URL");
  process.exit(2);
}
const out = process.env.HM_OUT_DIR || "test-output";
mkdirSync(out, { recursive: true });
const store = process.env.HM_STORE || "store";
const gauge = process.env.HM_GAUGE;
const limit = Number(process.env.HM_LIMIT);

const failures = [];
function check(ok, what, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} [${store}] ${what}${detail ? ` — ${detail}` : ""}`);
  if (!ok) failures.push(what);
  return ok;
}

async function api(path) {
  const res = await fetch(base + path, { headers: { Accept: "application/json", Authorization: `Bearer ${process.env.HM_PLANNER_TOKEN}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function within(page, ms, fn, arg) {
  const t0 = Date.now();
  const ok = await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 }).then(
    () => true,
    () => false,
  );
  return ok ? Date.now() - t0 : -1;
}

async function shot(page, name) {
  const path = join(out, `water-${store}-${name}`);
  await page.screenshot({ path });
  console.log(`screenshot ${path}`);
}

const browser = await chromium.launch({
  executablePath: process.env.HM_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const MOBILE = { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: "zh-CN", serviceWorkers: "block" };

try {
  const crew = await browser.newContext(MOBILE);
  const page = await crew.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  const chunks = [];
  page.on("request", (r) => r.url().includes("/assets/chart-") && chunks.push(r.url()));
  await page.goto(`${base}/#signin=${process.env.HM_CREW_CODE}`, { waitUntil: "load" });
  await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  check((await within(page, 10000, () => document.documentElement.dataset.role === "crew")) >= 0, "the crew is signed in");
  check((await within(page, 10000, () => window.hazardmap.water?.loaded)) >= 0, "the levels of the gauges are loaded");
  check(chunks.length === 0, "the chart library is not part of the first load", chunks.join(" "));
  const marker = `.hm-marker [data-marker-id="${gauge}"]`;
  const level0 = await page.locator(marker).getAttribute("data-level");
  check(level0 === "ok", "the gauge's marker shows a level below its limit", level0);

  // ---------------------------------------------------------------- the chart
  // Bring the gauge into view (it lies outside the city view), then tap it.
  await page.evaluate((id) => {
    const e = window.hazardmap.registry.get("gauges", id);
    window.hazardmap.map.setView(e.marker.getLatLng(), 14, { animate: false });
  }, gauge);
  await page.locator(marker).click();
  const drawn = await within(page, 15000, (id) => window.hazardmap.chart?.gauge === id, gauge);
  check(drawn >= 0, "the popup draws the gauge's chart");
  const info = await page.evaluate(() => {
    const c = window.hazardmap.chart;
    return { points: c.points, lines: c.lines };
  });
  check(info.points >= 100, "the chart has the last 72 hours of readings", `${info.points} points`);
  const flood = info.lines.find((l) => l.key === "floodLimit");
  check(flood && Math.abs(flood.value - limit) < 1e-9, "the chart has the flood-limit line at today's limit", JSON.stringify(info.lines));
  // The line is on the canvas: red pixels along the limit's row.
  const red = await page.evaluate((lim) => {
    const u = window.hazardmap.chart.plot;
    const cv = u.ctx.canvas;
    const y = Math.round(u.valToPos(lim, "y", true));
    const { left, width } = u.bbox;
    const data = u.ctx.getImageData(Math.round(left), y - 2, Math.round(width), 5).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] > 180 && data[i + 1] < 80 && data[i + 2] < 80 && data[i + 3] > 0) n++;
    return { n, y, w: cv.width };
  }, limit);
  check(red.n > 50, "the flood-limit line is drawn on the canvas (red pixels at its height)", JSON.stringify(red));
  check(chunks.length === 1, "the chart library came as a chunk of its own when the popup opened", chunks.join(" "));
  await shot(page, "chart.png");

  // --------------------------------------------------- a reading from the popup
  const form = page.locator(`[data-reading-form="${gauge}"]`);
  check((await form.count()) === 1, "the popup has the enter-reading form for a crew");
  await form.locator('input[name="level"]').fill(String(limit + 0.15));
  await form.locator('input[name="note"]').fill("水尺读数，人工观测");
  const sentAt = Date.now();
  await form.locator("[data-reading-send]").click();
  const bannerUp = await within(page, 20000, () => {
    const b = document.getElementById("hm-alert-banner");
    return b && !b.hidden && b.querySelector(".hm-alert[data-state=open]");
  });
  check(bannerUp >= 0, "the red banner with 确认 appears on the open map when the alert opens", `${Date.now() - sentAt} ms after sending`);
  const bannerText = await page.locator("#hm-alert-banner").textContent();
  check(bannerText.includes("饮马坑水库") && bannerText.includes("超汛限水位") && bannerText.includes("确认"), "the banner names the gauge and the alert", bannerText);
  check((await within(page, 10000, (sel) => document.querySelector(sel)?.dataset.level === "alert", marker)) >= 0, "the gauge's marker turns red");
  const latest = (await api(`/readings/latest?gauge_id=${gauge}`)).readings[0];
  check(Math.abs(latest.level - (limit + 0.15)) < 1e-9 && latest.source === "manual" && latest.reporter?.name === "城建局一队", "the reading reached the server, from the crew", JSON.stringify(latest));
  await shot(page, "banner.png");

  // ---------------------------------------------------------------- 确认
  await page.locator("#hm-alert-banner [data-ack]").first().click();
  await page.locator('#hm-alert-banner input[name="note"]').fill("已通知水库管理员，现场核实");
  await page.locator('#hm-alert-banner [data-step="acknowledge"] button[type="submit"]').click();
  check((await within(page, 10000, () => document.getElementById("hm-alert-banner").hidden)) >= 0, "确认 with a note: the banner goes");
  const alerts = (await api(`/alerts?gauge_id=${gauge}`)).alerts;
  const ack = alerts[0]?.steps.find((s) => s.action === "acknowledge");
  check(alerts[0]?.state === "acknowledged" && ack?.actor.name === "城建局一队" && ack.note.includes("现场核实"), "the server has the acknowledgement, by the crew, with the note", JSON.stringify(alerts[0]?.steps));

  // ---------------------------------------------------------------- the public
  const pub = await (await browser.newContext(MOBILE)).newPage();
  await pub.goto(base + "/", { waitUntil: "load" });
  await pub.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  await within(pub, 10000, () => window.hazardmap.water?.loaded);
  check(await pub.locator("#hm-alert-banner").isHidden(), "a page nobody signed in to shows no banner");
  check((await pub.locator(marker).getAttribute("data-level")) === "alert", "the public sees the marker red too");
  check(errors.length === 0, "no errors in the page", errors.join(" | "));
} catch (err) {
  check(false, "the script ran to the end", err.stack);
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} failed`);
  process.exit(1);
}
