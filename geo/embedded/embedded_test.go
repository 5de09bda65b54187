package embedded_test

import (
	"sync"
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
	var dirs sync.Map // *embedded.Store → its directory, for reopen
	storetest.Run(t,
		func(t *testing.T) geo.Store {
			dir := t.TempDir()
			s := open(t, dir)
			dirs.Store(s, dir)
			t.Cleanup(func() { s.Close() })
			return s
		},
		func(t *testing.T, s geo.Store) geo.Store {
			dir, _ := dirs.Load(s)
			if err := s.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
			r := open(t, dir.(string))
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
