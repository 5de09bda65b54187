package geo

// Ellipsoidal (WGS-84) geodesic distance: the inverse geodesic problem solved
// with the method of C. F. F. Karney, "Algorithms for geodesics",
// J. Geodesy 87 (2013) 43–55, https://doi.org/10.1007/s00190-012-0578-z.
//
// Outline:
//
//   - The ellipsoid is mapped onto an auxiliary sphere through the reduced
//     latitude β (tan β = (1−f) tan φ). A geodesic becomes a great circle on
//     that sphere, with arc length σ and spherical longitude ω; the distance s
//     and the ellipsoidal longitude λ follow from σ and ω through the integrals
//     I1 and I3, expanded as Fourier series in σ whose coefficients are
//     power series in ε (and in n for I3). They are carried to sixth
//     order, which is accurate to round-off (about 15 nm) for WGS-84.
//   - The inverse problem reduces to finding the azimuth α1 at the first
//     point for which λ12(α1) equals the given longitude difference. Meridians,
//     the equator and very short lines are solved directly. Otherwise a
//     starting guess (spherical, or for nearly antipodal points the astroid
//     solution) is refined by Newton's method using the derivative
//     ∂λ12/∂α1 = m12/(a cos α2 cos β2). A bracket [α1a, α1b] around the
//     root is kept up to date and bisected whenever a Newton step is
//     unusable (non-positive derivative, a step leaving (0°, 180°)) or after
//     geodMaxit1 steps, so the iteration always terminates, after at most
//     geodMaxit2 evaluations of λ12.
//
// The implementation below is written for this package from the equations in
// the paper; the series coefficients (A1, C1, A2, C2, A3, C3) are the
// paper's, and geodesic_test.go checks them independently against numerical
// quadrature of the integrals they expand.

import (
	"math"

	"github.com/paulmach/orb"
)

// WGS-84 defining constants.
const (
	// WGS84SemiMajorAxis is the equatorial radius a of the WGS-84 ellipsoid, in metres.
	WGS84SemiMajorAxis = 6378137.0
	// WGS84Flattening is the flattening f of the WGS-84 ellipsoid.
	WGS84Flattening = 1 / 298.257223563
)

// Numerical tolerances of the iterative solution.
const (
	geodTol0    = 0x1p-52                // machine epsilon
	geodTol1    = 200 * geodTol0         // slack on the astroid-region test
	geodMaxit1  = 20                     // Newton iterations before bisection only
	geodMaxit2  = geodMaxit1 + 63        // hard cap on λ12 evaluations
	geodOrder   = 6                      // order of the series expansions
	geodDegree  = math.Pi / 180          // radians per degree
	geodTinyArg = 0x1p-511               // ≈ sqrt(smallest normal); keeps cos β > 0 at the poles
	geodSqrtEps = 1.4901161193847656e-08 // sqrt(geodTol0)
)

// geodEllipsoid holds the derived constants of an oblate ellipsoid of
// revolution together with the n-dependent series coefficients.
type geodEllipsoid struct {
	a, f    float64 // equatorial radius, flattening
	f1      float64 // 1 − f
	e2      float64 // first eccentricity squared
	ep2     float64 // second eccentricity squared
	n       float64 // third flattening f/(2−f)
	b       float64 // polar semi-axis
	etol2   float64 // threshold on sin σ12 for the short-line shortcut
	tolb    float64 // bisection termination tolerance
	xthresh float64 // threshold in the astroid region test
	// A3(ε) = Σ a3[j] ε^j, j = 0..5
	a3 [geodOrder]float64
	// C3_l(ε) = Σ_{j=l}^{5} c3[l][j] ε^j, l = 1..5
	c3 [geodOrder][geodOrder]float64
}

// geodWGS84 is the ellipsoid used by Distance and Inverse.
var geodWGS84 = newGeodEllipsoid(WGS84SemiMajorAxis, WGS84Flattening)

