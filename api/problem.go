package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"hazardmap/geo"
)

// problemDetails is an RFC 9457 problem details body. Errors lists the fields of
// the input that were wrong, each by name.
type problemDetails struct {
	Type     string           `json:"type"`
	Title    string           `json:"title"`
	Status   int              `json:"status"`
	Detail   string           `json:"detail,omitempty"`
	Instance string           `json:"instance,omitempty"`
	Errors   []geo.FieldError `json:"errors,omitempty"`
	// RequestID lets an operator find the log line of a failed request.
	RequestID string `json:"request_id,omitempty"`
	// Current is the extension member of a 412: the version the write
	// did not name (see currentVersion).
	Current *currentVersion `json:"current,omitempty"`
	// Import is the extension member of a refused import (imports.go):
	// what the import would do with every row, and each bad cell.
	Import *importReport `json:"import,omitempty"`

	// header holds fields to send with the problem (ETag, Retry-After,
	// Allow); it is not part of the body.
	header http.Header
}

// currentVersion describes the current version of a feature, in the body of a
// 412 (Precondition Failed): the ETag to send in If-Match next time, the
// version and time of the last write, and the feature itself as the
// client's role may see it, so that a crew can see what changed before
// trying again.
type currentVersion struct {
	ETag    string          `json:"etag"`
	Version int64           `json:"version"`
	Updated string          `json:"updated"`
	Feature json.RawMessage `json:"feature,omitempty"`
}

// httpError is a refusal of the HTTP exchange itself that no geo.Kind
// names: its own status code, the geo error it refines (its kind, so
// geo.KindOf still classifies it, and a message safe for the client), and
// what the problem response carries besides.
type httpError struct {
	status  int
	err     *geo.Error
	current *currentVersion
	imp     *importReport
	header  http.Header
}

// Error returns the message of the refined error.
func (e *httpError) Error() string { return e.err.Error() }

// Unwrap returns the refined error.
func (e *httpError) Unwrap() error { return e.err }

// errPreconditionFailed reports that If-Match named no current version of
// the feature; cur is the current one, sent in the body and as ETag.
func errPreconditionFailed(cur *currentVersion) error {
	return &httpError{status: http.StatusPreconditionFailed, current: cur,
		err:    geo.Errorf(geo.Conflict, "the feature has changed since the version named in If-Match; the current version is in \"current\": review it and retry with its ETag"),
		header: http.Header{"Etag": {cur.ETag}}}
}

// errPreconditionRequired reports a write without a usable If-Match.
func errPreconditionRequired(detail string) error {
	return &httpError{status: http.StatusPreconditionRequired, err: geo.Errorf(geo.Invalid, "%s", detail)}
}

// errTooLarge reports a request body over limit bytes.
func errTooLarge(limit int64) error {
	return &httpError{status: http.StatusRequestEntityTooLarge, err: geo.Errorf(geo.Invalid, "the request body is larger than %d bytes", limit)}
}

// errUnsupportedMedia reports a body whose Content-Type the route does not
// read.
func errUnsupportedMedia(got string, want ...string) error {
	return &httpError{status: http.StatusUnsupportedMediaType, err: geo.InvalidField("Content-Type", "%q is not accepted here; send %s", got, strings.Join(want, " or ")),
		header: http.Header{"Accept-Post": {strings.Join(want, ", ")}}}
}

// errTooManyRequests reports a token over its write rate; retryAfter is
// the Retry-After value in seconds.
func errTooManyRequests(retryAfter string) error {
	return &httpError{status: http.StatusTooManyRequests, err: geo.Errorf(geo.Unavailable, "too many writes with this token; retry after %s seconds", retryAfter),
		header: http.Header{"Retry-After": {retryAfter}}}
}

// errMethodNotAllowed reports a method that the route at path does not
// answer; allow lists those it does.
func errMethodNotAllowed(method, path, allow string) error {
	return &httpError{status: http.StatusMethodNotAllowed, err: geo.Errorf(geo.Invalid, "%s is not allowed on %s", method, path),
		header: http.Header{"Allow": {allow}}}
}

