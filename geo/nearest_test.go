package geo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/paulmach/orb"
)

// The Xingyang service area used by the property tests.
const (
	xyMinLon, xyMaxLon = 113.13, 113.55
	xyMinLat, xyMaxLat = 34.58, 35.00
)

func randXingyang(r *rand.Rand) orb.Point {
	return orb.Point{xyMinLon + r.Float64()*(xyMaxLon-xyMinLon), xyMinLat + r.Float64()*(xyMaxLat-xyMinLat)}
}

func randWorld(r *rand.Rand) orb.Point {
	switch r.IntN(10) {
	case 0: // poles and the antimeridian
		return orb.Point{[]float64{-180, 180, 179.9999, -179.9999}[r.IntN(4)], []float64{90, -90, 89.99, -89.99, 0}[r.IntN(5)]}
	default:
		// Uniform on the sphere, so the polar caps get their share.
		return orb.Point{r.Float64()*360 - 180, math.Asin(2*r.Float64()-1) / geodDegree}
	}
}

func makeItems(r *rand.Rand, n int, gen func(*rand.Rand) orb.Point) []IndexItem {
	items := make([]IndexItem, n)
	for i := range items {
		items[i] = IndexItem{ID: fmt.Sprintf("d%04d", i), Point: gen(r)}
	}
	return items
}

// bruteCand is one item of the brute-force reference with its distance.
type bruteCand struct {
	n     Neighbor
	order int
}

func bruteLess(a, b bruteCand) bool {
	return cmp.Or(cmp.Compare(a.n.DistanceM, b.n.DistanceM), cmp.Compare(a.n.ID, b.n.ID), cmp.Compare(a.order, b.order)) < 0
}

// bruteAll is the reference's first step: every valid item with its
// Distance from p, in input order.
func bruteAll(items []IndexItem, p orb.Point) []bruteCand {
	var all []bruteCand
	for i, it := range items {
		if nnValid(it.Point) {
			all = append(all, bruteCand{Neighbor{it.ID, it.Point, Distance(p, it.Point)}, i})
		}
	}
	return all
}

// firstK returns the k smallest kept candidates by (Distance, ID, input
// position), in that order, by plain insertion into a sorted list.
func firstK(all []bruteCand, k int, keep func(string) bool) []Neighbor {
	var best []bruteCand
	for _, c := range all {
		if keep != nil && !keep(c.n.ID) {
			continue
		}
		if len(best) == k && !bruteLess(c, best[k-1]) {
			continue
		}
		i := len(best)
		for i > 0 && bruteLess(c, best[i-1]) {
			i--
		}
		best = slices.Insert(best, i, c)
		if len(best) > k {
			best = best[:k]
		}
	}
	out := []Neighbor{}
	for _, c := range best {
		out = append(out, c.n)
	}
	return out
}

// bruteNearest is the brute-force answer to Nearest(p, k, keep).
func bruteNearest(items []IndexItem, p orb.Point, k int, keep func(string) bool) []Neighbor {
	return firstK(bruteAll(items, p), k, keep)
}

// sameNeighbors compares a Nearest result with the brute-force one: same IDs
// and points in the same order, distances equal to 1e-6 m (they are in fact
// computed by the same function and so identical).
func sameNeighbors(got, want []Neighbor) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d neighbours, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Point != want[i].Point || math.Abs(got[i].DistanceM-want[i].DistanceM) > 1e-6 {
			return fmt.Errorf("neighbour %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	return nil
}

// TestNearestMatchesBruteForce is the main property test: 5 000 queries
// against 1 000 depots in the Xingyang area, k = 1..5, with and without a
// keep filter.
func TestNearestMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 6))
	depots := makeItems(r, 1000, randXingyang)
	ix := NewIndex(depots)
	if ix.Len() != len(depots) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(depots))
	}
	keep := func(id string) bool { // drops every third depot
		n, _ := strconv.Atoi(id[1:])
		return n%3 != 0
	}
	queries := 5000
	if testing.Short() {
		queries = 500
	}
	for q := 0; q < queries; q++ {
		p := randXingyang(r)
		all := bruteAll(depots, p)
		for _, kp := range []func(string) bool{nil, keep} {
			want := firstK(all, 5, kp)
			for k := 1; k <= 5; k++ {
				if err := sameNeighbors(ix.Nearest(p, k, kp), want[:k]); err != nil {
					t.Fatalf("query %d %v k=%d filtered=%v: %v", q, p, k, kp != nil, err)
				}
			}
		}
	}
}

