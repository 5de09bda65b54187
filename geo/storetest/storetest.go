// Package storetest is the conformance suite that every geo.Store passes.
// A disagreement between backends becomes a new case here first.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// Opener returns an empty store for one subtest; the backend closes it
// (and removes its data) in t.Cleanup.
type Opener func(t *testing.T) geo.Store

// Reopener closes s and returns a store over the same data, as a restarted
// process would see it.
type Reopener func(t *testing.T, s geo.Store) geo.Store

// Run checks what every geo.Store must do. Each subtest gets its own empty
// store from open and may run in parallel with the others.
func Run(t *testing.T, open Opener, reopen Reopener) {
	cases := []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"CreateThenGet", createThenGet},
		{"CreateGeneratesID", createGeneratesID},
		{"CreateDuplicateConflicts", createDuplicate},
		{"CreateInvalidWritesNothing", createInvalid},
		{"NullGeometry", nullGeometry},
		{"UnknownCollection", unknownCollection},
		{"MissingFeature", missingFeature},
		{"ReplaceBumpsVersion", replaceBumpsVersion},
		{"StaleVersionConflicts", staleVersion},
		{"PatchMerges", patchMerges},
		{"PatchInvalidChangesNothing", patchInvalid},
		{"PatchGeometry", patchGeometry},
		{"Delete", deleteFeature},
		{"BBoxEdgeIsInclusive", bboxEdge},
		{"BBoxLineCrossingEdge", bboxLineCrossing},
		{"BBoxPolygon", bboxPolygon},
		{"Filters", filters},
		{"PagingAndTotals", paging},
		{"BadQueryIsInvalid", badQuery},
		{"DatetimeFiltersOnUpdated", datetimeFilter},
		{"NULCharacterIsInvalid", nulIsInvalid},
		{"EmptyResultIsNonNil", emptyNonNil},
		{"CollectionInfo", collectionInfo},
		{"ImportIsAllOrNothing", importAllOrNothing},
		{"SeedOnce", seedOnce},
		{"ConcurrentWriters", concurrentWriters},
		{"ReturnedFeaturesAreCopies", returnedCopies},
		{"NormalizesGeometry", normalizesGeometry},
		{"AppendFeaturesIsTheEncoding", appendFeatures}, // encoded.go
	}
	cases = append(cases, ledgerCases()...)
	cases = append(cases, reachCases()...)
	cases = append(cases, fieldCases()...) // field.go
	cases = append(cases, viewCases()...)
	cases = append(cases, batchCases()...) // batch.go
	cases = append(cases, waterCases()...)
	cases = append(cases, textCases()...) // text.go
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
	t.Run("PersistsAcrossReopen", func(t *testing.T) {
		t.Parallel()
		persists(t, open(t), reopen)
	})
	t.Run("LedgerPersistsAcrossReopen", func(t *testing.T) {
		t.Parallel()
		ledgerPersists(t, open(t), reopen)
	})
	t.Run("FieldPersistsAcrossReopen", func(t *testing.T) {
		t.Parallel()
		fieldPersists(t, open(t), reopen)
	})
	t.Run("WaterPersistsAcrossReopen", func(t *testing.T) {
		t.Parallel()
		waterPersists(t, open(t), reopen)
	})
}

// Fixtures.

var ctx = context.Background()

// point returns a valid waterlogging point id at g (nil for an unlocated
// one) with status.
func point(id string, g orb.Geometry, status any) *geo.Feature {
	return &geo.Feature{ID: id, Geometry: g, Properties: map[string]any{
		"name":                 "测试积水点 " + id,
		"kind":                 "road_spot",
		"status":               status,
		"measures":             []any{"抽排", "设置警示标志"},
		"location_source":      "storetest fixture",
		"location_precision_m": 25.0,
		"findings": []any{map[string]any{
			"finding": "逢雨必涝", "measure": "汛期预置人员", "result": "长期坚持", "ref": "（五）2",
		}},
	}}
}

func depot(id string, g orb.Geometry, floor int, categories ...any) *geo.Feature {
	if categories == nil {
		categories = []any{}
	}
	return &geo.Feature{ID: id, Geometry: g, Properties: map[string]any{
		"name":            "测试仓库 " + id,
		"level":           "township",
		"floor":           float64(floor),
		"damp":            false,
		"categories":      categories,
		"team_size":       0.0,
		"location_source": "storetest fixture",
		"inventory":       []any{map[string]any{"item": "铁锹", "quantity": 20.0, "unit": "把"}},
	}}
}

func mustCreate(t *testing.T, s geo.Store, c string, f *geo.Feature) *geo.Feature {
	t.Helper()
	if err := s.Create(ctx, c, f); err != nil {
		t.Fatalf("Create(%s, %q) = %v", c, f.ID, err)
	}
	return f
}

func mustGet(t *testing.T, s geo.Store, c, id string) *geo.Feature {
	t.Helper()
	f, err := s.Feature(ctx, c, id)
	if err != nil {
		t.Fatalf("Feature(%s, %q) = %v", c, id, err)
	}
	return f
}

func wantKind(t *testing.T, what string, err error, k geo.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s = nil error, want %v", what, k)
	}
	if got := geo.KindOf(err); got != k {
		t.Fatalf("%s = %v (kind %v), want kind %v", what, err, got, k)
	}
}