// newGeodEllipsoid derives the constants for the ellipsoid (a, f); it
// supports oblate ellipsoids with 0 ≤ f ≤ 1/50.
func newGeodEllipsoid(a, f float64) *geodEllipsoid {
	e := &geodEllipsoid{a: a, f: f}
	e.f1 = 1 - f
	e.e2 = f * (2 - f)
	e.ep2 = e.e2 / (e.f1 * e.f1)
	e.n = f / (2 - f)
	e.b = a * e.f1
	// Short lines whose sin σ12 is below etol2 are solved in closed form; the
	// error of that approximation is then below round-off.
	e.etol2 = 0.1 * geodSqrtEps / math.Sqrt(math.Max(0.001, math.Abs(f))*math.Min(1, 1-f/2)/2)
	e.tolb = geodTol0 * geodSqrtEps
	e.xthresh = 1000 * geodSqrtEps

	n, n2 := e.n, e.n*e.n
	e.a3 = [geodOrder]float64{
		1,
		(n - 1) / 2,
		(3*n2 - n - 2) / 8,
		(-n2 - 3*n - 1) / 16,
		(-2*n - 3) / 64,
		-3.0 / 128,
	}
	e.c3[1] = [geodOrder]float64{0, (1 - n) / 4, (1 - n2) / 8, (3 + 3*n - n2) / 64, (5 + 2*n) / 128, 3.0 / 128}
	e.c3[2] = [geodOrder]float64{0, 0, (2 - 3*n + n2) / 32, (3 - 2*n - 3*n2) / 64, (3 + n) / 128, 5.0 / 256}
	e.c3[3] = [geodOrder]float64{0, 0, 0, (5 - 9*n + 5*n2) / 192, (9 - 10*n) / 384, 7.0 / 512}
	e.c3[4] = [geodOrder]float64{0, 0, 0, 0, (7 - 14*n) / 512, 7.0 / 512}
	e.c3[5] = [geodOrder]float64{0, 0, 0, 0, 0, 21.0 / 2560}
	return e
}

// Distance returns the length in metres of the shortest path (geodesic)
// between a and b on the WGS-84 ellipsoid. Points are orb.Point values
// [longitude, latitude] in degrees; any finite longitude is accepted and
// latitudes must lie in [-90, 90]. The result is accurate to about 15
// nanometres for every pair of points, including nearly antipodal ones, is
// exactly 0 for coincident points, and never exceeds half the meridian
// (20003931.4586 m). It returns NaN if a coordinate is NaN or infinite or a
// latitude is outside [-90, 90]. Distance is safe for concurrent use and does
// not allocate.
func Distance(a, b orb.Point) float64 {
	s12, _, _, _, _ := geodWGS84.inverse(a[1], a[0], b[1], b[0])
	return s12
}

// Inverse solves the inverse geodesic problem on the WGS-84 ellipsoid: it
// returns the distance s12 in metres between a and b (exactly as Distance
// does) and the forward azimuths of the geodesic at a (azi1) and at b (azi2),
// in degrees clockwise from north in (-180, 180]. Azimuths of a zero-length
// geodesic, or of a geodesic ending at a pole, follow the conventions of
// GeographicLib (the limit of approaching along the meridian). Invalid input
// gives NaN for all three results.
func Inverse(a, b orb.Point) (s12, azi1, azi2 float64) {
	s12, salp1, calp1, salp2, calp2 := geodWGS84.inverse(a[1], a[0], b[1], b[0])
	if math.IsNaN(s12) {
		return s12, s12, s12
	}
	return s12, geodAtan2d(salp1, calp1), geodAtan2d(salp2, calp2)
}

