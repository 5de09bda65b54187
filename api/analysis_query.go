package api

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// This file reads the queries of the analysis routes (analysis.go). Every
// function here is pure, table-tested and fuzzed in analysis_test.go;
// every error is an Invalid *geo.Error naming the parameter.

// Bounds of the k parameter of /analysis/nearest-depots.
const (
	defaultNearestK = 3
	maxNearestK     = 50
)

// Formats of /analysis/reach.
const (
	formatJSON    = "json"
	formatGeoJSON = "geojson"
)

// nearestDepotsQuery is a validated query of /analysis/nearest-depots.
type nearestDepotsQuery struct {
	// Point is the query position [lon, lat] (a crew's GPS position, say).
	Point orb.Point
	// K is 1 to maxNearestK.
	K int
	// Filter is ready (nil: no readiness filter) and category.
	Filter geo.DepotFilter
}

// Canonical returns q as a query string with every parameter explicit in
// a fixed order: it keys the ETag.
func (q nearestDepotsQuery) Canonical() string {
	return "lon=" + strconv.FormatFloat(q.Point[0], 'g', -1, 64) +
		"&lat=" + strconv.FormatFloat(q.Point[1], 'g', -1, 64) +
		"&k=" + strconv.Itoa(q.K) + "&ready=" + readyString(q.Filter.Ready) +
		"&category=" + url.QueryEscape(q.Filter.Category)
}

// reachParams is a validated query of /analysis/reach.
type reachParams struct {
	Query geo.ReachQuery
	// Format is "json" or "geojson".
	Format string
}

// Canonical returns p as a query string with every parameter explicit in
// a fixed order: it keys the response cache and the ETag.
func (p reachParams) Canonical() string {
	return "max_distance_m=" + strconv.FormatFloat(p.Query.MaxDistanceM, 'g', -1, 64) +
		"&collections=" + strings.Join(p.Query.Collections, ",") +
		"&ready=" + readyString(p.Query.Filter.Ready) +
		"&category=" + url.QueryEscape(p.Query.Filter.Category) + "&format=" + p.Format
}

func readyString(b *bool) string {
	if b == nil {
		return "any"
	}
	return strconv.FormatBool(*b)
}

// nearestParamNames and reachParamNames are the parameters each route
// takes.
var (
	nearestParamNames = []string{"lon", "lat", "k", "ready", "category", "f"}
	reachParamNames   = []string{"max_distance_m", "collections", "ready", "category", "format", "f"}
)

// parseNearestDepotsQuery validates the query string of
// /analysis/nearest-depots: lon and lat (required), k (default
// defaultNearestK), ready (true, false or any; default any), category, f
// (json). Unknown and repeated parameters are errors; the error lists
// every bad parameter under its own name.
func parseNearestDepotsQuery(v url.Values) (nearestDepotsQuery, error) {
	q := nearestDepotsQuery{K: defaultNearestK}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "lon":
			q.Point[0], err = parseLon(raw)
		case "lat":
			q.Point[1], err = parseLat(raw)
		case "k":
			q.K, err = parseK(raw)
		case "ready":
			q.Filter.Ready, err = geo.ParseReady(raw)
		case "category":
			q.Filter.Category, err = parseCategory(raw)
		case "f":
			err = parseFormat(raw, false)
		default:
			err = geo.InvalidField(name, "unknown parameter; parameters: %s", strings.Join(nearestParamNames, ", "))
		}
		return err
	})
	for _, name := range []string{"lon", "lat"} {
		if !v.Has(name) {
			bad = append(bad, geo.FieldError{Field: name, Detail: "required: the position to search from, WGS-84 degrees"})
		}
	}
	if err := invalidQuery(bad); err != nil {
		return nearestDepotsQuery{}, err
	}
	return q, nil
}

