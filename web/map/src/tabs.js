// tabs decides which panels have a tab in the bottom bar and which wait
// under 更多 (more): a 360 px phone has room for five tabs of an icon and
// a short label, and a planner has nine panels. Each role sees its own
// work first — crews 上报 / 发送 / 待定位 / 我的位置, planners 审核 / 告警 /
// 表格 — and the tabs keep their places (no tab jumps into the bar when
// its panel opens). Pure: no DOM; tested with node:test.

/** SLOTS is how many tabs the bar holds: with more panels, the last slot is 更多. */
export const SLOTS = 5;

/** ORDER is each role's panels, most used first; a panel not named follows in the order installed. */
export const ORDER = {
  public: ["layers", "reach", "unlocated", "locate", "outbox"],
  crew: ["report", "outbox", "unlocated", "locate", "alerts", "layers", "reach", "files"],
  planner: ["review", "alerts", "files", "reach", "layers", "unlocated", "locate", "report", "outbox"],
};

/**
 * arrange returns {bar, more}: the panels (names, in the order installed)
 * with a tab in the bar, and those under 更多, each in the role's order.
 * An admin works as a planner.
 */
export function arrange(names, role, slots = SLOTS) {
  const order = ORDER[role === "admin" ? "planner" : role] ?? ORDER.public;
  const rank = (n) => {
    const i = order.indexOf(n);
    return i >= 0 ? i : order.length + names.indexOf(n);
  };
  const sorted = [...names].sort((a, b) => rank(a) - rank(b));
  if (sorted.length <= slots) return { bar: sorted, more: [] };
  return { bar: sorted.slice(0, slots - 1), more: sorted.slice(slots - 1) };
}
