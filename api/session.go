package api

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"hazardmap/geo"
)

// This file signs a phone in: a one-time code (from `hazardmap token
// create --link`) is exchanged, once, for a new token that the browser
// keeps in an HttpOnly cookie, and the map learns who is signed in.
//
// Why a cookie, not localStorage or IndexedDB: no script can read an
// HttpOnly cookie — not one injected into the page, not another origin's
// — while everything in localStorage and IndexedDB is readable by every
// script of the origin. SameSite=Strict keeps the browser from sending it
// on a request another site starts; over https the __Host- prefix binds
// it to this host (Secure, Path=/, no Domain), so no subdomain can set or
// shadow it. The page, its service worker and Background Sync replays
// send it by themselves on same-origin requests, so the offline queue
// holds no secret. Its cost is cross-site request forgery, closed twice:
// SameSite=Strict, and http.CrossOriginProtection (Sec-Fetch-Site,
// Origin) on every write the cookie authenticates. Bearer tokens work as
// before for scripts and GIS clients; a request with both is the bearer's.

// Session cookie names: over TLS (or with an https base URL) the
// __Host- prefixed, Secure one; over plain http — a command-post laptop
// serving phones on a LAN during 三断 — the plain one, since a browser
// keeps no Secure cookie from http.
const (
	cookieSecure = "__Host-hm_session"
	cookiePlain  = "hm_session"
)

// Sign-in limits: the body of POST /session, and the attempts per client
// address per minute (a code has 80 random bits; this keeps a script
// from trying them fast, and a crew mistyping a few times is fine).
const (
	maxSessionBody    = 1 << 10
	signInsPerMinute  = 10
	sessionMaxAgeSecs = 400 * 24 * 3600 // browsers cap a cookie's life at 400 days
)

// sessionRoute is the route of the session: POST signs in, GET says who
// is signed in, DELETE signs out.
const sessionRoute = "/session"

// newSignInLimiter returns the per-address limiter of POST /session. It
// keys on the connection's address: behind a proxy all clients share its
// budget (set up the proxy's own limit there).
func (s *Server) newSignInLimiter() *httprate.RateLimiter {
	return httprate.NewRateLimiter(signInsPerMinute, time.Minute,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) {
			ip, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				ip = r.RemoteAddr
			}
			return httprate.CanonicalizeIP(ip), nil
		}),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, errTooManyRequests(w.Header().Get("Retry-After")))
		}),
		httprate.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			s.fail(w, r, fmt.Errorf("api: sign-in limit: %w", err))
		}),
	)
}

// secure reports whether r reached the service over TLS, directly or as
// the base URL says (a proxy terminating TLS in front).
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.opts.BaseURL, "https://")
}

