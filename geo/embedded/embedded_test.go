package embedded_test

import (
	"testing"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/storetest"
)

func open(t *testing.T, dir string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t,
		func(t *testing.T) geo.Store {
			s := open(t, t.TempDir())
			t.Cleanup(func() { s.Close() })
			return s
		},
		func(t *testing.T, s geo.Store) geo.Store {
			dir := s.(*embedded.Store).Dir()
			if err := s.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
			r := open(t, dir)
			t.Cleanup(func() { r.Close() })
			return r
		})
}

// BenchmarkReports: a status report plain, with an Idempotency-Key, and
// replayed (go test ./geo/embedded -run '^$' -bench Reports -benchmem).
func BenchmarkReports(b *testing.B) {
	s, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkReports(b, s)
}
