package api

import (
	"context"
	"fmt"
	"math"
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
// (GET /analysis/reach). The computation is geo's (View.NearestDepots,
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
		st     geo.Stamp
		lists  [][]geo.Neighbor
		depots []*geo.Feature
	)
	err = s.store.Read(ctx, func(v geo.View) (err error) {
		if st, err = v.Stamp(ctx, geo.Depots); err != nil {
			return err
		}
		if lists, err = v.NearestDepots(ctx, geo.NearestQuery{Points: []orb.Point{q.Point}, K: q.K, Filter: q.Filter}); err != nil {
			return err
		}
		depots, _, err = v.Features(ctx, geo.Depots, geo.Query{})
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := nearestDepotsBody(q, lists[0], depots)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := marshal(out)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, &response{body: body, ctype: typeJSON, version: st.Version, modified: st.Updated,
		etag: makeETag(st.Version, "nearest-depots", q.Canonical())})
}

// nearestDepotsBody is the answer to q: the depots of nearest, described
// from depots, read from the same View.
func nearestDepotsBody(q nearestDepotsQuery, nearest []geo.Neighbor, depots []*geo.Feature) (nearestDepotsJSON, error) {
	byID := make(map[string]*geo.Feature, len(depots))
	for _, d := range depots {
		byID[d.ID] = d
	}
	out := nearestDepotsJSON{Point: lonLat{q.Point[0], q.Point[1]}, K: q.K, Filters: filtersOf(q.Filter), Depots: []nearestDepotJSON{}}
	for _, n := range nearest {
		d, found := byID[n.ID]
		if !found {
			return out, fmt.Errorf("api: nearest depot %q is not among the depots of the same view", n.ID)
		}
		rd := geo.DepotReadiness(d.Properties)
		name, _ := d.Properties["name"].(string)
		level, _ := d.Properties["level"].(string)
		out.Depots = append(out.Depots, nearestDepotJSON{ID: n.ID, Name: name, Level: level, Ready: rd.Ready, Reasons: rd.Reasons,
			DistanceM: metres(n.DistanceM), Geometry: geojson.AppendGeometry(nil, n.Point)})
	}
	return out, nil
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
	ctx := r.Context()
	versions, sum, _, err := reachVersions(p, func(c string) (geo.Stamp, error) {
		v, err := s.dataVersion(ctx, c)
		return geo.Stamp{Version: v}, err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	canonical := p.Canonical()
	// The sum of the versions grows with any write to any of them, so it
	// orders the cache's entries of one query like a version does; and
	// as versions never go back, a report whose sum is the sum read here
	// is of exactly the versions read here.
	group := "reach\x00" + canonical
	key := group + "\x00" + versions
	// A report reads every hazard: always a large build.
	rs, err := s.cache.get(ctx, key, group, sum, s.built(math.MaxInt, func(ctx context.Context) (*response, error) {
		return s.buildReach(ctx, p)
	}))
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
// stamp gives them: as text (for keys and ETags), their sum, and the time
// of the latest write to any of them.
func reachVersions(p reachParams, stamp func(c string) (geo.Stamp, error)) (versions string, sum int64, modified time.Time, err error) {
	var b strings.Builder
	for _, c := range reachCollections(p) {
		st, err := stamp(c)
		if err != nil {
			return "", 0, time.Time{}, err
		}
		b.WriteString(c + "=" + strconv.FormatInt(st.Version, 10) + ";")
		sum += st.Version
		if st.Updated.After(modified) {
			modified = st.Updated
		}
	}
	return b.String(), sum, modified, nil
}

// buildReach computes and encodes a reach report, reading the data and
// its versions from one View.
func (s *Server) buildReach(ctx context.Context, p reachParams) (*response, error) {
	var (
		rep      *geo.ReachReport
		versions string
		sum      int64
		modified time.Time
	)
	err := s.store.Read(ctx, func(v geo.View) (err error) {
		versions, sum, modified, err = reachVersions(p, func(c string) (geo.Stamp, error) { return v.Stamp(ctx, c) })
		if err != nil {
			return err
		}
		rep, err = geo.ReadReach(ctx, v, p.Query)
		return err
	})
	if err != nil {
		return nil, err
	}
	var (
		body  []byte
		ctype string
	)
	if p.Format == formatGeoJSON {
		body, err = reachLines(rep)
		ctype = typeGeoJSON
	} else {
		body, err = reachBody(rep)
		ctype = typeJSON
	}
	if err != nil {
		return nil, err
	}
	return &response{body: body, ctype: ctype, version: sum, modified: modified,
		etag: makeETag(sum, "reach", p.Canonical(), versions)}, nil
}
