package postgis

import (
	"context"
	"errors"
	"fmt"
	"hazardmap/geo"
	"hazardmap/geo/geojson"

	"github.com/jackc/pgx/v5"
)

// This file keeps the stored GeoJSON of the features (the columns doc and
// doc_views of migrations/006) complete and current, and the planner's statistics of
// a table fresh after a bulk write.

// fillBatch is how many features fillDocuments encodes per statement.
const fillBatch = 1000

// Statements of fillDocuments. The update writes a row's documents only
// if it is still at the version that was encoded and still has none, so
// a write that lands in between (which writes its own) is never undone.
const (
	undocumentedSQL = `
SELECT id, version, ST_AsBinary(geom), properties FROM {table}
WHERE doc IS NULL AND id > $1 ORDER BY id LIMIT $2`
	fillSQL = `
UPDATE {table} AS t SET doc = u.doc, doc_views = ($4::text[])[(u.ord - 1) * $5 + 1 : u.ord * $5]
FROM unnest($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY AS u(id, version, doc, ord)
WHERE t.id = u.id AND t.version = u.version AND t.doc IS NULL`
)

// Statements of fillDocuments about the format of the documents.
const (
	documentFormatSQL    = `SELECT fingerprint FROM document_format`
	setDocumentFormatSQL = `
INSERT INTO document_format (fingerprint) VALUES ($1)
ON CONFLICT (one) DO UPDATE SET fingerprint = excluded.fingerprint`
	clearDocumentsSQL = `UPDATE {table} SET doc = NULL, doc_views = NULL WHERE doc IS NOT NULL`
)

// fillDocuments encodes every feature that has no stored GeoJSON: all of
// them once after migrating to 005, and afterwards those written by an
// older hazardmap or by hand (the migration's trigger clears the documents
// of a row changed without them). When the documents were written in
// another format (document_format: another encoder or other views), it
// clears them all first. Reads encode rows without documents themselves,
// so in between nothing is served wrong, only slower.
func (s *Store) fillDocuments(ctx context.Context, conn *pgx.Conn) error {
	want := geojson.Fingerprint()
	var have string
	if err := conn.QueryRow(ctx, documentFormatSQL).Scan(&have); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if have != want {
		for _, c := range s.order {
			if _, err := conn.Exec(ctx, s.tables[c].sql(clearDocumentsSQL)); err != nil {
				return err
			}
		}
		if _, err := conn.Exec(ctx, setDocumentFormatSQL, want); err != nil {
			return err
		}
	}
	for _, c := range s.order {
		t := s.tables[c]
		after, filled := "", 0
		for {
			var (
				ids, docs []string
				versions  []int64
				views     []*string
			)
			rows, err := conn.Query(ctx, t.sql(undocumentedSQL), after, fillBatch)
			if err != nil {
				return err
			}
			for rows.Next() {
				var (
					id          string
					version     int64
					geom, props []byte
				)
				if err := rows.Scan(&id, &version, &geom, &props); err != nil {
					rows.Close()
					return err
				}
				f, err := decodeFeature(id, geom, props)
				if err != nil {
					rows.Close()
					return err
				}
				r, err := t.encode(f)
				if err != nil {
					rows.Close()
					return fmt.Errorf("encode %s/%s: %w", c, id, err)
				}
				ids, versions, docs, views = append(ids, id), append(versions, version), append(docs, r.doc), append(views, r.views...)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(ids) == 0 {
				if filled > 0 {
					s.log.Info("postgis: stored the GeoJSON of features", "collection", c, "features", filled)
				}
				break
			}
			tag, err := conn.Exec(ctx, t.sql(fillSQL), ids, versions, docs, views, len(geo.Views())-1)
			if err != nil {
				return err
			}
			filled += int(tag.RowsAffected())
			after = ids[len(ids)-1]
		}
	}
	return nil
}

// analyzeAfter is the number of features written at once from which a
// write refreshes the planner's statistics of the table. Without them
// after an import into an empty table the planner guesses (41 rows where a
// bbox holds 2 000) and can pick a poor plan until autovacuum gets there,
// which may take minutes.
const analyzeAfter = 1000

// analyze refreshes the statistics of t after a bulk write has committed.
// A failure is logged, not returned: the write itself succeeded.
func (s *Store) analyze(ctx context.Context, t *table) {
	if _, err := s.pool.Exec(ctx, "ANALYZE "+t.ident); err != nil {
		s.log.Warn("postgis: analyze after a bulk write failed", "table", t.schema.ID, "error", err)
	}
}
