package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"hazardmap/geo"
)

// lastAudit returns the newest audit entry of collection/id, read through
// GET /audit as a planner.
func (e *env) lastAudit(collection, id string) map[string]any {
	e.t.Helper()
	r := e.do(geo.RolePlanner, "GET", "/audit?collection="+collection+"&feature_id="+id+"&limit=1", "")
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /audit = %d %s", r.status, r.body)
	}
	entries := r.json(e.t)["entries"].([]any)
	if len(entries) == 0 {
		e.t.Fatalf("no audit entry for %s/%s", collection, id)
	}
	return entries[0].(map[string]any)
}

// checkAudit checks that the newest audit entry of collection/id records
// action by actor role at version, with the given before and after
// presence and, if after, property name = value.
func (e *env) checkAudit(what, collection, id, action string, role geo.Role, version float64, before, after bool, prop string, value any) {
	e.t.Helper()
	a := e.lastAudit(collection, id)
	actor := a["actor"].(map[string]any)
	if a["action"] != action || actor["id"] != e.ids[role] || actor["role"] != string(role) || a["version"] != version {
		e.t.Errorf("%s: audit entry %v %v v%v, want %s by %s v%v", what, a["action"], actor, a["version"], action, role, version)
	}
	if (a["before"] != nil) != before || (a["after"] != nil) != after {
		e.t.Errorf("%s: audit before %v after %v, want before %v after %v", what, a["before"] != nil, a["after"] != nil, before, after)
	}
	if after && prop != "" {
		props := a["after"].(map[string]any)["properties"].(map[string]any)
		if props[prop] != value {
			e.t.Errorf("%s: audit after.%s = %v, want %v", what, prop, props[prop], value)
		}
	}
}

