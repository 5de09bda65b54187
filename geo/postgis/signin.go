package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// signInColumns are the columns scanSignIn reads, in its order; token_ttl
// travels as microseconds.
const signInColumns = `hash, token_id, name, role, (extract(epoch FROM token_ttl) * 1000000)::bigint,
created, expires, used, revoked, issuer_id, issuer_name, issuer_role`

func scanSignIn(row pgx.Row) (geo.SignInCode, error) {
	var (
		c                geo.SignInCode
		role, issuerRole string
		ttl              *int64
	)
	err := row.Scan(&c.Hash, &c.TokenID, &c.Name, &role, &ttl, &c.Created, &c.Expires, &c.Used, &c.Revoked,
		&c.Issuer.ID, &c.Issuer.Name, &issuerRole)
	if err != nil {
		return c, err
	}
	c.Role, c.Issuer.Role = geo.Role(role), geo.Role(issuerRole)
	if ttl != nil {
		c.TokenTTL = time.Duration(*ttl) * time.Microsecond
	}
	return c.Normalize(), nil
}

// Statements of the sign-in codes.
const (
	// insertSignInSQL stores a code unless its hash or token id is taken,
	// as a code or (the id) as a token.
	insertSignInSQL = `
INSERT INTO signin_codes (hash, token_id, name, role, token_ttl, created, expires, issuer_id, issuer_name, issuer_role)
SELECT $1, $2, $3, $4, $5 * interval '1 microsecond', $6, $7, $8, $9, $10
WHERE NOT EXISTS (SELECT FROM tokens WHERE id = $2)
ON CONFLICT DO NOTHING`
	// redeemSignInSQL marks a usable code used: the row lock and the
	// re-check of "used IS NULL" after it make the exchange single use.
	redeemSignInSQL = `
UPDATE signin_codes SET used = $2
WHERE hash = $1 AND used IS NULL AND revoked IS NULL AND expires > $2
RETURNING ` + signInColumns
	lockSignInSQL   = `SELECT ` + signInColumns + ` FROM signin_codes WHERE token_id = $1 FOR UPDATE`
	revokeSignInSQL = `UPDATE signin_codes SET revoked = $2 WHERE token_id = $1`
)

// CreateSignInCode stores a new sign-in code and its audit entry in one
// transaction (see geo.SignInStore).
func (s *Store) CreateSignInCode(ctx context.Context, c geo.SignInCode) error {
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	if c, err = c.Receive(actor); err != nil {
		return err
	}
	var ttl *int64
	if c.TokenTTL > 0 {
		us := c.TokenTTL.Microseconds()
		ttl = &us
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertSignInSQL, c.Hash, c.TokenID, c.Name, string(c.Role), ttl, c.Created, c.Expires,
			actor.ID, actor.Name, string(actor.Role))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return geo.Errorf(geo.Conflict, "a sign-in code with that hash, or a code or token with id %q, already exists", c.TokenID)
		}
		return appendAudit(ctx, tx, actor, c.Created, []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: c.TokenID,
			Action: geo.ActionLink, After: c.AuditFeature()}})
	})
	return fail(err, "postgis: create sign-in code for %s", c.TokenID)
}

// RedeemSignInCode exchanges a code for a new token in one transaction
// (see geo.SignInStore).
func (s *Store) RedeemSignInCode(ctx context.Context, codeHash, tokenHash []byte, now time.Time) (geo.Token, error) {
	at := now.UTC().Truncate(time.Microsecond)
	var t geo.Token
	err := s.write(ctx, func(tx pgx.Tx) error {
		c, err := scanSignIn(tx.QueryRow(ctx, redeemSignInSQL, codeHash, at))
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.Unauthorized, "invalid, used or expired sign-in code; ask for a new link")
		}
		if err != nil {
			return err
		}
		t = c.Token(tokenHash, at)
		if err := t.Validate(); err != nil {
			return err
		}
		var expires *time.Time
		if !t.Expires.IsZero() {
			expires = &t.Expires
		}
		var stamp time.Time
		err = tx.QueryRow(ctx, insertTokenSQL, t.ID, t.Name, string(t.Role), t.Hash, t.Created, expires).Scan(&stamp)
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.Conflict, "a token with id %q or with that hash already exists", t.ID)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, c.Issuer, at, []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: t.ID,
			Action: geo.ActionCreate, Version: 1, After: t.AuditFeature()}})
	})
	if err != nil {
		return geo.Token{}, fail(err, "postgis: redeem sign-in code")
	}
	return t, nil
}

// revokeSignIn revokes the unused code for token id in tx, if there is
// one, and reports whether there was.
func revokeSignIn(ctx context.Context, tx pgx.Tx, actor geo.Actor, id string) (bool, error) {
	c, err := scanSignIn(tx.QueryRow(ctx, lockSignInSQL, id))
	if errors.Is(err, pgx.ErrNoRows) || err == nil && c.Used != nil {
		return false, nil
	}
	if err != nil || c.Revoked != nil {
		return err == nil, err
	}
	before := c.AuditFeature()
	at := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := tx.Exec(ctx, revokeSignInSQL, id, at); err != nil {
		return true, err
	}
	c.Revoked = &at
	return true, appendAudit(ctx, tx, actor, at, []geo.AuditEntry{{Collection: geo.TokensCollection, FeatureID: id,
		Action: geo.ActionRevoke, Before: before, After: c.AuditFeature()}})
}
