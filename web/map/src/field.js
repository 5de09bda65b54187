// field holds the rules of field mode that the rooms share: reading a
// sign-in link, the accuracy thresholds of locating from the spot, the
// size a photo is resized to, and how precise a pin placed by hand is.
// Pure: no DOM, no Leaflet.

/** Accuracy thresholds of 在此定位 (geo.LocateAutoM, geo.LocateAcceptM on the server). */
export const AUTO_M = 10;
export const ACCEPT_M = 30;
/** LOCATE_PRECISION_M: a feature located worse than this (or not at all) may be located from the spot. */
export const LOCATE_PRECISION_M = 100;
/** PHOTO_MAX_PX is the long side a photo is resized to on the phone. */
export const PHOTO_MAX_PX = 1600;
/** WATERLOGGING_CM: deeper than this on a carriageway is waterlogging (GB 51222-2017). */
export const WATERLOGGING_CM = 15;

/** signInCode returns the code of a sign-in link's fragment ("#signin=XXXX-…"), or null. */
export function signInCode(hash) {
  const m = /^#signin=([0-9A-Za-z -]{16,40})$/.exec(decodeURIComponent(hash || ""));
  return m ? m[1].trim() : null;
}

/** normalizeCode returns a typed code in groups of four (the server ignores case, spaces and hyphens). */
export function normalizeCode(s) {
  const c = String(s).toUpperCase().replace(/[^0-9A-Z]/g, "");
  return c.match(/.{1,4}/g)?.join("-") ?? "";
}

/**
 * locateMethod says what a fix of accuracy metres allows: "auto" (≤ 10 m:
 * the map accepts it by itself), "accepted" (≤ 30 m: the crew may accept
 * it), or "dragged" (the crew must drag the pin to the spot and confirm).
 */
export function locateMethod(accuracy) {
  if (!(accuracy > 0)) return "dragged";
  if (accuracy <= AUTO_M) return "auto";
  if (accuracy <= ACCEPT_M) return "accepted";
  return "dragged";
}

/** needsLocating reports whether a feature may be located from the spot: no geometry, or a precision null or above 100 m. */
export function needsLocating(feature) {
  if (!feature.geometry) return true;
  const p = feature.properties?.location_precision_m;
  return p == null || !(p <= LOCATE_PRECISION_M);
}

/** fitWithin returns the size w×h scaled down (never up) so that its long side is at most max px. */
export function fitWithin(w, h, max = PHOTO_MAX_PX) {
  const s = Math.min(1, max / Math.max(w, h));
  return [Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s))];
}

/** metresPerPixel is the ground size of a screen pixel at zoom z and latitude lat (Web Mercator). */
export function metresPerPixel(z, lat) {
  return (40075016.686 * Math.cos((lat * Math.PI) / 180)) / 2 ** (z + 8);
}

/**
 * pinPrecision is how far a pin placed by hand at zoom z may be off:
 * a fingertip, about 12 screen pixels, and never better than 3 m.
 */
export function pinPrecision(z, lat) {
  return Math.max(3, Math.round(metresPerPixel(z, lat) * 12));
}

/** clock formats a time as HH:MM (the offline banner's "数据更新于 HH:MM"). */
export function clock(d) {
  const t = d instanceof Date ? d : new Date(d);
  return `${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}`;
}
