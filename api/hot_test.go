package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"hazardmap/geo"
)

// hotServer is a server whose router counts the requests it is given, so
// that a test can tell the hot path's answers (hot.go) from the router's.
type hotServer struct {
	*Server
	routed int
}

func newHotServer(st geo.Store, log ...*slog.Logger) *hotServer {
	opts := Options{CacheBytes: DefaultCacheBytes}
	if len(log) > 0 {
		opts.Logger = log[0]
	}
	hs := &hotServer{Server: NewServer(st, opts)}
	hs.front = hs.withFront(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.routed++
		hs.handler.ServeHTTP(w, r)
	}))
	return hs
}

// hotRequest is one request of a test.
type hotRequest struct {
	name, method, target string
	header               []string // pairs, added in order
}

func (q hotRequest) build() *http.Request {
	r := httptest.NewRequest(q.method, q.target, nil)
	for i := 0; i+1 < len(q.header); i += 2 {
		if q.header[i] == "Host" {
			r.Host = q.header[i+1]
			continue
		}
		r.Header.Add(q.header[i], q.header[i+1])
	}
	return r
}

// send serves q with h and returns the response.
func (q hotRequest) send(h http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, q.build())
	return rec
}

// sameAnswer fails t unless a and b are the same answer: status, every
// header field but Date (in order of values), and body.
func sameAnswer(t *testing.T, name string, a, b *httptest.ResponseRecorder) {
	t.Helper()
	if a.Code != b.Code {
		t.Errorf("%s: status %d, want %d", name, a.Code, b.Code)
	}
	ha, hb := a.Header().Clone(), b.Header().Clone()
	ha.Del("Date")
	hb.Del("Date")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range ha {
			if !yield(k) {
				return
			}
		}
		for k := range hb {
			if _, ok := ha[k]; !ok && !yield(k) {
				return
			}
		}
	}) {
		if !slices.Equal(ha[k], hb[k]) {
			t.Errorf("%s: header %s = %q, want %q", name, k, ha[k], hb[k])
		}
	}
	if !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
		t.Errorf("%s: body differs (%d bytes, want %d)", name, a.Body.Len(), b.Body.Len())
	}
}

// TestHotPathAnswersAsTheRouter checks, on both stores, that a request
// answered by the hot path gets exactly what the router answers it
// (status, headers, body), and that the hot path answers it only once the
// router has served it from the cache.
func TestHotPathAnswersAsTheRouter(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		const items = "/collections/waterlogging_points/items"
		hs := newHotServer(st)
		etag := (hotRequest{method: "GET", target: items}).send(hs.handler).Header().Get("ETag")
		gzipETag := (hotRequest{method: "GET", target: items, header: []string{"Accept-Encoding", "gzip"}}).send(hs.handler).Header().Get("ETag")
		if etag == "" || gzipETag == "" || etag == gzipETag {
			t.Fatalf("ETags %q (identity), %q (gzip): want two different ones", etag, gzipETag)
		}
		for _, q := range []hotRequest{
			{name: "page", method: "GET", target: items},
			{name: "gzip", method: "GET", target: items, header: []string{"Accept-Encoding", "gzip, deflate, br"}},
			{name: "gzip refused", method: "GET", target: items, header: []string{"Accept-Encoding", "gzip;q=0"}},
			{name: "HEAD", method: "HEAD", target: items},
			{name: "paged (Link headers)", method: "GET", target: items + "?limit=2&offset=2"},
			{name: "box", method: "GET", target: items + "?bbox=113.1,34.6,113.6,35.0&limit=3"},
			{name: "filter", method: "GET", target: "/collections/waterlogging_points/items?kind=railway_underpass"},
			{name: "another host (links)", method: "GET", target: items, header: []string{"Host", "hazardmap.example.org"}},
			{name: "Accept JSON", method: "GET", target: items, header: []string{"Accept", "application/geo+json"}},
			{name: "revalidation (304)", method: "GET", target: items, header: []string{"If-None-Match", etag}},
			{name: "revalidation of gzip (304)", method: "GET", target: items, header: []string{"Accept-Encoding", "gzip", "If-None-Match", `W/` + gzipETag}},
			{name: "stale validator (200)", method: "GET", target: items, header: []string{"If-None-Match", `"0-0"`}},
			{name: "If-Modified-Since", method: "GET", target: items, header: []string{"If-Modified-Since", "Sun, 01 Jan 2090 00:00:00 GMT"}},
		} {
			// Once to count a miss, once to store, once served from the
			// cache by the router, which remembers the request: the next
			// is the hot path's.
			for range 3 {
				q.send(hs)
			}
			before := hs.routed
			hot := q.send(hs)
			if hs.routed != before {
				t.Errorf("%s: routed the fourth time; want the hot path", q.name)
			}
			sameAnswer(t, q.name, hot, q.send(hs.handler))
		}
	})
}