// statusOf is the one table from errors to HTTP status codes: a refusal
// of the HTTP exchange (httpError) has its own, a geo kind is mapped.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	switch geo.KindOf(err) {
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

// statusClientClosed is the status logged for a request whose client
// went away before the answer was ready (nginx's 499): nobody reads it.
const statusClientClosed = 499

// fail writes err as a problem body. Internal errors are logged with the
// request id and reach the client only as "internal error": their text may
// hold SQL, paths or other details that are nobody else's business. A
// request whose client hung up (its context is cancelled) is logged as
// what it is, at info: 499, client closed, whatever error that caused
// below; real 5xx stay errors.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	k := geo.KindOf(err)
	status := statusOf(err)
	if r.Context().Err() != nil && status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "client closed request",
			slog.String("request_id", middleware.GetReqID(r.Context())), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", statusClientClosed), slog.String("error", err.Error()))
		w.Header().Set("Content-Type", typeProblem) // nobody reads it: no body
		w.WriteHeader(statusClientClosed)
		return
	}
	p := problemDetails{
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
		// An internal error is a fault; the store being away, or the
		// server refusing work beyond its limits, is a state: a warning.
		level := slog.LevelError
		if k == geo.Unavailable {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(r.Context(), level, "request failed",
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
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	if status == http.StatusUnauthorized {
		// RFC 6750 §3: say which scheme would do, and whether the token
		// given was the trouble.
		v := `Bearer realm="hazardmap"`
		if r.Header.Get("Authorization") != "" {
			v += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	var he *httpError
	if errors.As(err, &he) {
		p.Current, p.Import, p.header = he.current, he.imp, he.header
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problemDetails) {
	h := w.Header()
	h.Set("Content-Type", typeProblem)
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Last-Modified")
	for k, v := range p.header {
		h[k] = v
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// problemsOnly makes every error response problem JSON, whoever writes
// it: a handler or middleware that answers an error in another form (the
// map's file server's 404, a library's http.Error) has its answer
// replaced by the problem body of the same status, keeping the headers it
// set (Allow, Retry-After). Handlers that use s.fail pass through as
// they are.
func (s *Server) problemsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&problemWriter{ResponseWriter: w, s: s, r: r}, r)
	})
}

// problemWriter is the ResponseWriter of problemsOnly.
type problemWriter struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	started bool
	// replaced: the error was answered with a problem body; what the
	// handler writes after it is dropped.
	replaced bool
}

// WriteHeader sends the status; an error status without a problem body
// sends the problem body of that status instead.
func (pw *problemWriter) WriteHeader(code int) {
	if pw.started {
		return
	}
	pw.started = true
	h := pw.Header()
	if code < 400 || h.Get("Content-Type") == typeProblem {
		pw.ResponseWriter.WriteHeader(code)
		return
	}
	pw.replaced = true
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	kind := geo.Invalid
	switch {
	case code == http.StatusNotFound:
		kind = geo.NotFound
	case code >= 500:
		kind = geo.Unavailable
	}
	detail := http.StatusText(code)
	if detail == "" {
		detail = "error"
	}
	pw.s.fail(pw.ResponseWriter, pw.r, &httpError{status: code, err: geo.Errorf(kind, "%s: %s", detail, pw.r.URL.Path)})
}

// Write sends body bytes, unless the answer was replaced.
func (pw *problemWriter) Write(b []byte) (int, error) {
	if !pw.started {
		pw.WriteHeader(http.StatusOK)
	}
	if pw.replaced {
		return len(b), nil
	}
	return pw.ResponseWriter.Write(b)
}

// Flush sends what is buffered (the event stream flushes each event).
func (pw *problemWriter) Flush() {
	if !pw.started {
		pw.WriteHeader(http.StatusOK)
	}
	if f, ok := pw.ResponseWriter.(http.Flusher); ok && !pw.replaced {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (pw *problemWriter) Unwrap() http.ResponseWriter { return pw.ResponseWriter }
