// Package api is the HTTP face of hazardmap: OGC API – Features over the
// collections of a geo.Store, the analysis endpoints, health checks and
// the map. Errors are RFC 9457 problem bodies; only this package turns
// error kinds into status codes.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"hazardmap/geo"
	"hazardmap/notify"
	"hazardmap/notify/capmsg"
)

// Options configure a Server. The zero value is usable: a setting of 0
// turns its feature off (no response cache, no write limit), as the
// command line's flags do; cmd passes DefaultCacheBytes and
// DefaultWritesPerMinute unless told otherwise.
type Options struct {
	// Logger receives request and error logs; nil discards them.
	Logger *slog.Logger
	// Map serves the web map at "/" for browsers; nil serves none.
	Map http.Handler
	// PingTimeout bounds the store check of /readyz (default 2 s), so that
	// a load balancer's probe gets an answer even when the database hangs.
	PingTimeout time.Duration
	// CacheBytes is the budget of the cache of encoded responses (see
	// cache.go). 0 turns the cache off, so that every request is built
	// from the store (for the cold benchmarks and for measuring the store
	// itself).
	CacheBytes int64
	// BaseURL is the scheme, host and path prefix that links in responses
	// start with, e.g. "https://hazardmap.example.org". Empty means
	// "http(s)://" plus the request's Host; set it when a proxy in front
	// changes the scheme, host or path.
	BaseURL string
	// WritesPerMinute caps the writes (POST, PUT, PATCH, DELETE) of one
	// token per minute on this instance (ratelimit.go); over it a write
	// gets 429 with Retry-After. 0 turns the limit off.
	WritesPerMinute int
	// Limits bound the large builds and bodies of all requests together
	// (limits.go); cmd passes DefaultLimits. The zero Limits bounds
	// nothing.
	Limits Limits
	// FileBuilds caps the export and import files built at once, and so
	// the temporary files held (filegate.go); beyond it a file request
	// gets 503 with Retry-After. 0 leaves them unbounded; cmd passes
	// DefaultFileBuilds.
	FileBuilds int
	// Alerts is the alert engine that readings and alert steps go
	// through (notify); nil makes one without channels or ticker, which
	// still evaluates every reading (cmd runs the real one).
	Alerts *notify.Engine
	// CAP describes the sender of the CAP feed (cap.go); its Web defaults
	// to the map's URL.
	CAP capmsg.Options
}

// Server answers the HTTP API over one store.
type Server struct {
	store   geo.Store
	log     *slog.Logger
	opts    Options
	schemas []*geo.Schema
	handler chi.Router   // the routes (routes.go)
	front   http.Handler // what serves a request: handler behind withFront (routes.go)
	cache   *cache       // nil when off

	// rules holds the least role of every route, by "METHOD pattern"
	// (routes.go, enforced by guard in auth.go).
	rules map[string]geo.Role
	// limiter caps each token's writes; nil when off (ratelimit.go).
	limiter *httprate.RateLimiter
	// events fans the store's changes out to the SSE clients (hub.go).
	events *hub
	// limits bounds large builds and bodies (limits.go).
	limits *limiter
	// files bounds the file routes (filegate.go); nil when unbounded.
	files *fileGate
	// photos holds a slot per report with a photo being written
	// (photo.go): at most photosAtOnce.
	photos chan struct{}
	// signIns caps the sign-in attempts of each client (session.go).
	signIns *httprate.RateLimiter
	// crossOrigin refuses cross-origin writes authenticated by the
	// session cookie (session.go).
	crossOrigin *http.CrossOriginProtection
	// engine evaluates readings and takes alert steps (readings.go,
	// alerts.go).
	engine *notify.Engine
	// imports holds the slot of the CSV import running (readings.go).
	imports chan struct{}
	// started is when the server began publishing (the alert engine's
	// clock, to the second): the CAP feed's time while no alert exists.
	started time.Time
}

// NewServer returns the HTTP handler of the service over store.
func NewServer(store geo.Store, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 2 * time.Second
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	s := &Server{store: store, log: opts.Logger, opts: opts, schemas: geo.Schemas(),
		cache: newCache(opts.CacheBytes), limits: newLimiter(opts.Limits), files: newFileGate(opts.FileBuilds)}
	s.limiter = s.newLimiter()
	s.events = newHub(store, opts.Logger)
	s.photos = make(chan struct{}, photosAtOnce)
	s.signIns = s.newSignInLimiter()
	s.crossOrigin = http.NewCrossOriginProtection()
	s.engine = opts.Alerts
	if s.engine == nil {
		s.engine = notify.New(store, notify.Options{Logger: opts.Logger})
	}
	s.imports = make(chan struct{}, 1)
	s.started = s.engine.Now().UTC().Truncate(time.Second)
	s.handler = s.routes()
	s.front = s.withFront(s.handler)
	return s
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.front.ServeHTTP(w, r)
}

func (s *Server) schema(c string) (*geo.Schema, error) {
	for _, sc := range s.schemas {
		if sc.ID == c {
			return sc, nil
		}
	}
	return nil, geo.Errorf(geo.NotFound, "no collection %q", c)
}

// dataVersion returns the data version of collection c as it is now,
// cheaply (geo.Store.Version): every request for data asks it to find its
// cached response, which is good while the version has not moved. A
// response is labelled with the version of the geo.View it was read from.
func (s *Server) dataVersion(ctx context.Context, c string) (int64, error) {
	return s.store.Version(ctx, c)
}

// baseURL returns what links in the response to r start with.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
