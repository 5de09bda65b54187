package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/api"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/postgis"
	"hazardmap/geo/postgis/pgtest"
)

// TestWaterInBrowser runs map/test/water.mjs in headless Chromium against
// the real handler stack on each store, with the seed data and a located
// gauge 饮马坑水库 whose flood limit (149.50 m, a test value: the report
// gives none) holds all year and which reads 140 to 160 m, with a
// reading every 30 minutes for the last 72 hours below it: the chart
// draws with the limit line, a crew types a reading over the limit in
// centimetres, is offered it in metres (the gauge cannot read the other)
// and sends it from the popup, the banner with 确认
// appears on the open map, the marker turns red, and 确认 acknowledges
// the alert. Screenshots go to test-output/water-*.png.
func TestWaterInBrowser(t *testing.T) {
	onEachStore(t, runWater)
}

// onEachStore runs a browser script's test, run, on each store (embedded,
// PostGIS), each empty, as a subtest named after it; node is the path of
// node. It skips (or, under CI, fails) when the browser is missing.
func onEachStore(t *testing.T, run func(t *testing.T, node, name string, store geo.Store)) {
	node := browserOrSkip(t)
	for _, name := range []string{"embedded", "postgis"} {
		t.Run(name, func(t *testing.T) { run(t, node, name, openStoreNamed(t, name)) })
	}
}

// openStoreNamed returns an empty store of the kind name (embedded or
// postgis), closed when t ends.
func openStoreNamed(t *testing.T, name string) geo.Store {
	t.Helper()
	var store geo.Store
	if name == "embedded" {
		st, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatalf("embedded.Open = %v", err)
		}
		store = st
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := postgis.Open(ctx, pgtest.NewDatabase(t), nil)
		if err != nil {
			t.Fatalf("postgis.Open = %v", err)
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("Migrate = %v", err)
		}
		store = st
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// runScript runs the browser script map/<script> with node, the
// environment env (NAME=value) added to the process's and HM_OUT_DIR set
// to test-output/, within timeout, and returns its output; a script that
// fails fails t with its output.
func runScript(t *testing.T, node, script string, timeout time.Duration, env ...string) []byte {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(root, "test-output")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = "map"
	cmd.Env = append(append(os.Environ(), "HM_OUT_DIR="+outDir, "HM_CHROMIUM="+chromium), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	return out
}

func runWater(t *testing.T, node, name string, store geo.Store) {
	ctx := context.Background()
	seedData(t, store)
	const gauge, limit = "test-yinmakeng", 149.50
	err := store.Create(ctx, geo.Gauges, &geo.Feature{ID: gauge, Geometry: orb.Point{113.3103, 34.7012}, Properties: map[string]any{
		"name": "饮马坑水库", "kind": "reservoir", "township": "贾峪镇", "datum": "测试基面",
		"location_source": "browser test: a made-up place, not a fact of the report", "location_precision_m": 500.0,
		"flood_limits":  []any{map[string]any{"start": "01-01", "end": "12-31", "level": limit, "period": "main"}},
		"warning_level": 150.5, "report_interval_min": 60.0, "level_min": 140.0, "level_max": 160.0,
	}})
	if err != nil {
		t.Fatal(err)
	}
	var rs []geo.Reading
	now := time.Now().Truncate(time.Minute)
	for i := 144; i >= 1; i-- {
		rs = append(rs, geo.Reading{GaugeID: gauge, At: now.Add(-time.Duration(i) * 30 * time.Minute), Level: limit - 0.6 + 0.4*float64(144-i)/144, Source: geo.ReadingTelemetry})
	}
	sensor := geo.WithActor(ctx, geo.Actor{ID: "tok-sensor", Name: "遥测站", Role: geo.RoleSensor})
	if _, err := store.ImportReadings(sensor, rs); err != nil {
		t.Fatal(err)
	}
	_, crewCode, err := geo.IssueSignInCode(ctx, store, "城建局一队", geo.RoleCrew, 24*time.Hour, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, plannerToken, err := geo.IssueToken(ctx, store, "browser test planner", geo.RolePlanner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewServer(store, api.Options{Map: Handler(""), CacheBytes: api.DefaultCacheBytes}))
	defer srv.Close()
	out := runScript(t, node, "test/water.mjs", 3*time.Minute, "HM_BASE_URL="+srv.URL, "HM_STORE="+name,
		"HM_CREW_CODE="+crewCode, "HM_PLANNER_TOKEN="+plannerToken, "HM_GAUGE="+gauge, "HM_LIMIT="+fmt.Sprint(limit))
	t.Logf("node test/water.mjs (%s):\n%s", name, out)
}
