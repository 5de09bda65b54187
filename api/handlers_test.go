package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/api"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/geojson"
	"hazardmap/web"
)

// The documents as a client reads them: declared here, not taken from
// package api, so that the tests pin the wire format rather than follow
// the server's types.

// crs84 is the CRS URI the service names (OGC API Features §7.11).
const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

type linkJSON struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type"`
	Title string `json:"title"`
}

type landingJSON struct {
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Links       []linkJSON `json:"links"`
}

type conformanceJSON struct {
	ConformsTo []string `json:"conformsTo"`
}

type collectionsJSON struct {
	Links       []linkJSON       `json:"links"`
	Collections []collectionJSON `json:"collections"`
}

type collectionJSON struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Links       []linkJSON `json:"links"`
	Extent      *struct {
		Spatial struct {
			BBox [][4]float64 `json:"bbox"`
			CRS  string       `json:"crs"`
		} `json:"spatial"`
	} `json:"extent"`
	ItemType string   `json:"itemType"`
	CRS      []string `json:"crs"`
}

type problemJSON struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
	Errors   []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
	RequestID string `json:"request_id"`
}

// featureCollection is the part of an items response the tests read.
type featureCollection struct {
	Type           string         `json:"type"`
	NumberMatched  *int           `json:"numberMatched"`
	NumberReturned *int           `json:"numberReturned"`
	TimeStamp      string         `json:"timeStamp"`
	Links          []linkJSON     `json:"links"`
	Features       []featureJSON  `json:"features"`
	CRS            map[string]any `json:"crs"`
}

type featureJSON struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   *geometryJSON  `json:"geometry"`
	Properties map[string]any `json:"properties"`
	Links      []linkJSON     `json:"links"`
}

type geometryJSON struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

func ids(fc featureCollection) []string {
	var out []string
	for _, f := range fc.Features {
		out = append(out, f.ID)
	}
	return out
}

func linkOf(links []linkJSON, rel string) (linkJSON, bool) {
	for _, l := range links {
		if l.Rel == rel {
			return l, true
		}
	}
	return linkJSON{}, false
}

func TestLandingPage(t *testing.T) {
	st := api.OpenFixtureStore(t)
	plain := api.NewServer(st, api.Options{})
	withMap := api.NewServer(st, api.Options{Map: web.Handler("")})
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	for _, tt := range []struct {
		name   string
		h      http.Handler
		target string
		accept string
		html   bool
	}{
		{"no map, browser", plain, "/", browser, false},
		{"map, browser", withMap, "/", browser, true},
		{"map, browser, f=json", withMap, "/?f=json", browser, false},
		{"map, curl", withMap, "/", "*/*", false},
		{"map, no Accept", withMap, "/", "", false},
		{"map, JSON client", withMap, "/", "application/json", false},
		{"map, f=html", withMap, "/?f=html", "application/json", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, tt.h, "GET", tt.target, "Accept", tt.accept)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200\n%s", tt.target, r.status, r.body)
			}
			ct := r.header.Get("Content-Type")
			if tt.html {
				if !strings.HasPrefix(ct, "text/html") || !bytes.Contains(r.body, []byte("<html")) {
					t.Errorf("GET %s (Accept %q): Content-Type %s, want the map's HTML", tt.target, tt.accept, ct)
				}
				return
			}
			if ct != "application/json" {
				t.Fatalf("GET %s (Accept %q): Content-Type %s, want application/json", tt.target, tt.accept, ct)
			}
			var lp landingJSON
			r.decode(t, &lp)
			want := map[string]string{
				"self":         "application/json",
				"service-desc": "application/vnd.oai.openapi+json;version=3.0",
				"conformance":  "application/json",
				"data":         "application/json",
			}
			for rel, typ := range want {
				l, ok := linkOf(lp.Links, rel)
				if !ok || l.Type != typ || !strings.HasPrefix(l.Href, "http://example.com/") {
					t.Errorf("link %s = %+v, want type %s under http://example.com/", rel, l, typ)
				}
			}
			if l, _ := linkOf(lp.Links, "service-desc"); l.Href != "http://example.com/api" {
				t.Errorf("service-desc = %s, want http://example.com/api", l.Href)
			}
		})
	}
	if r := get(t, withMap, "GET", "/"); !slices.Contains(r.header.Values("Vary"), "Accept") {
		t.Errorf("Vary = %v on a negotiated /, want Accept among them", r.header.Values("Vary"))
	}
	if r := get(t, plain, "GET", "/?f=html"); r.status != http.StatusBadRequest {
		t.Errorf("GET /?f=html with no map = %d, want 400", r.status)
	}
	// The map's assets are served beside it.
	if r := get(t, withMap, "GET", "/assets/nonexistent.js"); r.status != http.StatusNotFound {
		t.Errorf("GET /assets/nonexistent.js = %d, want 404 from the map's file server", r.status)
	}
}

