package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// The cases of this file check View.NearestDepots against brute force
// (geo.NearestDepotsIn over the store's own depots) and the reach report
// built on it (geo.ReadReach) against the same report built on brute force,
// so that both stores give identical results.

// distanceTolM is how far a store's distance may be from geo.Distance:
// one centimetre, the agreement promised with PostGIS geography.
const distanceTolM = 0.01

// tieTolM is how close two brute-force distances must be for either order
// of the two depots to be accepted (a tie within floating-point noise).
const tieTolM = 1e-6

// countyBox is where the random depots and queries fall: Xingyang and its
// surroundings.
var countyBox = orb.Bound{Min: orb.Point{113.13, 34.58}, Max: orb.Point{113.55, 35.00}}

// reachCases are the cases of this file, run by Run like the others.
func reachCases() []struct {
	name string
	run  func(t *testing.T, s geo.Store)
} {
	return []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"NearestDepotsEqualsBruteForce", nearestBruteForce},
		{"NearestDepotsFiltersAndEdges", nearestEdges},
		{"NearestDepotsFollowWrites", nearestFollowsWrites},
		{"ReachEqualsBruteForce", reachBruteForce},
	}
}

// randomIn returns a point in b, rounded as the stores keep coordinates.
func randomIn(rng *rand.Rand, b orb.Bound) orb.Point {
	p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	return geo.Normalize(p).(orb.Point)
}

// randomDepot returns a depot with random readiness attributes and
// categories (nil attributes included), so that every filter keeps some
// and rejects some.
func randomDepot(rng *rand.Rand, id string, p orb.Point) *geo.Feature {
	tri := func() any {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return true
		}
		return false
	}
	floors := []any{nil, 1.0, 1.0, 1.0, 2.0, 4.0}
	cats := []any{}
	for _, c := range geo.DepotCategories() {
		if rng.IntN(2) == 0 {
			cats = append(cats, c)
		}
	}
	inv := []any{}
	team := any(nil)
	if rng.IntN(4) == 0 {
		team = float64(10 + rng.IntN(60))
		inv = append(inv, map[string]any{"item": "铁锹", "quantity": float64(rng.IntN(80)), "unit": "把"})
	}
	return &geo.Feature{ID: id, Geometry: p, Properties: map[string]any{
		"name": "随机仓库 " + id, "level": "village", "location_source": "storetest random depot",
		"floor": floors[rng.IntN(len(floors))], "has_lift": tri(), "entrance_ok": tri(), "manual_door": tri(),
		"damp": tri(), "stock_matches_books": tri(), "categories": cats, "inventory": inv, "team_size": team,
	}}
}

// importDepots imports n random depots in b (and a few unlocated ones,
// which must never be returned) and returns every depot as stored.
func importDepots(t *testing.T, s geo.Store, rng *rand.Rand, n int, b orb.Bound) []*geo.Feature {
	t.Helper()
	fs := make([]*geo.Feature, 0, n+3)
	for i := range n {
		fs = append(fs, randomDepot(rng, fmt.Sprintf("d%04d", i), randomIn(rng, b)))
	}
	for i := range 3 {
		d := randomDepot(rng, fmt.Sprintf("u%d", i), orb.Point{})
		d.Geometry = nil
		fs = append(fs, d)
	}
	if err := s.Import(ctx, geo.Depots, fs); err != nil {
		t.Fatalf("Import(depots, %d random) = %v", len(fs), err)
	}
	stored, _, err := features(s, geo.Depots, geo.Query{})
	if err != nil {
		t.Fatalf("Features(depots) = %v", err)
	}
	return stored
}

// checkNearest compares the store's answer to q with brute force over
// depots: the same ids in the same order (either order for a tie within
// tieTolM) and distances equal to the centimetre.
func checkNearest(t *testing.T, s geo.Store, depots []*geo.Feature, q geo.NearestQuery, what string) {
	t.Helper()
	got, err := nearestDepots(s, q)
	if err != nil {
		t.Fatalf("%s: NearestDepots = %v", what, err)
	}
	want, err := geo.NearestDepotsIn(depots, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: NearestDepots answered %d points, want %d", what, len(got), len(want))
	}
	where := map[string]orb.Point{}
	for _, d := range depots {
		if p, ok := d.Geometry.(orb.Point); ok {
			where[d.ID] = p
		}
	}
	bad := 0
	for i := range want {
		if got[i] == nil {
			t.Fatalf("%s: point %d: nil list", what, i)
		}
		if len(got[i]) != len(want[i]) {
			t.Errorf("%s: point %d %v: %d depots, want %d", what, i, q.Points[i], len(got[i]), len(want[i]))
			bad++
			continue
		}
		for j := range want[i] {
			g, w := got[i][j], want[i][j]
			if g.ID != w.ID {
				p, ok := where[g.ID]
				if !ok || math.Abs(geo.Distance(q.Points[i], p)-w.DistanceM) > tieTolM {
					t.Errorf("%s: point %d %v, rank %d: depot %s at %.4f m, want %s at %.4f m",
						what, i, q.Points[i], j, g.ID, g.DistanceM, w.ID, w.DistanceM)
					bad++
				}
			}
			if math.Abs(g.DistanceM-w.DistanceM) > distanceTolM {
				t.Errorf("%s: point %d, rank %d (%s): distance %.6f m, want %.6f m", what, i, j, g.ID, g.DistanceM, w.DistanceM)
				bad++
			}
			if g.ID == w.ID && g.Point != w.Point {
				t.Errorf("%s: point %d, rank %d (%s): position %v, want %v", what, i, j, g.ID, g.Point, w.Point)
				bad++
			}
		}
		if bad > 10 {
			t.Fatalf("%s: too many differences", what)
		}
	}
}

