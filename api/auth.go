package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"hazardmap/geo"
)

// This file authenticates requests (bearer tokens), enforces each route's
// least role (Server.guard, from the rules of routes.go), limits each
// token's write rate and request bodies, and serves the admin's token
// routes.

// DefaultWritesPerMinute is the per-token write rate of Options when it
// is 0: a crew reporting every few minutes, or a planner editing by hand,
// stays far below it; a runaway script does not.
const DefaultWritesPerMinute = 60

// Body limits. A feature of the largest layer is a few kilobytes; a status
// report is a few hundred bytes. Anything much larger is a mistake or an
// attack, refused with 413 before it is read.
const (
	maxFeatureBody     = 1 << 20  // POST, PUT, PATCH of a feature: 1 MiB
	maxObservationBody = 64 << 10 // a status report: 64 KiB
	maxTokenBody       = 4 << 10  // POST /tokens: 4 KiB
)

// publicID is the Actor.ID of a request without a token. Token ids are
// geo.NewID hex strings, so none can be "public".
const publicID = "public"

// publicActor is the actor of a request without a token. Requests always
// carry an actor, so that a write reached by mistake is never recorded as
// geo.SystemActor (what geo.ActorFrom returns for a bare context).
func publicActor() geo.Actor { return geo.Actor{ID: publicID, Name: publicID, Role: geo.RolePublic} }

// authKey is the context key of the request's auth.
type authKey struct{}

// auth is who sent a request: the actor, and whether a token said so.
type auth struct {
	actor         geo.Actor
	authenticated bool
}

// authOf returns the auth of a request; without one (a handler called
// without the middleware) it is public, so that a mistake fails closed.
func authOf(ctx context.Context) auth {
	if a, ok := ctx.Value(authKey{}).(auth); ok {
		return a
	}
	return auth{actor: publicActor()}
}

// roleOf returns the role of the request's actor.
func roleOf(r *http.Request) geo.Role { return authOf(r.Context()).actor.Role }

// authenticate sets the actor of every request: the holder of a valid
// bearer token, or the public. A token that is malformed, unknown,
// revoked or expired is a 401 on every route, public ones included, so
// that a crew whose token was revoked learns it at once rather than
// reading on as the public.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := auth{actor: publicActor()}
		if values := r.Header.Values("Authorization"); len(values) > 0 {
			secret, err := ParseBearer(values)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			actor, err := geo.Authenticate(r.Context(), s.store, secret, time.Now())
			if err != nil {
				s.fail(w, r, fmt.Errorf("api: authenticate: %w", err))
				return
			}
			a = auth{actor: actor, authenticated: true}
		}
		ctx := context.WithValue(r.Context(), authKey{}, a)
		next.ServeHTTP(w, r.WithContext(geo.WithActor(ctx, a.actor)))
	})
}

// ParseBearer returns the token of an Authorization header given as
// values (every field line): exactly one, of the Bearer scheme (any case)
// with a token68 credential (RFC 6750 §2.1). Anything else is an
// Unauthorized error that says what was wrong without echoing the value.
func ParseBearer(values []string) (string, error) {
	if len(values) != 1 {
		return "", geo.Errorf(geo.Unauthorized, "give one Authorization header: Bearer <token>")
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", geo.Errorf(geo.Unauthorized, "the Authorization scheme must be Bearer: Authorization: Bearer <token>")
	}
	cred = strings.TrimLeft(cred, " ")
	if cred == "" || !isToken68(cred) {
		return "", geo.Errorf(geo.Unauthorized, "the bearer token is malformed")
	}
	return cred, nil
}

