package postgis

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// Exact nearest depots on PostGIS. The KNN operator on geography (<->,
// served by the GiST index of migration 003) orders by a sphere, not by
// the WGS-84 spheroid that ST_Distance(geography, geography, true) and
// this store answer with, so the statement below uses the sphere only to
// find candidates, in two steps per query point q (as geo.Index does):
//
//  1. Take the K kept depots nearest to q by sphere and let w be the
//     largest of their spheroid distances: every depot of the answer is
//     within w.
//  2. Gather every kept depot within 1.01·w by sphere (ST_DWithin,
//     index-assisted), rank them by (spheroid distance, id), keep K.
//
// Step 2 misses nothing because the sphere distance is at most 1.005614
// times the spheroid distance: NEAREST.md has the proof.
//
// Depots are Points (geo.Schemas allows no other type for them), so the
// distance to a depot is the distance to its point, as in the embedded
// store. The statement does not test the geometry type: such a test
// misleads the planner's row estimate into a sequential scan.
//
// Filters: a category is pushed into SQL (properties @> the GIN-indexed
// list). Readiness rules live in Go (geo.DepotReadiness) and nowhere else,
// so when the filter asks for readiness the store reads the depots'
// properties in the same snapshot, applies geo.DepotFilter there, and
// pushes the ids it keeps into SQL (id = ANY).

// nearestChunk is how many query points go into one statement: large
// batches (a reach over every hazard) stream as several statements in the
// same snapshot, so no one statement holds an unbounded result.
const nearestChunk = 20000

// Statements of NearestDepots. $1 and $2 are the longitudes and latitudes
// of the query points, $3 is K, $4 a {"categories": [c]} document or NULL,
// $5 the ids to keep or NULL. The 1.01 and the 1 µm are explained in
// NEAREST.md.
const (
	nearestSQL = `
WITH q AS (
    SELECT u.i, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326)::geography AS pt
    FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, i)
)
SELECT q.i, n.id, n.lon, n.lat, n.dist
FROM q
CROSS JOIN LATERAL (
    SELECT max(ST_Distance(c.g, q.pt, true)) AS w
    FROM (
        SELECT d.geom::geography AS g
        FROM depots d
        WHERE d.geom IS NOT NULL
          AND ($4::jsonb IS NULL OR d.properties @> $4::jsonb)
          AND ($5::text[] IS NULL OR d.id = ANY($5::text[]))
        ORDER BY d.geom::geography <-> q.pt
        LIMIT $3
    ) c
) b
CROSS JOIN LATERAL (
    SELECT d.id, ST_X(d.geom) AS lon, ST_Y(d.geom) AS lat,
           ST_Distance(d.geom::geography, q.pt, true) AS dist
    FROM depots d
    WHERE b.w IS NOT NULL AND d.geom IS NOT NULL
      AND ($4::jsonb IS NULL OR d.properties @> $4::jsonb)
      AND ($5::text[] IS NULL OR d.id = ANY($5::text[]))
      AND ST_DWithin(d.geom::geography, q.pt, b.w * 1.01 + 0.000001, false)
    ORDER BY dist, d.id
    LIMIT $3
) n
ORDER BY q.i, n.dist, n.id`

	// customPlansSQL makes the transaction plan each statement for its
	// parameters (see NearestDepots).
	customPlansSQL = `SET LOCAL plan_cache_mode = force_custom_plan`

	// depotPropsSQL reads what geo.DepotFilter needs to decide.
	depotPropsSQL = `SELECT id, properties FROM depots WHERE geom IS NOT NULL`
)

// NearestDepots answers q with the exact two-step search described above,
// every chunk of points in the view's snapshot.
func (v *view) NearestDepots(ctx context.Context, q geo.NearestQuery) ([][]geo.Neighbor, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	out := make([][]geo.Neighbor, len(q.Points))
	for i := range out {
		out[i] = []geo.Neighbor{}
	}
	// Only valid positions go to the database; the others keep their
	// empty list.
	var idx []int
	var lons, lats []float64
	for i, p := range q.Points {
		if geo.ValidPoint(p) {
			idx = append(idx, i)
			lons = append(lons, p[0])
			lats = append(lats, p[1])
		}
	}
	if len(idx) == 0 {
		return out, nil
	}
	var category any // NULL
	if q.Filter.Category != "" {
		doc, err := json.Marshal(map[string][]string{"categories": {q.Filter.Category}})
		if err != nil {
			return nil, fail(err, "postgis: nearest depots")
		}
		category = string(doc)
	}
	if err := v.nearest(ctx, q, idx, lons, lats, category, out); err != nil {
		return nil, fail(err, "postgis: nearest depots")
	}
	return out, nil
}

// nearest runs the search for the valid points of q (idx, their positions
// lons and lats) and adds the answers to out.
func (v *view) nearest(ctx context.Context, q geo.NearestQuery, idx []int, lons, lats []float64, category any, out [][]geo.Neighbor) error {
	tx := v.tx
	if !v.customPlans {
		// A generic plan cannot see which of the optional filters are
		// NULL and estimates them to match almost nothing, so it sorts a
		// sequential scan per point instead of walking the KNN index:
		// plan every execution for its own parameters.
		if _, err := tx.Exec(ctx, customPlansSQL); err != nil {
			return err
		}
		v.customPlans = true
	}
	var ids []string // nil: NULL, no id filter
	if q.Filter.Ready != nil {
		var err error
		if ids, err = keptDepots(ctx, tx, q.Filter); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil // nothing is kept: every list stays empty
		}
	}
	for lo := 0; lo < len(idx); lo += nearestChunk {
		hi := min(lo+nearestChunk, len(idx))
		rows, err := tx.Query(ctx, nearestSQL, lons[lo:hi], lats[lo:hi], int64(q.K), category, ids)
		if err != nil {
			return err
		}
		var (
			ord      int64
			n        geo.Neighbor
			lon, lat float64
		)
		_, err = pgx.ForEachRow(rows, []any{&ord, &n.ID, &lon, &lat, &n.DistanceM}, func() error {
			i := idx[lo+int(ord)-1]
			n.Point = orb.Point{lon, lat}
			out[i] = append(out[i], n)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// keptDepots returns the ids of the located depots that f keeps, deciding
// in Go (geo.DepotFilter) on the properties as this snapshot has them.
func keptDepots(ctx context.Context, tx pgx.Tx, f geo.DepotFilter) ([]string, error) {
	rows, err := tx.Query(ctx, depotPropsSQL)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	var (
		id  string
		raw []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &raw}, func() error {
		var props map[string]any
		if err := json.Unmarshal(raw, &props); err != nil {
			return err
		}
		if f.Keep(props) {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}
