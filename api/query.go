package api

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/export"
)

// This file parses and validates query parameters. Every function here is
// pure (no I/O, no server state) so that it can be table-tested and
// fuzzed; every error is an Invalid *geo.Error whose field is the name of
// the offending parameter.

// Paging bounds of /collections/{collectionId}/items, as the OpenAPI
// document states them. A limit above maxLimit is refused (400), not
// clamped, so that a client never silently gets fewer features than it
// asked for and believes it has them all.
const (
	defaultLimit = 100
	maxLimit     = 10000
)

// crs84 is the URI of WGS-84 longitude/latitude, the only CRS this service
// reads and writes (RFC 7946).
const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

// itemsQuery is a validated query of /collections/{collectionId}/items.
type itemsQuery struct {
	// BBox, when set, is a CRS84 box with Min <= Max on both axes.
	BBox *orb.Bound
	// Limit is 1 to maxLimit; Offset is 0 or more.
	Limit, Offset int
	// Filters are equality filters on Filterable properties, sorted by
	// property name, with their canonical values.
	Filters []geo.Filter
	// Datetime keeps features last written within the interval.
	Datetime *geo.Interval
	// Format is the file format asked for with f (exports.go); the zero
	// Format (f absent or json) is GeoJSON.
	Format export.Format
	// limitSet says whether limit was given: a file's default is the
	// most rows one may hold (maxExportRows), a page's defaultLimit.
	limitSet bool
	// raw holds each filter's value as given, for links, by property name.
	raw map[string]string
}

// Query returns q as a store query.
func (q itemsQuery) Query() geo.Query {
	return geo.Query{BBox: q.BBox, Filters: q.Filters, Datetime: q.Datetime, Limit: q.Limit, Offset: q.Offset}
}

// Canonical returns q as a query string with every parameter explicit and
// in a fixed order (bbox, filters by name, limit, offset), numbers
// formatted one way. Two requests that select the same features in the
// same page have the same canonical form; it keys the response cache and
// is the query of the self link.
func (q itemsQuery) Canonical() string {
	return q.withOffset(q.Offset)
}

// withOffset returns the canonical query of the page of q at offset.
func (q itemsQuery) withOffset(offset int) string {
	var b strings.Builder
	if q.BBox != nil {
		b.WriteString("bbox=")
		for i, x := range []float64{q.BBox.Min[0], q.BBox.Min[1], q.BBox.Max[0], q.BBox.Max[1]} {
			if i > 0 {
				b.WriteString("%2C") // an escaped comma, as url.Values.Encode writes it
			}
			b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
		}
		b.WriteByte('&')
	}
	if q.Datetime != nil {
		b.WriteString("datetime=")
		b.WriteString(url.QueryEscape(formatInterval(*q.Datetime)))
		b.WriteByte('&')
	}
	for _, f := range q.Filters {
		b.WriteString(url.QueryEscape(f.Property))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(q.raw[f.Property]))
		b.WriteByte('&')
	}
	b.WriteString("limit=")
	b.WriteString(strconv.Itoa(q.Limit))
	b.WriteString("&offset=")
	b.WriteString(strconv.Itoa(offset))
	return b.String()
}

// itemsParams lists the parameters of the items route other than
// property filters, for error messages.
const itemsParams = "bbox, bbox-crs, datetime, limit, offset, f"

// parseItemsQuery validates the query string of
// /collections/{collectionId}/items for the collection of sc: bbox,
// bbox-crs (CRS84 only), limit, offset, f (json, or a file format of
// package export), and equality filters
// on sc's Filterable properties. Unknown and repeated parameters are
// errors, so that a misspelt filter is reported rather than ignored. The
// error lists every bad parameter, each under its own name.
func parseItemsQuery(sc *geo.Schema, v url.Values) (itemsQuery, error) {
	q := itemsQuery{Limit: defaultLimit}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "bbox":
			var b orb.Bound
			if b, err = parseBBox(raw); err == nil {
				q.BBox = &b
			}
		case "bbox-crs":
			err = parseCRS(name, raw)
		case "limit":
			q.Limit, err = parseLimit(raw)
			q.limitSet = true
		case "offset":
			q.Offset, err = parseOffset(raw)
		case "f":
			q.Format, err = parseItemsFormat(raw)
		case "datetime":
			var iv geo.Interval
			if iv, err = parseDatetime(name, raw); err == nil {
				q.Datetime = &iv
			}
		default:
			if _, declared := sc.Property(name); !declared {
				err = geo.InvalidField(name, "unknown parameter; parameters: %s; filterable properties: %s",
					itemsParams, strings.Join(sc.Filterable(), ", "))
				break
			}
			var f geo.Filter
			if f, err = sc.ParseFilter(name, raw); err == nil {
				q.Filters = append(q.Filters, f)
				if q.raw == nil {
					q.raw = map[string]string{}
				}
				q.raw[name] = raw
			}
		}
		return err
	})
	if v.Has("bbox-crs") && !v.Has("bbox") {
		bad = append(bad, geo.FieldError{Field: "bbox-crs", Detail: "given without bbox"})
	}
	if err := invalidQuery(bad); err != nil {
		return itemsQuery{}, err
	}
	slices.SortFunc(q.Filters, func(a, b geo.Filter) int { return strings.Compare(a.Property, b.Property) })
	return q, nil
}

