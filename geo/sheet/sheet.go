// Package sheet reads and writes the collections as spreadsheets (xlsx and
// CSV) for planners who keep their data in Excel, and plans an import
// back against the store's features: which rows would be created,
// updated, left unchanged, or are stale (changed by someone else since
// the export), with every bad cell reported by row and column in Chinese
// and English.
//
// A sheet has one header row and one row per feature. The columns are id
// and version (the feature's version at export: the import's guard against
// overwriting someone else's change), every property the reader's role may
// see in schema order (geo.Schema.Visible), lon and lat in WGS-84 for
// points, and wkt for the other geometries of collections that allow
// them. Each header reads "中文名 (key)"; an import matches headers by
// key, by the Chinese title or by the whole text. Values are written as
// Cell explains and read back the same way, so an export read back
// unedited plans as all unchanged.
//
// Nothing here does I/O beyond the reader and writer it is given, and
// memory is bounded: writers stream (Encoder), readers stop at MaxBytes
// and MaxRows.
package sheet

import "hazardmap/geo"

// Limits of an import. A file over them is refused whole, with a
// Problem saying which limit.
const (
	// MaxBytes is the largest file read (CSV or xlsx as sent).
	MaxBytes = 16 << 20
	// MaxUnzippedBytes caps what an xlsx may unzip to, against zip bombs.
	MaxUnzippedBytes = 128 << 20
	// MaxRows is the most rows a sheet may have, header and blank rows
	// included (the API's page limit is the same 10 000).
	MaxRows = 10_001
	// MaxCellRunes is the longest cell Excel keeps (32 767 characters).
	MaxCellRunes = 32_767
)

// Encoder writes features as rows, one at a time, so that a collection
// streams from the store to the client. Close finishes the file; nothing
// may be encoded after it.
type Encoder interface {
	Encode(f *geo.Feature) error
	Close() error
}
