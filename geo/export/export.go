// Package export names the file formats a collection is exported in —
// xlsx and CSV for planners' spreadsheets (geo/sheet), KML for map apps
// such as 奥维互动地图 (geo/kml) and GPX for GPS units (geo/gpx) — with
// their media types and file extensions, and makes their encoders, so
// that the command line and the API offer the same formats the same way.
package export

import (
	"fmt"
	"io"
	"strings"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/gpx"
	"hazardmap/geo/kml"
	"hazardmap/geo/sheet"
)

// Format is one export format.
type Format struct {
	// Name is what ?f= and --format call it: "xlsx", "csv", "kml", "gpx".
	Name string
	// MediaType is its Content-Type, without parameters.
	MediaType string
	// Ext is its file extension, with the dot.
	Ext string
	// Compressible is true for the text formats (CSV, KML, GPX), which
	// gzip well; an xlsx is a zip already.
	Compressible bool
	// TitleZH and TitleEN name the format for people.
	TitleZH, TitleEN string
}

// Media types of the formats.
const (
	MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	MediaCSV  = "text/csv"
	MediaKML  = "application/vnd.google-earth.kml+xml"
	MediaGPX  = "application/gpx+xml"
)

// Formats returns the export formats, spreadsheets first.
func Formats() []Format {
	return []Format{
		{Name: "xlsx", MediaType: MediaXLSX, Ext: ".xlsx", TitleZH: "Excel表格", TitleEN: "Excel workbook"},
		{Name: "csv", MediaType: MediaCSV, Ext: ".csv", Compressible: true, TitleZH: "CSV表格（UTF-8）", TitleEN: "CSV (UTF-8 with BOM)"},
		{Name: "kml", MediaType: MediaKML, Ext: ".kml", Compressible: true, TitleZH: "KML（奥维、Google Earth）", TitleEN: "KML (Ovital, Google Earth)"},
		{Name: "gpx", MediaType: MediaGPX, Ext: ".gpx", Compressible: true, TitleZH: "GPX航点", TitleEN: "GPX waypoints"},
	}
}

// Names returns the names of Formats, in order.
func Names() []string {
	fs := Formats()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// Lookup returns the format called name (case ignored).
func Lookup(name string) (Format, bool) {
	for _, f := range Formats() {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Format{}, false
}

// NewEncoder returns an encoder of features of sc, as role may see them,
// in format f, writing to w. at is the time a GPX file states as its own
// (the API passes the time of the data's last write, so that the same
// data always gives the same bytes).
func NewEncoder(f Format, w io.Writer, sc *geo.Schema, role geo.Role, at time.Time) (sheet.Encoder, error) {
	switch f.Name {
	case "xlsx":
		return sheet.NewXLSXEncoder(w, sc, role)
	case "csv":
		return sheet.NewCSVEncoder(w, sc, role), nil
	case "kml":
		return kml.NewEncoder(w, sc, role)
	case "gpx":
		return gpx.NewEncoder(w, sc, role, at)
	}
	return nil, fmt.Errorf("export: unknown format %q (want one of %s)", f.Name, strings.Join(Names(), ", "))
}

// Write encodes fs to w in format f, as role may see them, and finishes
// the file.
func Write(f Format, w io.Writer, sc *geo.Schema, role geo.Role, at time.Time, fs []*geo.Feature) error {
	enc, err := NewEncoder(f, w, sc, role, at)
	if err != nil {
		return err
	}
	for _, x := range fs {
		if err := enc.Encode(x); err != nil {
			return fmt.Errorf("export %s as %s: %w", sc.ID, f.Name, err)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("export %s as %s: %w", sc.ID, f.Name, err)
	}
	return nil
}