// isToken68 reports whether s is a token68 (RFC 9110 §11.2): letters,
// digits, "-._~+/" and trailing "=" padding.
func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// isWrite reports whether method changes something.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// guard returns h behind the route's rule: requests whose actor's role is
// below min get 401 (no token) or 403 (a token of too low a role) before
// anything else is looked at; writes then pass the token's rate limit.
func (s *Server) guard(method string, min geo.Role, h http.HandlerFunc) http.Handler {
	var next http.Handler = h
	if s.limiter != nil && isWrite(method) {
		next = s.limiter.Handler(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := authOf(r.Context())
		if !a.actor.Role.AtLeast(min) {
			if !a.authenticated {
				s.fail(w, r, geo.Errorf(geo.Unauthorized, "%s %s needs a bearer token of role %s or above", r.Method, r.URL.Path, min))
				return
			}
			s.fail(w, r, geo.Errorf(geo.Forbidden, "%s %s needs role %s or above; this token is %s", r.Method, r.URL.Path, min, a.actor.Role))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// newLimiter returns the per-token write limiter of Options, or nil when
// it is off. Its counters live in this instance's memory: with n
// instances behind a balancer a token may write up to n times the rate.
func (s *Server) newLimiter() *httprate.RateLimiter {
	n := s.opts.WritesPerMinute
	if n < 0 {
		return nil
	}
	if n == 0 {
		n = DefaultWritesPerMinute
	}
	return httprate.NewRateLimiter(n, time.Minute,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) { return authOf(r.Context()).actor.ID, nil }),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, errTooManyRequests(w.Header().Get("Retry-After")))
		}),
		httprate.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			s.fail(w, r, fmt.Errorf("api: rate limit: %w", err))
		}),
	)
}

// readBody reads the request body, at most limit bytes (else 413), after
// checking that its Content-Type is one of types (else 415) and that any
// charset is UTF-8.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, types ...string) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !contains(types, mt) {
		return nil, errUnsupportedMedia(ct, types...)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, errUnsupportedMedia(ct, types...)
	}
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, errTooLarge(limit)
	case err != nil:
		return nil, geo.Wrap(geo.Invalid, err, "could not read the request body")
	}
	return raw, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IssueToken creates a token named name of role that expires after ttl
// (0: never), stores it (audited as the actor of ctx), and returns it with
// its secret, which is shown this once: only its hash is stored. A token
// of role public is refused: a request without a token is public already.
func IssueToken(ctx context.Context, store geo.TokenStore, name string, role geo.Role, ttl time.Duration) (geo.Token, string, error) {
	if role == geo.RolePublic {
		return geo.Token{}, "", geo.InvalidField("role", "a public token is pointless: requests without a token are public; want sensor, crew, planner or admin")
	}
	if ttl < 0 {
		return geo.Token{}, "", geo.InvalidField("expires", "must not be negative")
	}
	secret, hash := geo.NewTokenSecret()
	now := time.Now()
	t := geo.Token{ID: geo.NewID(), Name: strings.TrimSpace(name), Role: role, Hash: hash, Created: now}
	if ttl > 0 {
		t.Expires = now.Add(ttl)
	}
	if err := store.CreateToken(ctx, t); err != nil {
		return geo.Token{}, "", fmt.Errorf("api: create token %q: %w", t.Name, err)
	}
	return t.Normalize(), secret, nil
}

// TokenStatus says whether t works at now: "active", "revoked" or
// "expired".
func TokenStatus(t geo.Token, now time.Time) string {
	switch {
	case t.Revoked != nil:
		return "revoked"
	case t.Check(now) != nil:
		return "expired"
	}
	return "active"
}

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
	out := tokenJSON{ID: t.ID, Name: t.Name, Role: string(t.Role), Created: t.Created.UTC().Format(time.RFC3339), Status: TokenStatus(t, now)}
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

// TokenRequest is the body of POST /tokens.
type TokenRequest struct {
	Name string
	Role geo.Role
	// TTL is how long the token works; 0 means until revoked.
	TTL time.Duration
}

// ParseTokenRequest reads the body of POST /tokens: {"name": "城建局一队",
// "role": "crew", "expires_in": "720h"}; expires_in is optional (a Go
// duration, at least a minute). Errors are Invalid and name the field.
func ParseTokenRequest(raw []byte) (TokenRequest, error) {
	var body struct {
		Name      *string `json:"name"`
		Role      *string `json:"role"`
		ExpiresIn *string `json:"expires_in"`
	}
	if err := strictDecode(raw, &body); err != nil {
		return TokenRequest{}, err
	}
	var req TokenRequest
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
		d, err := ParseTTL(*body.ExpiresIn)
		if err != nil {
			bad = append(bad, geo.FieldError{Field: "expires_in", Detail: err.Error()})
		}
		req.TTL = d
	}
	if len(bad) > 0 {
		return TokenRequest{}, &geo.Error{Kind: geo.Invalid, Message: "invalid token request", Fields: bad}
	}
	return req, nil
}

