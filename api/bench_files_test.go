package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"hazardmap/api"
	"hazardmap/geo"
	"hazardmap/geo/export"
)

// BenchmarkExport measures a whole file of 10 000 synthetic points (the
// most one file holds) in every format, from the store to the last byte
// sent, beside the GeoJSON page of the same 10 000 with the response cache
// off (the baseline: the same read, another encoder).
//
//	go test ./api -run '^$' -bench BenchmarkExport -benchmem
func BenchmarkExport(b *testing.B) {
	st := syntheticStore(b, 10_000)
	h := api.NewServer(st, api.Options{})
	targets := map[string]string{"geojson": "/collections/waterlogging_points/items?limit=10000"}
	for _, f := range export.Formats() {
		targets[f.Name] = "/collections/waterlogging_points/items?f=" + f.Name
	}
	for _, name := range append([]string{"geojson"}, export.Names()...) {
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest("GET", targets[name], nil)
			w := &discard{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Fatalf("GET %s = %d", targets[name], w.status)
			}
			b.SetBytes(int64(w.n))
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(&discard{h: http.Header{}}, req)
			}
		})
	}
}

// BenchmarkImportDryRun measures a planner's dry run of an unedited
// 10 000-row export, as xlsx and as CSV: receive, read, plan against the
// store (every row unchanged).
//
//	go test ./api -run '^$' -bench BenchmarkImportDryRun -benchmem
func BenchmarkImportDryRun(b *testing.B) {
	st := syntheticStore(b, 10_000)
	h := api.NewServer(st, api.Options{})
	token := plannerToken(b, st)
	for _, f := range []string{"xlsx", "csv"} {
		b.Run(f, func(b *testing.B) {
			w := &discard{h: http.Header{}, keep: true}
			get := httptest.NewRequest("GET", "/collections/waterlogging_points/items?f="+f, nil)
			get.Header.Set("Authorization", "Bearer "+token)
			h.ServeHTTP(w, get)
			file := w.body.Bytes()
			ctype, _ := export.Lookup(f)
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/collections/waterlogging_points/import?dry_run=true", bytes.NewReader(file))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", ctype.MediaType)
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("dry run = %d", w.status)
				}
			}
		})
	}
}

// plannerToken issues a planner's token on st.
func plannerToken(tb testing.TB, st geo.Store) string {
	tb.Helper()
	_, secret, err := geo.IssueToken(context.Background(), st, "bench planner", geo.RolePlanner, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}
