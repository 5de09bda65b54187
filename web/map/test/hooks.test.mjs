// Unit tests of the hooks by which the map's rooms hear one another
// (node --test): listeners run in the order added, promises are awaited
// one after another, plain listeners run at once, and one that throws does
// not stop the rest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Hooks } from "../src/hooks.js";

test("listeners run in the order added, each awaited before the next", async () => {
  const hooks = new Hooks();
  const log = [];
  hooks.on("changes", async (list) => {
    await new Promise((r) => setTimeout(r, 5));
    log.push(`readiness ${list.length}`);
  });
  hooks.on("changes", (list) => log.push(`selection ${list.length}`));
  hooks.on("lang", () => log.push("lang"));
  await hooks.emit("changes", [1, 2]);
  assert.deepEqual(log, ["readiness 2", "selection 2"]);
});

test("plain listeners run before emit returns", () => {
  const hooks = new Hooks();
  const log = [];
  hooks.on("lang", () => log.push("chrome"));
  hooks.on("lang", () => log.push("sheet"));
  hooks.emit("lang");
  assert.deepEqual(log, ["chrome", "sheet"]);
});

test("a listener that throws is logged and the rest run", async () => {
  const warned = [];
  const hooks = new Hooks({ warn: (...a) => warned.push(a.join(" ")) });
  const log = [];
  hooks.on("changes", () => {
    throw new Error("boom");
  });
  hooks.on("changes", async () => {
    throw new Error("async boom");
  });
  hooks.on("changes", () => log.push("after"));
  await hooks.emit("changes", []);
  assert.deepEqual(log, ["after"]);
  assert.deepEqual(warned, ["changes: boom", "changes: async boom"]);
});

test("an event nobody listens to is nothing", async () => {
  await new Hooks().emit("nobody");
});