func TestConformance(t *testing.T) {
	h, _ := newServer(t)
	r := get(t, h, "GET", "/conformance")
	var c conformanceJSON
	r.decode(t, &c)
	want := []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	}
	if !slices.Equal(c.ConformsTo, want) {
		t.Errorf("conformsTo = %v, want %v", c.ConformsTo, want)
	}
}

func TestCollections(t *testing.T) {
	h, _ := newServer(t)
	r := get(t, h, "GET", "/collections")
	if r.status != http.StatusOK {
		t.Fatalf("GET /collections = %d\n%s", r.status, r.body)
	}
	var cs collectionsJSON
	r.decode(t, &cs)
	var got []string
	for _, c := range cs.Collections {
		got = append(got, c.ID)
	}
	if want := []string{geo.WaterloggingPoints, geo.RelocationSites, geo.Depots, geo.Gauges}; !slices.Equal(got, want) {
		t.Fatalf("collections = %v, want %v", got, want)
	}
	for _, c := range cs.Collections {
		sc, _ := geo.SchemaFor(c.ID)
		if !strings.Contains(c.Title, sc.TitleZH) || !strings.Contains(c.Title, sc.TitleEN) {
			t.Errorf("%s title = %q, want both %q and %q", c.ID, c.Title, sc.TitleZH, sc.TitleEN)
		}
		if c.ItemType != "feature" || !slices.Equal(c.CRS, []string{crs84}) {
			t.Errorf("%s itemType %q crs %v", c.ID, c.ItemType, c.CRS)
		}
		if l, ok := linkOf(c.Links, "items"); !ok || l.Type != "application/geo+json" ||
			l.Href != "http://example.com/collections/"+c.ID+"/items" {
			t.Errorf("%s items link = %+v", c.ID, l)
		}
		if c.Extent == nil || c.Extent.Spatial.CRS != crs84 || len(c.Extent.Spatial.BBox) != 1 {
			t.Errorf("%s extent = %+v, want one CRS84 box", c.ID, c.Extent)
		}
	}
	// The extent covers exactly the located fixtures.
	wantBox := [4]float64{113.35, 34.78, 113.4, 34.81}
	if got := cs.Collections[0].Extent.Spatial.BBox[0]; got != wantBox {
		t.Errorf("waterlogging_points extent = %v, want %v", got, wantBox)
	}
	r = get(t, h, "GET", "/collections/depots")
	var one collectionJSON
	r.decode(t, &one)
	if r.status != http.StatusOK || one.ID != geo.Depots || one.Extent.Spatial.BBox[0] != [4]float64{113.25, 34.72, 113.45, 34.79} {
		t.Errorf("GET /collections/depots = %d %+v", r.status, one)
	}
}

func TestCollectionWithoutLocatedFeaturesHasNoExtent(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := api.NewServer(st, api.Options{})
	r := get(t, h, "GET", "/collections/depots")
	if r.status != http.StatusOK || bytes.Contains(r.body, []byte(`"extent"`)) {
		t.Errorf("GET /collections/depots of an empty store = %d %s, want 200 without extent", r.status, r.body)
	}
	unlocated := []*geo.Feature{{ID: "x", Properties: map[string]any{"name": "n", "kind": "road_spot", "location_source": "none"}}}
	if err := st.Import(context.Background(), geo.WaterloggingPoints, unlocated); err != nil {
		t.Fatal(err)
	}
	r = get(t, h, "GET", "/collections/waterlogging_points")
	if bytes.Contains(r.body, []byte(`"extent"`)) {
		t.Errorf("collection with only a null geometry has an extent: %s", r.body)
	}
	r = get(t, h, "GET", "/collections/depots/items")
	var fc featureCollection
	r.decode(t, &fc)
	if r.status != http.StatusOK || fc.Features == nil || len(fc.Features) != 0 || *fc.NumberMatched != 0 {
		t.Errorf("items of an empty collection = %d %s, want 200 with \"features\":[]", r.status, r.body)
	}
}

