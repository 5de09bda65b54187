package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// Statements of the idempotency keys (migrations/004).
const (
	selectKeySQL = `
SELECT fingerprint, nonce, claimed, expires, status, header, body
FROM idempotency_keys WHERE key = $1`
	lockKeySQL = selectKeySQL + ` FOR UPDATE`
	// insertKeySQL claims a key nobody holds. Of concurrent inserts of one
	// key the primary key lets one through; the others wait for it to
	// commit and then insert nothing.
	insertKeySQL = `
INSERT INTO idempotency_keys (key, fingerprint, nonce, claimed, expires)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key) DO NOTHING`
	reclaimKeySQL = `
UPDATE idempotency_keys
SET fingerprint = $2, nonce = $3, claimed = $4, expires = $5, status = NULL, header = NULL, body = NULL
WHERE key = $1`
	// completeKeySQL records the answer of claim ($1, $2) if it still
	// holds its key, in the transaction of the write it answers.
	completeKeySQL = `
UPDATE idempotency_keys SET status = $3, header = $4, body = $5, expires = $6
WHERE key = $1 AND nonce = $2 AND status IS NULL`
	releaseKeySQL = `DELETE FROM idempotency_keys WHERE key = $1 AND nonce = $2 AND status IS NULL`
	// pruneKeysSQL deletes at most $2 expired keys, oldest first, skipping
	// any that a claim has locked this moment.
	pruneKeysSQL = `
DELETE FROM idempotency_keys WHERE key IN (
    SELECT key FROM idempotency_keys WHERE expires < $1 ORDER BY expires LIMIT $2 FOR UPDATE SKIP LOCKED)`
)

// selectKey reads the record of key with q (selectKeySQL, or lockKeySQL
// in a transaction); nil when there is none.
func selectKey(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, q, key string) (*geo.IdempotencyRecord, error) {
	r := &geo.IdempotencyRecord{Key: key}
	var (
		status *int
		header []byte
		body   []byte
	)
	err := db.QueryRow(ctx, q, key).Scan(&r.Fingerprint, &r.Nonce, &r.Claimed, &r.Expires, &status, &header, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.Claimed, r.Expires = r.Claimed.UTC(), r.Expires.UTC()
	if status != nil {
		r.Response = &geo.StoredResponse{Status: *status, Body: body}
		if err := json.Unmarshal(header, &r.Response.Header); err != nil {
			return nil, fmt.Errorf("header of key %q: %w", key, err)
		}
		if r.Response.Body == nil {
			r.Response.Body = []byte{}
		}
	}
	return r, nil
}

// ClaimIdempotencyKey decides on key (see geo.IdempotencyStore): first
// with one plain read, which settles a replay or a refusal without a
// transaction that writes; when that would grant a claim, again in a
// transaction that locks the row (or inserts it) and stores the claim.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, key string, fingerprint []byte, now time.Time) (geo.IdempotencyClaim, error) {
	if err := geo.CheckClaim(key, fingerprint, now); err != nil {
		return geo.IdempotencyClaim{}, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	old, err := selectKey(ctx, s.pool, selectKeySQL, key)
	if err != nil {
		return geo.IdempotencyClaim{}, fail(err, "postgis: read idempotency key")
	}
	c, r := geo.Decide(old, key, fingerprint, now)
	if r == nil {
		return c, nil
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		// Two rounds at most: a claim that loses the race to insert reads
		// the winner's row in the second.
		for range 2 {
			old, err := selectKey(ctx, tx, lockKeySQL, key)
			if err != nil {
				return err
			}
			var r *geo.IdempotencyRecord
			if c, r = geo.Decide(old, key, fingerprint, now); r == nil {
				return nil
			}
			if old != nil {
				_, err := tx.Exec(ctx, reclaimKeySQL, key, r.Fingerprint, r.Nonce, r.Claimed, r.Expires)
				return err
			}
			tag, err := tx.Exec(ctx, insertKeySQL, key, r.Fingerprint, r.Nonce, r.Claimed, r.Expires)
			if err != nil || tag.RowsAffected() == 1 {
				return err
			}
		}
		return fmt.Errorf("key %q: lost the race to claim it twice", key)
	})
	if err != nil {
		return geo.IdempotencyClaim{}, fail(err, "postgis: claim idempotency key")
	}
	return c, nil
}

// ReleaseIdempotencyKey forgets claim c if it is still in flight with its
// nonce.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, c geo.IdempotencyClaim) error {
	if c.Outcome != geo.IdempotencyClaimed {
		return nil
	}
	_, err := s.pool.Exec(ctx, releaseKeySQL, c.Key, c.Nonce)
	return fail(err, "postgis: release idempotency key")
}

// PruneIdempotencyKeys deletes at most limit records that expired before
// now, through the expires index.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, geo.InvalidField("limit", "must be at least 1")
	}
	tag, err := s.pool.Exec(ctx, pruneKeysSQL, now, limit)
	if err != nil {
		return 0, fail(err, "postgis: prune idempotency keys")
	}
	return int(tag.RowsAffected()), nil
}

// completeClaim records the answer of the idempotent write that ctx may
// carry, in the write's transaction tx: if the claim no longer holds its
// key the write fails with geo.ErrClaimLost and rolls back. A write that
// appended no audit entries wrote nothing and completes nothing.
func completeClaim(ctx context.Context, tx pgx.Tx, res geo.WriteResult) error {
	i := geo.IdempotentFrom(ctx)
	if i == nil || len(res.Entries) == 0 {
		return nil
	}
	resp, err := i.Answer(res)
	if err != nil {
		return err
	}
	header, err := json.Marshal(resp.Header)
	if err != nil {
		return err
	}
	if resp.Header == nil {
		header = []byte(`{}`)
	}
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	done := i.Claim.Completed(resp)
	tag, err := tx.Exec(ctx, completeKeySQL, i.Claim.Key, i.Claim.Nonce, resp.Status, header, body, done.Expires)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return geo.ErrClaimLost(i.Claim.Key)
	}
	return nil
}