func ids(fs []*geo.Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func sameFeature(t *testing.T, what string, got, want *geo.Feature) {
	t.Helper()
	wantProps, err := geo.CanonicalProperties(want.Properties)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID {
		t.Errorf("%s: id %q, want %q", what, got.ID, want.ID)
	}
	if (got.Geometry == nil) != (want.Geometry == nil) ||
		got.Geometry != nil && !orb.Equal(got.Geometry, geo.Normalize(want.Geometry)) {
		t.Errorf("%s: geometry %v, want %v", what, got.Geometry, want.Geometry)
	}
	if !reflect.DeepEqual(got.Properties, wantProps) {
		t.Errorf("%s: properties\n got %#v\nwant %#v", what, got.Properties, wantProps)
	}
}

// read returns what get reads from a View of s of its own.
func read[T any](s geo.Store, get func(v geo.View) (T, error)) (T, error) {
	var out T
	err := s.Read(ctx, func(v geo.View) error {
		var err error
		out, err = get(v)
		return err
	})
	return out, err
}

// features, collection, collections and nearestDepots read from a View of
// their own.
func features(s geo.Store, c string, q geo.Query) (fs []*geo.Feature, n int, err error) {
	err = s.Read(ctx, func(v geo.View) error {
		fs, n, err = v.Features(ctx, c, q)
		return err
	})
	return fs, n, err
}

func collection(s geo.Store, c string) (geo.CollectionInfo, error) {
	return read(s, func(v geo.View) (geo.CollectionInfo, error) { return v.Collection(ctx, c) })
}

func collections(s geo.Store) ([]geo.CollectionInfo, error) {
	return read(s, func(v geo.View) ([]geo.CollectionInfo, error) { return v.Collections(ctx) })
}

func nearestDepots(s geo.Store, q geo.NearestQuery) ([][]geo.Neighbor, error) {
	return read(s, func(v geo.View) ([][]geo.Neighbor, error) { return v.NearestDepots(ctx, q) })
}

// query returns the ids and the total of Features(c, q), after checking
// that AppendFeatures gives their encoding (checkEncoded).
func query(t *testing.T, s geo.Store, c string, q geo.Query) ([]string, int) {
	t.Helper()
	fs, n, err := features(s, c, q)
	if err != nil {
		t.Fatalf("Features(%s, %+v) = %v", c, q, err)
	}
	checkEncoded(t, s, c, q)
	return ids(fs), n
}

// Cases.

func createThenGet(t *testing.T, s geo.Store) {
	f := point("a", orb.Point{113.40458, 34.798322}, "closed")
	want := f.Clone()
	mustCreate(t, s, geo.WaterloggingPoints, f)
	if f.Version != 1 || f.Updated.IsZero() {
		t.Errorf("after Create: version %d, updated %v; want 1 and a time", f.Version, f.Updated)
	}
	got := mustGet(t, s, geo.WaterloggingPoints, "a")
	sameFeature(t, "Feature(a)", got, want)
	if got.Version != 1 {
		t.Errorf("Feature(a).Version = %d, want 1", got.Version)
	}
	if !got.Updated.Equal(f.Updated) {
		t.Errorf("Feature(a).Updated = %v, want %v as Create reported", got.Updated, f.Updated)
	}
}

func createGeneratesID(t *testing.T, s geo.Store) {
	a := mustCreate(t, s, geo.Depots, depot("", orb.Point{113.4, 34.8}, 1, "flood"))
	b := mustCreate(t, s, geo.Depots, depot("", orb.Point{113.4, 34.8}, 1, "flood"))
	if a.ID == "" || b.ID == "" || a.ID == b.ID {
		t.Fatalf("generated ids %q and %q: want two different non-empty ids", a.ID, b.ID)
	}
	if err := geo.ValidateID(a.ID); err != nil {
		t.Errorf("generated id %q is not a valid id: %v", a.ID, err)
	}
	mustGet(t, s, geo.Depots, a.ID)
}

func createDuplicate(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Depots, depot("d1", orb.Point{113.4, 34.8}, 1))
	err := s.Create(ctx, geo.Depots, depot("d1", orb.Point{113.5, 34.9}, 2))
	wantKind(t, "Create(duplicate id)", err, geo.Conflict)
	if got := mustGet(t, s, geo.Depots, "d1"); got.Properties["floor"] != 1.0 {
		t.Errorf("duplicate Create changed the stored feature: floor %v", got.Properties["floor"])
	}
	// The same id in another collection is a different feature.
	mustCreate(t, s, geo.WaterloggingPoints, point("d1", nil, nil))
}

