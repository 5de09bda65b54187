package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

func TestParseAnalysisValues(t *testing.T) {
	num := func(f func(string) (float64, error)) func(string) (any, error) {
		return func(s string) (any, error) { return f(s) }
	}
	for _, tc := range []struct {
		name  string
		parse func(string) (any, error)
		raw   string
		want  any // nil: an Invalid error on field
		field string
	}{
		{"lon", num(parseLon), "113.38", 113.38, "lon"},
		{"lon", num(parseLon), "-180", -180.0, "lon"},
		{"lon", num(parseLon), " 113 ", 113.0, "lon"},
		{"lon", num(parseLon), "180.0001", nil, "lon"},
		{"lon", num(parseLon), "NaN", nil, "lon"},
		{"lon", num(parseLon), "Inf", nil, "lon"},
		{"lon", num(parseLon), "0x1p6", nil, "lon"},
		{"lon", num(parseLon), "", nil, "lon"},
		{"lon", num(parseLon), "113,5", nil, "lon"},
		{"lat", num(parseLat), "34.79", 34.79, "lat"},
		{"lat", num(parseLat), "90", 90.0, "lat"},
		{"lat", num(parseLat), "113.4", nil, "lat"}, // lon and lat swapped
		{"lat", num(parseLat), "1e999", nil, "lat"},
		{"k", func(s string) (any, error) { return parseK(s) }, "3", 3, "k"},
		{"k", func(s string) (any, error) { return parseK(s) }, "50", 50, "k"},
		{"k", func(s string) (any, error) { return parseK(s) }, "51", nil, "k"},
		{"k", func(s string) (any, error) { return parseK(s) }, "0", nil, "k"},
		{"k", func(s string) (any, error) { return parseK(s) }, "1.5", nil, "k"},
		{"category", func(s string) (any, error) { return parseCategory(s) }, "fire", "fire", "category"},
		{"category", func(s string) (any, error) { return parseCategory(s) }, "Fire", nil, "category"},
		{"category", func(s string) (any, error) { return parseCategory(s) }, "", nil, "category"},
		{"max_distance_m", num(parseMaxDistance), "3000", 3000.0, "max_distance_m"},
		{"max_distance_m", num(parseMaxDistance), "1", 1.0, "max_distance_m"},
		{"max_distance_m", num(parseMaxDistance), "1e6", 1e6, "max_distance_m"},
		{"max_distance_m", num(parseMaxDistance), "0.5", nil, "max_distance_m"},
		{"max_distance_m", num(parseMaxDistance), "1000001", nil, "max_distance_m"},
		{"max_distance_m", num(parseMaxDistance), "3km", nil, "max_distance_m"},
		{"format", func(s string) (any, error) { return parseAnalysisFormat("format", s) }, "geojson", "geojson", "format"},
		{"format", func(s string) (any, error) { return parseAnalysisFormat("format", s) }, "csv", nil, "format"},
	} {
		got, err := tc.parse(tc.raw)
		if tc.want == nil {
			if geo.KindOf(err) != geo.Invalid || !slices.Equal(fieldsOf(err), []string{tc.field}) {
				t.Errorf("Parse %s(%q) = %v, %v; want an Invalid error on %s", tc.name, tc.raw, got, err, tc.field)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse %s(%q) = %v, %v; want %v", tc.name, tc.raw, got, err, tc.want)
		}
	}
}

func TestParseNearestDepotsQuery(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  string   // canonical, when valid
		bad   []string // fields, when not
	}{
		{"lon=113.38&lat=34.79", "lon=113.38&lat=34.79&k=3&ready=any&category=", nil},
		{"lat=34.79&lon=113.38&k=10&ready=true&category=flood&f=json", "lon=113.38&lat=34.79&k=10&ready=true&category=flood", nil},
		{"lon=113.38&lat=34.79&ready=any", "lon=113.38&lat=34.79&k=3&ready=any&category=", nil},
		{"lon=113.38", "", []string{"lat"}},
		{"", "", []string{"lon", "lat"}},
		{"lon=200&lat=34&k=0&ready=maybe&category=food", "", []string{"category", "k", "lon", "ready"}},
		{"lon=113&lat=34&lon=114", "", []string{"lon"}},
		{"lon=113&lat=34&colour=red", "", []string{"colour"}},
		{"lon=113&lat=34&f=geojson", "", []string{"f"}},
	} {
		v, _ := url.ParseQuery(tc.query)
		q, err := parseNearestDepotsQuery(v)
		if tc.bad != nil {
			if geo.KindOf(err) != geo.Invalid || !slices.Equal(fieldsOf(err), tc.bad) {
				t.Errorf("ParseNearestDepotsQuery(%q) = %v, want errors on %v", tc.query, err, tc.bad)
			}
			continue
		}
		if err != nil || q.Canonical() != tc.want {
			t.Errorf("ParseNearestDepotsQuery(%q) = %q, %v; want %q", tc.query, q.Canonical(), err, tc.want)
		}
	}
}

