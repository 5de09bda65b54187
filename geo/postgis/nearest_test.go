package postgis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/postgis/pgtest"
)

// synthetic returns n points in Xingyang and its surroundings (lon
// 113.13–113.55, lat 34.58–35.00), rounded as the store keeps them.
func synthetic(r *rand.Rand, n int) []orb.Point {
	out := make([]orb.Point, n)
	for i := range out {
		p := orb.Point{113.13 + r.Float64()*0.42, 34.58 + r.Float64()*0.42}
		out[i] = geo.Normalize(p).(orb.Point)
	}
	return out
}

// syntheticDepots returns n made-up depots at random places; every fourth
// is on a 4th floor without a lift (not ready), every third stocks fire
// equipment. They are test data, not facts.
func syntheticDepots(r *rand.Rand, n int) []*geo.Feature {
	fs := make([]*geo.Feature, n)
	for i, p := range synthetic(r, n) {
		floor, cats := 1.0, []any{"flood"}
		if i%4 == 0 {
			floor = 4
		}
		if i%3 == 0 {
			cats = append(cats, "fire")
		}
		fs[i] = &geo.Feature{ID: fmt.Sprintf("syn-depot-%05d", i), Geometry: p, Properties: map[string]any{
			"name": "合成仓库", "level": "village", "location_source": "synthetic benchmark data",
			"floor": floor, "has_lift": false, "categories": cats,
		}}
	}
	return fs
}

// openMigrated opens a Store on a new database with the migrations run.
func openMigrated(tb testing.TB) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, pgtest.NewDatabase(tb), nil)
	if err != nil {
		tb.Fatalf("Open = %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate = %v", err)
	}
	return s
}

// TestNearestUsesIndex checks that both steps of the nearest-depot
// statement are served by the geography index of migration 003: the KNN
// order (step 1) and ST_DWithin (step 2).
func TestNearestUsesIndex(t *testing.T) {
	t.Parallel()
	s := openMigrated(t)
	ctx := context.Background()
	if err := s.Import(ctx, geo.Depots, syntheticDepots(rand.New(rand.NewPCG(1, 2)), 2000)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE depots"); err != nil {
		t.Fatal(err)
	}
	var plan []string
	err := s.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "EXPLAIN "+nearestSQL, []float64{113.3, 113.4}, []float64{34.7, 34.8}, int64(3), nil, nil)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if strings.Count(text, "depots_geog_idx") < 2 || !strings.Contains(text, "::geography <->") {
		t.Errorf("the nearest-depot plan does not use depots_geog_idx for both steps:\n%s", text)
	}
}

// BenchmarkAllNearest100k measures the nearest depot for each of 100 000
// synthetic hazards against 1 000 synthetic depots through
// NearestDepots: one op is all 100 000 queries (LATERAL KNN with the
// exact spheroid re-check, in chunks of nearestChunk points). It is
// skipped without DATABASE_URL.
func BenchmarkAllNearest100k(b *testing.B) {
	s := openMigrated(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(100, 1000))
	if err := s.Import(ctx, geo.Depots, syntheticDepots(r, 1000)); err != nil {
		b.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE depots"); err != nil {
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
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != len(hazards) || len(got[0]) != c.q.K {
					b.Fatalf("NearestDepots answered %d points, %d depots for the first", len(got), len(got[0]))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(hazards)), "ns/query")
		})
	}
}
