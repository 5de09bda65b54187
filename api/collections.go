package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"hazardmap/geo"
)

// collectionsDoc is the document at /collections.
type collectionsDoc struct {
	Links       []link          `json:"links"`
	Collections []collectionDoc `json:"collections"`
}

// collectionDoc describes one collection, at /collections/{collectionId}.
type collectionDoc struct {
	ID string `json:"id"`
	// Title is the Chinese title, then the English one.
	Title       string `json:"title"`
	Description string `json:"description"`
	Links       []link `json:"links"`
	// Extent is computed from the data; nil when no feature is located.
	Extent   *extentDoc `json:"extent,omitempty"`
	ItemType string     `json:"itemType"`
	CRS      []string   `json:"crs"`
}

// extentDoc is the extent of a collection's data.
type extentDoc struct {
	Spatial spatialExtent `json:"spatial"`
}

// spatialExtent is one CRS84 box [minLon, minLat, maxLon, maxLat].
type spatialExtent struct {
	BBox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

// handleCollections serves GET /collections: every collection with its
// extent.
func (s *Server) handleCollections(w http.ResponseWriter, r *http.Request) {
	if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
		s.fail(w, r, err)
		return
	}
	// The document shows every collection's extent, so it depends on
	// every collection's version; their sum grows whenever one does, and
	// as versions never go back, a document whose sum is the sum read
	// here is of exactly the versions read here.
	versions := make([]int64, len(s.schemas))
	var sum int64
	for i, sc := range s.schemas {
		v, err := s.dataVersion(r.Context(), sc.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		versions[i], sum = v, sum+v
	}
	base := s.baseURL(r)
	rs, err := s.cache.get(r.Context(), collectionsKey(base, versions), "collections\x00"+base, sum, func(ctx context.Context) (*response, error) {
		var infos []geo.CollectionInfo
		err := s.store.Read(ctx, func(v geo.View) (err error) {
			infos, err = v.Collections(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		doc := collectionsDoc{
			Links:       []link{{Href: base + "/collections", Rel: "self", Type: typeJSON, Title: "This document"}},
			Collections: make([]collectionDoc, 0, len(infos)),
		}
		rs := &response{}
		shown := make([]int64, 0, len(infos)) // the versions of infos
		for _, info := range infos {
			sc, err := s.schema(info.ID)
			if err != nil {
				return nil, err
			}
			doc.Collections = append(doc.Collections, describeCollection(sc, info, base))
			shown = append(shown, info.Version)
			rs.version += info.Version
			if info.Updated.After(rs.modified) {
				rs.modified = info.Updated
			}
		}
		body, err := marshal(doc)
		if err != nil {
			return nil, err
		}
		rs.body, rs.ctype = body, typeJSON
		rs.etag = makeETag(rs.version, collectionsKey(base, shown))
		return rs, nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, rs)
}

// collectionsKey names the collections document at base with the
// collections at versions (in s.schemas order).
func collectionsKey(base string, versions []int64) string {
	var key strings.Builder
	key.WriteString("collections\x00" + base)
	for _, v := range versions {
		key.WriteString("\x00" + strconv.FormatInt(v, 10))
	}
	return key.String()
}

// handleCollection serves GET /collections/{collectionId}: one collection
// with its extent.
func (s *Server) handleCollection(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
			s.fail(w, r, err)
			return
		}
		base := s.baseURL(r)
		s.serveCached(w, r, sc.ID, "collection\x00"+sc.ID+"\x00"+base, 0, func(ctx context.Context) (*response, error) {
			var info geo.CollectionInfo
			err := s.store.Read(ctx, func(v geo.View) (err error) {
				info, err = v.Collection(ctx, sc.ID)
				return err
			})
			if err != nil {
				return nil, err
			}
			body, err := marshal(describeCollection(sc, info, base))
			if err != nil {
				return nil, err
			}
			return &response{body: body, ctype: typeJSON, modified: info.Updated, version: info.Version,
				etag: makeETag(info.Version, "collection", sc.ID, base)}, nil
		})
	}
}

// describeCollection describes the collection of sc in state info.
func describeCollection(sc *geo.Schema, info geo.CollectionInfo, base string) collectionDoc {
	href := base + "/collections/" + sc.ID
	c := collectionDoc{
		ID:          sc.ID,
		Title:       sc.TitleZH + " " + sc.TitleEN,
		Description: sc.Description,
		Links: []link{
			{Href: href, Rel: "self", Type: typeJSON, Title: "This collection"},
			{Href: href + "/items", Rel: "items", Type: typeGeoJSON, Title: sc.TitleEN + " (GeoJSON)"},
		},
		ItemType: "feature",
		CRS:      []string{crs84},
	}
	// The items as files (exports.go), for spreadsheets and map apps.
	c.Links = append(c.Links, exportLinks(href+"/items?", "", sc)...)
	if e := info.Extent; e != nil && info.Located > 0 {
		c.Extent = &extentDoc{Spatial: spatialExtent{
			BBox: [][4]float64{{e.Min[0], e.Min[1], e.Max[0], e.Max[1]}},
			CRS:  crs84,
		}}
	}
	return c
}
