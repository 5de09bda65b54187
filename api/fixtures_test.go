package api

// Test helpers shared by the tests of package api and of package api_test
// (which sees them because this file is compiled into the same test
// binary).

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/postgis"
	"hazardmap/geo/postgis/pgtest"
)

// Fixtures returns small, hand-made features of every collection, valid
// for geo.Schemas(): located and unlocated points, a line, a polygon wound
// clockwise (the stores must turn it counter-clockwise), and values for
// every filterable property. They are test data, not facts.
func Fixtures() map[string][]*geo.Feature {
	common := func(name string, extra map[string]any) map[string]any {
		p := map[string]any{"name": name, "location_source": "test fixture", "location_precision_m": 50.0}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	return map[string][]*geo.Feature{
		geo.WaterloggingPoints: {
			{ID: "wp-1", Geometry: orb.Point{113.371, 34.802182}, Properties: common("陇海路与兴华路铁路桥涵",
				map[string]any{"kind": "railway_underpass", "status": "closed", "depth_cm": 45.0, "duty_unit": "城建局",
					"measures": []any{"排水泵", "断路"}, "status_updated_at": "2024-07-20T08:00:00Z", "township": "京城路街道"})},
			{ID: "wp-2", Geometry: orb.Point{113.39123456789, 34.79}, Properties: common("中原路桃贾路西",
				map[string]any{"kind": "road_spot", "status": "ponding", "depth_cm": 12.5})},
			{ID: "wp-3", Geometry: orb.LineString{{113.35, 34.78}, {113.36, 34.785}}, Properties: common("郑上路与广武路",
				map[string]any{"kind": "road_spot", "status": "clear"})},
			{ID: "wp-4", Geometry: nil, Properties: map[string]any{"name": "未具名道路积水点 1", "kind": "road_spot",
				"location_source": "the report does not name this spot", "location_precision_m": nil}},
			{ID: "wp-5", Geometry: orb.Point{113.4, 34.81}, Properties: common("索河路与河阴路",
				map[string]any{"kind": "road_spot", "status": nil})},
		},
		geo.RelocationSites: {
			{ID: "rs-1", Geometry: orb.Polygon{{{113.2, 34.7}, {113.2, 34.71}, {113.21, 34.71}, {113.21, 34.7}, {113.2, 34.7}}},
				Properties: common("汜水镇老君堂村", map[string]any{"town": "汜水镇", "village": "老君堂村", "households_total": 26.0,
					"households_relocated": 4.0, "households_remaining": 22.0, "status": "in_progress"})},
			{ID: "rs-2", Geometry: orb.Point{113.3, 34.65}, Properties: common("崔庙镇王宗店村",
				map[string]any{"town": "崔庙镇", "village": "王宗店村", "status": "in_progress"})},
		},
		geo.Depots: {
			{ID: "d-1", Geometry: orb.Point{113.38, 34.79}, Properties: common("市级应急物资储备库", map[string]any{
				"level": "city", "floor": 1.0, "entrance_ok": true, "manual_door": true, "damp": false,
				"categories": []any{"flood", "relief"}, "item_kinds": 66.0,
				"inventory": []any{map[string]any{"item": "铁锹", "quantity": 20.0, "unit": "把"}}})},
			{ID: "d-2", Geometry: orb.Point{113.45, 34.75}, Properties: common("豫龙镇储备站", map[string]any{
				"level": "township", "floor": 4.0, "has_lift": false, "manual_door": false, "damp": true, "categories": []any{"flood"}})},
			{ID: "d-3", Geometry: orb.Point{113.25, 34.72}, Properties: common("三官庙村储备点", map[string]any{
				"level": "village", "team_size": 79.0, "categories": []any{"flood", "fire"}})},
		},
		geo.Gauges: {
			{ID: "g-1", Geometry: orb.Point{113.3, 34.7}, Properties: common("测试水库", map[string]any{
				"kind": "reservoir", "river": "索河", "township": "贾峪镇", "warning_level": 101.0,
				"flood_limits": []any{map[string]any{"start": "07-16", "end": "08-31", "level": 100.0, "period": "main"}}})},
			{ID: "g-2", Geometry: nil, Properties: map[string]any{"name": "测试河道断面", "kind": "river_section", "river": "汜河",
				"location_source": "test fixture without a place", "location_precision_m": nil}},
		},
	}
}

// OpenFixtureStore returns an embedded store in a temporary directory holding
// the fixtures.
func OpenFixtureStore(t testing.TB) geo.Store {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open = %v", err)
	}
	t.Cleanup(func() { st.Close() })
	Seed(t, st, Fixtures())
	return st
}

// Seed imports fs into st.
func Seed(t testing.TB, st geo.Store, fs map[string][]*geo.Feature) {
	t.Helper()
	for _, sc := range geo.Schemas() {
		if err := st.Import(context.Background(), sc.ID, fs[sc.ID]); err != nil {
			t.Fatalf("Import(%s) = %v", sc.ID, err)
		}
	}
}

// ModuleRoot returns the directory of go.mod, walking up from the test's
// working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// OpenPostGIS returns a migrated PostGIS store on a database of its own,
// created from DATABASE_URL and dropped (WITH (FORCE)) when t ends. With
// no DATABASE_URL it skips t, or fails it under CI (see pgtest.URL).
func OpenPostGIS(t testing.TB) geo.Store {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := postgis.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatalf("postgis.Open = %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate = %v", err)
	}
	return st
}