func TestItems(t *testing.T) {
	h, _ := newServer(t)
	tests := []struct {
		query   string
		ids     []string
		matched int
	}{
		{"", []string{"wp-1", "wp-2", "wp-3", "wp-4", "wp-5"}, 5},
		{"?status=closed", []string{"wp-1"}, 1},
		{"?kind=road_spot", []string{"wp-2", "wp-3", "wp-4", "wp-5"}, 4},
		{"?kind=road_spot&status=ponding", []string{"wp-2"}, 1},
		{"?township=" + url.QueryEscape("京城路街道"), []string{"wp-1"}, 1},
		{"?bbox=113.36,34.79,113.395,34.81", []string{"wp-1", "wp-2"}, 2},
		{"?bbox=113.355,34.7,113.356,34.9", []string{"wp-3"}, 1},               // crosses the line between its vertices
		{"?bbox=113.4,34.81,113.5,34.9", []string{"wp-5"}, 1},                  // edges are inclusive
		{"?bbox=-180,-90,180,90", []string{"wp-1", "wp-2", "wp-3", "wp-5"}, 4}, // the null geometry never matches
		{"?bbox=0,0,1,1", nil, 0},
		{"?limit=2", []string{"wp-1", "wp-2"}, 5},
		{"?limit=2&offset=4", []string{"wp-5"}, 5},
		{"?offset=10", nil, 5},
		{"?f=json&limit=1", []string{"wp-1"}, 5},
	}
	for _, tt := range tests {
		r := get(t, h, "GET", "/collections/waterlogging_points/items"+tt.query)
		if r.status != http.StatusOK {
			t.Errorf("GET items%s = %d\n%s", tt.query, r.status, r.body)
			continue
		}
		if ct := r.header.Get("Content-Type"); ct != "application/geo+json" {
			t.Errorf("GET items%s: Content-Type %s, want application/geo+json", tt.query, ct)
		}
		var fc featureCollection
		r.decode(t, &fc)
		if got := ids(fc); !slices.Equal(got, tt.ids) {
			t.Errorf("GET items%s = %v, want %v", tt.query, got, tt.ids)
		}
		if fc.Type != "FeatureCollection" || fc.NumberMatched == nil || *fc.NumberMatched != tt.matched ||
			fc.NumberReturned == nil || *fc.NumberReturned != len(tt.ids) {
			t.Errorf("GET items%s: type %s matched %v returned %v, want %d and %d", tt.query, fc.Type, fc.NumberMatched, fc.NumberReturned, tt.matched, len(tt.ids))
		}
		if _, err := time.Parse(time.RFC3339, fc.TimeStamp); err != nil {
			t.Errorf("GET items%s: timeStamp %q is not RFC 3339", tt.query, fc.TimeStamp)
		}
		if fc.CRS != nil {
			t.Errorf("GET items%s has a crs member", tt.query)
		}
		if fc.Features == nil {
			t.Errorf("GET items%s: features is null, want []", tt.query)
		}
	}
}

