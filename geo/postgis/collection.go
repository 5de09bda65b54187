package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// Collections returns the state of every collection, in geo.Schemas order.
func (v *view) Collections(ctx context.Context) ([]geo.CollectionInfo, error) {
	out := make([]geo.CollectionInfo, 0, len(v.s.order))
	for _, c := range v.s.order {
		in, err := collectionInfo(ctx, v.tx, v.s.tables[c])
		if err != nil {
			return nil, fail(err, "postgis: collections")
		}
		out = append(out, in)
	}
	return out, nil
}

// Collection returns the state of collection c.
func (v *view) Collection(ctx context.Context, c string) (geo.CollectionInfo, error) {
	t, err := v.s.table(c)
	if err != nil {
		return geo.CollectionInfo{}, err
	}
	in, err := collectionInfo(ctx, v.tx, t)
	if err != nil {
		return geo.CollectionInfo{}, fail(err, "postgis: collection %s", c)
	}
	return in, nil
}

// collectionSQL counts the features of a table, those with a geometry and
// their extent, beside the collection's state.
const collectionSQL = `
SELECT s.version, s.updated, c.n, c.located,
       ST_XMin(c.extent), ST_YMin(c.extent), ST_XMax(c.extent), ST_YMax(c.extent)
FROM collection_state AS s,
     (SELECT count(*) AS n, count(geom) AS located, ST_Extent(geom) AS extent FROM {table}) AS c
WHERE s.collection = $1`

func collectionInfo(ctx context.Context, tx pgx.Tx, t *table) (geo.CollectionInfo, error) {
	in := geo.CollectionInfo{ID: t.schema.ID}
	var (
		updated                *time.Time
		xmin, ymin, xmax, ymax *float64
	)
	err := tx.QueryRow(ctx, t.sql(collectionSQL), t.schema.ID).
		Scan(&in.Version, &updated, &in.Count, &in.Located, &xmin, &ymin, &xmax, &ymax)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, fmt.Errorf("no collection_state row for %s (is the database migrated?)", t.schema.ID)
	}
	if err != nil {
		return in, err
	}
	if updated != nil {
		in.Updated = updated.UTC()
	}
	if xmin != nil && ymin != nil && xmax != nil && ymax != nil {
		in.Extent = &orb.Bound{Min: orb.Point{*xmin, *ymin}, Max: orb.Point{*xmax, *ymax}}
	}
	return in, nil
}

// stateVersionSQL reads a collection's data version.
const stateVersionSQL = `SELECT version FROM collection_state WHERE collection = $1`

// Version returns the version of c. It is asked on every request, so it
// is answered from memory while the change listener keeps the answer
// current (versions, version.go; Version starts the listener); otherwise
// it is one statement and one round trip (a single statement is a
// transaction of its own; an explicit BEGIN and COMMIT would triple the
// round trips and add nothing).
func (s *Store) Version(ctx context.Context, c string) (int64, error) {
	if _, err := s.table(c); err != nil {
		return 0, err
	}
	s.startListener()
	now := time.Now()
	v, ok, epoch := s.versions.get(c, now)
	if ok {
		return v, nil
	}
	err := s.pool.QueryRow(ctx, stateVersionSQL, c).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("no collection_state row for %s (is the database migrated?)", c)
	}
	if err != nil {
		return 0, fail(err, "postgis: version %s", c)
	}
	s.versions.put(c, v, epoch, now)
	return v, nil
}
