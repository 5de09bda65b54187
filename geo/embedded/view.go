package embedded

import (
	"context"
	"errors"

	"hazardmap/geo"
)

// Read calls fn with a view of the in-memory copy under the store's read
// lock: every read of fn sees the same state, and writes (which change
// memory only under the write lock) wait until fn returns.
func (s *Store) Read(ctx context.Context, fn func(geo.View) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := &view{s: s}
	defer func() { v.s = nil }()
	return fn(v)
}

// view is the geo.View of Read. Its methods take no lock of their own:
// Read holds the read lock for them, and taking it again could wait
// behind a writer that waits for Read.
type view struct {
	s *Store // nil once Read has returned
}

var _ geo.View = (*view)(nil)

// store returns the store while Read runs, or an error once it has
// returned (the view would read without the lock).
func (v *view) store() (*Store, error) {
	if v.s == nil {
		return nil, errors.New("embedded: View used after Read returned")
	}
	return v.s, nil
}

// Stamp returns the version of c and the time of its last write.
func (v *view) Stamp(ctx context.Context, c string) (geo.Stamp, error) {
	s, err := v.store()
	if err != nil {
		return geo.Stamp{}, err
	}
	if _, err := s.schema(c); err != nil {
		return geo.Stamp{}, err
	}
	st := s.collections[c].state
	return geo.Stamp{Version: st.Version, Updated: st.Updated}, nil
}