func TestItemsGeoJSON(t *testing.T) {
	h, _ := newServer(t)
	r := get(t, h, "GET", "/collections/waterlogging_points/items")
	for _, want := range []string{
		`"id":"wp-4","geometry":null`,                    // unlocated: null, not missing or empty
		`"coordinates":[113.3912346,34.79]`,              // 7 decimals, lon first
		`"coordinates":[[113.35,34.78],[113.36,34.785]]`, // a LineString
		`"measures":["排水泵","断路"]`,                        // UTF-8 as is
	} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("items body lacks %s\n%s", want, r.body)
		}
	}
	if bytes.Contains(r.body, []byte(`"crs"`)) {
		t.Error(`items body has a "crs" member (RFC 7946 has none)`)
	}
	// The polygon given clockwise comes back counter-clockwise.
	r = get(t, h, "GET", "/collections/relocation_sites/items/rs-1")
	f, err := geojson.DecodeFeature(r.body, "")
	if err != nil {
		t.Fatalf("DecodeFeature(rs-1) = %v\n%s", err, r.body)
	}
	poly, ok := f.Geometry.(orb.Polygon)
	if !ok || poly[0].Orientation() != orb.CCW {
		t.Errorf("rs-1 exterior ring = %v, want counter-clockwise", f.Geometry)
	}
}

func TestItemsPaging(t *testing.T) {
	h, _ := newServer(t)
	target := "/collections/waterlogging_points/items?kind=road_spot&limit=2"
	var seen []string
	for page := 0; target != ""; page++ {
		if page > 5 {
			t.Fatal("next links do not end")
		}
		r := get(t, h, "GET", target)
		var fc featureCollection
		r.decode(t, &fc)
		seen = append(seen, ids(fc)...)
		self, _ := linkOf(fc.Links, "self")
		if !strings.Contains(self.Href, "kind=road_spot") || self.Type != "application/geo+json" {
			t.Errorf("self link %+v lost the query", self)
		}
		if _, ok := linkOf(fc.Links, "collection"); !ok {
			t.Error("no collection link")
		}
		prev, hasPrev := linkOf(fc.Links, "prev")
		if hasPrev != (page > 0) {
			t.Errorf("page %d: prev link %v", page, hasPrev)
		}
		if hasPrev && !strings.Contains(prev.Href, "kind=road_spot") {
			t.Errorf("prev link %s lost the query", prev.Href)
		}
		next, ok := linkOf(fc.Links, "next")
		target = ""
		if ok {
			if !strings.Contains(next.Href, "kind=road_spot") || !strings.Contains(next.Href, "limit=2") {
				t.Errorf("next link %s lost the query", next.Href)
			}
			if lh := r.header.Get("Link"); !strings.Contains(lh, `rel="next"`) {
				t.Errorf("Link header %q has no next", lh)
			}
			u, _ := url.Parse(next.Href)
			target = u.RequestURI()
		}
	}
	if want := []string{"wp-2", "wp-3", "wp-4", "wp-5"}; !slices.Equal(seen, want) {
		t.Errorf("pages = %v, want %v", seen, want)
	}
}

func TestBadRequests(t *testing.T) {
	h, _ := newServer(t)
	tests := []struct {
		target string
		status int
		fields []string
	}{
		{"/collections/waterlogging_points/items?bbox=1,2,3", 400, []string{"bbox"}},
		{"/collections/waterlogging_points/items?bbox=114,34,113,35", 400, []string{"bbox"}},
		{"/collections/waterlogging_points/items?limit=-1", 400, []string{"limit"}},
		{"/collections/waterlogging_points/items?limit=abc", 400, []string{"limit"}},
		{"/collections/waterlogging_points/items?limit=10001", 400, []string{"limit"}},
		{"/collections/waterlogging_points/items?offset=-3", 400, []string{"offset"}},
		{"/collections/waterlogging_points/items?colour=red", 400, []string{"colour"}},
		{"/collections/waterlogging_points/items?status=flooded", 400, []string{"status"}},
		{"/collections/waterlogging_points/items?name=x", 400, []string{"name"}},
		{"/collections/waterlogging_points/items?limit=1&limit=2", 400, []string{"limit"}},
		{"/collections/waterlogging_points/items?status='%20OR%201=1--", 400, []string{"status"}},
		{"/collections/waterlogging_points/items?" + url.QueryEscape("status;DROP TABLE x") + "=1", 400, []string{"status;DROP TABLE x"}},
		{"/collections/depots/items?floor=high", 400, []string{"floor"}},
		{"/collections?limit=1", 400, []string{"limit"}},
		{"/collections/depots?f=xml", 400, []string{"f"}},
		{"/conformance?x=1", 400, []string{"x"}},
		{"/collections/waterlogging_points/items/wp-1?bbox=1,2,3,4", 400, []string{"bbox"}},
		{"/collections/rivers", 404, nil},
		{"/collections/rivers/items", 404, nil},
		{"/collections/waterlogging_points/items/nope", 404, nil},
		{"/collections/waterlogging_points/items/d-1", 404, nil}, // a feature of another collection
		{"/nothing/here", 404, nil},
	}
	for _, tt := range tests {
		r := get(t, h, "GET", tt.target)
		if r.status != tt.status {
			t.Errorf("GET %s = %d, want %d\n%s", tt.target, r.status, tt.status, r.body)
			continue
		}
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("GET %s: Content-Type %s, want application/problem+json", tt.target, ct)
		}
		var p problemJSON
		r.decode(t, &p)
		var fields []string
		for _, f := range p.Errors {
			fields = append(fields, f.Field)
		}
		if p.Status != tt.status || !slices.Equal(fields, tt.fields) || p.Detail == "" {
			t.Errorf("GET %s: problem %+v, want status %d, fields %v and a detail", tt.target, p, tt.status, tt.fields)
		}
		if r.header.Get("ETag") != "" || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: error with ETag %q, Cache-Control %q", tt.target, r.header.Get("ETag"), r.header.Get("Cache-Control"))
		}
	}
}

