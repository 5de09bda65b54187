// geometry answers questions about GeoJSON geometries and the precision
// properties every feature carries. Pure: no DOM, no Leaflet.

/** representative returns a WGS-84 [lon, lat] to put a marker at, or null. */
export function representative(geometry) {
  if (!geometry) return null;
  const c = geometry.coordinates;
  switch (geometry.type) {
    case "Point":
      return c;
    case "LineString":
      return c[Math.floor(c.length / 2)];
    case "MultiLineString":
      return representative({ type: "LineString", coordinates: c[0] });
    case "Polygon":
      return centroid(c[0]);
    case "MultiPolygon":
      return centroid(c[0][0]);
    default:
      return null;
  }
}

/** centroid is the mean of a ring's vertices (the closing vertex counted once). */
function centroid(ring) {
  const n = ring.length > 1 ? ring.length - 1 : ring.length; // the ring repeats its first vertex
  return mean(ring.slice(0, n));
}

/** mean returns the mean [lon, lat] of points, or null when there are none. */
export function mean(points) {
  if (points.length === 0) return null;
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p[0];
    y += p[1];
  }
  return [x / points.length, y / points.length];
}

/** precisionOf returns location_precision_m, or null when it is not a positive number. */
export function precisionOf(props) {
  const p = props.location_precision_m;
  return typeof p === "number" && p > 0 ? p : null;
}

/**
 * roughDistance returns the distance in metres between two WGS-84 [lon,
 * lat] points on a sphere, flat over a few kilometres (equirectangular):
 * enough to put the nearest places first, not to report a distance.
 */
export function roughDistance(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const x = (b[0] - a[0]) * rad * Math.cos(((a[1] + b[1]) / 2) * rad);
  const y = (b[1] - a[1]) * rad;
  return R * Math.hypot(x, y);
}

/**
 * nearestFirst returns items with their distance from `from` ([lon, lat],
 * or null), nearest first: [{item, distance}]; where(item) is its [lon,
 * lat] or null. Without `from`, or for items with no place, distance is
 * null and those keep their order after the others.
 */
export function nearestFirst(items, from, where) {
  const out = items.map((item, i) => {
    const at = where(item);
    return { item, i, distance: from && at ? roughDistance(from, at) : null };
  });
  out.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity) || a.i - b.i);
  return out.map(({ item, distance }) => ({ item, distance }));
}
