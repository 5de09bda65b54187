package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hazardmap/geo"
)

// The tests of field mode over HTTP, on both stores: the Idempotency-Key
// rules, signing in with a one-time code, reports with a photo and
// location proposals.

const (
	obsPath = "/collections/waterlogging_points/items/wp-1/observations"
	typeJS  = "application/json"
)

// key returns an Idempotency-Key field value: k as a quoted string.
func key(k string) string { return `"` + k + `"` }

// holdStore holds AddObservation until release is closed, after telling
// entered: a report that is still being written.
type holdStore struct {
	geo.Store
	entered chan struct{}
	release chan struct{}
}

func (h *holdStore) AddObservation(ctx context.Context, id string, version int64, o geo.Observation) (*geo.Feature, geo.Observation, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.Store.AddObservation(ctx, id, version, o)
}

// countReports returns how many reports wp-1 has.
func (e *env) countReports(t *testing.T) float64 {
	t.Helper()
	return e.do(geo.RoleCrew, "GET", obsPath, "").json(t)["numberMatched"].(float64)
}

// TestIdempotencyKey: the draft's rules over HTTP — the same key and
// request replays the stored answer and writes nothing; another request
// with it is 422; a retry while the first is in flight is 409 with
// Retry-After; a malformed key is 400 naming it; routes whose answers are
// not kept refuse it. A planner's PATCH replayed after it committed gets
// its answer, not a 412 for the If-Match it made stale itself.
func TestIdempotencyKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		hold := &holdStore{Store: st, entered: make(chan struct{}, 1), release: make(chan struct{})}
		close(hold.release)
		e := newEnv(t, hold, Options{})
		report := `{"depth_cm":40,"status":"closed","note":"桥下断路"}`
		k := key("8e03978e-40d5-43e8-bc93-6894a57f9324")

		first := e.do(geo.RoleCrew, "POST", obsPath, report, "Content-Type", typeJS, "Idempotency-Key", k)
		<-hold.entered
		if first.status != http.StatusCreated || first.header.Get("Idempotency-Replayed") != "" {
			t.Fatalf("first report = %d %v\n%s", first.status, first.header, first.body)
		}
		n := e.countReports(t)
		again := e.do(geo.RoleCrew, "POST", obsPath, report, "Content-Type", typeJS, "Idempotency-Key", k)
		if again.status != http.StatusCreated || again.header.Get("Idempotency-Replayed") != "true" || !bytes.Equal(again.body, first.body) ||
			again.header.Get("ETag") != first.header.Get("ETag") || again.header.Get("Location") != first.header.Get("Location") {
			t.Errorf("replay = %d %v\n%s\nwant the first answer again\n%s", again.status, again.header, again.body, first.body)
		}
		if got := e.countReports(t); got != n {
			t.Errorf("after the replay %v reports, want %v: the replay wrote", got, n)
		}

		// The same key with another body, path or token: 422.
		for what, r := range map[string]reply{
			"another body":  e.do(geo.RoleCrew, "POST", obsPath, `{"depth_cm":41,"status":"closed"}`, "Content-Type", typeJS, "Idempotency-Key", k),
			"another point": e.do(geo.RoleCrew, "POST", "/collections/waterlogging_points/items/wp-2/observations", report, "Content-Type", typeJS, "Idempotency-Key", k),
			"another token": e.do(geo.RolePlanner, "POST", obsPath, report, "Content-Type", typeJS, "Idempotency-Key", k),
		} {
			p := r.problem(t, "the key with "+what, http.StatusUnprocessableEntity)
			if errs, _ := p["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "Idempotency-Key" {
				t.Errorf("422 for %s: errors %v, want the field Idempotency-Key", what, p["errors"])
			}
		}

		// In flight: the first request holds the key while its write
		// waits; a retry meanwhile is 409 with Retry-After, and once the
		// first is done the retry gets its answer.
		hold.release = make(chan struct{})
		k2 := key("in-flight-1")
		var wg sync.WaitGroup
		var slow reply
		wg.Add(1)
		go func() {
			defer wg.Done()
			slow = e.do(geo.RoleCrew, "POST", obsPath, `{"depth_cm":20,"status":"ponding"}`, "Content-Type", typeJS, "Idempotency-Key", k2)
		}()
		<-hold.entered
		busy := e.do(geo.RoleCrew, "POST", obsPath, `{"depth_cm":20,"status":"ponding"}`, "Content-Type", typeJS, "Idempotency-Key", k2)
		busy.problem(t, "a retry while the first is in flight", http.StatusConflict)
		if busy.header.Get("Retry-After") == "" {
			t.Error("409 in flight: no Retry-After")
		}
		close(hold.release)
		wg.Wait()
		if slow.status != http.StatusCreated {
			t.Fatalf("the held report = %d %s", slow.status, slow.body)
		}
		late := e.do(geo.RoleCrew, "POST", obsPath, `{"depth_cm":20,"status":"ponding"}`, "Content-Type", typeJS, "Idempotency-Key", k2)
		if late.status != http.StatusCreated || !bytes.Equal(late.body, slow.body) || late.header.Get("Idempotency-Replayed") != "true" {
			t.Errorf("the retry after the first finished = %d %s, want its answer replayed", late.status, late.body)
		}

		// A refused write is not recorded: the same key may try again.
		k3 := key("refused-then-fixed")
		e.do(geo.RoleCrew, "POST", obsPath, `{"depth_cm":40,"status":"clear"}`, "Content-Type", typeJS, "Idempotency-Key", k3).
			problem(t, "a report refused by the GB 51222 rule", http.StatusBadRequest)
		<-hold.entered
		if r := e.do(geo.RoleCrew, "POST", obsPath, `{"depth_cm":40,"status":"clear"}`, "Content-Type", typeJS, "Idempotency-Key", k3); r.status != http.StatusBadRequest {
			t.Errorf("the same refused report again = %d, want 400 again (nothing stored)", r.status)
		}
		<-hold.entered

		// Malformed keys, and routes that keep no answer.
		for _, bad := range []string{"unquoted", `"a" ; p=1`, `"` + strings.Repeat("x", 300) + `"`, `"é"`, `""`} {
			p := e.do(geo.RoleCrew, "POST", obsPath, report, "Content-Type", typeJS, "Idempotency-Key", bad).problem(t, "key "+bad, http.StatusBadRequest)
			if errs, _ := p["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "Idempotency-Key" {
				t.Errorf("key %q: errors %v", bad, p["errors"])
			}
		}
		e.do(geo.RoleAdmin, "POST", "/tokens", `{"name":"x","role":"crew"}`, "Content-Type", typeJS, "Idempotency-Key", key("t")).
			problem(t, "POST /tokens with a key", http.StatusBadRequest)
		e.do(geo.RolePublic, "POST", "/session", `{"code":"x"}`, "Content-Type", typeJS, "Idempotency-Key", key("s")).
			problem(t, "POST /session with a key", http.StatusBadRequest)

		// A planner's PATCH whose answer was lost: the retry sends the
		// same (now stale) If-Match and gets the first answer.
		etag := e.do(geo.RolePlanner, "GET", "/collections/depots/items/d-1", "").header.Get("ETag")
		patch := `{"properties":{"operator":"城建局"}}`
		p1 := e.do(geo.RolePlanner, "PATCH", "/collections/depots/items/d-1", patch, "Content-Type", "application/merge-patch+json", "If-Match", etag, "Idempotency-Key", key("patch-1"))
		p2 := e.do(geo.RolePlanner, "PATCH", "/collections/depots/items/d-1", patch, "Content-Type", "application/merge-patch+json", "If-Match", etag, "Idempotency-Key", key("patch-1"))
		if p1.status != http.StatusOK || p2.status != http.StatusOK || !bytes.Equal(p1.body, p2.body) || p2.header.Get("ETag") != p1.header.Get("ETag") {
			t.Errorf("PATCH replay = %d then %d %s", p1.status, p2.status, p2.body)
		}
		// Without the key the same request is a 412, as before.
		e.do(geo.RolePlanner, "PATCH", "/collections/depots/items/d-1", patch, "Content-Type", "application/merge-patch+json", "If-Match", etag).
			problem(t, "the stale PATCH without a key", http.StatusPreconditionFailed)
	})
}