func TestFeature(t *testing.T) {
	h, st := newServer(t)
	r := get(t, h, "GET", "/collections/waterlogging_points/items/wp-1")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("GET wp-1 = %d %s", r.status, r.header.Get("Content-Type"))
	}
	var f featureJSON
	r.decode(t, &f)
	if f.Type != "Feature" || f.ID != "wp-1" || f.Geometry == nil || f.Geometry.Type != "Point" || f.Properties["status"] != "closed" {
		t.Errorf("wp-1 = %+v", f)
	}
	self, _ := linkOf(f.Links, "self")
	col, _ := linkOf(f.Links, "collection")
	if self.Href != "http://example.com/collections/waterlogging_points/items/wp-1" || col.Href != "http://example.com/collections/waterlogging_points" {
		t.Errorf("links = %+v", f.Links)
	}
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"1-`) || r.header.Get("Last-Modified") == "" {
		t.Errorf("ETag %q Last-Modified %q, want a strong ETag of version 1 and a date", etag, r.header.Get("Last-Modified"))
	}
	if r := get(t, h, "GET", "/collections/waterlogging_points/items/wp-1", "If-None-Match", etag); r.status != http.StatusNotModified {
		t.Errorf("GET wp-1 If-None-Match its ETag = %d, want 304", r.status)
	}
	// A write changes the ETag.
	old, _ := st.Feature(context.Background(), geo.WaterloggingPoints, "wp-1")
	old.Properties["status"] = "clear"
	if err := st.Replace(context.Background(), geo.WaterloggingPoints, old); err != nil {
		t.Fatal(err)
	}
	r = get(t, h, "GET", "/collections/waterlogging_points/items/wp-1", "If-None-Match", etag)
	if r.status != http.StatusOK || r.header.Get("ETag") == etag || !bytes.Contains(r.body, []byte(`"status":"clear"`)) {
		t.Errorf("after a write: %d ETag %s body %s; want 200, a new ETag and the new status", r.status, r.header.Get("ETag"), r.body)
	}
}

