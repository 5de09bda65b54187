// rules are what the server refuses of what a crew sends from the spot,
// checked on the phone before anything enters the outbox: a report the
// server will refuse must not wait in the queue through an outage only to
// come back 被拒绝 hours later. They mirror geo.Observation.Validate and
// geo.Reading.Check (the server stays the judge); the report form, the
// reading form and the refusal reasons (reasons.js) all read them here.
// Pure: no DOM, no Leaflet.
import { WATERLOGGING_CM } from "./field.js";

/** STATUSES are a report's statuses (geo.ObservationStatuses). */
export const STATUSES = ["clear", "ponding", "closed"];
/** MAX_DEPTH_CM is the deepest water a report may give (geo.MaxDepthCM). */
export const MAX_DEPTH_CM = 500;
/** MAX_NOTE is the longest note, in characters (geo.MaxNoteRunes). */
export const MAX_NOTE = 500;
/** MIN_LEVEL and MAX_LEVEL bound any water level in metres (geo.MinLevel, geo.MaxLevel). */
export const MIN_LEVEL = -500;
export const MAX_LEVEL = 9000;

/** number reads a form's number ("" or a string from an input, or a number); null when it is none. */
export function number(v) {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  const s = String(v ?? "").trim();
  if (s === "") return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * statusConflict names the GB 51222 contradiction between a status and a
 * depth in cm, with the status that resolves it: "clearTooDeep" (clear
 * with more than 15 cm: waterlogging; switch to ponding) or "pondingZero"
 * (ponding at 0 cm: no water; switch to clear); null when there is none.
 */
export function statusConflict(status, depth) {
  if (depth == null) return null;
  if (status === "clear" && depth > WATERLOGGING_CM) return { key: "clearTooDeep", fix: "ponding" };
  if (status === "ponding" && depth === 0) return { key: "pondingZero", fix: "clear" };
  return null;
}

// noteProblem returns the problem of a note, or null.
function noteProblem(note) {
  const s = String(note ?? "");
  if ([...s].length > MAX_NOTE) return { field: "note", key: "noteTooLong" };
  if (s.includes("\u0000")) return { field: "note", key: "noteBad" };
  return null;
}

/**
 * checkReport returns what the server would refuse of a report form
 * {status, depth (cm, as typed), note}: [{field, key, fix?}] in the order
 * a crew fixes them, empty when it may be sent. key is the i18n key's
 * tail (report<Key>); fix, where there is one, is the status that makes
 * the report valid.
 */
export function checkReport({ status, depth, note }) {
  const out = [];
  const d = number(depth);
  if (!STATUSES.includes(status)) out.push({ field: "status", key: "needStatus" });
  if (d == null) out.push({ field: "depth_cm", key: "needDepth" });
  else if (d < 0 || d > MAX_DEPTH_CM) out.push({ field: "depth_cm", key: "depthRange" });
  else {
    const c = statusConflict(status, d);
    if (c) out.push({ field: "status", key: c.key, fix: c.fix });
  }
  const n = noteProblem(note);
  if (n) out.push(n);
  return out;
}

/**
 * readableRange returns the levels a gauge can read, [lo, hi] in metres:
 * its level_min..level_max where the map knows them, else any possible
 * level.
 */
export function readableRange(props) {
  const lo = typeof props?.level_min === "number" ? props.level_min : MIN_LEVEL;
  const hi = typeof props?.level_max === "number" ? props.level_max : MAX_LEVEL;
  return [lo, hi];
}

/**
 * checkReading returns what the server would refuse of a reading form
 * {level (m, as typed), note} for a gauge with properties props:
 * [{field, key, range?, fix?}], empty when it may be sent. A level outside
 * what the gauge can read is "levelRange" (with range [lo, hi]; when the
 * level read as centimetres is within it, fix is that level in metres:
 * 149.5 for 14950, a slip of the unit), or "levelImpossible" where the map
 * knows no range of the gauge's.
 */
export function checkReading({ level, note }, props) {
  const out = [];
  const x = number(level);
  const range = readableRange(props);
  if (x == null) out.push({ field: "level", key: "needLevel" });
  else if (x < range[0] || x > range[1]) {
    const known = range[0] > MIN_LEVEL || range[1] < MAX_LEVEL;
    const p = { field: "level", key: known ? "levelRange" : "levelImpossible", range };
    const cm = Math.round(x) / 100;
    if (known && cm >= range[0] && cm <= range[1]) p.fix = cm;
    out.push(p);
  }
  const n = noteProblem(note);
  if (n) out.push(n);
  return out;
}