// inverse solves the inverse problem between (lat1, lon1) and (lat2, lon2),
// in degrees. It returns the distance in metres and the sines and cosines of
// the azimuths at both ends (each pair a unit vector).
func (e *geodEllipsoid) inverse(lat1, lon1, lat2, lon2 float64) (s12, salp1, calp1, salp2, calp2 float64) {
	if !geodValidLat(lat1) || !geodValidLat(lat2) || math.IsInf(lon1, 0) || math.IsInf(lon2, 0) ||
		math.IsNaN(lon1) || math.IsNaN(lon2) {
		nan := math.NaN()
		return nan, nan, nan, nan, nan
	}

	// Longitude difference, reduced to [0, 180] with its sign kept in
	// lonsign. lon12s is the supplement 180° − lon12, computed with the
	// rounding error of the difference folded in so that it stays accurate
	// when lon12 is close to 180°.
	lon12, lon12err := geodAngDiff(lon1, lon2)
	lonsign := 1.0
	if math.Signbit(lon12) {
		lonsign = -1
	}
	lon12 = lonsign * geodAngRound(lon12)
	lon12s := geodAngRound((180 - lon12) - lonsign*lon12err)
	lam12 := lon12 * geodDegree
	var slam12, clam12 float64
	if lon12 > 90 {
		slam12, clam12 = geodSinCosd(lon12s)
		clam12 = -clam12
	} else {
		slam12, clam12 = geodSinCosd(lon12)
	}

	// Canonical configuration: |lat1| ≥ |lat2| (swap the ends, remember in
	// swapp) and lat1 ≤ 0 (reflect in the equator, remember in latsign).
	lat1 = geodAngRound(lat1)
	lat2 = geodAngRound(lat2)
	swapp := 1.0
	if math.Abs(lat1) < math.Abs(lat2) {
		swapp = -1
		lonsign = -lonsign
		lat1, lat2 = lat2, lat1
	}
	latsign := -1.0
	if math.Signbit(lat1) {
		latsign = 1
	}
	lat1 *= latsign
	lat2 *= latsign

	// Reduced latitudes as unit vectors (sin β, cos β).
	sbet1, cbet1 := geodSinCosd(lat1)
	sbet1 *= e.f1
	sbet1, cbet1 = geodNorm(sbet1, cbet1)
	cbet1 = math.Max(geodTinyArg, cbet1)
	sbet2, cbet2 := geodSinCosd(lat2)
	sbet2 *= e.f1
	sbet2, cbet2 = geodNorm(sbet2, cbet2)
	cbet2 = math.Max(geodTinyArg, cbet2)

	// Where |β2| = |β1| exactly in the input make it exact here too, so
	// that the symmetric cases below are recognised.
	if cbet1 < -sbet1 {
		if cbet2 == cbet1 {
			sbet2 = math.Copysign(sbet1, sbet2)
		}
	} else if math.Abs(sbet2) == -sbet1 {
		cbet2 = cbet1
	}

	dn1 := math.Sqrt(1 + e.ep2*sbet1*sbet1)
	dn2 := math.Sqrt(1 + e.ep2*sbet2*sbet2)

	var sig12, s12x float64
	meridian := lat1 == -90 || slam12 == 0
	if meridian {
		// Both points on one meridian (or point 1 at a pole): α1 = lon12,
		// α2 = 0, and σ follows from β directly.
		calp1, salp1 = clam12, slam12
		calp2, salp2 = 1, 0
		ssig1, csig1 := sbet1, calp1*cbet1
		ssig2, csig2 := sbet2, calp2*cbet2
		sig12 = math.Atan2(math.Max(0, csig1*ssig2-ssig1*csig2), csig1*csig2+ssig1*ssig2)
		s12b, m12b := e.lengths(e.n, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2)
		// Through a pole the meridian stays shortest only up to the
		// conjugate point (reduced length m12 turning negative); beyond it
		// fall through to the general solution.
		if sig12 < 1 || m12b >= 0 {
			if sig12 < 3*geodTinyArg {
				s12b = 0
			}
			s12x = e.b * s12b
		} else {
			meridian = false
		}
	}

	if !meridian && sbet1 == 0 && lon12s >= e.f*180 {
		// Both points on the equator, and not so far apart that the
		// geodesic leaves the equator for a pole: the equator is shortest.
		calp1, calp2, salp1, salp2 = 0, 0, 1, 1
		s12x = e.a * lam12
	} else if !meridian {
		var dnm float64
		sig12, salp1, calp1, salp2, calp2, dnm = e.inverseStart(sbet1, cbet1, dn1, sbet2, cbet2, dn2,
			lam12, slam12, clam12)
		if sig12 >= 0 {
			// Short line solved in closed form by inverseStart.
			s12x = sig12 * e.b * dnm
		} else {
			s12x = e.solveNewton(sbet1, cbet1, dn1, sbet2, cbet2, dn2, slam12, clam12,
				&salp1, &calp1, &salp2, &calp2)
		}
	}
	s12 = 0 + s12x // turns −0 into +0

	// Undo the canonicalisation for the azimuths.
	if swapp < 0 {
		salp1, salp2 = salp2, salp1
		calp1, calp2 = calp2, calp1
	}
	salp1 *= swapp * lonsign
	calp1 *= swapp * latsign
	salp2 *= swapp * lonsign
	calp2 *= swapp * latsign
	return s12, salp1, calp1, salp2, calp2
}

