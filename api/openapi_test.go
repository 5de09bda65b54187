package api

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/web"
)

// loadOpenAPI fetches /api from s (as the holder of token, "" for the
// public) and loads it with kin-openapi, the maintained OpenAPI 3
// validator.
func loadOpenAPI(t *testing.T, s *Server, token ...string) *openapi3.T {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api", nil)
	if len(token) > 0 {
		req.Header.Set("Authorization", "Bearer "+token[0])
	}
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api = %d\n%s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != typeOpenAPI {
		t.Errorf("GET /api Content-Type = %s, want %s", ct, typeOpenAPI)
	}
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

// TestOpenAPI validates the document and checks it against the router:
// the same routes, method by method; every GET with its HEAD; every
// operation with the least role the router enforces (x-role), a bearer
// requirement where that is above public, and the 401 and 403 it may
// answer.
func TestOpenAPI(t *testing.T) {
	for _, withMap := range []bool{false, true} {
		opts := Options{}
		if withMap {
			opts.Map = web.Handler("")
		}
		s := NewServer(OpenFixtureStore(t), opts)
		doc := loadOpenAPI(t, s)

		var routes []string
		err := chi.Walk(s.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			if route == mapAssets {
				return nil // the map's files: part of the page, not the API
			}
			routes = append(routes, method+" "+route)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var documented []string
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				documented = append(documented, method+" "+path)
				rule, ok := s.rules[method+" "+path]
				if got := op.Extensions["x-role"]; !ok || got != string(rule) {
					t.Errorf("%s %s: x-role %v, router's rule %q", method, path, got, rule)
				}
				bearer := op.Security != nil && len(*op.Security) == 1 && (*op.Security)[0]["bearerAuth"] != nil
				if bearer != (rule != geo.RolePublic) {
					t.Errorf("%s %s (role %s): security %v", method, path, rule, op.Security)
				}
				if op.Responses.Value("401") == nil || (rule != geo.RolePublic) != (op.Responses.Value("403") != nil) {
					t.Errorf("%s %s (role %s): responses %v, want 401 and, above public, 403", method, path, rule, slices.Sorted(maps.Keys(op.Responses.Map())))
				}
			}
			if (item.Get == nil) != (item.Head == nil) {
				t.Errorf("%s: GET without HEAD or HEAD without GET", path)
			}
		}
		slices.Sort(routes)
		slices.Sort(documented)
		if !slices.Equal(routes, documented) {
			t.Errorf("map %v: routes and document differ\nrouter:   %v\ndocument: %v", withMap, routes, documented)
		}

		// Every collection's filterable properties are parameters of its
		// items path, and its feature schema lists every property.
		for _, sc := range s.schemas {
			op := doc.Paths.Value("/collections/" + sc.ID + "/items").Get
			for _, name := range append(sc.Filterable(), "bbox", "limit", "offset") {
				if op.Parameters.GetByInAndName("query", name) == nil {
					t.Errorf("%s items: no query parameter %s", sc.ID, name)
				}
			}
			limit := op.Parameters.GetByInAndName("query", "limit").Schema.Value
			if *limit.Max != maxLimit || limit.Default != float64(defaultLimit) {
				t.Errorf("%s limit schema: max %v default %v", sc.ID, *limit.Max, limit.Default)
			}
			props := doc.Components.Schemas[sc.ID+".properties"].Value.Properties
			for _, p := range sc.Properties {
				// The public document leaves out household detail
				// (TestPrivacy checks the planner's document has it).
				if in := props[p.Name] != nil; in != p.VisibleTo(geo.RolePublic) {
					t.Errorf("%s: property %s (read role %q) in the public document: %v", sc.ID, p.Name, p.ReadRole, in)
				}
			}
		}
	}
}

// TestOpenAPIStable checks that the document is the same bytes every time
// it is built, so that instances sharing a database send it under the
// same ETag.
func TestOpenAPIStable(t *testing.T) {
	s := NewServer(OpenFixtureStore(t), Options{Map: web.Handler("")})
	first, err := marshal(s.openAPI("http://example.com", geo.RolePlanner))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := marshal(NewServer(OpenFixtureStore(t), Options{Map: web.Handler("")}).openAPI("http://example.com", geo.RolePlanner))
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("the document differs between builds (%v)", err)
		}
	}
}

// checker sends requests to a server and checks each exchange against
// the server's OpenAPI document.
type checker struct {
	t      *testing.T
	h      http.Handler
	router routers.Router
}

func newChecker(t *testing.T, h http.Handler, doc *openapi3.T) *checker {
	t.Helper()
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &checker{t: t, h: h, router: router}
}

