package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
)

// Household detail of the test data: names and a phone number that must
// never reach anyone below planner.
const (
	secretName  = "王测试户主"
	secretPhone = "13700137001" // not the format hint's example (13800138000)
)

// Contacts on duty of the test data: crews may see them, the public never.
const (
	contactName  = "赵测试值守"
	contactPhone = "13912345678"
	keeperName   = "钱测试保管"
	keeperPhone  = "0371-86570000"
)

// privateFixtures returns Fixtures with household detail on rs-1, a duty
// contact on wp-1 and a keeper on d-1.
func privateFixtures() map[string][]*geo.Feature {
	fs := Fixtures()
	for _, f := range fs[geo.RelocationSites] {
		if f.ID == "rs-1" {
			f.Properties["households"] = []any{
				map[string]any{"name": secretName, "phone": secretPhone, "members": 4.0},
				map[string]any{"name": "李测试", "phone": nil, "members": 2.0, "note": "老人行动不便"},
			}
		}
	}
	for _, f := range fs[geo.WaterloggingPoints] {
		if f.ID == "wp-1" {
			f.Properties["duty_contact_name"], f.Properties["duty_contact_phone"] = contactName, contactPhone
		}
	}
	for _, f := range fs[geo.Depots] {
		if f.ID == "d-1" {
			f.Properties["keeper_name"], f.Properties["keeper_phone"] = keeperName, keeperPhone
		}
	}
	return fs
}

// forEachStore runs f on the embedded store and on PostGIS (skipped
// without DATABASE_URL, failed under CI), each holding privateFixtures.
func forEachStore(t *testing.T, f func(t *testing.T, st geo.Store)) {
	t.Run("embedded", func(t *testing.T) {
		st, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatalf("embedded.Open = %v", err)
		}
		t.Cleanup(func() { st.Close() })
		Seed(t, st, privateFixtures())
		f(t, st)
	})
	t.Run("postgis", func(t *testing.T) {
		st := OpenPostGIS(t)
		Seed(t, st, privateFixtures())
		f(t, st)
	})
}

// env is a server over a store, listening on loopback, with a token of
// every role.
type env struct {
	t      testing.TB
	store  geo.Store
	srv    *Server
	ts     *httptest.Server
	tokens map[geo.Role]string // secrets; none for public
	ids    map[geo.Role]string // token ids
}

func newEnv(t testing.TB, st geo.Store, opts Options) *env {
	t.Helper()
	// The settings of hazardmap serve, unless the test sets its own.
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.WritesPerMinute == 0 {
		opts.WritesPerMinute = DefaultWritesPerMinute
	}
	e := &env{t: t, store: st, srv: NewServer(st, opts), tokens: map[geo.Role]string{}, ids: map[geo.Role]string{}}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(func() {
		e.srv.Close()
		e.ts.Close()
	})
	for _, role := range []geo.Role{geo.RoleSensor, geo.RoleCrew, geo.RolePlanner, geo.RoleAdmin} {
		tok, secret, err := geo.IssueToken(context.Background(), st, "测试 "+string(role), role, 0)
		if err != nil {
			t.Fatalf("IssueToken(%s) = %v", role, err)
		}
		e.tokens[role], e.ids[role] = secret, tok.ID
	}
	return e
}

// reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as role (no token for public) with body and
// header pairs, and reads the answer.
func (e *env) do(role geo.Role, method, path, body string, header ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if s, ok := e.tokens[role]; ok {
		req.Header.Set("Authorization", "Bearer "+s)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return e.send(req)
}

// send sends req and reads the answer.
func (e *env) send(req *http.Request) reply {
	e.t.Helper()
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return reply{res.StatusCode, res.Header, b}
}

// json decodes the body into a map.
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// problem checks that r is a problem body with status want.
func (r reply) problem(t testing.TB, what string, want int) map[string]any {
	t.Helper()
	if r.status != want || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s = %d %s, want %d problem JSON\n%s", what, r.status, r.header.Get("Content-Type"), want, r.body)
	}
	p := r.json(t)
	if p["status"] != float64(want) {
		t.Errorf("%s: problem status %v, want %d", what, p["status"], want)
	}
	return p
}