func createInvalid(t *testing.T, s geo.Store) {
	cases := []struct {
		name  string
		edit  func(f *geo.Feature)
		field string
	}{
		{"unknown property", func(f *geo.Feature) { f.Properties["colour"] = "red" }, "properties.colour"},
		{"wrong type", func(f *geo.Feature) { f.Properties["depth_cm"] = "deep" }, "properties.depth_cm"},
		{"bad enum", func(f *geo.Feature) { f.Properties["status"] = "flooded" }, "properties.status"},
		{"missing required", func(f *geo.Feature) { delete(f.Properties, "name") }, "properties.name"},
		{"null not allowed", func(f *geo.Feature) { f.Properties["kind"] = nil }, "properties.kind"},
		{"bad nested member", func(f *geo.Feature) {
			f.Properties["findings"] = []any{map[string]any{"finding": "x", "result": "done"}}
		}, "properties.findings[0].result"},
		{"lat/lon swapped", func(f *geo.Feature) { f.Geometry = orb.Point{34.8, 113.4} }, "geometry"},
		{"geometry type not allowed", func(f *geo.Feature) {
			f.Geometry = orb.Polygon{{{113, 34}, {113.1, 34}, {113.1, 34.1}, {113, 34}}}
		}, "geometry"},
		{"bad id", func(f *geo.Feature) { f.ID = "a b/c" }, "id"},
	}
	for _, c := range cases {
		f := point("p", orb.Point{113.4, 34.8}, "clear")
		c.edit(f)
		err := s.Create(ctx, geo.WaterloggingPoints, f)
		wantKind(t, "Create("+c.name+")", err, geo.Invalid)
		e := geo.AsError(err)
		if !slices.ContainsFunc(e.Fields, func(fe geo.FieldError) bool { return fe.Field == c.field }) {
			t.Errorf("Create(%s): fields %+v, want one naming %q", c.name, e.Fields, c.field)
		}
	}
	if _, n := query(t, s, geo.WaterloggingPoints, geo.Query{}); n != 0 {
		t.Errorf("after invalid creates: %d features, want 0", n)
	}
	info, err := collection(s, geo.WaterloggingPoints)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != 0 {
		t.Errorf("after invalid creates: collection version %d, want 0", info.Version)
	}
}

func nullGeometry(t *testing.T, s geo.Store) {
	f := point("unlocated", nil, nil)
	f.Properties["location_precision_m"] = nil
	want := f.Clone()
	mustCreate(t, s, geo.WaterloggingPoints, f)
	got := mustGet(t, s, geo.WaterloggingPoints, "unlocated")
	if got.Geometry != nil {
		t.Fatalf("Feature(unlocated).Geometry = %v, want nil", got.Geometry)
	}
	sameFeature(t, "Feature(unlocated)", got, want)
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	if ids, n := query(t, s, geo.WaterloggingPoints, geo.Query{BBox: &world}); n != 0 {
		t.Errorf("bbox over the world matched %v; a null geometry matches no bbox", ids)
	}
	if _, n := query(t, s, geo.WaterloggingPoints, geo.Query{}); n != 1 {
		t.Errorf("Features() total %d, want 1 (unlocated features are listed)", n)
	}
}

func unknownCollection(t *testing.T, s geo.Store) {
	const c = "no_such_layer"
	_, _, err := features(s, c, geo.Query{})
	wantKind(t, "Features(unknown)", err, geo.NotFound)
	_, err = s.Feature(ctx, c, "x")
	wantKind(t, "Feature(unknown)", err, geo.NotFound)
	_, err = collection(s, c)
	wantKind(t, "Collection(unknown)", err, geo.NotFound)
	wantKind(t, "Create(unknown)", s.Create(ctx, c, point("x", nil, nil)), geo.NotFound)
	wantKind(t, "Replace(unknown)", s.Replace(ctx, c, point("x", nil, nil)), geo.NotFound)
	wantKind(t, "Delete(unknown)", s.Delete(ctx, c, "x", 1), geo.NotFound)
	_, err = s.Patch(ctx, c, "x", 1, geo.Patch{})
	wantKind(t, "Patch(unknown)", err, geo.NotFound)
	wantKind(t, "Import(unknown)", s.Import(ctx, c, nil), geo.NotFound)
	_, err = s.Seed(ctx, c, nil)
	wantKind(t, "Seed(unknown)", err, geo.NotFound)
}

func missingFeature(t *testing.T, s geo.Store) {
	_, err := s.Feature(ctx, geo.Depots, "nope")
	wantKind(t, "Feature(nope)", err, geo.NotFound)
	f := depot("nope", orb.Point{113.4, 34.8}, 1)
	f.Version = 1
	wantKind(t, "Replace(nope)", s.Replace(ctx, geo.Depots, f), geo.NotFound)
	_, err = s.Patch(ctx, geo.Depots, "nope", 1, geo.Patch{})
	wantKind(t, "Patch(nope)", err, geo.NotFound)
	wantKind(t, "Delete(nope)", s.Delete(ctx, geo.Depots, "nope", 1), geo.NotFound)
}

func replaceBumpsVersion(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Depots, depot("d", orb.Point{113.4, 34.8}, 1))
	f := mustGet(t, s, geo.Depots, "d")
	f.Properties["floor"] = 4.0
	f.Geometry = orb.Point{113.4284, 34.76}
	if err := s.Replace(ctx, geo.Depots, f); err != nil {
		t.Fatalf("Replace = %v", err)
	}
	if f.Version != 2 {
		t.Errorf("after Replace: version %d, want 2", f.Version)
	}
	got := mustGet(t, s, geo.Depots, "d")
	sameFeature(t, "after Replace", got, f)
	if got.Version != 2 {
		t.Errorf("Feature(d).Version = %d, want 2", got.Version)
	}
}

func staleVersion(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Depots, depot("d", orb.Point{113.4, 34.8}, 1))
	crewA := mustGet(t, s, geo.Depots, "d")
	crewB := mustGet(t, s, geo.Depots, "d")
	crewA.Properties["floor"] = 2.0
	if err := s.Replace(ctx, geo.Depots, crewA); err != nil {
		t.Fatalf("first Replace = %v", err)
	}
	crewB.Properties["floor"] = 3.0
	wantKind(t, "Replace(stale)", s.Replace(ctx, geo.Depots, crewB), geo.Conflict)
	_, err := s.Patch(ctx, geo.Depots, "d", 1, geo.Patch{Properties: map[string]any{"floor": 5.0}})
	wantKind(t, "Patch(stale)", err, geo.Conflict)
	wantKind(t, "Delete(stale)", s.Delete(ctx, geo.Depots, "d", 1), geo.Conflict)
	got := mustGet(t, s, geo.Depots, "d")
	if got.Version != 2 || got.Properties["floor"] != 2.0 {
		t.Errorf("after stale writes: version %d floor %v, want 2 and 2", got.Version, got.Properties["floor"])
	}
}

