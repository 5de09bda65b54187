// files.mjs checks, in a real browser (Chromium, headless), what the map
// shows of contacts and files against a running hazardmap server that
// web/files_test.go starts: the public sees no contact in a popup (only
// that crews see one), a signed-in crew sees the duty contact and the
// depot keeper with a tap-to-call tel: link, and downloads a layer from
// the 表格 panel (a real download, with the name the server gives and the
// crew's view inside); a planner dry-runs an edited CSV in the panel (a
// table of every row: updated, invalid with its row and column in
// Chinese), imports the good rows, and the server has the edit, audited.
// It prints one line per check and exits 1 if any failed.
//
// Environment (besides harness.mjs's HM_BASE_URL, HM_OUT_DIR: screenshots
// and downloads, HM_CHROMIUM):
//   HM_CREW_CODE      a one-time sign-in code of a crew
//   HM_PLANNER_CODE   a one-time sign-in code of a planner
//   HM_PLANNER_TOKEN  a planner's bearer token, to set the contacts and check the server's side
//   HM_POINT, HM_DEPOT  the ids of the point and the depot with contacts
//   HM_CONTACT_NAME, HM_CONTACT_PHONE, HM_CONTACT_TEL, HM_KEEPER_NAME  the contacts set, and the tel: link wanted
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { harness, openPanel, signedIn, MOBILE as PHONE } from "./harness.mjs";

const env = process.env;
const { base, out, check, shot, api: get, launch, run } = harness("files.mjs", { shots: "files-" });
const [POINT, DEPOT] = [env.HM_POINT, env.HM_DEPOT];
const [NAME, PHONE_NUMBER, TEL, KEEPER] = [env.HM_CONTACT_NAME, env.HM_CONTACT_PHONE, env.HM_CONTACT_TEL, env.HM_KEEPER_NAME];
const api = (path) => get(path, { token: env.HM_PLANNER_TOKEN });

const browser = await launch();
const MOBILE = { ...PHONE, acceptDownloads: true };

// open returns a page of a new context: the public's, or signed in with code.
async function open(code) {
  const context = await browser.newContext(MOBILE);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await signedIn(page, base, code);
  return { context, page, errors };
}

// popup opens a feature's popup and returns it.
async function popup(page, c, id) {
  await page.evaluate(([c, id]) => window.hazardmap.select(c, id), [c, id]);
  await page.waitForSelector(`.leaflet-popup-content .hm-popup[data-feature-id="${id}"]`, { timeout: 5000 });
  return page.locator(".leaflet-popup-content");
}

// files opens the 表格 panel and waits for its export links.
async function files(page) {
  await openPanel(page, "files");
  await page.waitForSelector('#sheet [data-export="depots/xlsx"]', { timeout: 10000 });
}

