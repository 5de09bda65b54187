package geo

import (
	"fmt"
	"slices"

	"github.com/paulmach/orb"
)

// This file checks that a polygon is a region, the way PostGIS's
// ST_IsValid does for the cases that matter to a map of settlements:
//   - every ring is simple: it does not cross or touch itself (a
//     figure-of-eight "bow tie" is refused), nor turn back along itself
//     (a spike), and has at least three distinct positions;
//   - no two rings of a polygon cross or share a stretch of boundary
//     (touching at a single point is allowed, as OGC Simple Features
//     allows it);
//   - every hole lies inside the exterior ring, and no hole inside
//     another.
//
// Not checked: whether the members of a MultiPolygon overlap each other,
// and whether touching holes cut the interior in two. Consecutive
// repeated positions are allowed (and kept); they are skipped here.
// Area, length and distance computations on such data would be wrong, and
// so would the "inside" answers of a bbox query, which is why an invalid
// polygon is refused rather than stored.

// MaxPositions caps the positions of one geometry: far beyond a village
// outline (the largest polygons here have a few hundred), and small
// enough that checking a polygon is quick.
const MaxPositions = 10_000

// countPositions returns the positions of g.
func countPositions(g orb.Geometry) int {
	switch t := g.(type) {
	case orb.Point:
		return 1
	case orb.MultiPoint:
		return len(t)
	case orb.LineString:
		return len(t)
	case orb.MultiLineString:
		n := 0
		for _, l := range t {
			n += len(l)
		}
		return n
	case orb.Polygon:
		n := 0
		for _, r := range t {
			n += len(r)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range t {
			n += countPositions(p)
		}
		return n
	}
	return 0
}

// segment is one edge of a ring: from a to b, edge i of ring r, which
// has n edges.
type segment struct {
	a, b    orb.Point
	r, i, n int
}

func (s segment) minX() float64 { return min(s.a[0], s.b[0]) }
func (s segment) maxX() float64 { return max(s.a[0], s.b[0]) }

// checkSimplePolygon reports why p (closed rings of finite positions, as
// checkGeometry has found them) is not a region, or nil.
func checkSimplePolygon(p orb.Polygon) error {
	var segs []segment
	rings := make([]orb.Ring, len(p))
	for ri, r := range p {
		rings[ri] = dedupe(r)
		if len(rings[ri]) < 4 {
			return fmt.Errorf("%s needs at least 3 distinct positions", ringName(ri))
		}
		n := len(rings[ri]) - 1
		for i := range n {
			segs = append(segs, segment{a: rings[ri][i], b: rings[ri][i+1], r: ri, i: i, n: n})
		}
	}
	slices.SortFunc(segs, func(x, y segment) int {
		switch {
		case x.minX() < y.minX():
			return -1
		case x.minX() > y.minX():
			return 1
		}
		return 0
	})
	for i, s := range segs {
		for _, t := range segs[i+1:] {
			if t.minX() > s.maxX() {
				break
			}
			if max(s.a[1], s.b[1]) < min(t.a[1], t.b[1]) || max(t.a[1], t.b[1]) < min(s.a[1], s.b[1]) {
				continue
			}
			if err := checkPair(s, t); err != nil {
				return err
			}
		}
	}
	shell := rings[0]
	for hi, h := range rings[1:] {
		if in, ok := inside(shell, h); !ok || !in {
			return fmt.Errorf("%s lies outside the exterior ring", ringName(hi+1))
		}
		for oi, o := range rings[1:] {
			if oi == hi {
				continue
			}
			if in, ok := inside(o, h); ok && in {
				return fmt.Errorf("%s lies inside %s", ringName(hi+1), ringName(oi+1))
			}
		}
	}
	return nil
}

// checkPair reports how two edges break the rules, or nil.
func checkPair(s, t segment) error {
	if s.r == t.r {
		adjacent := (s.i+1)%s.n == t.i || (t.i+1)%s.n == s.i
		if adjacent {
			// Edges that follow each other share a vertex and nothing more:
			// one lying along the other turns the ring back on itself.
			if orient(s.a, s.b, t.a) == 0 && orient(s.a, s.b, t.b) == 0 && overlapBeyondPoint(s, t) {
				return fmt.Errorf("%s turns back along itself near [%g, %g]", ringName(s.r), shared(s, t)[0], shared(s, t)[1])
			}
			return nil
		}
		if intersects(s, t) {
			return fmt.Errorf("%s crosses or touches itself near [%g, %g] (a ring must not intersect itself)", ringName(s.r), s.a[0], s.a[1])
		}
		return nil
	}
	// Edges of two rings may touch at a point, not cross nor share a
	// stretch.
	o1, o2 := orient(s.a, s.b, t.a), orient(s.a, s.b, t.b)
	o3, o4 := orient(t.a, t.b, s.a), orient(t.a, t.b, s.b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return fmt.Errorf("%s and %s cross near [%g, %g]", ringName(s.r), ringName(t.r), s.a[0], s.a[1])
	}
	if o1 == 0 && o2 == 0 && overlapBeyondPoint(s, t) {
		return fmt.Errorf("%s and %s share a stretch of boundary near [%g, %g]", ringName(s.r), ringName(t.r), s.a[0], s.a[1])
	}
	return nil
}

// shared returns the vertex adjacent edges s and t have in common.
func shared(s, t segment) orb.Point {
	if s.b == t.a {
		return s.b
	}
	return s.a
}

// intersects reports whether edges s and t have any point in common.
func intersects(s, t segment) bool {
	o1, o2 := orient(s.a, s.b, t.a), orient(s.a, s.b, t.b)
	o3, o4 := orient(t.a, t.b, s.a), orient(t.a, t.b, s.b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true
	}
	return (o1 == 0 && onSegment(s.a, s.b, t.a)) || (o2 == 0 && onSegment(s.a, s.b, t.b)) ||
		(o3 == 0 && onSegment(t.a, t.b, s.a)) || (o4 == 0 && onSegment(t.a, t.b, s.b))
}

// overlapBeyondPoint reports whether collinear edges s and t share more
// than one point.
func overlapBeyondPoint(s, t segment) bool {
	// Project on the axis along which the edges are longer.
	axis := 0
	if max(s.a[1], s.b[1])-min(s.a[1], s.b[1]) > max(s.a[0], s.b[0])-min(s.a[0], s.b[0]) {
		axis = 1
	}
	lo := max(min(s.a[axis], s.b[axis]), min(t.a[axis], t.b[axis]))
	hi := min(max(s.a[axis], s.b[axis]), max(t.a[axis], t.b[axis]))
	return hi > lo
}

// orient returns the sign of the turn a → b → c: 1 left, -1 right, 0 on
// the line.
func orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// onSegment reports whether c, on the line through a and b, lies between
// them.
func onSegment(a, b, c orb.Point) bool {
	return min(a[0], b[0]) <= c[0] && c[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= c[1] && c[1] <= max(a[1], b[1])
}

// inside reports whether ring h lies inside ring r, judged by the first
// vertex of h not on r's boundary; ok is false when every vertex of h is
// on it.
func inside(r, h orb.Ring) (in, ok bool) {
	for _, v := range h {
		if onRing(r, v) {
			continue
		}
		return ringContains(r, v), true
	}
	return false, false
}

// onRing reports whether v lies on the boundary of r.
func onRing(r orb.Ring, v orb.Point) bool {
	for i := 1; i < len(r); i++ {
		if orient(r[i-1], r[i], v) == 0 && onSegment(r[i-1], r[i], v) {
			return true
		}
	}
	return false
}

// dedupe returns r without consecutive repeated positions.
func dedupe(r orb.Ring) orb.Ring {
	out := make(orb.Ring, 0, len(r))
	for i, p := range r {
		if i == 0 || p != r[i-1] {
			out = append(out, p)
		}
	}
	return out
}

// ringName names ring i of a polygon in messages.
func ringName(i int) string {
	if i == 0 {
		return "the exterior ring"
	}
	return fmt.Sprintf("hole %d", i)
}