// ParseTTL reads a token lifetime: a Go duration ("720h") of at least a
// minute and at most ten years.
func ParseTTL(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 720h", s)
	}
	if d < time.Minute || d > 10*365*24*time.Hour {
		return 0, fmt.Errorf("%s is not between 1m and 87600h", d)
	}
	return d, nil
}

// strictDecode decodes one JSON object into v, refusing unknown members
// and trailing data, as an Invalid error that names the body.
func strictDecode(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return geo.InvalidField("body", "%s", jsonProblem(err))
	}
	if d.More() {
		return geo.InvalidField("body", "data after the JSON object")
	}
	return nil
}

// jsonProblem describes a decoding error without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("member %q: want a %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return "want a JSON object"
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown member " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	return "not valid JSON: " + strings.TrimPrefix(msg, "json: ")
}

// jsonKind names a Go kind as the JSON type it decodes from.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "float64", "int", "int64":
		return "number"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "value of the documented type"
}

// handleCreateToken serves POST /tokens (admin): a new token, whose
// secret is in this one answer and never again.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r, maxTokenBody, typeJSON)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := ParseTokenRequest(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, secret, err := IssueToken(r.Context(), s.store, req.Name, req.Role, req.TTL)
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

// documentAuth completes the OpenAPI document doc (openapi.go) with the
// operations of the writes, status reports, audit log, event stream and
// tokens, the bearer security scheme, and for every operation its least
// role (x-role, from the same rules that guard enforces), its security
// requirement and its 401 and 403 responses. add is openapi.go's helper
// that documents a GET and its HEAD.
func (s *Server) documentAuth(doc obj, add func(string, obj), full bool) {
	paths := doc["paths"].(obj)
	comps := doc["components"].(obj)
	schemas, params, responses := comps["schemas"].(obj), comps["parameters"].(obj), comps["responses"].(obj)
	s.documentWrites(paths, schemas, params)
	documentObservations(add, paths, schemas, params)
	documentAudit(add, schemas, params)
	documentEvents(add, params)
	documentTokens(add, paths, schemas)
	documentHistory(params)

	problem := func(desc string, headers obj) obj {
		r := obj{"description": desc, "content": content(obj{typeProblem: ref("schemas", "problem")})}
		if headers != nil {
			r["headers"] = headers
		}
		return r
	}
	str := obj{"type": "string"}
	responses["Unauthorized"] = problem("No token where one is needed, or a token that is malformed, unknown, revoked or expired (any route).",
		obj{"WWW-Authenticate": obj{"description": `Bearer realm="hazardmap", with error="invalid_token" when a token was sent.`, "schema": str}})
	responses["Forbidden"] = problem("The token's role is below the role of the route (x-role).", nil)
	responses["Conflict"] = problem("A feature with that id exists already.", nil)
	responses["PreconditionFailed"] = problem("If-Match names no current version of the feature: it changed since it was read. "+
		"The body's current member holds the current ETag, version and feature (as the caller may see it); the ETag header is the current ETag.",
		obj{"ETag": obj{"description": "The feature's current ETag.", "schema": str}})
	responses["PreconditionRequired"] = problem("The write has no If-Match (or If-Match: *): send the ETag of the version you edited.", nil)
	responses["PayloadTooLarge"] = problem("The request body is over the route's limit (1 MiB for features, 64 KiB for status reports, 4 KiB for tokens).", nil)
	responses["UnsupportedMediaType"] = problem("The body's Content-Type is not one the route reads.", nil)
	responses["TooManyRequests"] = problem("Over the token's write rate on this instance; retry after Retry-After seconds.",
		obj{"Retry-After": obj{"description": "Seconds to wait.", "schema": obj{"type": "integer"}}})
	problemSchema := schemas["problem"].(obj)["properties"].(obj)
	problemSchema["current"] = obj{"type": "object", "description": "In a 412: the current version of the feature.",
		"required": []string{"etag", "version", "updated"}, "properties": obj{
			"etag":    str,
			"version": obj{"type": "integer"},
			"updated": obj{"type": "string", "format": "date-time"},
			"feature": obj{"type": "object", "description": "The feature as GET sends it to the caller."},
		}}

	comps["securitySchemes"] = obj{"bearerAuth": obj{"type": "http", "scheme": "bearer",
		"description": "A token made with `hazardmap token create` or POST /tokens. Roles: public (no token) < sensor (telemetry: readings only) < crew < planner < admin; each operation's x-role is the least role that may call it."}}
	doc["security"] = []any{obj{}, obj{"bearerAuth": []string{}}}
	for path, item := range paths {
		for method, op := range item.(obj) {
			op := op.(obj)
			role := s.rules[strings.ToUpper(method)+" "+path]
			op["x-role"] = string(role)
			rs := op["responses"].(obj)
			rs["401"] = ref("responses", "Unauthorized")
			if role != geo.RolePublic {
				op["security"] = []any{obj{"bearerAuth": []string{}}}
				rs["403"] = ref("responses", "Forbidden")
			}
		}
	}
}

