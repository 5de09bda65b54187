package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
	"hazardmap/geo/readingcsv"
	"hazardmap/geo/sheet"
)

// The bad-input battery: every route of the router (chi.Walk, so a route
// added later is covered, and one missing from batteryRoutes fails) is
// sent every class of bad input that applies to it — an unreadable or
// unknown query, path segments no store can keep, headers that are
// malformed or too large, and for writes, bodies that are not what the
// route reads — on both stores. Each must be refused with its 4xx and a
// problem body (naming the field where there is one), and nothing may be
// written: the ledger and every collection's version are the same after.

// batteryRoute is how to send a route a valid request, of which each case
// changes one part.
type batteryRoute struct {
	role  geo.Role
	query string // a valid query string, when the route needs one
	// body is the kind of body the route reads: "" for none, or feature,
	// patch, observation, token, proposal, reject, signin.
	body string
	// ifMatch says whether the route needs If-Match.
	ifMatch bool
	// ok lists the statuses of a valid request (200 when empty).
	ok []int
}

// batteryRoutes lists every route by "METHOD template", where the
// template is the pattern with a collection's id as {collection}. A route
// of the router that is not here fails TestBadInput: add it, with how to
// send it a valid request.
var batteryRoutes = func() map[string]batteryRoute {
	m := map[string]batteryRoute{}
	read := func(path string, r batteryRoute) {
		m["GET "+path], m["HEAD "+path] = r, r
	}
	pub := batteryRoute{role: geo.RolePublic}
	for _, p := range []string{"/", "/conformance", "/api", "/collections", "/collections/{collection}", "/collections/{collection}/items",
		"/collections/{collection}/items/{featureId}", observationsRoute, "/events", "/healthz", "/readyz", mapAssets} {
		read(p, pub)
	}
	read("/audit", batteryRoute{role: geo.RolePlanner})
	read("/tokens", batteryRoute{role: geo.RoleAdmin})
	read("/analysis/nearest-depots", batteryRoute{role: geo.RolePublic, query: "lon=113.4&lat=34.8"})
	read("/analysis/reach", pub)
	m["GET "+mapAssets] = batteryRoute{role: geo.RolePublic, ok: []int{http.StatusNotFound}} // no such asset: a problem body too
	m["HEAD "+mapAssets] = m["GET "+mapAssets]
	m["POST /collections/{collection}/items"] = batteryRoute{role: geo.RolePlanner, body: "feature", ok: []int{http.StatusCreated}}
	m["PUT /collections/{collection}/items/{featureId}"] = batteryRoute{role: geo.RolePlanner, body: "feature", ifMatch: true}
	m["PATCH /collections/{collection}/items/{featureId}"] = batteryRoute{role: geo.RolePlanner, body: "patch", ifMatch: true}
	m["DELETE /collections/{collection}/items/{featureId}"] = batteryRoute{role: geo.RolePlanner, ifMatch: true, ok: []int{http.StatusNoContent}}
	m["POST "+observationsRoute] = batteryRoute{role: geo.RoleCrew, body: "observation", ok: []int{http.StatusCreated}}
	m["POST /tokens"] = batteryRoute{role: geo.RoleAdmin, body: "token", ok: []int{http.StatusCreated}}
	m["DELETE /tokens/{tokenId}"] = batteryRoute{role: geo.RoleAdmin, ok: []int{http.StatusNotFound}} // no such token
	// Field mode (proposals.go, photo.go, session.go).
	m["POST /collections/{collection}/items/{featureId}/location-proposals"] = batteryRoute{role: geo.RoleCrew, body: "proposal",
		ok: []int{http.StatusCreated, http.StatusConflict}} // a feature located well enough already: 409
	read(proposalsRoute, batteryRoute{role: geo.RoleCrew})
	read(proposalRoute, batteryRoute{role: geo.RoleCrew, ok: []int{http.StatusNotFound}}) // no such proposal
	m["POST "+proposalRoute+"/accept"] = batteryRoute{role: geo.RolePlanner, ifMatch: true, ok: []int{http.StatusNotFound}}
	m["POST "+proposalRoute+"/reject"] = batteryRoute{role: geo.RolePlanner, body: "reject", ok: []int{http.StatusNotFound}}
	read(photoRoute, batteryRoute{role: geo.RoleCrew, ok: []int{http.StatusNotFound}})                               // no such report
	m["POST "+sessionRoute] = batteryRoute{role: geo.RolePublic, body: "signin", ok: []int{http.StatusUnauthorized}} // no such code
	read(sessionRoute, pub)
	m["DELETE "+sessionRoute] = batteryRoute{role: geo.RolePublic, ok: []int{http.StatusNoContent}}
	// Water levels and alerts (readings.go, alerts.go, cap.go).
	read("/collections/{collection}/items/{featureId}/readings", pub)
	m["POST /collections/{collection}/items/{featureId}/readings"] = batteryRoute{role: geo.RoleCrew, body: "reading",
		ok: []int{http.StatusCreated, http.StatusOK}}
	read(latestRoute, pub)
	m["POST "+importRoute] = batteryRoute{role: geo.RoleCrew, body: "csv", ok: []int{http.StatusCreated, http.StatusOK}}
	read(alertsRoute, pub)
	read(alertRoute, batteryRoute{role: geo.RolePublic, ok: []int{http.StatusNotFound}}) // no such alert
	m["POST "+alertRoute+"/acknowledge"] = batteryRoute{role: geo.RoleCrew, body: "step", ok: []int{http.StatusNotFound}}
	m["POST "+alertRoute+"/resolve"] = batteryRoute{role: geo.RolePlanner, body: "step", ok: []int{http.StatusNotFound}}
	read(alertRoute+"/deliveries", batteryRoute{role: geo.RolePlanner, ok: []int{http.StatusNotFound}})
	read(capFeedRoute, pub)
	read(capRoute+"/{identifier}", batteryRoute{role: geo.RolePublic, ok: []int{http.StatusNotFound}})
	// A planner's edited export back in (imports.go): a dry run, which
	// writes nothing.
	m["POST /collections/{collection}/import"] = batteryRoute{role: geo.RolePlanner, query: "dry_run=true", body: "sheet"}
	return m
}()

