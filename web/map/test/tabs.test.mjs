// Which five tabs each role sees in the bottom bar of a 360 px phone,
// and what waits under 更多.
import { test } from "node:test";
import assert from "node:assert/strict";
import { arrange, SLOTS } from "../src/tabs.js";

// The panels in the order main.js and field mode install them.
const PUBLIC = ["layers", "reach", "unlocated", "locate"];
const CREW = ["layers", "reach", "unlocated", "locate", "alerts", "outbox", "report", "files"];
const PLANNER = [...CREW, "review"];

test("the public has four tabs and no 更多", () => {
  assert.deepEqual(arrange(PUBLIC, "public"), { bar: ["layers", "reach", "unlocated", "locate"], more: [] });
  // Items queued on this phone by a crew that signed out: the outbox shows too, still no 更多.
  assert.deepEqual(arrange([...PUBLIC, "outbox"], "public"), { bar: [...PUBLIC, "outbox"], more: [] });
});

test("crews: 上报 / 发送 / 待定位 / 我的位置, the rest under 更多", () => {
  assert.deepEqual(arrange(CREW, "crew"), { bar: ["report", "outbox", "unlocated", "locate"], more: ["alerts", "layers", "reach", "files"] });
});

test("planners and admins: 审核 / 告警 / 表格 first", () => {
  const want = { bar: ["review", "alerts", "files", "reach"], more: ["layers", "unlocated", "locate", "report", "outbox"] };
  assert.deepEqual(arrange(PLANNER, "planner"), want);
  assert.deepEqual(arrange(PLANNER, "admin"), want);
});

test("never more than SLOTS tabs; a panel no role names follows in the order installed", () => {
  for (const role of ["public", "crew", "planner", "sensor", undefined]) {
    const { bar, more } = arrange([...PLANNER, "zeta", "alpha"], role);
    assert.ok(bar.length + (more.length ? 1 : 0) <= SLOTS, role);
    assert.deepEqual([...bar, ...more].sort(), [...PLANNER, "zeta", "alpha"].sort(), "every panel is somewhere");
    assert.deepEqual(more.slice(-2), ["zeta", "alpha"]);
  }
  assert.deepEqual(arrange([], "crew"), { bar: [], more: [] });
});
