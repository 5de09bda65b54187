// Package api is the HTTP face of hazardmap: OGC API – Features over the
// collections of a geo.Store, the analysis endpoints, health checks and
// the map. Errors are RFC 9457 problem bodies; only this package turns
// error kinds into status codes.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"hazardmap/geo"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Logger receives request and error logs; nil discards them.
	Logger *slog.Logger
	// Map serves the web map at "/" for browsers; nil serves none.
	Map http.Handler
	// PingTimeout bounds the store check of /readyz (default 2 s), so that
	// a load balancer's probe gets an answer even when the database hangs.
	PingTimeout time.Duration
}

// Server answers the HTTP API over one store.
type Server struct {
	store   geo.Store
	log     *slog.Logger
	opts    Options
	schemas []*geo.Schema
	handler http.Handler
}

// NewServer returns the HTTP handler of the service over store.
func NewServer(store geo.Store, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 2 * time.Second
	}
	s := &Server{store: store, log: opts.Logger, opts: opts, schemas: geo.Schemas()}
	s.handler = s.routes()
	return s
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) schema(c string) (*geo.Schema, error) {
	for _, sc := range s.schemas {
		if sc.ID == c {
			return sc, nil
		}
	}
	return nil, geo.Errorf(geo.NotFound, "no collection %q", c)
}
