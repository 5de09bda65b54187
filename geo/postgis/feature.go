package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// bumpSQL locks the collection's state row and advances its version; it
// is the first statement of every write, so writes to one collection wait
// for each other here, lock rows in one order and see each other's
// commits. The time never goes back, even if clocks do, and is the updated
// time of the features written.
const bumpSQL = `
UPDATE collection_state
SET version = version + 1, updated = greatest(clock_timestamp(), updated)
WHERE collection = $1
RETURNING updated`

func bump(ctx context.Context, tx pgx.Tx, t *table) (time.Time, error) {
	var now time.Time
	err := tx.QueryRow(ctx, bumpSQL, t.schema.ID).Scan(&now)
	if errors.Is(err, pgx.ErrNoRows) {
		return now, fmt.Errorf("no collection_state row for %s (is the database migrated?)", t.schema.ID)
	}
	return now.UTC(), err
}

// writer returns the actor of ctx, or an Internal error if it cannot be
// recorded.
func writer(ctx context.Context) (geo.Actor, error) {
	a := geo.ActorFrom(ctx)
	if err := a.Validate(); err != nil {
		return a, fmt.Errorf("postgis: %w", err)
	}
	return a, nil
}

// insertSQL adds one feature at version 1 unless its id is taken.
const insertSQL = `
INSERT INTO {table} (id, version, geom, properties, updated, doc, doc_views)
VALUES ($1, 1, ST_GeomFromWKB($2, 4326), $3::jsonb, $4, $5, $6)
ON CONFLICT (id) DO NOTHING`

// Create validates and stores a new feature; an empty f.ID is replaced by
// a generated one (geo.NewID). An existing id is a Conflict. On success
// f.ID, f.Version (1) and f.Updated are set; f is not otherwise changed.
func (s *Store) Create(ctx context.Context, c string, f *geo.Feature) error {
	t, err := s.table(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	p, err := t.schema.Prepare(f)
	if err != nil {
		return err
	}
	if p.ID == "" {
		p.ID = geo.NewID()
	}
	r, err := t.encode(p)
	if err != nil {
		return fail(err, "postgis: create %s/%s", c, p.ID)
	}
	var now time.Time
	err = s.write(ctx, func(tx pgx.Tx) error {
		if now, err = bump(ctx, tx, t); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, t.sql(insertSQL), r.id, r.geom, r.props, now, r.doc, r.views)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return geo.Errorf(geo.Conflict, "feature %q already exists in %s", p.ID, c)
		}
		p.Version, p.Updated = 1, now
		return appendAudit(ctx, tx, actor, now, []geo.AuditEntry{{Collection: c, FeatureID: p.ID, Action: geo.ActionCreate, Version: 1, After: p}})
	})
	if err != nil {
		return fail(err, "postgis: create %s/%s", c, p.ID)
	}
	f.ID, f.Version, f.Updated = p.ID, 1, now
	return nil
}

// replaceSQL stores a feature in place of the one at version $2.
const replaceSQL = `
UPDATE {table}
SET version = version + 1, geom = ST_GeomFromWKB($3, 4326), properties = $4::jsonb, updated = $5,
    doc = $6, doc_views = $7
WHERE id = $1 AND version = $2
RETURNING version`

// current reads and locks feature id of t and checks that it is at
// version: NotFound when it is missing, Conflict (naming the current
// version, so that the client can fetch it and retry) when it is not.
func current(ctx context.Context, tx pgx.Tx, t *table, id string, version int64) (*geo.Feature, error) {
	old, err := getFeature(ctx, tx, t, id, true)
	if err != nil {
		return nil, err
	}
	if old.Version != version {
		return nil, geo.Errorf(geo.Conflict, "feature %q of %s is at version %d, not %d", id, t.schema.ID, old.Version, version)
	}
	return old, nil
}

// Replace stores f in place of the feature with f.ID if f.Version is the
// stored version; otherwise it returns a NotFound or Conflict error and
// changes nothing. On success f.Version and f.Updated are the new ones.
func (s *Store) Replace(ctx context.Context, c string, f *geo.Feature) error {
	t, err := s.table(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	p, err := t.schema.Prepare(f)
	if err != nil {
		return err
	}
	r, err := t.encode(p)
	if err != nil {
		return fail(err, "postgis: replace %s/%s", c, f.ID)
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		now, err := bump(ctx, tx, t)
		if err != nil {
			return err
		}
		old, err := current(ctx, tx, t, p.ID, p.Version)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, t.sql(replaceSQL), r.replaceArgs(p.Version, now)...).Scan(&p.Version); err != nil {
			return err
		}
		p.Updated = now
		return appendAudit(ctx, tx, actor, now, []geo.AuditEntry{{Collection: c, FeatureID: p.ID, Action: geo.ActionReplace,
			Version: p.Version, Before: old, After: p}})
	})
	if err != nil {
		return fail(err, "postgis: replace %s/%s", c, f.ID)
	}
	f.Version, f.Updated = p.Version, p.Updated
	return nil
}

