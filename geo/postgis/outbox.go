package postgis

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// The outbox of alert deliveries (geo/outbox.go, migrations/007_outbox.sql).

// Statements of the outbox.
const (
	insertPendingSQL = `
INSERT INTO outbox (alert_id, alert_version, created, due) VALUES ($1, $2, $3, $3)
ON CONFLICT (alert_id, alert_version) DO NOTHING`
	// claimPendingSQL leases the oldest due rows that no running lease
	// holds. FOR UPDATE SKIP LOCKED: a row another instance is claiming
	// at this moment is passed over rather than waited for, and the lease
	// keeps it from the claims that come after that one commits.
	claimPendingSQL = `
WITH c AS (
    SELECT id FROM outbox
    WHERE due <= $1 AND (leased IS NULL OR leased <= $1)
    ORDER BY id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o SET attempts = o.attempts + 1, leased = $2
FROM c WHERE o.id = c.id
RETURNING o.id, o.alert_id, o.alert_version, o.created, o.due, o.attempts`
	deletePendingSQL  = `DELETE FROM outbox WHERE id = $1 AND attempts = $2 AND leased IS NOT NULL`
	releasePendingSQL = `UPDATE outbox SET due = $3, leased = NULL WHERE id = $1 AND attempts = $2 AND leased IS NOT NULL`
)

// putPending adds the outbox entry of alert a's current step in tx.
func putPending(ctx context.Context, tx pgx.Tx, a geo.Alert) error {
	p := geo.PendingOf(a)
	_, err := tx.Exec(ctx, insertPendingSQL, p.AlertID, p.AlertVersion, p.Created)
	return err
}

// ClaimPending leases due outbox entries (see geo.WaterStore).
func (s *Store) ClaimPending(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]geo.Pending, error) {
	if err := geo.CheckOutboxClaim(now, lease, limit); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, claimPendingSQL, now, now.Add(lease), limit)
	if err != nil {
		return nil, fail(err, "postgis: claim the outbox")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Pending, error) {
		var p geo.Pending
		err := r.Scan(&p.ID, &p.AlertID, &p.AlertVersion, &p.Created, &p.Due, &p.Attempts)
		p.Created, p.Due = p.Created.UTC(), p.Due.UTC()
		return p, err
	})
	if err != nil {
		return nil, fail(err, "postgis: claim the outbox")
	}
	if out == nil {
		out = []geo.Pending{}
	}
	slices.SortFunc(out, func(a, b geo.Pending) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// FinishPending deletes or releases an outbox entry (see geo.WaterStore).
func (s *Store) FinishPending(ctx context.Context, id int64, attempts int, retry time.Time) error {
	var (
		n   int64
		err error
	)
	if retry.IsZero() {
		tag, e := s.pool.Exec(ctx, deletePendingSQL, id, attempts)
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := s.pool.Exec(ctx, releasePendingSQL, id, attempts, retry)
		n, err = tag.RowsAffected(), e
	}
	if err != nil {
		return fail(err, "postgis: finish outbox entry %d", id)
	}
	if n == 0 {
		return geo.ErrLeaseLost(id, attempts)
	}
	return nil
}