// solveNewton finds α1 with λ12(α1) = the target longitude difference
// (given as slam12, clam12) by safeguarded Newton iteration, starting from
// the guess in (salp1, calp1). It updates the azimuths in place and returns
// the distance in metres.
func (e *geodEllipsoid) solveNewton(sbet1, cbet1, dn1, sbet2, cbet2, dn2, slam12, clam12 float64,
	psalp1, pcalp1, psalp2, pcalp2 *float64) float64 {
	salp1, calp1 := *psalp1, *pcalp1
	var salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps float64
	// Bracket for α1: λ12 − target is negative at α1a and positive at α1b.
	// Initially α1a = 0 (due north, shortest λ12) and α1b = 180° (due south).
	salp1a, calp1a := geodTinyArg, 1.0
	salp1b, calp1b := geodTinyArg, -1.0
	tripn, tripb := false, false
	for numit := 0; ; numit++ {
		var v, dv float64
		v, dv, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps = e.lambda12(
			sbet1, cbet1, dn1, sbet2, cbet2, dn2, salp1, calp1, slam12, clam12, numit < geodMaxit1)
		// The negated comparison also exits on NaN.
		tol := geodTol0
		if tripn {
			tol = 8 * geodTol0
		}
		if tripb || !(math.Abs(v) >= tol) || numit == geodMaxit2 {
			break
		}
		// Tighten the bracket.
		if v > 0 && (numit > geodMaxit1 || calp1/salp1 > calp1b/salp1b) {
			salp1b, calp1b = salp1, calp1
		} else if v < 0 && (numit > geodMaxit1 || calp1/salp1 < calp1a/salp1a) {
			salp1a, calp1a = salp1, calp1
		}
		if numit < geodMaxit1 && dv > 0 {
			dalp1 := -v / dv
			if math.Abs(dalp1) < math.Pi {
				sdalp1, cdalp1 := math.Sincos(dalp1)
				nsalp1 := salp1*cdalp1 + calp1*sdalp1
				if nsalp1 > 0 {
					calp1 = calp1*cdalp1 - salp1*sdalp1
					salp1 = nsalp1
					salp1, calp1 = geodNorm(salp1, calp1)
					// Once |v| is this small one more Newton step
					// converges to round-off; stop after it.
					tripn = math.Abs(v) <= 16*geodTol0
					continue
				}
			}
		}
		// Newton failed or left (0, π): bisect the bracket instead.
		salp1 = (salp1a + salp1b) / 2
		calp1 = (calp1a + calp1b) / 2
		salp1, calp1 = geodNorm(salp1, calp1)
		tripn = false
		tripb = math.Abs(salp1a-salp1)+(calp1a-calp1) < e.tolb ||
			math.Abs(salp1-salp1b)+(calp1-calp1b) < e.tolb
	}
	s12b, _ := e.lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2)
	*psalp1, *pcalp1, *psalp2, *pcalp2 = salp1, calp1, salp2, calp2
	return e.b * s12b
}

// lengths returns the distance s12/b and the reduced length m12/b of the
// geodesic arc from σ1 to σ2 (integrals I1 and I2 of the paper); eps is the
// expansion parameter ε of the geodesic.
func (e *geodEllipsoid) lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2 float64) (s12b, m12b float64) {
	var c1, c2 [geodOrder + 1]float64
	a1m1 := geodA1m1(eps)
	geodC1(eps, &c1)
	a2m1 := geodA2m1(eps)
	geodC2(eps, &c2)
	a1, a2 := 1+a1m1, 1+a2m1
	b1 := geodSinSeries(ssig2, csig2, &c1) - geodSinSeries(ssig1, csig1, &c1)
	b2 := geodSinSeries(ssig2, csig2, &c2) - geodSinSeries(ssig1, csig1, &c2)
	s12b = a1 * (sig12 + b1)
	// J12 = I1(σ12) − I2(σ12), written so that its leading terms cancel
	// analytically: (A1 − A2) σ12 + (A1 B1 − A2 B2).
	j12 := (a1m1-a2m1)*sig12 + (a1*b1 - a2*b2)
	m12b = dn2*(csig1*ssig2) - dn1*(ssig1*csig2) - csig1*csig2*j12
	return s12b, m12b
}

