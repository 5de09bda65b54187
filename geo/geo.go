// Package geo is the domain of hazardmap: features, collections and their
// schemas, the Store interface every backend implements, the closed set of
// error kinds, and the pure geometry rules (bounding-box intersection,
// geometry validation, ellipsoidal distance, nearest-neighbour search).
//
// It does no I/O: no HTTP, no SQL, no files. Backends (geo/postgis,
// geo/embedded) and the HTTP layer (api) depend on it, never the reverse.
package geo
