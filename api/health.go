package api

import (
	"context"
	"errors"
	"net/http"

	"hazardmap/geo"
)

// handleHealthz serves GET /healthz: the process is up and serving HTTP.
// It does not look at the store, so an orchestrator does not restart a
// healthy process because its database is away.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz serves GET /readyz: the store answers. 503 with a problem
// body while it does not; 200 again on its own when it comes back.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.PingTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.fail(w, r, unavailable(err))
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
}

// unavailable makes sure a failed store check reads as Unavailable even
// when the store returned a bare context error.
func unavailable(err error) error {
	if geo.KindOf(err) == geo.Unavailable {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return geo.Wrap(geo.Unavailable, err, "store did not answer in time")
	}
	return geo.Wrap(geo.Unavailable, err, "store unavailable")
}
