// The map of hazardmap: Xingyang's waterlogging points, riverbed
// relocation sites and emergency-supply depots over a configured base map
// or, offline, the county and township outlines from data/. Mobile first:
// a crew member on a phone in the rain and a planner at a desk.
//
// Configuration comes from <meta> tags that the server fills in (no inline
// script: the Content-Security-Policy forbids it). Every string from data
// is inserted as text (dom.js).
//
// This file only lays the rooms out. ui/app.js builds the hall they share
// (map, registry, chrome, sheet, selection, hooks); each room is a module
// under ui/ whose install function adds what it shows. The toolbar's tabs
// follow the order of the panels installed here. A new feature is a new
// room and a line here. The modules directly under src/ touch neither the
// DOM nor Leaflet, and are tested with node:test (test/*.test.mjs).
import "leaflet/dist/leaflet.css";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { config } from "./api.js";
import { createApp } from "./ui/app.js";
import { installContext } from "./ui/context.js";
import { installLayersPanel } from "./ui/layers.js";
import { installReach } from "./ui/reach.js";
import { installUnlocatedPanel } from "./ui/unlocated.js";
import { installLocate } from "./ui/locate.js";
import { createViews } from "./ui/views.js";
import { start } from "./ui/start.js";
import { installSession } from "./ui/session.js";
import { installOffline } from "./ui/offline.js";
import { installGauges } from "./ui/gauges.js";

const app = createApp(config());
installOffline(app);
installSession(app);
const context = installContext(app);
installLayersPanel(app, context);
installReach(app);
installUnlocatedPanel(app);
installLocate(app);
installGauges(app);
const views = createViews(app);
start(app, { context, views });

// Field mode (reports, the outbox, 在此定位, review) is a chunk of its own,
// loaded once a crew or planner is signed in: the public never pays for it.
let field = null;
app.hooks.on("session", () => {
  if (field || !app.can("crew")) return;
  field = import("./ui/field.js").then((m) => m.installField(app));
  window.hazardmap.field = field;
});

