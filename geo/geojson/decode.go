package geojson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// DecodeFeature reads one GeoJSON Feature. Errors are Invalid *geo.Error
// values whose fields are named from prefix ("" for a request body, whose
// errors name "body" and the members; "features[3]" for a member of a
// collection).
func DecodeFeature(raw []byte, prefix string) (*geo.Feature, error) {
	var m map[string]json.RawMessage
	if err := geo.DecodeJSON(orRoot(prefix), raw, &m); err != nil {
		return nil, err
	}
	var typ string
	if err := json.Unmarshal(m["type"], &typ); err != nil || typ != "Feature" {
		return nil, geo.InvalidField(join(prefix, "type"), `want "Feature"`)
	}
	if err := checkCRS(m["crs"], join(prefix, "crs")); err != nil {
		return nil, err
	}
	f := &geo.Feature{Properties: map[string]any{}}
	if id, ok := m["id"]; ok && !isNull(id) {
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(id, &s) == nil:
			f.ID = s
		case json.Unmarshal(id, &n) == nil:
			f.ID = n.String()
		default:
			return nil, geo.InvalidField(join(prefix, "id"), "want a string or a number")
		}
	}
	g, ok := m["geometry"]
	if !ok {
		return nil, geo.InvalidField(join(prefix, "geometry"), "required (null for an unknown location)")
	}
	geom, err := DecodeGeometry(g, join(prefix, "geometry"))
	if err != nil {
		return nil, err
	}
	f.Geometry = geom
	if p, ok := m["properties"]; ok && !isNull(p) {
		if err := json.Unmarshal(p, &f.Properties); err != nil {
			return nil, geo.InvalidField(join(prefix, "properties"), "want an object")
		}
	}
	return f, nil
}

// DecodeFeatureCollection reads a GeoJSON FeatureCollection. Members
// other than type, crs and features (a name, a bbox, links) are ignored.
func DecodeFeatureCollection(raw []byte) ([]*geo.Feature, error) {
	var m map[string]json.RawMessage
	if err := geo.DecodeJSON("body", raw, &m); err != nil {
		return nil, err
	}
	var typ string
	if err := json.Unmarshal(m["type"], &typ); err != nil || typ != "FeatureCollection" {
		return nil, geo.InvalidField("type", `want "FeatureCollection"`)
	}
	if err := checkCRS(m["crs"], "crs"); err != nil {
		return nil, err
	}
	var features []json.RawMessage
	if raw, ok := m["features"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &features); err != nil {
			return nil, geo.InvalidField("features", "want an array of features")
		}
	}
	out := make([]*geo.Feature, 0, len(features))
	for i, raw := range features {
		f, err := DecodeFeature(raw, fmt.Sprintf("features[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// checkCRS accepts a missing crs member, or one naming WGS-84 lon/lat (as
// older GDAL writes); any other CRS would put the data in the wrong place.
func checkCRS(raw json.RawMessage, field string) error {
	if raw == nil || isNull(raw) {
		return nil
	}
	var crs struct {
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(raw, &crs)
	switch crs.Properties.Name {
	case "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326":
		return nil
	}
	return geo.InvalidField(field, "only WGS-84 longitude/latitude (CRS84) is accepted; RFC 7946 GeoJSON has no crs member")
}

// DecodeGeometry reads a GeoJSON geometry object; JSON null is a nil
// geometry. Errors name field and the member below it.
func DecodeGeometry(raw json.RawMessage, field string) (orb.Geometry, error) {
	if isNull(raw) {
		return nil, nil
	}
	var g struct {
		Type        string            `json:"type"`
		Coordinates json.RawMessage   `json:"coordinates"`
		Geometries  []json.RawMessage `json:"geometries"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, geo.InvalidField(field, "not a geometry object")
	}
	if g.Type == "GeometryCollection" {
		c := orb.Collection{}
		for i, x := range g.Geometries {
			sub, err := DecodeGeometry(x, fmt.Sprintf("%s.geometries[%d]", field, i))
			if err != nil {
				return nil, err
			}
			if sub == nil {
				return nil, geo.InvalidField(fmt.Sprintf("%s.geometries[%d]", field, i), "must not be null")
			}
			c = append(c, sub)
		}
		return c, nil
	}
	cf := field + ".coordinates"
	if g.Coordinates == nil {
		return nil, geo.InvalidField(cf, "required")
	}
	var err error
	var out orb.Geometry
	switch g.Type {
	case "Point":
		out, err = decode(g.Coordinates, position)
	case "MultiPoint":
		out, err = decode(g.Coordinates, multiPoint)
	case "LineString":
		out, err = decode(g.Coordinates, lineString)
	case "MultiLineString":
		out, err = decode(g.Coordinates, multiLineString)
	case "Polygon":
		out, err = decode(g.Coordinates, polygon)
	case "MultiPolygon":
		out, err = decode(g.Coordinates, multiPolygon)
	default:
		return nil, geo.InvalidField(field+".type", "unknown geometry type %q", g.Type)
	}
	if err != nil {
		return nil, geo.InvalidField(cf, "%s: %v", g.Type, err)
	}
	return out, nil
}

// decode reads the coordinates raw as C and makes them a geometry with
// f.
func decode[C any, G orb.Geometry](raw json.RawMessage, f func(C) (G, error)) (orb.Geometry, error) {
	var c C
	if err := json.Unmarshal(raw, &c); err != nil {
		if errors.Is(err, errCoord) {
			return nil, errCoord
		}
		return nil, errors.New("want nested arrays of numbers as the type needs them")
	}
	g, err := f(c)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// each converts every element of in with f; the first error stops it.
func each[In, Out any](in []In, f func(In) (Out, error)) ([]Out, error) {
	out := make([]Out, len(in))
	for i, x := range in {
		var err error
		if out[i], err = f(x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// coord is one number of a position. Anything but a number is refused:
// JSON null above all, which encoding/json would read as 0 and so move a
// depot to (0, 0) without a word.
type coord float64

// errCoord is the error of a coordinate that is not a number.
var errCoord = errors.New("every coordinate must be a number (null, strings and other values are not)")

// UnmarshalJSON reads a JSON number.
func (c *coord) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errCoord
	}
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return errCoord
	}
	*c = coord(x)
	return nil
}

// The coordinates of each geometry type, from the nesting of arrays of
// numbers that encoding/json reads.

func position(p []coord) (orb.Point, error) {
	switch len(p) {
	case 2:
		return orb.Point{float64(p[0]), float64(p[1])}, nil
	case 3:
		return orb.Point{}, fmt.Errorf("altitude is not supported; give [lon, lat]")
	}
	return orb.Point{}, fmt.Errorf("a position is [lon, lat], got %d numbers", len(p))
}

func multiPoint(ps [][]coord) (orb.MultiPoint, error) { return each(ps, position) }

func lineString(ps [][]coord) (orb.LineString, error) { return each(ps, position) }

func ring(ps [][]coord) (orb.Ring, error) { return each(ps, position) }

func multiLineString(ls [][][]coord) (orb.MultiLineString, error) { return each(ls, lineString) }

func polygon(rs [][][]coord) (orb.Polygon, error) { return each(rs, ring) }

func multiPolygon(ps [][][][]coord) (orb.MultiPolygon, error) { return each(ps, polygon) }

// isNull reports whether raw is the JSON literal null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func orRoot(prefix string) string {
	if prefix == "" {
		return "body"
	}
	return prefix
}
