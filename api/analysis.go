package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// This file serves the analysis routes: the depots nearest to any point
// (GET /analysis/nearest-depots) and the reach of every hazard
// (GET /analysis/reach). The computation is geo's (Store.NearestDepots,
// geo.ReachOf, geo.DepotReadiness); this file parses the query, encodes
// the JSON contract and handles the caching headers. Query parsing is in
// pure functions, table-tested and fuzzed in analysis_test.go.

// Bounds of the k parameter of /analysis/nearest-depots.
const (
	DefaultNearestK = 3
	MaxNearestK     = 50
)

// Formats of /analysis/reach.
const (
	formatJSON    = "json"
	formatGeoJSON = "geojson"
)

// NearestDepotsQuery is a validated query of /analysis/nearest-depots.
type NearestDepotsQuery struct {
	// Point is the query position [lon, lat] (a crew's GPS position, say).
	Point orb.Point
	// K is 1 to MaxNearestK.
	K int
	// Filter is ready (nil: no readiness filter) and category.
	Filter geo.DepotFilter
}

// Canonical returns q as a query string with every parameter explicit in
// a fixed order: it keys the ETag.
func (q NearestDepotsQuery) Canonical() string {
	return "lon=" + strconv.FormatFloat(q.Point[0], 'g', -1, 64) +
		"&lat=" + strconv.FormatFloat(q.Point[1], 'g', -1, 64) +
		"&k=" + strconv.Itoa(q.K) + "&ready=" + readyString(q.Filter.Ready) +
		"&category=" + url.QueryEscape(q.Filter.Category)
}

// ReachParams is a validated query of /analysis/reach.
type ReachParams struct {
	Query geo.ReachQuery
	// Format is "json" or "geojson".
	Format string
}

// Canonical returns p as a query string with every parameter explicit in
// a fixed order: it keys the response cache and the ETag.
func (p ReachParams) Canonical() string {
	return "max_distance_m=" + strconv.FormatFloat(p.Query.MaxDistanceM, 'g', -1, 64) +
		"&collections=" + strings.Join(p.Query.Collections, ",") +
		"&ready=" + readyString(p.Query.Filter.Ready) +
		"&category=" + url.QueryEscape(p.Query.Filter.Category) + "&format=" + p.Format
}

func readyString(b *bool) string {
	if b == nil {
		return "any"
	}
	return strconv.FormatBool(*b)
}

// nearestParams and reachParams are the parameters each route takes.
var (
	nearestParams = []string{"lon", "lat", "k", "ready", "category", "f"}
	reachParams   = []string{"max_distance_m", "collections", "ready", "category", "format", "f"}
)

// ParseNearestDepotsQuery validates the query string of
// /analysis/nearest-depots: lon and lat (required), k (default
// DefaultNearestK), ready (true, false or any; default any), category, f
// (json). Unknown and repeated parameters are errors; the error lists
// every bad parameter under its own name.
func ParseNearestDepotsQuery(v url.Values) (NearestDepotsQuery, error) {
	q := NearestDepotsQuery{K: DefaultNearestK}
	var bad []geo.FieldError
	for _, name := range sortedNames(v) {
		raw, err := single(v, name)
		if err == nil {
			switch name {
			case "lon":
				q.Point[0], err = ParseLon(raw)
			case "lat":
				q.Point[1], err = ParseLat(raw)
			case "k":
				q.K, err = ParseK(raw)
			case "ready":
				q.Filter.Ready, err = ParseReady(raw)
			case "category":
				q.Filter.Category, err = ParseCategory(raw)
			case "f":
				err = parseFormat(raw, false)
			default:
				err = geo.InvalidField(name, "unknown parameter; parameters: %s", strings.Join(nearestParams, ", "))
			}
		}
		if err != nil {
			bad = append(bad, fieldErrors(err, name)...)
		}
	}
	for _, name := range []string{"lon", "lat"} {
		if !v.Has(name) {
			bad = append(bad, geo.FieldError{Field: name, Detail: "required: the position to search from, WGS-84 degrees"})
		}
	}
	if len(bad) > 0 {
		return NearestDepotsQuery{}, &geo.Error{Kind: geo.Invalid, Message: "invalid query parameters", Fields: bad}
	}
	return q, nil
}