// tokenSchema documents a token as the admin routes show it.
func tokenSchema() obj {
	str := obj{"type": "string"}
	when := obj{"type": "string", "format": "date-time", "nullable": true}
	return obj{"type": "object", "required": []string{"id", "name", "role", "created", "expires", "revoked", "status"}, "properties": obj{
		"id":      str,
		"name":    str,
		"role":    obj{"type": "string", "enum": []string{"sensor", "crew", "planner", "admin"}},
		"created": obj{"type": "string", "format": "date-time"},
		"expires": when,
		"revoked": when,
		"status":  obj{"type": "string", "enum": []string{"active", "revoked", "expired"}},
		"token":   obj{"type": "string", "description": "The secret, in the answer to POST /tokens only: it is shown once, and only its hash is stored."},
	}}
}

// documentTokens documents the admin's token routes.
func documentTokens(add func(string, obj), paths, schemas obj) {
	schemas["token"] = tokenSchema()
	add("/tokens", obj{"operationId": "getTokens", "tags": []string{"Admin"}, "summary": "Every token (admin), without secrets or hashes",
		"parameters": []any{ref("parameters", "f")},
		"responses": obj{
			"200": obj{"description": "The tokens, revoked and expired ones included.", "content": content(obj{typeJSON: obj{
				"type": "object", "required": []string{"tokens"}, "properties": obj{"tokens": obj{"type": "array", "items": ref("schemas", "token")}}}})},
			"400": ref("responses", "BadRequest"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}})
	paths["/tokens"].(obj)["post"] = obj{"operationId": "createToken", "tags": []string{"Admin"}, "summary": "Make a token (admin)",
		"description": "The answer holds the secret, this once; only its SHA-256 is stored.",
		"requestBody": obj{"required": true, "content": content(obj{typeJSON: obj{"type": "object", "required": []string{"name", "role"},
			"additionalProperties": false, "properties": obj{
				"name":       obj{"type": "string", "description": "Whose token, e.g. 城建局一队."},
				"role":       obj{"type": "string", "enum": []string{"sensor", "crew", "planner", "admin"}},
				"expires_in": obj{"type": "string", "description": "Lifetime as a Go duration, e.g. 720h (1m to 87600h); none: until revoked."},
			}}})},
		"responses": obj{
			"201": obj{"description": "The token, with its secret.", "content": content(obj{typeJSON: ref("schemas", "token")})},
			"400": ref("responses", "BadRequest"),
			"413": ref("responses", "PayloadTooLarge"),
			"415": ref("responses", "UnsupportedMediaType"),
			"429": ref("responses", "TooManyRequests"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}}
	paths["/tokens/{tokenId}"] = obj{"delete": obj{"operationId": "revokeToken", "tags": []string{"Admin"}, "summary": "Revoke a token (admin)",
		"description": "The token stops working at once on every instance. Revoking a revoked token is not an error.",
		"parameters":  []any{obj{"name": "tokenId", "in": "path", "required": true, "schema": obj{"type": "string"}}},
		"responses": obj{
			"204": obj{"description": "Revoked."},
			"404": ref("responses", "NotFound"),
			"429": ref("responses", "TooManyRequests"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}}}
}
