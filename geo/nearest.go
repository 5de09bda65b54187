package geo

// Exact k-nearest-neighbour search by ellipsoidal distance.
//
// The index is a static k-d tree over the Earth-centred, Earth-fixed (ECEF)
// Cartesian coordinates of the items on the WGS-84 ellipsoid. Everything
// rests on one inequality, for the query q, any item p and any tree node
// whose axis-aligned bounding box B contains p:
//
//	BoxDist(q, B) ≤ chord(q, p) = |q − p| ≤ Distance(q, p).
//
// Proof. B contains p, and the Euclidean distance from q to a set is at most
// the distance to any of its points. The geodesic is a curve joining q and p
// (on the ellipsoid's surface), and no curve joining two points of R³ is
// shorter than the straight segment between them. ∎
//
// A query runs in two phases:
//
//  1. Find the k kept items with the shortest chords (an ordinary k-d tree
//     search), compute their true distances and let w be the largest. There
//     are k kept items within w, so every item of the answer has
//     Distance ≤ w, and therefore chord ≤ w.
//  2. Collect every kept item with chord ≤ w (pruning any node with
//     BoxDist > w) and select the best k by (Distance, ID, input position).
//     By the inequality this set contains the whole answer.
//
// Chord and geodesic differ by s³/(24R²) (7 cm at 50 km) and rank items
// almost alike, so phase 2 rarely needs a Distance that phase 1 did not
// already compute: a query costs about k Distance evaluations.
//
// Floating point: coordinates are computed to ~1e-8 m and Distance is good to
// ~15 nm, so a computed Distance is at least the computed chord minus 3e-8 m.
// Phase 2 widens w by nnSlackM = 1 µm (plus 1e-9 relative), far above those
// errors, so it never drops an item that brute force over the same Distance
// function would return — ties included.

import (
	"math"

	"github.com/paulmach/orb"
)

// IndexItem is one point to put in an Index: an identifier and a position
// [longitude, latitude] in degrees.
type IndexItem struct {
	ID    string
	Point orb.Point
}

// Neighbor is one result of Index.Nearest: the item's ID and position and
// its ellipsoidal (WGS-84) distance from the query point in metres, as
// computed by Distance.
type Neighbor struct {
	ID        string
	Point     orb.Point
	DistanceM float64
}

// Index is an immutable spatial index of points answering exact
// k-nearest-neighbour queries by ellipsoidal distance. Build it with
// NewIndex; it is safe for concurrent use by multiple goroutines and is never
// modified after construction (rebuild it to change the items).
type Index struct {
	items []nnItem
	nodes []nnNode
}

const (
	nnLeafSize = 8    // maximum number of items in a leaf
	nnSlackM   = 1e-6 // absolute pruning slack, metres (see the proof above)
	nnSlackRel = 1e-9 // relative pruning slack
	nnStackK   = 16   // k up to which the candidate heaps live on the stack
)

// nnItem is an indexed point with its precomputed ECEF coordinates.
type nnItem struct {
	xyz   [3]float64
	id    string
	pt    orb.Point
	order int // position in the NewIndex input, the final tie-breaker
}

// nnNode is a k-d tree node: the bounding box of items[lo:hi] and, for an
// inner node, its two children (left < 0 marks a leaf).
type nnNode struct {
	min, max    [3]float64
	lo, hi      int32
	left, right int32
}

// nnECEF returns the Earth-centred Cartesian coordinates in metres of the
// point (lon, lat) on the surface of the WGS-84 ellipsoid, written with the
// reduced latitude β: (a cos β cos λ, a cos β sin λ, b sin β).
func nnECEF(p orb.Point) [3]float64 {
	e := geodWGS84
	sbet, cbet := geodSinCosd(p[1])
	sbet, cbet = geodNorm(e.f1*sbet, cbet)
	slam, clam := geodSinCosd(p[0])
	return [3]float64{e.a * cbet * clam, e.a * cbet * slam, e.b * sbet}
}

// nnValid reports whether p has a finite longitude and a latitude in
// [-90, 90], i.e. whether Distance is defined for it.
func nnValid(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsInf(p[0], 0) && geodValidLat(p[1])
}

// NewIndex builds an index of items. The slice is not retained. Items whose
// point has a non-finite coordinate or a latitude outside [-90, 90] have no
// defined distance and are left out. Duplicate points and duplicate IDs are
// allowed. Building takes O(n log n) time and O(n) memory.
func NewIndex(items []IndexItem) *Index {
	ix := &Index{items: make([]nnItem, 0, len(items))}
	for i, it := range items {
		if !nnValid(it.Point) {
			continue
		}
		ix.items = append(ix.items, nnItem{xyz: nnECEF(it.Point), id: it.ID, pt: it.Point, order: i})
	}
	if len(ix.items) > 0 {
		ix.nodes = make([]nnNode, 0, 2*(len(ix.items)/nnLeafSize+1))
		ix.build(0, len(ix.items))
	}
	return ix
}

