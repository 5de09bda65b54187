package postgis

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/postgis/pgtest"
)

// Bounds of the ratio of PostGIS's sphere distance (geography <->,
// ST_Distance(…, false)) to its spheroid distance that nearest.go relies
// on: R/(a²/b) and R/(a(1−e²)) with R = (2a+b)/3 on WGS-84.
const (
	sphereOverSpheroidMin = 0.995533
	sphereOverSpheroidMax = 1.005614
)

// distancePairsSQL computes the spheroid and sphere distances of many
// pairs of points in one statement.
const distancePairsSQL = `
SELECT ST_Distance(a, b, true), ST_Distance(a, b, false)
FROM (
    SELECT i,
           ST_SetSRID(ST_MakePoint(alon, alat), 4326)::geography AS a,
           ST_SetSRID(ST_MakePoint(blon, blat), 4326)::geography AS b
    FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[]) WITH ORDINALITY AS u(alon, alat, blon, blat, i)
) p
ORDER BY i`

// TestDistanceMatchesPostGIS checks geo.Distance against PostGIS
// ST_Distance(geography, geography) (use_spheroid true, the default) to
// the centimetre: thousands of random pairs in Henan, coincident pairs,
// exactly antipodal and nearly antipodal pairs, and random pairs anywhere
// on Earth; and checks the sphere/spheroid bound of nearest.go on all of
// them.
func TestDistanceMatchesPostGIS(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)

	type pair struct {
		what string
		a, b orb.Point
	}
	rng := rand.New(rand.NewPCG(410182, 2024))
	henan := orb.Bound{Min: orb.Point{110.3, 31.4}, Max: orb.Point{116.7, 36.4}}
	in := func(b orb.Bound) orb.Point {
		return orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	}
	antipode := func(p orb.Point) orb.Point {
		lon := p[0] + 180
		if lon > 180 {
			lon -= 360
		}
		return orb.Point{lon, -p[1]}
	}
	var pairs []pair
	for range 5000 {
		pairs = append(pairs, pair{"henan", in(henan), in(henan)})
	}
	for range 500 { // short lines, where relative errors would show first
		a := in(henan)
		pairs = append(pairs, pair{"henan-short", a, orb.Point{a[0] + (rng.Float64()-0.5)*1e-3, a[1] + (rng.Float64()-0.5)*1e-3}})
	}
	for range 100 {
		a := in(henan)
		pairs = append(pairs, pair{"coincident", a, a})
	}
	for _, p := range []orb.Point{{113.34, 34.79}, {0, 0}, {90, 0}, {110.3, 31.4}, {116.7, 36.4}, {0, 90}, {45, 89.9}} {
		pairs = append(pairs, pair{"antipodal", p, antipode(p)})
	}
	for range 500 {
		a := in(henan)
		off := math.Pow(10, -6+5*rng.Float64()) // 1e-6° to 10°
		b := antipode(a)
		b = orb.Point{b[0] + off*(rng.Float64()*2-1), b[1] + off*(rng.Float64()*2-1)}
		pairs = append(pairs, pair{"near-antipodal", a, b})
	}
	for _, off := range []float64{1e-9, 1e-7, 1e-5, 1e-3, 0.1, 0.5, 1, 3} { // along the equator, into the astroid region
		pairs = append(pairs, pair{"near-antipodal-equator", orb.Point{0, 0}, orb.Point{180 - off, 0}},
			pair{"near-antipodal-equator", orb.Point{0, 0}, orb.Point{179.5, off}})
	}
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	for range 1000 {
		pairs = append(pairs, pair{"world", in(world), in(world)})
	}

	alon, alat, blon, blat := make([]float64, len(pairs)), make([]float64, len(pairs)), make([]float64, len(pairs)), make([]float64, len(pairs))
	for i, p := range pairs {
		alon[i], alat[i], blon[i], blat[i] = p.a[0], p.a[1], p.b[0], p.b[1]
	}
	rows, err := conn.Query(ctx, distancePairsSQL, alon, alat, blon, blat)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	var spheroid, sphere float64
	i := 0
	worst := map[string]float64{}
	minRatio, maxRatio := math.Inf(1), math.Inf(-1)
	_, err = pgx.ForEachRow(rows, []any{&spheroid, &sphere}, func() error {
		p := pairs[i]
		i++
		got := geo.Distance(p.a, p.b)
		diff := math.Abs(got - spheroid)
		worst[p.what] = max(worst[p.what], diff)
		if diff > 0.01 {
			t.Errorf("%s: Distance(%v, %v) = %.6f m, PostGIS %.6f m (|diff| %.3g m)", p.what, p.a, p.b, got, spheroid, diff)
		}
		if spheroid > 1 { // the ratio means nothing for coincident points
			r := sphere / spheroid
			minRatio, maxRatio = min(minRatio, r), max(maxRatio, r)
			if r < sphereOverSpheroidMin || r > sphereOverSpheroidMax {
				t.Errorf("%s: %v–%v: sphere/spheroid = %.6f, outside the bound [%g, %g] nearest.go relies on",
					p.what, p.a, p.b, r, sphereOverSpheroidMin, sphereOverSpheroidMax)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if i != len(pairs) {
		t.Fatalf("PostGIS returned %d rows for %d pairs", i, len(pairs))
	}
	for _, what := range slices.Sorted(maps.Keys(worst)) {
		t.Logf("%-24s largest |Distance − ST_Distance| = %.3g m", what, worst[what])
	}
	t.Logf("%d pairs; sphere/spheroid ratio in [%.6f, %.6f]", len(pairs), minRatio, maxRatio)
}
