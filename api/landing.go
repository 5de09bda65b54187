package api

import (
	"context"
	"net/http"

	"hazardmap/geo"
)

// Title and Description of the service, on the landing page and in the
// OpenAPI document.
const (
	serviceTitle       = "荥阳市防汛风险图 Xingyang flood-hazard map"
	serviceDescription = "Waterlogging points, riverbed relocation sites and emergency-supply depots of Xingyang (荥阳市), " +
		"Henan, from the city Emergency Management Bureau's rectification report, as OGC API – Features " +
		"collections in GeoJSON (WGS-84 longitude/latitude)."
)

// conformanceClasses returns the conformance classes of OGC API –
// Features – Part 1 that the service implements, and no others.
func conformanceClasses() []string {
	return []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	}
}

// link is a web link (RFC 8288) as OGC API documents carry them.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// landingDoc is the document at "/".
type landingDoc struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Links       []link `json:"links"`
}

// conformanceDoc is the document at /conformance.
type conformanceDoc struct {
	ConformsTo []string `json:"conformsTo"`
}

// handleLanding serves GET / : the map for browsers (Accept ranks
// text/html above JSON, or f=html) when Options.Map is set, else the
// landing page as JSON.
func (s *Server) handleLanding(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	wantHTML, err := parseSimpleQuery(q, s.opts.Map != nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.opts.Map != nil {
		w.Header().Add("Vary", "Accept")
		if wantHTML || (!q.Has("f") && prefersHTML(r.Header.Get("Accept"))) {
			s.opts.Map.ServeHTTP(w, r)
			return
		}
	}
	base := s.baseURL(r)
	rs, err := s.cache.get(r.Context(), "landing\x00"+base, "static", 0, func(context.Context) (*response, error) {
		return jsonResponse(s.landing(base), typeJSON)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, rs)
}

// landingPage returns the landing page for links starting with base.
func (s *Server) landing(base string) landingDoc {
	links := []link{
		{Href: base + "/?f=json", Rel: "self", Type: typeJSON, Title: "This document"},
	}
	if s.opts.Map != nil {
		links = append(links, link{Href: base + "/?f=html", Rel: "alternate", Type: typeHTML, Title: "The map"})
	}
	links = append(links,
		link{Href: base + "/api", Rel: "service-desc", Type: typeOpenAPI, Title: "The API definition (OpenAPI 3.0)"},
		link{Href: base + "/conformance", Rel: "conformance", Type: typeJSON, Title: "OGC API conformance classes implemented by this server"},
		link{Href: base + "/collections", Rel: "data", Type: typeJSON, Title: "The feature collections"},
	)
	return landingDoc{Title: serviceTitle, Description: serviceDescription, Links: links}
}

// handleConformance serves GET /conformance: the conformance classes.
func (s *Server) handleConformance(w http.ResponseWriter, r *http.Request) {
	if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
		s.fail(w, r, err)
		return
	}
	rs, err := s.cache.get(r.Context(), "conformance", "static", 0, func(context.Context) (*response, error) {
		return jsonResponse(conformanceDoc{ConformsTo: conformanceClasses()}, typeJSON)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, rs)
}

// handleAPI serves GET /api: the OpenAPI 3.0 document of the service.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
		s.fail(w, r, err)
		return
	}
	base := s.baseURL(r)
	// Each view gets the document with the properties it may see: crews
	// the contacts, planners the household detail too.
	view := geo.ViewOf(roleOf(r))
	rs, err := s.cache.get(r.Context(), "api\x00"+base+"\x00"+viewName(roleOf(r)), "static", 0, func(context.Context) (*response, error) {
		return jsonResponse(s.openAPI(base, view), typeOpenAPI)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, rs)
}