// Len returns the number of items in the index.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.items)
}

// build creates the subtree for items[lo:hi] and returns its node index.
func (ix *Index) build(lo, hi int) int32 {
	ni := int32(len(ix.nodes))
	ix.nodes = append(ix.nodes, nnNode{}) // filled in below, after the children
	n := nnNode{lo: int32(lo), hi: int32(hi), left: -1, right: -1}
	n.min = ix.items[lo].xyz
	n.max = n.min
	for _, it := range ix.items[lo+1 : hi] {
		for d := 0; d < 3; d++ {
			n.min[d] = math.Min(n.min[d], it.xyz[d])
			n.max[d] = math.Max(n.max[d], it.xyz[d])
		}
	}
	if hi-lo > nnLeafSize {
		// Split at the median of the widest dimension. Boxes are computed
		// from the items themselves, so the search is exact whatever the
		// split; the median only keeps the tree balanced.
		axis := 0
		for d := 1; d < 3; d++ {
			if n.max[d]-n.min[d] > n.max[axis]-n.min[axis] {
				axis = d
			}
		}
		nnSelect(ix.items[lo:hi], (hi-lo)/2, axis)
		mid := lo + (hi-lo)/2
		n.left = ix.build(lo, mid)
		n.right = ix.build(mid, hi)
	}
	ix.nodes[ni] = n
	return ni
}