// TestWrites runs a feature through create, replace, patch and delete as
// a planner: Location and ETag, the ETag equal to GET's, 428 without
// If-Match, 412 with a stale one (with the current version), and an audit
// entry after every write, on both stores.
func TestWrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		geoJSON := "application/geo+json"
		body := `{"type":"Feature","id":"wp-new","geometry":{"type":"Point","coordinates":[113.38,34.79]},
			"properties":{"name":"陇海路与荥泽大道铁路桥涵","kind":"railway_underpass","location_source":"test","status":null}}`

		// Create.
		r := e.do(geo.RolePlanner, "POST", "/collections/waterlogging_points/items", body, "Content-Type", geoJSON)
		if r.status != http.StatusCreated {
			t.Fatalf("POST = %d %s", r.status, r.body)
		}
		if loc := r.header.Get("Location"); loc != e.ts.URL+"/collections/waterlogging_points/items/wp-new" {
			t.Errorf("Location = %q", loc)
		}
		etag := r.header.Get("ETag")
		g := e.do(geo.RolePlanner, "GET", "/collections/waterlogging_points/items/wp-new", "")
		if g.status != http.StatusOK || g.header.Get("ETag") != etag || !bytes.Equal(g.body, r.body) {
			t.Fatalf("GET after POST = %d ETag %s (POST said %s)\nGET:  %s\nPOST: %s", g.status, g.header.Get("ETag"), etag, g.body, r.body)
		}
		e.checkAudit("create", geo.WaterloggingPoints, "wp-new", "create", geo.RolePlanner, 1, false, true, "kind", "railway_underpass")
		e.do(geo.RolePlanner, "POST", "/collections/waterlogging_points/items", body, "Content-Type", geoJSON).problem(t, "POST of an existing id", http.StatusConflict)
		e.do(geo.RolePlanner, "POST", "/collections/waterlogging_points/items", `{"type":"Feature","geometry":null,"properties":{"name":"x"}}`,
			"Content-Type", geoJSON).problem(t, "POST of an invalid feature", http.StatusBadRequest)

		// Replace: 428 without If-Match, 412 with a stale one, 200 with the
		// current one.
		put := strings.Replace(body, `"status":null`, `"status":"ponding","depth_cm":20`, 1)
		item := "/collections/waterlogging_points/items/wp-new"
		p := e.do(geo.RolePlanner, "PUT", item, put, "Content-Type", geoJSON).problem(t, "PUT without If-Match", http.StatusPreconditionRequired)
		if !strings.Contains(p["detail"].(string), "If-Match") {
			t.Errorf("428 detail = %v", p["detail"])
		}
		e.do(geo.RolePlanner, "PUT", item, put, "Content-Type", geoJSON, "If-Match", "*").problem(t, "PUT with If-Match: *", http.StatusPreconditionRequired)
		e.do(geo.RolePlanner, "PUT", item, put, "Content-Type", geoJSON, "If-Match", "not-quoted").problem(t, "PUT with a malformed If-Match", http.StatusBadRequest)
		r = e.do(geo.RolePlanner, "PUT", item, put, "Content-Type", geoJSON, "If-Match", etag)
		if r.status != http.StatusOK {
			t.Fatalf("PUT with the current ETag = %d %s", r.status, r.body)
		}
		etag2 := r.header.Get("ETag")
		if etag2 == etag || e.do(geo.RolePlanner, "GET", item, "").header.Get("ETag") != etag2 {
			t.Errorf("PUT ETag %s: not new, or not GET's", etag2)
		}
		e.checkAudit("replace", geo.WaterloggingPoints, "wp-new", "replace", geo.RolePlanner, 2, true, true, "status", "ponding")

		// The first crew's ETag is stale now: 412 with the current version.
		r = e.do(geo.RolePlanner, "PUT", item, put, "Content-Type", geoJSON, "If-Match", etag)
		p = r.problem(t, "PUT with a stale ETag", http.StatusPreconditionFailed)
		cur := p["current"].(map[string]any)
		if cur["etag"] != etag2 || cur["version"] != 2.0 || r.header.Get("ETag") != etag2 {
			t.Errorf("412 current = %v, ETag header %s; want %s, version 2", cur, r.header.Get("ETag"), etag2)
		}
		if f := cur["feature"].(map[string]any); f["properties"].(map[string]any)["status"] != "ponding" {
			t.Errorf("412 current.feature = %v", f)
		}

		// Patch (JSON Merge Patch), with the gzip form of the ETag.
		gz := gzipETag(etag2)
		r = e.do(geo.RolePlanner, "PATCH", item, `{"properties":{"status":"closed","depth_cm":40,"duty_unit":"城建局一队"}}`,
			"Content-Type", "application/merge-patch+json", "If-Match", `"0-stale", `+gz)
		if r.status != http.StatusOK {
			t.Fatalf("PATCH = %d %s", r.status, r.body)
		}
		var f map[string]any
		_ = json.Unmarshal(r.body, &f)
		props := f["properties"].(map[string]any)
		if props["status"] != "closed" || props["depth_cm"] != 40.0 || props["name"] != "陇海路与荥泽大道铁路桥涵" {
			t.Errorf("PATCH result properties = %v", props)
		}
		etag3 := r.header.Get("ETag")
		e.checkAudit("patch", geo.WaterloggingPoints, "wp-new", "patch", geo.RolePlanner, 3, true, true, "duty_unit", "城建局一队")
		e.do(geo.RolePlanner, "PATCH", item, `{"properties":{"kind":null}}`, "Content-Type", "application/merge-patch+json",
			"If-Match", etag3).problem(t, "PATCH nulling a required property", http.StatusBadRequest)
		e.do(geo.RolePlanner, "PATCH", item, `{"id":"other"}`, "Content-Type", "application/merge-patch+json",
			"If-Match", etag3).problem(t, "PATCH of the id", http.StatusBadRequest)
		e.do(geo.RolePlanner, "PATCH", item, `{"properties":{}}`, "Content-Type", "text/plain",
			"If-Match", etag3).problem(t, "PATCH as text/plain", http.StatusUnsupportedMediaType)
		e.do(geo.RolePlanner, "PATCH", "/collections/waterlogging_points/items/nope", `{"properties":{}}`, "Content-Type", "application/merge-patch+json",
			"If-Match", etag3).problem(t, "PATCH of a missing feature", http.StatusNotFound)
		// A merge patch may clear the geometry.
		r = e.do(geo.RolePlanner, "PATCH", item, `{"geometry":null}`, "Content-Type", "application/merge-patch+json", "If-Match", etag3)
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"geometry":null`)) {
			t.Fatalf("PATCH geometry null = %d %s", r.status, r.body)
		}
		etag4 := r.header.Get("ETag")

		// Delete.
		e.do(geo.RolePlanner, "DELETE", item, "").problem(t, "DELETE without If-Match", http.StatusPreconditionRequired)
		e.do(geo.RolePlanner, "DELETE", item, "", "If-Match", etag3).problem(t, "DELETE with a stale ETag", http.StatusPreconditionFailed)
		if r := e.do(geo.RolePlanner, "DELETE", item, "", "If-Match", etag4); r.status != http.StatusNoContent {
			t.Fatalf("DELETE = %d %s", r.status, r.body)
		}
		e.checkAudit("delete", geo.WaterloggingPoints, "wp-new", "delete", geo.RolePlanner, 0, true, false, "", nil)
		e.do(geo.RolePlanner, "GET", item, "").problem(t, "GET after DELETE", http.StatusNotFound)
		e.do(geo.RolePlanner, "DELETE", item, "", "If-Match", etag4).problem(t, "DELETE again", http.StatusNotFound)

		// A write that fails writes no audit entry.
		before := e.do(geo.RolePlanner, "GET", "/audit?limit=1", "").json(t)["numberMatched"]
		e.do(geo.RolePlanner, "PUT", "/collections/depots/items/d-1", `{"type":"Feature","geometry":null,"properties":{"name":"x"}}`,
			"Content-Type", geoJSON, "If-Match", e.do(geo.RolePlanner, "GET", "/collections/depots/items/d-1", "").header.Get("ETag")).
			problem(t, "PUT of an invalid feature", http.StatusBadRequest)
		if after := e.do(geo.RolePlanner, "GET", "/audit?limit=1", "").json(t)["numberMatched"]; after != before {
			t.Errorf("a failed write changed the audit log: %v entries, then %v", before, after)
		}
	})
}

// TestConcurrentEdits races two planners holding the same ETag: exactly
// one write wins, the other gets 412, never a silent overwrite.
func TestConcurrentEdits(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		item := "/collections/depots/items/d-2"
		etag := e.do(geo.RolePlanner, "GET", item, "").header.Get("ETag")
		const n = 8
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := e.do(geo.RolePlanner, "PATCH", item, `{"properties":{"operator":"队`+string(rune('A'+i))+`"}}`,
					"Content-Type", "application/merge-patch+json", "If-Match", etag)
				codes[i] = r.status
			})
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				won++
			case http.StatusPreconditionFailed:
			default:
				t.Errorf("concurrent PATCH = %d", c)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent PATCHes with one ETag won (%v), want exactly 1", won, n, codes)
		}
		if v := e.lastAudit(geo.Depots, "d-2")["version"]; v != 2.0 {
			t.Errorf("version after the race = %v, want 2", v)
		}
	})
}

func TestParseETags(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		star bool
		ok   bool
	}{
		{`"a"`, []string{`"a"`}, false, true},
		{` "a" , W/"b",,"c-gzip" `, []string{`"a"`, `W/"b"`, `"c-gzip"`}, false, true},
		{`*`, nil, true, true},
		{` * `, nil, true, true},
		{`""`, []string{`""`}, false, true},
		{`a`, nil, false, false},
		{`"a`, nil, false, false},
		{`"a b"`, nil, false, false},
		{`"a""b"`, nil, false, false},
		{`, ,`, nil, false, false},
		{``, nil, false, false},
		{`"a", *`, nil, false, false},
		{`w/"a"`, nil, false, false},
	} {
		got, star, err := parseETags("If-Match", tt.in)
		if (err == nil) != tt.ok || star != tt.star || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("ParseETags(%q) = %q, %v, %v; want %q, %v, ok %v", tt.in, got, star, err, tt.want, tt.star, tt.ok)
		}
	}
}

