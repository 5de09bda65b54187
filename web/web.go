// Package web embeds the built map (web/map/dist) and serves it. The map's
// sources and npm lock file live in web/map; `make web` (run by both
// README commands) builds dist before the Go build embeds it.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed all:map/dist
var dist embed.FS

// ContentSecurityPolicy is sent with the page: scripts and styles only
// from this server, no inline code, images (tiles) from this server or
// the configured tile host.
func ContentSecurityPolicy(tileOrigin string) string {
	img := "'self' data: blob:"
	if tileOrigin != "" {
		img += " " + tileOrigin
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
}

// Handler serves the page at "/" and its hashed assets under /assets/.
// tileOrigin is the scheme and host of the base-map tiles, or "".
func Handler(tileOrigin string) http.Handler {
	sub, err := fs.Sub(dist, "map/dist")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	files := http.FileServerFS(sub)
	csp := ContentSecurityPolicy(tileOrigin)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			// Names carry a content hash: cache for a year.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			files.ServeHTTP(w, r)
			return
		}
		page, err := fs.ReadFile(sub, "index.html")
		if err != nil {
			http.Error(w, "the map is not built: run `make web`", http.StatusServiceUnavailable)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	})
}
