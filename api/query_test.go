package api

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

func mustSchema(t testing.TB, c string) *geo.Schema {
	t.Helper()
	sc, err := geo.SchemaFor(c)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// fieldsOf returns the field names of an Invalid error, or nil.
func fieldsOf(err error) []string {
	e := geo.AsError(err)
	if e == nil {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestParseBBox(t *testing.T) {
	tests := []struct {
		raw  string
		want orb.Bound
		ok   bool
	}{
		{"113.1,34.5,113.6,35", orb.Bound{Min: orb.Point{113.1, 34.5}, Max: orb.Point{113.6, 35}}, true},
		{" 113.1 , 34.5 ,113.6, 35 ", orb.Bound{Min: orb.Point{113.1, 34.5}, Max: orb.Point{113.6, 35}}, true},
		{"113.1,34.5,0,113.6,35,100", orb.Bound{Min: orb.Point{113.1, 34.5}, Max: orb.Point{113.6, 35}}, true},
		{"-180,-90,180,90", orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, true},
		{"113,34,113,34", orb.Bound{Min: orb.Point{113, 34}, Max: orb.Point{113, 34}}, true}, // a point is a box
		{"113.1,34.5,113.6", orb.Bound{}, false},
		{"113.1,34.5,113.6,35,1", orb.Bound{}, false},
		{"", orb.Bound{}, false},
		{"a,b,c,d", orb.Bound{}, false},
		{"113.6,34.5,113.1,35", orb.Bound{}, false}, // minLon > maxLon
		{"113.1,35,113.6,34.5", orb.Bound{}, false}, // minLat > maxLat
		{"34.5,113.1,35,113.6", orb.Bound{}, false}, // lat,lon order: latitude 113 is out of range
		{"NaN,34,114,35", orb.Bound{}, false},
		{"113,34,Inf,35", orb.Bound{}, false},
		{"-181,34,114,35", orb.Bound{}, false},
		{"113,34,,35", orb.Bound{}, false},
		{"0x1p6,34,114,35", orb.Bound{}, false}, // strconv reads hex floats; a bbox is decimal
		{"1_13,34,114,35", orb.Bound{}, false},
		{"+113,34,114,35.", orb.Bound{Min: orb.Point{113, 34}, Max: orb.Point{114, 35}}, true},
		{"113e0,3.4E1,.114e3,35", orb.Bound{Min: orb.Point{113, 34}, Max: orb.Point{114, 35}}, true},
	}
	for _, tt := range tests {
		got, err := parseBBox(tt.raw)
		if (err == nil) != tt.ok {
			t.Errorf("ParseBBox(%q) error = %v, want ok = %v", tt.raw, err, tt.ok)
			continue
		}
		if err != nil {
			if f := fieldsOf(err); !slices.Equal(f, []string{"bbox"}) || geo.KindOf(err) != geo.Invalid {
				t.Errorf("ParseBBox(%q) = %v (fields %v), want an Invalid error on bbox", tt.raw, err, f)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("ParseBBox(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestParseLimitOffset(t *testing.T) {
	limits := []struct {
		raw  string
		want int
		ok   bool
	}{
		{"1", 1, true}, {"100", 100, true}, {"10000", 10000, true},
		{"0", 0, false}, {"-1", 0, false}, {"10001", 0, false}, {"abc", 0, false}, {"", 0, false},
		{"1.5", 0, false}, {"99999999999999999999999", 0, false}, {" 5", 0, false},
	}
	for _, tt := range limits {
		got, err := parseLimit(tt.raw)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseLimit(%q) = %d, %v; want %d, ok %v", tt.raw, got, err, tt.want, tt.ok)
		}
		if err != nil && !slices.Equal(fieldsOf(err), []string{"limit"}) {
			t.Errorf("ParseLimit(%q) error fields = %v, want [limit]", tt.raw, fieldsOf(err))
		}
	}
	offsets := []struct {
		raw  string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"1000000", 1000000, true},
		{"-3", 0, false}, {"x", 0, false}, {"", 0, false}, {"99999999999999999999999", 0, false},
	}
	for _, tt := range offsets {
		got, err := parseOffset(tt.raw)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseOffset(%q) = %d, %v; want %d, ok %v", tt.raw, got, err, tt.want, tt.ok)
		}
		if err != nil && !slices.Equal(fieldsOf(err), []string{"offset"}) {
			t.Errorf("ParseOffset(%q) error fields = %v, want [offset]", tt.raw, fieldsOf(err))
		}
	}
}

func TestParseItemsQuery(t *testing.T) {
	wp := mustSchema(t, geo.WaterloggingPoints)
	depots := mustSchema(t, geo.Depots)
	tests := []struct {
		name      string
		sc        *geo.Schema
		query     string
		canonical string   // when valid
		fields    []string // the parameters named in the error, when not
	}{
		{"empty", wp, "", "limit=100&offset=0", nil},
		{"paging", wp, "limit=5&offset=10", "limit=5&offset=10", nil},
		{"f=json", wp, "f=json", "limit=100&offset=0", nil},
		{"bbox", wp, "bbox=113.3,34.7,113.5,34.9", "bbox=113.3%2C34.7%2C113.5%2C34.9&limit=100&offset=0", nil},
		{"bbox normalized", wp, "bbox=113.30,34.70,113.5,34.900&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84",
			"bbox=113.3%2C34.7%2C113.5%2C34.9&limit=100&offset=0", nil},
		{"filters sorted", wp, "status=closed&kind=road_spot", "kind=road_spot&status=closed&limit=100&offset=0", nil},
		{"filter escaped", wp, "duty_unit=城建局%20A%26B", "duty_unit=%E5%9F%8E%E5%BB%BA%E5%B1%80+A%26B&limit=100&offset=0", nil},
		{"boolean filter", depots, "damp=true&floor=4", "damp=true&floor=4&limit=100&offset=0", nil},
		{"list filter", depots, "categories=flood", "categories=flood&limit=100&offset=0", nil},

		{"bbox 3 numbers", wp, "bbox=1,2,3", "", []string{"bbox"}},
		{"bbox min>max", wp, "bbox=114,34,113,35", "", []string{"bbox"}},
		{"limit -1", wp, "limit=-1", "", []string{"limit"}},
		{"limit abc", wp, "limit=abc", "", []string{"limit"}},
		{"limit over max", wp, "limit=10001", "", []string{"limit"}},
		{"offset -3", wp, "offset=-3", "", []string{"offset"}},
		{"unknown property", wp, "colour=red", "", []string{"colour"}},
		{"property of another collection", wp, "level=city", "", []string{"level"}},
		{"not filterable", wp, "depth_cm=3", "", []string{"depth_cm"}},
		{"bad enum", wp, "status=flooded", "", []string{"status"}},
		{"bad boolean", depots, "damp=yes", "", []string{"damp"}},
		{"bad integer", depots, "floor=4.5", "", []string{"floor"}},
		{"repeated", wp, "limit=1&limit=2", "", []string{"limit"}},
		{"repeated filter", wp, "status=closed&status=clear", "", []string{"status"}},
		{"bbox-crs other", wp, "bbox=113,34,114,35&bbox-crs=EPSG:3857", "", []string{"bbox-crs"}},
		{"bbox-crs alone", wp, "bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84", "", []string{"bbox-crs"}},
		{"f=html", wp, "f=html", "", []string{"f"}},
		{"datetime instant", wp, "datetime=2024-07-20T08:00:00%2B08:00", "datetime=2024-07-20T00%3A00%3A00Z&limit=100&offset=0", nil},
		{"datetime open interval", wp, "datetime=2024-07-20T00:00:00Z/..", "datetime=2024-07-20T00%3A00%3A00Z%2F..&limit=100&offset=0", nil},
		{"datetime day", wp, "datetime=2024-07-20", "datetime=2024-07-20T00%3A00%3A00Z%2F2024-07-20T23%3A59%3A59.999999999Z&limit=100&offset=0", nil},
		{"datetime bad", wp, "datetime=yesterday", "", []string{"datetime"}},
		{"datetime reversed", wp, "datetime=2024-07-21T00:00:00Z/2024-07-20T00:00:00Z", "", []string{"datetime"}},
		{"datetime both open", wp, "datetime=../..", "", []string{"datetime"}},
		{"all bad at once", wp, "bbox=1,2,3&limit=abc&offset=-3&colour=red", "", []string{"bbox", "colour", "limit", "offset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := parseItemsQuery(tt.sc, v)
			if tt.fields != nil {
				if err == nil {
					t.Fatalf("ParseItemsQuery(%q) = %+v, want an error on %v", tt.query, q, tt.fields)
				}
				if geo.KindOf(err) != geo.Invalid || !slices.Equal(fieldsOf(err), tt.fields) {
					t.Fatalf("ParseItemsQuery(%q) = %v (fields %v), want Invalid on %v", tt.query, err, fieldsOf(err), tt.fields)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseItemsQuery(%q) = %v", tt.query, err)
			}
			if got := q.Canonical(); got != tt.canonical {
				t.Errorf("Canonical() = %q, want %q", got, tt.canonical)
			}
			// The canonical form is a fixed point: it parses to itself.
			v2, err := url.ParseQuery(q.Canonical())
			if err != nil {
				t.Fatal(err)
			}
			q2, err := parseItemsQuery(tt.sc, v2)
			if err != nil || q2.Canonical() != q.Canonical() {
				t.Errorf("ParseItemsQuery(Canonical()) = %q, %v; want %q", q2.Canonical(), err, q.Canonical())
			}
		})
	}
}

func TestParseItemsQueryFilterValues(t *testing.T) {
	q, err := parseItemsQuery(mustSchema(t, geo.Depots), url.Values{"floor": {"4"}, "damp": {"false"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []geo.Filter{{Property: "damp", Value: false}, {Property: "floor", Value: 4.0}}
	if !slices.Equal(q.Filters, want) {
		t.Errorf("Filters = %v, want %v", q.Filters, want)
	}
}

func TestParseSimpleQuery(t *testing.T) {
	tests := []struct {
		query  string
		html   bool
		want   bool
		fields []string
	}{
		{"", false, false, nil},
		{"f=json", false, false, nil},
		{"f=html", true, true, nil},
		{"f=html", false, false, []string{"f"}},
		{"f=xml", true, false, []string{"f"}},
		{"limit=3", false, false, []string{"limit"}},
		{"f=json&f=json", false, false, []string{"f"}},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		got, err := parseSimpleQuery(v, tt.html)
		if got != tt.want || !slices.Equal(fieldsOf(err), tt.fields) {
			t.Errorf("parseSimpleQuery(%q, %v) = %v, %v; want %v, fields %v", tt.query, tt.html, got, err, tt.want, tt.fields)
		}
	}
}

func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/geo+json", false},
		{"text/html", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true}, // Chrome, Firefox
		{"application/json, text/html;q=0.5", false},
		{"text/html;q=0.5, application/json", false},
		{"text/html, application/json", false}, // a tie goes to JSON
		{"text/*", true},
		{"text/html;q=0", false},
		{"application/json;q=0, */*", true},
		{"garbage;;;", false},
	}
	for _, tt := range tests {
		if got := prefersHTML(tt.accept); got != tt.want {
			t.Errorf("prefersHTML(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false}, // an explicit refusal wins over *
		{"GZIP", true},
		{"x-gzip", true},
		{"gzip;q=abc", false},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.header); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestNotModified(t *testing.T) {
	mod := time.Date(2024, 7, 20, 8, 0, 0, 500_000_000, time.UTC)
	at := func(t time.Time) string { return t.Format(http.TimeFormat) }
	tests := []struct {
		name     string
		header   map[string]string
		etag     string
		modified time.Time
		want     bool
	}{
		{"no validators", nil, `"a"`, mod, false},
		{"etag matches", map[string]string{"If-None-Match": `"a"`}, `"a"`, mod, true},
		{"etag in list", map[string]string{"If-None-Match": `"x", "a"`}, `"a"`, mod, true},
		{"weak matches weakly", map[string]string{"If-None-Match": `W/"a"`}, `"a"`, mod, true},
		{"star", map[string]string{"If-None-Match": `*`}, `"a"`, mod, true},
		{"etag differs", map[string]string{"If-None-Match": `"b"`}, `"a"`, mod, false},
		{"no etag to match", map[string]string{"If-None-Match": `"a"`}, "", mod, false},
		{"INM wins over IMS", map[string]string{"If-None-Match": `"b"`, "If-Modified-Since": at(mod.Add(time.Hour))}, `"a"`, mod, false},
		{"IMS same second", map[string]string{"If-Modified-Since": at(mod)}, `"a"`, mod, true},
		{"IMS later", map[string]string{"If-Modified-Since": at(mod.Add(time.Hour))}, `"a"`, mod, true},
		{"IMS earlier", map[string]string{"If-Modified-Since": at(mod.Add(-time.Second))}, `"a"`, mod, false},
		{"IMS bad date", map[string]string{"If-Modified-Since": "yesterday"}, `"a"`, mod, false},
		{"IMS without modified", map[string]string{"If-Modified-Since": at(mod)}, `"a"`, time.Time{}, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		if got := notModified(h, tt.etag, tt.modified); got != tt.want {
			t.Errorf("%s: notModified(%v, %s) = %v, want %v", tt.name, tt.header, tt.etag, got, tt.want)
		}
	}
}

func TestGzipETag(t *testing.T) {
	if got := gzipETag(`"1-abc"`); got != `"1-abc-gzip"` {
		t.Errorf(`gzipETag("1-abc") = %s, want "1-abc-gzip"`, got)
	}
	if got := gzipETag(""); got != "" {
		t.Errorf(`gzipETag("") = %q, want ""`, got)
	}
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"113.1,34.5,113.6,35", "1,2,3", "114,34,113,35", "NaN,0,0,0", "1,2,0,3,4,5", "", ",,,", "1e400,0,0,0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		b, err := parseBBox(raw)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid || !slices.Equal(fieldsOf(err), []string{"bbox"}) {
				t.Fatalf("ParseBBox(%q) = %v, want an Invalid error on bbox", raw, err)
			}
			return
		}
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] || b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
			t.Fatalf("ParseBBox(%q) = %v: not a valid CRS84 box", raw, b)
		}
	})
}

func FuzzParseItemsQuery(f *testing.F) {
	for _, s := range []string{"", "limit=5&offset=10", "bbox=113,34,114,35&status=closed", "status=x&limit=-1",
		"bbox=1,2,3", "kind=road_spot&kind=road_spot", "f=json&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84", "%zz"} {
		f.Add(s)
	}
	sc := mustSchema(f, geo.WaterloggingPoints)
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		q, err := parseItemsQuery(sc, v)
		if err != nil {
			e := geo.AsError(err)
			if e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 {
				t.Fatalf("ParseItemsQuery(%q) = %v, want an Invalid error with fields", query, err)
			}
			for _, fe := range e.Fields {
				if !v.Has(fe.Field) {
					t.Fatalf("ParseItemsQuery(%q) names field %q, which is not a parameter of the query", query, fe.Field)
				}
			}
			return
		}
		if q.Limit < 1 || q.Limit > maxLimit || q.Offset < 0 {
			t.Fatalf("ParseItemsQuery(%q) = limit %d offset %d: out of range", query, q.Limit, q.Offset)
		}
		for _, f := range q.Filters {
			if p, ok := sc.Property(f.Property); !ok || !p.Filterable {
				t.Fatalf("ParseItemsQuery(%q) filters on %q, which is not filterable", query, f.Property)
			}
		}
		// The canonical form parses back to itself.
		v2, err := url.ParseQuery(q.Canonical())
		if err != nil {
			t.Fatalf("Canonical() = %q does not parse: %v", q.Canonical(), err)
		}
		q2, err := parseItemsQuery(sc, v2)
		if err != nil || q2.Canonical() != q.Canonical() {
			t.Fatalf("ParseItemsQuery(%q): canonical %q reparses to %q, %v", query, q.Canonical(), q2.Canonical(), err)
		}
	})
}

func TestParseDatetime(t *testing.T) {
	day := time.Date(2024, 7, 20, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		raw        string
		start, end time.Time
		ok         bool
	}{
		{"2024-07-20T08:00:00+08:00", day, day, true},
		{"2024-07-20", day, day.Add(24*time.Hour - time.Nanosecond), true},
		{"2024-07-20T00:00:00Z/..", day, time.Time{}, true},
		{"../2024-07-20T00:00:00Z", time.Time{}, day, true},
		{"/2024-07-20T00:00:00Z", time.Time{}, day, true},
		{"2024-07-19/2024-07-20", day.Add(-24 * time.Hour), day.Add(24*time.Hour - time.Nanosecond), true},
		{"", time.Time{}, time.Time{}, false},
		{"../..", time.Time{}, time.Time{}, false},
		{"/", time.Time{}, time.Time{}, false},
		{"2024-07-20T08:00:00", time.Time{}, time.Time{}, false}, // no zone
		{"2024-07-21/2024-07-20", time.Time{}, time.Time{}, false},
		{"a/b/c", time.Time{}, time.Time{}, false},
	}
	for _, c := range cases {
		iv, err := parseDatetime("datetime", c.raw)
		if (err == nil) != c.ok {
			t.Errorf("ParseDatetime(%q) = %v, want ok=%v", c.raw, err, c.ok)
			continue
		}
		if err != nil {
			if e := geo.AsError(err); e == nil || e.Fields[0].Field != "datetime" {
				t.Errorf("ParseDatetime(%q) error %v does not name datetime", c.raw, err)
			}
			continue
		}
		if !iv.Start.Equal(c.start) || !iv.End.Equal(c.end) {
			t.Errorf("ParseDatetime(%q) = %v..%v, want %v..%v", c.raw, iv.Start, iv.End, c.start, c.end)
		}
	}
}

func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"2024-07-20T08:00:00Z", "2024-07-20", "../2024-07-20T00:00:00Z", "2024-07-19/2024-07-20", "/", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		iv, err := parseDatetime("datetime", raw)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("ParseDatetime(%q) error kind %v, want Invalid", raw, geo.KindOf(err))
			}
			return
		}
		if iv.Start.IsZero() && iv.End.IsZero() {
			t.Fatalf("ParseDatetime(%q) accepted an interval open at both ends", raw)
		}
		if !iv.Start.IsZero() && !iv.End.IsZero() && iv.End.Before(iv.Start) {
			t.Fatalf("ParseDatetime(%q) = %v..%v: end before start", raw, iv.Start, iv.End)
		}
		// The canonical form parses back to the same interval.
		again, err := parseDatetime("datetime", formatInterval(iv))
		if err != nil || !again.Start.Equal(iv.Start) || !again.End.Equal(iv.End) {
			t.Fatalf("ParseDatetime(formatInterval(%q) = %q) = %v, %v", raw, formatInterval(iv), again, err)
		}
	})
}
