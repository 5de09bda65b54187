package geo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"net/url"
	"strings"
	"time"
)

// SignInCode is a one-time sign-in code as stored: a pending token. An
// admin makes it (`hazardmap token create --link`) and sends the link that
// holds it to a crew's phone; opening the link exchanges the code, once,
// for a new bearer token with the code's name and role. Only the SHA-256
// of the code is stored, and the token's secret exists only in the answer
// to the exchange (the map keeps it in an HttpOnly cookie).
type SignInCode struct {
	// Hash is HashSignInCode of the code: 32 bytes.
	Hash []byte
	// TokenID is the id the token will have (NewID), known from the start
	// so that the admin can revoke the link (RevokeToken) before it is
	// used.
	TokenID string
	// Name and Role are the token's.
	Name string
	Role Role
	// TokenTTL is the token's lifetime from the exchange; 0: until
	// revoked.
	TokenTTL time.Duration
	// Created is when the code was made, Expires when it stops working.
	Created, Expires time.Time
	// Used is when the code was exchanged, Revoked when it was revoked;
	// nil while not.
	Used, Revoked *time.Time
	// Issuer made the code (set by the store from the context); the token
	// is recorded as created by the issuer.
	Issuer Actor
}

// Lifetimes of a sign-in code.
const (
	// SignInCodeTTL is how long a code works by default: long enough to
	// send it over a chat or show its QR code to a crew standing by,
	// short enough that a link forwarded by mistake is soon dead.
	SignInCodeTTL = 15 * time.Minute
	// MaxSignInCodeTTL caps it.
	MaxSignInCodeTTL = 24 * time.Hour
)

// signInAlphabet is Crockford's base32: digits and capitals without I, L,
// O and U, so that a code read aloud or typed from a screen is not
// mistaken.
const signInAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var signInEncoding = base32.NewEncoding(signInAlphabet).WithPadding(base32.NoPadding)

// SignInCodeLength is the length of a code without its hyphens: 16
// characters, 80 random bits — beyond any guessing in a quarter of an
// hour, and short enough to type from a screen when a phone cannot scan.
const SignInCodeLength = 16

// NewSignInCode returns a new code, in groups of four separated by
// hyphens ("7KQ2-M9XD-…"), and its HashSignInCode.
func NewSignInCode() (code string, hash []byte) {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	s := signInEncoding.EncodeToString(b[:])
	code = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	return code, HashSignInCode(s)
}

// ParseSignInCode returns a code as typed or pasted in its canonical form
// (16 characters of signInAlphabet): case, hyphens and spaces do not
// matter, and O, I and L read as 0, 1 and 1 (Crockford). Anything else is
// Invalid, naming the field "code".
func ParseSignInCode(s string) (string, error) {
	if len(s) > 64 {
		return "", InvalidField("code", "is not a sign-in code")
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 0x7f || !strings.ContainsRune(signInAlphabet, r) {
			return "", InvalidField("code", "is not a sign-in code (16 letters and digits)")
		}
		b.WriteRune(r)
	}
	if b.Len() != SignInCodeLength {
		return "", InvalidField("code", "is not a sign-in code (16 letters and digits)")
	}
	return b.String(), nil
}

// HashSignInCode returns the SHA-256 of a canonical code, as
// SignInCode.Hash holds it. Like a token's, the hash is not stretched: the
// code's 80 random bits and its short life make guessing hopeless.
func HashSignInCode(canonical string) []byte {
	h := sha256.Sum256([]byte("hazardmap sign-in code\x00" + canonical))
	return h[:]
}

// SignInLink returns the link that signs a phone in with code: base (the
// service's public URL) with the code in the fragment, "#signin=CODE".
// A fragment never leaves the browser — it is not sent to the server, nor
// to a proxy, nor kept in their logs — and the map removes it from the
// address bar and history as soon as it has read it.
func SignInLink(base, code string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", InvalidField("base_url", "want the service's public http(s) URL, such as https://hazardmap.example.org")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u.String() + "#signin=" + code, nil
}

// Validate checks c before it is stored: a 32-byte hash, a token id
// (ValidateID, not SystemID), a name and role as a token's (no public), a
// token lifetime not negative, an expiry after its creation and at most
// MaxSignInCodeTTL after it, and neither used nor revoked. Errors are
// Invalid.
func (c SignInCode) Validate() error {
	t := Token{ID: c.TokenID, Name: c.Name, Role: c.Role, Hash: c.Hash, Created: c.Created}
	err := t.Validate()
	var errs []FieldError
	if e := AsError(err); e != nil {
		errs = e.Fields
	}
	bad := func(field, detail string) { errs = append(errs, FieldError{Field: field, Detail: detail}) }
	if c.Role == RolePublic {
		bad("role", "a sign-in link for the public is pointless; want crew, planner or admin")
	}
	if c.TokenTTL < 0 {
		bad("expires", "must not be negative")
	}
	switch {
	case !c.Expires.After(c.Created):
		bad("link_expires", "must be after created")
	case c.Expires.Sub(c.Created) > MaxSignInCodeTTL:
		bad("link_expires", "a sign-in link works for at most 24 h")
	}
	if c.Used != nil || c.Revoked != nil {
		bad("used", "a new code is neither used nor revoked")
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "invalid sign-in code", Fields: errs}
}

