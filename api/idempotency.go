package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"hazardmap/geo"
)

// This file runs the writes, with or without an Idempotency-Key (the IETF
// httpapi draft "The Idempotency-Key HTTP Header Field"): a phone that
// lost the answer to a report sends it again with the same key and gets
// the first answer back, and the server writes once.
//
// Every write handler parses and checks its request, then hands a writeOp
// to commit: write makes the store call, respond builds the exact answer
// from what the store wrote. Without a key commit calls one after the
// other. With one, geo.Idempotently claims the key, and the store calls
// respond inside the write's transaction and keeps the answer with the
// key: the write and the record of its answer commit together. So a
// replay sends the same bytes the first request got (or would have got,
// had its answer not been lost), with Idempotency-Replayed: true.

// headerIdempotencyKey and headerReplayed are the draft's request field
// and the field that marks a replayed answer.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotency-Replayed"
)

// inFlightRetry is the Retry-After (seconds) of a 409 for a key whose
// first request is still being written.
const inFlightRetry = "2"

// writeOp is one write of a handler.
type writeOp struct {
	// body is what the request's fingerprint covers besides its method,
	// target and actor: the body as sent, or (multipart) its parts in a
	// canonical form, so that a retry with another boundary is the same
	// request.
	body []byte
	// write makes the store call with ctx (which may carry an
	// idempotency claim) and returns what it wrote. It may refuse before
	// writing (If-Match: 412), which releases the claim.
	write func(ctx context.Context) (geo.WriteResult, error)
	// respond builds the answer from what the write wrote. It must not
	// call the store: with a key it runs inside the store's write.
	respond func(geo.WriteResult) (geo.StoredResponse, error)
}

// commit runs op for r and sends its answer: at once without an
// Idempotency-Key; with one, as the draft says — the stored answer again
// (Idempotency-Replayed: true) for a key used with the same request, 409
// (Retry-After) while that request is still in flight, 422 for a key
// used with another request (method, target, body or token).
func (s *Server) commit(w http.ResponseWriter, r *http.Request, op writeOp) {
	key, ok, err := idempotencyKey(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A write the server has begun is carried to its end when the client
	// goes away (a phone losing its signal mid-upload): its answer is kept
	// under the Idempotency-Key for the retry, and on PostGIS no cancel
	// request reaches a running statement (see geo/postgis read).
	ctx, cancel := geo.OutliveCaller(r.Context(), writeBound)
	defer cancel()
	if !ok {
		res, err := op.write(ctx)
		if err == nil {
			var resp geo.StoredResponse
			if resp, err = op.respond(res); err == nil {
				sendStored(w, r, resp, false)
				return
			}
		}
		s.fail(w, r, err)
		return
	}
	fp := geo.IdempotencyFingerprint(r.Method, r.URL.RequestURI(), op.body, authOf(r.Context()).actor.ID)
	var res geo.WriteResult
	outcome, made, err := geo.Idempotently(ctx, s.store, key, fp, time.Now(), op.respond,
		func(ctx context.Context) (err error) {
			res, err = op.write(ctx)
			return err
		})
	switch {
	case err != nil && geo.IsClaimLost(err):
		s.fail(w, r, errKeyInFlight(key))
	case err != nil:
		s.fail(w, r, err)
	case outcome == geo.IdempotencyReplay:
		sendStored(w, r, *made, true)
	case outcome == geo.IdempotencyInFlight:
		s.fail(w, r, errKeyInFlight(key))
	case outcome == geo.IdempotencyMismatch:
		s.fail(w, r, errKeyMismatch(key))
	case made != nil:
		sendStored(w, r, *made, false)
	default:
		// The write wrote nothing, so nothing was recorded: answer as
		// without a key.
		resp, err := op.respond(res)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sendStored(w, r, resp, false)
	}
}

// writeBound bounds a write whose client has gone (see commit): a file
// of 10 000 rows, the largest write, takes a few seconds.
const writeBound = time.Minute

// idempotencyKey returns the Idempotency-Key of r, whether it has one,
// and an Invalid error (400, naming the field) for a field that is given
// more than once or is not a quoted string of printable ASCII.
func idempotencyKey(r *http.Request) (string, bool, error) {
	values := r.Header.Values(headerIdempotencyKey)
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
		key, err := geo.ParseIdempotencyKey(values[0])
		return key, err == nil, err
	}
	return "", false, geo.InvalidField(headerIdempotencyKey, "give one Idempotency-Key field")
}

// refuseKey answers 400 to a write that sends an Idempotency-Key where
// none is kept (a token's or a session's answer holds a secret, which is
// never stored), so that no client believes it is protected when it is
// not; others pass to h.
func (s *Server) refuseKey(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Values(headerIdempotencyKey)) > 0 {
			s.fail(w, r, geo.InvalidField(headerIdempotencyKey, "%s %s does not take an Idempotency-Key: its answer is not kept", r.Method, r.URL.Path))
			return
		}
		h(w, r)
	}
}

// sendStored writes resp; replayed adds Idempotency-Replayed: true.
func sendStored(w http.ResponseWriter, r *http.Request, resp geo.StoredResponse, replayed bool) {
	h := w.Header()
	for name, values := range resp.Header {
		h[name] = append([]string(nil), values...)
	}
	h.Set("Cache-Control", "no-store")
	if replayed {
		h.Set(headerReplayed, "true")
	}
	if len(resp.Body) > 0 {
		h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	}
	w.WriteHeader(resp.Status)
	if r.Method != http.MethodHead && len(resp.Body) > 0 {
		_, _ = w.Write(resp.Body)
	}
}

// storedJSON returns v encoded as the answer of a write: status, the JSON
// body and, in pairs, more header fields (Location, ETag…).
func storedJSON(status int, ctype string, v any, header ...string) (geo.StoredResponse, error) {
	body, err := marshal(v)
	if err != nil {
		return geo.StoredResponse{}, err
	}
	return storedBody(status, ctype, body, header...), nil
}

// storedBody returns the answer of a write with body of media type ctype
// ("" with no body) and header pairs.
func storedBody(status int, ctype string, body []byte, header ...string) geo.StoredResponse {
	h := map[string][]string{}
	if ctype != "" {
		h["Content-Type"] = []string{ctype}
	}
	for i := 0; i+1 < len(header); i += 2 {
		h[http.CanonicalHeaderKey(header[i])] = []string{header[i+1]}
	}
	return geo.StoredResponse{Status: status, Header: h, Body: body}
}

// errKeyInFlight reports a key whose first request has not finished.
func errKeyInFlight(key string) error {
	return &httpError{status: http.StatusConflict,
		err:    geo.Errorf(geo.Conflict, "a request with this Idempotency-Key (%q) is in progress; retry after %s seconds to get its answer", key, inFlightRetry),
		header: http.Header{"Retry-After": {inFlightRetry}}}
}

// errKeyMismatch reports a key that was used with another request.
func errKeyMismatch(key string) error {
	return &httpError{status: http.StatusUnprocessableEntity,
		err: geo.InvalidField(headerIdempotencyKey, "%q was used for a different request (another method, target, body or token); make a new key for a new request", key)}
}