// parseReachQuery validates the query string of /analysis/reach:
// max_distance_m (default geo.DefaultReachDistanceM), collections (default
// both hazard collections), ready (true, false or any; default true),
// category, format (json or geojson; f is an alias). Unknown and repeated
// parameters are errors; the error lists every bad parameter.
func parseReachQuery(v url.Values) (reachParams, error) {
	yes := true
	p := reachParams{Format: formatJSON, Query: geo.ReachQuery{
		MaxDistanceM: geo.DefaultReachDistanceM,
		Filter:       geo.DepotFilter{Ready: &yes},
		Collections:  geo.HazardCollections(),
	}}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "max_distance_m":
			p.Query.MaxDistanceM, err = parseMaxDistance(raw)
		case "collections":
			p.Query.Collections, err = geo.ParseHazardCollections(raw)
		case "ready":
			p.Query.Filter.Ready, err = geo.ParseReady(raw)
		case "category":
			p.Query.Filter.Category, err = parseCategory(raw)
		case "format", "f":
			var f string
			if f, err = parseAnalysisFormat(name, raw); err == nil {
				if name == "f" && v.Has("format") && v.Get("format") != raw {
					err = geo.InvalidField("f", "f (an alias of format) says %q but format says %q", v.Get("f"), v.Get("format"))
				}
				p.Format = f
			}
		default:
			err = geo.InvalidField(name, "unknown parameter; parameters: %s", strings.Join(reachParamNames, ", "))
		}
		return err
	})
	if err := invalidQuery(bad); err != nil {
		return reachParams{}, err
	}
	return p, nil
}

// parseNumber reads a finite decimal number for parameter field.
func parseNumber(field, raw string) (float64, error) {
	s := strings.TrimSpace(raw)
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || !isDecimal(s) || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, geo.InvalidField(field, "want a decimal number, got %q", raw)
	}
	return x, nil
}

// parseLon reads the lon parameter: a longitude in [-180, 180] degrees.
func parseLon(raw string) (float64, error) {
	x, err := parseNumber("lon", raw)
	if err == nil && (x < -180 || x > 180) {
		err = geo.InvalidField("lon", "want a longitude from -180 to 180, got %g (is it lat?)", x)
	}
	return x, err
}

// parseLat reads the lat parameter: a latitude in [-90, 90] degrees.
func parseLat(raw string) (float64, error) {
	x, err := parseNumber("lat", raw)
	if err == nil && (x < -90 || x > 90) {
		err = geo.InvalidField("lat", "want a latitude from -90 to 90, got %g (is it lon?)", x)
	}
	return x, err
}

// parseK reads the k parameter: an integer from 1 to maxNearestK.
func parseK(raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxNearestK {
		return 0, geo.InvalidField("k", "want an integer from 1 to %d, got %q", maxNearestK, raw)
	}
	return n, nil
}

// parseCategory reads the category parameter: one of
// geo.DepotCategories().
func parseCategory(raw string) (string, error) {
	if err := (geo.DepotFilter{Category: raw}).Check(); err != nil || raw == "" {
		return "", geo.InvalidField("category", "want one of %s, got %q", strings.Join(geo.DepotCategories(), ", "), raw)
	}
	return raw, nil
}

// parseMaxDistance reads the max_distance_m parameter: metres, from
// geo.MinReachDistanceM to geo.MaxReachDistanceM.
func parseMaxDistance(raw string) (float64, error) {
	x, err := parseNumber("max_distance_m", raw)
	if err == nil && (x < geo.MinReachDistanceM || x > geo.MaxReachDistanceM) {
		err = geo.InvalidField("max_distance_m", "want metres from %g to %g, got %g", float64(geo.MinReachDistanceM), float64(geo.MaxReachDistanceM), x)
	}
	return x, err
}

// parseAnalysisFormat reads the format parameter (or its alias f, named
// by field) of /analysis/reach: json or geojson.
func parseAnalysisFormat(field, raw string) (string, error) {
	if raw == formatJSON || raw == formatGeoJSON {
		return raw, nil
	}
	return "", geo.InvalidField(field, "want json or geojson, got %q", raw)
}
