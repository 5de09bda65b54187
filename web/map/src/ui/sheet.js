// sheet is the toolbar's tabs and the panel they open: a bottom sheet on a
// phone, a side panel on a desk. Rooms add their panels; the sheet draws
// a tab for each (an icon and a short label), at most five in the bar in
// the order of the signed-in role's work (tabs.js) and the rest under
// 更多, keeps one open at a time, and redraws the open one when its room
// asks — after a live update keeping the reader's place (scroll, open
// sections, focus).
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { arrange } from "../tabs.js";
import { icon } from "./icons.js";

const $ = (id) => document.getElementById(id);

/**
 * createSheet returns the sheet. A panel is
 *   { name, label() → tab text, render() → [title, ...children],
 *     badge?() → count on the tab ("" for none), urgent?: its count shows on 更多 while its tab is there,
 *     onTab?() instead of toggling, onOpen?() when it opens,
 *     followsData?: redraw (keeping place) after live changes,
 *     tab?: false for a panel opened only by its room, visible?() → whether its tab shows }
 * A desk shows the first tab's panel when no other is open. app: desktop,
 * hooks, map, and session (read when the tabs are drawn: whose work comes first).
 */
export function createSheet(app) {
  const { desktop, hooks, map } = app;
  const panels = new Map();
  const el = $("sheet");
  const body = $("sheet-body");
  const toolbar = $("toolbar");
  let current = null;
  let sliding = false; // a finger on a slider: live updates do not redraw the panel under it
  let stale = false;
  let layout = { bar: [], more: [] };

  const tab = (name, onclick) =>
    h("button", { type: "button", class: "hm-tab", dataset: { panel: name }, onclick }, icon(name), h("span", { class: "hm-tab-label" }), h("span", { class: "hm-count" }));
  // 更多 (more): the tabs the bar has no room for, as a list in the sheet.
  const moreTab = tab("more", () => toggle("more"));
  panels.set("more", { name: "more", tab: false, label: () => t("tabMore"), render: renderMore, followsData: true });

  const first = () => layout.bar[0] ?? null;

  function add(panel) {
    panels.set(panel.name, panel);
    if (panel.tab === false) return; // opened by its room (a button elsewhere), not from the toolbar
    toolbar.append(tab(panel.name, () => (panel.onTab ? panel.onTab() : toggle(panel.name))));
    renderTabs();
  }

  const shown = (p) => p.tab !== false && (p.visible ? p.visible() : true);
  const badge = (p) => p.badge?.() ?? "";

  function renderMore() {
    return [
      t("tabMore"),
      h(
        "div",
        { class: "hm-more" },
        layout.more.map((name) => {
          const p = panels.get(name);
          return h(
            "button",
            { type: "button", class: "hm-more-item", dataset: { morePanel: name }, onclick: () => (p.onTab ? p.onTab() : open(name)) },
            icon(name),
            h("span", { class: "hm-more-label", text: p.label() }),
            badge(p) ? h("span", { class: "hm-count", text: badge(p) }) : null,
          );
        }),
      ),
    ];
  }

  function toggle(name) {
    if (current === name && !desktop.matches) close();
    else open(name);
  }

  function open(name) {
    current = name;
    panels.get(name).onOpen?.();
    render();
  }

  function close() {
    current = desktop.matches ? first() : null;
    render();
  }

  // The tabs are built once (add) and updated in place, so focus stays
  // put; they are moved only when the role's order changes them.
  function renderTabs() {
    $("sheet-close").setAttribute("aria-label", t("close"));
    const names = [...panels.values()].filter(shown).map((p) => p.name);
    layout = arrange(names, app.session?.role ?? "public");
    const buttons = new Map([...toolbar.children].map((b) => [b.dataset.panel, b]));
    const want = [...layout.bar, ...(layout.more.length ? ["more"] : [])];
    buttons.set("more", moreTab);
    if ([...toolbar.children].filter((b) => !b.hidden).map((b) => b.dataset.panel).join() !== want.join()) {
      toolbar.append(...want.map((n) => buttons.get(n)), ...[...buttons].filter(([n]) => !want.includes(n)).map(([, b]) => b));
    }
    for (const [name, btn] of buttons) {
      const p = panels.get(name);
      btn.hidden = !want.includes(name);
      const open = name === "more" ? current === "more" || layout.more.includes(current) : current === name;
      btn.setAttribute("aria-pressed", open ? "true" : "false");
      btn.querySelector(".hm-tab-label").textContent = p.label();
      const count = btn.querySelector(".hm-count");
      count.textContent =
        name === "more"
          ? String(layout.more.map((n) => panels.get(n)).filter((q) => q.urgent).reduce((sum, q) => sum + (Number(badge(q)) || 0), 0) || "")
          : badge(p);
      count.hidden = !count.textContent;
    }
  }

  function renderBody() {
    if (!current) {
      el.hidden = true;
      document.body.classList.remove("hm-sheet-open");
      return;
    }
    el.hidden = false;
    document.body.classList.toggle("hm-sheet-open", !desktop.matches);
    el.dataset.panel = current;
    const [title, ...children] = panels.get(current).render();
    $("sheet-title").textContent = title;
    replace(body, children);
  }

  function render() {
    renderBody();
    renderTabs();
  }

  // rerender redraws the open panel keeping the reader's place: the
  // scroll position, which sections are open, and the focused control. It
  // waits while a finger is on a slider.
  function rerender() {
    if (!current) return;
    if (sliding) {
      stale = true;
      return;
    }
    const scroll = el.scrollTop;
    const detailsKey = (d, i) => (d.dataset.id ? `${d.dataset.collection}/${d.dataset.id}` : `${i}`);
    const open = new Set([...body.querySelectorAll("details")].map((d, i) => (d.open ? detailsKey(d, i) : null)));
    const focusable = () => [...body.querySelectorAll("button, input, summary, a[href]")];
    const focused = focusable().indexOf(document.activeElement);
    renderBody();
    body.querySelectorAll("details").forEach((d, i) => {
      if (open.has(detailsKey(d, i))) d.open = true;
    });
    el.scrollTop = scroll;
    if (focused >= 0) focusable()[focused]?.focus({ preventScroll: true });
  }

  body.addEventListener("pointerdown", (ev) => {
    if (ev.target instanceof HTMLInputElement && ev.target.type === "range") sliding = true;
  });
  for (const type of ["pointerup", "pointercancel"]) {
    window.addEventListener(type, () => {
      if (!sliding) return;
      sliding = false;
      if (stale) {
        stale = false;
        rerender();
      }
    });
  }
  $("sheet-close").addEventListener("click", close);
  desktop.addEventListener("change", () => {
    renderTabs();
    if (desktop.matches && !current) current = first();
    render();
    map.invalidateSize();
  });
  hooks.on("lang", render);
  hooks.on("changes", () => {
    renderTabs();
    if (current && panels.get(current).followsData) rerender();
  });

  return {
    el,
    add,
    open,
    close,
    toggle,
    /** current is the name of the open panel, or null. */
    current: () => current,
    /** start opens the first panel on a desk and draws the sheet. */
    start() {
      renderTabs();
      if (desktop.matches) current = first();
      render();
    },
    /** render redraws the tabs and the open panel from scratch. */
    render,
    /** tabs redraws the tabs only (labels, counts, which show). */
    tabs: renderTabs,
    /** update redraws panel name if it is the open one: from scratch, or (keep) keeping the reader's place. */
    update(name, { keep = false } = {}) {
      if (current !== name) return;
      if (keep) rerender();
      else render();
    },
  };
}