// collectionPattern finds a collection's id in a route pattern.
var collectionPattern = regexp.MustCompile(`^/collections/([a-z_]+)`)

// badCase is one bad request: what it changes and what it must get.
type badCase struct {
	name   string
	query  string              // replaces the valid query ("" keeps it)
	path   func(string) string // changes the path
	header []string            // added header pairs
	body   string              // replaces the body
	ctype  string              // replaces the Content-Type
	status int
	field  string // the field the problem must name ("" for none)
}

func TestBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{WritesPerMinute: -1, Limits: DefaultLimits()})
		// The server of hazardmap serve: net/http's own refusals through
		// Listener, and its header limit.
		old := e.ts
		e.ts = httptest.NewUnstartedServer(e.srv)
		e.ts.Listener = Listener(e.ts.Listener)
		e.ts.Config.MaxHeaderBytes = MaxHeaderBytes
		e.ts.Start()
		old.Close()

		// The valid requests go after every bad one, deletions last, so
		// that each bad one finds the fixtures there.
		var valid, deletes []func()
		for _, route := range routesOf(t, e.srv) {
			method, pattern, _ := strings.Cut(route, " ")
			collection := ""
			template := pattern
			fixed := strings.HasPrefix(pattern, observationsRoute) // its own routes, not one per collection
			if m := collectionPattern.FindStringSubmatch(pattern); m != nil && !fixed {
				collection = m[1]
				template = strings.Replace(pattern, "/collections/"+collection, "/collections/{collection}", 1)
			}
			br, ok := batteryRoutes[method+" "+template]
			if !ok {
				t.Errorf("%s is not in batteryRoutes: add it, with how to send it a valid request", route)
				continue
			}
			if fixed {
				collection = geo.WaterloggingPoints
			}
			for _, c := range batteryCases(method, pattern, br, collection) {
				t.Run(route+"/"+c.name, func(t *testing.T) { e.sendBad(t, method, pattern, br, collection, c) })
			}
			// The valid request passes: the cases fail for what they change.
			check := func() {
				r := e.sendValid(method, pattern, br, collection)
				want := br.ok
				if len(want) == 0 {
					want = []int{http.StatusOK}
				}
				if !slices.Contains(want, r.status) {
					t.Errorf("%s: the valid request = %d, want %v\n%.400s", route, r.status, want, r.body)
				}
				if r.status >= 400 && !strings.HasPrefix(r.header.Get("Content-Type"), typeProblem) {
					t.Errorf("%s: %d as %q, want problem JSON (the map's files' 404 too)", route, r.status, r.header.Get("Content-Type"))
				}
			}
			if method == http.MethodDelete {
				deletes = append(deletes, check)
			} else {
				valid = append(valid, check)
			}
		}
		for _, check := range append(valid, deletes...) {
			check()
		}
	})
}

