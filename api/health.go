package api

import (
	"context"
	"encoding/json"
	"net/http"
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

// writeJSON writes v as an uncacheable JSON response (no body for HEAD).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(v)
	}
}
