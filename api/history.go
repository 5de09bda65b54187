package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hazardmap/geo"
)

// This file reads the query of the history routes — a waterlogging
// point's status reports (observations.go) and the audit log (audit.go) —
// and writes their page links and their actors.

// Paging bounds of the observation history and the audit log.
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 1000
)

// historyQuery is a validated query of the observation history or the
// audit log: a time range and a page.
type historyQuery struct {
	// From and To bound the times kept: From ≤ t < To; zero for open.
	From, To time.Time
	// Limit is 1 to maxHistoryLimit; Offset is 0 or more.
	Limit, Offset int
	// Extra holds the other parameters a route accepts (by name), as
	// given.
	Extra map[string]string
}

// parseHistoryQuery validates the query string of a history route:
// datetime (an OGC API instant or interval, ends included), or from
// (inclusive) and to (exclusive) as RFC 3339 date-times, not both; limit
// (1 to maxHistoryLimit, default defaultHistoryLimit); offset; f=json; and
// the extra parameters named, whose values are returned as given. Unknown
// and repeated parameters are errors naming the parameter.
func parseHistoryQuery(v url.Values, extra ...string) (historyQuery, error) {
	q := historyQuery{Limit: defaultHistoryLimit, Extra: map[string]string{}}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "datetime", "from", "to":
			err = parseTimeRange(name, raw, &q.From, &q.To)
		case "limit":
			q.Limit, err = parseHistoryLimit(raw)
		case "offset":
			q.Offset, err = parseOffset(raw)
		case "f":
			err = parseFormat(raw, false)
		default:
			if !slices.Contains(extra, name) {
				all := append([]string{"datetime", "from", "to", "limit", "offset", "f"}, extra...)
				err = geo.InvalidField(name, "unknown parameter; parameters: %s", strings.Join(all, ", "))
				break
			}
			q.Extra[name] = raw
		}
		return err
	})
	if err := invalidQuery(checkTimeRange(v, q.From, q.To, bad)); err != nil {
		return historyQuery{}, err
	}
	return q, nil
}

// parseTimeRange reads one parameter of a time range into from and to:
// datetime (an OGC API instant or interval, ends included), from
// (inclusive) or to (exclusive) as RFC 3339 date-times. Errors are
// Invalid and name the parameter.
func parseTimeRange(name, raw string, from, to *time.Time) error {
	if name == "datetime" {
		iv, err := parseDatetime(name, raw)
		if err != nil {
			return err
		}
		*from = iv.Start
		if !iv.End.IsZero() {
			// Stores keep microseconds: t ≤ End is t < End's
			// microsecond + 1 µs.
			*to = iv.End.Truncate(time.Microsecond).Add(time.Microsecond)
		}
		return nil
	}
	t, err := parseInstant(raw)
	if err != nil {
		return geo.InvalidField(name, "want an RFC 3339 date-time with a zone, e.g. 2024-07-20T08:00:00+08:00")
	}
	if name == "from" {
		*from = t
	} else {
		*to = t
	}
	return nil
}

// checkTimeRange adds to bad what is wrong with a time range as a whole:
// datetime given with from or to, from after to.
func checkTimeRange(v url.Values, from, to time.Time, bad []geo.FieldError) []geo.FieldError {
	if v.Has("datetime") && (v.Has("from") || v.Has("to")) {
		bad = append(bad, geo.FieldError{Field: "datetime", Detail: "give datetime or from/to, not both"})
	}
	if len(bad) == 0 && !from.IsZero() && !to.IsZero() && from.After(to) {
		bad = append(bad, geo.FieldError{Field: "from", Detail: "must not be after to"})
	}
	return bad
}

// parseHistoryLimit reads the limit of a history or list: 1 to
// maxHistoryLimit.
func parseHistoryLimit(raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxHistoryLimit {
		return 0, geo.InvalidField("limit", "want an integer from 1 to %d, got %q", maxHistoryLimit, raw)
	}
	return n, nil
}

// values returns q as query parameters at offset, for links: from and to
// (what datetime became), the extras, limit, offset.
func (q historyQuery) values(offset int) string {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	for k, x := range q.Extra {
		v.Set(k, x)
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	v.Set("offset", strconv.Itoa(offset))
	return v.Encode()
}

// pageLinks returns the self, next and prev links of a page of q at href
// that returned n of matched.
func (q historyQuery) pageLinks(href string, n, matched int) []link {
	return pageLinks(href, q.values, q.Offset, q.Limit, n, matched)
}

// pageLinks returns the self, next and prev links of a page at offset of
// size limit that returned n of matched; values(offset) is the query
// string of the page at offset.
func pageLinks(href string, values func(offset int) string, offset, limit, n, matched int) []link {
	links := []link{{Href: href + "?" + values(offset), Rel: "self", Type: typeJSON, Title: "This page"}}
	if next := offset + n; n > 0 && next < matched {
		links = append(links, link{Href: href + "?" + values(next), Rel: "next", Type: typeJSON, Title: "Next page"})
	}
	if offset > 0 {
		links = append(links, link{Href: href + "?" + values(max(0, offset-limit)), Rel: "prev", Type: typeJSON, Title: "Previous page"})
	}
	return links
}

// actorJSON is who wrote: a token's id, name and role, or "system".
type actorJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

func newActorJSON(a geo.Actor) actorJSON {
	return actorJSON{ID: a.ID, Name: a.Name, Role: string(a.Role)}
}