// batteryCases returns the cases that apply to a route.
func batteryCases(method, pattern string, br batteryRoute, collection string) []badCase {
	join := func(q string) string {
		if br.query == "" {
			return q
		}
		return br.query + "&" + q
	}
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "&z%d=1", i)
		}
		return join(b.String()[1:])
	}
	cases := []badCase{
		{name: "query/bad-escape", query: join("%zz=1"), status: 400, field: "query"},
		{name: "query/semicolon", query: join("limit=5;offset=1"), status: 400, field: "limit"},
		{name: "query/not-utf8", query: join("f=%FF"), status: 400, field: "f"},
		{name: "query/nul", query: join("f=%00"), status: 400, field: "f"},
		{name: "query/unknown", query: join("zzz=1"), status: 400, field: "zzz"},
		{name: "query/repeated", query: join("f=json&f=json"), status: 400, field: "f"},
		{name: "query/101-parameters", query: many(101), status: 400, field: "query"},
		{name: "query/10001-parameters", query: many(10001), status: 431},
		{name: "header/bad-token", header: []string{"Authorization", "Bearer \xff\xfe"}, status: 401},
		{name: "header/too-large", header: []string{"X-Padding", strings.Repeat("a", MaxHeaderBytes+8192)}, status: 431},
	}
	if pattern == "/events" && method == http.MethodGet {
		cases = append(cases, badCase{name: "header/last-event-id", header: []string{"Last-Event-ID", "abc"}, status: 400, field: "Last-Event-ID"})
	}
	if strings.Contains(pattern, "{") || strings.Contains(pattern, "*") {
		for name, seg := range map[string]string{"nul": "%00", "not-utf8": "%FF", "bad-sequence": "%C3%28", "truncated": "%E2%80"} {
			cases = append(cases, badCase{name: "path/" + name, path: func(p string) string { return p[:strings.LastIndex(p, "/")+1] + seg }, status: 400, field: "path"})
		}
	}
	if br.ifMatch || br.body == "observation" {
		cases = append(cases, badCase{name: "header/if-match", header: []string{"If-Match", "not-a-tag"}, status: 400, field: "If-Match"})
	}
	if isWrite(method) {
		cases = append(cases, badCase{name: "header/idempotency-key", header: []string{"Idempotency-Key", "not quoted"}, status: 400, field: "Idempotency-Key"})
	}
	if br.body == "" {
		return cases
	}
	switch br.body { // CSV may be GBK: only its size and type are the API's to refuse
	case "csv":
		return append(cases,
			badCase{name: "body/content-type", body: goodBody(br.body, collection, pattern), ctype: "application/json", status: 415, field: "Content-Type"},
			badCase{name: "body/too-large", body: "gauge_id,at,level\n" + strings.Repeat("#", readingcsv.MaxBytes), status: 413})
	case "sheet":
		return append(cases,
			badCase{name: "body/content-type", body: "id\n", ctype: "application/json", status: 415, field: "Content-Type"},
			badCase{name: "body/too-large", body: "id\n" + strings.Repeat("#", sheet.MaxBytes), status: 413})
	}
	field := map[string]string{"feature": "properties.name", "patch": "properties.name", "observation": "note", "token": "name",
		"proposal": "note", "reject": "reason", "signin": "code", "reading": "note", "step": "note"}[br.body]
	good := goodBody(br.body, collection, pattern)
	text := func(raw string) string { return strings.Replace(good, `"@@TEXT@@"`, raw, 1) }
	cases = append(cases,
		badCase{name: "body/content-type", body: text(`"x"`), ctype: "text/plain", status: 415, field: "Content-Type"},
		badCase{name: "body/too-large", body: text(`"` + strings.Repeat("a", 2<<20) + `"`), status: 413},
		badCase{name: "body/not-json", body: "{", status: 400, field: "body"},
		badCase{name: "body/not-utf8", body: text("\"\xff\xfe\""), status: 400, field: field},
		badCase{name: "body/nul", body: text(`"a\u0000b"`), status: 400, field: field},
		badCase{name: "body/lone-surrogate", body: text(`"\ud800"`), status: 400, field: field},
		badCase{name: "body/duplicate-key", body: strings.Replace(good, `"@@TEXT@@"`, `"a","`+field[strings.LastIndex(field, ".")+1:]+`":"b"`, 1), status: 400, field: field},
	)
	switch br.body {
	case "feature", "patch":
		cases = append(cases, badCase{name: "body/null-coordinates", body: withGeometry(good, `{"type":"Point","coordinates":[null,null]}`), status: 400, field: "geometry.coordinates"})
		if collection == geo.RelocationSites {
			cases = append(cases, badCase{name: "body/self-intersecting", status: 400, field: "geometry",
				body: withGeometry(good, `{"type":"Polygon","coordinates":[[[113.2,34.7],[113.21,34.71],[113.21,34.7],[113.2,34.71],[113.2,34.7]]]}`)})
		}
		if method == http.MethodPost {
			for _, id := range []string{".", ".."} {
				cases = append(cases, badCase{name: "body/id-" + strings.Repeat("dot", len(id)), body: strings.Replace(good, `"battery-new"`, `"`+id+`"`, 1), status: 400, field: "id"})
			}
		}
	case "reading":
		cases = append(cases, badCase{name: "body/zero-time", body: strings.Replace(good, `"note"`, `"at":"0001-01-01T00:00:00Z","note"`, 1), status: 400, field: "at"})
	case "observation", "proposal":
		cases = append(cases,
			badCase{name: "body/null-coordinates", body: strings.Replace(good, `[113.4,34.8]`, `[113.4,null]`, 1), status: 400, field: "position.coordinates"},
			badCase{name: "body/zero-time", body: strings.Replace(good, `"note"`, `"observed_at":"0001-01-01T00:00:00Z","note"`, 1), status: 400, field: "observed_at"})
	}
	return cases
}