func TestConditionalRequestsAndCacheInvalidation(t *testing.T) {
	for _, cacheBytes := range []int64{api.DefaultCacheBytes, 0} {
		t.Run(map[int64]string{api.DefaultCacheBytes: "cache", 0: "nocache"}[cacheBytes], func(t *testing.T) {
			st := api.OpenFixtureStore(t)
			h := api.NewServer(st, api.Options{CacheBytes: cacheBytes})
			target := "/collections/waterlogging_points/items?status=closed"
			first := get(t, h, "GET", target)
			etag, lm := first.header.Get("ETag"), first.header.Get("Last-Modified")
			if etag == "" || lm == "" {
				t.Fatalf("no ETag (%q) or Last-Modified (%q)", etag, lm)
			}
			if cc := first.header.Get("Cache-Control"); cc != "public, max-age=0, must-revalidate" {
				t.Errorf("Cache-Control = %q", cc)
			}
			// The same query spelt another way is the same resource state.
			if r := get(t, h, "GET", "/collections/waterlogging_points/items?limit=100&status=closed&offset=0"); r.header.Get("ETag") != etag || !bytes.Equal(r.body, first.body) {
				t.Errorf("an equivalent query has ETag %s, want %s and the same body", r.header.Get("ETag"), etag)
			}
			if r := get(t, h, "GET", target, "If-None-Match", etag); r.status != http.StatusNotModified || len(r.body) != 0 || r.header.Get("ETag") != etag {
				t.Errorf("If-None-Match: %d, %d bytes, ETag %s; want 304, empty, same ETag", r.status, len(r.body), r.header.Get("ETag"))
			}
			if r := get(t, h, "GET", target, "If-Modified-Since", lm); r.status != http.StatusNotModified {
				t.Errorf("If-Modified-Since its Last-Modified = %d, want 304", r.status)
			}
			if r := get(t, h, "GET", target, "If-None-Match", `"other"`, "If-Modified-Since", lm); r.status != http.StatusOK {
				t.Errorf("a mismatched If-None-Match with a matching If-Modified-Since = %d, want 200 (If-None-Match decides)", r.status)
			}
			// Another page has another ETag.
			if r := get(t, h, "GET", "/collections/waterlogging_points/items?status=clear"); r.header.Get("ETag") == etag {
				t.Error("two different queries share an ETag")
			}

			// A crew reports wp-3 closed: the next request sees it.
			time.Sleep(1100 * time.Millisecond) // so that Last-Modified moves by a whole second
			f, _ := st.Feature(context.Background(), geo.WaterloggingPoints, "wp-3")
			f.Properties["status"] = "closed"
			if err := st.Replace(context.Background(), geo.WaterloggingPoints, f); err != nil {
				t.Fatal(err)
			}
			r := get(t, h, "GET", target, "If-None-Match", etag)
			var fc featureCollection
			r.decode(t, &fc)
			if r.status != http.StatusOK || !slices.Equal(ids(fc), []string{"wp-1", "wp-3"}) || r.header.Get("ETag") == etag {
				t.Errorf("after a write: %d %v ETag %s; want 200 [wp-1 wp-3] and a new ETag", r.status, ids(fc), r.header.Get("ETag"))
			}
			if r := get(t, h, "GET", target, "If-Modified-Since", lm); r.status != http.StatusOK {
				t.Errorf("after a write, If-Modified-Since the old time = %d, want 200", r.status)
			}
			// The collection's description changes version too.
			if r := get(t, h, "GET", "/collections", "If-None-Match", first.header.Get("ETag")); r.status != http.StatusOK {
				t.Errorf("/collections = %d", r.status)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h, _ := newServer(t)
	target := "/collections/waterlogging_points/items"
	plain := get(t, h, "GET", target)
	gz := get(t, h, "GET", target, "Accept-Encoding", "gzip, deflate, br")
	if gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", gz.header.Get("Content-Encoding"))
	}
	for _, r := range []result{plain, gz} {
		if !slices.Contains(r.header.Values("Vary"), "Accept-Encoding") {
			t.Errorf("Vary = %v, want Accept-Encoding", r.header.Values("Vary"))
		}
	}
	if plain.header.Get("ETag") == gz.header.Get("ETag") {
		t.Error("gzip and identity bodies share an ETag")
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plain.body) {
		t.Error("gzip body does not decompress to the identity body")
	}
	if r := get(t, h, "GET", target, "Accept-Encoding", "gzip", "If-None-Match", gz.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Errorf("gzip revalidation = %d, want 304", r.status)
	}
	if r := get(t, h, "GET", target, "Accept-Encoding", "gzip;q=0"); r.header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
}

func TestHead(t *testing.T) {
	h, _ := newServer(t)
	for _, target := range []string{"/", "/conformance", "/api", "/collections", "/collections/depots",
		"/collections/depots/items", "/collections/depots/items/d-1", "/healthz"} {
		g := get(t, h, "GET", target)
		hd := get(t, h, "HEAD", target)
		if hd.status != g.status || hd.header.Get("ETag") != g.header.Get("ETag") ||
			hd.header.Get("Content-Type") != g.header.Get("Content-Type") {
			t.Errorf("HEAD %s = %d %s %s; GET = %d %s %s", target, hd.status, hd.header.Get("ETag"), hd.header.Get("Content-Type"),
				g.status, g.header.Get("ETag"), g.header.Get("Content-Type"))
		}
		if len(hd.body) != 0 {
			t.Errorf("HEAD %s has a body", target)
		}
	}
	if r := get(t, h, "HEAD", "/collections/depots/items"); r.header.Get("Content-Length") == "" {
		t.Error("HEAD items has no Content-Length")
	}
}

func TestCORS(t *testing.T) {
	h, _ := newServer(t)
	r := get(t, h, "GET", "/collections/depots/items", "Origin", "https://other.example")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want *", r.header.Get("Access-Control-Allow-Origin"))
	}
	expose := r.header.Get("Access-Control-Expose-Headers")
	if !strings.Contains(expose, "ETag") || !strings.Contains(expose, "Link") {
		t.Errorf("Access-Control-Expose-Headers = %q, want ETag and Link", expose)
	}
	pre := get(t, h, "OPTIONS", "/collections/depots/items",
		"Origin", "https://other.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "if-none-match")
	if pre.status != http.StatusNoContent || !strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "GET") ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "If-None-Match") {
		t.Errorf("preflight = %d %v", pre.status, pre.header)
	}
	if r := get(t, h, "OPTIONS", "/collections/rivers/items", "Origin", "https://other.example", "Access-Control-Request-Method", "GET"); r.status != http.StatusNotFound {
		t.Errorf("OPTIONS on an unknown collection = %d, want 404", r.status)
	}
	if r := get(t, h, "PUT", "/collections/depots/items"); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, POST, OPTIONS" {
		t.Errorf("PUT items = %d Allow %q, want 405 with Allow: GET, HEAD, POST, OPTIONS", r.status, r.header.Get("Allow"))
	}
}