func patchMerges(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, "clear"))
	got, err := s.Patch(ctx, geo.WaterloggingPoints, "p", 1, geo.Patch{Properties: map[string]any{
		"status": "closed", "depth_cm": 40, "note": nil,
	}})
	if err != nil {
		t.Fatalf("Patch = %v", err)
	}
	if got.Version != 2 || got.Properties["status"] != "closed" || got.Properties["depth_cm"] != 40.0 {
		t.Errorf("Patch result: version %d props %v", got.Version, got.Properties)
	}
	if v, ok := got.Properties["note"]; !ok || v != nil {
		t.Errorf("Patch note=null: got %v (present %v), want a null property", v, ok)
	}
	if got.Properties["name"] != "测试积水点 p" || got.Geometry == nil {
		t.Errorf("Patch lost untouched fields: %+v", got)
	}
	sameFeature(t, "Feature after Patch", mustGet(t, s, geo.WaterloggingPoints, "p"), got)
}

func patchInvalid(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, "clear"))
	_, err := s.Patch(ctx, geo.WaterloggingPoints, "p", 1, geo.Patch{Properties: map[string]any{"status": "closed", "depth_cm": "deep"}})
	wantKind(t, "Patch(invalid)", err, geo.Invalid)
	got := mustGet(t, s, geo.WaterloggingPoints, "p")
	if got.Version != 1 || got.Properties["status"] != "clear" {
		t.Errorf("invalid Patch changed the feature: version %d status %v", got.Version, got.Properties["status"])
	}
}

func patchGeometry(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", nil, nil))
	line := orb.LineString{{113.39, 34.79}, {113.40, 34.80}}
	got, err := s.Patch(ctx, geo.WaterloggingPoints, "p", 1, geo.Patch{SetGeometry: true, Geometry: line})
	if err != nil {
		t.Fatalf("Patch(geometry) = %v", err)
	}
	if !orb.Equal(got.Geometry, line) {
		t.Errorf("Patch(geometry): %v, want %v", got.Geometry, line)
	}
	got, err = s.Patch(ctx, geo.WaterloggingPoints, "p", 2, geo.Patch{SetGeometry: true})
	if err != nil {
		t.Fatalf("Patch(clear geometry) = %v", err)
	}
	if got.Geometry != nil || mustGet(t, s, geo.WaterloggingPoints, "p").Geometry != nil {
		t.Errorf("Patch(clear geometry) left %v", got.Geometry)
	}
}

func deleteFeature(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Depots, depot("d", orb.Point{113.4, 34.8}, 1))
	if err := s.Delete(ctx, geo.Depots, "d", 1); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	_, err := s.Feature(ctx, geo.Depots, "d")
	wantKind(t, "Feature(deleted)", err, geo.NotFound)
	if _, n := query(t, s, geo.Depots, geo.Query{}); n != 0 {
		t.Errorf("after Delete: %d features, want 0", n)
	}
	// The id can be used again.
	mustCreate(t, s, geo.Depots, depot("d", orb.Point{113.4, 34.8}, 1))
}

func bboxEdge(t *testing.T, s geo.Store) {
	box := orb.Bound{Min: orb.Point{113.3, 34.7}, Max: orb.Point{113.5, 34.9}}
	for id, p := range map[string]orb.Point{
		"inside": {113.4, 34.8}, "west-edge": {113.3, 34.8}, "corner": {113.5, 34.9},
		"north-edge": {113.4, 34.9}, "outside-east": {113.5000001, 34.8}, "outside-south": {113.4, 34.6999999},
	} {
		mustCreate(t, s, geo.WaterloggingPoints, point(id, p, nil))
	}
	got, n := query(t, s, geo.WaterloggingPoints, geo.Query{BBox: &box})
	want := []string{"corner", "inside", "north-edge", "west-edge"}
	if !slices.Equal(got, want) || n != len(want) {
		t.Errorf("bbox %v: %v (total %d), want %v", box, got, n, want)
	}
	// A degenerate box (a point) still matches a feature on it.
	pt := orb.Bound{Min: orb.Point{113.4, 34.8}, Max: orb.Point{113.4, 34.8}}
	if got, _ := query(t, s, geo.WaterloggingPoints, geo.Query{BBox: &pt}); !slices.Equal(got, []string{"inside"}) {
		t.Errorf("point bbox: %v, want [inside]", got)
	}
}

func bboxLineCrossing(t *testing.T, s geo.Store) {
	box := orb.Bound{Min: orb.Point{113.3, 34.7}, Max: orb.Point{113.5, 34.9}}
	// No vertex inside the box, but the line runs through it.
	mustCreate(t, s, geo.WaterloggingPoints, point("through", orb.LineString{{113.2, 34.8}, {113.6, 34.8}}, nil))
	// Its bounding box overlaps the box, the line itself passes outside.
	mustCreate(t, s, geo.WaterloggingPoints, point("diagonal-miss", orb.LineString{{113.2, 34.75}, {113.35, 34.65}}, nil))
	// Touches the box edge at one vertex.
	mustCreate(t, s, geo.WaterloggingPoints, point("touch", orb.LineString{{113.5, 34.8}, {113.6, 34.8}}, nil))
	got, _ := query(t, s, geo.WaterloggingPoints, geo.Query{BBox: &box})
	if want := []string{"through", "touch"}; !slices.Equal(got, want) {
		t.Errorf("bbox %v over lines: %v, want %v", box, got, want)
	}
}

