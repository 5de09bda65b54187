package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
)

// This file serves the admin's token routes: list, make (the secret is in
// that one answer), revoke. Tokens are issued by geo.IssueToken, the same
// as `hazardmap token create` does.

// tokenJSON is a token as the admin routes show it: never its hash.
type tokenJSON struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Role    string  `json:"role"`
	Created string  `json:"created"`
	Expires *string `json:"expires"`
	Revoked *string `json:"revoked"`
	Status  string  `json:"status"`
	// Secret is set once, in the answer to POST /tokens.
	Secret string `json:"token,omitempty"`
}

func newTokenJSON(t geo.Token, now time.Time) tokenJSON {
	out := tokenJSON{ID: t.ID, Name: t.Name, Role: string(t.Role), Created: t.Created.UTC().Format(time.RFC3339), Status: t.Status(now)}
	if !t.Expires.IsZero() {
		e := t.Expires.UTC().Format(time.RFC3339)
		out.Expires = &e
	}
	if t.Revoked != nil {
		r := t.Revoked.UTC().Format(time.RFC3339)
		out.Revoked = &r
	}
	return out
}

// handleTokens serves GET /tokens (admin): every token, revoked and
// expired ones included, without hashes.
func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) {
	if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
		s.fail(w, r, err)
		return
	}
	ts, err := s.store.Tokens(r.Context())
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: list tokens: %w", err))
		return
	}
	now := time.Now()
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, newTokenJSON(t, now))
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"tokens": out})
}

// tokenRequest is the body of POST /tokens.
type tokenRequest struct {
	Name string
	Role geo.Role
	// TTL is how long the token works; 0 means until revoked.
	TTL time.Duration
}

// parseTokenRequest reads the body of POST /tokens: {"name": "城建局一队",
// "role": "crew", "expires_in": "720h"}; expires_in is optional (a Go
// duration, at least a minute). Errors are Invalid and name the field.
func parseTokenRequest(raw []byte) (tokenRequest, error) {
	var body struct {
		Name      *string `json:"name"`
		Role      *string `json:"role"`
		ExpiresIn *string `json:"expires_in"`
	}
	if err := geo.DecodeJSON("body", raw, &body); err != nil {
		return tokenRequest{}, err
	}
	var req tokenRequest
	var bad []geo.FieldError
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		bad = append(bad, geo.FieldError{Field: "name", Detail: "required: whose token it is, e.g. 城建局一队"})
	} else {
		req.Name = *body.Name
	}
	if body.Role == nil {
		bad = append(bad, geo.FieldError{Field: "role", Detail: "required: sensor, crew, planner or admin"})
	} else if role, err := geo.ParseRole(*body.Role); err != nil {
		bad = append(bad, fieldErrors(err, "role")...)
	} else {
		req.Role = role
	}
	if body.ExpiresIn != nil {
		d, err := parseTTL(*body.ExpiresIn)
		if err != nil {
			bad = append(bad, geo.FieldError{Field: "expires_in", Detail: err.Error()})
		}
		req.TTL = d
	}
	if len(bad) > 0 {
		return tokenRequest{}, &geo.Error{Kind: geo.Invalid, Message: "invalid token request", Fields: bad}
	}
	return req, nil
}

// parseTTL reads a token lifetime: a Go duration ("720h") of at least a
// minute and at most ten years.
func parseTTL(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 720h", s)
	}
	if d < time.Minute || d > 10*365*24*time.Hour {
		return 0, fmt.Errorf("%s is not between 1m and 87600h", d)
	}
	return d, nil
}

// handleCreateToken serves POST /tokens (admin): a new token, whose
// secret is in this one answer and never again.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r, maxTokenBody, typeJSON)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := parseTokenRequest(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, secret, err := geo.IssueToken(r.Context(), s.store, req.Name, req.Role, req.TTL)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := newTokenJSON(t, time.Now())
	out.Secret = secret
	writeJSON(w, r, http.StatusCreated, out)
}

// handleRevokeToken serves DELETE /tokens/{tokenId} (admin): the token
// stops working at once, on every instance (each checks the store).
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "tokenId")
	if err := s.store.RevokeToken(r.Context(), id); err != nil {
		s.fail(w, r, fmt.Errorf("api: revoke token %s: %w", id, err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