// TestHotPathOnlyForWhatItKnows checks that requests the router must
// decide are never answered by the hot path, even when the anonymous form
// of the same page is hot: credentials (a crew's token sees contacts; a
// stale session cookie is a 401), a path sent escaped, a header sent
// twice, a file format by Accept, another method, an error.
func TestHotPathOnlyForWhatItKnows(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		const items = "/collections/waterlogging_points/items"
		hs := newHotServer(st)
		page := hotRequest{method: "GET", target: items}
		for range 4 {
			page.send(hs)
		}
		_, crew, err := geo.IssueToken(context.Background(), st, "crew", geo.RoleCrew, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []hotRequest{
			{name: "crew token", method: "GET", target: items, header: []string{"Authorization", "Bearer " + crew}},
			{name: "session cookie", method: "GET", target: items, header: []string{"Cookie", cookiePlain + "=stale"}},
			{name: "escaped path", method: "GET", target: "/collections/waterlogging%5Fpoints/items"},
			{name: "Accept-Encoding twice", method: "GET", target: items, header: []string{"Accept-Encoding", "gzip", "Accept-Encoding", "br"}},
			{name: "CSV by Accept", method: "GET", target: items, header: []string{"Accept", "text/csv"}},
			{name: "OPTIONS", method: "OPTIONS", target: items},
			{name: "POST", method: "POST", target: items},
			{name: "bad query (400)", method: "GET", target: items + "?limit=many"},
		} {
			for i := range 4 {
				before := hs.routed
				rec := q.send(hs)
				if hs.routed != before+1 {
					t.Fatalf("%s, request %d: answered by the hot path (status %d)", q.name, i+1, rec.Code)
				}
				switch q.name {
				case "crew token":
					if !strings.Contains(rec.Body.String(), contactPhone) {
						t.Errorf("crew token: the page has no contact phone; got the public view")
					}
				case "session cookie":
					if rec.Code != http.StatusUnauthorized {
						t.Errorf("stale session cookie: status %d, want 401", rec.Code)
					}
				}
			}
		}
	})
}

// TestHotPathSeesWrites checks that a write is seen at once by a request
// the hot path answered before: the hot path answers only while the data
// version is the one its response shows.
func TestHotPathSeesWrites(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		ctx := context.Background()
		hs := newHotServer(st)
		page := hotRequest{method: "GET", target: "/collections/waterlogging_points/items"}
		for range 3 {
			page.send(hs)
		}
		before := page.send(hs)
		f, err := st.Feature(ctx, geo.WaterloggingPoints, "wp-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Patch(ctx, geo.WaterloggingPoints, "wp-1", f.Version, geo.Patch{Properties: map[string]any{"depth_cm": 987.0}}); err != nil {
			t.Fatal(err)
		}
		routed := hs.routed
		after := page.send(hs)
		if hs.routed != routed+1 {
			t.Error("the first request after a write was answered by the hot path")
		}
		if after.Header().Get("ETag") == before.Header().Get("ETag") || !strings.Contains(after.Body.String(), `"depth_cm":987`) {
			t.Errorf("after a write: ETag %s (was %s), the page shows depth_cm 987: %v",
				after.Header().Get("ETag"), before.Header().Get("ETag"), strings.Contains(after.Body.String(), `"depth_cm":987`))
		}
	})
}

