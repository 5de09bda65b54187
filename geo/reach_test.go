package geo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

func TestRepresentativePoint(t *testing.T) {
	square := orb.Polygon{{{113, 34}, {113.02, 34}, {113.02, 34.02}, {113, 34.02}, {113, 34}}}
	holed := orb.Polygon{square[0], {{113.01, 34}, {113.02, 34}, {113.02, 34.02}, {113.01, 34.02}, {113.01, 34}}}
	for _, tc := range []struct {
		name string
		g    orb.Geometry
		want orb.Point
		ok   bool
	}{
		{"nil", nil, orb.Point{}, false},
		{"point", orb.Point{113.3, 34.8}, orb.Point{113.3, 34.8}, true},
		{"invalid point", orb.Point{113, 95}, orb.Point{113, 95}, false},
		{"two-point line: its middle", orb.LineString{{113.3, 34.8}, {113.32, 34.8}}, orb.Point{113.31, 34.8}, true},
		{"line of one repeated point", orb.LineString{{113.3, 34.8}, {113.3, 34.8}}, orb.Point{113.3, 34.8}, true},
		{"square: its centre", square, orb.Point{113.01, 34.01}, true},
		{"hole in the east half: centre of the west half", holed, orb.Point{113.005, 34.01}, true},
		{"multipolygon", orb.MultiPolygon{square}, orb.Point{113.01, 34.01}, true},
		{"degenerate polygon", orb.Polygon{{{113, 34}, {113.1, 34}, {113, 34}, {113, 34}}}, orb.Point{113, 34}, true},
	} {
		got, ok := RepresentativePoint(tc.g)
		if ok != tc.ok || ok && (math.Abs(got[0]-tc.want[0]) > 1e-9 || math.Abs(got[1]-tc.want[1]) > 1e-9) {
			t.Errorf("%s: RepresentativePoint = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	// A bent line: the point is on the line, half the length from each end.
	bent := orb.LineString{{113.3, 34.8}, {113.3, 34.81}, {113.33, 34.81}}
	p, _ := RepresentativePoint(bent)
	if p[1] != 34.81 || math.Abs(Distance(bent[0], bent[1])+Distance(bent[1], p)-Distance(p, bent[2])) > 1e-3 {
		t.Errorf("bent line: %v is not halfway along it", p)
	}
}

// reachDepot returns a located depot; bad makes it damp (not ready).
func reachDepot(id string, p orb.Point, bad bool, cats ...any) *Feature {
	props := map[string]any{"name": "仓库" + id, "floor": 1.0, "damp": bad, "categories": append([]any{}, cats...)}
	var g orb.Geometry
	if p != (orb.Point{}) {
		g = p
	}
	return &Feature{ID: id, Geometry: g, Properties: props}
}

func bruteFinder(depots []*Feature) DepotFinder {
	return func(_ context.Context, q NearestQuery) ([][]Neighbor, error) { return NearestDepotsIn(depots, q) }
}

func TestReach(t *testing.T) {
	ctx := context.Background()
	h := orb.Point{113.30, 34.80}
	east := func(m float64) orb.Point { // a point m metres east of h (about)
		return orb.Point{h[0] + m/91300, h[1]}
	}
	depots := []*Feature{
		reachDepot("near-damp", east(500), true, "flood"),
		reachDepot("mid-fire", east(1000), false, "fire"),
		reachDepot("far-ok", east(4000), false, "flood"),
		reachDepot("nowhere", orb.Point{}, false, "flood"),
	}
	hazards := []Hazard{
		{WaterloggingPoints, &Feature{ID: "wp-1", Geometry: h, Properties: map[string]any{"name": "积水点", "kind": "railway_underpass"}}},
		{WaterloggingPoints, &Feature{ID: "wp-2", Properties: map[string]any{"name": "未具名", "kind": "road_spot"}}},
		{RelocationSites, &Feature{ID: "rs-1", Geometry: east(3900), Properties: map[string]any{"name": "村"}}},
	}
	yes := true

	rep, err := Reach(ctx, hazards, depots, bruteFinder(depots), ReachQuery{MaxDistanceM: 3000, Filter: DepotFilter{Ready: &yes}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (ReachSummary{Hazards: 3, Within: 2, Beyond: 0, Unlocated: 1, NoDepot: 0, Uncertain: 2}); rep.Summary != want { // no precisions: uncertain
		// wp-1: nearest ready is mid-fire at ~1 km (within); rs-1: far-ok at ~100 m.
		t.Errorf("summary %+v, want %+v", rep.Summary, want)
	}
	wp1 := rep.Hazards[0]
	if wp1.Result != ReachWithin || wp1.Depot == nil || wp1.Depot.ID != "mid-fire" || !wp1.Depot.Ready || wp1.Kind != "railway_underpass" {
		t.Errorf("wp-1: %+v", wp1)
	}
	if len(wp1.Skipped) != 1 || wp1.Skipped[0].ID != "near-damp" || wp1.Skipped[0].Why != WhyNotReady ||
		!reflect.DeepEqual(codes(wp1.Skipped[0].Reasons), []string{ReasonDamp}) {
		t.Errorf("wp-1 skipped: %+v", wp1.Skipped)
	}
	if wp2 := rep.Hazards[1]; wp2.Result != ReachUnlocated || wp2.Located || wp2.Depot != nil || wp2.Skipped == nil || len(wp2.Skipped) != 0 {
		t.Errorf("wp-2: %+v", wp2)
	}
	if rs := rep.Hazards[2]; rs.Kind != KindRelocationSite || rs.Depot == nil || rs.Depot.ID != "far-ok" || len(rs.Skipped) != 0 {
		t.Errorf("rs-1: %+v", rs)
	}
	if !slices.Equal(rep.Query.Collections, []string{WaterloggingPoints, RelocationSites}) {
		t.Errorf("collections %v", rep.Query.Collections)
	}

	// Only flood depots that are ready: wp-1 passes over near-damp (not
	// ready) and mid-fire (wrong category) to far-ok, 4 km: beyond.
	rep, err = Reach(ctx, hazards, depots, bruteFinder(depots), ReachQuery{MaxDistanceM: 3000, Filter: DepotFilter{Ready: &yes, Category: "flood"}})
	if err != nil {
		t.Fatal(err)
	}
	wp1 = rep.Hazards[0]
	if wp1.Result != ReachBeyond || wp1.Depot.ID != "far-ok" || wp1.Depot.DistanceM < 3900 || len(wp1.Skipped) != 2 ||
		wp1.Skipped[1].Why != WhyWrongCategory || wp1.Skipped[1].Reasons[0].Code != WhyWrongCategory {
		t.Errorf("flood only: wp-1 %+v", wp1)
	}

	// Nothing stocks relief: no_depot, every located depot skipped.
	rep, err = Reach(ctx, hazards, depots, bruteFinder(depots), ReachQuery{MaxDistanceM: 3000, Filter: DepotFilter{Category: "relief"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.NoDepot != 2 || rep.Hazards[0].Result != ReachNoDepot || len(rep.Hazards[0].Skipped) != 3 || rep.Hazards[0].Depot != nil {
		t.Errorf("relief: %+v", rep)
	}

	// The threshold is inclusive.
	rep, err = Reach(ctx, hazards[:1], depots, bruteFinder(depots), ReachQuery{MaxDistanceM: Distance(h, east(1000))})
	if err != nil || rep.Hazards[0].Result != ReachWithin || rep.Hazards[0].Depot.ID != "near-damp" {
		t.Errorf("threshold at the depot's distance: %+v, %v", rep, err)
	}
}

// TestReachManySkipped has more unready depots nearer than the first ready
// one than Reach first asks for, so it has to ask again with a larger k.
func TestReachManySkipped(t *testing.T) {
	ctx := context.Background()
	h := orb.Point{113.30, 34.80}
	var depots []*Feature
	for i := range 37 {
		depots = append(depots, reachDepot(fmt.Sprintf("bad%02d", i), orb.Point{h[0] + float64(i+1)*1e-3, h[1]}, true))
	}
	depots = append(depots, reachDepot("good", orb.Point{h[0] + 0.1, h[1]}, false))
	asked := []int{}
	find := func(ctx context.Context, q NearestQuery) ([][]Neighbor, error) {
		asked = append(asked, q.K)
		return NearestDepotsIn(depots, q)
	}
	yes := true
	rep, err := Reach(ctx, []Hazard{{WaterloggingPoints, &Feature{ID: "w", Geometry: h, Properties: map[string]any{}}}}, depots, find,
		ReachQuery{MaxDistanceM: 1e6, Filter: DepotFilter{Ready: &yes}})
	if err != nil {
		t.Fatal(err)
	}
	if hr := rep.Hazards[0]; hr.Depot == nil || hr.Depot.ID != "good" || len(hr.Skipped) != 37 || hr.Skipped[0].ID != "bad00" {
		t.Errorf("hazard %+v", hr)
	}
	if !slices.Equal(asked, []int{8, 16, 32, 38}) {
		t.Errorf("asked for k = %v, want 8, 16, 32, 38 (F+1)", asked)
	}
}

// TestReachRandom compares Reach with a direct computation on random data.
func TestReachRandom(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	pt := func() orb.Point { return orb.Point{113.13 + r.Float64()*0.42, 34.58 + r.Float64()*0.42} }
	var depots []*Feature
	for i := range 50 {
		depots = append(depots, reachDepot(fmt.Sprintf("d%02d", i), pt(), r.IntN(3) == 0, []any{"flood", "fire"}[r.IntN(2)]))
	}
	var hazards []Hazard
	for i := range 200 {
		hazards = append(hazards, Hazard{WaterloggingPoints, &Feature{ID: fmt.Sprintf("h%03d", i), Geometry: pt(), Properties: map[string]any{}}})
	}
	yes := true
	o := ReachQuery{MaxDistanceM: 3000, Filter: DepotFilter{Ready: &yes, Category: "flood"}}
	rep, err := Reach(ctx, hazards, depots, bruteFinder(depots), o)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hazards {
		p := h.Feature.Geometry.(orb.Point)
		all, _ := NearestDepotsIn(depots, NearestQuery{Points: []orb.Point{p}, K: len(depots)})
		var skipped []string
		chosen := ""
		for _, n := range all[0] {
			d := depots[slices.IndexFunc(depots, func(f *Feature) bool { return f.ID == n.ID })]
			if o.Filter.Keep(d.Properties) {
				chosen = n.ID
				break
			}
			skipped = append(skipped, n.ID)
		}
		hr := rep.Hazards[i]
		var gotSkipped []string
		for _, s := range hr.Skipped {
			gotSkipped = append(gotSkipped, s.ID)
		}
		if hr.Depot == nil || hr.Depot.ID != chosen || !slices.Equal(gotSkipped, skipped) {
			t.Fatalf("hazard %d: depot %+v skipped %v; want %s skipped %v", i, hr.Depot, gotSkipped, chosen, skipped)
		}
	}
}

func TestReachUncertain(t *testing.T) {
	ctx := context.Background()
	h := orb.Point{113.30, 34.80}
	d := orb.Point{113.30 + 1000.0/91300, 34.80} // about 1 km east
	for _, tc := range []struct {
		hazardPrec, depotPrec any
		max                   float64
		result                string
		uncertain             bool
	}{
		{25.0, 100.0, 3000, ReachWithin, false},
		{25.0, 9000.0, 3000, ReachWithin, true}, // a township stand-in: could be anywhere in the township
		{25.0, 100.0, 1100, ReachWithin, true},  // 1 km ± 125 m against 1.1 km
		{25.0, 100.0, 900, ReachBeyond, true},   // 1 km ± 125 m against 900 m
		{25.0, 100.0, 500, ReachBeyond, false},
		{nil, 100.0, 3000, ReachWithin, true}, // unknown precision
		{25.0, nil, 3000, ReachWithin, true},
	} {
		depots := []*Feature{{ID: "d", Geometry: d, Properties: map[string]any{"name": "d", "location_precision_m": tc.depotPrec}}}
		hz := []Hazard{{WaterloggingPoints, &Feature{ID: "w", Geometry: h, Properties: map[string]any{"location_precision_m": tc.hazardPrec}}}}
		rep, err := Reach(ctx, hz, depots, bruteFinder(depots), ReachQuery{MaxDistanceM: tc.max})
		if err != nil {
			t.Fatal(err)
		}
		got := rep.Hazards[0]
		if got.Result != tc.result || got.Uncertain != tc.uncertain || (rep.Summary.Uncertain == 1) != tc.uncertain {
			t.Errorf("precisions %v + %v, max %v: %s uncertain=%v (summary %+v); want %s uncertain=%v",
				tc.hazardPrec, tc.depotPrec, tc.max, got.Result, got.Uncertain, rep.Summary, tc.result, tc.uncertain)
		}
	}
}

func TestReachErrors(t *testing.T) {
	ctx := context.Background()
	find := bruteFinder(nil)
	for _, o := range []ReachQuery{{MaxDistanceM: 0}, {MaxDistanceM: 2e6}, {MaxDistanceM: math.NaN()}, {MaxDistanceM: 10, Filter: DepotFilter{Category: "x"}}} {
		if _, err := Reach(ctx, nil, nil, find, o); KindOf(err) != Invalid {
			t.Errorf("Reach(%+v) = %v, want Invalid", o, err)
		}
	}
	boom := errors.New("boom")
	hz := []Hazard{{WaterloggingPoints, &Feature{ID: "w", Geometry: orb.Point{113, 34}, Properties: map[string]any{}}}}
	_, err := Reach(ctx, hz, nil, func(context.Context, NearestQuery) ([][]Neighbor, error) { return nil, boom }, ReachQuery{MaxDistanceM: 10})
	if !errors.Is(err, boom) {
		t.Errorf("Reach with a failing finder = %v, want it wrapped", err)
	}
	if err := (ReachQuery{MaxDistanceM: 10, Collections: []string{Depots}}).Check(); KindOf(err) != Invalid {
		t.Errorf("ReachQuery over depots: Check = %v, want Invalid", err)
	}
	// No hazards: an empty, non-nil report.
	rep, err := Reach(ctx, nil, nil, find, ReachQuery{MaxDistanceM: 10})
	if err != nil || rep.Hazards == nil || rep.Query.Collections == nil || rep.Summary != (ReachSummary{}) {
		t.Errorf("Reach(no hazards) = %+v, %v", rep, err)
	}
}

func ExampleReach() {
	yes := true
	depots := []*Feature{
		{ID: "depot-4f", Geometry: orb.Point{113.4240, 34.7716}, Properties: map[string]any{"name": "街道办4楼仓库", "floor": 4.0}},
		{ID: "depot-road", Geometry: orb.Point{113.4284, 34.7600}, Properties: map[string]any{"name": "飞龙路仓库", "floor": 1.0}},
	}
	hazards := []Hazard{{Collection: WaterloggingPoints, Feature: &Feature{ID: "wp-1", Geometry: orb.Point{113.4230, 34.7720},
		Properties: map[string]any{"name": "积水点", "kind": "road_spot"}}}}
	find := func(_ context.Context, q NearestQuery) ([][]Neighbor, error) { return NearestDepotsIn(depots, q) }
	rep, _ := Reach(context.Background(), hazards, depots, find, ReachQuery{MaxDistanceM: 1000, Filter: DepotFilter{Ready: &yes}})
	h := rep.Hazards[0]
	fmt.Printf("%s → %s %.0f m: %s\n", h.ID, h.Depot.ID, h.Depot.DistanceM, h.Result)
	for _, s := range h.Skipped {
		fmt.Printf("skipped %s %.0f m (%s): %s\n", s.ID, s.DistanceM, s.Why, s.Reasons[0].Code)
	}
	// Output:
	// wp-1 → depot-road 1420 m: beyond
	// skipped depot-4f 102 m (not_ready): upper_floor_no_lift
}

// invalidField returns the one field an Invalid error names, or "".
func invalidField(err error) string {
	if e := AsError(err); e != nil && e.Kind == Invalid && len(e.Fields) == 1 {
		return e.Fields[0].Field
	}
	return ""
}

func TestParseReadyAndCollections(t *testing.T) {
	for raw, want := range map[string]*bool{"true": new(true), "false": new(false), "any": nil} {
		got, err := ParseReady(raw)
		if err != nil || (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("ParseReady(%q) = %v, %v", raw, got, err)
		}
	}
	for _, raw := range []string{"", "TRUE", "1", "yes", "null"} {
		if _, err := ParseReady(raw); invalidField(err) != "ready" {
			t.Errorf("ParseReady(%q) = %v, want an error on ready", raw, err)
		}
	}
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{"waterlogging_points", []string{"waterlogging_points"}},
		{"relocation_sites,waterlogging_points", []string{"relocation_sites", "waterlogging_points"}},
		{" relocation_sites , waterlogging_points ", []string{"relocation_sites", "waterlogging_points"}},
		{"depots", nil},
		{"waterlogging_points,waterlogging_points", nil},
		{"", nil},
		{"waterlogging_points,", nil},
	} {
		got, err := ParseHazardCollections(tc.raw)
		if tc.want == nil {
			if invalidField(err) != "collections" {
				t.Errorf("ParseHazardCollections(%q) = %v, %v; want an error on collections", tc.raw, got, err)
			}
		} else if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseHazardCollections(%q) = %v, %v; want %v", tc.raw, got, err, tc.want)
		}
	}
}