// inverseStart returns a first approximation to α1 (and, for short lines,
// the complete solution). If the line is short enough to be solved directly
// it returns sig12 ≥ 0 together with α2 and dnm, the mean value of
// sqrt(1 + e'² sin² β) used to scale the spherical solution; otherwise sig12
// is −1 and only (salp1, calp1) is meaningful.
func (e *geodEllipsoid) inverseStart(sbet1, cbet1, dn1, sbet2, cbet2, dn2, lam12, slam12, clam12 float64) (
	sig12, salp1, calp1, salp2, calp2, dnm float64) {
	sig12 = -1
	salp2, calp2 = math.NaN(), math.NaN()
	sbet12 := sbet2*cbet1 - cbet2*sbet1  // sin(β2 − β1)
	cbet12 := cbet2*cbet1 + sbet2*sbet1  // cos(β2 − β1)
	sbet12a := sbet2*cbet1 + cbet2*sbet1 // sin(β2 + β1)

	shortline := cbet12 >= 0 && sbet12 < 0.5 && cbet2*lam12 < 0.5
	var somg12, comg12 float64
	if shortline {
		// Treat the ellipsoid locally as a sphere of radius b·dnm, with ω
		// scaled accordingly.
		sbetm2 := (sbet1 + sbet2) * (sbet1 + sbet2)
		sbetm2 /= sbetm2 + (cbet1+cbet2)*(cbet1+cbet2)
		dnm = math.Sqrt(1 + e.ep2*sbetm2)
		omg12 := lam12 / (e.f1 * dnm)
		somg12, comg12 = math.Sincos(omg12)
	} else {
		somg12, comg12 = slam12, clam12
	}

	// Azimuth of the great circle on the auxiliary sphere, with the
	// denominator written to avoid cancellation for either sign of cos ω12.
	salp1 = cbet2 * somg12
	if comg12 >= 0 {
		calp1 = sbet12 + cbet2*sbet1*somg12*somg12/(1+comg12)
	} else {
		calp1 = sbet12a - cbet2*sbet1*somg12*somg12/(1-comg12)
	}
	ssig12 := math.Sqrt(salp1*salp1 + calp1*calp1)
	csig12 := sbet1*sbet2 + cbet1*cbet2*comg12

	switch {
	case shortline && ssig12 < e.etol2:
		// Really short: the spherical solution is the answer.
		salp2 = cbet1 * somg12
		if comg12 >= 0 {
			calp2 = sbet12 - cbet1*sbet2*(somg12*somg12/(1+comg12))
		} else {
			calp2 = sbet12 - cbet1*sbet2*(1-comg12)
		}
		salp2, calp2 = geodNorm(salp2, calp2)
		sig12 = math.Atan2(ssig12, csig12)
	case math.Abs(e.n) > 0.1 || csig12 >= 0 || ssig12 >= 6*math.Abs(e.n)*math.Pi*cbet1*cbet1:
		// Not nearly antipodal: the spherical guess above is good enough
		// for Newton's method.
	default:
		// Nearly antipodal: rescale to coordinates (x, y) centred on
		// the antipode of point 1 and solve the astroid equation for the
		// starting azimuth.
		lam12x := math.Atan2(-slam12, -clam12) // lam12 − π
		k2 := sbet1 * sbet1 * e.ep2
		eps := k2 / (2*(1+math.Sqrt(1+k2)) + k2)
		lamscale := e.f * cbet1 * e.a3f(eps) * math.Pi
		betscale := lamscale * cbet1
		x := lam12x / lamscale
		y := sbet12a / betscale
		if y > -geodTol1 && x > -1-e.xthresh {
			// Point 2 is on (or just beside) the line of conjugate
			// points: the solution is given by x alone.
			salp1 = math.Min(1, -x)
			calp1 = -math.Sqrt(1 - salp1*salp1)
		} else {
			k := geodAstroid(x, y)
			omg12a := lamscale * (-x * k / (1 + k))
			somg12, comg12 = math.Sincos(omg12a)
			comg12 = -comg12
			salp1 = cbet2 * somg12
			calp1 = sbet12a - cbet2*sbet1*somg12*somg12/(1-comg12)
		}
	}
	if !(salp1 <= 0) {
		salp1, calp1 = geodNorm(salp1, calp1)
	} else {
		salp1, calp1 = 1, 0
	}
	return sig12, salp1, calp1, salp2, calp2, dnm
}

