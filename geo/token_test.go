package geo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestNewTokenSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		secret, hash := NewTokenSecret()
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, TokenPrefix))
		if !strings.HasPrefix(secret, "hm_") || len(secret) != 46 || err != nil || len(raw) != 32 {
			t.Fatalf("NewTokenSecret() = %q: want hm_ and 32 bytes of unpadded base64url", secret)
		}
		if want := sha256.Sum256([]byte(secret)); !bytes.Equal(hash, want[:]) || !bytes.Equal(HashToken(secret), hash) {
			t.Fatalf("hash of %q is not its SHA-256", secret)
		}
		if seen[secret] {
			t.Fatalf("NewTokenSecret repeated %q", secret)
		}
		seen[secret] = true
	}
}

func TestTokenCheck(t *testing.T) {
	now := time.Date(2025, 7, 20, 8, 0, 0, 0, time.UTC)
	revoked := now.Add(-time.Hour)
	cases := []struct {
		name string
		tk   Token
		ok   bool
	}{
		{"never expires", Token{}, true},
		{"expires later", Token{Expires: now.Add(time.Second)}, true},
		{"expires now", Token{Expires: now}, false},
		{"expired", Token{Expires: now.Add(-time.Second)}, false},
		{"revoked", Token{Revoked: &revoked}, false},
	}
	for _, c := range cases {
		err := c.tk.Check(now)
		if (err == nil) != c.ok || err != nil && KindOf(err) != Unauthorized {
			t.Errorf("%s: Check = %v, want ok %v (else Unauthorized)", c.name, err, c.ok)
		}
	}
}

func TestTokenMatches(t *testing.T) {
	secret, hash := NewTokenSecret()
	tk := Token{Hash: hash}
	if !tk.Matches(HashToken(secret)) {
		t.Error("Matches(own hash) = false")
	}
	other := append([]byte(nil), hash...)
	other[31] ^= 1
	for _, h := range [][]byte{other, hash[:31], nil} {
		if tk.Matches(h) {
			t.Errorf("Matches(%x) = true", h)
		}
	}
	if (Token{}).Matches(nil) {
		t.Error("a token without hash matches an empty hash")
	}
}

func TestTokenAuditFeatureHasNoHash(t *testing.T) {
	_, hash := NewTokenSecret()
	now := time.Now()
	tk := Token{ID: "abc", Name: "城建局一队", Role: RoleCrew, Hash: hash, Created: now}
	f := tk.AuditFeature()
	if f.Version != 1 || f.Properties["revoked"] != nil || f.Properties["role"] != "crew" || f.Properties["expires"] != nil {
		t.Errorf("AuditFeature = %+v", f)
	}
	tk.Revoked = &now
	f = tk.AuditFeature()
	if f.Version != 2 || f.Properties["revoked"] == nil {
		t.Errorf("AuditFeature(revoked) = %+v", f)
	}
	for k, v := range f.Properties {
		if s, ok := v.(string); k == "hash" || ok && strings.Contains(s, string(hash)) {
			t.Errorf("AuditFeature records the hash in %s", k)
		}
	}
}

// tokenMap is a TokenStore in a map, for Authenticate.
type tokenMap map[string]Token

func (m tokenMap) CreateToken(ctx context.Context, t Token) error { m[string(t.Hash)] = t; return nil }
func (m tokenMap) TokenByHash(ctx context.Context, hash []byte) (Token, error) {
	t, ok := m[string(hash)]
	if !ok {
		return Token{}, Errorf(NotFound, "no token")
	}
	return t, nil
}
func (m tokenMap) Tokens(ctx context.Context) ([]Token, error)      { return nil, nil }
func (m tokenMap) RevokeToken(ctx context.Context, id string) error { return nil }

func TestAuthenticate(t *testing.T) {
	now := time.Now()
	ts := tokenMap{}
	good, goodHash := NewTokenSecret()
	old, oldHash := NewTokenSecret()
	ts.CreateToken(context.Background(), Token{ID: "g", Name: "一队", Role: RoleCrew, Hash: goodHash, Created: now})
	ts.CreateToken(context.Background(), Token{ID: "o", Name: "二队", Role: RoleCrew, Hash: oldHash, Created: now, Expires: now.Add(-time.Second)})
	a, err := Authenticate(context.Background(), ts, good, now)
	if err != nil || a != (Actor{ID: "g", Name: "一队", Role: RoleCrew}) {
		t.Errorf("Authenticate(good) = %+v, %v", a, err)
	}
	for _, secret := range []string{old, "", "hm_", good[3:], good + "x", strings.ToUpper(good)} {
		_, err := Authenticate(context.Background(), ts, secret, now)
		if e := AsError(err); e == nil || e.Kind != Unauthorized || e.Message != "invalid token" {
			t.Errorf("Authenticate(%q) = %v, want Unauthorized \"invalid token\"", secret, err)
		}
	}
}

func TestTokenValidate(t *testing.T) {
	_, hash := NewTokenSecret()
	now := time.Now()
	ok := Token{ID: NewID(), Name: "城建局一队", Role: RoleCrew, Hash: hash, Created: now}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	revoked := now
	for _, c := range []struct {
		edit  func(t *Token)
		field string
	}{
		{func(t *Token) { t.ID = "" }, "id"},
		{func(t *Token) { t.ID = SystemID }, "id"},
		{func(t *Token) { t.Name = "" }, "name"},
		{func(t *Token) { t.Name = strings.Repeat("队", 101) }, "name"},
		{func(t *Token) { t.Role = "" }, "role"},
		{func(t *Token) { t.Hash = nil }, "hash"},
		{func(t *Token) { t.Created = time.Time{} }, "created"},
		{func(t *Token) { t.Expires = now }, "expires"},
		{func(t *Token) { t.Revoked = &revoked }, "revoked"},
	} {
		tk := ok
		c.edit(&tk)
		e := AsError(tk.Validate())
		if e == nil || e.Kind != Invalid || e.Fields[0].Field != c.field {
			t.Errorf("Validate(bad %s) = %v", c.field, e)
		}
	}
}

func TestTokenStatus(t *testing.T) {
	now := time.Date(2025, 7, 20, 8, 0, 0, 0, time.UTC)
	revoked := now.Add(-time.Hour)
	for _, tc := range []struct {
		tk   Token
		want string
	}{
		{Token{}, TokenActive},
		{Token{Expires: now.Add(time.Second)}, TokenActive},
		{Token{Expires: now}, TokenExpired},
		{Token{Revoked: &revoked}, TokenRevoked},
		{Token{Revoked: &revoked, Expires: now.Add(-time.Minute)}, TokenRevoked},
	} {
		if got := tc.tk.Status(now); got != tc.want {
			t.Errorf("%+v.Status(now) = %q, want %q", tc.tk, got, tc.want)
		}
	}
}