// concrete returns a request path for a route pattern: fixture ids for
// the parameters.
func concrete(pattern string) string {
	id := "x"
	switch {
	case strings.HasPrefix(pattern, "/collections/"+geo.WaterloggingPoints):
		id = "wp-1"
	case strings.HasPrefix(pattern, "/collections/"+geo.RelocationSites):
		id = "rs-1"
	case strings.HasPrefix(pattern, "/collections/"+geo.Depots):
		id = "d-1"
	case strings.HasPrefix(pattern, "/collections/"+geo.Gauges):
		id = "g-1"
	case strings.HasPrefix(pattern, "/tokens/"):
		id = "no-such-token"
	}
	p := strings.ReplaceAll(pattern, "{featureId}", id)
	p = strings.ReplaceAll(p, "{tokenId}", id)
	p = strings.ReplaceAll(p, "{proposalId}", "1")
	p = strings.ReplaceAll(p, "{observationId}", "1")
	p = strings.ReplaceAll(p, "{alertId}", "no-such-alert")
	p = strings.ReplaceAll(p, "{identifier}", "hazardmap.no-such-alert.1")
	return strings.ReplaceAll(p, "*", "x")
}

// routesOf lists every route of s's router as "METHOD pattern".
func routesOf(t testing.TB, s *Server) []string {
	t.Helper()
	var routes []string
	err := chi.Walk(s.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(routes)
	return routes
}

// TestRoleMatrix sends every route of the router (chi.Walk: a route added
// without a rule fails here) a request as every role: a role below the
// route's rule gets 401 (no token) or 403, a role at or above it gets
// anything else.
func TestRoleMatrix(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		routes := routesOf(t, e.srv)
		if len(routes) != len(e.srv.rules) {
			t.Errorf("router has %d routes, rules %d", len(routes), len(e.srv.rules))
		}
		for _, route := range routes {
			min, ok := e.srv.rules[route]
			if !ok {
				t.Errorf("%s: no role rule (register it through handle in routes.go)", route)
				continue
			}
			method, pattern, _ := strings.Cut(route, " ")
			path := concrete(pattern)
			for _, role := range geo.Roles() {
				var r reply
				if pattern == "/events" && method == http.MethodGet {
					r = e.stream(role, path)
				} else {
					r = e.do(role, method, path, "")
				}
				switch {
				case role.AtLeast(min) && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
					t.Errorf("%s %s as %s = %d, want allowed (rule %s)\n%s", method, path, role, r.status, min, r.body)
				case !role.AtLeast(min) && role == geo.RolePublic && r.status != http.StatusUnauthorized:
					t.Errorf("%s %s as public = %d, want 401 (rule %s)", method, path, r.status, min)
				case !role.AtLeast(min) && role != geo.RolePublic && r.status != http.StatusForbidden:
					t.Errorf("%s %s as %s = %d, want 403 (rule %s)", method, path, role, r.status, min)
				}
				if r.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s %s as %s: 401 without WWW-Authenticate: Bearer", method, path, role)
				}
			}
		}
	})
}

// stream opens GET path as an event stream and returns its status and
// headers once they arrive, closing the stream.
func (e *env) stream(role geo.Role, path string) reply {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.ts.URL+path, nil)
	if s, ok := e.tokens[role]; ok {
		req.Header.Set("Authorization", "Bearer "+s)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	return reply{status: res.StatusCode, header: res.Header}
}

