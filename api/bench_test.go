package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"hazardmap/api"
	"hazardmap/data"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/geojson"
	"hazardmap/geo/synthetic"
)

// discard is a ResponseWriter that keeps nothing, so that a benchmark
// measures the handler and not a recorder.
type discard struct {
	h      http.Header
	status int
	n      int
	keep   bool         // keep the body in body
	body   bytes.Buffer // when keep
}

func (d *discard) Header() http.Header    { return d.h }
func (d *discard) WriteHeader(status int) { d.status = status }
func (d *discard) Write(p []byte) (int, error) {
	d.n += len(p)
	if d.keep {
		d.body.Write(p)
	}
	return len(p), nil
}

// seedStore returns an embedded store holding the real seed dataset.
func seedStore(tb testing.TB) geo.Store {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	seedInto(tb, st)
	return st
}

// seedInto seeds st with the real seed dataset.
func seedInto(tb testing.TB, st geo.Store) {
	tb.Helper()
	for _, c := range data.SeedCollections() {
		raw, err := data.Seed(c)
		if err != nil {
			tb.Fatal(err)
		}
		fs, err := geojson.DecodeFeatureCollection(raw)
		if err != nil {
			tb.Fatalf("DecodeFeatureCollection(%s) = %v", c, err)
		}
		if _, err := st.Seed(context.Background(), c, fs); err != nil {
			tb.Fatalf("Seed(%s) = %v", c, err)
		}
	}
}

// syntheticStore returns an embedded store whose waterlogging_points
// layer holds n synthetic features.
func syntheticStore(tb testing.TB, n int) geo.Store {
	tb.Helper()
	st, err := embedded.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Import(context.Background(), geo.WaterloggingPoints, synthetic.Features(n, 1)); err != nil {
		tb.Fatalf("Import(%d synthetic) = %v", n, err)
	}
	return st
}

// BenchmarkItems measures GET /collections/waterlogging_points/items, the
// request a map makes on every open: on the seed layer (19 features) and
// on a 100 000-feature synthetic layer (first page of 100, and a full page
// of 10 000), with the response cache warm and with it off (every request
// read from the store and encoded), identity and gzip.
//
//	go test ./api -run '^$' -bench BenchmarkItems -benchmem
func BenchmarkItems(b *testing.B) {
	seed := seedStore(b)
	big := syntheticStore(b, 100_000)
	for _, layer := range []struct {
		name   string
		store  geo.Store
		target string
	}{
		{"seed", seed, "/collections/waterlogging_points/items"},
		{"100k/limit=100", big, "/collections/waterlogging_points/items"},
		{"100k/limit=10000", big, "/collections/waterlogging_points/items?limit=10000"},
	} {
		for _, mode := range []struct {
			name  string
			cache int64
		}{{"warm", api.DefaultCacheBytes}, {"cold", 0}} {
			for _, enc := range []string{"identity", "gzip"} {
				b.Run(layer.name+"/"+mode.name+"/"+enc, func(b *testing.B) {
					h := api.NewServer(layer.store, api.Options{CacheBytes: mode.cache})
					req := httptest.NewRequest("GET", layer.target, nil)
					if enc == "gzip" {
						req.Header.Set("Accept-Encoding", "gzip")
					}
					w := &discard{h: http.Header{}}
					h.ServeHTTP(w, req) // warm the cache (and check the request)
					if w.status != http.StatusOK {
						b.Fatalf("GET %s = %d", layer.target, w.status)
					}
					b.SetBytes(int64(w.n))
					b.ReportAllocs()
					for b.Loop() {
						w := &discard{h: http.Header{}}
						h.ServeHTTP(w, req)
					}
				})
			}
		}
	}
}

// BenchmarkRevalidate measures the answer to a client that already has
// the page: a 304 from the ETag.
func BenchmarkRevalidate(b *testing.B) {
	h := api.NewServer(seedStore(b), api.Options{CacheBytes: api.DefaultCacheBytes})
	req := httptest.NewRequest("GET", "/collections/waterlogging_points/items", nil)
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req)
	req.Header.Set("If-None-Match", w.h.Get("ETag"))
	b.ReportAllocs()
	for b.Loop() {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != http.StatusNotModified {
			b.Fatalf("status %d, want 304", w.status)
		}
	}
}

// readTargets are the requests that read several things of the store
// that must agree (a page and its version; depots, their nearest and
// their version; every collection of a reach report).
var readTargets = []struct{ name, target string }{
	{"items", "/collections/waterlogging_points/items"},
	{"nearest-depots", "/analysis/nearest-depots?lon=113.39&lat=34.79&k=5"},
	{"reach", "/analysis/reach"},
}

// BenchmarkItemsReads measures the reads of readTargets with the response
// cache off, so that every request reads the store, on the seed data: on
// the embedded store, and on PostGIS when DATABASE_URL is set
// (scripts/with-postgis), where each read is a round trip. "revalidate"
// is a client that has the items page (304), with the cache on.
//
//	scripts/with-postgis go test ./api -run '^$' -bench BenchmarkItemsReads -benchmem
func BenchmarkItemsReads(b *testing.B) {
	stores := []struct {
		name string
		open func(testing.TB) geo.Store
	}{
		{"embedded", seedStore},
		{"postgis", func(tb testing.TB) geo.Store {
			st := api.OpenPostGIS(tb)
			seedInto(tb, st)
			return st
		}},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			st := s.open(b)
			for _, rt := range readTargets {
				b.Run(rt.name, func(b *testing.B) {
					benchGet(b, api.NewServer(st, api.Options{}), rt.target, "", http.StatusOK)
				})
			}
			b.Run("revalidate", func(b *testing.B) {
				h := api.NewServer(st, api.Options{CacheBytes: api.DefaultCacheBytes})
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, httptest.NewRequest("GET", readTargets[0].target, nil))
				benchGet(b, h, readTargets[0].target, w.h.Get("ETag"), http.StatusNotModified)
			})
		})
	}
}

// benchGet measures GET target on h, with If-None-Match etag unless
// empty, and wants status.
func benchGet(b *testing.B, h http.Handler, target, etag string, status int) {
	req := httptest.NewRequest("GET", target, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != status {
			b.Fatalf("GET %s = %d, want %d", target, w.status, status)
		}
	}
}