func bboxPolygon(t *testing.T, s geo.Store) {
	site := func(id string, g orb.Geometry) *geo.Feature {
		return &geo.Feature{ID: id, Geometry: g, Properties: map[string]any{
			"name": "测试安置 " + id, "town": "汜水镇", "village": "老君堂村", "status": "in_progress",
			"households_total": 26, "households_relocated": 4, "households_remaining": 22,
			"location_source": "storetest fixture", "location_precision_m": 100.0,
		}}
	}
	box := orb.Bound{Min: orb.Point{113.40, 34.80}, Max: orb.Point{113.41, 34.81}}
	// A polygon that wholly contains the box: no vertex inside it.
	big := orb.Polygon{{{113.3, 34.7}, {113.5, 34.7}, {113.5, 34.9}, {113.3, 34.9}, {113.3, 34.7}}}
	// The same with a hole that wholly contains the box.
	holed := orb.Polygon{big[0], {{113.39, 34.79}, {113.39, 34.82}, {113.42, 34.82}, {113.42, 34.79}, {113.39, 34.79}}}
	away := orb.Polygon{{{113.0, 34.0}, {113.1, 34.0}, {113.1, 34.1}, {113.0, 34.0}}}
	mustCreate(t, s, geo.RelocationSites, site("big", big))
	mustCreate(t, s, geo.RelocationSites, site("holed", holed))
	mustCreate(t, s, geo.RelocationSites, site("away", away))
	got, _ := query(t, s, geo.RelocationSites, geo.Query{BBox: &box})
	if want := []string{"big"}; !slices.Equal(got, want) {
		t.Errorf("bbox %v over polygons: %v, want %v", box, got, want)
	}
}

func filters(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("a", orb.Point{113.40, 34.80}, "closed"))
	mustCreate(t, s, geo.WaterloggingPoints, point("b", orb.Point{113.42, 34.79}, "ponding"))
	mustCreate(t, s, geo.WaterloggingPoints, point("c", nil, "closed"))
	mustCreate(t, s, geo.WaterloggingPoints, point("d", orb.Point{113.20, 34.70}, nil))
	mustCreate(t, s, geo.Depots, depot("x", orb.Point{113.4, 34.8}, 4, "flood", "relief"))
	mustCreate(t, s, geo.Depots, depot("y", orb.Point{113.4, 34.8}, 1, "fire"))
	mustCreate(t, s, geo.Depots, depot("z", orb.Point{113.4, 34.8}, 1))
	box := orb.Bound{Min: orb.Point{113.3, 34.75}, Max: orb.Point{113.5, 34.85}}
	cases := []struct {
		c     string
		q     geo.Query
		want  []string
		about string
	}{
		{geo.WaterloggingPoints, geo.Query{Filters: []geo.Filter{{Property: "status", Value: "closed"}}}, []string{"a", "c"}, "status=closed"},
		{geo.WaterloggingPoints, geo.Query{Filters: []geo.Filter{{Property: "status", Value: "closed"}}, BBox: &box}, []string{"a"}, "status=closed in bbox"},
		{geo.WaterloggingPoints, geo.Query{Filters: []geo.Filter{{Property: "status", Value: "closed"}, {Property: "kind", Value: "road_spot"}}}, []string{"a", "c"}, "two filters"},
		{geo.WaterloggingPoints, geo.Query{Filters: []geo.Filter{{Property: "kind", Value: "railway_underpass"}}}, []string{}, "no match"},
		{geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "floor", Value: 4.0}}}, []string{"x"}, "integer"},
		{geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "damp", Value: false}}}, []string{"x", "y", "z"}, "boolean"},
		{geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "categories", Value: "relief"}}}, []string{"x"}, "list contains"},
		{geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "categories", Value: "fire"}, {Property: "floor", Value: 1.0}}}, []string{"y"}, "list and integer"},
		{geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "level", Value: "city"}}}, []string{}, "enum no match"},
	}
	for _, c := range cases {
		got, n := query(t, s, c.c, c.q)
		if !slices.Equal(got, c.want) || n != len(c.want) {
			t.Errorf("Features(%s, %s) = %v (total %d), want %v", c.c, c.about, got, n, c.want)
		}
	}
	// Filters go through the schema parser in the API; a value that only
	// looks dangerous is still just a value.
	got, _ := query(t, s, geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "level", Value: "'; DROP TABLE depots; --"}}})
	if len(got) != 0 {
		t.Errorf("injection-looking filter matched %v", got)
	}
	if _, n := query(t, s, geo.Depots, geo.Query{}); n != 3 {
		t.Errorf("depots after injection-looking filter: %d, want 3", n)
	}
}