// TestNearestWorldwide checks exactness away from Henan: poles, the
// antimeridian and nearly antipodal queries, where a lon/lat bound would be
// most fragile.
func TestNearestWorldwide(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	items := makeItems(r, 2000, randWorld)
	ix := NewIndex(items)
	for q := 0; q < 300; q++ {
		p := randWorld(r)
		if q%3 == 0 { // near the antipode of an item
			a := items[r.IntN(len(items))].Point
			p = orb.Point{a[0] + 180 + r.NormFloat64()*0.01, math.Max(-90, math.Min(90, -a[1]+r.NormFloat64()*0.01))}
		}
		all := bruteAll(items, p)
		for _, k := range []int{1, 3, 10} {
			if err := sameNeighbors(ix.Nearest(p, k, nil), firstK(all, k, nil)); err != nil {
				t.Fatalf("query %v k=%d: %v", p, k, err)
			}
		}
	}
}

func TestNearestDuplicates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	base := makeItems(r, 40, randXingyang)
	var items []IndexItem
	// Each point four times: under its own ID, under fresh IDs that sort
	// before and after it, and once more under its own ID (a duplicate ID).
	for _, it := range base {
		items = append(items, it,
			IndexItem{ID: "a" + it.ID, Point: it.Point},
			IndexItem{ID: "z" + it.ID, Point: it.Point},
			it)
	}
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	ix := NewIndex(items)
	for q := 0; q < 300; q++ {
		p := randXingyang(r)
		if q%2 == 0 {
			p = base[r.IntN(len(base))].Point // exactly on a duplicated point
		}
		for _, k := range []int{1, 2, 3, 4, 5, 9} {
			got := ix.Nearest(p, k, nil)
			if err := sameNeighbors(got, bruteNearest(items, p, k, nil)); err != nil {
				t.Fatalf("query %v k=%d: %v", p, k, err)
			}
			if q%2 == 0 && got[0].DistanceM != 0 {
				t.Fatalf("query on an item: nearest at %v m", got[0].DistanceM)
			}
		}
	}
	// All items at one point: order is by ID, then input position.
	same := []IndexItem{{"c", orb.Point{113.3, 34.8}}, {"a", orb.Point{113.3, 34.8}}, {"b", orb.Point{113.3, 34.8}}, {"a", orb.Point{113.3, 34.8}}}
	got := NewIndex(same).Nearest(orb.Point{113.31, 34.8}, 10, nil)
	if err := sameNeighbors(got, bruteNearest(same, orb.Point{113.31, 34.8}, 10, nil)); err != nil {
		t.Fatal(err)
	}
	if ids := []string{got[0].ID, got[1].ID, got[2].ID, got[3].ID}; !slices.Equal(ids, []string{"a", "a", "b", "c"}) {
		t.Fatalf("tie order %v", ids)
	}
}