// sessionCookie returns the session cookie of r (the __Host- one first),
// or "" when it has none.
func sessionCookie(r *http.Request) string {
	for _, name := range []string{cookieSecure, cookiePlain} {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// setSession sets the session cookie to secret for maxAge seconds (0:
// clear it), with the name and attributes r's scheme allows; it clears
// the other name, so that a phone moved from http to https keeps one.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, secret string, maxAge int) {
	name, other := cookiePlain, cookieSecure
	if s.secure(r) {
		name, other = cookieSecure, cookiePlain
	}
	c := &http.Cookie{Name: name, Value: secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secure(r), MaxAge: maxAge}
	if maxAge <= 0 {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
	if _, err := r.Cookie(other); err == nil {
		http.SetCookie(w, &http.Cookie{Name: other, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
			Secure: other == cookieSecure, MaxAge: -1})
	}
}

// sessionJSON is who a session is.
type sessionJSON struct {
	SignedIn bool    `json:"signed_in"`
	TokenID  string  `json:"token_id,omitempty"`
	Name     string  `json:"name,omitempty"`
	Role     string  `json:"role"`
	Expires  *string `json:"expires,omitempty"`
	// Via says how the request was authenticated: cookie or bearer.
	Via string `json:"via,omitempty"`
	// Ended says why a session cookie no longer works (revoked, expired
	// or unknown): the map asks the crew to sign in again.
	Ended string `json:"ended,omitempty"`
}

// parseSignIn reads the body of POST /session: {"code": "7KQ2-M9XD-4TRA-0ZPB"}.
func parseSignIn(raw []byte) (string, error) {
	var body struct {
		Code *string `json:"code"`
	}
	if err := geo.DecodeJSON("body", raw, &body); err != nil {
		return "", err
	}
	if body.Code == nil || strings.TrimSpace(*body.Code) == "" {
		return "", geo.InvalidField("code", "required: the sign-in code of the link, e.g. 7KQ2-M9XD-4TRA-0ZPB")
	}
	return *body.Code, nil
}

// handleSignIn serves POST /session (anyone, signInsPerMinute per
// address): a one-time code is exchanged for a new token, which is set as
// the session cookie and never shown. Any bad code is 401 with one
// message (geo.SignInCode.Check).
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	// A cross-site page must not sign a browser into the page's account
	// (login CSRF), cookie or not.
	if err := s.crossOrigin.Check(r); err != nil {
		s.fail(w, r, geo.Errorf(geo.Forbidden, "sign in from the map's own page: %v", err))
		return
	}
	raw, err := readBody(w, r, maxSessionBody, typeJSON)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code, err := parseSignIn(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	t, secret, err := geo.RedeemSignIn(r.Context(), s.store, code, now)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: sign in: %w", err))
		return
	}
	maxAge := sessionMaxAgeSecs
	if !t.Expires.IsZero() {
		maxAge = min(maxAge, int(t.Expires.Sub(now)/time.Second))
	}
	s.setSession(w, r, secret, maxAge)
	out := sessionJSON{SignedIn: true, TokenID: t.ID, Name: t.Name, Role: string(t.Role), Via: "cookie"}
	out.Expires = expiresOf(t)
	writeJSON(w, r, http.StatusCreated, out)
}

// expiresOf returns when t expires, nil for never.
func expiresOf(t geo.Token) *string {
	if t.Expires.IsZero() {
		return nil
	}
	e := t.Expires.UTC().Format(time.RFC3339)
	return &e
}

// handleSession serves GET /session (anyone): who the request is signed
// in as, or the public. A session cookie that no longer works is cleared
// here, not refused, and said so (ended), so that the map can ask for a
// new sign-in and go on as the public.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
		s.fail(w, r, err)
		return
	}
	a := authOf(r.Context())
	out := sessionJSON{Role: string(geo.RolePublic)}
	if a.cookieErr != nil {
		s.setSession(w, r, "", 0)
		out.Ended = "invalid, revoked or expired"
	}
	if a.authenticated {
		out = sessionJSON{SignedIn: true, TokenID: a.actor.ID, Name: a.actor.Name, Role: string(a.actor.Role), Via: "bearer"}
		if a.cookie {
			out.Via = "cookie"
		}
		if t, err := s.store.TokenByHash(r.Context(), a.hash); err == nil {
			out.Expires = expiresOf(t)
		}
	}
	w.Header().Add("Vary", "Authorization")
	w.Header().Add("Vary", "Cookie")
	writeJSON(w, r, http.StatusOK, out)
}

// handleSignOut serves DELETE /session: the session's token is revoked
// (so a copy of the cookie is worthless too) and the cookie cleared; 204.
// Without a session it only clears. A bearer token is not a session:
// revoke it with DELETE /tokens/{tokenId}.
func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	a := authOf(r.Context())
	if a.authenticated && !a.cookie {
		s.fail(w, r, geo.Errorf(geo.Invalid, "DELETE /session ends a signed-in browser's session; a bearer token is revoked with DELETE /tokens/{tokenId} (admin)"))
		return
	}
	if a.cookie {
		if err := s.store.RevokeToken(r.Context(), a.actor.ID); err != nil {
			s.fail(w, r, fmt.Errorf("api: sign out %s: %w", a.actor.ID, err))
			return
		}
	}
	s.setSession(w, r, "", 0)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
