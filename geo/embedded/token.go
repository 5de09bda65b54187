package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// tokenRecord is the stored form of a token (its id is the key).
type tokenRecord struct {
	Name    string     `json:"name"`
	Role    geo.Role   `json:"role"`
	Hash    []byte     `json:"hash"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

func encodeToken(t geo.Token) ([]byte, error) {
	r := tokenRecord{Name: t.Name, Role: t.Role, Hash: t.Hash, Created: t.Created, Revoked: t.Revoked}
	if !t.Expires.IsZero() {
		r.Expires = &t.Expires
	}
	return json.Marshal(r)
}

// loadTokens reads every token into memory.
func (s *Store) loadTokens(tx *bolt.Tx) error {
	return tx.Bucket(tokensBucket).ForEach(func(k, v []byte) error {
		var r tokenRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("embedded: read token %s: %w", k, err)
		}
		t := geo.Token{ID: string(k), Name: r.Name, Role: r.Role, Hash: r.Hash, Created: r.Created, Revoked: r.Revoked}
		if r.Expires != nil {
			t.Expires = *r.Expires
		}
		s.remember(t)
		return nil
	})
}

// remember puts t into the in-memory index; the caller holds mu (or is
// loading).
func (s *Store) remember(t geo.Token) {
	s.tokens[t.ID] = t
	s.tokenByHash[string(t.Hash)] = t.ID
}

// putToken returns a write that stores t with its audit entry.
func putToken(t geo.Token, action geo.Action, before *geo.Feature) write {
	after := t.AuditFeature()
	return write{
		audit: []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: t.ID, Action: action,
			Version: after.Version, Before: before, After: after}},
		extra: func(tx *bolt.Tx) error {
			raw, err := encodeToken(t)
			if err != nil {
				return err
			}
			return tx.Bucket(tokensBucket).Put([]byte(t.ID), raw)
		},
	}
}

// CreateToken stores a new token (see geo.TokenStore).
func (s *Store) CreateToken(ctx context.Context, t geo.Token) error {
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	t = t.Normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[t.ID]; ok {
		return geo.Errorf(geo.Conflict, "token %q already exists", t.ID)
	}
	if _, ok := s.tokenByHash[string(t.Hash)]; ok {
		return geo.Errorf(geo.Conflict, "a token with that hash already exists")
	}
	if err := s.commit(ctx, now(), actor, putToken(t, geo.ActionCreate, nil)); err != nil {
		return err
	}
	s.remember(t)
	return nil
}

// TokenByHash returns the token whose hash is hash (see geo.TokenStore).
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (geo.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tokens[s.tokenByHash[string(hash)]]
	if !ok || !t.Matches(hash) {
		return geo.Token{}, geo.Errorf(geo.NotFound, "no such token")
	}
	return t.Normalize(), nil
}

// Tokens returns every token by creation time, then id.
func (s *Store) Tokens(ctx context.Context) ([]geo.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]geo.Token, 0, len(s.tokens))
	for _, t := range s.tokens {
		out = append(out, t.Normalize())
	}
	slices.SortFunc(out, func(a, b geo.Token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RevokeToken marks token id revoked now, or revokes the unused sign-in
// code of a token to come (see geo.TokenStore).
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if err := geo.CheckText("id", id); err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		if found, err := s.revokeSignIn(ctx, actor, id); found || err != nil {
			return err
		}
		return geo.Errorf(geo.NotFound, "no token %q", id)
	}
	if t.Revoked != nil {
		return nil
	}
	at := now()
	before := t.AuditFeature()
	t.Revoked = &at
	if err := s.commit(ctx, at, actor, putToken(t, geo.ActionRevoke, before)); err != nil {
		return err
	}
	s.remember(t)
	return nil
}
