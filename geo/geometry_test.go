package geo

import (
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestIntersects(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	square := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	cases := []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"nil", nil, false},
		{"point inside", orb.Point{5, 5}, true},
		{"point on edge", orb.Point{10, 5}, true},
		{"point on corner", orb.Point{0, 0}, true},
		{"point outside", orb.Point{10.000001, 5}, false},
		{"multipoint one inside", orb.MultiPoint{{20, 20}, {1, 1}}, true},
		{"line through, no vertex inside", orb.LineString{{-5, 5}, {15, 5}}, true},
		{"line diagonal through corner region", orb.LineString{{-1, 9}, {1, 11}}, true},
		{"line near corner, missing", orb.LineString{{-1, 10.5}, {0.4, 11}}, false},
		{"line touching corner", orb.LineString{{-1, -1}, {0, 0}}, true},
		{"line along edge", orb.LineString{{0, -5}, {0, 15}}, true},
		{"line parallel outside", orb.LineString{{-0.1, -5}, {-0.1, 15}}, false},
		{"vertical line inside", orb.LineString{{5, 2}, {5, 3}}, true},
		{"degenerate line outside", orb.LineString{{11, 11}, {11, 11}}, false},
		{"polygon containing box", orb.Polygon{square(-5, -5, 15, 15)}, true},
		{"polygon inside box", orb.Polygon{square(2, 2, 3, 3)}, true},
		{"polygon with hole containing box", orb.Polygon{square(-5, -5, 15, 15), square(-1, -1, 11, 11)}, false},
		{"polygon with hole, box touching ring", orb.Polygon{square(-5, -5, 15, 15), square(0, 0, 10, 10)}, true},
		{"polygon outside, bounds overlap", orb.Polygon{{{-5, 30}, {30, -5}, {30, 30}, {-5, 30}}}, false},
		{"polygon corner in box", orb.Polygon{{{-5, 20}, {12, 3}, {20, 20}, {-5, 20}}}, true},
		{"multipolygon second hits", orb.MultiPolygon{{square(20, 20, 30, 30)}, {square(9, 9, 12, 12)}}, true},
		{"collection", orb.Collection{orb.Point{50, 50}, orb.Point{1, 1}}, true},
	}
	for _, c := range cases {
		if got := Intersects(c.g, box); got != c.want {
			t.Errorf("Intersects(%s) = %v, want %v", c.name, got, c.want)
		}
	}
}

