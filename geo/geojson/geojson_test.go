package geojson

import (
	"encoding/json"
	"math"
	"strings"
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

// TestAppendGeometryRingAndBound checks that the geometries orb names
// Polygon without being one are written as the polygons they stand for:
// a ring as a polygon of that one ring, a bound as its four corners.
func TestAppendGeometryRingAndBound(t *testing.T) {
	tests := []struct {
		g    orb.Geometry
		want string
	}{
		{orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}},
			`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`},
		{orb.Bound{Min: orb.Point{113, 34}, Max: orb.Point{114, 35}},
			`{"type":"Polygon","coordinates":[[[113,34],[114,34],[114,35],[113,35],[113,34]]]}`},
		{orb.Collection{orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, orb.Point{1, 2}},
			`{"type":"GeometryCollection","geometries":[{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},{"type":"Point","coordinates":[1,2]}]}`},
	}
	for _, tt := range tests {
		got := AppendGeometry(nil, tt.g)
		if string(got) != tt.want {
			t.Errorf("AppendGeometry(%T) = %s\nwant %s", tt.g, got, tt.want)
		}
		// What is written reads back as a polygon.
		if _, err := DecodeGeometry(got, "geometry"); err != nil {
			t.Errorf("DecodeGeometry(AppendGeometry(%T)) = %v", tt.g, err)
		}
	}
}

func TestDecodeFeatureCollection(t *testing.T) {
	raw := `{"type":"FeatureCollection","name":"积水点","bbox":[113,34,114,35],
		"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},
		"features":[{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[113.1,34.5]},"properties":{"name":"x"}},
		{"type":"Feature","id":2,"geometry":null,"properties":null}]}`
	fs, err := DecodeFeatureCollection([]byte(raw))
	if err != nil || len(fs) != 2 || fs[0].ID != "a" || fs[1].ID != "2" || fs[1].Geometry != nil {
		t.Fatalf("DecodeFeatureCollection = %v, %v", fs, err)
	}
	if fs, err := DecodeFeatureCollection([]byte(`{"type":"FeatureCollection","features":[]}`)); err != nil || fs == nil || len(fs) != 0 {
		t.Errorf("empty collection = %v, %v; want an empty, non-nil slice", fs, err)
	}
	for _, tt := range []struct{ raw, field string }{
		{`[]`, "body"},
		{`{"type":"Feature"}`, "type"},
		{`{"type":"FeatureCollection","features":{}}`, "features"},
		{`{"type":"FeatureCollection","crs":{"properties":{"name":"EPSG:3857"}},"features":[]}`, "crs"},
		{`{"type":"FeatureCollection","features":[{"type":"Feature"}]}`, "features[0].geometry"},
		{`{"type":"FeatureCollection","features":[]} x`, "body"},
	} {
		_, err := DecodeFeatureCollection([]byte(tt.raw))
		if invalidField(err) != tt.field {
			t.Errorf("DecodeFeatureCollection(%s) = %v, want Invalid on %s", tt.raw, err, tt.field)
		}
	}
}