func TestParseBearer(t *testing.T) {
	for _, tt := range []struct {
		values []string
		want   string
	}{
		{[]string{"Bearer hm_abc-_DEF"}, "hm_abc-_DEF"},
		{[]string{"bearer hm_x"}, "hm_x"},
		{[]string{"BEARER   hm_x=="}, "hm_x=="},
		{[]string{"Bearer"}, ""},
		{[]string{"Bearer "}, ""},
		{[]string{"Basic dXNlcjpwYXNz"}, ""},
		{[]string{"Bearer hm_x", "Bearer hm_y"}, ""},
		{[]string{"Bearer hm x"}, ""},
		{[]string{"Bearer =hm"}, ""},
		{[]string{"Bearer hm_=x"}, ""},
		{[]string{"Bearer 令牌"}, ""},
	} {
		got, err := parseBearer(tt.values)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q", tt.values, got, err, tt.want)
		}
		if err != nil && geo.KindOf(err) != geo.Unauthorized {
			t.Errorf("ParseBearer(%q) error kind %v, want unauthorized", tt.values, geo.KindOf(err))
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer hm_abc", "bearer x==", "Basic abc", "Bearer  a b", "", "Bearer =", "Bearer\thm"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseBearer([]string{v})
		if err != nil {
			if geo.KindOf(err) != geo.Unauthorized || got != "" {
				t.Fatalf("ParseBearer(%q) = %q, %v", v, got, err)
			}
			if strings.Contains(err.Error(), v) && len(v) > 8 {
				t.Fatalf("ParseBearer(%q): the error echoes the credential: %v", v, err)
			}
			return
		}
		if got == "" || !isToken68(got) || !strings.HasSuffix(strings.TrimSpace(v), got) {
			t.Fatalf("ParseBearer(%q) = %q: not a token68 from the header", v, got)
		}
	})
}

