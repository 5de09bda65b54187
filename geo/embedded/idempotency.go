package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// Buckets of the idempotency keys: the records by key, and an index by
// expiry (expires as Unix microseconds, 8 bytes big-endian, then the key →
// nothing) so that pruning reads only what expired.
var (
	idempotencyBucket       = []byte("idempotency")
	idempotencyExpiryBucket = []byte("idempotency_expiry")
)

// idempotencyRecord is the stored form of a geo.IdempotencyRecord.
type idempotencyRecord struct {
	Fingerprint []byte              `json:"fingerprint"`
	Nonce       []byte              `json:"nonce"`
	Claimed     time.Time           `json:"claimed"`
	Expires     time.Time           `json:"expires"`
	Status      int                 `json:"status,omitempty"`
	Header      map[string][]string `json:"header,omitempty"`
	Body        []byte              `json:"body,omitempty"`
}

func expiryKey(expires time.Time, key string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(expires.UnixMicro())), key...)
}

// getKey reads the record of key from tx, nil when there is none.
func getKey(tx *bolt.Tx, key string) (*geo.IdempotencyRecord, error) {
	raw := tx.Bucket(idempotencyBucket).Get([]byte(key))
	if raw == nil {
		return nil, nil
	}
	var r idempotencyRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("read idempotency key %q: %w", key, err)
	}
	out := &geo.IdempotencyRecord{Key: key, Fingerprint: r.Fingerprint, Nonce: r.Nonce, Claimed: r.Claimed, Expires: r.Expires}
	if r.Status != 0 {
		out.Response = &geo.StoredResponse{Status: r.Status, Header: r.Header, Body: r.Body}
	}
	return out, nil
}

// putKey stores r in place of old (nil when there is none), keeping the
// expiry index in step.
func putKey(tx *bolt.Tx, old, r *geo.IdempotencyRecord) error {
	if old != nil {
		if err := tx.Bucket(idempotencyExpiryBucket).Delete(expiryKey(old.Expires, old.Key)); err != nil {
			return err
		}
	}
	rec := idempotencyRecord{Fingerprint: r.Fingerprint, Nonce: r.Nonce, Claimed: r.Claimed, Expires: r.Expires}
	if resp := r.Response; resp != nil {
		rec.Status, rec.Header, rec.Body = resp.Status, resp.Header, resp.Body
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := tx.Bucket(idempotencyBucket).Put([]byte(r.Key), raw); err != nil {
		return err
	}
	return tx.Bucket(idempotencyExpiryBucket).Put(expiryKey(r.Expires, r.Key), nil)
}

// deleteKey removes r and its index entry.
func deleteKey(tx *bolt.Tx, r *geo.IdempotencyRecord) error {
	if err := tx.Bucket(idempotencyExpiryBucket).Delete(expiryKey(r.Expires, r.Key)); err != nil {
		return err
	}
	return tx.Bucket(idempotencyBucket).Delete([]byte(r.Key))
}

// ClaimIdempotencyKey decides on key (see geo.IdempotencyStore): in a
// read transaction, and when that grants a claim, again in a writing one,
// which stores it. bbolt runs one writing transaction at a time, so of
// concurrent claims one is granted; a replay or a refusal costs no write.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, key string, fingerprint []byte, now time.Time) (geo.IdempotencyClaim, error) {
	if err := geo.CheckClaim(key, fingerprint, now); err != nil {
		return geo.IdempotencyClaim{}, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	var c geo.IdempotencyClaim
	decide := func(tx *bolt.Tx) (*geo.IdempotencyRecord, *geo.IdempotencyRecord, error) {
		old, err := getKey(tx, key)
		if err != nil {
			return nil, nil, err
		}
		var r *geo.IdempotencyRecord
		c, r = geo.Decide(old, key, fingerprint, now)
		return old, r, nil
	}
	var grant bool
	err := s.db.View(func(tx *bolt.Tx) error {
		_, r, err := decide(tx)
		grant = r != nil
		return err
	})
	if err == nil && grant {
		err = s.db.Update(func(tx *bolt.Tx) error {
			old, r, err := decide(tx)
			if err != nil || r == nil {
				return err
			}
			return putKey(tx, old, r)
		})
	}
	if err != nil {
		return geo.IdempotencyClaim{}, fmt.Errorf("embedded: claim idempotency key: %w", err)
	}
	return c, nil
}

// ReleaseIdempotencyKey forgets claim c if it is still in flight with its
// nonce. A completed claim (the usual case) costs a read only.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, c geo.IdempotencyClaim) error {
	if c.Outcome != geo.IdempotencyClaimed {
		return nil
	}
	held := func(tx *bolt.Tx) (*geo.IdempotencyRecord, error) {
		r, err := getKey(tx, c.Key)
		if err != nil || r == nil || r.Response != nil || !bytes.Equal(r.Nonce, c.Nonce) {
			return nil, err
		}
		return r, nil
	}
	var inFlight bool
	err := s.db.View(func(tx *bolt.Tx) error {
		r, err := held(tx)
		inFlight = r != nil
		return err
	})
	if err == nil && inFlight {
		err = s.db.Update(func(tx *bolt.Tx) error {
			r, err := held(tx)
			if err != nil || r == nil {
				return err
			}
			return deleteKey(tx, r)
		})
	}
	if err != nil {
		return fmt.Errorf("embedded: release idempotency key: %w", err)
	}
	return nil
}

// PruneIdempotencyKeys deletes at most limit records that expired before
// now, reading the expiry index from its start.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, geo.InvalidField("limit", "must be at least 1")
	}
	end := uint64(now.UnixMicro())
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		var expired [][]byte
		c := tx.Bucket(idempotencyExpiryBucket).Cursor()
		for k, _ := c.First(); k != nil && len(expired) < limit; k, _ = c.Next() {
			if len(k) < 8 || binary.BigEndian.Uint64(k) >= end {
				break
			}
			expired = append(expired, append([]byte(nil), k...))
		}
		for _, k := range expired {
			if err := tx.Bucket(idempotencyExpiryBucket).Delete(k); err != nil {
				return err
			}
			if err := tx.Bucket(idempotencyBucket).Delete(k[8:]); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: prune idempotency keys: %w", err)
	}
	return n, nil
}

// completeClaim records the answer of the idempotent write that ctx may
// carry, inside the write's transaction tx: the claim must still hold its
// key (else geo.ErrClaimLost, and the write rolls back). A write that
// appended no audit entries wrote nothing and completes nothing.
func completeClaim(ctx context.Context, tx *bolt.Tx, res geo.WriteResult) error {
	i := geo.IdempotentFrom(ctx)
	if i == nil || len(res.Entries) == 0 {
		return nil
	}
	old, err := getKey(tx, i.Claim.Key)
	if err != nil {
		return err
	}
	if old == nil || old.Response != nil || !bytes.Equal(old.Nonce, i.Claim.Nonce) {
		return geo.ErrClaimLost(i.Claim.Key)
	}
	resp, err := i.Answer(res)
	if err != nil {
		return err
	}
	return putKey(tx, old, i.Claim.Completed(resp))
}
