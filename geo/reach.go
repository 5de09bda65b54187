package geo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Reach analysis: for every hazard (waterlogging point, riverbed
// settlement), the nearest depot that a filter keeps (by default: ready),
// its ellipsoidal distance, whether that is within the planner's
// threshold, and the nearer depots that were passed over and why.
//
// The computation is the pure function Reach over the hazards, the depots
// and a nearest-depot finder (View.NearestDepots), so both stores share
// it and can only differ in the finder, which the conformance suite checks
// against brute force.
//
// Where a hazard is: RepresentativePoint of its geometry. Distances are
// from that point to the depot's point (depots are Points); a hazard with
// no geometry is "unlocated" and listed as such, never dropped.

// Reach results of one hazard.
const (
	// ReachWithin: the nearest kept depot is at most MaxDistanceM away.
	ReachWithin = "within"
	// ReachBeyond: the nearest kept depot is farther than MaxDistanceM.
	ReachBeyond = "beyond"
	// ReachUnlocated: the hazard has no geometry.
	ReachUnlocated = "unlocated"
	// ReachNoDepot: no located depot passes the filter.
	ReachNoDepot = "no_depot"
)

// KindRelocationSite is HazardReach.Kind of a riverbed settlement; the
// waterlogging points have their own kind property.
const KindRelocationSite = "relocation_site"

// Bounds of ReachQuery.MaxDistanceM and its default.
const (
	DefaultReachDistanceM = 3000
	MinReachDistanceM     = 1
	MaxReachDistanceM     = 1e6
)

// HazardCollections are the collections whose features Reach accepts as
// hazards, in report order.
func HazardCollections() []string { return []string{WaterloggingPoints, RelocationSites} }

// NearestQuery asks View.NearestDepots for the K depots nearest to each
// of Points among those Filter keeps.
type NearestQuery struct {
	// Points are [longitude, latitude] in degrees (WGS-84).
	Points []orb.Point
	// K is how many depots to return per point, at least 1.
	K int
	// Filter selects the depots; the zero value keeps all.
	Filter DepotFilter
}

// Check returns an Invalid error when q cannot be answered: K below 1 or a
// bad filter. Points that are not valid positions are not an error (their
// answer is empty).
func (q NearestQuery) Check() error {
	if q.K < 1 {
		return InvalidField("k", "want at least 1, got %d", q.K)
	}
	return q.Filter.Check()
}

// ValidPoint reports whether p is a position Distance is defined for: a
// finite longitude and a latitude in [-90, 90].
func ValidPoint(p orb.Point) bool { return nnValid(p) }

// DepotFinder answers nearest-depot queries as View.NearestDepots does.
type DepotFinder func(ctx context.Context, q NearestQuery) ([][]Neighbor, error)

// NearestDepotsIn answers q by brute force over depots, the reference that
// both stores must agree with (and what the tests compare them to): for
// each point, every located Point depot that q.Filter keeps, sorted by
// (Distance, ID), cut to q.K.
func NearestDepotsIn(depots []*Feature, q NearestQuery) ([][]Neighbor, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var kept []*Feature
	for _, d := range depots {
		if _, ok := d.Geometry.(orb.Point); ok && ValidPoint(d.Geometry.(orb.Point)) && q.Filter.Keep(d.Properties) {
			kept = append(kept, d)
		}
	}
	out := make([][]Neighbor, len(q.Points))
	for i, p := range q.Points {
		out[i] = []Neighbor{}
		if !ValidPoint(p) {
			continue
		}
		all := make([]Neighbor, 0, len(kept))
		for _, d := range kept {
			dp := d.Geometry.(orb.Point)
			all = append(all, Neighbor{ID: d.ID, Point: dp, DistanceM: Distance(p, dp)})
		}
		slices.SortStableFunc(all, compareNeighbors)
		out[i] = all[:min(q.K, len(all))]
	}
	return out, nil
}

// compareNeighbors orders by distance, then id.
func compareNeighbors(a, b Neighbor) int {
	switch {
	case a.DistanceM < b.DistanceM:
		return -1
	case a.DistanceM > b.DistanceM:
		return 1
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// RepresentativePoint returns the point that stands for g in distance
// analysis, and false for a nil (unlocated) or empty geometry:
//   - a Point is itself;
//   - a LineString or MultiLineString: the point halfway along it, by
//     ellipsoidal length (lines in order), so the point lies on the line;
//   - a Polygon or MultiPolygon (and anything else): its area centroid
//     computed in longitude/latitude degrees (holes subtracted). At county
//     scale this is within metres of the geodesic centroid; for a concave
//     shape it may lie outside the shape.
//
// Both stores and every report use this one function, so they agree.
func RepresentativePoint(g orb.Geometry) (orb.Point, bool) {
	switch t := g.(type) {
	case nil:
		return orb.Point{}, false
	case orb.Point:
		return t, ValidPoint(t)
	case orb.LineString:
		return halfway([]orb.LineString{t})
	case orb.MultiLineString:
		return halfway(t)
	}
	c, area := planar.CentroidArea(g)
	if (g.Dimensions() == 2 && area == 0) || !ValidPoint(c) {
		// A degenerate polygon (no area) or no usable centroid: the first
		// position of its outline.
		return firstPoint(g)
	}
	return c, true
}

// halfway returns the point at half the total ellipsoidal length of ls,
// interpolated linearly in degrees within its segment.
func halfway(ls []orb.LineString) (orb.Point, bool) {
	total := 0.0
	for _, l := range ls {
		for i := 1; i < len(l); i++ {
			total += Distance(l[i-1], l[i])
		}
	}
	if total == 0 || math.IsNaN(total) {
		for _, l := range ls {
			if len(l) > 0 && ValidPoint(l[0]) {
				return l[0], true
			}
		}
		return orb.Point{}, false
	}
	half, run := total/2, 0.0
	for _, l := range ls {
		for i := 1; i < len(l); i++ {
			d := Distance(l[i-1], l[i])
			if run+d >= half && d > 0 {
				t := (half - run) / d
				a, b := l[i-1], l[i]
				return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}, true
			}
			run += d
		}
	}
	last := ls[len(ls)-1]
	return last[len(last)-1], true
}

// firstPoint returns the first valid position of g.
func firstPoint(g orb.Geometry) (orb.Point, bool) {
	var out orb.Point
	found := false
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		if found {
			return
		}
		switch t := g.(type) {
		case orb.Point:
			if ValidPoint(t) {
				out, found = t, true
			}
		case orb.MultiPoint:
			for _, p := range t {
				walk(p)
			}
		case orb.LineString:
			walk(orb.MultiPoint(t))
		case orb.Ring:
			walk(orb.MultiPoint(t))
		case orb.Polygon:
			for _, r := range t {
				walk(r)
			}
		case orb.MultiPolygon:
			for _, p := range t {
				walk(p)
			}
		case orb.MultiLineString:
			for _, l := range t {
				walk(l)
			}
		case orb.Collection:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(g)
	return out, found
}

// Hazard is one feature to check the reach of, with its collection.
type Hazard struct {
	Collection string
	Feature    *Feature
}

// ReachQuery is a planner's reach question.
type ReachQuery struct {
	// MaxDistanceM is the threshold in metres: a depot at most this far
	// is "within".
	MaxDistanceM float64
	// Filter selects the depots that count; skipped are the nearer ones it
	// does not keep.
	Filter DepotFilter
	// Collections are the hazard collections (HazardCollections) to
	// check, in the order to report them. ReadReach reads these (all of
	// them when there are none); Reach, given the hazards, reports them
	// as the hazards' collections.
	Collections []string
}

// Check returns an Invalid error naming the field (max_distance_m,
// collections, category) when q cannot be used.
func (q ReachQuery) Check() error {
	if !(q.MaxDistanceM >= MinReachDistanceM && q.MaxDistanceM <= MaxReachDistanceM) {
		return InvalidField("max_distance_m", "want metres from %g to %g, got %g", float64(MinReachDistanceM), float64(MaxReachDistanceM), q.MaxDistanceM)
	}
	for i, c := range q.Collections {
		switch {
		case !slices.Contains(HazardCollections(), c):
			return InvalidField("collections", "%q is not a hazard collection; want a comma-separated list of %s", c, strings.Join(HazardCollections(), ", "))
		case slices.Contains(q.Collections[:i], c):
			return InvalidField("collections", "%s is listed twice", c)
		}
	}
	return q.Filter.Check()
}

// ParseHazardCollections reads a comma-separated, non-empty list of
// distinct hazard collections (as the collections parameter and the
// --collections flag give it), in the order to report them.
func ParseHazardCollections(raw string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(raw, ",") {
		out = append(out, strings.TrimSpace(c))
	}
	if err := (ReachQuery{MaxDistanceM: MinReachDistanceM, Collections: out}).Check(); err != nil {
		return nil, err
	}
	return out, nil
}

// ReachDepot is a depot as the reach report shows it.
type ReachDepot struct {
	ID        string
	Name      string
	Point     orb.Point
	DistanceM float64
	Ready     bool
	// PrecisionM is the depot's location_precision_m: how far the real
	// depot may be from Point; nil when the data does not say.
	PrecisionM *float64
}

// SkippedDepot is a depot nearer to a hazard than the one chosen (or, for
// no_depot, any located depot) that the filter did not keep.
type SkippedDepot struct {
	ReachDepot
	// Why is WhyNotReady or WhyWrongCategory.
	Why string
	// Reasons are the blocking readiness reasons (for WhyNotReady) or one
	// reason with code WhyWrongCategory naming the categories the depot
	// has. Never nil.
	Reasons []Reason
}

// HazardReach is the reach of one hazard.
type HazardReach struct {
	Collection string
	ID         string
	Name       string
	// Kind is the waterlogging point's kind, or KindRelocationSite.
	Kind string
	// Located says whether the hazard has a geometry; Point is its
	// RepresentativePoint when it does.
	Located bool
	Point   orb.Point
	// Result is ReachWithin, ReachBeyond, ReachUnlocated or ReachNoDepot.
	Result string
	// PrecisionM is the hazard's location_precision_m; nil when unknown.
	PrecisionM *float64
	// Uncertain is set on a within or beyond result that the positions'
	// stated precision could turn round: the distance is within
	// hazard precision + depot precision of MaxDistanceM, or either
	// precision is unknown. Most depots stand on their township seat with
	// a radius covering the township, so most results are uncertain until
	// the depots' addresses are surveyed.
	Uncertain bool
	// Depot is the nearest depot the filter keeps; nil when unlocated or
	// no_depot.
	Depot *ReachDepot
	// Skipped are the depots nearer than Depot that the filter did not
	// keep, nearest first; for no_depot every located depot. Never nil.
	Skipped []SkippedDepot
}

// ReachSummary counts the hazards by result, and how many of the within
// and beyond results are Uncertain.
type ReachSummary struct {
	Hazards, Within, Beyond, Unlocated, NoDepot int
	Uncertain                                   int
}

// ReachReport is the answer of Reach.
type ReachReport struct {
	// Query is the question answered; its Collections are those of the
	// hazards, in report order.
	Query   ReachQuery
	Summary ReachSummary
	// Hazards in the order given (by collection, then id when read from a
	// store). Never nil.
	Hazards []HazardReach
}

// reachFirstK is how many nearest depots Reach asks for first; it doubles
// for the hazards whose list holds no kept depot.
const reachFirstK = 8

// Reach checks every hazard against the depots: hazards in order, depots
// as read from the same View as find (their properties decide the filter
// and name the depots), find the nearest-depot search (View.NearestDepots).
// It is the computation of ReadReach, which reads its inputs from a View.
// The report's Query is q, its Collections those of q or, when q names
// none, those of the hazards in order.
//
// For each located hazard it walks the depots nearest first, with no
// filter: the first one o.Filter keeps is the chosen depot, the ones before
// it are Skipped. It asks find for the reachFirstK nearest and doubles K for
// the hazards that need more, up to F+1 where F is the number of located
// depots that the filter does not keep: at most F depots can come before a
// kept one, so F+1 always reaches it, or proves there is none (no_depot).
// Depots that find returns but depots lacks (a finder reading another
// snapshot) are ignored.
func Reach(ctx context.Context, hazards []Hazard, depots []*Feature, find DepotFinder, q ReachQuery) (*ReachReport, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	type depotInfo struct {
		f         *Feature
		readiness Readiness
		why       string
		keep      bool
	}
	info := make(map[string]*depotInfo, len(depots))
	failing := 0
	for _, d := range depots {
		why, keep := q.Filter.Why(d.Properties)
		info[d.ID] = &depotInfo{f: d, readiness: DepotReadiness(d.Properties), why: why, keep: keep}
		if p, ok := d.Geometry.(orb.Point); ok && ValidPoint(p) && !keep {
			failing++
		}
	}

	rep := &ReachReport{Query: q, Hazards: make([]HazardReach, len(hazards))}
	rep.Query.Collections = slices.Clone(q.Collections)
	var pending []int // indices of located hazards still to resolve
	for i, h := range hazards {
		if len(q.Collections) == 0 && !slices.Contains(rep.Query.Collections, h.Collection) {
			rep.Query.Collections = append(rep.Query.Collections, h.Collection)
		}
		hr := HazardReach{Collection: h.Collection, ID: h.Feature.ID, Skipped: []SkippedDepot{}}
		hr.Name, _ = h.Feature.Properties["name"].(string)
		hr.PrecisionM = precisionOf(h.Feature.Properties)
		if h.Collection == RelocationSites {
			hr.Kind = KindRelocationSite
		} else {
			hr.Kind, _ = h.Feature.Properties["kind"].(string)
		}
		hr.Point, hr.Located = RepresentativePoint(h.Feature.Geometry)
		if !hr.Located {
			hr.Point = orb.Point{}
			hr.Result = ReachUnlocated
		} else {
			pending = append(pending, i)
		}
		rep.Hazards[i] = hr
	}
	if rep.Query.Collections == nil {
		rep.Query.Collections = []string{}
	}

	depotOf := func(n Neighbor, d *depotInfo) ReachDepot {
		name, _ := d.f.Properties["name"].(string)
		return ReachDepot{ID: n.ID, Name: name, Point: n.Point, DistanceM: n.DistanceM, Ready: d.readiness.Ready,
			PrecisionM: precisionOf(d.f.Properties)}
	}
	skippedOf := func(n Neighbor, d *depotInfo) SkippedDepot {
		s := SkippedDepot{ReachDepot: depotOf(n, d), Why: d.why, Reasons: []Reason{}}
		switch d.why {
		case WhyNotReady:
			for _, r := range d.readiness.Reasons {
				if r.Blocking {
					s.Reasons = append(s.Reasons, r)
				}
			}
		case WhyWrongCategory:
			has := categoriesOf(d.f.Properties)
			s.Reasons = append(s.Reasons, Reason{Code: WhyWrongCategory, Blocking: true,
				DetailZH: fmt.Sprintf("物资类别不含%s（有：%s）", q.Filter.Category, has),
				DetailEN: fmt.Sprintf("does not stock %s (has: %s)", q.Filter.Category, has)})
		}
		return s
	}

	limit := failing + 1
	k := min(reachFirstK, limit)
	for len(pending) > 0 {
		pts := make([]orb.Point, len(pending))
		for j, i := range pending {
			pts[j] = rep.Hazards[i].Point
		}
		lists, err := find(ctx, NearestQuery{Points: pts, K: k})
		if err != nil {
			return nil, fmt.Errorf("geo: reach: nearest depots: %w", err)
		}
		if len(lists) != len(pts) {
			return nil, fmt.Errorf("geo: reach: nearest depots answered %d points of %d", len(lists), len(pts))
		}
		var next []int
		for j, i := range pending {
			list := lists[j]
			chosen := -1
			for x, n := range list {
				if d, ok := info[n.ID]; ok && d.keep {
					chosen = x
					break
				}
			}
			if chosen < 0 && len(list) >= k && k < limit {
				next = append(next, i) // ask again with a larger k
				continue
			}
			hr := &rep.Hazards[i]
			end := len(list)
			if chosen >= 0 {
				end = chosen
				n := list[chosen]
				d := depotOf(n, info[n.ID])
				hr.Depot = &d
				hr.Result = ReachBeyond
				if n.DistanceM <= q.MaxDistanceM {
					hr.Result = ReachWithin
				}
				hr.Uncertain = hr.PrecisionM == nil || d.PrecisionM == nil ||
					math.Abs(n.DistanceM-q.MaxDistanceM) <= *hr.PrecisionM+*d.PrecisionM
			} else {
				hr.Result = ReachNoDepot
			}
			for _, n := range list[:end] {
				if d, ok := info[n.ID]; ok {
					hr.Skipped = append(hr.Skipped, skippedOf(n, d))
				}
			}
		}
		pending = next
		k = min(2*k, limit)
	}

	for _, h := range rep.Hazards {
		rep.Summary.Hazards++
		switch h.Result {
		case ReachWithin:
			rep.Summary.Within++
		case ReachBeyond:
			rep.Summary.Beyond++
		case ReachUnlocated:
			rep.Summary.Unlocated++
		case ReachNoDepot:
			rep.Summary.NoDepot++
		}
		if h.Uncertain {
			rep.Summary.Uncertain++
		}
	}
	return rep, nil
}

// precisionOf returns a feature's location_precision_m, nil when it has
// none.
func precisionOf(props map[string]any) *float64 {
	if p, ok := props["location_precision_m"].(float64); ok && p >= 0 && !math.IsInf(p, 0) {
		return &p
	}
	return nil
}

// categoriesOf lists a depot's categories for a message ("-" for none).
func categoriesOf(props map[string]any) string {
	list, _ := props["categories"].([]any)
	s := ""
	for _, x := range list {
		if c, ok := x.(string); ok {
			if s != "" {
				s += ","
			}
			s += c
		}
	}
	if s == "" {
		return "-"
	}
	return s
}

// ReadReach reads the hazards of q.Collections (all of them when none)
// and the depots from v and runs Reach with v.NearestDepots, so the report
// is of the one snapshot that v is (and of the versions that v.Stamp
// gives).
func ReadReach(ctx context.Context, v View, q ReachQuery) (*ReachReport, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	cols := q.Collections
	if len(cols) == 0 {
		cols = HazardCollections()
	}
	var hazards []Hazard
	for _, c := range cols {
		fs, _, err := v.Features(ctx, c, Query{})
		if err != nil {
			return nil, fmt.Errorf("geo: reach: read %s: %w", c, err)
		}
		for _, f := range fs {
			hazards = append(hazards, Hazard{Collection: c, Feature: f})
		}
	}
	depots, _, err := v.Features(ctx, Depots, Query{})
	if err != nil {
		return nil, fmt.Errorf("geo: reach: read depots: %w", err)
	}
	q.Collections = cols
	return Reach(ctx, hazards, depots, v.NearestDepots, q)
}