// invalidField returns the first field an Invalid error names, or "" for
// any other error.
func invalidField(err error) string {
	if e := geo.AsError(err); e != nil && e.Kind == geo.Invalid && len(e.Fields) > 0 {
		return e.Fields[0].Field
	}
	return ""
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
		if invalidField(err) != tt.field {
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
			if invalidField(err) == "" {
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

// FuzzDecodeFeatureCollection checks that DecodeFeatureCollection never
// panics, fails only with Invalid errors naming a field, and returns a
// non-nil list of features with non-nil properties.
func FuzzDecodeFeatureCollection(f *testing.F) {
	for _, s := range []string{
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"FeatureCollection","name":"x","features":[{"type":"Feature","id":"a","geometry":null,"properties":{}}]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}]}`,
		`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"features":null}`,
		`{"type":"FeatureCollection","features":[1]}`, `{"type":"FeatureCollection"`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fs, err := DecodeFeatureCollection(raw)
		if err != nil {
			if invalidField(err) == "" {
				t.Fatalf("DecodeFeatureCollection(%q) = %v, want an Invalid error naming a field", raw, err)
			}
			return
		}
		if fs == nil {
			t.Fatalf("DecodeFeatureCollection(%q): nil list", raw)
		}
		for _, feat := range fs {
			if feat == nil || feat.Properties == nil {
				t.Fatalf("DecodeFeatureCollection(%q): a nil feature or nil properties", raw)
			}
		}
	})
}

// FuzzDecodeGeometry checks that DecodeGeometry never panics, fails only
// with Invalid errors naming the geometry or a member below it, and that
// what it accepts is written back by AppendGeometry as the same geometry
// (up to the rounding of the writer).
func FuzzDecodeGeometry(f *testing.F) {
	for _, s := range []string{
		`null`,
		`{"type":"Point","coordinates":[113.371,34.802182]}`,
		`{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}`,
		`{"type":"LineString","coordinates":[[1,2],[3,4]]}`,
		`{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6],[7,8]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},null]}`,
		`{"type":"Point"}`, `{"type":"Circle","coordinates":[1,2]}`, `{"type":"Point","coordinates":[1,2,3]}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := DecodeGeometry(raw, "geometry")
		if err != nil {
			if !strings.HasPrefix(invalidField(err), "geometry") {
				t.Fatalf("DecodeGeometry(%q) = %v, want an Invalid error naming the geometry", raw, err)
			}
			return
		}
		if !finite(g) {
			return
		}
		out := AppendGeometry(nil, g)
		again, err := DecodeGeometry(out, "geometry")
		if err != nil {
			t.Fatalf("DecodeGeometry(AppendGeometry(…)) = %v\n%s", err, out)
		}
		if out2 := AppendGeometry(nil, again); string(out2) != string(out) {
			t.Fatalf("not a fixed point:\n%s\n%s", out, out2)
		}
		if (g == nil) != (again == nil) || (g != nil && g.GeoJSONType() != again.GeoJSONType()) {
			t.Fatalf("DecodeGeometry(%q) is a %T, read back as a %T", raw, g, again)
		}
	})
}

func BenchmarkAppendFeature(b *testing.B) {
	f := &geo.Feature{ID: "wp-1", Geometry: orb.Polygon{{{113.2, 34.7}, {113.2, 34.71}, {113.21, 34.71}, {113.21, 34.7}, {113.2, 34.7}}},
		Properties: map[string]any{"name": "汜水镇老君堂村", "households_total": 26.0, "status": "in_progress"}}
	b.ReportAllocs()
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		var err error
		if buf, err = AppendFeature(buf[:0], f); err != nil {
			b.Fatal(err)
		}
	}
}

// finite reports whether every coordinate of g has a magnitude that
// survives rounding to geo.Decimals places. (Decoding JSON gives no NaN
// or infinity: encoding/json refuses numbers out of float64's range.)
func finite(g orb.Geometry) bool {
	if g == nil {
		return true
	}
	b := g.Bound()
	return math.Abs(b.Min[0]) <= 1e9 && math.Abs(b.Min[1]) <= 1e9 && math.Abs(b.Max[0]) <= 1e9 && math.Abs(b.Max[1]) <= 1e9
}

// TestDecodeGeometryRefusesNonNumbers: a coordinate that is null (which
// encoding/json reads as 0, moving a feature to (0, 0)), a string or a
// nested array is Invalid naming the coordinates.
func TestDecodeGeometryRefusesNonNumbers(t *testing.T) {
	for _, raw := range []string{
		`{"type":"Point","coordinates":[null,null]}`,
		`{"type":"Point","coordinates":[113.4,null]}`,
		`{"type":"Point","coordinates":["113.4",34.8]}`,
		`{"type":"Point","coordinates":[true,34.8]}`,
		`{"type":"LineString","coordinates":[[113.4,34.8],[null,34.9]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,null]]]}`,
	} {
		_, err := DecodeGeometry(json.RawMessage(raw), "geometry")
		e := geo.AsError(err)
		if e == nil || e.Kind != geo.Invalid || e.Fields[0].Field != "geometry.coordinates" {
			t.Errorf("DecodeGeometry(%s) = %v, want Invalid naming geometry.coordinates", raw, err)
		}
	}
}
