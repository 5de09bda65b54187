// icons.mjs renders the map's app icons (src/icons/*.png) from
// src/icon.svg with the test browser (Chromium, headless), for the web
// manifest and the iPhone home screen. The PNGs are committed; run this
// by hand after changing the icon: node tools/icons.mjs
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const svg = readFileSync(join(here, "../src/icon.svg"), "utf8");
const out = join(here, "../src/icons");
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.HM_CHROMIUM || "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] });
// A maskable icon keeps its drawing inside the middle 80 % (the safe zone) on the theme colour.
for (const [name, size, pad, bg] of [["icon-192.png", 192, 0, "transparent"], ["icon-512.png", 512, 0, "transparent"], ["maskable-512.png", 512, 0.14, "#0b3d91"], ["apple-touch-180.png", 180, 0.08, "#0b3d91"]]) {
  const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
  const inner = Math.round(size * (1 - 2 * pad));
  await page.setContent(`<html><body style="margin:0;background:${bg};display:flex;align-items:center;justify-content:center;width:${size}px;height:${size}px">` +
    `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}" width="${inner}" height="${inner}"></body></html>`);
  await page.screenshot({ path: join(out, name), omitBackground: bg === "transparent" });
  await page.close();
  console.log(`src/icons/${name}`);
}
await browser.close();
