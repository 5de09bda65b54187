// field is field mode, loaded on demand (a chunk of its own) once the
// session says a crew or planner is signed in, or when the phone holds
// queued items: the outbox, the report form, 在此定位, and for planners
// the review panel and dragging; the files panel (exports, and imports
// for planners). The public never downloads it.
import { installOutbox } from "./outboxpanel.js";
import { installReport } from "./report.js";
import { installLocateHere } from "./locatehere.js";
import { installReview } from "./review.js";
import { installFiles } from "./files.js";

/** installField installs field mode's rooms on app (once). */
export async function installField(app) {
  await installOutbox(app);
  installReport(app);
  installLocateHere(app);
  installReview(app);
  installFiles(app);
  app.sheet.render();
}
