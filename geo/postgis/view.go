package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// Read calls fn with a view of one read-only REPEATABLE READ transaction:
// every statement fn makes through the view sees the same snapshot, taken
// at its first statement. It returns fn's error as fn returned it (the
// view's methods wrap theirs), and wraps those of BEGIN and COMMIT.
func (s *Store) Read(ctx context.Context, fn func(geo.View) error) error {
	var fnErr error
	err := s.read(ctx, func(tx pgx.Tx) error {
		fnErr = fn(&view{s: s, tx: tx})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return fail(err, "postgis: read")
}

// view is the geo.View of Read: the store's tables and the transaction.
type view struct {
	s  *Store
	tx pgx.Tx
	// customPlans is set once the transaction plans every statement for
	// its own parameters, for the rest of it (SET LOCAL; see nearest).
	customPlans bool
	// stamps holds the stamps a page query has read along with its rows
	// (countedPage): the same snapshot, so Stamp need not ask again.
	stamps map[string]geo.Stamp
}

// remember keeps the stamp of c that a statement of the view has read.
func (v *view) remember(c string, st geo.Stamp) {
	if v.stamps == nil {
		v.stamps = map[string]geo.Stamp{}
	}
	v.stamps[c] = st
}

var _ geo.View = (*view)(nil)

// stampSQL reads a collection's data version and the time of its last
// write.
const stampSQL = `SELECT version, updated FROM collection_state WHERE collection = $1`

// Stamp returns the version of c and the time of its last write, from
// the collection's state row alone, or as a page of c read through the
// view had it.
func (v *view) Stamp(ctx context.Context, c string) (geo.Stamp, error) {
	if _, err := v.s.table(c); err != nil {
		return geo.Stamp{}, err
	}
	if st, ok := v.stamps[c]; ok {
		return st, nil
	}
	var (
		st      geo.Stamp
		updated *time.Time
	)
	err := v.tx.QueryRow(ctx, stampSQL, c).Scan(&st.Version, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("no collection_state row for %s (is the database migrated?)", c)
	}
	if err != nil {
		return geo.Stamp{}, fail(err, "postgis: stamp %s", c)
	}
	if updated != nil {
		st.Updated = updated.UTC()
	}
	return st, nil
}
