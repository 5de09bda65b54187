package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"hazardmap/geo"
)

// routes lists every route of the service.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(s.logRequests)
	r.Use(s.recoverPanics)
	r.Use(middleware.CleanPath)    // "//collections" (a base URL with a trailing slash) routes as "/collections"
	r.Use(middleware.StripSlashes) // and so does "/collections/"
	r.Use(s.cors)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, geo.Errorf(geo.NotFound, "no route %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowed)
		writeProblem(w, Problem{Type: "about:blank", Title: "Method Not Allowed", Status: http.StatusMethodNotAllowed,
			Detail: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path), Instance: r.URL.Path})
	})

	// Every route answers GET and HEAD (and OPTIONS, in s.cors); the
	// OpenAPI document (openapi.go) lists the same routes, and a test
	// checks that the two agree.
	get := func(pattern string, h http.HandlerFunc) {
		r.Get(pattern, h)
		r.Head(pattern, h)
	}
	get("/", s.handleLanding)
	get("/conformance", s.handleConformance)
	get("/api", s.handleAPI)
	get("/collections", s.handleCollections)
	for _, sc := range s.schemas {
		// One set of routes per collection, so that each has its own
		// filter parameters and feature schema in the OpenAPI document
		// and an unknown collection is a 404 from the router.
		get("/collections/"+sc.ID, s.handleCollection(sc))
		get("/collections/"+sc.ID+"/items", s.handleItems(sc))
		get("/collections/"+sc.ID+"/items/{featureId}", s.handleFeature(sc))
	}
	get("/healthz", s.handleHealthz)
	get("/readyz", s.handleReadyz)
	if s.opts.Map != nil {
		// The map's hashed scripts and styles: part of the page, not of
		// the API, so not in the OpenAPI document.
		get(mapAssets, s.opts.Map.ServeHTTP)
	}
	return r
}

// mapAssets is the route of the map's static files.
const mapAssets = "/assets/*"

// allowed is the Allow header of every route.
const allowed = "GET, HEAD, OPTIONS"

// cors lets web maps on other origins read every layer: any origin may
// GET and HEAD (nothing here is behind a cookie), and may read the ETag
// and Link headers, so a client can revalidate and follow pages. It
// answers OPTIONS (preflight or not) on every route itself.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "ETag, Link, Retry-After")
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		rctx := chi.RouteContext(r.Context())
		path := r.URL.Path
		if rctx != nil && rctx.RoutePath != "" {
			path = rctx.RoutePath
		}
		if rctx == nil || !rctx.Routes.Match(chi.NewRouteContext(), http.MethodGet, path) {
			next.ServeHTTP(w, r) // the router's 404
			return
		}
		h.Set("Allow", allowed)
		if r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", allowed)
			h.Set("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Type, If-None-Match, If-Modified-Since")
			h.Set("Access-Control-Max-Age", "86400")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// unavailable makes sure a failed store check reads as Unavailable even
// when the store returned a bare context error.
func unavailable(err error) error {
	if geo.KindOf(err) == geo.Unavailable {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return geo.Wrap(geo.Unavailable, err, "store did not answer in time")
	}
	return geo.Wrap(geo.Unavailable, err, "store unavailable")
}

// logRequests logs one line per request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", ww.Status()), slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("took", time.Since(start)))
	})
}

// recoverPanics turns a panic in a handler into a logged 500 problem, so
// one bad request cannot take the process down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
