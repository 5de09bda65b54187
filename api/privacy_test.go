package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/export"
)

// leaks reports whether body shows household detail.
func leaks(body []byte) bool {
	return bytes.Contains(body, []byte(secretName)) || bytes.Contains(body, []byte(secretPhone)) ||
		bytes.Contains(body, []byte(`"households":`))
}

// leaksContacts reports whether body shows a contact on duty (crews and
// above only).
func leaksContacts(body []byte) bool {
	for _, s := range []string{contactName, contactPhone, keeperName, keeperPhone, `"duty_contact_name":`, `"keeper_phone":`} {
		if bytes.Contains(body, []byte(s)) {
			return true
		}
	}
	return false
}

// shows reports whether body shows what role may not see.
func shows(role geo.Role, body []byte) bool {
	return leaks(body) || role == geo.RolePublic && leaksContacts(body)
}

// TestPrivacy proves that below planner no route shows household detail,
// and that the public sees no contact on duty: every GET route of the
// router (chi.Walk, so a new route is covered), in both encodings, with a
// planner's and a crew's response cached first and their ETags replayed;
// the households filter; the OpenAPI document; the event stream; the
// audit log. Planners do see it all, crews the contacts.
func TestPrivacy(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		rs1 := "/collections/relocation_sites/items/rs-1"

		// Planners see the detail, in a response shared caches must not keep.
		for _, path := range []string{rs1, "/collections/relocation_sites/items", "/audit?collection=relocation_sites&feature_id=rs-1"} {
			r := e.do(geo.RolePlanner, "GET", path, "")
			if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(secretPhone)) {
				t.Fatalf("planner GET %s = %d, without the household detail: %.300s", path, r.status, r.body)
			}
			if cc := r.header.Get("Cache-Control"); strings.HasPrefix(path, "/collections") && !strings.HasPrefix(cc, "private") {
				t.Errorf("planner GET %s: Cache-Control %q, want private", path, cc)
			}
		}
		var planner map[string]any
		_ = json.Unmarshal(e.do(geo.RolePlanner, "GET", "/api", "").body, &planner)
		if planner["components"].(map[string]any)["schemas"].(map[string]any)["relocation_sites.properties"].(map[string]any)["properties"].(map[string]any)["households"] == nil {
			t.Error("the planner's OpenAPI document lacks the households schema")
		}
		// Crews see the contacts on duty, in responses shared caches must
		// not keep, and the schema of them.
		for _, path := range []string{"/collections/waterlogging_points/items/wp-1", "/collections/depots/items"} {
			r := e.do(geo.RoleCrew, "GET", path, "", "Accept-Encoding", "identity")
			if r.status != http.StatusOK || !leaksContacts(r.body) || leaks(r.body) {
				t.Errorf("crew GET %s = %d: want the contacts and no household detail: %.300s", path, r.status, r.body)
			}
			if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
				t.Errorf("crew GET %s: Cache-Control %q, want private", path, cc)
			}
		}
		var crew map[string]any
		_ = json.Unmarshal(e.do(geo.RoleCrew, "GET", "/api", "").body, &crew)
		crewProps := crew["components"].(map[string]any)["schemas"].(map[string]any)["depots.properties"].(map[string]any)["properties"].(map[string]any)
		if crewProps["keeper_phone"] == nil {
			t.Error("the crew's OpenAPI document lacks keeper_phone")
		}

		// Every GET route, as the public and as a crew, after a planner
		// and a crew filled the cache with the same page, in both
		// encodings, with and without their ETags.
		for _, route := range routesOf(t, e.srv) {
			method, pattern, _ := strings.Cut(route, " ")
			if method != http.MethodGet || pattern == "/events" {
				continue // /events is checked below, as a stream
			}
			path := concrete(pattern)
			for _, enc := range []string{"identity", "gzip"} {
				pl := e.do(geo.RolePlanner, "GET", path, "", "Accept-Encoding", enc)
				cr := e.do(geo.RoleCrew, "GET", path, "", "Accept-Encoding", enc)
				for _, role := range []geo.Role{geo.RolePublic, geo.RoleCrew} {
					for _, other := range []reply{{}, pl, cr} {
						inm := other.header.Get("ETag")
						r := e.do(role, "GET", path, "", "Accept-Encoding", enc, "If-None-Match", inm)
						if inm != "" && r.status == http.StatusNotModified && other.status == http.StatusOK && shows(role, bodyOf(t, other)) {
							t.Errorf("%s GET %s (%s) with a more privileged ETag = 304: that cached copy would be shown", role, path, enc)
						}
						if shows(role, bodyOf(t, r)) {
							t.Errorf("%s GET %s (%s) shows what it may not see: %.300s", role, path, enc, bodyOf(t, r))
						}
					}
				}
			}
		}
		// Every file of every collection (exports.go), likewise: the
		// values, and the columns, ExtendedData and descriptions that
		// would name them, are not in the file of a role that may not see
		// them, whatever was built before and whatever ETag is replayed.
		for _, sc := range geo.Schemas() {
			for _, f := range export.Formats() {
				path := "/collections/" + sc.ID + "/items?f=" + f.Name
				for _, enc := range []string{"identity", "gzip"} {
					pl := e.do(geo.RolePlanner, "GET", path, "", "Accept-Encoding", enc)
					cr := e.do(geo.RoleCrew, "GET", path, "", "Accept-Encoding", enc)
					if sc.ID == geo.RelocationSites && !bytes.Contains(fileText(t, pl), []byte(secretPhone)) {
						t.Errorf("planner %s (%s) lacks the household detail", path, enc)
					}
					if want := map[string]string{geo.WaterloggingPoints: contactPhone, geo.Depots: keeperName}[sc.ID]; want != "" &&
						!bytes.Contains(fileText(t, cr), []byte(want)) {
						t.Errorf("crew %s (%s) lacks the contact %s", path, enc, want)
					}
					for _, role := range []geo.Role{geo.RolePublic, geo.RoleCrew} {
						for _, other := range []reply{{}, pl, cr} {
							inm := other.header.Get("ETag")
							r := e.do(role, "GET", path, "", "Accept-Encoding", enc, "If-None-Match", inm)
							if inm != "" && r.status == http.StatusNotModified && shows(role, fileText(t, other)) {
								t.Errorf("%s GET %s (%s) with a more privileged ETag = 304", role, path, enc)
							}
							if r.status == http.StatusOK && fileShows(role, fileText(t, r)) {
								t.Errorf("%s GET %s (%s) shows what it may not see: %.300s", role, path, enc, fileText(t, r))
							}
						}
					}
				}
			}
		}

		// Contacts are not filterable by anyone (a filter would reveal
		// them by which features match).
		for _, role := range []geo.Role{geo.RolePublic, geo.RoleCrew, geo.RolePlanner} {
			for _, q := range []string{"waterlogging_points/items?duty_contact_phone=" + contactPhone, "depots/items?keeper_name=" + keeperName} {
				e.do(role, "GET", "/collections/"+q, "").problem(t, string(role)+" filter "+q, http.StatusBadRequest)
			}
		}

		// Filters on household detail are refused below planner (and a
		// list of objects is not filterable at all).
		for _, role := range []geo.Role{geo.RolePublic, geo.RoleCrew} {
			for _, q := range []string{"households=" + secretName, "households.name=" + secretName, "phone=" + secretPhone} {
				e.do(role, "GET", "/collections/relocation_sites/items?"+q, "").problem(t, string(role)+" filter "+q, http.StatusBadRequest)
			}
			if r := e.do(role, "GET", "/audit?collection=relocation_sites", ""); r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
				t.Errorf("%s GET /audit = %d", role, r.status)
			}
		}

		// The event stream carries no feature data: a planner edits the
		// households while the public listens.
		c := e.listen(geo.RolePublic, "")
		etag := e.do(geo.RolePlanner, "GET", rs1, "", "Accept-Encoding", "identity").header.Get("ETag")
		r := e.do(geo.RolePlanner, "PATCH", rs1, `{"properties":{"households":[{"name":"`+secretName+`","phone":"`+secretPhone+`","members":5}]}}`,
			"Content-Type", "application/merge-patch+json", "If-Match", etag)
		if r.status != http.StatusOK {
			t.Fatalf("planner PATCH households = %d %s", r.status, r.body)
		}
		ev := c.next(t, 5*time.Second)
		if ev.event != "patch" || leaks([]byte(ev.data)) {
			t.Errorf("event %+v", ev)
		}
		var data map[string]any
		if err := json.Unmarshal([]byte(ev.data), &data); err != nil || len(data) != 5 || data["collection"] != geo.RelocationSites || data["id"] != "rs-1" {
			t.Errorf("event data %s: want exactly collection, id, action, version, time", ev.data)
		}

		// Field mode: who reported, from where, how precisely, their note
		// and their photo are for crews and above. A crew reports with a
		// photo and proposes a place; then no GET route shows the public
		// any of it, and the photo itself is refused.
		body, ctype := form(t, `{"depth_cm":30,"status":"ponding","note":"`+secretNote+`","position":{"type":"Point","coordinates":[113.3712,34.8021]},"accuracy_m":9}`,
			testJPEG(t, 16, 16))
		rep := e.do(geo.RoleCrew, "POST", obsPath, body, "Content-Type", ctype)
		if rep.status != http.StatusCreated {
			t.Fatalf("crew report with a photo = %d %s", rep.status, rep.body)
		}
		photo := rep.json(t)["observation"].(map[string]any)["photo"].(map[string]any)["href"].(string)
		if r := e.do(geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-4/location-proposals",
			`{"position":{"type":"Point","coordinates":[113.3801,34.7902]},"accuracy_m":8,"method":"auto","note":"`+secretNote+`"}`,
			"Content-Type", "application/json"); r.status != http.StatusCreated {
			t.Fatalf("crew proposal = %d %s", r.status, r.body)
		}
		fieldLeaks := func(b []byte) bool {
			return bytes.Contains(b, []byte(secretNote)) || bytes.Contains(b, []byte("/photo")) || bytes.Contains(b, []byte(`"reporter"`)) ||
				bytes.Contains(b, []byte(`"accuracy_m"`)) || bytes.Contains(b, []byte(e.ids[geo.RoleCrew]))
		}
		for _, route := range routesOf(t, e.srv) {
			method, pattern, _ := strings.Cut(route, " ")
			if method != http.MethodGet || pattern == "/events" || pattern == "/api" {
				continue
			}
			path := concrete(pattern)
			if pattern == photoRoute {
				path = photo[strings.Index(photo, "/collections/"):]
			}
			for _, enc := range []string{"identity", "gzip"} {
				r := e.do(geo.RolePublic, "GET", path, "", "Accept-Encoding", enc)
				if pattern != photoRoute && fieldLeaks(bodyOf(t, r)) {
					t.Errorf("public GET %s (%s) shows who reported, where, or the photo: %.300s", path, enc, bodyOf(t, r))
				}
				if pattern == photoRoute && r.status != http.StatusUnauthorized {
					t.Errorf("public GET of the photo = %d, want 401", r.status)
				}
			}
		}
		if crew := e.do(geo.RoleCrew, "GET", obsPath, ""); !bytes.Contains(crew.body, []byte(secretNote)) || !bytes.Contains(crew.body, []byte("/photo")) {
			t.Errorf("the crew's history lacks the note or the photo: %.300s", crew.body)
		}
	})
}

// fileShows reports whether the text of a file shows role what it may
// not see: the values, or the column, data element or label of a
// property it may not see.
func fileShows(role geo.Role, text []byte) bool {
	hidden := []string{`name="households"`, "住户明细"}
	if role == geo.RolePublic {
		hidden = append(hidden, "duty_contact_name", "duty_contact_phone", "keeper_name", "keeper_phone", "值守联系", "保管人")
	}
	for _, h := range hidden {
		if bytes.Contains(text, []byte(h)) {
			return true
		}
	}
	return shows(role, text)
}

// secretNote is a crew's note in a report: not for the public.
const secretNote = "测试备注不公开"

// bodyOf returns r's body, decompressed when it is gzip.
func bodyOf(t testing.TB, r reply) []byte {
	if r.header.Get("Content-Encoding") == "gzip" {
		return gunzip(t, r.body)
	}
	return r.body
}