// testJPEG returns a w×h JPEG with an EXIF segment (APP1) that holds a
// GPS-looking marker string, as a phone's camera would.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	exif := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00"), []byte("GPS 34.80N 113.37E phone-model-X")...)
	seg := append([]byte{0xff, 0xe1}, binary.BigEndian.AppendUint16(nil, uint16(len(exif)+2))...)
	seg = append(seg, exif...)
	return append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
}

// form returns a multipart body of a report and (when photo is not nil)
// a photo, and its Content-Type.
func form(t testing.TB, report string, photo []byte) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("report", report)
	if photo != nil {
		pw, err := mw.CreateFormFile("photo", "photo.jpg")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write(photo)
	}
	_ = mw.Close()
	return b.String(), mw.FormDataContentType()
}

// TestReportPhoto: a crew reports with one photo (a multipart form) and
// the phone's accuracy; the photo is stored without its EXIF, served to
// crews (immutable, private), refused to the public; the public history
// shows neither photo nor accuracy; a retry of the form with another
// boundary is the same request; bad forms name the part.
func TestReportPhoto(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		jpg := testJPEG(t, 64, 48)
		report := `{"depth_cm":35,"status":"ponding","position":{"type":"Point","coordinates":[113.3712,34.8021]},"accuracy_m":12}`
		body, ctype := form(t, report, jpg)
		r := e.do(geo.RoleCrew, "POST", obsPath, body, "Content-Type", ctype, "Idempotency-Key", key("photo-1"))
		if r.status != http.StatusCreated {
			t.Fatalf("report with a photo = %d %s", r.status, r.body)
		}
		o := r.json(t)["observation"].(map[string]any)
		ph, _ := o["photo"].(map[string]any)
		if o["accuracy_m"] != 12.0 || ph == nil || ph["width"] != 64.0 || ph["height"] != 48.0 {
			t.Fatalf("observation = %v", o)
		}
		// The same form, built again (another boundary): a replay.
		body2, ctype2 := form(t, report, jpg)
		if r2 := e.do(geo.RoleCrew, "POST", obsPath, body2, "Content-Type", ctype2, "Idempotency-Key", key("photo-1")); r2.status != http.StatusCreated ||
			r2.header.Get("Idempotency-Replayed") != "true" {
			t.Errorf("the form sent again = %d %v", r2.status, r2.header)
		}
		u, _ := url.Parse(ph["href"].(string))
		got := e.do(geo.RoleCrew, "GET", u.Path, "")
		if got.status != http.StatusOK || got.header.Get("Content-Type") != "image/jpeg" || !strings.Contains(got.header.Get("Cache-Control"), "private") ||
			!strings.Contains(got.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("GET photo = %d %v", got.status, got.header)
		}
		if bytes.Contains(got.body, []byte("Exif")) || bytes.Contains(got.body, []byte("phone-model-X")) {
			t.Error("the stored photo still holds the phone's EXIF")
		}
		if _, err := jpeg.Decode(bytes.NewReader(got.body)); err != nil {
			t.Errorf("the stored photo is not a JPEG: %v", err)
		}
		if r := e.do(geo.RoleCrew, "GET", u.Path, "", "If-None-Match", got.header.Get("ETag")); r.status != http.StatusNotModified {
			t.Errorf("GET photo with its ETag = %d, want 304", r.status)
		}
		e.do(geo.RolePublic, "GET", u.Path, "").problem(t, "the public asks for the photo", http.StatusUnauthorized)
		other := strings.Replace(u.Path, "/wp-1/", "/wp-2/", 1)
		e.do(geo.RoleCrew, "GET", other, "").problem(t, "the photo under another point", http.StatusNotFound)
		e.do(geo.RoleCrew, "GET", strings.Replace(u.Path, "/photo", "", 1)+"99999/photo", "").problem(t, "no such report", http.StatusNotFound)

		pub := e.do(geo.RolePublic, "GET", obsPath, "")
		for _, leak := range []string{"photo", "accuracy_m", "reporter", "113.3712"} {
			if bytes.Contains(pub.body, []byte(leak)) {
				t.Errorf("the public history shows %s: %s", leak, pub.body)
			}
		}
		if crew := e.do(geo.RoleCrew, "GET", obsPath, ""); !bytes.Contains(crew.body, []byte(`"photo":{"href"`)) {
			t.Errorf("the crew's history lacks the photo: %s", crew.body)
		}

		// Bad forms name the part.
		for what, c := range map[string]struct {
			report string
			photo  []byte
			field  string
		}{
			"not a JPEG":      {`{"depth_cm":1,"status":"clear"}`, []byte("\x89PNG\r\n\x1a\nnot a jpeg"), "photo"},
			"bad report":      {`{"depth_cm":40,"status":"clear"}`, jpg, "status"},
			"accuracy alone":  {`{"depth_cm":1,"status":"clear","accuracy_m":5}`, nil, "accuracy_m"},
			"report not JSON": {`depth 40`, nil, "body"},
		} {
			b, ct := form(t, c.report, c.photo)
			p := e.do(geo.RoleCrew, "POST", obsPath, b, "Content-Type", ct).problem(t, what, http.StatusBadRequest)
			if errs, _ := p["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != c.field {
				t.Errorf("%s: errors %v, want field %s", what, p["errors"], c.field)
			}
		}
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.WriteField("report", `{"depth_cm":1,"status":"clear"}`)
		_ = mw.WriteField("colour", "red")
		_ = mw.Close()
		p := e.do(geo.RoleCrew, "POST", obsPath, b.String(), "Content-Type", mw.FormDataContentType()).problem(t, "an unknown part", http.StatusBadRequest)
		if errs, _ := p["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "colour" {
			t.Errorf("unknown part: errors %v", p["errors"])
		}
		big, ct := form(t, `{"depth_cm":1,"status":"clear"}`, bytes.Repeat([]byte{0xff}, geo.MaxPhotoBytes+200<<10))
		e.do(geo.RoleCrew, "POST", obsPath, big, "Content-Type", ct).problem(t, "a form over the limit", http.StatusRequestEntityTooLarge)
	})
}

