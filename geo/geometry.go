package geo

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// ValidateGeometry checks that g (nil is a null geometry, always allowed)
// is one of the allowed GeoJSON types and is well formed: finite WGS-84
// longitudes and latitudes, at least two positions per LineString, closed
// rings of at least four positions, polygons that are regions (simple.go:
// no ring crosses itself or another, holes inside), at most MaxPositions
// positions.
func ValidateGeometry(g orb.Geometry, allowed []string) error {
	if g == nil {
		return nil
	}
	if !slices.Contains(allowed, g.GeoJSONType()) {
		return fmt.Errorf("type %s is not allowed here (allowed: %v)", g.GeoJSONType(), allowed)
	}
	if n := countPositions(g); n > MaxPositions {
		return fmt.Errorf("a geometry may have at most %d positions, this one has %d", MaxPositions, n)
	}
	return checkGeometry(g)
}

func checkGeometry(g orb.Geometry) error {
	switch t := g.(type) {
	case orb.Point:
		return checkPoint(t)
	case orb.MultiPoint:
		if len(t) == 0 {
			return errors.New("empty MultiPoint")
		}
		return checkPoints(t)
	case orb.LineString:
		if len(t) < 2 {
			return errors.New("a LineString needs at least 2 positions")
		}
		return checkPoints(t)
	case orb.MultiLineString:
		if len(t) == 0 {
			return errors.New("empty MultiLineString")
		}
		for _, l := range t {
			if err := checkGeometry(l); err != nil {
				return err
			}
		}
	case orb.Polygon:
		if len(t) == 0 {
			return errors.New("a Polygon needs an exterior ring")
		}
		for _, r := range t {
			if len(r) < 4 {
				return errors.New("a ring needs at least 4 positions")
			}
			if r[0] != r[len(r)-1] {
				return errors.New("a ring must end where it starts")
			}
			if err := checkPoints(r); err != nil {
				return err
			}
		}
		return checkSimplePolygon(t)
	case orb.MultiPolygon:
		if len(t) == 0 {
			return errors.New("empty MultiPolygon")
		}
		for _, p := range t {
			if err := checkGeometry(p); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported geometry %s", g.GeoJSONType())
	}
	return nil
}

func checkPoints(ps []orb.Point) error {
	for _, p := range ps {
		if err := checkPoint(p); err != nil {
			return err
		}
	}
	return nil
}

func checkPoint(p orb.Point) error {
	lon, lat := p[0], p[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return errors.New("coordinates must be finite numbers")
	}
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return fmt.Errorf("position [%g, %g] is outside WGS-84 longitude/latitude (is the order lon, lat?)", lon, lat)
	}
	return nil
}

// Decimals is how many decimal places of a degree are kept: 1e-7 degrees
// is about 1 cm, well below any location precision in the data.
const Decimals = 7

// Normalize returns g with coordinates rounded to Decimals places and
// polygon rings wound as RFC 7946 says: exterior counter-clockwise,
// holes clockwise. Both stores write normalized geometry, so they return
// the same coordinates.
func Normalize(g orb.Geometry) orb.Geometry {
	if g == nil {
		return nil
	}
	g = orb.Round(orb.Clone(g), 1e7)
	switch t := g.(type) {
	case orb.Polygon:
		windPolygon(t)
	case orb.MultiPolygon:
		for _, p := range t {
			windPolygon(p)
		}
	}
	return g
}

func windPolygon(p orb.Polygon) {
	for i, r := range p {
		want := orb.CCW
		if i > 0 {
			want = orb.CW
		}
		if o := r.Orientation(); o != 0 && o != want {
			r.Reverse()
		}
	}
}

// Intersects reports whether g and the box b share at least one point,
// with coordinates taken as planar degrees and edges included: the
// semantics of PostGIS ST_Intersects on geometry(…, 4326). A nil geometry
// intersects nothing.
func Intersects(g orb.Geometry, b orb.Bound) bool {
	if g == nil || !g.Bound().Intersects(b) {
		return false
	}
	switch t := g.(type) {
	case orb.Point:
		return b.Contains(t)
	case orb.MultiPoint:
		return slices.ContainsFunc(t, b.Contains)
	case orb.LineString:
		return lineIntersectsBox(t, b)
	case orb.MultiLineString:
		return slices.ContainsFunc(t, func(l orb.LineString) bool { return lineIntersectsBox(l, b) })
	case orb.Polygon:
		return polygonIntersectsBox(t, b)
	case orb.MultiPolygon:
		return slices.ContainsFunc(t, func(p orb.Polygon) bool { return polygonIntersectsBox(p, b) })
	case orb.Collection:
		return slices.ContainsFunc(t, func(x orb.Geometry) bool { return Intersects(x, b) })
	case orb.Bound:
		return t.Intersects(b)
	case orb.Ring:
		return polygonIntersectsBox(orb.Polygon{t}, b)
	}
	return false
}

func lineIntersectsBox(l orb.LineString, b orb.Bound) bool {
	if len(l) == 1 {
		return b.Contains(l[0])
	}
	for i := 1; i < len(l); i++ {
		if segmentIntersectsBox(l[i-1], l[i], b) {
			return true
		}
	}
	return false
}

// segmentIntersectsBox clips the segment p–q to b (Liang–Barsky) and
// reports whether anything is left, edges included.
func segmentIntersectsBox(p, q orb.Point, b orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := q[0]-p[0], q[1]-p[1]
	clip := func(den, num float64) bool {
		// Keep the part of the segment where den*t <= num.
		switch {
		case den == 0:
			return num >= 0
		case den > 0:
			if t := num / den; t < t1 {
				if t < t0 {
					return false
				}
				t1 = t
			}
		default:
			if t := num / den; t > t0 {
				if t > t1 {
					return false
				}
				t0 = t
			}
		}
		return true
	}
	return clip(-dx, p[0]-b.Min[0]) && clip(dx, b.Max[0]-p[0]) &&
		clip(-dy, p[1]-b.Min[1]) && clip(dy, b.Max[1]-p[1])
}

func polygonIntersectsBox(p orb.Polygon, b orb.Bound) bool {
	if len(p) == 0 {
		return false
	}
	// A ring edge crossing or touching the box.
	for _, r := range p {
		if lineIntersectsBox(orb.LineString(r), b) {
			return true
		}
	}
	// No edge meets the box: the box is wholly inside the polygon (inside
	// the exterior and outside every hole) or wholly outside it.
	c := b.Min
	if !ringContains(p[0], c) {
		return false
	}
	for _, hole := range p[1:] {
		if ringContains(hole, c) {
			return false
		}
	}
	return true
}

// ringContains reports whether pt is strictly inside r (even–odd rule).
func ringContains(r orb.Ring, pt orb.Point) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > pt[1]) != (b[1] > pt[1]) &&
			pt[0] < (b[0]-a[0])*(pt[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}
