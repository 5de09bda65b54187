package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// handleItems serves GET /collections/{collectionId}/items: a page of the
// collection's features as a GeoJSON FeatureCollection, filtered by bbox
// and by equality on Filterable properties.
func (s *Server) handleItems(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := parseItemsQuery(sc, r.URL.Query())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		role := roleOf(r)
		for _, f := range q.Filters {
			// A filter on a value the role may not see would reveal it by
			// which features match.
			if !sc.CanFilter(f.Property, role) {
				s.fail(w, r, geo.InvalidField(f.Property, "not a filterable property of %s", sc.ID))
				return
			}
		}
		base := s.baseURL(r)
		// The key names the view: a planner's page (household detail) is
		// never served to anyone else.
		key := "items\x00" + sc.ID + "\x00" + base + "\x00" + q.Canonical() + "\x00" + viewName(role)
		s.serveCached(w, r, sc.ID, key, q.Limit, func(ctx context.Context) (*response, error) {
			return s.buildItems(ctx, sc, q, base, role)
		})
	}
}

// buildItems reads and encodes one page of items as role may see it. The
// page, its total and the version and time it is labelled with are read
// from one View, so its ETag names exactly the data it shows.
func (s *Server) buildItems(ctx context.Context, sc *geo.Schema, q itemsQuery, base string, role geo.Role) (*response, error) {
	var (
		st       geo.Stamp
		features []*geo.Feature
		matched  int
	)
	err := s.store.Read(ctx, func(v geo.View) (err error) {
		if st, err = v.Stamp(ctx, sc.ID); err != nil {
			return err
		}
		features, matched, err = v.Features(ctx, sc.ID, q.Query())
		return err
	})
	if err != nil {
		return nil, err
	}
	href := base + "/collections/" + sc.ID + "/items?"
	canonical := q.Canonical()
	links := []link{{Href: href + canonical, Rel: "self", Type: typeGeoJSON, Title: "This page"}}
	var header []string
	if next := q.Offset + len(features); len(features) > 0 && next < matched {
		l := link{Href: href + q.withOffset(next), Rel: "next", Type: typeGeoJSON, Title: "Next page"}
		links = append(links, l)
		header = append(header, "<"+l.Href+`>; rel="next"; type="`+typeGeoJSON+`"`)
	}
	if q.Offset > 0 {
		l := link{Href: href + q.withOffset(max(0, q.Offset-q.Limit)), Rel: "prev", Type: typeGeoJSON, Title: "Previous page"}
		links = append(links, l)
		header = append(header, "<"+l.Href+`>; rel="prev"; type="`+typeGeoJSON+`"`)
	}
	links = append(links, link{Href: base + "/collections/" + sc.ID, Rel: "collection", Type: typeJSON, Title: sc.TitleEN})
	linkJSON, err := marshal(links)
	if err != nil {
		return nil, err
	}

	buf := make([]byte, 0, 512+len(features)*512)
	buf = append(buf, `{"type":"FeatureCollection","numberMatched":`...)
	buf = strconv.AppendInt(buf, int64(matched), 10)
	buf = append(buf, `,"numberReturned":`...)
	buf = strconv.AppendInt(buf, int64(len(features)), 10)
	// timeStamp is the time of the last write to the collection, not the
	// time of encoding: the body is then a function of the version and
	// the query alone, so every instance sharing a database sends the
	// same bytes under the same strong ETag, and the time tells a crew how
	// fresh the data is.
	if !st.Updated.IsZero() {
		buf = append(buf, `,"timeStamp":"`...)
		buf = st.Updated.UTC().AppendFormat(buf, time.RFC3339)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"links":`...)
	buf = append(buf, linkJSON...)
	buf = append(buf, `,"features":[`...)
	for i, f := range features {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, err = geojson.AppendFeature(buf, sc.Redact(f, role)); err != nil {
			return nil, err
		}
	}
	buf = append(buf, "]}"...)
	return &response{
		body:     buf,
		ctype:    typeGeoJSON,
		etag:     makeETag(st.Version, "items", sc.ID, base, canonical, viewName(role)),
		modified: st.Updated,
		links:    header,
		version:  st.Version,
		private:  privateView(role),
	}, nil
}

// handleFeature serves GET /collections/{collectionId}/items/{featureId}:
// one feature as a GeoJSON Feature, validated by its own version.
func (s *Server) handleFeature(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
			s.fail(w, r, err)
			return
		}
		id := chi.URLParam(r, "featureId")
		f, err := s.store.Feature(r.Context(), sc.ID, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// The body shows what the role may see; its ETag (featureETag,
		// feature.go) is the one a write's If-Match must send back.
		role := roleOf(r)
		body, etag, err := featureBody(sc, f, s.baseURL(r), role)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.serve(w, r, &response{body: body, ctype: typeGeoJSON, etag: etag, modified: f.Updated, version: f.Version, private: privateView(role)})
	}
}
