// caches names the service worker's caches, shared by sw.js and the page
// (which fills them on the first visit, before the worker controls it,
// and empties the data cache when the crew signs out). Pure.

/** The pages ("/"), the data (layers, the session, proposals), the hashed assets and context layers, the base-map tiles. */
export const PAGES = "hm-pages";
export const DATA = "hm-data";
export const ASSETS = "hm-assets";
export const TILES = "hm-tiles";

/** TILES_MAX is the cap of the tile cache, in tiles (about 60 MB at 20 KB a tile); the oldest go first. */
export const TILES_MAX = 3000;

/**
 * isData reports whether a same-origin path (and query) is data the map
 * reads and should have offline. A file (?f=xlsx, csv, kml, gpx) is a
 * download, not data: it goes to the network and is not kept.
 */
export function isData(path, search = "") {
  return /^\/(collections|analysis|session|location-proposals)(\/|$)/.test(path) && !/\/photo$/.test(path) && !/[?&]f=(xlsx|csv|kml|gpx)(&|$)/.test(search);
}
