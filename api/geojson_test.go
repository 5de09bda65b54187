package api

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

func TestAppendFeature(t *testing.T) {
	tests := []struct {
		f    *geo.Feature
		want string
	}{
		{&geo.Feature{ID: "a", Geometry: orb.Point{113.123456789, 34.5}, Properties: map[string]any{"name": "积水"}},
			`{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[113.1234568,34.5]},"properties":{"name":"积水"}}`},
		{&geo.Feature{ID: "b"},
			`{"type":"Feature","id":"b","geometry":null,"properties":{}}`},
		{&geo.Feature{ID: "c", Geometry: orb.LineString{{1, 2}, {3, 4}}, Properties: map[string]any{}},
			`{"type":"Feature","id":"c","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{}}`},
		{&geo.Feature{ID: "d", Geometry: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}},
			`{"type":"Feature","id":"d","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]},"properties":{}}`},
	}
	for _, tt := range tests {
		got, err := AppendFeature(nil, tt.f)
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendFeature(%s) = %s, %v\nwant %s", tt.f.ID, got, err, tt.want)
		}
	}
}

func TestDecodeFeatureErrors(t *testing.T) {
	tests := []struct {
		raw   string
		field string
	}{
		{`[]`, "body"},
		{`{"type":"Point"}`, "type"},
		{`{"type":"Feature"}`, "geometry"},
		{`{"type":"Feature","geometry":{"type":"Point","coordinates":[1]}}`, "geometry.coordinates"},
		{`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]}}`, "geometry.coordinates"},
		{`{"type":"Feature","geometry":{"type":"Circle","coordinates":[1,2]}}`, "geometry.type"},
		{`{"type":"Feature","geometry":null,"properties":[]}`, "properties"},
		{`{"type":"Feature","geometry":null,"id":{}}`, "id"},
		{`{"type":"Feature","geometry":null,"crs":{"type":"name","properties":{"name":"EPSG:3857"}}}`, "crs"},
		{`{"type":"Feature","geometry":null} {}`, "body"},
	}
	for _, tt := range tests {
		_, err := DecodeFeature([]byte(tt.raw), "")
		e := geo.AsError(err)
		if e == nil || e.Kind != geo.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
			t.Errorf("DecodeFeature(%s) = %v, want Invalid on %s", tt.raw, err, tt.field)
		}
	}
}

// FuzzDecodeFeature checks that DecodeFeature never panics, fails only
// with Invalid errors that name a field, and that what it accepts
// survives AppendFeature and a second decoding unchanged (up to the
// coordinate rounding of the writer).
func FuzzDecodeFeature(f *testing.F) {
	for _, s := range []string{
		`{"type":"Feature","id":"wp-1","geometry":{"type":"Point","coordinates":[113.371,34.802182]},"properties":{"name":"x"}}`,
		`{"type":"Feature","id":7,"geometry":null,"properties":null}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{}}`,
		`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}`,
		`{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}}`,
		`{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[1,2],[3,4]]]}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,0]}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]}}`,
		`{"type":"Feature","crs":{"properties":{"name":"EPSG:4326"}},"geometry":null}`,
		`{"type":"Feature"`, `null`, `"Feature"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		feat, err := DecodeFeature(raw, "")
		if err != nil {
			e := geo.AsError(err)
			if e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 || e.Fields[0].Field == "" {
				t.Fatalf("DecodeFeature(%q) = %v, want an Invalid error naming a field", raw, err)
			}
			return
		}
		if feat.Properties == nil {
			t.Fatalf("DecodeFeature(%q): nil properties", raw)
		}
		if !finite(feat.Geometry) {
			return // AppendFeature is given only stored, validated features
		}
		out, err := AppendFeature(nil, feat)
		if err != nil {
			// Only properties that JSON cannot hold may fail, and decoding
			// JSON cannot produce them.
			t.Fatalf("AppendFeature(DecodeFeature(%q)) = %v", raw, err)
		}
		if !json.Valid(out) {
			t.Fatalf("AppendFeature wrote invalid JSON: %s", out)
		}
		again, err := DecodeFeature(out, "")
		if err != nil {
			t.Fatalf("DecodeFeature(AppendFeature(…)) = %v\n%s", err, out)
		}
		out2, err := AppendFeature(nil, again)
		if err != nil || string(out2) != string(out) {
			t.Fatalf("not a fixed point:\n%s\n%s", out, out2)
		}
	})
}

// finite reports whether every coordinate of g is a finite number of a
// magnitude that survives rounding to geo.Decimals places.
func finite(g orb.Geometry) bool {
	if g == nil {
		return true
	}
	ok := true
	var visit func(orb.Geometry)
	visit = func(g orb.Geometry) {
		switch t := g.(type) {
		case orb.Point:
			for _, x := range t {
				if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e9 {
					ok = false
				}
			}
		case orb.MultiPoint:
			for _, p := range t {
				visit(p)
			}
		case orb.LineString:
			for _, p := range t {
				visit(p)
			}
		case orb.MultiLineString:
			for _, l := range t {
				visit(l)
			}
		case orb.Polygon:
			for _, r := range t {
				visit(orb.LineString(r))
			}
		case orb.MultiPolygon:
			for _, p := range t {
				visit(p)
			}
		case orb.Collection:
			for _, x := range t {
				visit(x)
			}
		}
	}
	visit(g)
	return ok
}
