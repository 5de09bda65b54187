// Package web embeds the built map (web/map/dist) and serves it. The map's
// sources and npm lock file live in web/map; dist is built from them by
// `make web` and committed, so `go build` and `go install` give the whole
// program, and `make test` fails when dist is not what the sources build.
//
// Handler serves the page at "/", its hashed scripts and styles under
// /assets/, and the read-only context layers of package data (county
// outline, township zones, railway) under /assets/context/, so that the
// map is readable with no base-map tiles. Everything is embedded, so it
// is compressed once, when the handler is built, and sent gzipped to
// clients that accept it.
//
// The page learns its settings (tile URL, attribution, datum, context
// layer URLs) from <meta name="hazardmap:…"> tags that Handler fills in,
// HTML-escaped: the Content-Security-Policy allows no inline script.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"hazardmap/data"
)

// dist is the built map: the page and its hashed assets. Naming them here,
// not the directory, makes a tree without them fail to compile rather
// than build a server with no map.
//
//go:embed map/dist/index.html map/dist/assets
var dist embed.FS

// Datums of base-map tiles. The data are WGS-84; with GCJ-02 tiles
// (AMap/Gaode, Tencent) the page shifts every feature to GCJ-02 for
// display, so that it lands on the right street.
const (
	WGS84 = "wgs84"
	GCJ02 = "gcj02"
)

// ParseDatum returns the datum named by s ("wgs84", "gcj02", case and
// hyphens ignored; "" is WGS-84), or an error naming the choices.
func ParseDatum(s string) (string, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "") {
	case "", "wgs84":
		return WGS84, nil
	case "gcj02":
		return GCJ02, nil
	}
	return "", fmt.Errorf("tile datum %q: want wgs84 or gcj02", s)
}

// Option configures Handler.
type Option func(*settings)

type settings struct {
	tileURL, attribution, datum string
	// tileBulk says the tile source allows downloading an area in bulk
	// for offline use (TileBulkDownload).
	tileBulk bool
}

// TileBulkDownload offers crews the download of the area in view for
// offline use (the size shown first). Set it only when the tile source's
// terms allow bulk downloads (OpenStreetMap's public tile servers do
// not): without it, only the tiles a phone has viewed are kept.
func TileBulkDownload() Option {
	return func(s *settings) { s.tileBulk = true }
}

// Tiles sets the base map: the tile URL template ({z}/{x}/{y}, optional
// {s}), the attribution shown for it (text, not HTML) and its datum (see
// ParseDatum; an unknown name is taken as WGS-84 — check it with
// ParseDatum first). Without Tiles the page draws the offline outlines.
func Tiles(urlTemplate, attribution, datum string) Option {
	return func(s *settings) {
		s.tileURL, s.attribution = urlTemplate, attribution
		s.datum, _ = ParseDatum(datum)
	}
}

// ContentSecurityPolicy is sent with the page: scripts and styles only
// from this server, no inline code, images (tiles) from this server or
// the tile origin (a templated leading label such as "{s}." becomes
// "*.").
func ContentSecurityPolicy(tileOrigin string) string {
	img := "'self' data: blob:"
	if src := cspSource(tileOrigin); src != "" {
		img += " " + src
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
}

// cspSource turns the scheme and host of a tile URL (template) into a CSP
// source expression, or "" when there is none. A host whose leading label
// is a template ("{s}.tile.example.org", "t{s}.example.cn") becomes a
// wildcard; any other template or odd character falls back to the scheme
// alone.
func cspSource(origin string) string {
	if origin == "" {
		return ""
	}
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	labels := strings.Split(host, ".")
	if strings.ContainsAny(labels[0], "{}") {
		labels[0] = "*"
	}
	host = strings.Join(labels, ".")
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:*[]", r)) {
			return scheme + ":"
		}
	}
	if strings.Contains(host[1:], "*") || host == "*" {
		return scheme + ":"
	}
	return scheme + "://" + host
}

