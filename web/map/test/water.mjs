// water.mjs checks the water room in a real browser (Chromium, headless)
// against a running hazardmap server that web/water_test.go starts on
// each store, with a gauge 饮马坑水库 (test limits, not facts of the
// report) that has 72 hours of readings below its flood limit:
//   - its marker is coloured by the level against today's limit;
//   - its popup draws the last 72 hours with the flood-limit line (the
//     line's red pixels are found on the canvas at the limit's height);
//   - a crew signed in through a one-time link types a reading 0.15 m
//     over the limit in centimetres by mistake: the form says the gauge
//     cannot read it and offers the level in metres, which is sent from
//     the popup; the alert opens on the server, the
//     red banner with 确认 appears on the open map and the marker turns
//     red; 确认 with a note acknowledges it (checked on the server);
//   - a page nobody signed in to shows no banner.
// It prints one line per check and exits 1 if any failed.
//
// Environment: HM_BASE_URL, HM_OUT_DIR, HM_STORE, HM_CHROMIUM,
// HM_CREW_CODE (a crew's one-time sign-in code), HM_PLANNER_TOKEN,
// HM_GAUGE (the gauge's id), HM_LIMIT (its flood limit today).
import { harness, within, MOBILE as PHONE, signedIn } from "./harness.mjs";

const { base, check, shot, api: get, launch, run } = harness("water.mjs", { shots: "water-", tagged: true });
const gauge = process.env.HM_GAUGE;
const limit = Number(process.env.HM_LIMIT);
const api = (path) => get(path, { token: process.env.HM_PLANNER_TOKEN });

const browser = await launch();
const MOBILE = { ...PHONE, serviceWorkers: "block" };

await run(browser, async () => {
  const crew = await browser.newContext(MOBILE);
  const page = await crew.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  const chunks = [];
  page.on("request", (r) => r.url().includes("/assets/chart-") && chunks.push(r.url()));
  await signedIn(page, base, process.env.HM_CREW_CODE);
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
  // In centimetres by mistake: outside what the gauge reads (140–160 m, water_test.go).
  const typed = String(Math.round((limit + 0.15) * 100));
  await form.locator('input[name="level"]').fill(typed);
  const rule = (await form.locator("[data-reading-error]").textContent().catch(() => "")) ?? "";
  const fix = await form.locator("[data-reading-fix]").getAttribute("data-reading-fix").catch(() => null);
  check(rule.includes("可测水位") && Number(fix) === Math.round((limit + 0.15) * 100) / 100, "a level the gauge cannot read is said as it is typed, with the level in metres offered", `${typed}: ${rule} (${fix})`);
  await shot(page, "reading-rule.png");
  await form.locator("[data-reading-send]").click();
  await page.waitForTimeout(300);
  check((await page.evaluate(() => document.documentElement.dataset.outboxItems)) === "0", "…and it is not queued");
  await form.locator("[data-reading-fix]").click();
  check(Number(await form.locator('input[name="level"]').inputValue()) === Number(fix) && (await form.locator("[data-reading-error]").count()) === 0, "the offered level replaces what was typed");
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
  await signedIn(pub, base, null);
  await within(pub, 10000, () => window.hazardmap.water?.loaded);
  check(await pub.locator("#hm-alert-banner").isHidden(), "a page nobody signed in to shows no banner");
  check((await pub.locator(marker).getAttribute("data-level")) === "alert", "the public sees the marker red too");
  check(errors.length === 0, "no errors in the page", errors.join(" | "));
});
