// sheet is the toolbar's tabs and the panel they open: a bottom sheet on a
// phone, a side panel on a desk. Rooms add their panels; the sheet draws
// a tab for each in that order, keeps one open at a time, and redraws the
// open one when its room asks — after a live update keeping the reader's
// place (scroll, open sections, focus).
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";

const $ = (id) => document.getElementById(id);

/**
 * createSheet returns the sheet. A panel is
 *   { name, label() → tab text, render() → [title, ...children],
 *     badge?() → count on the tab ("" for none), onTab?() instead of toggling,
 *     onOpen?() when it opens, followsData?: redraw (keeping place) after live changes,
 *     tab?: false for a panel opened only by its room, visible?() → whether its tab shows }
 * The first panel added is the one a desk shows when no other is open.
 */
export function createSheet({ desktop, hooks, map }) {
  const panels = new Map();
  const el = $("sheet");
  const body = $("sheet-body");
  const toolbar = $("toolbar");
  let current = null;
  let sliding = false; // a finger on a slider: live updates do not redraw the panel under it
  let stale = false;

  const first = () => panels.keys().next().value ?? null;

  function add(panel) {
    panels.set(panel.name, panel);
    if (panel.tab === false) return; // opened by its room (a button elsewhere), not from the toolbar
    toolbar.append(
      h(
        "button",
        { type: "button", class: "hm-tab", dataset: { panel: panel.name }, onclick: () => (panel.onTab ? panel.onTab() : toggle(panel.name)) },
        h("span"),
        h("span", { class: "hm-count" }),
      ),
    );
    renderTabs();
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

  // The tabs are built once (add) and updated in place, so focus stays put.
  function renderTabs() {
    $("sheet-close").setAttribute("aria-label", t("close"));
    for (const btn of toolbar.children) {
      const p = panels.get(btn.dataset.panel);
      btn.hidden = p.visible ? !p.visible() : false;
      btn.setAttribute("aria-pressed", current === p.name ? "true" : "false");
      btn.firstChild.textContent = p.label();
      const count = btn.lastChild;
      count.textContent = p.badge?.() ?? "";
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
