package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"hazardmap/geo"
)

// This file authenticates requests (bearer tokens), enforces each route's
// least role (Server.guard, from the rules of routes.go), and says what
// each role sees of the data (privateView, viewName).

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
	// cookie says the token came in the session cookie (session.go), not
	// in Authorization; hash is the token's hash.
	cookie bool
	hash   []byte
	// cookieErr is why a session cookie sent did not authenticate (only
	// the /session routes see such a request: the others refuse it).
	cookieErr error
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
// bearer token, else of a valid session cookie (session.go), else the
// public. A token that is malformed, unknown, revoked or expired is a 401
// on every route, public ones included, so that a crew whose token was
// revoked learns it at once rather than reading on as the public; a bad
// session cookie is cleared with that 401 (the /session routes take it
// and say so instead). A write that the cookie authenticates must come
// from the map's own origin (http.CrossOriginProtection): 403 otherwise.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := auth{actor: publicActor()}
		if values := r.Header.Values("Authorization"); len(values) > 0 {
			secret, err := parseBearer(values)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			actor, err := geo.Authenticate(r.Context(), s.store, secret, time.Now())
			if err != nil {
				s.fail(w, r, fmt.Errorf("api: authenticate: %w", err))
				return
			}
			a = auth{actor: actor, authenticated: true, hash: geo.HashToken(secret)}
		} else if secret := sessionCookie(r); secret != "" {
			actor, err := geo.Authenticate(r.Context(), s.store, secret, time.Now())
			switch {
			case geo.KindOf(err) == geo.Unauthorized:
				a.cookieErr = err
				if r.URL.Path != sessionRoute {
					s.setSession(w, r, "", 0)
					s.fail(w, r, geo.Errorf(geo.Unauthorized, "the session has ended (signed out, revoked or expired); sign in again"))
					return
				}
			case err != nil:
				s.fail(w, r, fmt.Errorf("api: authenticate: %w", err))
				return
			default:
				a = auth{actor: actor, authenticated: true, cookie: true, hash: geo.HashToken(secret)}
				if isWrite(r.Method) {
					if err := s.crossOrigin.Check(r); err != nil {
						s.fail(w, r, geo.Errorf(geo.Forbidden, "a write signed in by the session cookie must come from the map's own page: %v", err))
						return
					}
				}
			}
		}
		ctx := context.WithValue(r.Context(), authKey{}, a)
		next.ServeHTTP(w, r.WithContext(geo.WithActor(ctx, a.actor)))
	})
}

// parseBearer returns the token of an Authorization header given as
// values (every field line): exactly one, of the Bearer scheme (any case)
// with a token68 credential (RFC 6750 §2.1). Anything else is an
// Unauthorized error that says what was wrong without echoing the value.
func parseBearer(values []string) (string, error) {
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
// anything else is looked at; then, unless the route reads a query
// (takesQuery), any query parameter is a 400 (noQuery); writes then pass
// the token's rate limit.
func (s *Server) guard(method string, min geo.Role, takesQuery bool, h http.HandlerFunc) http.Handler {
	var next http.Handler = h
	if s.limiter != nil && isWrite(method) {
		next = s.limiter.Handler(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := authOf(r.Context())
		if !a.actor.Role.AtLeast(min) {
			if !a.authenticated {
				s.fail(w, r, geo.Errorf(geo.Unauthorized, "%s %s needs a bearer token or a signed-in session of role %s or above", r.Method, r.URL.Path, min))
				return
			}
			s.fail(w, r, geo.Errorf(geo.Forbidden, "%s %s needs role %s or above; this token is %s", r.Method, r.URL.Path, min, a.actor.Role))
			return
		}
		if !takesQuery {
			if err := noQuery(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// privateView reports whether role sees properties the public does not
// (geo.Property.ReadRole: contacts for crews, household detail for
// planners), so that shared caches must not keep what it is sent.
func privateView(role geo.Role) bool { return geo.ViewOf(role) != geo.RolePublic }

// viewName names what role sees (geo.ViewOf: public, crew or planner), for
// cache keys and ETags: a response built for one view is never served,
// nor validated, for another.
func viewName(role geo.Role) string { return string(geo.ViewOf(role)) }