// lambda12 computes, for the geodesic leaving point 1 with azimuth α1,
// v = λ12(α1) − target (the target given as slam120, clam120), the
// quantities along the geodesic that the caller needs, and, if diffp, the
// derivative dv/dα1.
func (e *geodEllipsoid) lambda12(sbet1, cbet1, dn1, sbet2, cbet2, dn2, salp1, calp1, slam120, clam120 float64,
	diffp bool) (v, dv, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps float64) {
	if sbet1 == 0 && calp1 == 0 {
		// Break the degeneracy of an equatorial line heading due east.
		calp1 = -geodTinyArg
	}
	salp0 := salp1 * cbet1 // Clairaut's constant, sin α0
	calp0 := math.Sqrt(calp1*calp1 + (salp1*sbet1)*(salp1*sbet1))

	// σ1 and ω1 measured from the node where the geodesic crosses the
	// equator northwards (tan σ1 = tan β1 / cos α1, tan ω1 = sin α0 tan σ1).
	ssig1 = sbet1
	somg1 := salp0 * sbet1
	csig1 = calp1 * cbet1
	comg1 := csig1
	ssig1, csig1 = geodNorm(ssig1, csig1)

	// α2 from Clairaut's relation; cos α2 ≥ 0 in the canonical setting.
	if cbet2 != cbet1 {
		salp2 = salp0 / cbet2
	} else {
		salp2 = salp1
	}
	if cbet2 != cbet1 || math.Abs(sbet2) != -sbet1 {
		var d float64
		if cbet1 < -sbet1 {
			d = (cbet2 - cbet1) * (cbet1 + cbet2)
		} else {
			d = (sbet1 - sbet2) * (sbet1 + sbet2)
		}
		calp2 = math.Sqrt((calp1*cbet1)*(calp1*cbet1)+d) / cbet2
	} else {
		calp2 = math.Abs(calp1)
	}

	ssig2 = sbet2
	somg2 := salp0 * sbet2
	csig2 = calp2 * cbet2
	comg2 := csig2
	ssig2, csig2 = geodNorm(ssig2, csig2)

	// σ12 = σ2 − σ1 and ω12 = ω2 − ω1, both in [0, π].
	sig12 = math.Atan2(math.Max(0, csig1*ssig2-ssig1*csig2), csig1*csig2+ssig1*ssig2)
	somg12 := math.Max(0, comg1*somg2-somg1*comg2)
	comg12 := comg1*comg2 + somg1*somg2
	// eta = ω12 − target, computed as one angle difference for accuracy.
	eta := math.Atan2(somg12*clam120-comg12*slam120, comg12*clam120+somg12*slam120)

	k2 := calp0 * calp0 * e.ep2
	eps = k2 / (2*(1+math.Sqrt(1+k2)) + k2)
	var c3 [geodOrder]float64
	e.c3f(eps, &c3)
	b312 := geodSinSeries5(ssig2, csig2, &c3) - geodSinSeries5(ssig1, csig1, &c3)
	// λ12 = ω12 − f sin α0 I3(σ12)
	domg12 := -e.f * e.a3f(eps) * salp0 * (sig12 + b312)
	v = eta + domg12

	if diffp {
		if calp2 == 0 {
			dv = -2 * e.f1 * dn1 / sbet1
		} else {
			_, m12b := e.lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2)
			dv = m12b * e.f1 / (calp2 * cbet2)
		}
	}
	return
}

// a3f evaluates A3(ε).
func (e *geodEllipsoid) a3f(eps float64) float64 {
	s := 0.0
	for j := geodOrder - 1; j >= 0; j-- {
		s = s*eps + e.a3[j]
	}
	return s
}

