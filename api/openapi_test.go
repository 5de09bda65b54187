package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-chi/chi/v5"

	"hazardmap/web"
)

// loadOpenAPI fetches /api from s and loads it with kin-openapi, the
// maintained OpenAPI 3 validator.
func loadOpenAPI(t *testing.T, s *Server) *openapi3.T {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/api", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api = %d\n%s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != typeOpenAPI {
		t.Errorf("GET /api Content-Type = %s, want %s", ct, typeOpenAPI)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

// TestOpenAPI validates the document and checks that it lists exactly the
// routes of the router, method by method.
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
			for method := range item.Operations() {
				documented = append(documented, method+" "+path)
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
				if in := props[p.Name] != nil; in == p.Private {
					t.Errorf("%s: property %s (private %v) in the public document: %v", sc.ID, p.Name, p.Private, in)
				}
			}
		}
	}
}

// TestResponsesMatchOpenAPI checks real responses, good and bad, against
// the document: status, media type and body schema.
func TestResponsesMatchOpenAPI(t *testing.T) {
	s := NewServer(OpenFixtureStore(t), Options{Map: web.Handler("")})
	doc := loadOpenAPI(t, s)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	targets := []struct{ method, target, accept string }{
		{"GET", "/", ""},
		{"GET", "/", "text/html"},
		{"GET", "/?f=json", ""},
		{"GET", "/conformance", ""},
		{"GET", "/api", ""},
		{"GET", "/collections", ""},
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
		{"GET", "/collections/x/items", ""}, // not in the document: must not be routable either
	}
	for _, sc := range s.schemas {
		c := "/collections/" + sc.ID
		targets = append(targets,
			struct{ method, target, accept string }{"GET", c, ""},
			struct{ method, target, accept string }{"GET", c + "/items", ""},
			struct{ method, target, accept string }{"GET", c + "/items?limit=1&offset=1", ""},
			struct{ method, target, accept string }{"GET", c + "/items?bbox=113,34,114,35", ""},
			struct{ method, target, accept string }{"GET", c + "/items?limit=0", ""},
			struct{ method, target, accept string }{"GET", c + "/items?colour=red", ""},
			struct{ method, target, accept string }{"GET", c + "/items/nope", ""},
			struct{ method, target, accept string }{"HEAD", c + "/items", ""},
		)
	}
	for _, id := range []string{"waterlogging_points/items/wp-1", "waterlogging_points/items/wp-3", "waterlogging_points/items/wp-4",
		"relocation_sites/items/rs-1", "depots/items/d-1"} {
		targets = append(targets, struct{ method, target, accept string }{"GET", "/collections/" + id, ""})
	}
	for _, tt := range targets {
		req := httptest.NewRequest(tt.method, "http://example.com"+tt.target, nil)
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		route, params, err := router.FindRoute(req)
		if err != nil {
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s %s: not in the document (%v) but answered %d", tt.method, tt.target, err, rec.Code)
			}
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{MultiError: true}}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 rec.Code,
			Header:                 rec.Header(),
			Body:                   readCloser{bytes.NewReader(rec.Body.Bytes())},
			Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
		}
		if tt.method == http.MethodHead || strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			out.Options.ExcludeResponseBody = true // no body, or the map's page (a string)
		}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s → %d: response does not match the document: %v\n%.500s", tt.method, tt.target, rec.Code, err, rec.Body)
		}
		// A request the server accepts, the document accepts too.
		if rec.Code < 400 {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil &&
				!strings.Contains(err.Error(), "security") {
				t.Errorf("%s %s: request rejected by the document: %v", tt.method, tt.target, err)
			}
		}
	}
}

// readCloser is a bytes.Reader with a Close method.
type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
