package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/api"
	"hazardmap/data"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/geojson"
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

// browserOrSkip returns node once Chromium and the map's npm packages
// (playwright-core) are there too; it skips (or, under CI, fails) t
// otherwise.
func browserOrSkip(t *testing.T) string {
	t.Helper()
	node := nodeOrSkip(t)
	_, err := os.Stat(chromium)
	needTool(t, chromium, err == nil)
	_, err = os.Stat("map/node_modules/playwright-core/package.json")
	needTool(t, "web/map/node_modules (npm ci)", err == nil)
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
// horizontal scrolling and 44 px touch targets at 360×640, live updates
// (a crew's status report, a planner's patch and delete, through the API,
// reach the open map within 3 s; the stream resumes after the network
// drops), screenshots in test-output/ at the repository root, and the
// page's transfer size.
func TestMapInBrowser(t *testing.T) {
	node := browserOrSkip(t)

	ctx := context.Background()
	store := seededStore(t)
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

	// Tokens for the live-update checks: the script reports a status as a
	// crew and edits and deletes depots as a planner, through the API, and
	// watches the open map follow.
	_, crewToken, err := geo.IssueToken(ctx, store, "browser test crew", geo.RoleCrew, time.Hour)
	if err != nil {
		t.Fatalf("IssueToken(crew) = %v", err)
	}
	_, plannerToken, err := geo.IssueToken(ctx, store, "browser test planner", geo.RolePlanner, time.Hour)
	if err != nil {
		t.Fatalf("IssueToken(planner) = %v", err)
	}

	streams := &streamSwitch{cancel: map[int]context.CancelFunc{}}
	srv := httptest.NewServer(streams.wrap(api.NewServer(store, api.Options{Map: Handler(""), CacheBytes: api.DefaultCacheBytes, WritesPerMinute: api.DefaultWritesPerMinute})))
	defer srv.Close()
	// The same data with GCJ-02 tiles that do not exist (the API answers
	// 404): the page must shift features and fall back to the outlines.
	gcj := httptest.NewUnstartedServer(nil)
	gcj.Config.Handler = api.NewServer(store, api.Options{Map: Handler("",
		Tiles("http://"+gcj.Listener.Addr().String()+"/tiles/{z}/{x}/{y}.png", "<b>© Test tiles</b>", GCJ02))})
	gcj.Start()
	defer gcj.Close()

	// The analysis API is being built alongside the map: once its source
	// is in the tree, the reach and nearest-depot checks must run.
	expect := "0"
	if _, err := os.Stat(filepath.Join("..", "api", "analysis.go")); err == nil {
		expect = "1"
	}

	out := runScript(t, node, "test/browser.mjs", 4*time.Minute,
		"HM_BASE_URL="+srv.URL,
		"HM_GCJ_BASE_URL="+gcj.URL,
		"HM_XSS_ID="+xss.ID,
		"HM_EXPECT_ANALYSIS="+expect,
		"HM_CREW_TOKEN="+crewToken,
		"HM_PLANNER_TOKEN="+plannerToken,
		"HM_STREAM_SWITCH=1",
	)
	t.Logf("node test/browser.mjs:\n%s", out)
}

// seedData seeds store with the report's dataset (package data).
func seedData(t *testing.T, store geo.Store) {
	t.Helper()
	for _, c := range data.SeedCollections() {
		raw, err := data.Seed(c)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := geojson.DecodeFeatureCollection(raw)
		if err != nil {
			t.Fatalf("DecodeFeatureCollection(%s) = %v", c, err)
		}
		if _, err := store.Seed(context.Background(), c, fs); err != nil {
			t.Fatalf("Seed(%s) = %v", c, err)
		}
	}
}

// seededStore returns an embedded store in a temporary directory holding
// the report's dataset, closed when t ends.
func seededStore(t *testing.T) geo.Store {
	t.Helper()
	store, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open = %v", err)
	}
	t.Cleanup(func() { store.Close() })
	seedData(t, store)
	return store
}

// signInCode issues a one-time sign-in code on store for who, as role,
// whose token lives a day.
func signInCode(t *testing.T, store geo.Store, who string, role geo.Role) string {
	t.Helper()
	_, c, err := geo.IssueSignInCode(context.Background(), store, who, role, 24*time.Hour, 0, time.Now())
	if err != nil {
		t.Fatalf("IssueSignInCode(%s) = %v", who, err)
	}
	return c
}

// streamSwitch lets the browser script break the event streams, as a
// proxy restarting or a phone losing its link would: POST
// /test/events/down ends every open GET /events and answers new ones 503
// until POST /test/events/up. The page must say it is reconnecting, and
// catch up on what it missed once the stream is back. POST
// /test/events/ahead ends every open stream and moves the id the next one
// resumes from (Last-Event-ID, ?after=) a million changes ahead, as if
// the page came from a database since rebuilt or restored from a backup:
// the server says reset, and the page must reload its layers and follow.
type streamSwitch struct {
	mu     sync.Mutex
	down   bool
	ahead  bool
	next   int
	cancel map[int]context.CancelFunc
}

// moveAhead returns r resuming a million changes further than it asks.
func moveAhead(r *http.Request) *http.Request {
	r = r.Clone(r.Context())
	bump := func(s string) string {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return s
		}
		return strconv.FormatInt(n+1_000_000, 10)
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		r.Header.Set("Last-Event-ID", bump(id))
	}
	q := r.URL.Query()
	if a := q.Get("after"); a != "" {
		q.Set("after", bump(a))
		r.URL.RawQuery = q.Encode()
	}
	return r
}

func (s *streamSwitch) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && (r.URL.Path == "/test/events/down" || r.URL.Path == "/test/events/up" || r.URL.Path == "/test/events/ahead"):
			s.mu.Lock()
			s.down = r.URL.Path == "/test/events/down"
			s.ahead = r.URL.Path == "/test/events/ahead"
			if s.down || s.ahead {
				for _, cancel := range s.cancel {
					cancel()
				}
			}
			s.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/events":
			s.mu.Lock()
			if s.down {
				s.mu.Unlock()
				http.Error(w, "test: the event stream is down", http.StatusServiceUnavailable)
				return
			}
			if s.ahead && (r.Header.Get("Last-Event-ID") != "" || r.URL.Query().Has("after")) {
				s.ahead = false
				r = moveAhead(r)
			}
			ctx, cancel := context.WithCancel(r.Context())
			id := s.next
			s.next++
			s.cancel[id] = cancel
			s.mu.Unlock()
			defer func() {
				s.mu.Lock()
				delete(s.cancel, id)
				s.mu.Unlock()
				cancel()
			}()
			h.ServeHTTP(w, r.WithContext(ctx))
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
