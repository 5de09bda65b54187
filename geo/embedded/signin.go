package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// signInBucket holds the sign-in codes: hash → signInRecord.
var signInBucket = []byte("signin_codes")

// signInRecord is the stored form of a geo.SignInCode (its hash is the
// key).
type signInRecord struct {
	TokenID    string        `json:"token_id"`
	Name       string        `json:"name"`
	Role       geo.Role      `json:"role"`
	TokenTTL   time.Duration `json:"token_ttl,omitempty"`
	Created    time.Time     `json:"created"`
	Expires    time.Time     `json:"expires"`
	Used       *time.Time    `json:"used,omitempty"`
	Revoked    *time.Time    `json:"revoked,omitempty"`
	IssuerID   string        `json:"issuer_id"`
	IssuerName string        `json:"issuer_name"`
	IssuerRole geo.Role      `json:"issuer_role"`
}

func decodeSignIn(hash, raw []byte) (geo.SignInCode, error) {
	var r signInRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return geo.SignInCode{}, fmt.Errorf("read sign-in code: %w", err)
	}
	return geo.SignInCode{Hash: append([]byte(nil), hash...), TokenID: r.TokenID, Name: r.Name, Role: r.Role, TokenTTL: r.TokenTTL,
		Created: r.Created, Expires: r.Expires, Used: r.Used, Revoked: r.Revoked,
		Issuer: geo.Actor{ID: r.IssuerID, Name: r.IssuerName, Role: r.IssuerRole}}, nil
}

func putSignIn(tx *bolt.Tx, c geo.SignInCode) error {
	raw, err := json.Marshal(signInRecord{TokenID: c.TokenID, Name: c.Name, Role: c.Role, TokenTTL: c.TokenTTL,
		Created: c.Created, Expires: c.Expires, Used: c.Used, Revoked: c.Revoked,
		IssuerID: c.Issuer.ID, IssuerName: c.Issuer.Name, IssuerRole: c.Issuer.Role})
	if err != nil {
		return err
	}
	return tx.Bucket(signInBucket).Put(c.Hash, raw)
}

// signInByToken returns the code whose TokenID is id, if any: a scan, as
// codes are few (one per phone signed in).
func signInByToken(tx *bolt.Tx, id string) (*geo.SignInCode, error) {
	var found *geo.SignInCode
	err := tx.Bucket(signInBucket).ForEach(func(k, v []byte) error {
		if found != nil {
			return nil
		}
		c, err := decodeSignIn(k, v)
		if err == nil && c.TokenID == id {
			found = &c
		}
		return err
	})
	return found, err
}

// CreateSignInCode stores a new sign-in code and its audit entry (see
// geo.SignInStore).
func (s *Store) CreateSignInCode(ctx context.Context, c geo.SignInCode) error {
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	if c, err = c.Receive(actor); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[c.TokenID]; ok {
		return geo.Errorf(geo.Conflict, "token %q already exists", c.TokenID)
	}
	after := c.AuditFeature()
	return s.commit(ctx, c.Created, actor, write{
		audit: []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: c.TokenID, Action: geo.ActionLink, After: after}},
		extra: func(tx *bolt.Tx) error {
			if tx.Bucket(signInBucket).Get(c.Hash) != nil {
				return geo.Errorf(geo.Conflict, "a sign-in code with that hash already exists")
			}
			if other, err := signInByToken(tx, c.TokenID); err != nil || other != nil {
				if err == nil {
					err = geo.Errorf(geo.Conflict, "a sign-in code for token %q already exists", c.TokenID)
				}
				return err
			}
			return putSignIn(tx, c)
		},
	})
}

// RedeemSignInCode exchanges a code for a new token in one transaction
// (see geo.SignInStore). Exchanges are serialized by mu, so a code is
// used once.
func (s *Store) RedeemSignInCode(ctx context.Context, codeHash, tokenHash []byte, now time.Time) (geo.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c geo.SignInCode
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(signInBucket).Get(codeHash)
		if raw == nil {
			return geo.Errorf(geo.Unauthorized, "invalid, used or expired sign-in code; ask for a new link")
		}
		var err error
		c, err = decodeSignIn(codeHash, raw)
		return err
	})
	if err != nil {
		if geo.AsError(err) != nil {
			return geo.Token{}, err
		}
		return geo.Token{}, fmt.Errorf("embedded: redeem sign-in code: %w", err)
	}
	if err := c.Check(now); err != nil {
		return geo.Token{}, err
	}
	at := now.UTC().Truncate(time.Microsecond)
	t := c.Token(tokenHash, at)
	if err := t.Validate(); err != nil {
		return geo.Token{}, err
	}
	if _, ok := s.tokenByHash[string(t.Hash)]; ok {
		return geo.Token{}, geo.Errorf(geo.Conflict, "a token with that hash already exists")
	}
	if _, ok := s.tokens[t.ID]; ok {
		return geo.Token{}, geo.Errorf(geo.Conflict, "token %q already exists", t.ID)
	}
	c.Used = &at
	w := putToken(t, geo.ActionCreate, nil)
	putTok := w.extra
	w.extra = func(tx *bolt.Tx) error {
		if err := putSignIn(tx, c); err != nil {
			return err
		}
		return putTok(tx)
	}
	if err := s.commit(ctx, at, c.Issuer, w); err != nil {
		return geo.Token{}, err
	}
	s.remember(t)
	return t, nil
}

// revokeSignIn revokes the unused code for token id, if there is one, and
// reports whether there was. The caller holds mu.
func (s *Store) revokeSignIn(ctx context.Context, actor geo.Actor, id string) (bool, error) {
	var c *geo.SignInCode
	if err := s.db.View(func(tx *bolt.Tx) (err error) { c, err = signInByToken(tx, id); return err }); err != nil {
		return false, fmt.Errorf("embedded: revoke sign-in code for %s: %w", id, err)
	}
	if c == nil || c.Used != nil {
		return false, nil
	}
	if c.Revoked != nil {
		return true, nil
	}
	at := now()
	before := c.AuditFeature()
	c.Revoked = &at
	after := c.AuditFeature()
	rc := *c
	return true, s.commit(ctx, at, actor, write{
		audit: []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: id, Action: geo.ActionRevoke, Before: before, After: after}},
		extra: func(tx *bolt.Tx) error { return putSignIn(tx, rc) },
	})
}