// sq is a square ring from (x0, y0) to (x1, y1).
func sq(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestValidateGeometry(t *testing.T) {
	all := []string{"Point", "LineString", "Polygon", "MultiPolygon", "MultiPoint", "MultiLineString"}
	cases := []struct {
		name string
		g    orb.Geometry
		ok   bool
	}{
		{"nil is a null geometry", nil, true},
		{"point", orb.Point{113.4, 34.8}, true},
		{"lat lon swapped", orb.Point{34.8, 113.4}, false},
		{"NaN", orb.Point{math.NaN(), 34.8}, false},
		{"Inf", orb.Point{113.4, math.Inf(1)}, false},
		{"short line", orb.LineString{{113.4, 34.8}}, false},
		{"open ring", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, false},
		{"short ring", orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}, false},
		{"empty polygon", orb.Polygon{}, false},
		{"empty multipoint", orb.MultiPoint{}, false},
		{"good polygon", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, true},
		{"repeated positions", orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 0}}}, true},
		{"polygon with hole", orb.Polygon{sq(0, 0, 10, 10), sq(2, 2, 4, 4)}, true},
		{"hole touching the exterior at a point", orb.Polygon{sq(0, 0, 10, 10), {{0, 5}, {3, 4}, {3, 6}, {0, 5}}}, true},
		{"bow tie", orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, false},
		{"ring touching itself", orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {2, 0}, {0, 4}, {0, 0}}}, false},
		{"spike", orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {4, 2}, {0, 4}, {0, 0}}}, false},
		{"three distinct positions only once deduped", orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {0, 0}}}, false},
		{"collinear ring", orb.Polygon{{{0, 0}, {1, 0}, {2, 0}, {0, 0}}}, false},
		{"hole outside", orb.Polygon{sq(0, 0, 10, 10), sq(20, 20, 21, 21)}, false},
		{"hole crossing the exterior", orb.Polygon{sq(0, 0, 10, 10), sq(8, 8, 12, 12)}, false},
		{"hole sharing an edge", orb.Polygon{sq(0, 0, 10, 10), sq(0, 0, 2, 2)}, false},
		{"hole in a hole", orb.Polygon{sq(0, 0, 10, 10), sq(1, 1, 9, 9), sq(2, 2, 3, 3)}, false},
		{"multipolygon with a bow tie", orb.MultiPolygon{{sq(0, 0, 1, 1)}, {{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}}, false},
		{"too many positions", orb.LineString(make([]orb.Point, MaxPositions+1)), false},
	}
	for _, c := range cases {
		err := ValidateGeometry(c.g, all)
		if (err == nil) != c.ok {
			t.Errorf("ValidateGeometry(%s) = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	if err := ValidateGeometry(orb.LineString{{0, 0}, {1, 1}}, []string{"Point"}); err == nil {
		t.Error("ValidateGeometry(LineString, only Point allowed) = nil")
	}
}

func TestNormalize(t *testing.T) {
	cw := orb.Polygon{
		{{0, 0}, {0, 10}, {10, 10}, {10, 0}, {0, 0}}, // exterior, clockwise
		{{2, 2}, {4, 2}, {4, 4}, {2, 4}, {2, 2}},     // hole, counter-clockwise
	}
	got := Normalize(cw).(orb.Polygon)
	if got[0].Orientation() != orb.CCW || got[1].Orientation() != orb.CW {
		t.Errorf("Normalize: orientations %v, %v; want CCW exterior, CW hole", got[0].Orientation(), got[1].Orientation())
	}
	if cw[0].Orientation() != orb.CW {
		t.Error("Normalize changed its argument")
	}
	if p := Normalize(orb.Point{113.123456789, 34.987654321}); p != (orb.Point{113.1234568, 34.9876543}) {
		t.Errorf("Normalize(point) = %v, want 7 decimals", p)
	}
	if Normalize(nil) != nil {
		t.Error("Normalize(nil) != nil")
	}
}

func ExampleIntersects() {
	box := orb.Bound{Min: orb.Point{113.3, 34.7}, Max: orb.Point{113.5, 34.9}}
	// A road running through the box with both ends outside it.
	road := orb.LineString{{113.2, 34.8}, {113.6, 34.8}}
	fmt.Println(Intersects(road, box), Intersects(orb.Point{113.5, 34.9}, box), Intersects(nil, box))
	// Output: true true false
}

// FuzzSimplePolygon checks the sweep of checkSimplePolygon against every
// pair of edges: a ring of small integer positions (many collinear and
// touching cases) is refused exactly when two of its edges meet other
// than where they follow each other.
func FuzzSimplePolygon(f *testing.F) {
	f.Add([]byte{0, 0, 4, 0, 4, 4, 0, 4})
	f.Add([]byte{0, 0, 1, 1, 1, 0, 0, 1})
	f.Add([]byte{0, 0, 4, 0, 4, 4, 4, 2, 0, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 6 || len(b) > 40 {
			return
		}
		var r orb.Ring
		for i := 0; i+1 < len(b); i += 2 {
			r = append(r, orb.Point{float64(b[i] % 8), float64(b[i+1] % 8)})
		}
		r = append(r, r[0])
		got := checkSimplePolygon(orb.Polygon{r}) == nil
		want := bruteSimple(dedupe(r))
		if got != want {
			t.Fatalf("ring %v: checkSimplePolygon says simple=%v, every pair of edges says %v", r, got, want)
		}
	})
}

// bruteSimple reports whether ring r (no consecutive repeats) is simple,
// by testing every pair of edges.
func bruteSimple(r orb.Ring) bool {
	n := len(r) - 1
	if n < 3 {
		return false
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			s := segment{a: r[i], b: r[i+1], i: i, n: n}
			u := segment{a: r[j], b: r[j+1], i: j, n: n}
			if checkPair(s, u) != nil {
				return false
			}
		}
	}
	return true
}