// goodBody returns a valid body of kind for the route pattern of
// collection, its one text member "@@TEXT@@" (quotes included) for the
// cases to replace.
func goodBody(kind, collection, pattern string) string {
	switch kind {
	case "observation":
		return `{"depth_cm":20,"status":"ponding","position":{"type":"Point","coordinates":[113.4,34.8]},"note":"@@TEXT@@"}`
	case "proposal":
		return `{"position":{"type":"Point","coordinates":[113.4,34.8]},"accuracy_m":8,"method":"auto","note":"@@TEXT@@"}`
	case "token":
		return `{"role":"crew","name":"@@TEXT@@"}`
	case "reject":
		return `{"reason":"@@TEXT@@"}`
	case "signin":
		return `{"code":"@@TEXT@@"}`
	case "reading":
		return `{"level":100.5,"note":"@@TEXT@@"}`
	case "step":
		return `{"note":"@@TEXT@@"}`
	case "csv":
		return "gauge_id,at,level\ng-1," + time.Now().UTC().Format(time.RFC3339) + ",100.5\n"
	case "patch":
		return `{"properties":{"name":"@@TEXT@@"}}`
	}
	f := Fixtures()[collection][0].Clone()
	f.ID = "battery-new"
	if strings.HasSuffix(pattern, "{featureId}") {
		f.ID = fixtureID(collection)
	}
	f.Properties["name"] = "@@TEXT@@"
	b, err := geojson.AppendFeature(nil, f)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// withGeometry returns the body with its geometry (or, for a merge
// patch, a geometry member) replaced by g.
func withGeometry(body, g string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		panic(err)
	}
	m["geometry"] = json.RawMessage(g)
	b, _ := json.Marshal(m)
	return string(b)
}

// fixtureID returns the id concrete() uses for a collection's features.
func fixtureID(collection string) string {
	return strings.TrimPrefix(concrete("/collections/"+collection+"/items/{featureId}"), "/collections/"+collection+"/items/")
}

// snapshot is what a refused request must leave as it was.
type snapshot struct {
	audit    int
	versions map[string]int64
}

func (e *env) snapshot(t testing.TB) snapshot {
	t.Helper()
	_, n, err := e.store.Audit(context.Background(), geo.AuditQuery{Limit: 1})
	if err != nil {
		t.Fatalf("Audit = %v", err)
	}
	s := snapshot{audit: n, versions: map[string]int64{}}
	for _, sc := range geo.Schemas() {
		if s.versions[sc.ID], err = e.store.Version(context.Background(), sc.ID); err != nil {
			t.Fatalf("Version(%s) = %v", sc.ID, err)
		}
	}
	return s
}

