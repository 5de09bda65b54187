package storetest

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/synthetic"
)

// LoadSynthetic imports n synthetic waterlogging points (geo/synthetic,
// seed 1, as `hazardmap import --synthetic` makes them) into s.
func LoadSynthetic(tb testing.TB, s geo.Store, n int) {
	tb.Helper()
	ctx := geo.WithActor(context.Background(), geo.SystemActor())
	if err := s.Import(ctx, geo.WaterloggingPoints, synthetic.Features(n, 1)); err != nil {
		tb.Fatalf("Import(%d synthetic points) = %v", n, err)
	}
}

// BenchmarkBBoxPages measures what a map panning over a large layer costs
// the store: a page of up to 1000 features (as the public sees them) for a
// new random 0.06° box inside the synthetic layer's extent on every
// iteration, read from a View of its own with AppendFeatures, as the API
// does. s must hold the synthetic layer (LoadSynthetic); the same seed
// gives every store the same boxes.
func BenchmarkBBoxPages(b *testing.B, s geo.Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	box := synthetic.Bounds()
	const size = 0.06
	var buf []byte
	returned := 0
	b.ReportAllocs()
	for b.Loop() {
		x := box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]-size)
		y := box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1]-size)
		q := geo.Query{BBox: &orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + size, y + size}}, Limit: 1000}
		err := s.Read(ctx, func(v geo.View) (err error) {
			var n int
			buf, n, _, err = v.AppendFeatures(ctx, buf[:0], geo.WaterloggingPoints, q, geo.RolePublic)
			returned += n
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(returned)/float64(b.N), "features/op")
}
