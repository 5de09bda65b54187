package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
)

// handleItems serves GET /collections/{collectionId}/items: a page of the
// collection's features as a GeoJSON FeatureCollection, filtered by bbox
// and by equality on Filterable properties; or the same selection as a
// file (f=xlsx|csv|kml|gpx or Accept, exports.go).
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
		w.Header().Add("Vary", "Accept") // itemsFormat
		if f := itemsFormat(q, r); f.Name != "" {
			s.serveExport(w, r, sc, q, f, role)
			return
		}
		base := s.baseURL(r)
		// The key names the view: a planner's page (household detail) is
		// never served to anyone else.
		key := "items\x00" + sc.ID + "\x00" + base + "\x00" + q.Canonical() + "\x00" + viewName(role)
		v, err := s.dataVersion(r.Context(), sc.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		key += "\x00" + strconv.FormatInt(v, 10)
		rs, first := s.cache.begin(key)
		switch {
		case rs != nil:
			// Served from the cache: the same request again takes the hot
			// path (hot.go).
			if k, ok := hotKeyOf(r); ok {
				s.cache.alias(k, key, acceptsGzip(r.Header.Get("Accept-Encoding")))
			}
		case first:
			// Asked for the first time (a box a map was panned over): built
			// for this request alone, into a recycled buffer, as it will
			// not be stored.
			body := pageBuffers.Get().(*[]byte)
			defer putPageBuffer(body)
			// A large page waits its turn all the same (limits.go).
			rs, err = s.limits.build(r.Context(), q.Limit, func(ctx context.Context) (*response, error) {
				return s.buildItems(ctx, sc, q, base, role, body)
			})
			if err == nil {
				defer func() { *body = rs.body[:0] }()
			}
		default:
			rs, err = s.cache.fill(r.Context(), key, sc.ID, v, s.built(q.Limit, func(ctx context.Context) (*response, error) {
				return s.buildItems(ctx, sc, q, base, role, nil)
			}))
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.serve(w, r, rs)
	}
}

// buildItems reads and encodes one page of items as role may see it. The
// page, its total and the version and time it is labelled with are read
// from one View, so its ETag names exactly the data it shows. The body is
// built in into when it is given (its capacity reused), else in a new
// buffer.
func (s *Server) buildItems(ctx context.Context, sc *geo.Schema, q itemsQuery, base string, role geo.Role, into *[]byte) (*response, error) {
	var (
		st       geo.Stamp
		features = pageBuffers.Get().(*[]byte)
		returned int
		matched  int
	)
	defer putPageBuffer(features)
	// The features come encoded from the store (the stores keep each one
	// as GeoJSON for both views): this only copies them.
	// The stamp after the page: a store may have read it along with the
	// page (PostGIS does, in the same statement).
	err := s.store.Read(ctx, func(v geo.View) (err error) {
		if *features, returned, matched, err = v.AppendFeatures(ctx, (*features)[:0], sc.ID, q.Query(), role); err != nil {
			return err
		}
		st, err = v.Stamp(ctx, sc.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	href := base + "/collections/" + sc.ID + "/items?"
	canonical := q.Canonical()
	links := []link{{Href: href + canonical, Rel: "self", Type: typeGeoJSON, Title: "This page"}}
	var header []string
	if next := q.Offset + returned; returned > 0 && next < matched {
		l := link{Href: href + q.withOffset(next), Rel: "next", Type: typeGeoJSON, Title: "Next page"}
		links = append(links, l)
		header = append(header, "<"+l.Href+`>; rel="next"; type="`+typeGeoJSON+`"`)
	}
	if q.Offset > 0 {
		l := link{Href: href + q.withOffset(max(0, q.Offset-q.Limit)), Rel: "prev", Type: typeGeoJSON, Title: "Previous page"}
		links = append(links, l)
		header = append(header, "<"+l.Href+`>; rel="prev"; type="`+typeGeoJSON+`"`)
	}
	links = append(links, exportLinks(href, canonical, sc)...)
	links = append(links, link{Href: base + "/collections/" + sc.ID, Rel: "collection", Type: typeJSON, Title: sc.TitleEN})
	linkJSON, err := marshal(links)
	if err != nil {
		return nil, err
	}

	var buf []byte
	if size := 512 + len(linkJSON) + len(*features); into != nil {
		buf = slices.Grow((*into)[:0], size)
	} else {
		buf = make([]byte, 0, size)
	}
	buf = append(buf, `{"type":"FeatureCollection","numberMatched":`...)
	buf = strconv.AppendInt(buf, int64(matched), 10)
	buf = append(buf, `,"numberReturned":`...)
	buf = strconv.AppendInt(buf, int64(returned), 10)
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
	buf = append(buf, *features...)
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

// pageBuffers holds the buffers that pages of features are read into
// before the body is assembled around them, and the bodies of pages that
// are not kept (see handleItems).
var pageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledPage is the largest buffer kept for reuse: a page of 1000
// features is about half a megabyte; the rare much larger page (limit
// 10000) is not worth keeping megabytes for, live, between requests.
const maxPooledPage = 1 << 20

// putPageBuffer returns b to pageBuffers unless it has grown too large.
func putPageBuffer(b *[]byte) {
	if cap(*b) <= maxPooledPage {
		pageBuffers.Put(b)
	}
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
