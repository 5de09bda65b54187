package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file is the GeoJSON (RFC 7946) codec of the service: it writes
// features with lon/lat positions cut to geo.Decimals places and no "crs"
// member, and reads features strictly, naming the offending member in
// every error. It is written here rather than taken from orb/geojson so
// that errors are field-level problems and so that orb/geojson's BSON
// support (the MongoDB driver) does not come along.

// AppendFeature appends f as a GeoJSON Feature (geojson.AppendFeature,
// the one encoder both stores and the API use).
func AppendFeature(buf []byte, f *geo.Feature) ([]byte, error) {
	return geojson.AppendFeature(buf, f)
}

// AppendGeometry appends g as a GeoJSON geometry, or null for nil.
func AppendGeometry(buf []byte, g orb.Geometry) []byte {
	return geojson.AppendGeometry(buf, g)
}

// DecodeFeature reads one GeoJSON Feature. Errors are Invalid *geo.Error
// values whose fields are named from prefix ("" for a request body).
func DecodeFeature(raw []byte, prefix string) (*geo.Feature, error) {
	var m map[string]json.RawMessage
	if err := strictUnmarshal(raw, &m); err != nil {
		return nil, geo.InvalidField(orRoot(prefix), "not a JSON object: %v", err)
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

// DecodeFeatureCollection reads a GeoJSON FeatureCollection.
func DecodeFeatureCollection(raw []byte) ([]*geo.Feature, error) {
	var fc struct {
		Type     string            `json:"type"`
		CRS      json.RawMessage   `json:"crs"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		return nil, geo.InvalidField("body", "not a GeoJSON FeatureCollection: %v", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, geo.InvalidField("type", `want "FeatureCollection"`)
	}
	if err := checkCRS(fc.CRS, "crs"); err != nil {
		return nil, err
	}
	out := make([]*geo.Feature, 0, len(fc.Features))
	for i, raw := range fc.Features {
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
// geometry.
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
	case "MultiLineString", "Polygon":
		var ls [][][]float64
		if err = json.Unmarshal(g.Coordinates, &ls); err == nil {
			var rings [][]orb.Point
			rings, err = lines(ls)
			if g.Type == "Polygon" {
				p := orb.Polygon{}
				for _, r := range rings {
					p = append(p, orb.Ring(r))
				}
				out = p
			} else {
				m := orb.MultiLineString{}
				for _, r := range rings {
					m = append(m, orb.LineString(r))
				}
				out = m
			}
		}
	case "MultiPolygon":
		var ps [][][][]float64
		if err = json.Unmarshal(g.Coordinates, &ps); err == nil {
			mp := orb.MultiPolygon{}
			for _, poly := range ps {
				var rings [][]orb.Point
				if rings, err = lines(poly); err != nil {
					break
				}
				p := orb.Polygon{}
				for _, r := range rings {
					p = append(p, orb.Ring(r))
				}
				mp = append(mp, p)
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

func lines(ls [][][]float64) ([][]orb.Point, error) {
	out := make([][]orb.Point, len(ls))
	for i, l := range ls {
		var err error
		if out[i], err = positions(l); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func strictUnmarshal(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return strings.TrimSpace(string(raw)) == "null"
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
