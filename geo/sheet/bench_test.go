package sheet

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// benchPoints returns n stored waterlogging points like the seed's.
func benchPoints(b *testing.B, n int) []*geo.Feature {
	base := points(b)[0]
	fs := make([]*geo.Feature, n)
	for i := range fs {
		f := base.Clone()
		f.ID = fmt.Sprintf("wp-%06d", i)
		// As a store holds it: normalized (7 decimals).
		f.Geometry = geo.Normalize(orb.Point{113.3 + float64(i%1000)*1e-4, 34.7 + float64(i/1000)*1e-4})
		fs[i] = f
	}
	return fs
}

// BenchmarkExport writes 10 000 points (the most an import takes) as
// xlsx and as CSV.
func BenchmarkExport(b *testing.B) {
	fs := benchPoints(b, 10_000)
	sc := schema(b, geo.WaterloggingPoints)
	for name, open := range map[string]func(w io.Writer) (Encoder, error){
		"xlsx": func(w io.Writer) (Encoder, error) { return NewXLSXEncoder(w, sc, geo.RolePlanner) },
		"csv":  func(w io.Writer) (Encoder, error) { return NewCSVEncoder(w, sc, geo.RolePlanner), nil },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				enc, err := open(&buf)
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range fs {
					if err := enc.Encode(f); err != nil {
						b.Fatal(err)
					}
				}
				if err := enc.Close(); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/file")
		})
	}
}

// BenchmarkImportPlan reads a 10 000-row export back and plans it.
func BenchmarkImportPlan(b *testing.B) {
	fs := benchPoints(b, 10_000)
	sc := schema(b, geo.WaterloggingPoints)
	current := byID(fs)
	for name, file := range map[string][]byte{"xlsx": xlsxOf(b, sc.ID, geo.RolePlanner, fs), "csv": csvOf(b, sc.ID, geo.RolePlanner, fs)} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var t *Table
				var err error
				if name == "xlsx" {
					t, err = ReadXLSX(bytes.NewReader(file), sc, geo.RolePlanner)
				} else {
					t, err = ReadCSV(bytes.NewReader(file), sc, geo.RolePlanner)
				}
				if err != nil {
					b.Fatal(err)
				}
				if p := MakePlan(t, current); p.Count(Unchanged) != len(fs) {
					b.Fatalf("%d unchanged", p.Count(Unchanged))
				}
			}
		})
	}
}