func TestSlashes(t *testing.T) {
	h, _ := newServer(t)
	for _, target := range []string{"/collections/", "//collections", "/collections/depots/items/"} {
		if r := get(t, h, "GET", target); r.status != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", target, r.status)
		}
	}
}

func TestBaseURLOption(t *testing.T) {
	st := api.OpenFixtureStore(t)
	h := api.NewServer(st, api.Options{BaseURL: "https://hazard.example.org/xy/"})
	r := get(t, h, "GET", "/collections/depots/items?limit=1")
	var fc featureCollection
	r.decode(t, &fc)
	next, _ := linkOf(fc.Links, "next")
	if next.Href != "https://hazard.example.org/xy/collections/depots/items?limit=1&offset=1" {
		t.Errorf("next = %s", next.Href)
	}
}

// failingStore fails every read of features, as a broken or unreachable
// database would.
type failingStore struct {
	geo.Store
	err error
}

func (s failingStore) Read(context.Context, func(geo.View) error) error {
	return s.err
}

func TestStoreFailures(t *testing.T) {
	st := api.OpenFixtureStore(t)
	secret := errors.New(`pq: relation "waterlogging_points" password=hunter2`)
	for _, tt := range []struct {
		err    error
		status int
	}{
		{secret, 500},
		{geo.Wrap(geo.Unavailable, secret, "database unreachable"), 503},
	} {
		h := api.NewServer(failingStore{st, tt.err}, api.Options{})
		r := get(t, h, "GET", "/collections/waterlogging_points/items")
		if r.status != tt.status || bytes.Contains(r.body, []byte("hunter2")) || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("store error %v: %d %s", tt.err, r.status, r.body)
		}
		if tt.status == 503 && r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		// Errors are not cached: the store back, the page is served.
		h2 := api.NewServer(st, api.Options{})
		if r := get(t, h2, "GET", "/collections/waterlogging_points/items"); r.status != 200 {
			t.Errorf("healthy store: %d", r.status)
		}
	}
}