// request returns the parts of the valid request to a route.
func (e *env) request(method, pattern string, br batteryRoute, collection string) (path, body string, header []string) {
	path = concrete(pattern)
	if br.query != "" {
		path += "?" + br.query
	}
	text := "电池测试"
	if br.body == "signin" {
		text = "7KQ2-M9XD-4TRA-0ZPB" // well formed, and no such code
	}
	switch br.body {
	case "":
	case "csv":
		body = goodBody(br.body, collection, pattern)
		header = append(header, "Content-Type", "text/csv")
	case "sheet": // the collection's own export
		body = string(e.do(geo.RolePlanner, http.MethodGet, "/collections/"+collection+"/items?f=csv", "", "Accept-Encoding", "identity").body)
		header = append(header, "Content-Type", "text/csv")
	case "patch":
		body = strings.Replace(goodBody(br.body, collection, pattern), "@@TEXT@@", text, 1)
		header = append(header, "Content-Type", typeMergePatch)
	default:
		body = strings.Replace(goodBody(br.body, collection, pattern), "@@TEXT@@", text, 1)
		header = append(header, "Content-Type", typeJSON)
	}
	if br.ifMatch {
		// The feature's ETag; a well-formed one where the route names no
		// feature (an accepted proposal's).
		etag := `"1-0000000000000000-00000000"`
		if strings.HasSuffix(pattern, "{featureId}") {
			etag = e.do(geo.RolePlanner, http.MethodGet, concrete(pattern), "", "Accept-Encoding", "identity").header.Get("ETag")
		}
		header = append(header, "If-Match", etag)
	}
	return path, body, header
}

// sendValid sends a route its valid request.
func (e *env) sendValid(method, pattern string, br batteryRoute, collection string) reply {
	path, body, header := e.request(method, pattern, br, collection)
	if pattern == "/events" && method == http.MethodGet {
		return e.stream(br.role, path)
	}
	return e.do(br.role, method, path, body, header...)
}

// sendBad sends case c to a route and checks the refusal.
func (e *env) sendBad(t *testing.T, method, pattern string, br batteryRoute, collection string, c badCase) {
	path, body, header := e.request(method, pattern, br, collection)
	if c.path != nil {
		p, _, _ := strings.Cut(path, "?")
		path = c.path(p)
		if br.query != "" {
			path += "?" + br.query
		}
	}
	if c.query != "" {
		p, _, _ := strings.Cut(path, "?")
		path = p + "?" + c.query
	}
	if c.body != "" {
		body = c.body
	}
	if c.ctype != "" {
		for i := 0; i+1 < len(header); i += 2 {
			if header[i] == "Content-Type" {
				header[i+1] = c.ctype
			}
		}
	}
	header = append(header, c.header...)
	before := e.snapshot(t)
	r := e.doRaw(br.role, method, path, body, header...)
	if r.status != c.status || !strings.HasPrefix(r.header.Get("Content-Type"), typeProblem) {
		t.Fatalf("%s %.120s = %d %s, want %d problem JSON\n%.400s", method, path, r.status, r.header.Get("Content-Type"), c.status, r.body)
	}
	if method != http.MethodHead {
		var p problemDetails
		if err := json.Unmarshal(r.body, &p); err != nil || p.Status != c.status || p.Title == "" {
			t.Fatalf("problem body %s (%v)", r.body, err)
		}
		if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
			t.Errorf("problem names %+v, want the field %s\n%s", p.Errors, c.field, r.body)
		}
	}
	if after := e.snapshot(t); after.audit != before.audit || fmt.Sprint(after.versions) != fmt.Sprint(before.versions) {
		t.Errorf("a refused request wrote: ledger %d → %d entries, versions %v → %v", before.audit, after.audit, before.versions, after.versions)
	}
}

// doRaw is do with a path sent as it is (escapes and all) and the body
// and header values as bytes.
func (e *env) doRaw(role geo.Role, method, path, body string, header ...string) reply {
	e.t.Helper()
	// A request the server takes (an event stream opened by mistake) must
	// not hang the test.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.ts.URL+"/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.URL.Opaque = "//" + req.URL.Host + path // the path as written: %FF stays %FF
	if s, ok := e.tokens[role]; ok {
		req.Header.Set("Authorization", "Bearer "+s)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	return e.send(req)
}
