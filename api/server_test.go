package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"hazardmap/api"
	"hazardmap/geo"
)

// result is a response read whole.
type result struct {
	status int
	header http.Header
	body   []byte
}

// get sends a GET (or another method) to h and reads the response.
func get(t testing.TB, h http.Handler, method, target string, header ...string) result {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return result{rec.Code, rec.Result().Header, body}
}

// decode unmarshals r's body into v.
func (r result) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
}

// newServer returns a server over a fixture store with the settings of
// hazardmap serve.
func newServer(t testing.TB) (*api.Server, geo.Store) {
	st := api.OpenFixtureStore(t)
	return api.NewServer(st, api.Options{CacheBytes: api.DefaultCacheBytes, WritesPerMinute: api.DefaultWritesPerMinute}), st
}