func paging(t *testing.T, s geo.Store) {
	var all []string
	for i := range 25 {
		id := fmt.Sprintf("p%02d", 24-i) // created out of order
		mustCreate(t, s, geo.WaterloggingPoints, point(id, orb.Point{113.3 + float64(i)/100, 34.8}, "clear"))
		all = append(all, id)
	}
	slices.Sort(all)
	cases := []struct {
		limit, offset int
		want          []string
	}{
		{10, 0, all[:10]},
		{10, 10, all[10:20]},
		{10, 20, all[20:]},
		{10, 25, []string{}},
		{10, 100, []string{}},
		{0, 0, all},
		{0, 5, all[5:]},
		{1, 24, all[24:]},
	}
	for _, c := range cases {
		got, n := query(t, s, geo.WaterloggingPoints, geo.Query{Limit: c.limit, Offset: c.offset})
		if !slices.Equal(got, c.want) || n != 25 {
			t.Errorf("Features(limit %d, offset %d) = %v (total %d), want %v (total 25)", c.limit, c.offset, got, n, c.want)
		}
	}
	// Ids sort by bytes, not by a locale: upper case before lower case.
	mustCreate(t, s, geo.Depots, depot("b", nil, 1))
	mustCreate(t, s, geo.Depots, depot("B", nil, 1))
	mustCreate(t, s, geo.Depots, depot("a-1", nil, 1))
	mustCreate(t, s, geo.Depots, depot("a_1", nil, 1))
	mustCreate(t, s, geo.Depots, depot("a.1", nil, 1))
	if got, _ := query(t, s, geo.Depots, geo.Query{}); !slices.Equal(got, []string{"B", "a-1", "a.1", "a_1", "b"}) {
		t.Errorf("id order %v, want byte order [B a-1 a.1 a_1 b]", got)
	}
}

func emptyNonNil(t *testing.T, s geo.Store) {
	fs, n, err := features(s, geo.RelocationSites, geo.Query{})
	if err != nil || fs == nil || len(fs) != 0 || n != 0 {
		t.Errorf("Features(empty) = %v (nil %v), %d, %v; want an empty non-nil slice", fs, fs == nil, n, err)
	}
}