// signInCode issues a one-time code on st for a crew token.
func signInCode(t *testing.T, st geo.Store, name string) string {
	t.Helper()
	_, code, err := geo.IssueSignInCode(context.Background(), st, name, geo.RoleCrew, 24*time.Hour, 0, time.Now())
	if err != nil {
		t.Fatalf("IssueSignInCode = %v", err)
	}
	return code
}

// browserClient is an HTTP client with a cookie jar that sends the
// headers a browser sends on the map's own requests.
type browserClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, e *env) *browserClient {
	jar, _ := cookiejar.New(nil)
	c := *e.ts.Client()
	c.Jar = jar
	return &browserClient{t: t, base: e.ts.URL, c: &c}
}

func (b *browserClient) do(method, path, body string, header ...string) reply {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, b.base+path, rd)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, raw}
}

// TestSignIn: a phone exchanges a one-time code for an HttpOnly,
// SameSite=Strict cookie (its secret never in a body), is a crew with it
// (reads, reports), cannot be driven by another site; a code works once
// and not after it expired; signing out revokes the token; a cookie that
// no longer works is cleared, 401 on the API, "ended" on GET /session.
func TestSignIn(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		phone := newBrowser(t, e)
		if s := phone.do("GET", "/session", "").json(t); s["signed_in"] != false || s["role"] != "public" {
			t.Errorf("GET /session before signing in = %v", s)
		}
		code := signInCode(t, st, "城建局一队")
		r := phone.do("POST", "/session", `{"code":"`+strings.ToLower(code)+`"}`, "Content-Type", typeJS)
		if r.status != http.StatusCreated {
			t.Fatalf("POST /session = %d %s", r.status, r.body)
		}
		set := r.header.Get("Set-Cookie")
		for _, want := range []string{"hm_session=hm_", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="} {
			if !strings.Contains(set, want) {
				t.Errorf("Set-Cookie %q lacks %s", set, want)
			}
		}
		if bytes.Contains(r.body, []byte("hm_")) || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("the sign-in answer shows the secret or may be cached: %v %s", r.header, r.body)
		}
		s := phone.do("GET", "/session", "").json(t)
		if s["signed_in"] != true || s["role"] != "crew" || s["name"] != "城建局一队" || s["via"] != "cookie" || s["expires"] == nil {
			t.Errorf("GET /session signed in = %v", s)
		}
		if r := phone.do("POST", obsPath, `{"depth_cm":5,"status":"clear"}`, "Content-Type", typeJS); r.status != http.StatusCreated {
			t.Errorf("a report with the session cookie = %d %s", r.status, r.body)
		}
		if r := phone.do("GET", "/location-proposals", ""); r.status != http.StatusOK {
			t.Errorf("a crew route with the session cookie = %d", r.status)
		}
		// Another site cannot write with the phone's cookie.
		phone.do("POST", obsPath, `{"depth_cm":5,"status":"clear"}`, "Content-Type", typeJS, "Sec-Fetch-Site", "cross-site").
			problem(t, "a cross-site report riding the cookie", http.StatusForbidden)
		phone.do("POST", "/session", `{"code":"`+code+`"}`, "Content-Type", typeJS, "Sec-Fetch-Site", "cross-site").
			problem(t, "a cross-site sign-in", http.StatusForbidden)

		// The code worked once.
		other := newBrowser(t, e)
		other.do("POST", "/session", `{"code":"`+code+`"}`, "Content-Type", typeJS).problem(t, "the code used again", http.StatusUnauthorized)
		// An expired code (made directly: IssueSignInCode makes live ones).
		expired, hash := geo.NewSignInCode()
		now := time.Now()
		if err := st.CreateSignInCode(context.Background(), geo.SignInCode{Hash: hash, TokenID: geo.NewID(), Name: "过期", Role: geo.RoleCrew,
			Created: now.Add(-time.Hour), Expires: now.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		p := other.do("POST", "/session", `{"code":"`+expired+`"}`, "Content-Type", typeJS).problem(t, "an expired code", http.StatusUnauthorized)
		if !strings.Contains(p["detail"].(string), "used or expired") {
			t.Errorf("expired code: %v", p["detail"])
		}
		for _, bad := range []string{`{"code":""}`, `{}`, `{"code":"x","more":1}`, `[]`} {
			other.do("POST", "/session", bad, "Content-Type", typeJS).problem(t, "POST /session "+bad, http.StatusBadRequest)
		}
		other.do("POST", "/session", `{"code":"AAAA-AAAA-AAAA-AAAA"}`, "Content-Type", typeJS).problem(t, "an unknown code", http.StatusUnauthorized)

		// Bearer tokens still work, and win over a cookie.
		if s := phone.do("GET", "/session", "", "Authorization", "Bearer "+e.tokens[geo.RolePlanner]).json(t); s["role"] != "planner" || s["via"] != "bearer" {
			t.Errorf("GET /session with a bearer token and the cookie = %v", s)
		}
		e.do(geo.RolePlanner, "DELETE", "/session", "").problem(t, "DELETE /session with a bearer token", http.StatusBadRequest)

		// Signing out revokes the token: a copy of the cookie is dead.
		stolen := phone.c.Jar.Cookies(mustURL(t, e.ts.URL))
		if r := phone.do("DELETE", "/session", ""); r.status != http.StatusNoContent || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("DELETE /session = %d %v", r.status, r.header)
		}
		if s := phone.do("GET", "/session", "").json(t); s["signed_in"] != false {
			t.Errorf("after signing out GET /session = %v", s)
		}
		thief := newBrowser(t, e)
		thief.c.Jar.SetCookies(mustURL(t, e.ts.URL), stolen)
		r = thief.do("GET", "/collections/depots/items", "")
		r.problem(t, "the old cookie on a public route", http.StatusUnauthorized)
		if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("401 for a dead cookie does not clear it: %v", r.header)
		}
		thief.c.Jar.SetCookies(mustURL(t, e.ts.URL), stolen)
		if s := thief.do("GET", "/session", "").json(t); s["signed_in"] != false || s["ended"] == nil {
			t.Errorf("GET /session with a dead cookie = %v, want signed out and ended", s)
		}
		if r := thief.do("GET", "/collections/depots/items", ""); r.status != http.StatusOK {
			t.Errorf("after GET /session cleared the dead cookie, a read = %d", r.status)
		}
	})
}

