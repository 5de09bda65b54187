package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"hazardmap/geo"
)

// withFront returns router behind what every request passes first: its
// request ID, its log line and the recovery from a panic, and the hot
// path (hot.go). When requests are not logged (decided once, here: the
// logger's level does not change), the hot path comes before the request
// ID, which only the log and problem bodies show: a hot answer is a page
// or a 304, or a 503 problem without one.
func (s *Server) withFront(router http.Handler) http.Handler {
	if s.log.Enabled(context.Background(), slog.LevelInfo) {
		return middleware.RequestID(s.logRequests(s.recoverPanics(s.hotPath(router))))
	}
	return s.recoverPanics(s.hotPath(middleware.RequestID(s.recoverPanics(router))))
}

// routes lists every route of the service.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.problemsOnly)          // problem.go: every error a handler or the router sends is problem JSON
	r.Use(middleware.CleanPath)    // "//collections" (a base URL with a trailing slash) routes as "/collections"
	r.Use(middleware.StripSlashes) // and so does "/collections/"
	r.Use(s.checkRequest)          // request.go: a path or query the service cannot read completely is 400
	r.Use(s.cors)
	r.Use(s.authenticate) // auth.go: the actor of every request, public without a token
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, geo.Errorf(geo.NotFound, "no route %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errMethodNotAllowed(r.Method, r.URL.Path, allowedMethods(chi.RouteContext(r.Context()), r.URL.Path)))
	})

	// Every route is registered through handle with the least role that
	// may call it (s.rules, enforced by s.guard); TestRoleMatrix walks the
	// router and fails on a route without a rule. Reads answer GET and
	// HEAD (and OPTIONS, in s.cors). The OpenAPI document (openapi.go)
	// lists the same routes, and a test checks that the two agree. A route
	// refuses every query parameter (noQuery) unless it is registered
	// withQuery: its handler then reads the query through a parser that
	// refuses the parameters it does not know (TestBadInput checks both).
	s.rules = map[string]geo.Role{}
	handle := func(method, pattern string, min geo.Role, h http.HandlerFunc, q ...query) {
		s.rules[method+" "+pattern] = min
		r.Method(method, pattern, s.guard(method, min, len(q) > 0 && bool(q[0]), h))
	}
	read := func(pattern string, min geo.Role, h http.HandlerFunc, q ...query) {
		handle(http.MethodGet, pattern, min, h, q...)
		handle(http.MethodHead, pattern, min, h, q...)
	}
	get := func(pattern string, h http.HandlerFunc, q ...query) { read(pattern, geo.RolePublic, h, q...) }
	get("/", s.handleLanding, withQuery)
	get("/conformance", s.handleConformance, withQuery)
	get("/api", s.handleAPI, withQuery)
	get("/collections", s.handleCollections, withQuery)
	for _, sc := range s.schemas {
		// One set of routes per collection, so that each has its own
		// filter parameters and feature schema in the OpenAPI document
		// and an unknown collection is a 404 from the router.
		get("/collections/"+sc.ID, s.handleCollection(sc), withQuery)
		get("/collections/"+sc.ID+"/items", s.handleItems(sc), withQuery)
		get("/collections/"+sc.ID+"/items/{featureId}", s.handleFeature(sc), withQuery)
		// Writes (writes.go): planners create and edit any feature.
		handle(http.MethodPost, "/collections/"+sc.ID+"/items", geo.RolePlanner, s.handleCreate(sc))
		handle(http.MethodPut, "/collections/"+sc.ID+"/items/{featureId}", geo.RolePlanner, s.handleReplace(sc))
		handle(http.MethodPatch, "/collections/"+sc.ID+"/items/{featureId}", geo.RolePlanner, s.handlePatch(sc))
		handle(http.MethodDelete, "/collections/"+sc.ID+"/items/{featureId}", geo.RolePlanner, s.handleDelete(sc))
		// An edited export back (imports.go): planners.
		handle(http.MethodPost, "/collections/"+sc.ID+"/import", geo.RolePlanner, s.handleImport(sc), withQuery)
		// Crews propose where a record with no place is (proposals.go).
		handle(http.MethodPost, proposalsPath(sc.ID), geo.RoleCrew, s.handlePropose(sc))
	}
	// Status reports from the spot (observations.go): crews and above.
	get(observationsRoute, s.handleObservations, withQuery)
	handle(http.MethodPost, observationsRoute, geo.RoleCrew, s.handleObserve)
	read(photoRoute, geo.RoleCrew, s.handlePhoto, withQuery) // photo.go
	read(proposalsRoute, geo.RoleCrew, s.handleProposals, withQuery)
	read(proposalRoute, geo.RoleCrew, s.handleProposal, withQuery)
	handle(http.MethodPost, proposalRoute+"/accept", geo.RolePlanner, s.handleAccept)
	handle(http.MethodPost, proposalRoute+"/reject", geo.RolePlanner, s.handleReject)
	// Signing a phone in (session.go): a one-time code for a cookie.
	// Their answers hold a secret or a session, never kept with an
	// Idempotency-Key (refuseKey), nor are the token routes'.
	handle(http.MethodPost, sessionRoute, geo.RolePublic, s.refuseKey(s.signIns.Handler(http.HandlerFunc(s.handleSignIn)).ServeHTTP))
	get(sessionRoute, s.handleSession, withQuery)
	handle(http.MethodDelete, sessionRoute, geo.RolePublic, s.refuseKey(s.handleSignOut))
	// Water levels (readings.go) and their alerts (alerts.go, cap.go).
	// A sensor's token may post readings and nothing a crew may.
	get(readingsRoute, s.handleReadings, withQuery)
	handle(http.MethodPost, readingsRoute, geo.RoleSensor, s.handleAddReading)
	handle(http.MethodPost, importRoute, geo.RoleSensor, s.handleImportReadings, withQuery)
	get(latestRoute, s.handleLatest, withQuery)
	get(alertsRoute, s.handleAlerts, withQuery)
	get(alertRoute, s.handleAlert)
	handle(http.MethodPost, alertRoute+"/acknowledge", geo.RoleCrew, s.handleAlertStep(geo.ActionAcknowledge))
	handle(http.MethodPost, alertRoute+"/resolve", geo.RolePlanner, s.handleAlertStep(geo.ActionResolve))
	read(alertRoute+"/deliveries", geo.RolePlanner, s.handleDeliveries)
	get(capFeedRoute, s.handleCAPFeed)
	get(capRoute+"/{identifier}", s.handleCAPMessage)
	read("/audit", geo.RolePlanner, s.handleAudit, withQuery) // audit.go
	get("/events", s.handleEvents, withQuery)                 // events.go: live updates (SSE)
	read("/tokens", geo.RoleAdmin, s.handleTokens, withQuery) // tokens.go: token management
	handle(http.MethodPost, "/tokens", geo.RoleAdmin, s.refuseKey(s.handleCreateToken))
	handle(http.MethodDelete, "/tokens/{tokenId}", geo.RoleAdmin, s.refuseKey(s.handleRevokeToken))
	get("/analysis/nearest-depots", s.handleNearestDepots, withQuery) // analysis.go
	get("/analysis/reach", s.handleReach, withQuery)
	get("/healthz", s.handleHealthz)
	get("/readyz", s.handleReadyz)
	if s.opts.Map != nil {
		// The map's hashed scripts and styles: part of the page, not of
		// the API, so not in the OpenAPI document.
		get(mapAssets, s.opts.Map.ServeHTTP)
	}
	return r
}

// query says whether a route's handler reads a query string (routes).
type query bool

// withQuery registers a route whose handler reads its query string.
const withQuery query = true

// mapAssets is the route of the map's static files.
const mapAssets = "/assets/*"

// allowedMethods returns the Allow header of the route at path: the
// methods it answers, and OPTIONS (s.cors); "" when there is no route.
func allowedMethods(rctx *chi.Context, path string) string {
	if rctx == nil {
		return ""
	}
	if rctx.RoutePath != "" {
		path = rctx.RoutePath
	}
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
			methods = append(methods, m)
		}
	}
	if len(methods) == 0 {
		return ""
	}
	return strings.Join(append(methods, http.MethodOptions), ", ")
}