// versionSQL reads the stored version of one feature.
const versionSQL = `SELECT version FROM {table} WHERE id = $1`

// mismatch explains why a write at version found no row: the feature is
// missing (NotFound) or at another version (Conflict, naming the current
// one so that the client can fetch it and retry).
func mismatch(ctx context.Context, tx pgx.Tx, t *table, id string, version int64) error {
	var current int64
	err := tx.QueryRow(ctx, t.sql(versionSQL), id).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(t, id)
	}
	if err != nil {
		return err
	}
	return geo.Errorf(geo.Conflict, "feature %q of %s is at version %d, not %d", id, t.schema.ID, current, version)
}

// Patch applies p to feature id if version is its stored version and the
// result is valid, and returns the new feature. Otherwise it returns a
// NotFound, Conflict or Invalid error and changes nothing.
func (s *Store) Patch(ctx context.Context, c, id string, version int64, p geo.Patch) (*geo.Feature, error) {
	if err := geo.CheckText("id", id); err != nil {
		return nil, err
	}
	t, err := s.table(c)
	if err != nil {
		return nil, err
	}
	actor, err := writer(ctx)
	if err != nil {
		return nil, err
	}
	var next *geo.Feature
	err = s.write(ctx, func(tx pgx.Tx) error {
		now, err := bump(ctx, tx, t)
		if err != nil {
			return err
		}
		old, err := current(ctx, tx, t, id, version)
		if err != nil {
			return err
		}
		if next, err = t.schema.Prepare(p.Apply(old)); err != nil {
			return err
		}
		r, err := t.encode(next)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, t.sql(replaceSQL), r.replaceArgs(version, now)...).Scan(&next.Version); err != nil {
			return err
		}
		next.Updated = now
		return appendAudit(ctx, tx, actor, now, []geo.AuditEntry{{Collection: c, FeatureID: id, Action: geo.ActionPatch,
			Version: next.Version, Before: old, After: next}})
	})
	if err != nil {
		return nil, fail(err, "postgis: patch %s/%s", c, id)
	}
	return next, nil
}

// deleteSQL removes a feature at version $2 and returns it as it was.
const deleteSQL = `DELETE FROM {table} WHERE id = $1 AND version = $2 RETURNING ` + featureColumns

// Delete removes feature id if version is its stored version; otherwise it
// returns a NotFound or Conflict error.
func (s *Store) Delete(ctx context.Context, c, id string, version int64) error {
	if err := geo.CheckText("id", id); err != nil {
		return err
	}
	t, err := s.table(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		now, err := bump(ctx, tx, t)
		if err != nil {
			return err
		}
		old, err := scanFeature(tx.QueryRow(ctx, t.sql(deleteSQL), id, version))
		if errors.Is(err, pgx.ErrNoRows) {
			return mismatch(ctx, tx, t, id, version)
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, actor, now, []geo.AuditEntry{{Collection: c, FeatureID: id, Action: geo.ActionDelete, Before: old}})
	})
	return fail(err, "postgis: delete %s/%s", c, id)
}

// prepareAll validates fs for import into t: each feature as Create would,
// an id for those without, and no id twice. Ids taken in the table are
// found by insertAll. The features of fs are not changed; the prepared
// copies are returned beside their rows.
func prepareAll(t *table, fs []*geo.Feature) ([]row, []*geo.Feature, error) {
	rows := make([]row, 0, len(fs))
	prepared := make([]*geo.Feature, 0, len(fs))
	seen := make(map[string]bool, len(fs))
	for i, f := range fs {
		p, err := t.schema.Prepare(f)
		if err != nil {
			return nil, nil, fmt.Errorf("feature %d (%q): %w", i, f.ID, err)
		}
		if p.ID == "" {
			p.ID = geo.NewID()
		}
		if seen[p.ID] {
			return nil, nil, geo.Errorf(geo.Conflict, "feature %d: id %q is already taken in %s", i, p.ID, t.schema.ID)
		}
		seen[p.ID] = true
		r, err := t.encode(p)
		if err != nil {
			return nil, nil, fmt.Errorf("feature %d (%q): %w", i, f.ID, err)
		}
		rows = append(rows, r)
		prepared = append(prepared, p)
	}
	return rows, prepared, nil
}

