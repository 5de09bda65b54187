package embedded_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
)

// synthetic returns n points in Xingyang and its surroundings (lon
// 113.13–113.55, lat 34.58–35.00), rounded as the store keeps them.
func synthetic(r *rand.Rand, n int) []orb.Point {
	out := make([]orb.Point, n)
	for i := range out {
		out[i] = geo.Normalize(orb.Point{113.13 + r.Float64()*0.42, 34.58 + r.Float64()*0.42}).(orb.Point)
	}
	return out
}

// BenchmarkAllNearest100k measures the nearest depot for each of 100 000
// synthetic hazards against 1 000 synthetic depots through
// View.NearestDepots (the in-memory geo.Index); one op is all 100 000
// queries. Every fourth depot is on a 4th floor without a lift, so the
// ready filter rejects it. The same data as geo/postgis's benchmark of
// the same name.
func BenchmarkAllNearest100k(b *testing.B) {
	s, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	r := rand.New(rand.NewPCG(100, 1000))
	depots := make([]*geo.Feature, 1000)
	for i, p := range synthetic(r, len(depots)) {
		floor := 1.0
		if i%4 == 0 {
			floor = 4
		}
		depots[i] = &geo.Feature{ID: fmt.Sprintf("syn-depot-%05d", i), Geometry: p, Properties: map[string]any{
			"name": "合成仓库", "level": "village", "location_source": "synthetic benchmark data",
			"floor": floor, "has_lift": false, "categories": []any{"flood"},
		}}
	}
	if err := s.Import(ctx, geo.Depots, depots); err != nil {
		b.Fatal(err)
	}
	hazards := synthetic(r, 100000)
	yes := true
	for _, c := range []struct {
		name string
		q    geo.NearestQuery
	}{
		{"k=1", geo.NearestQuery{Points: hazards, K: 1}},
		{"k=1,ready", geo.NearestQuery{Points: hazards, K: 1, Filter: geo.DepotFilter{Ready: &yes}}},
		{"k=3", geo.NearestQuery{Points: hazards, K: 3}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var got [][]geo.Neighbor
				err := s.Read(ctx, func(v geo.View) (err error) {
					got, err = v.NearestDepots(ctx, c.q)
					return err
				})
				if err != nil || len(got) != len(hazards) || len(got[0]) != c.q.K {
					b.Fatalf("NearestDepots = %d lists, %v", len(got), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(hazards)), "ns/query")
		})
	}
}