// ParseReachQuery validates the query string of /analysis/reach:
// max_distance_m (default geo.DefaultReachDistanceM), collections (default
// both hazard collections), ready (true, false or any; default true),
// category, format (json or geojson; f is an alias). Unknown and repeated
// parameters are errors; the error lists every bad parameter.
func ParseReachQuery(v url.Values) (ReachParams, error) {
	yes := true
	p := ReachParams{Format: formatJSON, Query: geo.ReachQuery{
		ReachOptions: geo.ReachOptions{MaxDistanceM: geo.DefaultReachDistanceM, Filter: geo.DepotFilter{Ready: &yes}},
		Collections:  geo.HazardCollections(),
	}}
	var bad []geo.FieldError
	for _, name := range sortedNames(v) {
		raw, err := single(v, name)
		if err == nil {
			switch name {
			case "max_distance_m":
				p.Query.MaxDistanceM, err = ParseMaxDistance(raw)
			case "collections":
				p.Query.Collections, err = ParseCollections(raw)
			case "ready":
				p.Query.Filter.Ready, err = ParseReady(raw)
			case "category":
				p.Query.Filter.Category, err = ParseCategory(raw)
			case "format", "f":
				var f string
				if f, err = ParseAnalysisFormat(name, raw); err == nil {
					if name == "f" && v.Has("format") && v.Get("format") != raw {
						err = geo.InvalidField("f", "f (an alias of format) says %q but format says %q", v.Get("f"), v.Get("format"))
					}
					p.Format = f
				}
			default:
				err = geo.InvalidField(name, "unknown parameter; parameters: %s", strings.Join(reachParams, ", "))
			}
		}
		if err != nil {
			bad = append(bad, fieldErrors(err, name)...)
		}
	}
	if len(bad) > 0 {
		return ReachParams{}, &geo.Error{Kind: geo.Invalid, Message: "invalid query parameters", Fields: bad}
	}
	return p, nil
}

// sortedNames returns the parameter names of v in order, so that errors
// are reported in a stable order.
func sortedNames(v url.Values) []string {
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// single returns the one value of parameter name, or an error when it is
// repeated.
func single(v url.Values, name string) (string, error) {
	if vals := v[name]; len(vals) == 1 {
		return vals[0], nil
	}
	return "", geo.InvalidField(name, "give this parameter once")
}

// parseNumber reads a finite decimal number for parameter field.
func parseNumber(field, raw string) (float64, error) {
	s := strings.TrimSpace(raw)
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || !isDecimal(s) || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, geo.InvalidField(field, "want a decimal number, got %q", raw)
	}
	return x, nil
}

// ParseLon reads the lon parameter: a longitude in [-180, 180] degrees.
func ParseLon(raw string) (float64, error) {
	x, err := parseNumber("lon", raw)
	if err == nil && (x < -180 || x > 180) {
		err = geo.InvalidField("lon", "want a longitude from -180 to 180, got %g (is it lat?)", x)
	}
	return x, err
}

// ParseLat reads the lat parameter: a latitude in [-90, 90] degrees.
func ParseLat(raw string) (float64, error) {
	x, err := parseNumber("lat", raw)
	if err == nil && (x < -90 || x > 90) {
		err = geo.InvalidField("lat", "want a latitude from -90 to 90, got %g (is it lon?)", x)
	}
	return x, err
}

// ParseK reads the k parameter: an integer from 1 to MaxNearestK.
func ParseK(raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxNearestK {
		return 0, geo.InvalidField("k", "want an integer from 1 to %d, got %q", MaxNearestK, raw)
	}
	return n, nil
}

// ParseReady reads the ready parameter: "true" or "false" (filter on
// geo.DepotReadiness), or "any" (no readiness filter, nil).
func ParseReady(raw string) (*bool, error) {
	switch raw {
	case "true", "false":
		b := raw == "true"
		return &b, nil
	case "any":
		return nil, nil
	}
	return nil, geo.InvalidField("ready", "want true, false or any, got %q", raw)
}

// ParseCategory reads the category parameter: one of
// geo.DepotCategories().
func ParseCategory(raw string) (string, error) {
	if err := (geo.DepotFilter{Category: raw}).Check(); err != nil || raw == "" {
		return "", geo.InvalidField("category", "want one of %s, got %q", strings.Join(geo.DepotCategories(), ", "), raw)
	}
	return raw, nil
}

// ParseMaxDistance reads the max_distance_m parameter: metres, from
// geo.MinReachDistanceM to geo.MaxReachDistanceM.
func ParseMaxDistance(raw string) (float64, error) {
	x, err := parseNumber("max_distance_m", raw)
	if err == nil && (x < geo.MinReachDistanceM || x > geo.MaxReachDistanceM) {
		err = geo.InvalidField("max_distance_m", "want metres from %g to %g, got %g", float64(geo.MinReachDistanceM), float64(geo.MaxReachDistanceM), x)
	}
	return x, err
}

