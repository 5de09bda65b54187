package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file serves the analysis routes: the depots nearest to any point
// (GET /analysis/nearest-depots) and the reach of every hazard
// (GET /analysis/reach). The computation is geo's (Store.NearestDepots,
// geo.ReadReach, geo.DepotReadiness); this file parses the query, encodes
// the JSON contract and handles the caching headers. Query parsing is in
// pure functions (analysis_query.go), the JSON in analysis_json.go.

// handleNearestDepots serves GET /analysis/nearest-depots: the k depots
// nearest to a point by ellipsoidal distance, with their readiness,
// optionally only ready (or not ready) ones of a category.
func (s *Server) handleNearestDepots(w http.ResponseWriter, r *http.Request) {
	q, err := parseNearestDepotsQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var (
		v      int64
		out    nearestDepotsJSON
		stable bool
	)
	for try := 0; try < snapshotTries && !stable; try++ {
		if v, err = s.dataVersion(ctx, geo.Depots); err != nil {
			s.fail(w, r, err)
			return
		}
		if out, stable, err = s.nearestDepots(ctx, q); err != nil {
			s.fail(w, r, err)
			return
		}
		after, err := s.dataVersion(ctx, geo.Depots)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		stable = stable && after == v
	}
	body, err := marshal(out)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rs := &response{body: body, ctype: typeJSON, version: v}
	if stable {
		rs.etag = makeETag(v, "nearest-depots", q.Canonical())
		if st, err := s.state(ctx, geo.Depots); err == nil && st.version == v {
			rs.modified = st.updated
		}
	}
	s.serve(w, r, rs)
}

// nearestDepots answers q from the store. ok is false when a returned
// depot was not among those read (a write in between): the caller reads
// again.
func (s *Server) nearestDepots(ctx context.Context, q nearestDepotsQuery) (out nearestDepotsJSON, ok bool, err error) {
	lists, err := s.store.NearestDepots(ctx, geo.NearestQuery{Points: []orb.Point{q.Point}, K: q.K, Filter: q.Filter})
	if err != nil {
		return out, false, err
	}
	depots, _, err := s.store.Features(ctx, geo.Depots, geo.Query{})
	if err != nil {
		return out, false, err
	}
	byID := make(map[string]*geo.Feature, len(depots))
	for _, d := range depots {
		byID[d.ID] = d
	}
	out = nearestDepotsJSON{Point: lonLat{q.Point[0], q.Point[1]}, K: q.K, Filters: filtersOf(q.Filter), Depots: []nearestDepotJSON{}}
	ok = true
	for _, n := range lists[0] {
		d, found := byID[n.ID]
		if !found {
			ok = false
			continue
		}
		rd := geo.DepotReadiness(d.Properties)
		name, _ := d.Properties["name"].(string)
		level, _ := d.Properties["level"].(string)
		out.Depots = append(out.Depots, nearestDepotJSON{ID: n.ID, Name: name, Level: level, Ready: rd.Ready, Reasons: rd.Reasons,
			DistanceM: metres(n.DistanceM), Geometry: geojson.AppendGeometry(nil, n.Point)})
	}
	return out, ok, nil
}

// handleReach serves GET /analysis/reach: for every hazard, the nearest
// depot the filter keeps (ready ones by default), its distance, within or
// beyond the threshold, and the nearer depots passed over and why; as
// JSON, or as GeoJSON lines hazard → depot for the map (format=geojson).
// Responses are cached per query and data version (the versions of the
// depots and of the hazard collections asked about).
func (s *Server) handleReach(w http.ResponseWriter, r *http.Request) {
	p, err := parseReachQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, sum, err := s.reachVersions(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	canonical := p.Canonical()
	// The sum of the versions grows with any write to any of them, so it
	// orders the cache's entries of one query like a version does.
	group := "reach\x00" + canonical
	key := group + "\x00" + versions
	rs, err := s.cache.get(r.Context(), key, group, sum, func(ctx context.Context) (*response, error) {
		return s.buildReach(ctx, p)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, rs)
}

// reachCollections are the collections a reach report reads: the depots,
// then the hazard collections asked about.
func reachCollections(p reachParams) []string {
	return append([]string{geo.Depots}, p.Query.Collections...)
}

// reachVersions returns the data versions of the collections p reads, as
// text (for keys and ETags) and their sum.
func (s *Server) reachVersions(ctx context.Context, p reachParams) (string, int64, error) {
	var b strings.Builder
	var sum int64
	for _, c := range reachCollections(p) {
		v, err := s.dataVersion(ctx, c)
		if err != nil {
			return "", 0, err
		}
		b.WriteString(c + "=" + strconv.FormatInt(v, 10) + ";")
		sum += v
	}
	return b.String(), sum, nil
}

// buildReach computes and encodes a reach report. Like buildItems, it
// reads the data versions before and after and repeats when a write came
// in between; a report that never settles is served without an ETag and
// not cached.
func (s *Server) buildReach(ctx context.Context, p reachParams) (*response, error) {
	var (
		rep      *geo.ReachReport
		versions string
		sum      int64
		stable   bool
	)
	for try := 0; try < snapshotTries && !stable; try++ {
		var err error
		if versions, sum, err = s.reachVersions(ctx, p); err != nil {
			return nil, err
		}
		if rep, err = geo.ReadReach(ctx, s.store, p.Query); err != nil {
			return nil, err
		}
		after, _, err := s.reachVersions(ctx, p)
		if err != nil {
			return nil, err
		}
		stable = after == versions
	}
	var (
		body  []byte
		ctype string
		err   error
	)
	if p.Format == formatGeoJSON {
		body, err = marshal(reachLines(rep))
		ctype = typeGeoJSON
	} else {
		body, err = marshal(reachBody(rep))
		ctype = typeJSON
	}
	if err != nil {
		return nil, err
	}
	rs := &response{body: body, ctype: ctype, version: sum, cacheable: stable}
	if stable {
		rs.etag = makeETag(sum, "reach", p.Canonical(), versions)
		var modified time.Time
		for _, c := range reachCollections(p) {
			if st, err := s.state(ctx, c); err == nil && st.updated.After(modified) {
				modified = st.updated
			}
		}
		rs.modified = modified
	}
	return rs, nil
}
