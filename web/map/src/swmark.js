// swmark names the header the service worker adds to an answer it gave
// from its cache (api.js reads it). Pure.
export const FROM_CACHE_HEADER = "X-Hazardmap-From-Cache";