// c3f evaluates C3_l(ε), l = 1..5, into c[1..5].
func (e *geodEllipsoid) c3f(eps float64, c *[geodOrder]float64) {
	mult := 1.0
	for l := 1; l < geodOrder; l++ {
		mult *= eps
		s := 0.0
		for j := geodOrder - 1; j >= l; j-- {
			s = s*eps + e.c3[l][j]
		}
		// s currently holds Σ_{j≥l} c3[l][j] ε^(j−l).
		c[l] = mult * s
	}
}

// geodA1m1 returns A1(ε) − 1, where A1 = (1 + ε²/4 + ε⁴/64 + ε⁶/256)/(1 − ε).
func geodA1m1(eps float64) float64 {
	e2 := eps * eps
	t := e2 * (e2*(e2+4) + 64) / 256
	return (t + eps) / (1 - eps)
}

// geodC1 sets c[1..6] to the Fourier coefficients C1_l(ε) of I1.
func geodC1(eps float64, c *[geodOrder + 1]float64) {
	e2 := eps * eps
	d := eps
	c[1] = d * (-1.0/2 + e2*(3.0/16-e2/32))
	d *= eps
	c[2] = d * (-1.0/16 + e2*(1.0/32-9.0/2048*e2))
	d *= eps
	c[3] = d * (-1.0/48 + 3.0/256*e2)
	d *= eps
	c[4] = d * (-5.0/512 + 3.0/512*e2)
	d *= eps
	c[5] = d * (-7.0 / 1280)
	d *= eps
	c[6] = d * (-7.0 / 2048)
}

// geodA2m1 returns A2(ε) − 1, where A2 = (1 − ε)(1 + ε²/4 + 9ε⁴/64 + 25ε⁶/256).
func geodA2m1(eps float64) float64 {
	e2 := eps * eps
	t := e2 * (e2*(25*e2+36) + 64) / 256
	return t*(1-eps) - eps
}

// geodC2 sets c[1..6] to the Fourier coefficients C2_l(ε) of I2.
func geodC2(eps float64, c *[geodOrder + 1]float64) {
	e2 := eps * eps
	d := eps
	c[1] = d * (1.0/2 + e2*(1.0/16+e2/32))
	d *= eps
	c[2] = d * (3.0/16 + e2*(1.0/32+35.0/2048*e2))
	d *= eps
	c[3] = d * (5.0/48 + 5.0/256*e2)
	d *= eps
	c[4] = d * (35.0/512 + 7.0/512*e2)
	d *= eps
	c[5] = d * (63.0 / 1280)
	d *= eps
	c[6] = d * (77.0 / 2048)
}

// geodSinSeries returns Σ_{k=1}^{6} c[k] sin(2kσ) given sin σ and cos σ, by
// Clenshaw summation with the recurrence sin((k+1)θ) = 2cos θ sin kθ −
// sin((k−1)θ), θ = 2σ.
func geodSinSeries(sinx, cosx float64, c *[geodOrder + 1]float64) float64 {
	ar := 2 * (cosx - sinx) * (cosx + sinx) // 2 cos 2σ
	var b1, b2 float64
	for k := geodOrder; k >= 1; k-- {
		b1, b2 = c[k]+ar*b1-b2, b1
	}
	return 2 * sinx * cosx * b1
}

// geodSinSeries5 is geodSinSeries for the five coefficients c[1..5].
func geodSinSeries5(sinx, cosx float64, c *[geodOrder]float64) float64 {
	ar := 2 * (cosx - sinx) * (cosx + sinx)
	var b1, b2 float64
	for k := geodOrder - 1; k >= 1; k-- {
		b1, b2 = c[k]+ar*b1-b2, b1
	}
	return 2 * sinx * cosx * b1
}

