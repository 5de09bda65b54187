package geojson

import (
	"bytes"
	"encoding/json"
	"fmt"

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
		var p []float64
		if err = json.Unmarshal(g.Coordinates, &p); err == nil {
			out, err = position(p)
		}
	case "MultiPoint", "LineString":
		var ps [][]float64
		if err = json.Unmarshal(g.Coordinates, &ps); err == nil {
			var pts []orb.Point
			pts, err = positions(ps)
			if g.Type == "MultiPoint" {
				out = orb.MultiPoint(pts)
			} else {
				out = orb.LineString(pts)
			}
		}
	case "MultiLineString":
		var ls [][][]float64
		if err = json.Unmarshal(g.Coordinates, &ls); err == nil {
			var lines []orb.LineString
			lines, err = lists[orb.LineString](ls)
			out = orb.MultiLineString(lines)
		}
	case "Polygon":
		var rs [][][]float64
		if err = json.Unmarshal(g.Coordinates, &rs); err == nil {
			var rings []orb.Ring
			rings, err = lists[orb.Ring](rs)
			out = orb.Polygon(rings)
		}
	case "MultiPolygon":
		var ps [][][][]float64
		if err = json.Unmarshal(g.Coordinates, &ps); err == nil {
			mp := orb.MultiPolygon{}
			for _, coords := range ps {
				var rings []orb.Ring
				if rings, err = lists[orb.Ring](coords); err != nil {
					break
				}
				mp = append(mp, orb.Polygon(rings))
			}
			out = mp
		}
	default:
		return nil, geo.InvalidField(field+".type", "unknown geometry type %q", g.Type)
	}
	if err != nil {
		return nil, geo.InvalidField(cf, "%s: %v", g.Type, err)
	}
	return out, nil
}

func position(p []float64) (orb.Point, error) {
	switch len(p) {
	case 2:
		return orb.Point{p[0], p[1]}, nil
	case 3:
		return orb.Point{}, fmt.Errorf("altitude is not supported; give [lon, lat]")
	}
	return orb.Point{}, fmt.Errorf("a position is [lon, lat], got %d numbers", len(p))
}

func positions(ps [][]float64) ([]orb.Point, error) {
	out := make([]orb.Point, len(ps))
	for i, p := range ps {
		var err error
		if out[i], err = position(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lists reads a list of position lists, each as a T (a line or a ring).
func lists[T ~[]orb.Point](ls [][][]float64) ([]T, error) {
	out := make([]T, len(ls))
	for i, l := range ls {
		pts, err := positions(l)
		if err != nil {
			return nil, err
		}
		out[i] = pts
	}
	return out, nil
}

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
