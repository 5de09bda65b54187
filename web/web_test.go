package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"hazardmap/data"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip.NewReader = %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip = %v", err)
	}
	return out
}

var metaRE = regexp.MustCompile(`<meta name="hazardmap:([a-z-]+)" content="([^"]*)">`)

func metas(page string) map[string]string {
	m := map[string]string{}
	for _, s := range metaRE.FindAllStringSubmatch(page, -1) {
		m[s[1]] = s[2]
	}
	return m
}

func TestPageHeadersAndGzip(t *testing.T) {
	h := Handler("")
	plain := get(t, h, "/")
	if plain.Code != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", plain.Code)
	}
	csp := plain.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy = %q, want script-src 'self' and nothing unsafe", csp)
	}
	if plain.Header().Get("Content-Encoding") != "" {
		t.Errorf("GET / without Accept-Encoding: Content-Encoding %q", plain.Header().Get("Content-Encoding"))
	}
	page := plain.Body.String()
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=") {
		t.Errorf("page has inline script or style:\n%s", page)
	}
	if strings.Contains(page, "%TILE_URL%") || strings.Contains(page, "%SCRIPT%") {
		t.Errorf("page has unfilled placeholders:\n%s", page)
	}
	m := metas(page)
	if m["tile-url"] != "" || m["tile-datum"] != "wgs84" {
		t.Errorf("meta settings = %v, want no tile URL and datum wgs84", m)
	}

	zipped := get(t, h, "/", "Accept-Encoding", "gzip, deflate, br")
	if zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET / with gzip: Content-Encoding %q, want gzip", zipped.Header().Get("Content-Encoding"))
	}
	if got := gunzip(t, zipped.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) {
		t.Error("gunzipped page differs from the plain page")
	}
	if !strings.Contains(zipped.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q, want Accept-Encoding", zipped.Header().Get("Vary"))
	}
	again := get(t, h, "/", "Accept-Encoding", "gzip", "If-None-Match", zipped.Header().Get("ETag"))
	if again.Code != http.StatusNotModified {
		t.Errorf("GET / If-None-Match current ETag = %d, want 304", again.Code)
	}
	if get(t, h, "/", "Accept-Encoding", "gzip;q=0").Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 still got gzip")
	}

	// The page's script and style are served, gzipped and cached for a year.
	for _, ref := range regexp.MustCompile(`(?:src|href)="(/assets/[^"]+\.(?:js|css))"`).FindAllStringSubmatch(page, -1) {
		w := get(t, h, ref[1], "Accept-Encoding", "gzip")
		if w.Code != http.StatusOK || w.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s = %d, encoding %q, cache %q", ref[1], w.Code, w.Header().Get("Content-Encoding"), w.Header().Get("Cache-Control"))
		}
	}
	if w := get(t, h, "/assets/nothing-here.js"); w.Code != http.StatusNotFound {
		t.Errorf("GET /assets/nothing-here.js = %d, want 404", w.Code)
	}
}

func TestSettingsAreEscaped(t *testing.T) {
	url := `https://tiles.example.org/{z}/{x}/{y}.png?key="><script>alert(1)</script>`
	attr := `<b>© Example</b> & "friends"`
	h := Handler("", Tiles(url, attr, "GCJ-02"))
	w := get(t, h, "/")
	page := w.Body.String()
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<b>") {
		t.Fatalf("settings were not escaped:\n%s", page)
	}
	m := metas(page)
	if m["tile-datum"] != "gcj02" {
		t.Errorf("tile-datum = %q, want gcj02", m["tile-datum"])
	}
	if want := `https://tiles.example.org/{z}/{x}/{y}.png?key=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`; m["tile-url"] != want {
		t.Errorf("tile-url = %q, want %q", m["tile-url"], want)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: blob: https://tiles.example.org;") {
		t.Errorf("Content-Security-Policy = %q, want the tile origin in img-src", csp)
	}
}

func TestContextLayersServed(t *testing.T) {
	h := Handler("")
	urls := strings.Fields(metas(get(t, h, "/").Body.String())["context"])
	if len(urls) != len(data.ContextLayers()) {
		t.Fatalf("context URLs = %v, want one per layer of %v", urls, data.ContextLayers())
	}
	for i, name := range data.ContextLayers() {
		want, err := fs.ReadFile(data.Context(), name+".geojson")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(urls[i], "/assets/context/"+name+"-") {
			t.Errorf("URL %q does not name layer %s", urls[i], name)
		}
		w := get(t, h, urls[i], "Accept-Encoding", "gzip")
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/geo+json" {
			t.Fatalf("GET %s = %d %q", urls[i], w.Code, w.Header().Get("Content-Type"))
		}
		body := w.Body.Bytes()
		if w.Header().Get("Content-Encoding") == "gzip" {
			body = gunzip(t, body)
		}
		if !bytes.Equal(body, want) {
			t.Errorf("GET %s differs from data/context/%s.geojson", urls[i], name)
		}
	}
}

func TestCSPSource(t *testing.T) {
	for _, c := range []struct{ origin, want string }{
		{"", ""},
		{"https://tile.openstreetmap.org", "https://tile.openstreetmap.org"},
		{"https://{s}.tile.openstreetmap.org", "https://*.tile.openstreetmap.org"},
		{"https://t{s}.tianditu.gov.cn", "https://*.tianditu.gov.cn"},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"https://tiles.{s}.example.org", "https:"},
		{"https://a.example.org; script-src *", "https:"},
		{"javascript://x", ""},
	} {
		if got := cspSource(c.origin); got != c.want {
			t.Errorf("cspSource(%q) = %q, want %q", c.origin, got, c.want)
		}
	}
}

func TestParseDatum(t *testing.T) {
	for in, want := range map[string]string{"": WGS84, "wgs84": WGS84, "WGS-84": WGS84, "gcj02": GCJ02, "GCJ-02": GCJ02} {
		if got, err := ParseDatum(in); err != nil || got != want {
			t.Errorf("ParseDatum(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseDatum("bd09"); err == nil {
		t.Error("ParseDatum(bd09) = nil error, want one")
	}
}
