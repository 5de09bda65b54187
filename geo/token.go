package geo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Token is a bearer token as stored: never its secret, only the secret's
// SHA-256. The secret is shown once, when the token is created.
type Token struct {
	// ID identifies the token in the audit log and in revocation (NewID).
	ID string
	// Name says whose it is, e.g. "城建局一队".
	Name string
	Role Role
	// Hash is HashToken of the secret: 32 bytes.
	Hash []byte
	// Created is when the token was made.
	Created time.Time
	// Expires is when it stops working; zero means never.
	Expires time.Time
	// Revoked is when it was revoked; nil while it is not.
	Revoked *time.Time
}

// TokenPrefix starts every token secret, so that a leaked one is easy to
// recognize (by secret scanners, in logs).
const TokenPrefix = "hm_"

// MaxTokenName caps Token.Name (and Actor.Name), in characters.
const MaxTokenName = 100

// NewTokenSecret returns a new secret — TokenPrefix and 32 random bytes
// in unpadded base64url, 46 characters — and its HashToken. A SHA-256
// without salt or stretching is enough for 256 random bits: it is the
// secret's entropy, not the hash's cost, that makes guessing hopeless, and
// lookups by hash stay one index probe.
func NewTokenSecret() (secret string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret)
}

// HashToken returns the SHA-256 of secret, as Token.Hash holds it.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Matches reports whether hash is t's hash, in time that does not depend
// on where they differ (crypto/subtle.ConstantTimeCompare). Stores call it
// after finding t by hash, so that no answer depends on a comparison
// that returns early.
func (t Token) Matches(hash []byte) bool {
	return len(t.Hash) == sha256.Size && subtle.ConstantTimeCompare(t.Hash, hash) == 1
}

// Check returns an Unauthorized error if t is revoked or has expired at
// now.
func (t Token) Check(now time.Time) error {
	switch {
	case t.Revoked != nil:
		return Errorf(Unauthorized, "token revoked")
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return Errorf(Unauthorized, "token expired")
	}
	return nil
}

// Actor returns the actor that t authenticates.
func (t Token) Actor() Actor { return Actor{ID: t.ID, Name: t.Name, Role: t.Role} }

// Validate checks t before it is stored: an id (ValidateID, not
// SystemID), a name of 1 to MaxTokenName characters, a known role, a
// 32-byte hash, a creation time, an expiry (if any) after it, and not
// revoked. Errors are Invalid and name id, name, role, hash, created,
// expires or revoked.
func (t Token) Validate() error {
	var errs []FieldError
	bad := func(field, detail string) { errs = append(errs, FieldError{Field: field, Detail: detail}) }
	if err := ValidateID(t.ID); err != nil {
		errs = append(errs, err.(*Error).Fields...)
	} else if t.ID == SystemID {
		bad("id", "is reserved")
	}
	name := strings.TrimSpace(t.Name)
	switch {
	case name == "" || !utf8.ValidString(t.Name) || strings.ContainsRune(t.Name, 0):
		bad("name", "must be non-blank valid UTF-8 without NUL")
	case utf8.RuneCountInString(t.Name) > MaxTokenName:
		bad("name", "must be at most 100 characters")
	}
	if !t.Role.Valid() {
		bad("role", "must be one of public, sensor, crew, planner, admin")
	}
	if len(t.Hash) != sha256.Size {
		bad("hash", "must be a SHA-256 (32 bytes)")
	}
	if t.Created.IsZero() {
		bad("created", "required")
	}
	if !t.Expires.IsZero() && !t.Expires.After(t.Created) {
		bad("expires", "must be after created")
	}
	if t.Revoked != nil {
		bad("revoked", "a new token is not revoked")
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "invalid token", Fields: errs}
}

// Normalize returns t with its times in UTC truncated to microseconds
// (what PostgreSQL keeps), so that both stores return the same values.
func (t Token) Normalize() Token {
	t.Created = t.Created.UTC().Truncate(time.Microsecond)
	if !t.Expires.IsZero() {
		t.Expires = t.Expires.UTC().Truncate(time.Microsecond)
	}
	if t.Revoked != nil {
		r := t.Revoked.UTC().Truncate(time.Microsecond)
		t.Revoked = &r
	}
	t.Hash = append([]byte(nil), t.Hash...)
	return t
}

// AuditFeature returns t as audit entries record it: a feature without
// geometry whose properties are name, role, created, expires and revoked
// (RFC 3339, null where unset) — never the hash. Version is 1, or 2 once
// revoked.
func (t Token) AuditFeature() *Feature {
	ts := func(x time.Time) any {
		if x.IsZero() {
			return nil
		}
		return x.UTC().Format(time.RFC3339Nano)
	}
	var revoked any
	version, updated := int64(1), t.Created
	if t.Revoked != nil {
		revoked, version, updated = ts(*t.Revoked), 2, *t.Revoked
	}
	return &Feature{ID: t.ID, Version: version, Updated: updated, Properties: map[string]any{
		"name": t.Name, "role": string(t.Role), "created": ts(t.Created), "expires": ts(t.Expires), "revoked": revoked,
	}}
}

// Token statuses, as Token.Status says them.
const (
	TokenActive  = "active"
	TokenRevoked = "revoked"
	TokenExpired = "expired"
)

// Status says whether t works at now: TokenActive, TokenRevoked or
// TokenExpired.
func (t Token) Status(now time.Time) string {
	switch {
	case t.Revoked != nil:
		return TokenRevoked
	case t.Check(now) != nil:
		return TokenExpired
	}
	return TokenActive
}

// IssueToken creates a token named name of role that expires after ttl
// (0: never), stores it (audited as the actor of ctx), and returns it with
// its secret, which is shown this once: only its hash is stored. A token
// of role public is refused: a request without a token is public already.
func IssueToken(ctx context.Context, tokens TokenStore, name string, role Role, ttl time.Duration) (Token, string, error) {
	if role == RolePublic {
		return Token{}, "", InvalidField("role", "a public token is pointless: requests without a token are public; want sensor, crew, planner or admin")
	}
	if ttl < 0 {
		return Token{}, "", InvalidField("expires", "must not be negative")
	}
	secret, hash := NewTokenSecret()
	now := time.Now()
	t := Token{ID: NewID(), Name: strings.TrimSpace(name), Role: role, Hash: hash, Created: now}
	if ttl > 0 {
		t.Expires = now.Add(ttl)
	}
	if err := tokens.CreateToken(ctx, t); err != nil {
		return Token{}, "", fmt.Errorf("geo: create token %q: %w", t.Name, err)
	}
	return t.Normalize(), secret, nil
}

// Authenticate returns the actor of the token whose secret is given, or an
// Unauthorized error when there is no such token, or it is revoked or has
// expired at now. The message never says which of these it was, so that it
// tells a guesser nothing. Other errors (an unreachable store) pass
// through.
func Authenticate(ctx context.Context, tokens TokenStore, secret string, now time.Time) (Actor, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Actor{}, Errorf(Unauthorized, "invalid token")
	}
	hash := HashToken(secret)
	t, err := tokens.TokenByHash(ctx, hash)
	if KindOf(err) == NotFound {
		return Actor{}, Errorf(Unauthorized, "invalid token")
	}
	if err != nil {
		return Actor{}, err
	}
	if !t.Matches(hash) {
		return Actor{}, Errorf(Unauthorized, "invalid token")
	}
	if err := t.Check(now); err != nil {
		return Actor{}, &Error{Kind: Unauthorized, Message: "invalid token", Err: err}
	}
	return t.Actor(), nil
}
