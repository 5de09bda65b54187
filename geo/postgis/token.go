package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// tokenColumns are the columns scanToken reads, in its order.
const tokenColumns = `id, name, role, hash, created, expires, revoked`

// scanToken reads one row of tokenColumns.
func scanToken(row pgx.Row) (geo.Token, error) {
	var (
		t       geo.Token
		role    string
		expires *time.Time
	)
	if err := row.Scan(&t.ID, &t.Name, &role, &t.Hash, &t.Created, &expires, &t.Revoked); err != nil {
		return t, err
	}
	t.Role = geo.Role(role)
	if expires != nil {
		t.Expires = *expires
	}
	return t.Normalize(), nil
}

// insertTokenSQL stores a token unless its id or hash is taken, and
// returns the time of the write.
const insertTokenSQL = `
INSERT INTO tokens (id, name, role, hash, created, expires, revoked)
VALUES ($1, $2, $3, $4, $5, $6, NULL)
ON CONFLICT DO NOTHING
RETURNING clock_timestamp()`

// CreateToken stores a new token and its audit entry in one transaction
// (see geo.TokenStore).
func (s *Store) CreateToken(ctx context.Context, t geo.Token) error {
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	t = t.Normalize()
	var expires *time.Time
	if !t.Expires.IsZero() {
		expires = &t.Expires
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		var now time.Time
		err := tx.QueryRow(ctx, insertTokenSQL, t.ID, t.Name, string(t.Role), t.Hash, t.Created, expires).Scan(&now)
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.Conflict, "a token with id %q or with that hash already exists", t.ID)
		}
		if err != nil {
			return err
		}
		after := t.AuditFeature()
		return appendAudit(ctx, tx, actor, now.UTC(), []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: t.ID,
			Action: geo.ActionCreate, Version: after.Version, After: after}})
	})
	return fail(err, "postgis: create token %s", t.ID)
}

// tokenByHashSQL finds a token through the unique index on hash.
const tokenByHashSQL = `SELECT ` + tokenColumns + ` FROM tokens WHERE hash = $1`

// TokenByHash returns the token whose hash is hash, confirmed in constant
// time (see geo.TokenStore). One statement: it is asked on every
// authenticated request.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (geo.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, tokenByHashSQL, hash))
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !t.Matches(hash) {
		return geo.Token{}, geo.Errorf(geo.NotFound, "no such token")
	}
	if err != nil {
		return geo.Token{}, fail(err, "postgis: token by hash")
	}
	return t, nil
}

// tokensSQL lists every token.
const tokensSQL = `SELECT ` + tokenColumns + ` FROM tokens ORDER BY created, id`

// Tokens returns every token by creation time, then id.
func (s *Store) Tokens(ctx context.Context) ([]geo.Token, error) {
	out := []geo.Token{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, tokensSQL)
		if err != nil {
			return err
		}
		ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Token, error) { return scanToken(r) })
		out = append(out, ts...)
		return err
	})
	if err != nil {
		return nil, fail(err, "postgis: tokens")
	}
	return out, nil
}

// Statements of RevokeToken.
const (
	lockTokenSQL   = `SELECT ` + tokenColumns + ` FROM tokens WHERE id = $1 FOR UPDATE`
	revokeTokenSQL = `UPDATE tokens SET revoked = clock_timestamp() WHERE id = $1 RETURNING revoked`
)

// RevokeToken marks token id revoked now, or revokes the unused sign-in
// code of a token to come, with its audit entry, in one transaction (see
// geo.TokenStore).
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if err := geo.CheckText("id", id); err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		t, err := scanToken(tx.QueryRow(ctx, lockTokenSQL, id))
		if errors.Is(err, pgx.ErrNoRows) {
			if found, err := revokeSignIn(ctx, tx, actor, id); found || err != nil {
				return err
			}
			return geo.Errorf(geo.NotFound, "no token %q", id)
		}
		if err != nil || t.Revoked != nil {
			return err
		}
		before := t.AuditFeature()
		var at time.Time
		if err := tx.QueryRow(ctx, revokeTokenSQL, id).Scan(&at); err != nil {
			return err
		}
		t.Revoked = &at
		t = t.Normalize()
		after := t.AuditFeature()
		return appendAudit(ctx, tx, actor, *t.Revoked, []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: id,
			Action: geo.ActionRevoke, Version: after.Version, Before: before, After: after}})
	})
	return fail(err, "postgis: revoke token %s", id)
}