// nearestBruteForce is the property test: 2000 random points in the
// county against 300 random depots, nearest depot equal to brute force,
// plus filtered and k > 1 queries and points anywhere on Earth (where the
// sphere and the spheroid differ most).
func nearestBruteForce(t *testing.T, s geo.Store) {
	rng := rand.New(rand.NewPCG(20240823, 20250210))
	depots := importDepots(t, s, rng, 300, countyBox)

	pts := make([]orb.Point, 2000)
	for i := range pts {
		pts[i] = orb.Point{countyBox.Min[0] + rng.Float64()*(countyBox.Max[0]-countyBox.Min[0]),
			countyBox.Min[1] + rng.Float64()*(countyBox.Max[1]-countyBox.Min[1])}
	}
	checkNearest(t, s, depots, geo.NearestQuery{Points: pts, K: 1}, "k=1")

	yes, no := true, false
	few := pts[:200]
	for _, f := range []geo.DepotFilter{{}, {Ready: &yes}, {Ready: &no}, {Category: "flood"}, {Ready: &yes, Category: "fire"}} {
		checkNearest(t, s, depots, geo.NearestQuery{Points: few, K: 5, Filter: f}, fmt.Sprintf("k=5 %+v", f))
	}

	// Anywhere on Earth, poles and the antimeridian included: distances up
	// to half the globe, where a sphere-only search would go wrong.
	world := []orb.Point{{113.34, 34.79}, {-66.66, -34.79}, {-66.5, -34.5}, {0, 90}, {0, -90}, {180, 0}, {-180, 0}, {113.34, -34.79}}
	for range 40 {
		world = append(world, orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90})
	}
	checkNearest(t, s, depots, geo.NearestQuery{Points: world, K: 3}, "world k=3")
	checkNearest(t, s, depots, geo.NearestQuery{Points: world, K: 2, Filter: geo.DepotFilter{Ready: &yes}}, "world ready")
}