// eachParam calls parse for every parameter of v, in name order (so errors
// come in a stable order), and returns the field errors of every
// parameter given more than once or that parse refused.
func eachParam(v url.Values, parse func(name, raw string) error) []geo.FieldError {
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	var bad []geo.FieldError
	for _, name := range names {
		if vals := v[name]; len(vals) != 1 {
			bad = append(bad, geo.FieldError{Field: name, Detail: "give this parameter once"})
		} else if err := parse(name, vals[0]); err != nil {
			bad = append(bad, fieldErrors(err, name)...)
		}
	}
	return bad
}

// invalidQuery returns the error of a query with the bad parameters, nil
// when there are none.
func invalidQuery(bad []geo.FieldError) error {
	if len(bad) == 0 {
		return nil
	}
	return &geo.Error{Kind: geo.Invalid, Message: "invalid query parameters", Fields: bad}
}

// fieldErrors returns the field errors of err, or one naming field.
func fieldErrors(err error, field string) []geo.FieldError {
	if e := geo.AsError(err); e != nil && len(e.Fields) > 0 {
		return e.Fields
	}
	return []geo.FieldError{{Field: field, Detail: err.Error()}}
}

// parseBBox reads the bbox parameter: four numbers minLon,minLat,maxLon,
// maxLat in CRS84 (six, with heights, are accepted and the heights
// ignored: the data is two-dimensional). Longitudes must lie in [-180,
// 180], latitudes in [-90, 90], and min may not exceed max (a box across
// the antimeridian is refused: Xingyang is nowhere near it).
func parseBBox(raw string) (orb.Bound, error) {
	parts := strings.Split(raw, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return orb.Bound{}, geo.InvalidField("bbox", "want 4 comma-separated numbers minLon,minLat,maxLon,maxLat; got %d values", len(parts))
	}
	n := make([]float64, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || !isDecimal(p) || math.IsNaN(x) || math.IsInf(x, 0) {
			return orb.Bound{}, geo.InvalidField("bbox", "value %d (%q) is not a finite number", i+1, p)
		}
		n[i] = x
	}
	if len(n) == 6 { // minLon,minLat,minZ,maxLon,maxLat,maxZ
		n = []float64{n[0], n[1], n[3], n[4]}
	}
	minLon, minLat, maxLon, maxLat := n[0], n[1], n[2], n[3]
	switch {
	case minLon < -180 || minLon > 180 || maxLon < -180 || maxLon > 180:
		return orb.Bound{}, geo.InvalidField("bbox", "longitudes must be within [-180, 180] (is the order minLon,minLat,maxLon,maxLat?)")
	case minLat < -90 || minLat > 90 || maxLat < -90 || maxLat > 90:
		return orb.Bound{}, geo.InvalidField("bbox", "latitudes must be within [-90, 90] (is the order minLon,minLat,maxLon,maxLat?)")
	case minLon > maxLon:
		return orb.Bound{}, geo.InvalidField("bbox", "minimum longitude %g is greater than maximum %g", minLon, maxLon)
	case minLat > maxLat:
		return orb.Bound{}, geo.InvalidField("bbox", "minimum latitude %g is greater than maximum %g", minLat, maxLat)
	}
	return orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}, nil
}

// isDecimal reports whether s is a decimal number: an optional sign,
// digits with an optional decimal point, an optional exponent. It keeps
// out what strconv.ParseFloat also reads: hex floats, underscores, "Inf"
// and "NaN".
func isDecimal(s string) bool {
	i, digits := 0, 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseLimit reads the limit parameter: an integer from 1 to maxLimit.
func parseLimit(raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, geo.InvalidField("limit", "want an integer from 1 to %d, got %q", maxLimit, raw)
	}
	if n < 1 || n > maxLimit {
		return 0, geo.InvalidField("limit", "want an integer from 1 to %d, got %d; page with offset or the next link", maxLimit, n)
	}
	return n, nil
}

// parseOffset reads the offset parameter: a non-negative integer.
func parseOffset(raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, geo.InvalidField("offset", "want a non-negative integer, got %q", raw)
	}
	return n, nil
}

// parseCRS accepts the CRS84 URI (and its bracketed and URN spellings)
// for a *-crs parameter.
func parseCRS(field, raw string) error {
	switch strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]") {
	case crs84, "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84":
		return nil
	}
	return geo.InvalidField(field, "only %s (WGS-84 longitude/latitude) is supported", crs84)
}

// parseFormat checks the f parameter: "json" everywhere, "html" where
// html is true.
func parseFormat(raw string, html bool) error {
	if raw == "json" || (html && raw == "html") {
		return nil
	}
	if html {
		return geo.InvalidField("f", "want json or html, got %q", raw)
	}
	return geo.InvalidField("f", "want json, got %q", raw)
}

// parseItemsFormat reads the f parameter of the items route: json (or
// geojson) for a GeoJSON page, or one of the export formats.
func parseItemsFormat(raw string) (export.Format, error) {
	if raw == "json" || raw == "geojson" {
		return export.Format{}, nil
	}
	if f, ok := export.Lookup(raw); ok && f.Name == raw {
		return f, nil
	}
	return export.Format{}, geo.InvalidField("f", "want json, %s; got %q", strings.Join(export.Names(), ", "), raw)
}

// parseSimpleQuery validates the query string of a route whose only
// parameter is f; html says whether f=html is offered there. It reports
// whether f=html was given.
func parseSimpleQuery(v url.Values, html bool) (wantHTML bool, err error) {
	bad := eachParam(v, func(name, raw string) error {
		if name != "f" {
			return geo.InvalidField(name, "unknown parameter; this request takes only f")
		}
		wantHTML = raw == "html"
		return parseFormat(raw, html)
	})
	if err := invalidQuery(bad); err != nil {
		return false, err
	}
	return wantHTML, nil
}