// nnSelect reorders a so that a[k] is the item that would be there if a were
// sorted by (xyz[axis], order), with no larger item before it and no smaller
// one after it (Hoare's quickselect with a median-of-three pivot; the key is
// unique, so duplicates cannot make it degenerate).
func nnSelect(a []nnItem, k, axis int) {
	less := func(p, q *nnItem) bool {
		if p.xyz[axis] != q.xyz[axis] {
			return p.xyz[axis] < q.xyz[axis]
		}
		return p.order < q.order
	}
	lo, hi := 0, len(a)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		if less(&a[mid], &a[lo]) {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if less(&a[hi], &a[lo]) {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if less(&a[hi], &a[mid]) {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for less(&a[i], &pivot) {
				i++
			}
			for less(&pivot, &a[j]) {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// Now a[lo..j] ≤ pivot ≤ a[i..hi], and a[j+1..i-1] == pivot.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// nnCand is a candidate result: an item and its distance.
type nnCand struct {
	d  float64
	it *nnItem
}

// worse reports whether candidate a ranks after b: farther, or as far with a
// larger ID, or same distance and ID but later in the input.
func (a nnCand) worse(b nnCand) bool {
	if a.d != b.d {
		return a.d > b.d
	}
	if a.it.id != b.it.id {
		return a.it.id > b.it.id
	}
	return a.it.order > b.it.order
}

// nnSearch is the state of one Nearest query. Each of its two heaps is a
// slice of fixed capacity k with an explicit length, so that the backing
// arrays can live on the caller's stack.
type nnSearch struct {
	ix   *Index
	p    orb.Point
	q    [3]float64 // ECEF coordinates of p
	k    int
	keep func(id string) bool

	// Phase 1: the k kept items with the shortest chords, as a max-heap on
	// the squared chord (near[0] is the longest).
	near  []nnCand // d holds the squared chord during phase 1
	nnear int

	// Phase 2: the answer, as a max-heap on worse() (best[0] is the worst).
	best  []nnCand
	nbest int
	thr2  float64 // squared chord beyond which nothing can be in the answer
}

// Nearest returns the k items nearest to p by ellipsoidal distance (see
// Distance), nearest first; items at equal distance are ordered by ID (and
// then by their position in the NewIndex input). Items for which keep
// returns false are skipped; a nil keep keeps every item. keep may be called
// more than once for an item, and concurrently from concurrent queries.
// Fewer than k neighbours are returned if fewer items are kept, and nil if
// k ≤ 0, the index is empty or p is not a valid point. The result is exactly
// that of sorting all kept items by Distance(p, item.Point), ID and input
// position, and taking the first k.
func (ix *Index) Nearest(p orb.Point, k int, keep func(id string) bool) []Neighbor {
	if ix == nil || k <= 0 || len(ix.items) == 0 || !nnValid(p) {
		return nil
	}
	s := nnSearch{ix: ix, p: p, q: nnECEF(p), k: min(k, len(ix.items)), keep: keep}
	var nearBuf, bestBuf [nnStackK]nnCand
	if s.k <= nnStackK {
		s.near, s.best = nearBuf[:s.k], bestBuf[:s.k]
	} else {
		s.near, s.best = make([]nnCand, s.k), make([]nnCand, s.k)
	}

	// Phase 1: some k kept items — the k nearest by chord, which are
	// almost always the answer — and their true distances. The largest, w,
	// bounds the k-th smallest distance from above.
	s.nearestByChord(0)
	if s.nnear == 0 {
		return []Neighbor{}
	}
	w := 0.0
	for i := range s.nnear {
		c := &s.near[i]
		c.d = Distance(p, c.it.pt)
		w = max(w, c.d)
	}

	// Phase 2: every item of the answer has Distance ≤ w and so chord ≤ w;
	// collect all kept items with chord ≤ w (plus the floating-point slack)
	// and keep the best k by (Distance, ID, input position).
	t := w*(1+nnSlackRel) + nnSlackM
	s.thr2 = t * t
	s.collect(0)

	// Pop the heap from the worst down, filling the result from the back.
	out := make([]Neighbor, s.nbest)
	for i := s.nbest - 1; i >= 0; i-- {
		c := s.best[0]
		out[i] = Neighbor{ID: c.it.id, Point: c.it.pt, DistanceM: c.d}
		s.nbest--
		s.best[0] = s.best[s.nbest]
		nnSiftDown(s.best[:s.nbest], 0, nnCand.worse)
	}
	return out
}

// chord2 returns the squared chord from the query point to it.
func (s *nnSearch) chord2(it *nnItem) float64 {
	dx, dy, dz := it.xyz[0]-s.q[0], it.xyz[1]-s.q[1], it.xyz[2]-s.q[2]
	return dx*dx + dy*dy + dz*dz
}

// boxDist2 returns the squared Euclidean distance from the query point to
// the bounding box of node ni (0 if inside).
func (s *nnSearch) boxDist2(ni int32) float64 {
	n := &s.ix.nodes[ni]
	d2 := 0.0
	for d := 0; d < 3; d++ {
		if v := n.min[d] - s.q[d]; v > 0 {
			d2 += v * v
		} else if v := s.q[d] - n.max[d]; v > 0 {
			d2 += v * v
		}
	}
	return d2
}

// nearestByChord is phase 1: a k-nearest search by chord in the subtree ni.
func (s *nnSearch) nearestByChord(ni int32) {
	n := &s.ix.nodes[ni]
	if n.left < 0 {
		for i := n.lo; i < n.hi; i++ {
			it := &s.ix.items[i]
			c2 := s.chord2(it)
			if s.nnear == s.k && c2 >= s.near[0].d {
				continue
			}
			if s.keep != nil && !s.keep(it.id) {
				continue
			}
			if s.nnear < s.k {
				s.near[s.nnear] = nnCand{c2, it}
				s.nnear++
				nnSiftUp(s.near[:s.nnear], s.nnear-1, nnFarther)
			} else {
				s.near[0] = nnCand{c2, it}
				nnSiftDown(s.near, 0, nnFarther)
			}
		}
		return
	}
	a, b := n.left, n.right
	da, db := s.boxDist2(a), s.boxDist2(b)
	if db < da {
		a, b, da, db = b, a, db, da
	}
	if s.nnear < s.k || da < s.near[0].d {
		s.nearestByChord(a)
	}
	if s.nnear < s.k || db < s.near[0].d { // the bound may have shrunk
		s.nearestByChord(b)
	}
}

// collect is phase 2: it offers every kept item of subtree ni whose chord
// is within sqrt(thr2) to the answer heap.
func (s *nnSearch) collect(ni int32) {
	n := &s.ix.nodes[ni]
	if n.left < 0 {
		for i := n.lo; i < n.hi; i++ {
			it := &s.ix.items[i]
			if s.chord2(it) > s.thr2 {
				continue
			}
			if s.keep != nil && !s.keep(it.id) {
				continue
			}
			s.offer(it)
		}
		return
	}
	if s.boxDist2(n.left) <= s.thr2 {
		s.collect(n.left)
	}
	if s.boxDist2(n.right) <= s.thr2 {
		s.collect(n.right)
	}
}

// offer adds item it, at its true distance, to the answer heap if it ranks
// among the best k so far. Distances found in phase 1 are reused.
func (s *nnSearch) offer(it *nnItem) {
	d := -1.0
	for i := range s.nnear {
		if s.near[i].it == it {
			d = s.near[i].d
			break
		}
	}
	if d < 0 {
		d = Distance(s.p, it.pt)
	}
	c := nnCand{d, it}
	switch {
	case s.nbest < s.k:
		s.best[s.nbest] = c
		s.nbest++
		nnSiftUp(s.best[:s.nbest], s.nbest-1, nnCand.worse)
	case s.best[0].worse(c):
		s.best[0] = c
		nnSiftDown(s.best, 0, nnCand.worse)
	}
}

// nnFarther orders phase-1 candidates by squared chord.
func nnFarther(a, b nnCand) bool { return a.d > b.d }

// nnSiftUp restores the max-heap property (on "after") of h upwards from i.
func nnSiftUp(h []nnCand, i int, after func(a, b nnCand) bool) {
	for i > 0 {
		parent := (i - 1) / 2
		if !after(h[i], h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// nnSiftDown restores the max-heap property (on "after") of h downwards
// from i.
func nnSiftDown(h []nnCand, i int, after func(a, b nnCand) bool) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		w := l
		if r := l + 1; r < len(h) && after(h[r], h[l]) {
			w = r
		}
		if !after(h[w], h[i]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