// geodAstroid returns the non-negative root k of
// k⁴ + 2k³ − (x² + y² − 1)k² − 2y²k − y² = 0 (the astroid problem), the
// scaled solution for nearly antipodal points.
func geodAstroid(x, y float64) float64 {
	p := x * x
	q := y * y
	r := (p + q - 1) / 6
	if q == 0 && r <= 0 {
		// On the segment y = 0, |x| ≤ 1 the root is 0 (the limit of the
		// general expression).
		return 0
	}
	// Solve the resolvent cubic for u, avoiding cancellation.
	s := p * q / 4
	r2 := r * r
	r3 := r * r2
	disc := s * (s + 2*r3)
	u := r
	if disc >= 0 {
		t3 := s + r3
		// Pick the sign of the square root that adds to t3 without loss.
		if t3 < 0 {
			t3 -= math.Sqrt(disc)
		} else {
			t3 += math.Sqrt(disc)
		}
		t := math.Cbrt(t3)
		u += t
		if t != 0 {
			u += r2 / t
		}
	} else {
		// Three real roots: take the one with the largest u.
		ang := math.Atan2(math.Sqrt(-disc), -(s + r3))
		u += 2 * r * math.Cos(ang/3)
	}
	v := math.Sqrt(u*u + q) // guaranteed positive
	var uv float64          // u + v, computed without cancellation
	if u < 0 {
		uv = q / (v - u)
	} else {
		uv = u + v
	}
	w := (uv - q) / (2 * v)
	return uv / (math.Sqrt(uv+w*w) + w)
}

// geodValidLat reports whether lat is a latitude in [-90, 90].
func geodValidLat(lat float64) bool {
	return lat >= -90 && lat <= 90 // false for NaN
}

// geodNorm scales (x, y) to a unit vector. The arguments here are never far
// from unity, so the plain formula cannot overflow; it is also more accurate
// than math.Hypot's scaled formula.
func geodNorm(x, y float64) (float64, float64) {
	r := math.Sqrt(x*x + y*y)
	return x / r, y / r
}

// geodSum2 returns s = u + v rounded and the exact rounding error t, so that
// s + t = u + v exactly (Knuth's TwoSum).
func geodSum2(u, v float64) (s, t float64) {
	s = u + v
	up := s - v
	vpp := s - up
	up -= u
	vpp -= v
	t = -(up + vpp)
	return s, t
}

// geodAngDiff returns the difference y − x reduced to [−180, 180] degrees,
// as a rounded value d plus its error e (d + e equals the exact reduced
// difference).
func geodAngDiff(x, y float64) (d, e float64) {
	d, t := geodSum2(math.Remainder(-x, 360), math.Remainder(y, 360))
	d, e = geodSum2(math.Remainder(d, 360), t)
	if d == 0 || math.Abs(d) == 180 {
		// Give ±0 and ±180 the sign of the unrounded difference.
		if e == 0 {
			d = math.Copysign(d, y-x)
		} else {
			d = math.Copysign(d, -e)
		}
	}
	return d, e
}

// geodAngRound rounds tiny angles so that they are multiples of 2⁻⁵⁷°:
// this keeps very small differences from underflowing later on (e.g. in
// 1 − cos) while changing no angle by more than 2⁻⁵⁸°.
func geodAngRound(x float64) float64 {
	const z = 1.0 / 16
	y := math.Abs(x)
	w := z - y
	if w > 0 {
		y = z - w
	}
	return math.Copysign(y, x)
}

// geodSinCosd returns sin x and cos x for x in degrees, reducing the
// argument exactly to [−45°, 45°] first, so that multiples of 90° give exact
// zeros and ones.
func geodSinCosd(x float64) (sinx, cosx float64) {
	r := math.Remainder(x, 360) // exact, in [−180, 180]
	q := math.Round(r / 90)     // quadrant
	r -= 90 * q                 // exact, in [−45, 45]
	s, c := math.Sincos(r * geodDegree)
	switch int(q) & 3 {
	case 0:
		sinx, cosx = s, c
	case 1:
		sinx, cosx = c, -s
	case 2:
		sinx, cosx = -s, -c
	default: // 3, i.e. −1
		sinx, cosx = -c, s
	}
	// Zero results are +0, except that sin(−0) = −0.
	cosx += 0
	if sinx == 0 {
		sinx = math.Copysign(0, x)
	}
	return sinx, cosx
}

// geodAtan2d returns atan2(y, x) in degrees, in (−180, 180].
func geodAtan2d(y, x float64) float64 {
	z := math.Atan2(y, x) / geodDegree
	if z == -180 {
		return 180
	}
	return z + 0 // −0 → +0
}
