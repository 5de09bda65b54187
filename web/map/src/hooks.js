// hooks lets the rooms of the map hear one another without knowing one
// another: a room says what happened (emit "changes", "lang") and every
// room that cares has said so beforehand (on). Pure: no DOM, no Leaflet.

/**
 * Hooks maps a name to its listeners. emit calls them in the order they
 * were added, one after another: a listener that returns a promise is
 * awaited before the next runs, one that does not runs at once, so a run
 * of plain listeners stays synchronous. A listener that throws is logged
 * and the rest still run.
 */
export class Hooks {
  constructor({ warn = (...a) => console.warn(...a) } = {}) {
    this.listeners = new Map();
    this.warn = warn;
  }

  /** on adds fn to the listeners of name. */
  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(fn);
  }

  /** emit calls name's listeners with args; it settles when all are done. */
  async emit(name, ...args) {
    for (const fn of this.listeners.get(name) ?? []) {
      try {
        const r = fn(...args);
        if (r && typeof r.then === "function") await r;
      } catch (err) {
        this.warn(`${name}:`, err?.message ?? err);
      }
    }
  }
}
