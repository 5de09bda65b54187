package web

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/api"
	"hazardmap/data"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
)

// xssName is the name of a waterlogging point the browser test adds: the
// map must show it as text and run nothing.
const xssName = "<img src=x onerror=alert(1)>"

// chromium is the browser the map tests drive (Debian's package, see
// scripts/install-test-deps).
const chromium = "/usr/bin/chromium"

// needTool skips the test when a tool is missing, unless CI is set: there
// a missing tool fails, so that CI cannot pass by skipping.
func needTool(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (CI is set; run scripts/install-test-deps and scripts/build-web)", what)
	}
	t.Skipf("%s is missing; run scripts/install-test-deps and scripts/build-web", what)
}

func nodeOrSkip(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	needTool(t, "node", err == nil)
	return node
}

// TestMapScriptsUnit runs the map's JavaScript unit tests (node --test),
// among them the WGS-84 → GCJ-02 transform against published values.
func TestMapScriptsUnit(t *testing.T) {
	node := nodeOrSkip(t)
	files, err := filepath.Glob("map/test/*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no map/test/*.test.mjs (err %v)", err)
	}
	args := []string{"--test"}
	for _, f := range files {
		args = append(args, strings.TrimPrefix(f, "map/"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = "map"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("node %s:\n%s", strings.Join(args, " "), tail(string(out), 12))
}

// TestMapInBrowser serves the real handler stack (api.NewServer with this
// package's Handler, over the embedded store seeded from data/ plus one
// point with a hostile name) and runs map/test/browser.mjs against it in
// headless Chromium: no console errors or CSP violations, one marker per
// located feature, popups, nearest-depot lines and the reach list against
// the analysis API (when the server has it), the hostile name as text, no
// horizontal scrolling and 44 px touch targets at 360×640, screenshots in
// test-output/ at the repository root, and the page's transfer size.
func TestMapInBrowser(t *testing.T) {
	node := nodeOrSkip(t)
	_, err := os.Stat(chromium)
	needTool(t, chromium, err == nil)
	_, err = os.Stat("map/node_modules/playwright-core/package.json")
	needTool(t, "web/map/node_modules (npm ci)", err == nil)
	if _, err := os.Stat("map/dist/index.html"); err != nil {
		t.Fatal("the map is not built: run scripts/build-web (make test does) before go test")
	}

	ctx := context.Background()
	store, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open = %v", err)
	}
	t.Cleanup(func() { store.Close() })
	for _, c := range data.SeedCollections() {
		raw, err := data.Seed(c)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := api.DecodeFeatureCollection(raw)
		if err != nil {
			t.Fatalf("DecodeFeatureCollection(%s) = %v", c, err)
		}
		if _, err := store.Seed(ctx, c, fs); err != nil {
			t.Fatalf("Seed(%s) = %v", c, err)
		}
	}
	xss := &geo.Feature{
		Geometry: orb.Point{113.3915, 34.7795},
		Properties: map[string]any{
			"name":                 xssName,
			"name_en":              xssName,
			"kind":                 "road_spot",
			"status":               "ponding",
			"depth_cm":             35.0,
			"location_precision_m": 50.0,
			"location_source":      "test fixture " + xssName,
			"measures":             []any{xssName},
			"findings":             []any{map[string]any{"finding": xssName, "measure": xssName, "result": "未完成", "ref": xssName}},
			"note":                 xssName,
		},
	}
	if err := store.Create(ctx, geo.WaterloggingPoints, xss); err != nil {
		t.Fatalf("Create(%q) = %v", xssName, err)
	}

	srv := httptest.NewServer(api.NewServer(store, api.Options{Map: Handler("")}))
	defer srv.Close()
	// The same data with GCJ-02 tiles that do not exist (the API answers
	// 404): the page must shift features and fall back to the outlines.
	gcj := httptest.NewUnstartedServer(nil)
	gcj.Config.Handler = api.NewServer(store, api.Options{Map: Handler("",
		Tiles("http://"+gcj.Listener.Addr().String()+"/tiles/{z}/{x}/{y}.png", "<b>© Test tiles</b>", GCJ02))})
	gcj.Start()
	defer gcj.Close()

	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(root, "test-output")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The analysis API is being built alongside the map: once its source
	// is in the tree, the reach and nearest-depot checks must run.
	expect := "0"
	if _, err := os.Stat(filepath.Join(root, "api", "analysis.go")); err == nil {
		expect = "1"
	}

	tctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(tctx, node, "test/browser.mjs")
	cmd.Dir = "map"
	cmd.Env = append(os.Environ(),
		"HM_BASE_URL="+srv.URL,
		"HM_GCJ_BASE_URL="+gcj.URL,
		"HM_OUT_DIR="+outDir,
		"HM_XSS_ID="+xss.ID,
		"HM_EXPECT_ANALYSIS="+expect,
		"HM_CHROMIUM="+chromium,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node test/browser.mjs: %v\n%s", err, out)
	}
	t.Logf("node test/browser.mjs:\n%s", out)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