// Normalize returns c with times in UTC truncated to microseconds, as
// both stores keep them.
func (c SignInCode) Normalize() SignInCode {
	c.Created = c.Created.UTC().Truncate(time.Microsecond)
	c.Expires = c.Expires.UTC().Truncate(time.Microsecond)
	for _, p := range []**time.Time{&c.Used, &c.Revoked} {
		if *p != nil {
			t := (*p).UTC().Truncate(time.Microsecond)
			*p = &t
		}
	}
	c.Hash = append([]byte(nil), c.Hash...)
	return c
}

// Receive returns c as a store records it, issued by actor: checked
// (Validate), normalized (Normalize), with Issuer set. Both stores call it.
func (c SignInCode) Receive(actor Actor) (SignInCode, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	c = c.Normalize()
	c.Issuer = actor
	return c, nil
}

// Check returns an Unauthorized error if c cannot be exchanged at now:
// used, revoked or expired. The message is the same for all three, so
// that it tells a guesser nothing.
func (c SignInCode) Check(now time.Time) error {
	if c.Used != nil || c.Revoked != nil || !now.Before(c.Expires) {
		return Errorf(Unauthorized, "invalid, used or expired sign-in code; ask for a new link")
	}
	return nil
}

// Token returns the token that exchanging c at now creates, with hash.
func (c SignInCode) Token(hash []byte, now time.Time) Token {
	t := Token{ID: c.TokenID, Name: c.Name, Role: c.Role, Hash: hash, Created: now}
	if c.TokenTTL > 0 {
		t.Expires = now.Add(c.TokenTTL)
	}
	return t.Normalize()
}

// AuditFeature returns c as the audit log records it (ActionLink, and
// ActionRevoke of an unused link): a feature with the token's id and no
// geometry whose properties are name, role, link_expires, token_ttl
// (seconds, null: until revoked) and revoked — never the hash. Version is
// 0: the token does not exist until the code is exchanged.
func (c SignInCode) AuditFeature() *Feature {
	var ttl, revoked any
	if c.TokenTTL > 0 {
		ttl = c.TokenTTL.Seconds()
	}
	updated := c.Created
	if c.Revoked != nil {
		revoked, updated = c.Revoked.UTC().Format(time.RFC3339Nano), *c.Revoked
	}
	return &Feature{ID: c.TokenID, Updated: updated, Properties: map[string]any{
		"name": c.Name, "role": string(c.Role), "link_expires": c.Expires.UTC().Format(time.RFC3339Nano),
		"token_ttl_s": ttl, "revoked": revoked,
	}}
}

// SignInStore keeps one-time sign-in codes; every Store is one. Writes
// are audited under TokensCollection with the token's id.
type SignInStore interface {
	SignInIssuer
	// RedeemSignInCode exchanges the code whose hash is codeHash, at now,
	// for a new token with hash tokenHash (SignInCode.Token), in one
	// transaction: it marks the code used, stores the token and appends
	// its audit entry (ActionCreate by the code's issuer). A code that is
	// unknown, used, revoked or expired at now is Unauthorized (one
	// message for all: SignInCode.Check) and changes nothing. Of
	// concurrent exchanges of one code exactly one succeeds. The actor of
	// ctx is ignored: whoever holds the code may exchange it.
	RedeemSignInCode(ctx context.Context, codeHash, tokenHash []byte, now time.Time) (Token, error)
}

// SignInIssuer stores sign-in codes: the part of SignInStore that
// IssueSignInCode needs (the CLI's store may be a running server's).
type SignInIssuer interface {
	// CreateSignInCode stores c, which must pass SignInCode.Validate (else
	// Invalid), with Issuer the actor of ctx, and appends an audit entry
	// (ActionLink, version 0). A hash or token id already stored (as a
	// code or a token) is a Conflict.
	CreateSignInCode(ctx context.Context, c SignInCode) error
}

// IssueSignInCode makes a sign-in code for a new token called name with
// role, working for codeTTL (SignInCodeTTL when 0) from now, whose token
// works for tokenTTL from its exchange (0: until revoked), and stores it.
// It returns the code as stored and the code itself, in groups
// ("7KQ2-M9XD-…"), to put in a link (SignInLink) — it is never stored.
func IssueSignInCode(ctx context.Context, store SignInIssuer, name string, role Role, tokenTTL, codeTTL time.Duration, now time.Time) (SignInCode, string, error) {
	if codeTTL == 0 {
		codeTTL = SignInCodeTTL
	}
	if codeTTL < 0 {
		return SignInCode{}, "", InvalidField("link_expires", "must not be negative")
	}
	code, hash := NewSignInCode()
	c := SignInCode{Hash: hash, TokenID: NewID(), Name: strings.TrimSpace(name), Role: role, TokenTTL: tokenTTL,
		Created: now, Expires: now.Add(codeTTL)}
	if err := store.CreateSignInCode(ctx, c); err != nil {
		return SignInCode{}, "", err
	}
	return c.Normalize(), code, nil
}

// RedeemSignIn exchanges code (as typed: ParseSignInCode) at now for a new
// token, and returns the token and its secret. The secret is in this
// answer only; the store keeps its hash. A code that is malformed,
// unknown, used, revoked or expired is Unauthorized.
func RedeemSignIn(ctx context.Context, store SignInStore, code string, now time.Time) (Token, string, error) {
	canonical, err := ParseSignInCode(code)
	if err != nil {
		return Token{}, "", &Error{Kind: Unauthorized, Message: "invalid, used or expired sign-in code; ask for a new link", Err: err}
	}
	secret, hash := NewTokenSecret()
	t, err := store.RedeemSignInCode(ctx, HashSignInCode(canonical), hash, now)
	if err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}
