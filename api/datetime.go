package api

import (
	"errors"
	"strings"
	"time"

	"hazardmap/geo"
)

// parseDatetime reads the OGC API datetime parameter: an instant
// ("2024-07-20T08:00:00Z", or a date "2024-07-20" meaning that whole UTC
// day) or an interval "START/END" where either side may be ".." or empty
// for open. Times are RFC 3339 with a zone. The result is an Invalid error
// naming field when raw is malformed or ends before it starts.
func parseDatetime(field, raw string) (geo.Interval, error) {
	bad := func(format string, args ...any) (geo.Interval, error) {
		return geo.Interval{}, geo.InvalidField(field, format, args...)
	}
	if raw == "" {
		return bad("empty; give an RFC 3339 time, a date, or an interval START/END with .. for an open end")
	}
	start, end, isInterval := strings.Cut(raw, "/")
	if !isInterval {
		from, to, err := parseTimeOrDay(raw)
		if err != nil {
			return bad("%q is not an RFC 3339 date-time (2024-07-20T08:00:00Z) or date (2024-07-20)", raw)
		}
		return geo.Interval{Start: from, End: to}, nil
	}
	if strings.Contains(end, "/") {
		return bad("an interval has one '/'")
	}
	var iv geo.Interval
	if start != "" && start != ".." {
		from, _, err := parseTimeOrDay(start)
		if err != nil {
			return bad("interval start %q is not an RFC 3339 date-time or date", start)
		}
		iv.Start = from
	}
	if end != "" && end != ".." {
		_, to, err := parseTimeOrDay(end)
		if err != nil {
			return bad("interval end %q is not an RFC 3339 date-time or date", end)
		}
		iv.End = to
	}
	if iv.Start.IsZero() && iv.End.IsZero() {
		return bad("an interval needs at least one end")
	}
	if err := iv.Check(field); err != nil {
		return geo.Interval{}, err
	}
	return iv, nil
}

// parseTimeOrDay returns the instant s names twice, or the first and last
// instants of the UTC day s names.
func parseTimeOrDay(s string) (from, to time.Time, err error) {
	if t, err := parseInstant(s); err == nil {
		return t, t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.IsZero() {
		return time.Time{}, time.Time{}, errZeroTime
	}
	return d, d.Add(24*time.Hour - time.Nanosecond), nil
}

// errZeroTime is the error of a time that is not RFC 3339, or is Go's
// zero time, 0001-01-01T00:00:00Z, which stands for "no time" throughout
// (an open end, a report without a phone time): read as given, it would
// be silently read as absent.
var errZeroTime = errors.New("want an RFC 3339 date-time with a zone (not 0001-01-01T00:00:00Z)")

// parseInstant reads an RFC 3339 date-time with a zone, in UTC; the zero
// time is refused (errZeroTime).
func parseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return time.Time{}, errZeroTime
	}
	return t.UTC(), nil
}

// formatInterval writes iv canonically (RFC 3339, UTC, ".." for open
// ends), for cache keys and links.
func formatInterval(iv geo.Interval) string {
	side := func(t time.Time) string {
		if t.IsZero() {
			return ".."
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	if iv.Start.Equal(iv.End) && !iv.Start.IsZero() {
		return side(iv.Start)
	}
	return side(iv.Start) + "/" + side(iv.End)
}