// nearestEdges checks the edges of the contract: ties, k beyond the
// number of depots, invalid points, unlocated depots, bad queries.
func nearestEdges(t *testing.T, s geo.Store) {
	yes := true
	// An empty store answers with empty lists.
	got, err := nearestDepots(s, geo.NearestQuery{Points: []orb.Point{{113.3, 34.8}}, K: 3})
	if err != nil || len(got) != 1 || got[0] == nil || len(got[0]) != 0 {
		t.Fatalf("NearestDepots on no depots = %v, %v; want one empty list", got, err)
	}

	ready := depot("b-ready", orb.Point{113.40, 34.80}, 1, "flood")
	twin := depot("a-twin", orb.Point{113.40, 34.80}, 1, "flood") // same place: ties break by id
	upstairs := depot("c-4f", orb.Point{113.4009, 34.80}, 4, "flood", "fire")
	far := depot("d-far", orb.Point{113.2, 34.6}, 1, "relief")
	nowhere := depot("e-unlocated", nil, 1, "flood")
	for _, f := range []*geo.Feature{ready, twin, upstairs, far, nowhere} {
		mustCreate(t, s, geo.Depots, f)
	}
	all, _, err := features(s, geo.Depots, geo.Query{})
	if err != nil {
		t.Fatal(err)
	}
	p := orb.Point{113.4005, 34.8001}
	checkNearest(t, s, all, geo.NearestQuery{Points: []orb.Point{p}, K: 10}, "k beyond the count")

	got, err = nearestDepots(s, geo.NearestQuery{Points: []orb.Point{p, {math.NaN(), 34}, {113, 91}, {113.40, 34.80}}, K: 10})
	if err != nil {
		t.Fatal(err)
	}
	if ids := neighborIDs(got[0]); !reflect.DeepEqual(ids, []string{"c-4f", "a-twin", "b-ready", "d-far"}) {
		t.Errorf("NearestDepots(%v) = %v, want c-4f, a-twin, b-ready, d-far", p, ids)
	}
	if got[1] == nil || len(got[1]) != 0 || got[2] == nil || len(got[2]) != 0 {
		t.Errorf("invalid points: lists %v, %v; want empty", got[1], got[2])
	}
	if ids := neighborIDs(got[3]); len(ids) < 2 || ids[0] != "a-twin" || ids[1] != "b-ready" || got[3][0].DistanceM != 0 {
		t.Errorf("coincident point: %v, want a-twin, b-ready at 0 m first", got[3])
	}

	// ready=true skips the 4th floor without a lift; category keeps only
	// depots that stock it.
	got, err = nearestDepots(s, geo.NearestQuery{Points: []orb.Point{p}, K: 10, Filter: geo.DepotFilter{Ready: &yes}})
	if err != nil {
		t.Fatal(err)
	}
	if ids := neighborIDs(got[0]); !reflect.DeepEqual(ids, []string{"a-twin", "b-ready", "d-far"}) {
		t.Errorf("ready=true: %v, want a-twin, b-ready, d-far", ids)
	}
	got, err = nearestDepots(s, geo.NearestQuery{Points: []orb.Point{p}, K: 10, Filter: geo.DepotFilter{Category: "fire"}})
	if err != nil {
		t.Fatal(err)
	}
	if ids := neighborIDs(got[0]); !reflect.DeepEqual(ids, []string{"c-4f"}) {
		t.Errorf("category=fire: %v, want c-4f", ids)
	}
	got, err = nearestDepots(s, geo.NearestQuery{Points: []orb.Point{p}, K: 3, Filter: geo.DepotFilter{Ready: &yes, Category: "fire"}})
	if err != nil || len(got[0]) != 0 {
		t.Errorf("ready fire depots = %v, %v; want none", got, err)
	}

	_, err = nearestDepots(s, geo.NearestQuery{Points: []orb.Point{p}, K: 0})
	wantKind(t, "NearestDepots(k=0)", err, geo.Invalid)
	_, err = nearestDepots(s, geo.NearestQuery{Points: []orb.Point{p}, K: 1, Filter: geo.DepotFilter{Category: "food"}})
	wantKind(t, "NearestDepots(category=food)", err, geo.Invalid)
	got, err = nearestDepots(s, geo.NearestQuery{K: 1})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("NearestDepots(no points) = %v, %v; want an empty, non-nil slice", got, err)
	}
}

// nearestFollowsWrites checks that answers change with the depots: a new
// depot, a depot patched out of readiness, a deleted one.
func nearestFollowsWrites(t *testing.T, s geo.Store) {
	yes := true
	p := orb.Point{113.35, 34.75}
	q := geo.NearestQuery{Points: []orb.Point{p}, K: 1, Filter: geo.DepotFilter{Ready: &yes}}
	nearest := func(what string) string {
		t.Helper()
		got, err := nearestDepots(s, q)
		if err != nil {
			t.Fatalf("%s: NearestDepots = %v", what, err)
		}
		if len(got[0]) == 0 {
			return ""
		}
		return got[0][0].ID
	}
	mustCreate(t, s, geo.Depots, depot("far", orb.Point{113.45, 34.85}, 1))
	if got := nearest("one depot"); got != "far" {
		t.Fatalf("nearest = %q, want far", got)
	}
	near := mustCreate(t, s, geo.Depots, depot("near", orb.Point{113.351, 34.751}, 1))
	if got := nearest("after create"); got != "near" {
		t.Fatalf("after create: nearest = %q, want near", got)
	}
	if _, err := s.Patch(ctx, geo.Depots, "near", near.Version, geo.Patch{Properties: map[string]any{"damp": true}}); err != nil {
		t.Fatalf("Patch(near, damp) = %v", err)
	}
	if got := nearest("after damp"); got != "far" {
		t.Fatalf("after patching near damp: nearest ready = %q, want far", got)
	}
	f := mustGet(t, s, geo.Depots, "far")
	if err := s.Delete(ctx, geo.Depots, "far", f.Version); err != nil {
		t.Fatalf("Delete(far) = %v", err)
	}
	if got := nearest("after delete"); got != "" {
		t.Fatalf("after delete: nearest ready = %q, want none", got)
	}
}

