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

// synthetic100k returns the directory of a store holding 100 000
// synthetic points (about ten seconds to make).
func synthetic100k(b *testing.B) string {
	dir := b.TempDir()
	s, err := embedded.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.LoadSynthetic(b, s, 100000)
	return dir
}

// BenchmarkBBoxPages: random 0.06° boxes, pages of 1000, over 100 000
// points (go test ./geo/embedded -run '^$' -bench BBoxPages -benchmem).
func BenchmarkBBoxPages(b *testing.B) {
	s, err := embedded.Open(synthetic100k(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkBBoxPages(b, s)
}

// BenchmarkReopen100k: Open of a store holding 100 000 points, which
// reads only the index records (record.go) and builds the R-tree.
func BenchmarkReopen100k(b *testing.B) {
	dir := synthetic100k(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := embedded.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