// file is one embedded file, ready to serve.
type file struct {
	body, gz []byte // gz is nil when compression does not pay
	ctype    string
	etag     string
}

func newFile(name string, body []byte) *file {
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".geojson":
		ctype = "application/geo+json"
	case ".html":
		ctype = "text/html; charset=utf-8"
	case ".webmanifest":
		ctype = "application/manifest+json"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	f := &file{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if compressible(ctype) && len(body) >= 512 {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // the level is valid
		_, _ = zw.Write(body)                                  // writes to a bytes.Buffer do not fail
		_ = zw.Close()
		if b.Len() < len(body) {
			f.gz = b.Bytes()
		}
	}
	return f
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// swPath is the map's service worker (web/map/src/sw.js, built with
// Workbox): it lets the installed map open with no network.
const swPath = "/assets/sw.js"

// contextPrefix is where the context layers are served, under /assets/ so
// that the API's route for the map's files reaches them.
const contextPrefix = "/assets/context/"

// Handler serves the page at "/", its hashed assets under /assets/ and the
// context layers under /assets/context/. tileOrigin is the scheme and host
// of the base-map tiles for the Content-Security-Policy ("" derives it
// from the Tiles option, if any).
func Handler(tileOrigin string, opts ...Option) http.Handler {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if s.datum == "" {
		s.datum = WGS84
	}
	if tileOrigin == "" && s.tileURL != "" {
		if u, err := url.Parse(s.tileURL); err == nil && u.Host != "" {
			tileOrigin = u.Scheme + "://" + u.Host
		} else {
			tileOrigin = originPrefix(s.tileURL)
		}
	}
	sub, err := fs.Sub(dist, "map/dist")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	files := map[string]*file{}
	_ = fs.WalkDir(sub, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		files["/"+p] = newFile(p, body)
		return nil
	})
	var contextURLs []string
	for _, name := range data.ContextLayers() {
		body, err := fs.ReadFile(data.Context(), name+".geojson")
		if err != nil {
			panic("web: context layer " + name + ": " + err.Error()) // listed by data, so embedded
		}
		sum := sha256.Sum256(body)
		p := contextPrefix + name + "-" + hex.EncodeToString(sum[:6]) + ".geojson"
		files[p] = newFile(p, body)
		contextURLs = append(contextURLs, p)
	}
	raw, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic("web: " + err.Error()) // the embed pattern above guarantees the page
	}
	page := newFile("index.html", renderPage(raw, s, contextURLs))
	csp := ContentSecurityPolicy(tileOrigin)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == swPath {
			// The service worker: a fixed name (browsers look for its
			// updates there), revalidated on every look, allowed to
			// control the whole site although it lives under /assets/.
			h.Set("Cache-Control", "no-cache")
			h.Set("Service-Worker-Allowed", "/")
			serve(w, r, files[swPath])
			return
		}
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			f := files[r.URL.Path]
			if f == nil {
				http.NotFound(w, r)
				return
			}
			// Names carry a content hash: cache for a year.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			serve(w, r, f)
			return
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		serve(w, r, page)
	})
}

// originPrefix returns the scheme://host part of a URL template that
// url.Parse refuses (braces in the host), or "".
func originPrefix(tmpl string) string {
	scheme, rest, ok := strings.Cut(tmpl, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// renderPage fills the page's <meta> settings in, HTML-escaped.
func renderPage(raw []byte, s settings, contextURLs []string) []byte {
	return []byte(strings.NewReplacer(
		"%TILE_URL%", html.EscapeString(s.tileURL),
		"%TILE_ATTRIBUTION%", html.EscapeString(s.attribution),
		"%TILE_DATUM%", html.EscapeString(s.datum),
		"%CONTEXT%", html.EscapeString(strings.Join(contextURLs, " ")),
		"%TILE_BULK%", strconv.FormatBool(s.tileBulk && s.tileURL != ""),
	).Replace(string(raw)))
}

// serve writes f, gzipped when the client accepts it, with a 304 when the
// client's copy is current.
func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	body, etag := f.body, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}
