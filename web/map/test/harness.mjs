// harness is what the browser scripts (browser.mjs, field.mjs, files.mjs,
// water.mjs) share: the settings from the environment, the browser,
// checks that print one line each and the verdict at the end, waiting on
// the page, screenshots, the API, and opening a panel from the toolbar or
// its 更多 (more) sheet.
//
// Environment read here:
//   HM_BASE_URL  the server (required)
//   HM_OUT_DIR   where screenshots go (default ./test-output)
//   HM_STORE     the store's name, for the output (when the script runs on each store)
//   HM_CHROMIUM  the browser (default /usr/bin/chromium)
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** MOBILE is a phone in the rain: 360×640 CSS px, touch, Chinese. */
export const MOBILE = { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: "zh-CN" };
/** DESKTOP is a planner's desk. */
export const DESKTOP = { viewport: { width: 1366, height: 768 }, deviceScaleFactor: 1, locale: "zh-CN" };

/**
 * harness reads the environment for script (its name, for messages) and
 * returns the run's tools. shots: the prefix of its screenshots' names;
 * tagged: the script runs on each store (HM_STORE), which each check line
 * and each screenshot's name carry.
 */
export function harness(script, { shots = "", tagged = false } = {}) {
  const base = (process.env.HM_BASE_URL || "").replace(/\/$/, "");
  if (!base) {
    console.error(`${script}: set HM_BASE_URL`);
    process.exit(2);
  }
  const out = process.env.HM_OUT_DIR || "test-output";
  mkdirSync(out, { recursive: true });
  const store = process.env.HM_STORE || "store";
  const tag = tagged ? `[${store}] ` : "";
  const prefix = tagged ? `${shots}${store}-` : shots;
  const failures = [];

  /** check prints one line for a check and remembers a failure; it returns ok. */
  function check(ok, what, detail = "") {
    console.log(`${ok ? "ok  " : "FAIL"} ${tag}${what}${detail ? ` — ${detail}` : ""}`);
    if (!ok) failures.push(what);
    return ok;
  }

  return {
    base,
    out,
    store,
    failures,
    check,

    /** shot saves a screenshot of page as <out>/<shots>[<store>-]<name>. */
    async shot(page, name) {
      const path = join(out, `${prefix}${name}`);
      await page.screenshot({ path });
      console.log(`screenshot ${path}`);
      return path;
    },

    /**
     * api fetches path from the server (with token as a bearer token, if
     * given) and returns its JSON, or its bytes when it is not JSON; a
     * failure throws with the answer.
     */
    async api(path, { token, init = {} } = {}) {
      const headers = { Accept: "application/geo+json, application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers || {}) };
      const res = await fetch(base + path, { ...init, headers });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.headers.get("Content-Type")?.includes("json") ? res.json() : res.arrayBuffer();
    },

    /**
     * checkBar checks the bottom bar at a phone's width: its tabs are want
     * (panel names, in order), each label on one line, not cut, inside its
     * tab, and no count over a label.
     */
    async checkBar(page, where, want) {
      const tabs = await page.evaluate(() =>
        [...document.querySelectorAll("#toolbar .hm-tab")]
          .filter((b) => !b.hidden)
          .map((b) => {
            const label = b.querySelector(".hm-tab-label");
            const l = label.getBoundingClientRect();
            const r = b.getBoundingClientRect();
            const count = b.querySelector(".hm-count");
            const c = count.hidden ? null : count.getBoundingClientRect();
            const line = parseFloat(getComputedStyle(label).lineHeight) || 16;
            return {
              panel: b.dataset.panel,
              text: label.textContent,
              oneLine: l.height < line * 1.5,
              whole: label.scrollWidth <= label.clientWidth + 1,
              inside: l.left >= r.left - 0.5 && l.right <= r.right + 0.5 && l.bottom <= r.bottom + 0.5,
              clear: !c || c.bottom <= l.top || c.top >= l.bottom || c.right <= l.left || c.left >= l.right,
            };
          }),
      );
      const bad = tabs.filter((x) => !(x.oneLine && x.whole && x.inside && x.clear));
      check(
        tabs.map((x) => x.panel).join() === want.join() && bad.length === 0,
        `${where}: the bar holds ${want.join(", ")}, each label on one line, whole, and no count over a label`,
        JSON.stringify(bad.length ? bad : tabs.map((x) => `${x.panel}:${x.text}`)),
      );
    },

    /** launch starts headless Chromium. */
    launch() {
      return chromium.launch({
        executablePath: process.env.HM_CHROMIUM || "/usr/bin/chromium",
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    },

    /**
     * run runs the script's checks (fn) with browser, closes it, prints
     * the verdict and exits: 1 if any check failed or fn threw.
     */
    async run(browser, fn) {
      try {
        await fn();
      } catch (err) {
        check(false, `${script} ran to the end`, err.stack || String(err));
      } finally {
        await browser.close();
      }
      console.log(failures.length ? `\n${failures.length} check(s) failed` : "\nall checks passed");
      process.exit(failures.length ? 1 : 0);
    },
  };
}

/**
 * within polls fn in the page (every `polling` ms) until it returns a
 * true value or ms pass; it returns the milliseconds it took, or -1.
 */
export async function within(page, ms, fn, arg, polling = 100) {
  const t0 = Date.now();
  const ok = await page.waitForFunction(fn, arg, { timeout: ms, polling }).then(
    () => true,
    () => false,
  );
  return ok ? Date.now() - t0 : -1;
}

/** press taps el on a touch screen and clicks it elsewhere. */
export async function press(page, el) {
  if (await page.evaluate(() => navigator.maxTouchPoints > 0)) await el.tap();
  else await el.click();
}

/**
 * openPanel opens the panel name as a person would: its tab in the
 * toolbar, or, when the toolbar has no room for it, 更多 and then its
 * row in the sheet. It waits until the panel shows.
 */
export async function openPanel(page, name) {
  const tab = page.locator(`#toolbar [data-panel="${name}"]`);
  if (await tab.isVisible()) {
    await press(page, tab);
  } else {
    if ((await page.locator('#sheet[data-panel="more"]:not([hidden])').count()) === 0) await press(page, page.locator('#toolbar [data-panel="more"]'));
    await press(page, page.locator(`#sheet [data-more-panel="${name}"]`));
  }
  await page.waitForSelector(`#sheet[data-panel="${name}"]:not([hidden])`);
}

/** signedIn opens base with a one-time sign-in code (or none: the public) and waits for the map and the role. */
export async function signedIn(page, base, code) {
  await page.goto(code ? `${base}/#signin=${code}` : `${base}/`, { waitUntil: "load" });
  await page.waitForSelector('html[data-state="ready"]', { timeout: 30000 });
  if (code) await page.waitForFunction(() => document.documentElement.dataset.role !== "public", null, { timeout: 10000 });
}
