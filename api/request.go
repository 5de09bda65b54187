package api

import (
	"net/http"
	"net/url"
	"strings"

	"hazardmap/geo"
)

// This file is the one reader of the request target (path and query
// string) that every route goes through (checkRequest, in routes.go,
// before routing): a request the service cannot read completely, or whose
// text no store could keep, is a 400 naming what is wrong before any
// handler runs. Go's own query parser stops at 10 000 parameters, skips a
// pair it cannot unescape and the pairs joined by ';', and the handlers
// would have answered the rest as if it were the whole question; with
// this reader in front, what url.Values holds is the whole query, so the
// handlers' parsers see everything that was sent.

// maxQueryParams caps the parameters of one request. The richest route
// (…/items with every filter of the widest collection) takes fewer than
// 30; a request with more is a mistake or an attack, refused whole.
const maxQueryParams = 100

// readQuery reads a raw query string completely: '&'-separated pairs
// (empty ones skipped, as url.ParseQuery does), each name and value
// percent-decoded ('+' is a space), valid UTF-8 without NUL, at most
// maxQueryParams of them. Anything it cannot read so is an Invalid error
// naming the parameter (or "query" when there is no name to give); on
// success the values are what url.ParseQuery(raw) returns.
func readQuery(raw string) (url.Values, error) {
	v := url.Values{}
	n := 0
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		if n++; n > maxQueryParams {
			return nil, geo.InvalidField("query", "more than %d parameters; no route takes so many", maxQueryParams)
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, geo.InvalidField("query", "the parameter name %q is not percent-encoded correctly", clip(rawName))
		}
		if strings.Contains(pair, ";") {
			return nil, geo.InvalidField(textName(name), "holds ';', which does not separate parameters here: join parameters with '&', and encode a ';' in a value as %%3B")
		}
		if !geo.ValidText(name) {
			return nil, geo.InvalidField("query", "a parameter name %s", notText)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, geo.InvalidField(name, "the value is not percent-encoded correctly (a %% must start %%XX with two hex digits)")
		}
		if !geo.ValidText(value) {
			return nil, geo.InvalidField(name, "the value %s", notText)
		}
		v[name] = append(v[name], value)
	}
	return v, nil
}

// textName returns name for an error message, or "query" when it is not
// text either.
func textName(name string) string {
	if !geo.ValidText(name) || name == "" {
		return "query"
	}
	return name
}

// notText is what readQuery says of a name or value that is not text.
const notText = "is not valid UTF-8 or holds NUL (%00); send text as UTF-8, percent-encoded"

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "�")
}

// checkRequest refuses, before routing, a request whose path is not
// valid UTF-8 without NUL (featureId and tokenId are parts of it) or
// whose query string readQuery cannot read completely.
func (s *Server) checkRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !geo.ValidText(r.URL.Path) {
			s.fail(w, r, geo.InvalidField("path", "is not valid UTF-8 or holds NUL (%%00): no collection, feature or token is named so"))
			return
		}
		if _, err := readQuery(r.URL.RawQuery); err != nil {
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// noQuery refuses every query parameter but f=json: the guard of a route
// that reads none (routes.go registers every route so unless it says it
// reads a query, so that a parameter meant for something is never
// ignored), and what such a handler may call itself.
func noQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	v, err := readQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	return invalidQuery(eachParam(v, func(name, raw string) error {
		if name == "f" {
			return parseFormat(raw, false)
		}
		return geo.InvalidField(name, "unknown parameter; %s %s takes no query parameters (but f=json)", r.Method, r.URL.Path)
	}))
}
