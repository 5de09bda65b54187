package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// auditRecord is the stored form of an audit entry (its seq is the key).
// The feature snapshots stay raw until an entry is returned, so that
// filtering and counting decode only the small fields.
type auditRecord struct {
	Time       time.Time       `json:"time"`
	ActorID    string          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	ActorRole  geo.Role        `json:"actor_role"`
	Collection string          `json:"collection"`
	FeatureID  string          `json:"feature_id"`
	Action     geo.Action      `json:"action"`
	Version    int64           `json:"version"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

// snapshot is the stored form of a feature in an audit entry.
type snapshot struct {
	ID string `json:"id"`
	jsonRecord
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func encodeSnapshot(f *geo.Feature) (json.RawMessage, error) {
	if f == nil {
		return nil, nil
	}
	r, err := toJSONRecord(f)
	if err != nil {
		return nil, err
	}
	return json.Marshal(snapshot{ID: f.ID, jsonRecord: r})
}

func decodeSnapshot(raw json.RawMessage) (*geo.Feature, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var sn struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &sn); err != nil {
		return nil, err
	}
	return decodeJSON(sn.ID, raw)
}

// appendAudit numbers entries from the audit bucket's sequence (which
// rolls back with tx) and stores them.
func appendAudit(tx *bolt.Tx, entries []geo.AuditEntry) error {
	b := tx.Bucket(auditBucket)
	for i := range entries {
		e := &entries[i]
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = int64(seq)
		r := auditRecord{Time: e.Time, ActorID: e.Actor.ID, ActorName: e.Actor.Name, ActorRole: e.Actor.Role,
			Collection: e.Collection, FeatureID: e.FeatureID, Action: e.Action, Version: e.Version}
		if r.Before, err = encodeSnapshot(e.Before); err != nil {
			return fmt.Errorf("audit before: %w", err)
		}
		if r.After, err = encodeSnapshot(e.After); err != nil {
			return fmt.Errorf("audit after: %w", err)
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(seq), raw); err != nil {
			return err
		}
	}
	return nil
}

// entry returns the entry stored under key; with data false it leaves
// Before and After nil.
func entry(key, raw []byte, data bool) (geo.AuditEntry, error) {
	var r auditRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return geo.AuditEntry{}, err
	}
	e := geo.AuditEntry{Seq: int64(binary.BigEndian.Uint64(key)), Time: r.Time,
		Actor:      geo.Actor{ID: r.ActorID, Name: r.ActorName, Role: r.ActorRole},
		Collection: r.Collection, FeatureID: r.FeatureID, Action: r.Action, Version: r.Version}
	if !data {
		return e, nil
	}
	var err error
	if e.Before, err = decodeSnapshot(r.Before); err != nil {
		return e, fmt.Errorf("before: %w", err)
	}
	if e.After, err = decodeSnapshot(r.After); err != nil {
		return e, fmt.Errorf("after: %w", err)
	}
	return e, nil
}

// Audit returns the audit entries matching q, newest first (oldest first
// when q.AfterSeq > 0), and the total that matched, from one read
// transaction. It scans the log: the embedded store serves one command
// post, whose log stays small enough.
func (s *Store) Audit(ctx context.Context, q geo.AuditQuery) ([]geo.AuditEntry, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	out := []geo.AuditEntry{}
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(auditBucket).Cursor()
		first, next := c.Last, c.Prev
		if q.Ascending() {
			first = func() ([]byte, []byte) { return c.Seek(seqKey(uint64(q.AfterSeq) + 1)) }
			next = c.Next
		}
		for k, v := first(); k != nil; k, v = next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			e, err := entry(k, v, false)
			if err != nil {
				return fmt.Errorf("read entry %x: %w", k, err)
			}
			if !q.Matches(e) {
				continue
			}
			total++
			if total <= q.Offset || q.Limit > 0 && len(out) >= q.Limit {
				continue
			}
			if e, err = entry(k, v, true); err != nil {
				return fmt.Errorf("read entry %d: %w", e.Seq, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("embedded: audit: %w", err)
	}
	return out, total, nil
}