// check sends method target with body and header (name, value pairs) to
// the server, and checks the answer against the document: a documented
// status, and the headers, media type and body schema of that response.
// When the server accepted the request (below 400), the document must
// accept it too: parameters and body. A request the document has no
// route for must be a 404. It returns the response.
func (c *checker) check(method, target, body string, header ...string) *httptest.ResponseRecorder {
	c.t.Helper()
	newRequest := func() *http.Request {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, "http://example.com"+target, rd)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return req
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, newRequest())
	what := method + " " + target + " → " + strconv.Itoa(rec.Code)
	req := newRequest()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if rec.Code != http.StatusNotFound {
			c.t.Errorf("%s: not in the document (%v)", what, err)
		}
		return rec
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true,
			// No body, or the map's page (a string).
			ExcludeResponseBody: method == http.MethodHead || strings.HasPrefix(rec.Header().Get("Content-Type"), typeHTML)},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s: the response does not match the document: %v\n%.500s", what, err, rec.Body)
	}
	if rec.Code < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s: accepted by the server, refused by the document: %v", what, err)
		}
	}
	return rec
}

// TestResponsesMatchOpenAPI checks real answers of the read routes, good
// and bad, against the document.
func TestResponsesMatchOpenAPI(t *testing.T) {
	s := NewServer(OpenFixtureStore(t), Options{Map: web.Handler("")})
	c := newChecker(t, s, loadOpenAPI(t, s))
	c.check("GET", "/", "")
	c.check("GET", "/", "", "Accept", "text/html")
	for _, target := range []string{"/?f=json", "/conformance", "/api", "/collections", "/healthz", "/readyz",
		"/collections/x/items", // not in the document: must not be routable either
		"/conformance?f=xml", "/collections?colour=red",
	} {
		c.check("GET", target, "")
	}
	for _, sc := range s.schemas {
		col := "/collections/" + sc.ID
		for _, target := range []string{col, col + "/items", col + "/items?limit=1&offset=1", col + "/items?bbox=113,34,114,35",
			col + "/items?limit=0", col + "/items?colour=red", col + "/items/nope", col + "/items?datetime=2024-07-20/.."} {
			c.check("GET", target, "")
		}
		c.check("HEAD", col+"/items", "")
	}
	for _, id := range []string{"waterlogging_points/items/wp-1", "waterlogging_points/items/wp-3", "waterlogging_points/items/wp-4",
		"relocation_sites/items/rs-1", "depots/items/d-1"} {
		c.check("GET", "/collections/"+id, "")
	}
	// A validator that still matches is a 304.
	etag := c.check("GET", "/collections/depots/items", "").Header().Get("ETag")
	if rec := c.check("GET", "/collections/depots/items", "", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match of the current ETag = %d, want 304", rec.Code)
	}
}

