package api

import (
	"net/http"
)

// This file is the hot path: the request a map sends on every open and
// every reload, an anonymous GET of a page of items that is in the
// response cache, answered before the router and the middleware that
// every other request passes (checkRequest, cors, authenticate, the
// route's guard, the query parser). On this machine those cost more than
// net/http itself (README "Benchmarks").
//
// It answers a request only when the same request has been answered by
// the router before and its response is still cached for the current data
// version: the cache remembers (cache.alias) which cached response a
// request was served, by everything of the request that its response
// depends on (hotKey), when handleItems serves it from the cache. So the
// hot path never decides anything the router did not: a request differing
// in any byte of its path, query, Host, Accept or Accept-Encoding, or one
// with credentials (Authorization, a cookie), takes the router's path.

// hotKey is what an anonymous request for a page of items is answered
// by: the page (path and query as sent), the base URL of its links (Host,
// and TLS for the scheme), and the representation (Accept picks a file
// format, Accept-Encoding gzip). Everything else the router's path reads
// — the method (GET or HEAD), the validators (If-None-Match,
// If-Modified-Since) — the hot path reads the same way (serveEncoding).
type hotKey struct {
	path, query, host, accept, acceptEncoding string
	tls                                       bool
}

// maxHotKey bounds the bytes of a hotKey the cache remembers: the keys of
// real maps are a few hundred bytes; a longer one takes the router's path.
const maxHotKey = 1 << 10

// hotKeyOf returns the hotKey of r, or false when r may not take the hot
// path: not a GET or HEAD, a path sent escaped (the router reads the
// escaped form), credentials, or a header the key reads sent more than
// once.
func hotKeyOf(r *http.Request) (hotKey, bool) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawPath != "" {
		return hotKey{}, false
	}
	h := r.Header
	if len(h["Authorization"]) > 0 || len(h["Cookie"]) > 0 {
		return hotKey{}, false
	}
	accept, ok1 := oneValue(h["Accept"])
	encoding, ok2 := oneValue(h["Accept-Encoding"])
	if !ok1 || !ok2 {
		return hotKey{}, false
	}
	k := hotKey{path: r.URL.Path, query: r.URL.RawQuery, host: r.Host, accept: accept, acceptEncoding: encoding, tls: r.TLS != nil}
	if k.size() > maxHotKey {
		return hotKey{}, false
	}
	return k, true
}

// size is what k costs the cache, in bytes.
func (k hotKey) size() int {
	return len(k.path) + len(k.query) + len(k.host) + len(k.accept) + len(k.acceptEncoding) + 1
}

// oneValue returns the value of a header field sent at most once.
func oneValue(values []string) (string, bool) {
	switch len(values) {
	case 0:
		return "", true
	case 1:
		return values[0], true
	}
	return "", false
}

// serveHot answers r from the cache when it can (see above) and reports
// whether it did.
func (s *Server) serveHot(w http.ResponseWriter, r *http.Request) bool {
	k, ok := hotKeyOf(r)
	if !ok {
		return false
	}
	hit, ok := s.cache.hot(k)
	if !ok {
		return false
	}
	// The response is cached under the version it shows; the data may have
	// moved on since (a write the cache has not seen a page of yet).
	if v, err := s.store.Version(r.Context(), hit.group); err != nil || v != hit.version {
		return false
	}
	h := w.Header()
	setCORS(h)
	h["Vary"] = varyItems
	s.serveEncoding(w, r, hit.resp, hit.gzip)
	return true
}

// hotPath answers what serveHot can and hands the rest to next.
func (s *Server) hotPath(next http.Handler) http.Handler {
	if s.cache == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.serveHot(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}