// TestCacheAliasesGoWithTheirEntry checks the cache's memory of requests
// (cache.alias): only for a stored entry, counted against the budget, at
// most maxAliases per entry, moved to the newer entry of the same
// request, and dropped with their entry.
func TestCacheAliasesGoWithTheirEntry(t *testing.T) {
	c := newCache(1 << 20)
	build := func(v int64) func(context.Context) (*response, error) {
		return func(context.Context) (*response, error) { return body(100, v), nil }
	}
	k := hotKey{path: "/p", host: "h"}
	c.alias(k, "v1", false)
	if _, ok := c.hot(k); ok {
		t.Fatal("alias of a key not stored: the hot path would answer it")
	}
	twice(c, "v1", "g", 1, build(1))
	_, used := c.stats()
	c.alias(k, "v1", true)
	hit, ok := c.hot(k)
	if !ok || hit.version != 1 || hit.group != "g" || !hit.gzip {
		t.Fatalf("hot after alias = %+v, %v; want version 1 of g, gzip", hit, ok)
	}
	if _, now := c.stats(); now != used+int64(k.size()) {
		t.Errorf("bytes used %d after an alias, want %d + %d", now, used, k.size())
	}
	for i := range 2 * maxAliases {
		c.alias(hotKey{path: "/p", query: strings.Repeat("q", i+1)}, "v1", false)
	}
	if n := len(c.aliases); n != maxAliases {
		t.Errorf("aliases of one entry = %d, want at most %d", n, maxAliases)
	}
	// A newer version of the group drops the entry and its aliases.
	twice(c, "v2", "g", 2, build(2))
	if _, ok := c.hot(k); ok || len(c.aliases) != 0 {
		t.Errorf("after a newer version: hot %v, %d aliases; want none", ok, len(c.aliases))
	}
	c.alias(k, "v2", false)
	if hit, ok := c.hot(k); !ok || hit.version != 2 {
		t.Errorf("hot after alias to v2 = %+v, %v", hit, ok)
	}
	// Eviction over the budget drops them too.
	small := newCache(body(100, 1).size() + 1 + int64(k.size()) + 10) // one entry and its alias
	twice(small, "a", "g", 1, build(1))
	small.alias(k, "a", false)
	if _, ok := small.hot(k); !ok {
		t.Fatal("an alias that fits the budget does not answer")
	}
	twice(small, "b", "h", 1, build(1))
	if _, ok := small.hot(k); ok {
		t.Error("the alias of an evicted entry still answers")
	}
	if n, used := small.stats(); n != 1 || used > small.budget {
		t.Errorf("after eviction: %d entries, %d bytes of %d", n, used, small.budget)
	}
}

// TestHotPathLogged checks that the hot path's answers are logged like the
// router's, with a request ID, when requests are logged (info).
func TestHotPathLogged(t *testing.T) {
	var out bytes.Buffer
	hs := newHotServer(OpenFixtureStore(t), slog.New(slog.NewJSONHandler(&out, nil)))
	page := hotRequest{method: "GET", target: "/collections/waterlogging_points/items"}
	for range 4 {
		page.send(hs)
	}
	if hs.routed != 3 {
		t.Errorf("routed %d of 4 requests, want 3 (the fourth is the hot path's)", hs.routed)
	}
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("%d request lines logged, want 4:\n%s", len(lines), out.String())
	}
	for i, m := range lines {
		if m["request_id"] == "" || m["request_id"] == nil || m["status"] != float64(http.StatusOK) || m["bytes"].(float64) == 0 {
			t.Errorf("request %d logged as %v; want a request ID, status 200 and the bytes sent", i+1, m)
		}
	}
}
