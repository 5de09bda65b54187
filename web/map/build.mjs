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

// build returns the files of dist/ as a Map from their path under dist/ to their bytes.
async function build() {
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ["src/main.js"],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2020"],
    legalComments: "eof",
    outdir: "dist/assets",
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    loader: { ".png": "file", ".svg": "file" },
    write: false,
    logLevel: "warning",
  });
  const files = new Map();
  for (const f of result.outputFiles) files.set(relative(out, f.path), Buffer.from(f.contents));
  const names = [...files.keys()];
  const js = names.find((p) => p.endsWith(".js"));
  const css = names.find((p) => p.endsWith(".css"));
  // The icon is referenced from the page itself, so it is copied here,
  // with a content hash in its name like the rest.
  const icon = readFileSync(join(here, "src/icon.svg"));
  const iconName = `assets/icon-${createHash("sha256").update(icon).digest("hex").slice(0, 8)}.svg`;
  files.set(iconName, icon);
  const html = readFileSync(join(here, "src/index.html"), "utf8")
    .replace("%SCRIPT%", `/${js}`)
    .replace("%STYLE%", css ? `/${css}` : "")
    .replace("%ICON%", `/${iconName}`);
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