// importSQL inserts many features in one statement (one round trip, one
// plan) from parallel arrays, and $6, the lesser views of all of them, $7
// a row (see insertAll). It is used rather than COPY because COPY
// cannot call ST_GeomFromWKB, and rather than a batch of INSERTs because
// one statement is all-or-nothing on its own and returns which ids were
// taken. The rows go into the table in the order of their geometries
// (PostGIS sorts geometry along a space-filling curve), so that features
// near each other share pages on disk and a bbox query over an imported
// layer reads few of them.
const importSQL = `
INSERT INTO {table} (id, version, geom, properties, updated, doc, doc_views)
SELECT u.id, 1, ST_GeomFromWKB(u.wkb, 4326), u.properties::jsonb, $4, u.doc,
       ($6::text[])[(u.ord - 1) * $7 + 1 : u.ord * $7]
FROM unnest($1::text[], $2::bytea[], $3::text[], $5::text[]) WITH ORDINALITY AS u(id, wkb, properties, doc, ord)
ORDER BY ST_GeomFromWKB(u.wkb, 4326)
ON CONFLICT (id) DO NOTHING
RETURNING id`

// insertAll inserts rows into t at time now, or returns a Conflict naming
// the first id that is already taken (and the caller rolls back).
func insertAll(ctx context.Context, tx pgx.Tx, t *table, rows []row, now time.Time) error {
	ids := make([]string, len(rows))
	geoms := make([][]byte, len(rows))
	props := make([]string, len(rows))
	docs := make([]string, len(rows))
	// The lesser views of every row in one flat array, k a row: unnest
	// cannot take an array of arrays apart row by row.
	k := len(geo.Views()) - 1
	views := make([]*string, 0, len(rows)*k)
	for i, r := range rows {
		ids[i], geoms[i], props[i], docs[i] = r.id, r.geom, r.props, r.doc
		views = append(views, r.views...)
	}
	res, err := tx.Query(ctx, t.sql(importSQL), ids, geoms, props, now, docs, views, k)
	if err != nil {
		return err
	}
	inserted, err := pgx.CollectRows(res, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(inserted) == len(rows) {
		return nil
	}
	done := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		done[id] = true
	}
	for i, id := range ids {
		if !done[id] {
			return geo.Errorf(geo.Conflict, "feature %d: id %q is already taken in %s", i, id, t.schema.ID)
		}
	}
	return fmt.Errorf("inserted %d of %d features", len(inserted), len(rows))
}

// created returns the audit entries of features fs created in c at now
// by action (import or seed): one each, in order.
func created(c string, fs []*geo.Feature, action geo.Action, now time.Time) []geo.AuditEntry {
	entries := make([]geo.AuditEntry, len(fs))
	for i, f := range fs {
		f.Version, f.Updated = 1, now
		entries[i] = geo.AuditEntry{Collection: c, FeatureID: f.ID, Action: action, Version: 1, After: f}
	}
	return entries
}

// Import validates and creates every feature of fs in one transaction: if
// one is invalid or its id exists, nothing is written. An empty fs writes
// nothing and leaves the collection's version alone. Each feature gets an
// audit entry.
func (s *Store) Import(ctx context.Context, c string, fs []*geo.Feature) error {
	t, err := s.table(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	rows, prepared, err := prepareAll(t, fs)
	if err != nil {
		return fail(err, "postgis: import %s", c)
	}
	if len(rows) == 0 {
		return nil
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		now, err := bump(ctx, tx, t)
		if err != nil {
			return err
		}
		if err := insertAll(ctx, tx, t, rows, now); err != nil {
			return err
		}
		return appendAudit(ctx, tx, actor, now, created(c, prepared, geo.ActionImport, now))
	})
	if err != nil {
		return fail(err, "postgis: import %s (%d features)", c, len(rows))
	}
	if len(rows) >= analyzeAfter {
		s.analyze(ctx, t)
	}
	return nil
}