// TestSignInOverHTTPS: behind https the cookie is __Host- prefixed and
// Secure.
func TestSignInOverHTTPS(t *testing.T) {
	st := OpenFixtureStore(t)
	e := newEnv(t, st, Options{BaseURL: "https://hazardmap.example.org"})
	r := newBrowser(t, e).do("POST", "/session", `{"code":"`+signInCode(t, st, "二队")+`"}`, "Content-Type", typeJS)
	set := r.header.Get("Set-Cookie")
	if r.status != http.StatusCreated || !strings.HasPrefix(set, "__Host-hm_session=") || !strings.Contains(set, "Secure") || strings.Contains(set, "Domain") {
		t.Errorf("POST /session over https = %d, Set-Cookie %q", r.status, set)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestProposals: a crew stands at an unlocated point and proposes its
// place; a planner sees it pending, accepts it with If-Match (the point
// gets the position, the precision and who stood there), every step
// audited; a second proposal is rejected with a reason; located features
// need none; decided ones cannot be decided again.
func TestProposals(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		at := time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
		propose := func(id, body string, header ...string) reply {
			return e.do(geo.RoleCrew, "POST", "/collections/waterlogging_points/items/"+id+"/location-proposals", body,
				append([]string{"Content-Type", typeJS}, header...)...)
		}
		r := propose("wp-4", `{"position":{"type":"Point","coordinates":[113.3801,34.7902]},"accuracy_m":8,"method":"auto","observed_at":"`+at+`","note":"路口东南角"}`,
			"Idempotency-Key", key("prop-1"))
		if r.status != http.StatusCreated || r.header.Get("Location") == "" {
			t.Fatalf("propose = %d %s", r.status, r.body)
		}
		p1 := r.json(t)
		if p1["status"] != "pending" || p1["method"] != "auto" || p1["proposer"].(map[string]any)["id"] != e.ids[geo.RoleCrew] {
			t.Errorf("proposal = %v", p1)
		}
		if again := propose("wp-4", `{"position":{"type":"Point","coordinates":[113.3801,34.7902]},"accuracy_m":8,"method":"auto","observed_at":"`+at+`","note":"路口东南角"}`,
			"Idempotency-Key", key("prop-1")); again.header.Get("Idempotency-Replayed") != "true" || !bytes.Equal(again.body, r.body) {
			t.Errorf("the proposal sent again = %d %s", again.status, again.body)
		}
		second := propose("wp-4", `{"position":{"type":"Point","coordinates":[113.3805,34.7905]},"accuracy_m":45,"method":"dragged"}`).json(t)
		list := e.do(geo.RolePlanner, "GET", "/location-proposals?status=pending&collection=waterlogging_points&feature_id=wp-4", "").json(t)
		if list["numberMatched"] != 2.0 || len(list["proposals"].([]any)) != 2 {
			t.Fatalf("pending list = %v", list)
		}
		for body, field := range map[string]string{
			`{"position":{"type":"Point","coordinates":[113.38,34.79]},"accuracy_m":25,"method":"auto"}`:      "method",
			`{"position":{"type":"Point","coordinates":[113.38,34.79]},"accuracy_m":45,"method":"accepted"}`:  "method",
			`{"position":{"type":"Point","coordinates":[113.38,34.79]},"method":"auto"}`:                      "accuracy_m",
			`{"position":{"type":"LineString","coordinates":[[1,2],[3,4]]},"accuracy_m":5,"method":"auto"}`:   "position",
			`{"position":{"type":"Point","coordinates":[113.38,34.79]},"accuracy_m":5,"method":"auto","x":1}`: "x",
		} {
			p := propose("wp-4", body).problem(t, "proposal "+body, http.StatusBadRequest)
			if errs, _ := p["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != field {
				t.Errorf("proposal %s: errors %v, want %s", body, p["errors"], field)
			}
		}
		propose("wp-1", `{"position":{"type":"Point","coordinates":[113.38,34.79]},"accuracy_m":5,"method":"auto"}`).
			problem(t, "a proposal for a point located to 50 m", http.StatusConflict)
		propose("nope", `{"position":{"type":"Point","coordinates":[113.38,34.79]},"accuracy_m":5,"method":"auto"}`).
			problem(t, "a proposal for no point", http.StatusNotFound)

		// The planner accepts the first: If-Match of the point.
		accept := "/location-proposals/" + ftoa(p1["id"]) + "/accept"
		e.do(geo.RolePlanner, "POST", accept, "").problem(t, "accept without If-Match", http.StatusPreconditionRequired)
		e.do(geo.RolePlanner, "POST", accept, "", "If-Match", `"1-stale"`).problem(t, "accept with a stale If-Match", http.StatusPreconditionFailed)
		e.do(geo.RoleCrew, "POST", accept, "", "If-Match", `"1-stale"`).problem(t, "a crew accepting", http.StatusForbidden)
		etag := e.do(geo.RolePlanner, "GET", "/collections/waterlogging_points/items/wp-4", "").header.Get("ETag")
		a := e.do(geo.RolePlanner, "POST", accept, "", "If-Match", etag, "Idempotency-Key", key("accept-1"))
		if a.status != http.StatusOK {
			t.Fatalf("accept = %d %s", a.status, a.body)
		}
		f := e.do(geo.RolePublic, "GET", "/collections/waterlogging_points/items/wp-4", "")
		if f.header.Get("ETag") == etag || !bytes.Contains(f.body, []byte(`"coordinates":[113.3801,34.7902]`)) ||
			!bytes.Contains(f.body, []byte(`"location_precision_m":8`)) || !bytes.Contains(f.body, []byte("测试 crew")) {
			t.Errorf("the point after the accept: %s", f.body)
		}
		if again := e.do(geo.RolePlanner, "POST", accept, "", "If-Match", etag, "Idempotency-Key", key("accept-1")); again.status != http.StatusOK ||
			again.header.Get("Idempotency-Replayed") != "true" {
			t.Errorf("accept replayed = %d %s", again.status, again.body)
		}
		e.do(geo.RolePlanner, "POST", accept, "", "If-Match", f.header.Get("ETag")).problem(t, "accept twice", http.StatusConflict)
		if s := e.do(geo.RoleCrew, "GET", "/location-proposals/"+ftoa(second["id"]), "").json(t); s["status"] != "superseded" {
			t.Errorf("the other pending proposal = %v, want superseded", s)
		}
		e.checkAudit("accept", geo.WaterloggingPoints, "wp-4", "accept", geo.RolePlanner, 2, true, true, "location_precision_m", 8.0)

		// A rejection needs a reason, and then it is final.
		// (A depot known only to its township, 5 km: it may get proposals.)
		if _, err := st.Patch(context.Background(), geo.Depots, "d-3", mustVersion(t, st, geo.Depots, "d-3"),
			geo.Patch{Properties: map[string]any{"location_precision_m": 5000.0}}); err != nil {
			t.Fatal(err)
		}
		p4 := e.do(geo.RoleCrew, "POST", "/collections/depots/items/d-3/location-proposals",
			`{"position":{"type":"Point","coordinates":[113.251,34.721]},"accuracy_m":6,"method":"auto"}`, "Content-Type", typeJS)
		if p4.status != http.StatusCreated {
			t.Fatalf("proposal for a depot known to 5 km = %d %s", p4.status, p4.body)
		}
		reject := "/location-proposals/" + ftoa(p4.json(t)["id"]) + "/reject"
		e.do(geo.RolePlanner, "POST", reject, `{"reason":" "}`, "Content-Type", typeJS).problem(t, "reject without a reason", http.StatusBadRequest)
		rj := e.do(geo.RolePlanner, "POST", reject, `{"reason":"位置在河对岸，请到库门口重新定位"}`, "Content-Type", typeJS)
		if rj.status != http.StatusOK || rj.json(t)["status"] != "rejected" {
			t.Fatalf("reject = %d %s", rj.status, rj.body)
		}
		e.do(geo.RolePlanner, "POST", reject, `{"reason":"再次"}`, "Content-Type", typeJS).problem(t, "reject twice", http.StatusConflict)
		e.checkAudit("reject", geo.Depots, "d-3", "reject", geo.RolePlanner, 2, true, true, "", nil)
		e.do(geo.RolePublic, "GET", "/location-proposals", "").problem(t, "the public lists proposals", http.StatusUnauthorized)
		for _, q := range []string{"status=maybe", "collection=rivers", "feature_id=wp-4", "limit=0", "x=1", "status=pending&status=rejected"} {
			e.do(geo.RoleCrew, "GET", "/location-proposals?"+q, "").problem(t, "proposals ?"+q, http.StatusBadRequest)
		}
		e.do(geo.RoleCrew, "GET", "/location-proposals/0", "").problem(t, "proposal 0", http.StatusNotFound)
		e.do(geo.RoleCrew, "GET", "/location-proposals/99999", "").problem(t, "no such proposal", http.StatusNotFound)
	})
}

