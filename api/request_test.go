package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"hazardmap/geo"
)

func TestReadQuery(t *testing.T) {
	for _, tt := range []struct {
		raw   string
		want  url.Values
		field string // "" for success
	}{
		{"", url.Values{}, ""},
		{"a=1&b=%E8%8D%A5&c=x+y&&d=", url.Values{"a": {"1"}, "b": {"荥"}, "c": {"x y"}, "d": {""}}, ""},
		{"a=1&a=2", url.Values{"a": {"1", "2"}}, ""},
		{"a", url.Values{"a": {""}}, ""},
		{"%zz=1", nil, "query"},
		{"a=%zz", nil, "a"},
		{"a=%", nil, "a"},
		{"limit=5;offset=1", nil, "limit"},
		{"a=1%3B2", url.Values{"a": {"1;2"}}, ""},
		{"f=%FF", nil, "f"},
		{"f=%00", nil, "f"},
		{"%FF=1", nil, "query"},
		{strings.Repeat("a=1&", maxQueryParams), url.Values{"a": make([]string, maxQueryParams)}, ""},
		{strings.Repeat("a=1&", maxQueryParams+1), nil, "query"},
	} {
		got, err := readQuery(tt.raw)
		if tt.field != "" {
			if e := geo.AsError(err); e == nil || e.Kind != geo.Invalid || e.Fields[0].Field != tt.field {
				t.Errorf("readQuery(%.40q) = %v, want Invalid naming %s", tt.raw, err, tt.field)
			}
			continue
		}
		if vs := tt.want["a"]; len(vs) == maxQueryParams {
			for i := range vs {
				vs[i] = "1"
			}
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("readQuery(%.40q) = %v, %v; want %v", tt.raw, got, err, tt.want)
		}
	}
}

// FuzzQuery sends every route of the router (as an admin, so that the
// role lets it through) a fuzzed query string: the server never answers
// 5xx, every refusal is problem JSON, a query readQuery cannot read is a
// 400, one it can read is read as url.ParseQuery reads it (so that the
// handlers' url.Values is the whole query), and nothing is written.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"", "f=json", "limit=5;offset=1", "%zz=1", "f=%FF", "bbox=1,2,3,4&limit=10", "lon=113.4&lat=34.8",
		"after=3", "datetime=2024-07-20T00:00:00Z/..", "status=closed&status=ponding", "a=%00", strings.Repeat("z=1&", 120)} {
		for r := range 4 {
			f.Add(uint8(r*7), s)
		}
	}
	st := OpenFixtureStore(f)
	srv := NewServer(st, Options{Limits: DefaultLimits()})
	f.Cleanup(func() { srv.Close() })
	_, secret, err := geo.IssueToken(context.Background(), st, "fuzz", geo.RoleAdmin, 0)
	if err != nil {
		f.Fatal(err)
	}
	routes := routesOf(f, srv)
	_, ledger, _ := st.Audit(context.Background(), geo.AuditQuery{Limit: 1})
	f.Fuzz(func(t *testing.T, which uint8, raw string) {
		method, pattern, _ := strings.Cut(routes[int(which)%len(routes)], " ")
		ctx := context.Background()
		if pattern == "/events" {
			var cancel context.CancelFunc // a stream that opens ends here
			ctx, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
		}
		req := (&http.Request{Method: method, URL: &url.URL{Path: concrete(pattern), RawQuery: raw}, Header: http.Header{},
			Host: "example.org", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody}).WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		status := rec.Code
		if status >= 500 && status != statusClientClosed {
			t.Fatalf("%s %s?%q = %d %s", method, pattern, raw, status, rec.Body)
		}
		if status >= 400 && status != statusClientClosed {
			var p problemDetails
			if rec.Header().Get("Content-Type") != typeProblem || (method != http.MethodHead && (json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != status)) {
				t.Fatalf("%s %s?%q = %d, not problem JSON: %s", method, pattern, raw, status, rec.Body)
			}
		}
		v, err := readQuery(raw)
		if err != nil && status != http.StatusBadRequest {
			t.Fatalf("%s %s?%q = %d, but readQuery refused it: %v", method, pattern, raw, status, err)
		}
		if err == nil {
			if pv, perr := url.ParseQuery(raw); perr != nil || !reflect.DeepEqual(pv, v) {
				t.Fatalf("readQuery(%q) = %v, url.ParseQuery = %v, %v", raw, v, pv, perr)
			}
		}
		if _, n, _ := st.Audit(context.Background(), geo.AuditQuery{Limit: 1}); n != ledger {
			t.Fatalf("%s %s?%q wrote: the ledger went from %d to %d entries", method, pattern, raw, ledger, n)
		}
	})
}