// pointAtDistance returns the point at geodesic distance target (metres)
// from q along the lon/lat ray q + t·dir, found by bisection on t.
func pointAtDistance(q orb.Point, dir [2]float64, target float64) orb.Point {
	lo, hi := 0.0, 1.0
	at := func(t float64) orb.Point { return orb.Point{q[0] + t*dir[0], q[1] + t*dir[1]} }
	for Distance(q, at(hi)) < target {
		hi *= 2
	}
	for range 100 {
		mid := (lo + hi) / 2
		if Distance(q, at(mid)) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return at(hi)
}

// TestNearestNearTies places items where the chord ranks them differently
// from the geodesic, so that phase 2 must overturn phase 1.
func TestNearestNearTies(t *testing.T) {
	q := orb.Point{113.34, 34.79}
	chord := func(p orb.Point) float64 {
		a, b := nnECEF(q), nnECEF(p)
		return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
	}
	// Along a meridian the Earth curves more than along the prime
	// vertical, so at 50 km the northward chord falls ~1 mm further short
	// of the geodesic than the eastward one.
	east := pointAtDistance(q, [2]float64{1e-3, 0}, 50000)
	north := pointAtDistance(q, [2]float64{0, 1e-3}, 50000.0005)
	if !(Distance(q, east) < Distance(q, north) && chord(north) < chord(east)) {
		t.Fatalf("precondition: distances %v %v, chords %v %v", Distance(q, east), Distance(q, north), chord(east), chord(north))
	}
	items := []IndexItem{{"north", north}, {"east", east}}
	got := NewIndex(items).Nearest(q, 1, nil)
	if len(got) != 1 || got[0].ID != "east" {
		t.Fatalf("got %+v, want east", got)
	}

	// A ring of items at 20 km ± 2 mm in all directions.
	r := rand.New(rand.NewPCG(8, 8))
	items = nil
	for i := range 300 {
		th := r.Float64() * 2 * math.Pi
		dir := [2]float64{math.Cos(th) / math.Cos(q[1]*geodDegree) * 1e-3, math.Sin(th) * 1e-3}
		items = append(items, IndexItem{ID: fmt.Sprintf("r%03d", i), Point: pointAtDistance(q, dir, 20000+(r.Float64()-0.5)*0.004)})
	}
	ix := NewIndex(items)
	all := bruteAll(items, q)
	inversions := 0
	for i := range all {
		for j := range all {
			if all[i].n.DistanceM < all[j].n.DistanceM && chord(all[i].n.Point) > chord(all[j].n.Point) {
				inversions++
			}
		}
	}
	t.Logf("ring: %d of %d pairs ranked differently by chord and by Distance", inversions, len(all)*(len(all)-1)/2)
	keep := func(id string) bool { return id[len(id)-1]%2 == 0 }
	for k := 1; k <= 20; k++ {
		for _, kp := range []func(string) bool{nil, keep} {
			if err := sameNeighbors(ix.Nearest(q, k, kp), firstK(all, k, kp)); err != nil {
				t.Fatalf("ring k=%d: %v", k, err)
			}
		}
	}
}

func TestNearestKLargerThanN(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	items := makeItems(r, 37, randXingyang)
	ix := NewIndex(items)
	p := randXingyang(r)
	for _, k := range []int{37, 38, 100, 1 << 30} {
		got := ix.Nearest(p, k, nil)
		if err := sameNeighbors(got, bruteNearest(items, p, k, nil)); err != nil {
			t.Fatalf("k=%d: %v", k, err)
		}
	}
	// More than nnStackK neighbours (heap on the heap), with a filter.
	keep := func(id string) bool { return id[len(id)-1] != '7' }
	if err := sameNeighbors(ix.Nearest(p, 30, keep), bruteNearest(items, p, 30, keep)); err != nil {
		t.Fatal(err)
	}
}

func TestNearestEmptyAndInvalid(t *testing.T) {
	p := orb.Point{113.3, 34.8}
	if got := NewIndex(nil).Nearest(p, 3, nil); got != nil {
		t.Errorf("empty index: %v", got)
	}
	var nilIx *Index
	if got := nilIx.Nearest(p, 3, nil); got != nil || nilIx.Len() != 0 {
		t.Errorf("nil index: %v", got)
	}
	items := []IndexItem{
		{"ok", orb.Point{113.3, 34.9}},
		{"nan", orb.Point{math.NaN(), 34.9}},
		{"lat", orb.Point{113.3, 91}},
		{"inf", orb.Point{113.3, math.Inf(-1)}},
	}
	ix := NewIndex(items)
	if ix.Len() != 1 {
		t.Fatalf("invalid items kept: Len = %d", ix.Len())
	}
	for _, k := range []int{0, -1} {
		if got := ix.Nearest(p, k, nil); got != nil {
			t.Errorf("k=%d: %v", k, got)
		}
	}
	for _, q := range []orb.Point{{math.NaN(), 0}, {0, 90.5}, {math.Inf(1), 0}} {
		if got := ix.Nearest(q, 1, nil); got != nil {
			t.Errorf("query %v: %v", q, got)
		}
	}
	if got := ix.Nearest(p, 1, func(string) bool { return false }); len(got) != 0 {
		t.Errorf("keep-nothing filter: %v", got)
	}
	got := ix.Nearest(p, 5, nil)
	if len(got) != 1 || got[0].ID != "ok" || got[0].DistanceM != Distance(p, items[0].Point) {
		t.Errorf("got %+v", got)
	}
	// The input slice is not retained.
	items[0].ID = "changed"
	if got := ix.Nearest(p, 1, nil); got[0].ID != "ok" {
		t.Errorf("index aliases its input: %v", got)
	}
}

// TestIndexLowerBound checks numerically the two inequalities the pruning
// rests on — chord ≤ Distance for pairs of points, and box distance ≤
// chord for every item under every node — with the floating-point margin the
// search uses.
func TestIndexLowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(99, 1))
	chord := func(a, b orb.Point) float64 {
		p, q := nnECEF(a), nnECEF(b)
		return math.Sqrt((p[0]-q[0])*(p[0]-q[0]) + (p[1]-q[1])*(p[1]-q[1]) + (p[2]-q[2])*(p[2]-q[2]))
	}
	worst := math.Inf(1) // smallest Distance − chord seen
	for i := 0; i < 60000; i++ {
		var a, b orb.Point
		switch i % 4 {
		case 0:
			a, b = randWorld(r), randWorld(r)
		case 1:
			a, b = randXingyang(r), randXingyang(r)
		case 2: // very short lines, where chord and geodesic nearly coincide
			a = randWorld(r)
			b = orb.Point{a[0] + r.NormFloat64()*1e-6, math.Max(-90, math.Min(90, a[1]+r.NormFloat64()*1e-6))}
		default: // nearly antipodal
			a = randWorld(r)
			b = orb.Point{a[0] + 180 + r.NormFloat64(), math.Max(-90, math.Min(90, -a[1]+r.NormFloat64()))}
		}
		d, c := Distance(a, b), chord(a, b)
		worst = math.Min(worst, d-c)
		if c > d+nnSlackM {
			t.Fatalf("chord %v > distance %v for %v %v", c, d, a, b)
		}
	}
	t.Logf("min(Distance − chord) over 60k pairs: %.3g m (slack %g m)", worst, nnSlackM)

	// Node boxes of a real index against all their items, queried from
	// random points.
	items := makeItems(r, 3000, randWorld)
	items = append(items, makeItems(r, 3000, randXingyang)...)
	ix := NewIndex(items)
	for q := 0; q < 20; q++ {
		p := randWorld(r)
		if q%2 == 1 {
			p = randXingyang(r)
		}
		s := nnSearch{ix: ix, p: p, q: nnECEF(p)}
		for ni := range ix.nodes {
			n := &ix.nodes[ni]
			bd := math.Sqrt(s.boxDist2(int32(ni)))
			for j := n.lo; j < n.hi; j++ {
				if d := Distance(p, ix.items[j].pt); bd > d+nnSlackM {
					t.Fatalf("node %d box distance %v > Distance %v to item %v", ni, bd, d, ix.items[j].pt)
				}
			}
		}
	}
}