await run(browser, async () => {
  // ------------------------------------------------------------ the public
  const pub = await open(null);
  let pop = await popup(pub.page, "waterlogging_points", POINT);
  let text = await pop.textContent();
  check(!text.includes(NAME) && !text.includes(PHONE_NUMBER) && (await pop.locator('a[href^="tel:"]').count()) === 0,
    "public: the popup shows no duty contact and no tel: link", text.slice(0, 120));
  check((await pop.locator("[data-contact-hidden]").count()) === 1 && text.includes("抢险班组登录后可见"), "public: the popup says crews see the contact");
  pop = await popup(pub.page, "depots", DEPOT);
  check(!(await pop.textContent()).includes(KEEPER), "public: the depot's popup shows no keeper");
  check(await pub.page.locator('#toolbar [data-panel="files"]').isHidden(), "public: no 表格 tab");
  check(pub.errors.length === 0, "public: no page errors", pub.errors.join(" | "));
  await pub.context.close();

  // ------------------------------------------------------------ a crew
  const crew = await open(env.HM_CREW_CODE);
  await crew.page.evaluate(() => window.hazardmap.field);
  pop = await popup(crew.page, "waterlogging_points", POINT);
  text = await pop.textContent();
  const tel = pop.locator("a.hm-tel");
  check(text.includes(NAME) && (await tel.count()) === 1 && (await tel.getAttribute("href")) === TEL,
    "crew: the popup shows the duty contact with a tap-to-call link", `${await tel.getAttribute("href").catch(() => "none")}`);
  const height = await crew.page.evaluate(() => document.querySelector(".leaflet-popup-content a.hm-tel")?.getBoundingClientRect().height ?? 0);
  check(height >= 44, "crew: the call link is a 44 px touch target", `${height} px`);
  check(text.includes("排水泵"), "crew: the popup lists the equipment on site");
  await crew.page.locator(".leaflet-popup-content").evaluate((el) => (el.scrollTop = Math.max(0, el.querySelector("a.hm-tel").offsetTop - 120)));
  check(await crew.page.locator(".leaflet-popup-content").evaluate((el) => el.scrollWidth <= el.clientWidth), "crew: the popup does not scroll sideways");
  await shot(crew.page, "crew-contact.png");
  pop = await popup(crew.page, "depots", DEPOT);
  check((await pop.textContent()).includes(KEEPER) && (await pop.locator("a.hm-tel").count()) === 1, "crew: the depot's popup shows the keeper with a tel: link");
  await crew.page.evaluate(() => window.hazardmap.app.map.closePopup());

  await files(crew.page);
  const links = await crew.page.locator("#sheet [data-export]").evaluateAll((els) => els.map((e) => e.dataset.export));
  check(["xlsx", "csv", "kml", "gpx"].every((f) => links.includes(`depots/${f}`) && links.includes(`waterlogging_points/${f}`)),
    "crew: the 表格 panel offers every layer as Excel, CSV, KML and GPX", links.join(" "));
  check((await crew.page.locator("#sheet [data-import-file]").count()) === 0, "crew: no import (planners only)");
  await shot(crew.page, "crew-panel.png");
  for (const [what, sel, re] of [
    ["Excel", '#sheet [data-export="depots/xlsx"]', /^应急物资储备库_depots_\d{8}-\d{4}\.xlsx$/],
    ["CSV", '#sheet [data-export="waterlogging_points/csv"]', /^城区积水点_waterlogging_points_\d{8}-\d{4}\.csv$/],
  ]) {
    const [dl] = await Promise.all([crew.page.waitForEvent("download", { timeout: 15000 }), crew.page.locator(sel).tap()]);
    const path = join(out, `files-download-${dl.suggestedFilename()}`);
    await dl.saveAs(path);
    const bytes = readFileSync(path);
    check(re.test(dl.suggestedFilename()), `crew: the ${what} download is named by the server`, dl.suggestedFilename());
    if (what === "Excel") check(bytes.subarray(0, 4).toString("latin1") === "PK\x03\x04" && bytes.length > 2000, "crew: the Excel download is an xlsx (zip)", `${bytes.length} bytes`);
    else check(bytes.toString("utf8").startsWith("\uFEFF编号 (id),版本 (version),") && bytes.toString("utf8").includes(PHONE_NUMBER), "crew: the CSV download is UTF-8 with BOM and has the crew's view (the contact)", `${bytes.length} bytes`);
  }
  check(crew.errors.length === 0, "crew: no page errors", crew.errors.join(" | "));
  await crew.context.close();

  // ------------------------------------------------------------ a planner imports
  const pl = await open(env.HM_PLANNER_CODE);
  await pl.page.evaluate(() => window.hazardmap.field);
  await files(pl.page);
  await pl.page.waitForSelector("#sheet [data-import-file]", { timeout: 5000 });
  // An edited export: the point's duty unit, and a bad telephone on another point.
  const csv = await (await fetch(`${base}/collections/waterlogging_points/items?f=csv`, { headers: { Authorization: `Bearer ${env.HM_PLANNER_TOKEN}` } })).text();
  const version = (id) => csv.match(new RegExp(`\\r\\n${id},(\\d+),`))?.[1];
  const other = (await api("/collections/waterlogging_points/items?limit=1000")).features.find((f) => f.id !== POINT && f.geometry)?.id;
  const edited = `编号 (id),版本 (version),责任单位 (duty_unit),值守联系电话 (duty_contact_phone)\r\n${POINT},${version(POINT)},荥阳市城建局排水所,${PHONE_NUMBER}\r\n${other},${version(other)},,12345\r\n`;
  await pl.page.locator("#sheet [data-import-collection]").selectOption("waterlogging_points");
  await pl.page.locator("#sheet [data-import-file]").setInputFiles({ name: "积水点-已编辑.csv", mimeType: "text/csv", buffer: Buffer.from(edited) });
  await pl.page.locator("#sheet [data-import-dry]").tap();
  await pl.page.waitForSelector("#sheet .hm-import-report", { timeout: 10000 });
  const rows = await pl.page.locator("#sheet .hm-import-rows > li").evaluateAll((lis) => lis.map((li) => `${li.dataset.row}:${li.dataset.action}:${li.textContent}`));
  check(rows.length === 2 && rows[0].startsWith("3:invalid") && rows[0].includes("第3行 值守联系电话列") && rows[1].startsWith("2:update") && rows[1].includes("duty_unit"),
    "planner: the dry run lists the invalid row (row and column, in Chinese) and the update", rows.join(" | ") || await pl.page.locator("#sheet .hm-import-report").innerHTML());
  check(await pl.page.locator("#sheet [data-import-apply]").isDisabled(), "planner: with an invalid row, 导入 waits for 只导入正确的行");
  const unitBefore = (await api(`/collections/waterlogging_points/items/${POINT}`)).properties.duty_unit;
  check(unitBefore !== "荥阳市城建局排水所", "planner: the dry run wrote nothing", String(unitBefore));
  check((await pl.page.locator("#sheet [data-import-chosen]").textContent()).includes("积水点-已编辑.csv"), "planner: the panel names the chosen file");
  await pl.page.locator("#sheet .hm-import-report").evaluate((el) => el.scrollIntoView());
  await shot(pl.page, "planner-dry-run.png");
  await pl.page.locator("#sheet [data-import-good-only]").check();
  await pl.page.locator("#sheet [data-import-apply]").tap();
  await pl.page.waitForSelector('#sheet .hm-import-report[data-applied="true"]', { timeout: 10000 });
  const after = await api(`/collections/waterlogging_points/items/${POINT}`);
  const audit = (await api(`/audit?collection=waterlogging_points&feature_id=${POINT}&limit=1`)).entries[0];
  check(after.properties.duty_unit === "荥阳市城建局排水所" && audit.action === "import" && audit.actor.role === "planner",
    "planner: 导入 wrote the good row, audited as the planner's import", `${after.properties.duty_unit}, ${audit.action} by ${audit.actor.name}`);
  check(pl.errors.length === 0, "planner: no page errors", pl.errors.join(" | "));
  await shot(pl.page, "planner-imported.png");
  await pl.context.close();
});