// ParseCollections reads the collections parameter: a comma-separated,
// non-empty list of distinct hazard collections (geo.HazardCollections),
// in the order to report them.
func ParseCollections(raw string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(raw, ",") {
		c = strings.TrimSpace(c)
		switch {
		case !slices.Contains(geo.HazardCollections(), c):
			return nil, geo.InvalidField("collections", "%q is not a hazard collection; want a comma-separated list of %s",
				c, strings.Join(geo.HazardCollections(), ", "))
		case slices.Contains(out, c):
			return nil, geo.InvalidField("collections", "%s is listed twice", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseAnalysisFormat reads the format parameter (or its alias f, named
// by field) of /analysis/reach: json or geojson.
func ParseAnalysisFormat(field, raw string) (string, error) {
	if raw == formatJSON || raw == formatGeoJSON {
		return raw, nil
	}
	return "", geo.InvalidField(field, "want json or geojson, got %q", raw)
}

// JSON of the analysis routes. Distances are metres with 2 decimals.

type analysisFilters struct {
	Ready    *bool   `json:"ready"`
	Category *string `json:"category"`
}

func filtersOf(f geo.DepotFilter) analysisFilters {
	out := analysisFilters{Ready: f.Ready}
	if f.Category != "" {
		c := f.Category
		out.Category = &c
	}
	return out
}

type lonLat struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

type pointGeometry struct {
	Type        string    `json:"type"`
	Coordinates []float64 `json:"coordinates"`
}

type nearestDepotJSON struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Level     string        `json:"level"`
	Ready     bool          `json:"ready"`
	Reasons   []geo.Reason  `json:"reasons"`
	DistanceM float64       `json:"distance_m"`
	Geometry  pointGeometry `json:"geometry"`
}

type nearestDepotsJSON struct {
	Point   lonLat             `json:"point"`
	K       int                `json:"k"`
	Filters analysisFilters    `json:"filters"`
	Depots  []nearestDepotJSON `json:"depots"`
}

type reachSummaryJSON struct {
	Hazards   int `json:"hazards"`
	Within    int `json:"within"`
	Beyond    int `json:"beyond"`
	Unlocated int `json:"unlocated"`
	NoDepot   int `json:"no_depot"`
	// Uncertain counts the within and beyond results that the stated
	// location precision could turn round (an addition to the contract).
	Uncertain int `json:"uncertain"`
}

type reachDepotJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	DistanceM  float64  `json:"distance_m"`
	Ready      bool     `json:"ready"`
	PrecisionM *float64 `json:"location_precision_m"`
}

type skippedDepotJSON struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	DistanceM float64      `json:"distance_m"`
	Reasons   []geo.Reason `json:"reasons"`
	Why       string       `json:"why"`
}

type hazardReachJSON struct {
	Collection string             `json:"collection"`
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Kind       string             `json:"kind"`
	Located    bool               `json:"located"`
	Result     string             `json:"result"`
	Depot      *reachDepotJSON    `json:"depot"`
	Skipped    []skippedDepotJSON `json:"skipped"`
	PrecisionM *float64           `json:"location_precision_m"`
	Uncertain  bool               `json:"uncertain"`
}

type reachJSON struct {
	MaxDistanceM float64           `json:"max_distance_m"`
	Collections  []string          `json:"collections"`
	Filters      analysisFilters   `json:"filters"`
	Summary      reachSummaryJSON  `json:"summary"`
	Hazards      []hazardReachJSON `json:"hazards"`
}

type reachLineProps struct {
	HazardCollection string   `json:"hazard_collection"`
	HazardID         string   `json:"hazard_id"`
	HazardName       string   `json:"hazard_name"`
	DepotID          *string  `json:"depot_id"`
	DepotName        *string  `json:"depot_name"`
	DistanceM        *float64 `json:"distance_m"`
	Result           string   `json:"result"`
	Uncertain        bool     `json:"uncertain"`
}

type reachLineFeature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   any            `json:"geometry"`
	Properties reachLineProps `json:"properties"`
}

type reachLinesJSON struct {
	Type         string             `json:"type"`
	MaxDistanceM float64            `json:"max_distance_m"`
	Summary      reachSummaryJSON   `json:"summary"`
	Features     []reachLineFeature `json:"features"`
}

// metres rounds a distance to the centimetre, the precision the stores
// promise.
func metres(d float64) float64 { return math.Round(d*100) / 100 }

// coordsOf returns p as GeoJSON coordinates, rounded as stored features are.
func coordsOf(p orb.Point) []float64 {
	q := geo.Normalize(p).(orb.Point)
	return []float64{q[0], q[1]}
}

// handleNearestDepots serves GET /analysis/nearest-depots: the k depots
// nearest to a point by ellipsoidal distance, with their readiness,
// optionally only ready (or not ready) ones of a category.
func (s *Server) handleNearestDepots(w http.ResponseWriter, r *http.Request) {
	q, err := ParseNearestDepotsQuery(r.URL.Query())
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
func nearestDepotsBody(q NearestDepotsQuery, nearest []geo.Neighbor, depots []*geo.Feature) (nearestDepotsJSON, error) {
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
			DistanceM: metres(n.DistanceM), Geometry: pointGeometry{Type: "Point", Coordinates: coordsOf(n.Point)}})
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
	p, err := ParseReachQuery(r.URL.Query())
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
	rs, err := s.cache.get(ctx, key, group, sum, func(ctx context.Context) (*response, error) {
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
func reachCollections(p ReachParams) []string {
	return append([]string{geo.Depots}, p.Query.Collections...)
}

// reachVersions returns the data versions of the collections p reads, as
// stamp gives them: as text (for keys and ETags), their sum, and the time
// of the latest write to any of them.
func reachVersions(p ReachParams, stamp func(c string) (geo.Stamp, error)) (versions string, sum int64, modified time.Time, err error) {
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
func (s *Server) buildReach(ctx context.Context, p ReachParams) (*response, error) {
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
		rep, err = geo.ReachOf(ctx, v, p.Query)
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
		body, err = marshal(reachLines(rep))
		ctype = typeGeoJSON
	} else {
		body, err = marshal(reachBody(rep))
		ctype = typeJSON
	}
	if err != nil {
		return nil, err
	}
	return &response{body: body, ctype: ctype, version: sum, modified: modified,
		etag: makeETag(sum, "reach", p.Canonical(), versions)}, nil
}

func summaryOf(s geo.ReachSummary) reachSummaryJSON {
	return reachSummaryJSON{Hazards: s.Hazards, Within: s.Within, Beyond: s.Beyond, Unlocated: s.Unlocated, NoDepot: s.NoDepot,
		Uncertain: s.Uncertain}
}

// reachBody is the JSON form of a reach report.
func reachBody(rep *geo.ReachReport) reachJSON {
	out := reachJSON{MaxDistanceM: rep.Options.MaxDistanceM, Collections: rep.Collections, Filters: filtersOf(rep.Options.Filter),
		Summary: summaryOf(rep.Summary), Hazards: make([]hazardReachJSON, 0, len(rep.Hazards))}
	for _, h := range rep.Hazards {
		hj := hazardReachJSON{Collection: h.Collection, ID: h.ID, Name: h.Name, Kind: h.Kind, Located: h.Located, Result: h.Result,
			Skipped: make([]skippedDepotJSON, 0, len(h.Skipped)), PrecisionM: h.PrecisionM, Uncertain: h.Uncertain}
		if h.Depot != nil {
			hj.Depot = &reachDepotJSON{ID: h.Depot.ID, Name: h.Depot.Name, DistanceM: metres(h.Depot.DistanceM), Ready: h.Depot.Ready,
				PrecisionM: h.Depot.PrecisionM}
		}
		for _, sk := range h.Skipped {
			hj.Skipped = append(hj.Skipped, skippedDepotJSON{ID: sk.ID, Name: sk.Name, DistanceM: metres(sk.DistanceM), Reasons: sk.Reasons, Why: sk.Why})
		}
		out.Hazards = append(out.Hazards, hj)
	}
	return out
}

// reachLines is the GeoJSON form of a reach report: a LineString from each
// located hazard's representative point to its depot (straight in
// longitude/latitude, for drawing; the distance is the geodesic one); a
// Point at the hazard when no depot qualifies (no_depot); a null geometry
// for an unlocated hazard. Every hazard is a feature, none is dropped.
func reachLines(rep *geo.ReachReport) reachLinesJSON {
	out := reachLinesJSON{Type: "FeatureCollection", MaxDistanceM: rep.Options.MaxDistanceM, Summary: summaryOf(rep.Summary),
		Features: make([]reachLineFeature, 0, len(rep.Hazards))}
	for _, h := range rep.Hazards {
		f := reachLineFeature{Type: "Feature", ID: h.Collection + "/" + h.ID, Properties: reachLineProps{
			HazardCollection: h.Collection, HazardID: h.ID, HazardName: h.Name, Result: h.Result, Uncertain: h.Uncertain}}
		switch {
		case h.Depot != nil:
			id, name, d := h.Depot.ID, h.Depot.Name, metres(h.Depot.DistanceM)
			f.Properties.DepotID, f.Properties.DepotName, f.Properties.DistanceM = &id, &name, &d
			f.Geometry = obj{"type": "LineString", "coordinates": [][]float64{coordsOf(h.Point), coordsOf(h.Depot.Point)}}
		case h.Located:
			f.Geometry = pointGeometry{Type: "Point", Coordinates: coordsOf(h.Point)}
		}
		out.Features = append(out.Features, f)
	}
	return out
}
