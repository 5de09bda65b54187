// check-geojson validates GeoJSON with @placemarkio/check-geojson (the
// maintained successor of geojsonhint). Usage:
//   node tools/check-geojson.mjs FILE...   (or "-" for standard input)
// It prints one line per problem and exits 1 if any file has one.
import { readFileSync } from "node:fs";
import { check } from "@placemarkio/check-geojson";

let failed = false;
const files = process.argv.slice(2);
if (files.length === 0) files.push("-");
for (const file of files) {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  try {
    check(text);
    console.log(`${file}: ok`);
  } catch (err) {
    failed = true;
    const issues = err.issues ?? [{ message: String(err) }];
    for (const issue of issues) {
      console.log(`${file}: ${issue.message} (${issue.from ?? "?"}-${issue.to ?? "?"})`);
    }
  }
}
process.exit(failed ? 1 : 0);
