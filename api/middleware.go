package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// This file holds the middleware that routes.go puts in front of every
// route: CORS, the request log and panic recovery. Authentication is in
// auth.go.

// cors lets web maps on other origins read every layer: any origin may
// GET and HEAD, and may read the ETag and Link headers, so a client can
// revalidate and follow pages. Writes are open to other origins too with
// a bearer token, which a browser never sends on its own. The map's own
// session cookie is never sent on another origin's requests: it is
// SameSite=Strict, and no Access-Control-Allow-Credentials is ever sent
// (session.go). It
// answers OPTIONS (preflight or not) on every route itself.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setCORS(h)
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		allowed := allowedMethods(chi.RouteContext(r.Context()), r.URL.Path)
		if allowed == "" {
			next.ServeHTTP(w, r) // the router's 404
			return
		}
		h.Set("Allow", allowed)
		if r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", allowed)
			h.Set("Access-Control-Allow-Headers", "Accept, Accept-Language, Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, If-Modified-Since, Last-Event-ID")
			h.Set("Access-Control-Max-Age", "86400")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// The CORS headers of every response (cors, and the hot path).
var (
	corsOrigin = []string{"*"}
	corsExpose = []string{"Content-Disposition, ETag, Link, Location, Retry-After, Idempotency-Replayed"}
)

// setCORS sets the CORS headers every response carries.
func setCORS(h http.Header) {
	h["Access-Control-Allow-Origin"] = corsOrigin
	h["Access-Control-Expose-Headers"] = corsExpose
}

// logRequests logs one line per request, when the logger takes them
// (info); otherwise it costs nothing.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelInfo) {
			next.ServeHTTP(w, r)
			return
		}
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