// reachBruteForce builds a reach report over hazards of every shape from
// the store and from brute force and wants them equal; then checks the
// report's meaning on a hand-made case.
func reachBruteForce(t *testing.T, s geo.Store) {
	rng := rand.New(rand.NewPCG(7, 20))
	depots := importDepots(t, s, rng, 60, countyBox)

	var wps []*geo.Feature
	for i := range 40 {
		var g orb.Geometry = randomIn(rng, countyBox)
		switch i % 4 {
		case 1:
			a := randomIn(rng, countyBox)
			g = orb.LineString{a, geo.Normalize(orb.Point{a[0] + 0.01, a[1] + 0.005}).(orb.Point)}
		case 3:
			g = nil
		}
		wps = append(wps, point(fmt.Sprintf("wp%02d", i), g, nil))
	}
	if err := s.Import(ctx, geo.WaterloggingPoints, wps); err != nil {
		t.Fatalf("Import(waterlogging_points) = %v", err)
	}
	for i := range 6 {
		c := randomIn(rng, countyBox)
		ring := orb.Ring{c, {c[0] + 0.02, c[1]}, {c[0] + 0.02, c[1] + 0.01}, {c[0], c[1] + 0.01}, c}
		mustCreate(t, s, geo.RelocationSites, siteAt(fmt.Sprintf("rs%d", i), orb.Polygon{ring}))
	}

	yes := true
	for _, q := range []geo.ReachQuery{
		{MaxDistanceM: 3000, Filter: geo.DepotFilter{Ready: &yes}},
		{MaxDistanceM: 1500, Filter: geo.DepotFilter{Ready: &yes, Category: "fire"}},
		{MaxDistanceM: 5000},
	} {
		got, err := read(s, func(v geo.View) (*geo.ReachReport, error) { return geo.ReadReach(ctx, v, q) })
		if err != nil {
			t.Fatalf("ReadReach(%+v) = %v", q, err)
		}
		want, err := read(s, func(v geo.View) (*geo.ReachReport, error) { return geo.ReadReach(ctx, bruteView{v, depots}, q) })
		if err != nil {
			t.Fatal(err)
		}
		if got.Summary.Hazards != 46 || got.Summary.Unlocated != 10 {
			t.Errorf("ReadReach(%+v) summary %+v, want 46 hazards, 10 unlocated", q, got.Summary)
		}
		sameReach(t, fmt.Sprintf("%+v", q), got, want)
	}
}

// sameReach compares two reports, distances to the centimetre.
func sameReach(t *testing.T, what string, got, want *geo.ReachReport) {
	t.Helper()
	if got.Summary != want.Summary || !reflect.DeepEqual(got.Query.Collections, want.Query.Collections) || len(got.Hazards) != len(want.Hazards) {
		t.Fatalf("%s: summary %+v %v, want %+v %v", what, got.Summary, got.Query.Collections, want.Summary, want.Query.Collections)
	}
	for i := range want.Hazards {
		g, w := got.Hazards[i], want.Hazards[i]
		if (g.Depot == nil) != (w.Depot == nil) || g.Depot != nil && math.Abs(g.Depot.DistanceM-w.Depot.DistanceM) > distanceTolM {
			t.Errorf("%s: hazard %s: depot %+v, want %+v", what, w.ID, g.Depot, w.Depot)
			continue
		}
		if len(g.Skipped) != len(w.Skipped) {
			t.Errorf("%s: hazard %s: %d skipped, want %d", what, w.ID, len(g.Skipped), len(w.Skipped))
			continue
		}
		for j := range w.Skipped {
			if math.Abs(g.Skipped[j].DistanceM-w.Skipped[j].DistanceM) > distanceTolM {
				t.Errorf("%s: hazard %s skipped %d: %.4f m, want %.4f m", what, w.ID, j, g.Skipped[j].DistanceM, w.Skipped[j].DistanceM)
			}
			g.Skipped[j].DistanceM = w.Skipped[j].DistanceM
		}
		if g.Depot != nil {
			g.Depot.DistanceM = w.Depot.DistanceM
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: hazard %s:\n got %+v\nwant %+v", what, w.ID, g, w)
		}
	}
}

// bruteView is a view whose NearestDepots is brute force over depots.
type bruteView struct {
	geo.View
	depots []*geo.Feature
}

func (b bruteView) NearestDepots(_ context.Context, q geo.NearestQuery) ([][]geo.Neighbor, error) {
	return geo.NearestDepotsIn(b.depots, q)
}

func neighborIDs(ns []geo.Neighbor) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// siteAt returns a relocation site with geometry g.
func siteAt(id string, g orb.Geometry) *geo.Feature {
	return &geo.Feature{ID: id, Geometry: g, Properties: map[string]any{
		"name": "测试安置 " + id, "town": "汜水镇", "village": "老君堂村", "status": "in_progress",
		"location_source": "storetest fixture",
	}}
}