// ftoa formats an id decoded from JSON.
func ftoa(v any) string { return strconv.FormatInt(int64(v.(float64)), 10) }

func mustVersion(t *testing.T, st geo.Store, c, id string) int64 {
	t.Helper()
	f, err := st.Feature(context.Background(), c, id)
	if err != nil {
		t.Fatal(err)
	}
	return f.Version
}

func FuzzParseReportForm(f *testing.F) {
	for _, s := range []string{
		"--b\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n{\"depth_cm\":1,\"status\":\"clear\"}\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n{}\r\n--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n", "", "--b--", "garbage",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		report, photo, err := parseReportForm(bytes.NewReader(raw), "b")
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("parseReportForm(%q) error kind %v: %v", raw, geo.KindOf(err), err)
			}
			return
		}
		if report == nil || len(report) > maxObservationBody || len(photo) > geo.MaxPhotoBytes {
			t.Fatalf("parseReportForm(%q) = %q, %d bytes of photo", raw, report, len(photo))
		}
	})
}

func FuzzParseProposal(f *testing.F) {
	for _, s := range []string{
		`{"position":{"type":"Point","coordinates":[113.38,34.79]},"accuracy_m":8,"method":"auto","observed_at":"2024-07-20T08:05:00+08:00","note":"x"}`,
		`{}`, `[]`, `null`, `{"position":null,"accuracy_m":null,"method":null}`, `{"accuracy_m":1e999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parseProposal(raw)
		if err != nil {
			if e := geo.AsError(err); e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 {
				t.Fatalf("parseProposal(%q) = %v: want Invalid with fields", raw, err)
			}
			return
		}
		p.Collection, p.FeatureID = geo.WaterloggingPoints, "wp-1"
		if err := p.Validate(); err != nil && geo.KindOf(err) != geo.Invalid {
			t.Fatalf("Validate after parseProposal(%q) = %v", raw, err)
		}
	})
}

func FuzzParseSignIn(f *testing.F) {
	for _, s := range []string{`{"code":"7KQ2-M9XD-4TRA-0ZPB"}`, `{}`, `{"code":1}`, `{"code":"x","y":2}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		code, err := parseSignIn(raw)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("parseSignIn(%q) error kind %v", raw, geo.KindOf(err))
			}
			return
		}
		if strings.TrimSpace(code) == "" {
			t.Fatalf("parseSignIn(%q) = blank code", raw)
		}
	})
}
