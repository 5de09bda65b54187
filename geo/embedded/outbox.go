package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// The outbox (geo/outbox.go): one bucket keyed by the entry's id, in the
// order the steps were written. The store's lock serializes claims, so
// the lease alone keeps two claims apart.

// outboxRecord is an entry with its lease.
type outboxRecord struct {
	geo.Pending
	// Leased is when the current claim's lease runs out; zero when not
	// leased.
	Leased time.Time
}

// errStop ends a ForEach early.
var errStop = errors.New("stop")

func outboxKey(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// putPending adds p to the outbox, numbered by the bucket's sequence.
func putPending(tx *bolt.Tx, p geo.Pending) error {
	b := tx.Bucket(outboxBucket)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	p.ID = int64(id)
	raw, err := json.Marshal(outboxRecord{Pending: p})
	if err != nil {
		return err
	}
	return b.Put(outboxKey(p.ID), raw)
}

// ClaimPending leases due outbox entries (see geo.WaterStore).
func (s *Store) ClaimPending(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]geo.Pending, error) {
	if err := geo.CheckOutboxClaim(now, lease, limit); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []geo.Pending{}
	// The dispatcher looks every few seconds: a look that finds nothing
	// due must not cost a write (an fsync).
	due := false
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(outboxBucket).ForEach(func(_, v []byte) error {
			var r outboxRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if !r.Due.After(now) && !r.Leased.After(now) {
				due = true
				return errStop
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("embedded: read the outbox: %w", err)
	}
	if !due {
		return out, nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var r outboxRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.Due.After(now) || r.Leased.After(now) {
				continue
			}
			r.Attempts++
			r.Leased = now.Add(lease).UTC()
			raw, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(k, raw); err != nil {
				return err
			}
			out = append(out, r.Pending)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: claim the outbox: %w", err)
	}
	return out, nil
}

// FinishPending deletes or releases an outbox entry (see geo.WaterStore).
func (s *Store) FinishPending(ctx context.Context, id int64, attempts int, retry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		raw := b.Get(outboxKey(id))
		if raw == nil {
			return geo.ErrLeaseLost(id, attempts)
		}
		var r outboxRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if r.Attempts != attempts || r.Leased.IsZero() {
			return geo.ErrLeaseLost(id, attempts)
		}
		if retry.IsZero() {
			return b.Delete(outboxKey(id))
		}
		r.Due, r.Leased = retry.UTC().Truncate(time.Microsecond), time.Time{}
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put(outboxKey(id), raw)
	})
	if geo.KindOf(err) == geo.Conflict {
		return err
	}
	if err != nil {
		return fmt.Errorf("embedded: finish outbox entry %d: %w", id, err)
	}
	return nil
}