func collectionInfo(t *testing.T, s geo.Store) {
	infos, err := collections(s)
	if err != nil {
		t.Fatalf("Collections = %v", err)
	}
	var got []string
	for _, in := range infos {
		got = append(got, in.ID)
		if in.Count != 0 || in.Extent != nil || in.Version != 0 {
			t.Errorf("empty %s: %+v, want zero count, nil extent, version 0", in.ID, in)
		}
	}
	var want []string
	for _, sc := range geo.Schemas() {
		want = append(want, sc.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Collections = %v, want %v", got, want)
	}
	mustCreate(t, s, geo.WaterloggingPoints, point("a", orb.Point{113.37, 34.80}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("b", orb.LineString{{113.39, 34.75}, {113.44, 34.78}}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("c", nil, nil))
	in, err := collection(s, geo.WaterloggingPoints)
	if err != nil {
		t.Fatalf("Collection = %v", err)
	}
	wantExtent := orb.Bound{Min: orb.Point{113.37, 34.75}, Max: orb.Point{113.44, 34.80}}
	if in.Count != 3 || in.Located != 2 || in.Extent == nil || !in.Extent.Equal(wantExtent) || in.Version != 3 || in.Updated.IsZero() {
		t.Errorf("Collection after 3 creates = %+v, want count 3, located 2, extent %v, version 3", in, wantExtent)
	}
	v := in.Version
	if got, err := s.Version(ctx, geo.WaterloggingPoints); err != nil || got != v {
		t.Errorf("Version = %d, %v; want %d as Collection says", got, err, v)
	}
	_, err = s.Version(ctx, "no_such_layer")
	wantKind(t, "Version(unknown)", err, geo.NotFound)
	if _, _, err := features(s, geo.WaterloggingPoints, geo.Query{}); err != nil {
		t.Fatal(err)
	}
	if in, _ := collection(s, geo.WaterloggingPoints); in.Version != v {
		t.Errorf("a read changed the version from %d to %d", v, in.Version)
	}
	if err := s.Delete(ctx, geo.WaterloggingPoints, "c", 1); err != nil {
		t.Fatal(err)
	}
	if in, _ := collection(s, geo.WaterloggingPoints); in.Version != v+1 || in.Count != 2 {
		t.Errorf("after Delete: version %d count %d, want %d and 2", in.Version, in.Count, v+1)
	}
	if in, _ := collection(s, geo.Depots); in.Version != 0 {
		t.Errorf("writes to one collection changed another's version to %d", in.Version)
	}
}

func importAllOrNothing(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Depots, depot("existing", orb.Point{113.4, 34.8}, 1))
	bad := depot("bad", orb.Point{113.4, 34.8}, 1)
	bad.Properties["level"] = "national"
	err := s.Import(ctx, geo.Depots, []*geo.Feature{depot("i1", nil, 1), bad, depot("i2", nil, 1)})
	wantKind(t, "Import(one invalid)", err, geo.Invalid)
	err = s.Import(ctx, geo.Depots, []*geo.Feature{depot("i1", nil, 1), depot("existing", nil, 1)})
	wantKind(t, "Import(existing id)", err, geo.Conflict)
	err = s.Import(ctx, geo.Depots, []*geo.Feature{depot("i1", nil, 1), depot("i1", nil, 2)})
	wantKind(t, "Import(repeated id)", err, geo.Conflict)
	if got, _ := query(t, s, geo.Depots, geo.Query{}); !slices.Equal(got, []string{"existing"}) {
		t.Fatalf("after failed imports: %v, want [existing]", got)
	}
	if err := s.Import(ctx, geo.Depots, []*geo.Feature{depot("i1", nil, 1), depot("", nil, 2)}); err != nil {
		t.Fatalf("Import = %v", err)
	}
	if _, n := query(t, s, geo.Depots, geo.Query{}); n != 3 {
		t.Errorf("after Import: %d depots, want 3", n)
	}
	if f := mustGet(t, s, geo.Depots, "i1"); f.Version != 1 {
		t.Errorf("imported version %d, want 1", f.Version)
	}
}

func seedOnce(t *testing.T, s geo.Store) {
	seed := []*geo.Feature{point("s1", orb.Point{113.4, 34.8}, nil), point("s2", nil, nil)}
	loaded, err := s.Seed(ctx, geo.WaterloggingPoints, seed)
	if err != nil || !loaded {
		t.Fatalf("first Seed = %v, %v; want true, nil", loaded, err)
	}
	loaded, err = s.Seed(ctx, geo.WaterloggingPoints, []*geo.Feature{point("s3", nil, nil)})
	if err != nil || loaded {
		t.Fatalf("second Seed = %v, %v; want false, nil", loaded, err)
	}
	for _, id := range []string{"s1", "s2"} {
		if err := s.Delete(ctx, geo.WaterloggingPoints, id, 1); err != nil {
			t.Fatal(err)
		}
	}
	loaded, err = s.Seed(ctx, geo.WaterloggingPoints, seed)
	if err != nil || loaded {
		t.Fatalf("Seed after deleting everything = %v, %v; want false (deleted features stay deleted)", loaded, err)
	}
	// A collection that holds features before its first seed is not seeded.
	mustCreate(t, s, geo.Depots, depot("mine", nil, 1))
	loaded, err = s.Seed(ctx, geo.Depots, []*geo.Feature{depot("seeded", nil, 1)})
	if err != nil || loaded {
		t.Fatalf("Seed of a non-empty collection = %v, %v; want false", loaded, err)
	}
	// A bad seed writes nothing and can be retried.
	bad := point("bad", nil, "flooded")
	_, err = s.Seed(ctx, geo.RelocationSites, []*geo.Feature{bad})
	wantKind(t, "Seed(invalid)", err, geo.Invalid)
}

func concurrentWriters(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Depots, depot("counter", orb.Point{113.4, 34.8}, 1))
	const writers, each = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range each {
				for {
					f, err := s.Feature(ctx, geo.Depots, "counter")
					if err != nil {
						errs <- err
						return
					}
					n := f.Properties["team_size"].(float64)
					_, err = s.Patch(ctx, geo.Depots, "counter", f.Version, geo.Patch{Properties: map[string]any{"team_size": n + 1}})
					if err == nil {
						break
					}
					if geo.KindOf(err) != geo.Conflict {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	f := mustGet(t, s, geo.Depots, "counter")
	if f.Properties["team_size"] != float64(writers*each) || f.Version != writers*each+1 {
		t.Errorf("after %d increments: team_size %v version %d; want %d and %d (a lost update)",
			writers*each, f.Properties["team_size"], f.Version, writers*each, writers*each+1)
	}
}

func returnedCopies(t *testing.T, s geo.Store) {
	f := mustCreate(t, s, geo.Depots, depot("d", orb.Point{113.4, 34.8}, 1, "flood"))
	f.Properties["floor"] = 9.0 // the caller's value is not the store's
	got := mustGet(t, s, geo.Depots, "d")
	got.Properties["categories"].([]any)[0] = "fire"
	again := mustGet(t, s, geo.Depots, "d")
	if again.Properties["floor"] != 1.0 || again.Properties["categories"].([]any)[0] != "flood" {
		t.Errorf("changing returned values changed the store: %v", again.Properties)
	}
	line := orb.LineString{{113.39, 34.79}, {113.40, 34.80}}
	mustCreate(t, s, geo.WaterloggingPoints, point("l", line, nil))
	line[0][0] = 0
	mustGet(t, s, geo.WaterloggingPoints, "l").Geometry.(orb.LineString)[1][0] = 0
	if g := mustGet(t, s, geo.WaterloggingPoints, "l").Geometry; !orb.Equal(g, orb.LineString{{113.39, 34.79}, {113.40, 34.80}}) {
		t.Errorf("changing a geometry given to or returned by the store changed the stored one: %v", g)
	}
}

func normalizesGeometry(t *testing.T, s geo.Store) {
	// Clockwise exterior, 9 decimals: stored counter-clockwise, 7 decimals.
	cw := orb.Polygon{{{113.3, 34.7}, {113.3, 34.712345678}, {113.312345678, 34.712345678}, {113.3, 34.7}}}
	f := &geo.Feature{ID: "r", Geometry: cw, Properties: map[string]any{
		"name": "测试", "town": "崔庙镇", "village": "王宗店村", "status": "in_progress", "location_source": "fixture",
	}}
	mustCreate(t, s, geo.RelocationSites, f)
	got := mustGet(t, s, geo.RelocationSites, "r").Geometry.(orb.Polygon)
	if got[0].Orientation() != orb.CCW {
		t.Errorf("stored exterior ring is not counter-clockwise: %v", got)
	}
	if got[0][1] != (orb.Point{113.3123457, 34.7123457}) && got[0][2] != (orb.Point{113.3123457, 34.7123457}) {
		t.Errorf("stored ring %v: want coordinates rounded to 7 decimals", got[0])
	}
}

func persists(t *testing.T, s geo.Store, reopen Reopener) {
	mustCreate(t, s, geo.WaterloggingPoints, point("a", orb.Point{113.40458, 34.798322}, "closed"))
	mustCreate(t, s, geo.WaterloggingPoints, point("b", nil, nil))
	if _, err := s.Patch(ctx, geo.WaterloggingPoints, "a", 1, geo.Patch{Properties: map[string]any{"depth_cm": 40}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seed(ctx, geo.Depots, []*geo.Feature{depot("d", orb.Point{113.4, 34.8}, 4)}); err != nil {
		t.Fatal(err)
	}
	before, err := collections(s)
	if err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	after, err := collections(s)
	if err != nil {
		t.Fatalf("Collections after reopen = %v", err)
	}
	for i := range before {
		b, a := before[i], after[i]
		if b.ID != a.ID || b.Count != a.Count || b.Version != a.Version || (b.Extent == nil) != (a.Extent == nil) || b.Extent != nil && !b.Extent.Equal(*a.Extent) {
			t.Errorf("collection %s before reopen %+v, after %+v", b.ID, b, a)
		}
	}
	if f := mustGet(t, s, geo.WaterloggingPoints, "a"); f.Version != 2 || f.Properties["depth_cm"] != 40.0 {
		t.Errorf("after reopen: a version %d depth %v, want 2 and 40", f.Version, f.Properties["depth_cm"])
	}
	if loaded, err := s.Seed(ctx, geo.Depots, []*geo.Feature{depot("e", nil, 1)}); err != nil || loaded {
		t.Errorf("Seed after reopen = %v, %v; want false (seeded before)", loaded, err)
	}
}

func badQuery(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.RelocationSites, &geo.Feature{ID: "big",
		Geometry:   orb.Polygon{{{100, 20}, {120, 20}, {120, 40}, {100, 40}, {100, 20}}},
		Properties: map[string]any{"name": "大", "town": "汜水镇", "village": "老君堂村", "status": "in_progress", "location_source": "fixture"}})
	inverted := orb.Bound{Min: orb.Point{113.5, 34.9}, Max: orb.Point{113.3, 34.7}}
	outside := orb.Bound{Min: orb.Point{113.3, 34.7}, Max: orb.Point{213.5, 34.9}}
	cases := []struct {
		name  string
		q     geo.Query
		field string
	}{
		{"inverted bbox", geo.Query{BBox: &inverted}, "bbox"},
		{"bbox beyond 180", geo.Query{BBox: &outside}, "bbox"},
		{"non-filterable property", geo.Query{Filters: []geo.Filter{{Property: "village", Value: "老君堂村"}}}, "village"},
		{"unknown property", geo.Query{Filters: []geo.Filter{{Property: "colour", Value: "red"}}}, "colour"},
		{"wrong value type", geo.Query{Filters: []geo.Filter{{Property: "status", Value: 3.0}}}, "status"},
		{"negative limit", geo.Query{Limit: -1}, "limit"},
		{"negative offset", geo.Query{Offset: -1}, "offset"},
		{"datetime end before start", geo.Query{Datetime: &geo.Interval{Start: time.Now(), End: time.Now().Add(-time.Hour)}}, "datetime"},
	}
	for _, c := range cases {
		_, _, err := features(s, geo.RelocationSites, c.q)
		wantKind(t, "Features("+c.name+")", err, geo.Invalid)
		if e := geo.AsError(err); len(e.Fields) == 0 || e.Fields[0].Field != c.field {
			t.Errorf("Features(%s): fields %+v, want one naming %q", c.name, e.Fields, c.field)
		}
	}
}

func nulIsInvalid(t *testing.T, s geo.Store) {
	f := point("nul", nil, nil)
	f.Properties["note"] = "a\x00b"
	wantKind(t, "Create(NUL in a string)", s.Create(ctx, geo.WaterloggingPoints, f), geo.Invalid)
	f = point("nul", nil, nil)
	f.Properties["measures"] = []any{"ok", "\x00"}
	wantKind(t, "Create(NUL in a list)", s.Create(ctx, geo.WaterloggingPoints, f), geo.Invalid)
}

func datetimeFilter(t *testing.T, s geo.Store) {
	a := mustCreate(t, s, geo.WaterloggingPoints, point("a", orb.Point{113.4, 34.8}, nil))
	b := mustCreate(t, s, geo.WaterloggingPoints, point("b", nil, nil))
	if !b.Updated.After(a.Updated) {
		// Store clocks have microsecond resolution; make the order certain.
		time.Sleep(2 * time.Millisecond)
		if err := s.Delete(ctx, geo.WaterloggingPoints, "b", 1); err != nil {
			t.Fatal(err)
		}
		b = mustCreate(t, s, geo.WaterloggingPoints, point("b", nil, nil))
	}
	cases := []struct {
		name string
		iv   geo.Interval
		want []string
	}{
		{"instant of a", geo.Interval{Start: a.Updated, End: a.Updated}, []string{"a"}},
		{"from b on", geo.Interval{Start: b.Updated}, []string{"b"}},
		{"until a", geo.Interval{End: a.Updated}, []string{"a"}},
		{"both", geo.Interval{Start: a.Updated, End: b.Updated}, []string{"a", "b"}},
		{"before both", geo.Interval{End: a.Updated.Add(-time.Second)}, []string{}},
		{"open", geo.Interval{}, []string{"a", "b"}},
	}
	for _, c := range cases {
		iv := c.iv
		if got, n := query(t, s, geo.WaterloggingPoints, geo.Query{Datetime: &iv}); !slices.Equal(got, c.want) || n != len(c.want) {
			t.Errorf("Features(datetime %s) = %v (total %d), want %v", c.name, got, n, c.want)
		}
	}
}
