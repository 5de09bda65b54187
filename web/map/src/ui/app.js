// app is the hall every room of the map opens onto: the settings, the
// Leaflet map and its layer groups, the feature registry, the chrome, the
// sheet that holds the panels, the selection, and the hooks by which the
// rooms hear one another. A room is a module with an install function
// that takes the app and adds what it shows (a panel, layers, a hook on
// live changes or on the language switch); main.js installs each.
import { Hooks } from "../hooks.js";
import { Registry } from "./features.js";
import { createChrome } from "./chrome.js";
import { createMapView } from "./map.js";
import { createSheet } from "./sheet.js";
import { createSelection } from "./selection.js";

/** DESKTOP is the width from which the page is laid out for a desk (a side panel, not a bottom sheet). */
const DESKTOP = "(min-width: 900px)";

/**
 * createApp builds the hall for cfg (api.config()) and returns it:
 *   cfg, desktop (a MediaQueryList), hooks ("changes" after live updates,
 *   with [{entry, collection, removed}]; "lang" after a language switch),
 *   chrome, map, project, groups, tiles, registry, sheet, selection, and
 *   analysis: whether the server has the analysis API (null until known).
 * It also exposes the registry and the map as window.hazardmap, for tests
 * and the console.
 */
export function createApp(cfg) {
  const hooks = new Hooks();
  const desktop = window.matchMedia(DESKTOP);
  const chrome = createChrome(hooks);
  const app = { cfg, hooks, desktop, chrome, analysis: null, ...createMapView(cfg, desktop, chrome) };
  app.registry = new Registry(app.map, app.project, app.groups, (e) => app.selection.select(e));
  hooks.on("lang", () => app.registry.refreshAll());
  app.sheet = createSheet(app);
  app.selection = createSelection(app);
  window.hazardmap = {
    registry: app.registry,
    map: app.map,
    live: null,
    updates: 0,
    app,
    /** select opens a feature's popup (tests and the console). */
    select: (c, id) => {
      const e = app.registry.get(c, id);
      if (e) app.selection.select(e);
      return !!e;
    },
  };
  return app;
}
