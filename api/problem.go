package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"hazardmap/geo"
)

// Problem is an RFC 9457 problem details body. Errors lists the fields of
// the input that were wrong, each by name.
type Problem struct {
	Type     string           `json:"type"`
	Title    string           `json:"title"`
	Status   int              `json:"status"`
	Detail   string           `json:"detail,omitempty"`
	Instance string           `json:"instance,omitempty"`
	Errors   []geo.FieldError `json:"errors,omitempty"`
	// RequestID lets an operator find the log line of a failed request.
	RequestID string `json:"request_id,omitempty"`
}

// statusOf is the one table from error kinds to HTTP status codes.
func statusOf(k geo.Kind) int {
	switch k {
	case geo.Invalid:
		return http.StatusBadRequest
	case geo.NotFound:
		return http.StatusNotFound
	case geo.Conflict:
		return http.StatusConflict
	case geo.Unauthorized:
		return http.StatusUnauthorized
	case geo.Forbidden:
		return http.StatusForbidden
	case geo.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// fail writes err as a problem body. Internal errors are logged with the
// request id and reach the client only as "internal error": their text may
// hold SQL, paths or other details that are nobody else's business.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	k := geo.KindOf(err)
	status := statusOf(k)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Instance:  r.URL.Path,
		RequestID: middleware.GetReqID(r.Context()),
	}
	if e := geo.AsError(err); e != nil && k != geo.Internal {
		p.Detail = e.Message
		p.Errors = e.Fields
	}
	switch {
	case status >= 500:
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", p.RequestID), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.Any("error", err))
		if k == geo.Internal {
			p.Detail = "internal error; the request id is in the server log"
		}
	default:
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request refused",
			slog.String("request_id", p.RequestID), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Any("error", err))
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Last-Modified")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
