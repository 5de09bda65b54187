// GCJ-02 ("Mars coordinates") is the obfuscated datum that Chinese web maps
// (AMap/Gaode, Tencent, Tianditu's GCJ layers are not among them) draw their
// tiles in. The data and the API are WGS-84; when the configured tiles are
// GCJ-02, every feature is shifted forward with wgs84ToGcj02 for display
// only, so that it lands on the right street. Around Xingyang the shift is
// about 600 m east and 90 m south.
//
// This is the widely published forward transform (Krasovsky 1940
// ellipsoid, a = 6378245.0 m, e² = 0.00669342162296594323); outside China
// it is the identity, as the tiles there are not shifted.

const A = 6378245.0;
const EE = 0.00669342162296594323;
const PI = Math.PI;

/** outOfChina reports whether (lon, lat) is outside the rough box where GCJ-02 applies. */
export function outOfChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * PI) + 320.0 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function transformLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
  return r;
}

/** wgs84ToGcj02 returns [lon, lat] in GCJ-02 for a WGS-84 [lon, lat]. */
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dLat = transformLat(lon - 105.0, lat - 35.0);
  let dLon = transformLon(lon - 105.0, lat - 35.0);
  const radLat = (lat / 180.0) * PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * PI);
  dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * PI);
  return [lon + dLon, lat + dLat];
}

/** projector returns the function that maps WGS-84 [lon, lat] to what the tiles use. */
export function projector(datum) {
  return datum === "gcj02" ? wgs84ToGcj02 : (lon, lat) => [lon, lat];
}

/**
 * gcj02ToWgs84 returns the WGS-84 [lon, lat] whose GCJ-02 image is the
 * given point: the inverse of wgs84ToGcj02, by fixed-point iteration
 * (the shift varies slowly, so a few rounds reach well under a
 * centimetre). A position placed on GCJ-02 tiles (a dragged pin) is
 * stored in WGS-84 this way.
 */
export function gcj02ToWgs84(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let x = lon;
  let y = lat;
  for (let i = 0; i < 10; i++) {
    const [gx, gy] = wgs84ToGcj02(x, y);
    const dx = gx - lon;
    const dy = gy - lat;
    x -= dx;
    y -= dy;
    if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) break;
  }
  return [x, y];
}

/** unprojector returns the function that maps what the tiles use back to WGS-84 [lon, lat]. */
export function unprojector(datum) {
  return datum === "gcj02" ? gcj02ToWgs84 : (lon, lat) => [lon, lat];
}
