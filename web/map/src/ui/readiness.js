// readiness asks the server which depots are ready (and why not): the
// nearest-depots answer for every located depot carries the server's
// verdict, so the map shows it without restating the rules.
import * as api from "../api.js";
import { representative } from "../geometry.js";
import { readinessQuestion } from "../analysis.js";

/**
 * loadReadiness sets ready and reasons on the located depots of
 * app.registry and redraws their badges; app.analysis says whether the
 * server has the analysis API.
 */
export async function loadReadiness(app) {
  const located = app.registry.all("depots").filter((e) => e.marker);
  const q = readinessQuestion(located.map((e) => representative(e.feature.geometry)));
  if (!q) return;
  try {
    const res = await api.nearestDepots(q.lon, q.lat, q.k, false);
    app.analysis = true;
    for (const d of res.depots || []) {
      const e = app.registry.get("depots", d.id);
      if (!e) continue;
      e.ready = d.ready;
      e.reasons = d.reasons || [];
      app.registry.refresh(e);
    }
  } catch (err) {
    if (err instanceof api.AnalysisUnavailable) app.analysis = false;
    else console.warn("readiness:", err.message);
  }
}