// Apply writes batch b to c in one transaction: the creates in one
// statement (as Import), then each replace as Replace would, each row
// locked and its version checked; any failure rolls back everything.
// Each feature gets an import audit entry.
func (s *Store) Apply(ctx context.Context, c string, b geo.Batch) error {
	t, err := s.table(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	rows, fresh, err := prepareAll(t, b.Create)
	if err != nil {
		return fail(err, "postgis: apply to %s", c)
	}
	seen := make(map[string]bool, b.Len())
	for _, p := range fresh {
		seen[p.ID] = true
	}
	replaced := make([]*geo.Feature, len(b.Replace))
	replacedRows := make([]row, len(b.Replace))
	for i, f := range b.Replace {
		p, err := t.schema.Prepare(f)
		if err != nil {
			return fail(fmt.Errorf("replaced feature %d (%q): %w", i, f.ID, err), "postgis: apply to %s", c)
		}
		if seen[p.ID] {
			return geo.Errorf(geo.Conflict, "feature %q is written twice in one batch", p.ID)
		}
		seen[p.ID] = true
		if replacedRows[i], err = t.encode(p); err != nil {
			return fail(err, "postgis: apply to %s", c)
		}
		replaced[i] = p
	}
	if b.Len() == 0 {
		return nil
	}
	var now time.Time
	err = s.write(ctx, func(tx pgx.Tx) error {
		if now, err = bump(ctx, tx, t); err != nil {
			return err
		}
		var entries []geo.AuditEntry
		if len(rows) > 0 {
			if err := insertAll(ctx, tx, t, rows, now); err != nil {
				return err
			}
			entries = created(c, fresh, geo.ActionImport, now)
		}
		for i, p := range replaced {
			old, err := current(ctx, tx, t, p.ID, p.Version)
			if err != nil {
				return err
			}
			r := replacedRows[i]
			var v int64
			if err := tx.QueryRow(ctx, t.sql(replaceSQL), r.replaceArgs(p.Version, now)...).Scan(&v); err != nil {
				return err
			}
			next := p.Clone()
			next.Version, next.Updated = v, now
			entries = append(entries, geo.AuditEntry{Collection: c, FeatureID: p.ID, Action: geo.ActionImport,
				Version: v, Before: old, After: next})
		}
		return appendAudit(ctx, tx, actor, now, entries)
	})
	if err != nil {
		return fail(err, "postgis: apply to %s (%d features)", c, b.Len())
	}
	for i, f := range b.Create {
		f.ID, f.Version, f.Updated = fresh[i].ID, 1, now
	}
	for i, f := range b.Replace {
		f.Version, f.Updated = replaced[i].Version+1, now
	}
	return nil
}

// Statements of Seed.
const (
	lockStateSQL  = `SELECT seeded FROM collection_state WHERE collection = $1 FOR UPDATE`
	anyFeatureSQL = `SELECT EXISTS (SELECT FROM {table})`
	markSeededSQL = `UPDATE collection_state SET seeded = true WHERE collection = $1`
)

// Seed imports fs into c if c has never been seeded and holds no features,
// and marks c as seeded either way (features deleted later stay deleted).
// It reports whether it imported. Several instances starting at once are
// serialized by the lock on the collection's state row: one imports, the
// others find it seeded. An invalid fs is an error and marks nothing, so
// that a fixed seed can be retried. Each feature imported gets an audit
// entry.
func (s *Store) Seed(ctx context.Context, c string, fs []*geo.Feature) (bool, error) {
	t, err := s.table(c)
	if err != nil {
		return false, err
	}
	actor, err := writer(ctx)
	if err != nil {
		return false, err
	}
	imported := false
	err = s.write(ctx, func(tx pgx.Tx) error {
		var seeded bool
		err := tx.QueryRow(ctx, lockStateSQL, c).Scan(&seeded)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("no collection_state row for %s (is the database migrated?)", c)
		}
		if err != nil || seeded {
			return err
		}
		var nonEmpty bool
		if err := tx.QueryRow(ctx, t.sql(anyFeatureSQL)).Scan(&nonEmpty); err != nil {
			return err
		}
		if !nonEmpty {
			rows, prepared, err := prepareAll(t, fs)
			if err != nil {
				return err
			}
			if len(rows) > 0 {
				now, err := bump(ctx, tx, t)
				if err != nil {
					return err
				}
				if err := insertAll(ctx, tx, t, rows, now); err != nil {
					return err
				}
				if err := appendAudit(ctx, tx, actor, now, created(c, prepared, geo.ActionSeed, now)); err != nil {
					return err
				}
			}
			imported = true
		}
		_, err = tx.Exec(ctx, markSeededSQL, c)
		return err
	})
	if err != nil {
		return false, fail(err, "postgis: seed %s", c)
	}
	return imported, nil
}