// TestIndexSelect checks the quickselect used to split nodes (the search
// stays exact even with a bad split, since node boxes are computed from
// their items, but it must partition correctly to keep the tree balanced).
func TestIndexSelect(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(60)
		a := make([]nnItem, n)
		for i := range a {
			a[i] = nnItem{xyz: [3]float64{float64(r.IntN(5)), r.Float64(), 0}, order: r.IntN(1000)*100 + i}
		}
		k, axis := r.IntN(n), r.IntN(2)
		nnSelect(a, k, axis)
		key := func(p nnItem) [2]float64 { return [2]float64{p.xyz[axis], float64(p.order)} }
		kk := key(a[k])
		for i := range a {
			c := cmp.Or(cmp.Compare(key(a[i])[0], kk[0]), cmp.Compare(key(a[i])[1], kk[1]))
			if (i < k && c > 0) || (i > k && c < 0) {
				t.Fatalf("trial %d: item %d on the wrong side of the k=%d pivot", trial, i, k)
			}
		}
	}
}

// TestIndexConcurrent runs queries from several goroutines on one index
// (meaningful under -race).
func TestIndexConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	items := makeItems(r, 1000, randXingyang)
	ix := NewIndex(items)
	queries := make([]orb.Point, 200)
	want := make([][]Neighbor, len(queries))
	for i := range queries {
		queries[i] = randXingyang(r)
		want[i] = bruteNearest(items, queries[i], 3, nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := range queries {
				j := (i + g*25) % len(queries)
				if err := sameNeighbors(ix.Nearest(queries[j], 3, nil), want[j]); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

var benchNeighbors []Neighbor

// BenchmarkNearest measures one query against 1 000 depots in the Xingyang
// area.
func BenchmarkNearest(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1000))
	ix := NewIndex(makeItems(r, 1000, randXingyang))
	queries := make([]orb.Point, 4096)
	for i := range queries {
		queries[i] = randXingyang(r)
	}
	for _, k := range []int{1, 5} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				benchNeighbors = ix.Nearest(queries[i%len(queries)], k, nil)
			}
		})
	}
}

// BenchmarkAllNearest100k measures the nearest depot (k = 1) for each of
// 100 000 hazards against 1 000 depots; one op is all 100 000 queries.
func BenchmarkAllNearest100k(b *testing.B) {
	r := rand.New(rand.NewPCG(100, 1000))
	ix := NewIndex(makeItems(r, 1000, randXingyang))
	hazards := make([]orb.Point, 100000)
	for i := range hazards {
		hazards[i] = randXingyang(r)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, h := range hazards {
			benchNeighbors = ix.Nearest(h, 1, nil)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(hazards)), "ns/query")
}

// BenchmarkNewIndex measures building an index of 1 000 and 100 000 points.
func BenchmarkNewIndex(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		r := rand.New(rand.NewPCG(uint64(n), 1))
		items := makeItems(r, n, randXingyang)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = NewIndex(items)
			}
		})
	}
}
