// build.mjs bundles the map with esbuild into dist/: one script, one
// stylesheet and the page, with content hashes so they can be cached for
// a year. Nothing is loaded from a CDN.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";

const out = "dist";
rmSync(`${out}/assets`, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });

const result = await esbuild.build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outdir: `${out}/assets`,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  loader: { ".png": "file", ".svg": "file" },
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => p.replace(`${out}/`, ""));
const js = outputs.find((p) => p.endsWith(".js"));
const css = outputs.find((p) => p.endsWith(".css"));
// The icon is referenced from the page itself, so it is copied here, with
// a content hash in its name like the rest.
const icon = readFileSync("src/icon.svg");
const iconName = `assets/icon-${createHash("sha256").update(icon).digest("hex").slice(0, 8)}.svg`;
writeFileSync(`${out}/${iconName}`, icon);
let html = readFileSync("src/index.html", "utf8");
html = html.replace("%SCRIPT%", `/${js}`).replace("%STYLE%", css ? `/${css}` : "").replace("%ICON%", `/${iconName}`);
writeFileSync(`${out}/index.html`, html);
console.log(`build.mjs: ${outputs.length} files in ${out}/: ${readdirSync(`${out}/assets`).join(", ")}`);
