// build.mjs bundles the map with esbuild into dist/: one script, one
// stylesheet, the images they use and the page, with content hashes in
// their names so they can be cached for a year. Nothing is loaded from a
// CDN. dist/ is committed (the Go binary embeds it), so the build is
// deterministic: the same sources and package-lock.json give the same
// bytes on any machine, and
//
//   node build.mjs           writes dist/
//   node build.mjs --check   builds in memory and fails unless dist/ holds exactly those bytes
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");

// hashed returns the name under assets/ of a file with a content hash.
function hashed(name, body) {
  const dot = name.lastIndexOf(".");
  return `assets/${name.slice(0, dot)}-${createHash("sha256").update(body).digest("hex").slice(0, 8)}${name.slice(dot)}`;
}

// build returns the files of dist/ as a Map from their path under dist/ to their bytes.
async function build() {
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ["src/main.js"],
    bundle: true,
    minify: true,
    format: "esm",
    // Field mode (ui/field.js) is imported on demand: a chunk of its own.
    splitting: true,
    target: ["es2020"],
    legalComments: "eof",
    outdir: "dist/assets",
    entryNames: "[name]-[hash]",
    chunkNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    loader: { ".png": "file", ".svg": "file" },
    metafile: true,
    write: false,
    logLevel: "warning",
  });
  const files = new Map();
  for (const f of result.outputFiles) files.set(relative(out, f.path), Buffer.from(f.contents));
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === "src/main.js");
  const js = relative("dist", entry[0]);
  const css = relative("dist", entry[1].cssBundle ?? "") || null;
  // The icons are referenced from the page and the web manifest, so they
  // are copied here, with a content hash in their names like the rest.
  const icon = readFileSync(join(here, "src/icon.svg"));
  const iconName = hashed("icon.svg", icon);
  files.set(iconName, icon);
  const pngs = {};
  for (const n of ["icon-192.png", "icon-512.png", "maskable-512.png", "apple-touch-180.png"]) {
    const body = readFileSync(join(here, "src/icons", n));
    pngs[n] = hashed(n, body);
    files.set(pngs[n], body);
  }
  // The web manifest: what an installed map (home screen) is called and looks like.
  const manifest = Buffer.from(
    JSON.stringify(
      {
        name: "荥阳防汛风险图",
        short_name: "防汛风险图",
        description: "荥阳市城区积水点、河道内待搬迁群众与应急物资储备库；离线可用，班组现场上报。",
        lang: "zh-CN",
        id: "/",
        start_url: "/",
        scope: "/",
        display: "standalone",
        orientation: "any",
        background_color: "#ffffff",
        theme_color: "#0b3d91",
        icons: [
          { src: `/${pngs["icon-192.png"]}`, sizes: "192x192", type: "image/png" },
          { src: `/${pngs["icon-512.png"]}`, sizes: "512x512", type: "image/png" },
          { src: `/${pngs["maskable-512.png"]}`, sizes: "512x512", type: "image/png", purpose: "maskable" },
          { src: `/${iconName}`, sizes: "any", type: "image/svg+xml" },
        ],
      },
      null,
      2,
    ) + "\n",
  );
  const manifestName = hashed("manifest.webmanifest", manifest);
  files.set(manifestName, manifest);
  // The service worker, with Workbox, precaching every file of this build
  // (all names carry a content hash, so no revision is needed). Its own
  // name is fixed: browsers look for updates at the same URL.
  const precache = [...files.keys()].sort().map((p) => ({ url: `/${p}`, revision: null }));
  const sw = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ["src/sw.js"],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    legalComments: "eof",
    define: { "self.__WB_MANIFEST": JSON.stringify(precache), "process.env.NODE_ENV": '"production"' },
    write: false,
    outfile: "dist/assets/sw.js",
    logLevel: "warning",
  });
  files.set("assets/sw.js", Buffer.from(sw.outputFiles[0].contents));
  const html = readFileSync(join(here, "src/index.html"), "utf8")
    .replace("%SCRIPT%", `/${js}`)
    .replace("%STYLE%", css ? `/${css}` : "")
    .replaceAll("%ICON%", `/${iconName}`)
    .replace("%MANIFEST%", `/${manifestName}`)
    .replace("%APPLE_ICON%", `/${pngs["apple-touch-180.png"]}`);
  files.set("index.html", Buffer.from(html));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

// present lists the files now in dist/ (the page and assets/).
function present() {
  let assets = [];
  try {
    assets = readdirSync(join(out, "assets")).map((n) => `assets/${n}`);
  } catch {
    /* no dist/assets yet */
  }
  return ["index.html", ...assets];
}

const files = await build();
if (process.argv.includes("--check")) {
  const problems = [];
  for (const [p, body] of files) {
    let have = null;
    try {
      have = readFileSync(join(out, p));
    } catch {
      /* missing */
    }
    if (have == null) problems.push(`missing   dist/${p}`);
    else if (!have.equals(body)) problems.push(`differs   dist/${p}`);
  }
  for (const p of present()) if (!files.has(p)) problems.push(`not built dist/${p}`);
  if (problems.length) {
    console.error(
      `build.mjs: web/map/dist is not what web/map/src builds with package-lock.json:\n  ${problems.join("\n  ")}\n` +
        "Rebuild it with `make web` (scripts/build-web) and commit web/map/dist with the change to the map's sources.",
    );
    process.exit(1);
  }
  console.log(`build.mjs: web/map/dist is up to date (${files.size} files)`);
} else {
  rmSync(join(out, "assets"), { recursive: true, force: true });
  for (const [p, body] of files) {
    mkdirSync(dirname(join(out, p)), { recursive: true });
    writeFileSync(join(out, p), body);
  }
  console.log(`build.mjs: ${files.size} files in dist/: ${[...files.keys()].join(", ")}`);
}