func TestParseReachQuery(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  string
		bad   []string
	}{
		{"", "max_distance_m=3000&collections=waterlogging_points,relocation_sites&ready=true&category=&format=json", nil},
		{"max_distance_m=1500.5&collections=relocation_sites&ready=any&category=fire&format=geojson",
			"max_distance_m=1500.5&collections=relocation_sites&ready=any&category=fire&format=geojson", nil},
		{"f=geojson", "max_distance_m=3000&collections=waterlogging_points,relocation_sites&ready=true&category=&format=geojson", nil},
		{"f=geojson&format=geojson", "max_distance_m=3000&collections=waterlogging_points,relocation_sites&ready=true&category=&format=geojson", nil},
		{"f=json&format=geojson", "", []string{"f"}},
		{"max_distance_m=0&collections=depots&ready=1&format=kml", "", []string{"collections", "format", "max_distance_m", "ready"}},
		{"lon=113", "", []string{"lon"}},
		{"ready=true&ready=false", "", []string{"ready"}},
	} {
		v, _ := url.ParseQuery(tc.query)
		p, err := parseReachQuery(v)
		if tc.bad != nil {
			if geo.KindOf(err) != geo.Invalid || !slices.Equal(fieldsOf(err), tc.bad) {
				t.Errorf("ParseReachQuery(%q) = %v, want errors on %v", tc.query, err, tc.bad)
			}
			continue
		}
		if err != nil || p.Canonical() != tc.want {
			t.Errorf("ParseReachQuery(%q) = %q, %v; want %q", tc.query, p.Canonical(), err, tc.want)
		}
		if err == nil && p.Query.Check() != nil {
			t.Errorf("ParseReachQuery(%q): the query fails geo's check: %v", tc.query, p.Query.Check())
		}
	}
}

func FuzzParseNearestDepotsQuery(f *testing.F) {
	for _, s := range []string{"lon=113.38&lat=34.79", "lon=1e3&lat=x&k=99", "k=1&ready=true&category=fire", "lon=-180&lat=90&k=50&ready=any", "%zz", "lon=NaN&lat=Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		q, err := parseNearestDepotsQuery(v)
		if err != nil {
			e := geo.AsError(err)
			if e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 {
				t.Fatalf("ParseNearestDepotsQuery(%q) = %v, want an Invalid error naming parameters", query, err)
			}
			return
		}
		if !geo.ValidPoint(q.Point) || q.Point[0] < -180 || q.Point[0] > 180 || q.K < 1 || q.K > maxNearestK || q.Filter.Check() != nil {
			t.Fatalf("ParseNearestDepotsQuery(%q) = %+v: out of range", query, q)
		}
	})
}

