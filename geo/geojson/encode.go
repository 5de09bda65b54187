// Package geojson is the GeoJSON (RFC 7946) codec of hazardmap, used by
// the API and by the command line (import, export, seed). It writes
// features with longitude/latitude positions cut to geo.Decimals places
// and no "crs" member, and reads features strictly, naming the offending
// member in every error (an Invalid *geo.Error).
//
// It is written here rather than taken from orb/geojson so that errors
// are field-level problems and so that orb/geojson's BSON support (the
// MongoDB driver) does not come along. The other file formats (CSV, KML,
// spreadsheets) are its siblings under geo/.
package geojson

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// AppendFeature appends f as a GeoJSON Feature.
func AppendFeature(buf []byte, f *geo.Feature) ([]byte, error) {
	buf = append(buf, `{"type":"Feature","id":`...)
	buf = strconv.AppendQuote(buf, f.ID)
	buf = append(buf, `,"geometry":`...)
	buf = AppendGeometry(buf, f.Geometry)
	buf = append(buf, `,"properties":`...)
	props, err := json.Marshal(f.Properties)
	if err != nil {
		return nil, fmt.Errorf("geojson: encode properties of %s: %w", f.ID, err)
	}
	if f.Properties == nil {
		props = []byte("{}")
	}
	buf = append(buf, props...)
	return append(buf, '}'), nil
}

// AppendGeometry appends g as a GeoJSON geometry, or null for nil. An
// orb.Ring is written as the Polygon it stands for (its one ring), and an
// orb.Bound as the Polygon of its four corners.
func AppendGeometry(buf []byte, g orb.Geometry) []byte {
	switch t := g.(type) {
	case nil:
		return append(buf, "null"...)
	case orb.Collection:
		buf = append(buf, `{"type":"GeometryCollection","geometries":[`...)
		for i, x := range t {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendGeometry(buf, x)
		}
		return append(buf, "]}"...)
	case orb.Ring:
		g = orb.Polygon{t}
	case orb.Bound:
		g = t.ToPolygon()
	}
	buf = append(buf, `{"type":"`...)
	buf = append(buf, g.GeoJSONType()...)
	buf = append(buf, `","coordinates":`...)
	buf = appendCoords(buf, g)
	return append(buf, '}')
}

// appendCoords appends the coordinates member of g, which is none of
// nil, orb.Collection, orb.Ring or orb.Bound (AppendGeometry turned those
// into what they stand for).
func appendCoords(buf []byte, g orb.Geometry) []byte {
	switch t := g.(type) {
	case orb.Point:
		return appendPosition(buf, t)
	case orb.MultiPoint:
		return appendPositions(buf, t)
	case orb.LineString:
		return appendPositions(buf, t)
	case orb.MultiLineString:
		return appendLines(buf, t)
	case orb.Polygon:
		return appendLines(buf, t)
	case orb.MultiPolygon:
		buf = append(buf, '[')
		for i, p := range t {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendLines(buf, p)
		}
		return append(buf, ']')
	}
	return append(buf, "[]"...)
}

// appendLines appends a list of lines or rings.
func appendLines[L ~[]orb.Point](buf []byte, ls []L) []byte {
	buf = append(buf, '[')
	for i, l := range ls {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendPositions(buf, l)
	}
	return append(buf, ']')
}

// appendPositions appends a list of positions.
func appendPositions[P ~[]orb.Point](buf []byte, ps P) []byte {
	buf = append(buf, '[')
	for i, p := range ps {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendPosition(buf, p)
	}
	return append(buf, ']')
}

// scale is 10^geo.Decimals.
var scale = math.Pow10(geo.Decimals)

func appendPosition(buf []byte, p orb.Point) []byte {
	buf = append(buf, '[')
	buf = strconv.AppendFloat(buf, math.Round(p[0]*scale)/scale, 'f', -1, 64)
	buf = append(buf, ',')
	buf = strconv.AppendFloat(buf, math.Round(p[1]*scale)/scale, 'f', -1, 64)
	return append(buf, ']')
}