// TestWritesMatchOpenAPI checks the real answers of the write, report,
// audit, event and token routes — good and bad — against the planner's
// document (which has the household schema): statuses, headers, bodies,
// and that the document accepts every request the server accepted.
func TestWritesMatchOpenAPI(t *testing.T) {
	st := OpenFixtureStore(t)
	e := newEnv(t, st, Options{WritesPerMinute: 1000})
	c := newChecker(t, e.srv, loadOpenAPI(t, e.srv, e.tokens[geo.RolePlanner]))
	as := func(role geo.Role, header ...string) []string {
		if s, ok := e.tokens[role]; ok {
			header = append(header, "Authorization", "Bearer "+s)
		}
		return header
	}
	// The ETag names the links' base (the Host here): ask the same host.
	etag := func(path string) string {
		return c.check("GET", path, "", as(geo.RolePlanner)...).Header().Get("ETag")
	}
	geoJSON, merge, js := "application/geo+json", "application/merge-patch+json", "application/json"
	feature := `{"type":"Feature","geometry":{"type":"Point","coordinates":[113.4,34.8]},"properties":{"name":"新储备点","level":"village","location_source":"test"}}`
	// A report with the current If-Match (the crew's view of the point).
	current := c.check("GET", "/collections/waterlogging_points/items/wp-1", "", as(geo.RoleCrew)...).Header().Get("ETag")
	if rec := c.check("POST", "/collections/waterlogging_points/items/wp-1/observations", `{"depth_cm":10,"status":"ponding"}`,
		as(geo.RoleCrew, "Content-Type", js, "If-Match", current)...); rec.Code != http.StatusCreated {
		t.Errorf("a report with the current If-Match = %d, want 201\n%s", rec.Code, rec.Body)
	}
	for _, x := range []struct {
		role                 geo.Role
		method, path, body   string
		ctype, ifMatch, want string
	}{
		{geo.RolePlanner, "POST", "/collections/depots/items", feature, geoJSON, "", "201"},
		{geo.RolePlanner, "POST", "/collections/depots/items", `{"type":"Feature","id":"d-1","geometry":null,"properties":{"name":"x","level":"city","location_source":"t"}}`, geoJSON, "", "409"},
		{geo.RolePlanner, "POST", "/collections/depots/items", `{}`, "text/csv", "", "415"},
		{geo.RolePlanner, "POST", "/collections/depots/items", `{"type":"Feature","geometry":null,"properties":{"level":"castle"}}`, js, "", "400"},
		{geo.RolePlanner, "PUT", "/collections/depots/items/d-3", feature, geoJSON, "", "428"},
		{geo.RolePlanner, "PUT", "/collections/depots/items/d-3", feature, geoJSON, `"1-stale"`, "412"},
		{geo.RolePlanner, "PUT", "/collections/depots/items/d-3", feature, geoJSON, etag("/collections/depots/items/d-3"), "200"},
		{geo.RolePlanner, "PATCH", "/collections/relocation_sites/items/rs-2", `{"properties":{"households":[{"name":"张测试","members":3}]}}`, merge, etag("/collections/relocation_sites/items/rs-2"), "200"},
		{geo.RolePlanner, "PATCH", "/collections/depots/items/nope", `{}`, merge, `"1-x"`, "404"},
		{geo.RolePlanner, "DELETE", "/collections/depots/items/d-2", "", "", etag("/collections/depots/items/d-2"), "204"},
		{geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-1/observations", `{"depth_cm":40,"status":"closed","position":{"type":"Point","coordinates":[113.37,34.8]}}`, js, "", "201"},
		{geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-1/observations", `{"depth_cm":40,"status":"clear"}`, js, "", "400"},
		{geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-1/observations", `{"depth_cm":40,"status":"closed","note":"` + strings.Repeat("x", 70<<10) + `"}`, js, "", "413"},
		{geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-1/observations", `{"depth_cm":40,"status":"closed"}`, js, `"1-old"`, "412"},
		{geo.RoleCrew, "POST", "/collections/depots/items", feature, geoJSON, "", "403"},
		{geo.RolePublic, "POST", "/collections/waterlogging_points/items/wp-1/observations", `{}`, js, "", "401"},
		{geo.RolePublic, "GET", "/collections/waterlogging_points/items/wp-1/observations?limit=1", "", "", "", "200"},
		{geo.RoleCrew, "GET", "/collections/waterlogging_points/items/wp-1/observations", "", "", "", "200"},
		{geo.RolePublic, "GET", "/collections/waterlogging_points/items/wp-1/observations?limit=0", "", "", "", "400"},
		{geo.RolePlanner, "GET", "/audit?limit=5", "", "", "", "200"},
		{geo.RolePlanner, "GET", "/audit?collection=tokens", "", "", "", "200"},
		{geo.RolePlanner, "GET", "/audit?feature_id=x", "", "", "", "400"},
		{geo.RoleCrew, "GET", "/audit", "", "", "", "403"},
		{geo.RoleAdmin, "GET", "/tokens", "", "", "", "200"},
		{geo.RoleAdmin, "POST", "/tokens", `{"name":"三队","role":"crew","expires_in":"24h"}`, js, "", "201"},
		{geo.RoleAdmin, "POST", "/tokens", `{"name":"三队","role":"public"}`, js, "", "400"},
		{geo.RoleAdmin, "DELETE", "/tokens/" + e.ids[geo.RoleCrew], "", "", "", "204"},
		{geo.RoleAdmin, "DELETE", "/tokens/nope", "", "", "", "404"},
		{geo.RolePublic, "HEAD", "/events", "", "", "", "200"},
		{geo.RolePublic, "GET", "/events?after=x", "", "", "", "400"},
		{geo.RolePublic, "GET", "/healthz", "", "", "", "200"},
	} {
		header := as(x.role)
		if x.ctype != "" {
			header = append(header, "Content-Type", x.ctype)
		}
		if x.ifMatch != "" {
			header = append(header, "If-Match", x.ifMatch)
		}
		if rec := c.check(x.method, x.path, x.body, header...); strconv.Itoa(rec.Code) != x.want {
			t.Errorf("%s %s as %s = %d, want %s\n%.300s", x.method, x.path, x.role, rec.Code, x.want, rec.Body)
		}
	}
	// A revoked or unknown token is a documented 401 on any route.
	c.check("GET", "/collections", "", "Authorization", "Bearer hm_not-a-token")
	// 429 is documented and is what the limit answers.
	lim := newEnv(t, OpenFixtureStore(t), Options{WritesPerMinute: 1})
	c = newChecker(t, lim.srv, loadOpenAPI(t, lim.srv))
	var codes []int
	for range 2 {
		rec := c.check("POST", "/collections/waterlogging_points/items/wp-1/observations", `{"depth_cm":1,"status":"clear"}`,
			"Authorization", "Bearer "+lim.tokens[geo.RoleCrew], "Content-Type", js)
		codes = append(codes, rec.Code)
	}
	if !slices.Equal(codes, []int{http.StatusCreated, http.StatusTooManyRequests}) {
		t.Errorf("two reports at 1 write per minute: %v, want 201 then 429", codes)
	}
}