func FuzzParseReachQuery(f *testing.F) {
	for _, s := range []string{"", "max_distance_m=3000", "collections=relocation_sites,waterlogging_points&ready=any", "format=geojson&f=json",
		"max_distance_m=-1&category=x", "collections=,", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p, err := parseReachQuery(v)
		if err != nil {
			e := geo.AsError(err)
			if e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 {
				t.Fatalf("ParseReachQuery(%q) = %v, want an Invalid error naming parameters", query, err)
			}
			return
		}
		if err := p.Query.Check(); err != nil || len(p.Query.Collections) == 0 || (p.Format != formatJSON && p.Format != formatGeoJSON) {
			t.Fatalf("ParseReachQuery(%q) = %+v (%v): not a usable query", query, p, err)
		}
	})
}

// getJSON requests target from s and decodes the body into out.
func getJSON(t *testing.T, s http.Handler, target string, hdr http.Header, out any) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if out != nil && rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("GET %s: %v\n%s", target, err, rec.Body)
		}
	}
	return rec
}

func TestNearestDepotsHandler(t *testing.T) {
	store := OpenFixtureStore(t)
	s := NewServer(store, Options{})
	var body nearestDepotsJSON
	rec := getJSON(t, s, "/analysis/nearest-depots?lon=113.39&lat=34.79&k=5", nil, &body)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != typeJSON {
		t.Fatalf("GET nearest-depots = %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	ids := []string{}
	for _, d := range body.Depots {
		ids = append(ids, d.ID)
		g, err := geojson.DecodeGeometry(d.Geometry, "geometry")
		p, ok := g.(orb.Point)
		if err != nil || !ok {
			t.Fatalf("%s: geometry %s is not a Point: %v", d.ID, d.Geometry, err)
		}
		if want := metres(geo.Distance(orb.Point{113.39, 34.79}, p)); d.DistanceM != want {
			t.Errorf("%s: distance_m %v, want %v", d.ID, d.DistanceM, want)
		}
	}
	if !slices.Equal(ids, []string{"d-1", "d-2", "d-3"}) || body.K != 5 || body.Filters.Ready != nil || body.Filters.Category != nil {
		t.Errorf("GET nearest-depots: %+v", body)
	}
	if d := body.Depots[1]; d.Ready || len(d.Reasons) == 0 || d.Reasons[0].Code != geo.ReasonUpperFloorNoLift || d.Level != "township" {
		t.Errorf("d-2 (4th floor, no lift, damp): %+v", d)
	}

	// ready=true passes over d-2; category=fire keeps only d-3.
	rec = getJSON(t, s, "/analysis/nearest-depots?lon=113.45&lat=34.75&k=2&ready=true", nil, &body)
	if rec.Code != http.StatusOK || len(body.Depots) != 2 || body.Depots[0].ID != "d-1" || body.Filters.Ready == nil || !*body.Filters.Ready {
		t.Errorf("ready=true: %d %+v", rec.Code, body)
	}
	rec = getJSON(t, s, "/analysis/nearest-depots?lon=113.45&lat=34.75&category=fire", nil, &body)
	if rec.Code != http.StatusOK || len(body.Depots) != 1 || body.Depots[0].ID != "d-3" || *body.Filters.Category != "fire" {
		t.Errorf("category=fire: %d %+v", rec.Code, body)
	}

	// Bad input is a 400 naming the parameters.
	rec = getJSON(t, s, "/analysis/nearest-depots?lon=113&lat=134&k=99", nil, nil)
	var p problemDetails
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	if rec.Code != http.StatusBadRequest || !slices.Equal(fields, []string{"k", "lat"}) {
		t.Errorf("bad query: %d %v", rec.Code, rec.Body)
	}

	// ETag and 304; a write to the depots changes the ETag.
	target := "/analysis/nearest-depots?lon=113.39&lat=34.79"
	rec = getJSON(t, s, target, nil, nil)
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if rec = getJSON(t, s, target, http.Header{"If-None-Match": {etag}}, nil); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
	d, err := store.Feature(context.Background(), geo.Depots, "d-3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Patch(context.Background(), geo.Depots, "d-3", d.Version, geo.Patch{Properties: map[string]any{"damp": true}}); err != nil {
		t.Fatal(err)
	}
	if rec = getJSON(t, s, target, http.Header{"If-None-Match": {etag}}, nil); rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag {
		t.Errorf("after a write: %d, ETag %s (was %s)", rec.Code, rec.Header().Get("ETag"), etag)
	}
}

func TestReachHandler(t *testing.T) {
	store := OpenFixtureStore(t)
	s := NewServer(store, Options{})
	var body reachJSON
	rec := getJSON(t, s, "/analysis/reach", nil, &body)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != typeJSON {
		t.Fatalf("GET reach = %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if body.MaxDistanceM != 3000 || !slices.Equal(body.Collections, geo.HazardCollections()) || body.Filters.Ready == nil || !*body.Filters.Ready {
		t.Errorf("defaults: %+v", body)
	}
	if body.Summary.Hazards != 7 || body.Summary.Unlocated != 1 || len(body.Hazards) != 7 ||
		body.Summary.Within+body.Summary.Beyond+body.Summary.Unlocated+body.Summary.NoDepot != 7 {
		t.Errorf("summary %+v", body.Summary)
	}
	byID := map[string]hazardReachJSON{}
	for _, h := range body.Hazards {
		byID[h.ID] = h
		if h.Skipped == nil {
			t.Errorf("%s: skipped is null", h.ID)
		}
	}
	if h := byID["wp-4"]; h.Located || h.Result != geo.ReachUnlocated || h.Depot != nil {
		t.Errorf("wp-4 (unlocated): %+v", h)
	}
	// wp-5 (113.4, 34.81): d-1 is nearest and ready.
	if h := byID["wp-5"]; h.Depot == nil || h.Depot.ID != "d-1" || h.Result != geo.ReachWithin || h.Kind != "road_spot" {
		t.Errorf("wp-5: %+v", h)
	}
	// rs-1 is a polygon near d-3; it is reported as a relocation site.
	if h := byID["rs-1"]; h.Kind != geo.KindRelocationSite || h.Depot == nil || h.Depot.ID != "d-3" {
		t.Errorf("rs-1: %+v", h)
	}

	// A point next to the unready d-2 skips it with its reasons.
	rec = getJSON(t, s, "/analysis/reach?collections=waterlogging_points&max_distance_m=100", nil, &body)
	if rec.Code != http.StatusOK || !slices.Equal(body.Collections, []string{"waterlogging_points"}) || body.Summary.Hazards != 5 {
		t.Fatalf("collections=waterlogging_points: %d %+v", rec.Code, body.Summary)
	}

	// GeoJSON lines: every hazard is a feature; unlocated ones have a
	// null geometry.
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			ID         string          `json:"id"`
			Geometry   json.RawMessage `json:"geometry"`
			Properties reachLineProps  `json:"properties"`
		} `json:"features"`
	}
	rec = getJSON(t, s, "/analysis/reach?format=geojson", nil, &fc)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != typeGeoJSON || fc.Type != "FeatureCollection" || len(fc.Features) != 7 {
		t.Fatalf("format=geojson: %d %s %d features", rec.Code, rec.Header().Get("Content-Type"), len(fc.Features))
	}
	for _, f := range fc.Features {
		switch f.Properties.Result {
		case geo.ReachUnlocated:
			if string(f.Geometry) != "null" || f.Properties.DepotID != nil {
				t.Errorf("%s: unlocated with geometry %s", f.ID, f.Geometry)
			}
		case geo.ReachWithin, geo.ReachBeyond:
			g, err := geojson.DecodeGeometry(f.Geometry, "geometry")
			if _, line := g.(orb.LineString); err != nil || !line || f.Properties.DepotID == nil || f.Properties.DistanceM == nil {
				t.Errorf("%s: %s %+v", f.ID, f.Geometry, f.Properties)
			}
		}
	}

	// ETag, 304, and a new ETag after a write to a hazard collection.
	rec = getJSON(t, s, "/analysis/reach", nil, nil)
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if rec = getJSON(t, s, "/analysis/reach", http.Header{"If-None-Match": {etag}}, nil); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
	if rec = getJSON(t, s, "/analysis/reach?format=geojson", http.Header{"If-None-Match": {etag}}, nil); rec.Code != http.StatusOK {
		t.Errorf("another query with the same ETag: %d, want 200", rec.Code)
	}
	wp, err := store.Feature(context.Background(), geo.WaterloggingPoints, "wp-4")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Patch(context.Background(), geo.WaterloggingPoints, "wp-4", wp.Version,
		geo.Patch{SetGeometry: true, Geometry: orb.Point{113.381, 34.791}}); err != nil {
		t.Fatal(err)
	}
	rec = getJSON(t, s, "/analysis/reach", http.Header{"If-None-Match": {etag}}, &body)
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag || body.Summary.Unlocated != 0 {
		t.Errorf("after locating wp-4: %d, ETag %s (was %s), summary %+v", rec.Code, rec.Header().Get("ETag"), etag, body.Summary)
	}

	rec = getJSON(t, s, "/analysis/reach?max_distance_m=-5&ready=perhaps", nil, nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"max_distance_m"`) || !strings.Contains(rec.Body.String(), `"field":"ready"`) {
		t.Errorf("bad reach query: %d %s", rec.Code, rec.Body)
	}
}

// TestAnalysisMatchesOpenAPI checks the analysis responses, good and bad,
// against the OpenAPI document.
func TestAnalysisMatchesOpenAPI(t *testing.T) {
	s := NewServer(OpenFixtureStore(t), Options{})
	c := newChecker(t, s, loadOpenAPI(t, s))
	for _, target := range []string{
		"/analysis/nearest-depots?lon=113.39&lat=34.79",
		"/analysis/nearest-depots?lon=113.39&lat=34.79&k=50&ready=false&category=flood&f=json",
		"/analysis/nearest-depots?lon=-66.6&lat=-34.8&ready=any",
		"/analysis/nearest-depots?lon=113.39",
		"/analysis/nearest-depots?lon=113.39&lat=34.79&k=0",
		"/analysis/reach",
		"/analysis/reach?format=geojson",
		"/analysis/reach?f=geojson&max_distance_m=1&ready=any&category=relief",
		"/analysis/reach?collections=relocation_sites,waterlogging_points&ready=false",
		"/analysis/reach?collections=depots",
	} {
		c.check("GET", target, "")
	}
}

func TestMetres(t *testing.T) {
	for in, want := range map[float64]float64{0: 0, 1234.5678: 1234.57, 0.004: 0, 20003931.458625: 20003931.46} {
		if got := metres(in); math.Abs(got-want) > 1e-9 {
			t.Errorf("metres(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestMarshalList: encoding a list element by element gives the bytes of
// marshal on the whole value.
func TestMarshalList(t *testing.T) {
	type elem struct {
		Name string   `json:"name"`
		X    *float64 `json:"x"`
	}
	type doc struct {
		Title string `json:"title"`
		Items []elem `json:"items"`
	}
	x := 1.5
	items := []elem{{"荥阳 <a&b>", &x}, {"\u2028\x01\"", nil}, {"", &x}}
	for n := range len(items) + 1 {
		want, err := marshal(doc{Title: "t", Items: items[:n]})
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalList(doc{Title: "t", Items: []elem{}}, n, func(i int) any { return items[i] })
		if err != nil || string(got) != string(want) {
			t.Errorf("marshalList(%d items) = %s, %v; want %s", n, got, err, want)
		}
	}
}