func FuzzParseETags(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"b", "c"`, `*`, `"x`, `a`, `,,"1-00ff"`, "\"\x80\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tags, star, err := parseETags("If-Match", in)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid || len(tags) > 0 || star {
				t.Fatalf("ParseETags(%q) = %q, %v, %v", in, tags, star, err)
			}
			return
		}
		if star {
			return
		}
		// Every tag is a quoted entity tag found in the input, and the
		// list reassembled parses to the same tags.
		for _, tag := range tags {
			if !strings.HasSuffix(tag, `"`) || !(strings.HasPrefix(tag, `"`) || strings.HasPrefix(tag, `W/"`)) || !strings.Contains(in, tag) {
				t.Fatalf("ParseETags(%q): tag %q", in, tag)
			}
		}
		again, _, err := parseETags("If-Match", strings.Join(tags, ", "))
		if err != nil || strings.Join(again, "|") != strings.Join(tags, "|") {
			t.Fatalf("ParseETags(%q) = %q, reparsed %q, %v", in, tags, again, err)
		}
	})
}

func TestParseMergePatch(t *testing.T) {
	p, err := parseMergePatch([]byte(`{"type":"Feature","id":"wp-1","links":[],"properties":{"status":"closed","depth_cm":null},"geometry":{"type":"Point","coordinates":[113.4,34.8]}}`), "wp-1")
	if err != nil || p.Properties["status"] != "closed" || p.Properties["depth_cm"] != nil || !p.SetGeometry || p.Geometry == nil {
		t.Fatalf("ParseMergePatch = %+v, %v", p, err)
	}
	if _, ok := p.Properties["depth_cm"]; !ok {
		t.Error("a null member was dropped; it must set the property to null")
	}
	if p, err := parseMergePatch([]byte(`{"geometry":null}`), "x"); err != nil || !p.SetGeometry || p.Geometry != nil {
		t.Errorf("geometry null = %+v, %v", p, err)
	}
	for in, field := range map[string]string{
		`[]`:                           "body",
		`null`:                         "body",
		`{"properties":null}`:          "properties",
		`{"properties":[1]}`:           "properties",
		`{"id":"other"}`:               "id",
		`{"type":"FeatureCollection"}`: "type",
		`{"colour":"red"}`:             "colour",
		`{"geometry":{"type":"Blob","coordinates":[]}}`: "geometry.type",
		`{} {}`: "body",
	} {
		_, err := parseMergePatch([]byte(in), "wp-1")
		e := geo.AsError(err)
		if e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 || e.Fields[0].Field != field {
			t.Errorf("ParseMergePatch(%s) = %v, want Invalid on %s", in, err, field)
		}
	}
}

func FuzzParseMergePatch(f *testing.F) {
	for _, s := range []string{`{"properties":{"status":"closed"}}`, `{"geometry":null}`, `{"geometry":{"type":"Point","coordinates":[1,2]}}`,
		`{"id":"wp-1","type":"Feature","links":[]}`, `{}`, `[]`, `{"properties":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parseMergePatch(raw, "wp-1")
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("ParseMergePatch(%q) error kind %v", raw, geo.KindOf(err))
			}
			return
		}
		// Applying it never panics, and what it sets is there.
		out := p.Apply(&geo.Feature{ID: "wp-1", Properties: map[string]any{"name": "x"}})
		for k := range p.Properties {
			if _, ok := out.Properties[k]; !ok {
				t.Fatalf("ParseMergePatch(%q): %s not applied", raw, k)
			}
		}
	})
}

// gunzip returns the decompressed body.
func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return out
}