// TestTokens checks revoked, expired, unknown and malformed tokens (401
// everywhere, public routes included) and the admin's token routes.
func TestTokens(t *testing.T) {
	st := OpenFixtureStore(t)
	e := newEnv(t, st, Options{})
	ctx := context.Background()

	// An expired token (made directly: IssueToken makes only live ones).
	secret, hash := geo.NewTokenSecret()
	now := time.Now()
	if err := st.CreateToken(ctx, geo.Token{ID: geo.NewID(), Name: "过期", Role: geo.RoleCrew, Hash: hash,
		Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	unknown, _ := geo.NewTokenSecret()
	for name, auth := range map[string]string{
		"expired":   "Bearer " + secret,
		"unknown":   "Bearer " + unknown,
		"malformed": "Bearer a b c",
		"basic":     "Basic dXNlcjpwYXNz",
		"no prefix": "Bearer abcdefghijklmnop",
	} {
		r := e.do(geo.RolePublic, "GET", "/collections/depots/items", "", "Authorization", auth)
		r.problem(t, name+" token on a public route", http.StatusUnauthorized)
		if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("%s token: WWW-Authenticate = %q", name, got)
		}
		if bytes.Contains(r.body, []byte("expired")) || bytes.Contains(r.body, []byte("revoked")) {
			t.Errorf("%s token: the problem tells a guesser why: %s", name, r.body)
		}
	}

	// The admin makes a crew token over HTTP, the crew uses it, the
	// admin revokes it, and it stops working at once.
	r := e.do(geo.RoleAdmin, "POST", "/tokens", `{"name":"城建局一队","role":"crew","expires_in":"720h"}`, "Content-Type", "application/json")
	if r.status != http.StatusCreated {
		t.Fatalf("POST /tokens = %d %s", r.status, r.body)
	}
	tok := r.json(t)
	crew, _ := tok["token"].(string)
	if !strings.HasPrefix(crew, geo.TokenPrefix) || tok["role"] != "crew" || tok["status"] != "active" || tok["expires"] == nil {
		t.Fatalf("POST /tokens = %v", tok)
	}
	list := e.do(geo.RoleAdmin, "GET", "/tokens", "")
	if list.status != http.StatusOK || bytes.Contains(list.body, []byte(crew)) || !bytes.Contains(list.body, []byte("城建局一队")) {
		t.Fatalf("GET /tokens = %d %s (must list the token, never its secret)", list.status, list.body)
	}
	report := `{"depth_cm":40,"status":"closed"}`
	if r := e.do(geo.RolePublic, "POST", "/collections/waterlogging_points/items/wp-1/observations", report,
		"Authorization", "Bearer "+crew, "Content-Type", "application/json"); r.status != http.StatusCreated {
		t.Fatalf("report with the new crew token = %d %s", r.status, r.body)
	}
	if r := e.do(geo.RoleAdmin, "DELETE", "/tokens/"+tok["id"].(string), ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE /tokens/id = %d %s", r.status, r.body)
	}
	e.do(geo.RolePublic, "POST", "/collections/waterlogging_points/items/wp-1/observations", report,
		"Authorization", "Bearer "+crew, "Content-Type", "application/json").problem(t, "report with a revoked token", http.StatusUnauthorized)
	for _, body := range []string{`{"name":"x","role":"public"}`, `{"name":"","role":"crew"}`, `{"name":"x","role":"boss"}`,
		`{"name":"x","role":"crew","expires_in":"forever"}`, `{"name":"x","role":"crew","extra":1}`} {
		e.do(geo.RoleAdmin, "POST", "/tokens", body, "Content-Type", "application/json").problem(t, "POST /tokens "+body, http.StatusBadRequest)
	}
	e.do(geo.RoleAdmin, "DELETE", "/tokens/nope", "").problem(t, "revoke an unknown token", http.StatusNotFound)
}

func FuzzParseTokenRequest(f *testing.F) {
	for _, s := range []string{`{"name":"城建局一队","role":"crew","expires_in":"720h"}`, `{"name":"a","role":"admin"}`, `{}`, `[]`, `null`,
		`{"name":1}`, `{"name":"x","role":"crew","expires_in":"-1h"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := parseTokenRequest(raw)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("ParseTokenRequest(%q) error kind %v", raw, geo.KindOf(err))
			}
			return
		}
		if strings.TrimSpace(req.Name) == "" || !req.Role.Valid() || req.TTL < 0 || (req.TTL > 0 && req.TTL < time.Minute) {
			t.Fatalf("ParseTokenRequest(%q) = %+v", raw, req)
		}
	})
}

// TestWriteRate checks the per-token write limit: 429 problem JSON with
// Retry-After, for that token only.
func TestWriteRate(t *testing.T) {
	e := newEnv(t, OpenFixtureStore(t), Options{WritesPerMinute: 2})
	report := `{"depth_cm":5,"status":"clear"}`
	path := "/collections/waterlogging_points/items/wp-2/observations"
	for i := 0; i < 2; i++ {
		if r := e.do(geo.RoleCrew, "POST", path, report, "Content-Type", "application/json"); r.status != http.StatusCreated {
			t.Fatalf("write %d = %d %s", i+1, r.status, r.body)
		}
	}
	r := e.do(geo.RoleCrew, "POST", path, report, "Content-Type", "application/json")
	r.problem(t, "third write in a minute", http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Reads are not limited, nor are other tokens.
	if r := e.do(geo.RoleCrew, "GET", path, ""); r.status != http.StatusOK {
		t.Errorf("read after the limit = %d", r.status)
	}
	if r := e.do(geo.RolePlanner, "POST", path, report, "Content-Type", "application/json"); r.status != http.StatusCreated {
		t.Errorf("another token's write = %d %s", r.status, r.body)
	}
}

// TestBodyLimits checks 413 and 415, as problem JSON.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t, OpenFixtureStore(t), Options{})
	big := `{"depth_cm":5,"status":"clear","note":"` + strings.Repeat("a", 70<<10) + `"}`
	e.do(geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-1/observations", big,
		"Content-Type", "application/json").problem(t, "a 70 KiB report", http.StatusRequestEntityTooLarge)
	huge := `{"type":"Feature","geometry":null,"properties":{"name":"` + strings.Repeat("名", 400<<10) + `"}}`
	e.do(geo.RolePlanner, "POST", "/collections/depots/items", huge,
		"Content-Type", "application/geo+json").problem(t, "a 1.2 MB feature", http.StatusRequestEntityTooLarge)
	e.do(geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-1/observations", "depth=5",
		"Content-Type", "application/x-www-form-urlencoded").problem(t, "a form body", http.StatusUnsupportedMediaType)
	e.do(geo.RolePlanner, "POST", "/collections/depots/items", `{}`,
		"Content-Type", "application/json; charset=latin1").problem(t, "a latin1 body", http.StatusUnsupportedMediaType)
	// A body sent in chunks, with no Content-Length, is cut off too.
	req, _ := http.NewRequest("POST", e.ts.URL+"/collections/waterlogging_points/items/wp-1/observations", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+e.tokens[geo.RoleCrew])
	req.Header.Set("Content-Type", "application/json")
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 70 KiB report = %d, want 413", res.StatusCode)
	}
}
