package embedded

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// Changes returns at most geo.ChangeLimit(limit) changes after afterSeq,
// oldest first: a seek in the audit bucket, whose keys are the seqs.
func (s *Store) Changes(ctx context.Context, afterSeq int64, limit int) ([]geo.Change, error) {
	if afterSeq < 0 {
		return nil, geo.InvalidField("after_seq", "must not be negative")
	}
	n := geo.ChangeLimit(limit)
	out := []geo.Change{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(auditBucket).Cursor()
		for k, v := c.Seek(seqKey(uint64(afterSeq) + 1)); k != nil && len(out) < n; k, v = c.Next() {
			e, err := entry(k, v, false)
			if err != nil {
				return fmt.Errorf("read entry %x: %w", k, err)
			}
			out = append(out, e.Change())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: changes after %d: %w", afterSeq, err)
	}
	return out, nil
}

// Subscribe returns a channel signalled after every commit that added
// audit entries, in this process (the only one that can open the file).
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	return s.notifier.Subscribe(ctx)
}
