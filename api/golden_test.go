package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"hazardmap/api"
	"hazardmap/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden compares the metadata documents with testdata/*.json; run
// `go test ./api -run TestGolden -update` after a deliberate change and
// review the diff.
func TestGolden(t *testing.T) {
	h := api.NewServer(api.OpenFixtureStore(t), api.Options{Map: web.Handler("")})
	for _, tt := range []struct{ name, target string }{
		{"landing", "/?f=json"},
		{"conformance", "/conformance"},
		{"collections", "/collections"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, h, "GET", tt.target)
			if r.status != 200 {
				t.Fatalf("GET %s = %d\n%s", tt.target, r.status, r.body)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, r.body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			path := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("GET %s differs from %s (run with -update and review the diff):\n%s", tt.target, path, got.Bytes())
			}
		})
	}
}
