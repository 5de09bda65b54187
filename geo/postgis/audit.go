package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// changesChannel is the LISTEN/NOTIFY channel of committed changes; the
// payload is the last seq of the transaction.
const changesChannel = "hazardmap_changes"

// Statements of appendAudit.
const (
	// nextSeqSQL advances the store-wide counter by the number of entries
	// and returns its new value. The row lock it takes is held until the
	// transaction ends, so a second writer waits here until the first has
	// committed (or rolled back, undoing its increment): seqs are handed
	// out in commit order, and a reader that sees seq n sees every smaller
	// one. It is the last lock every write takes (after the collection's
	// state row and its feature rows), so the order of locks is the same
	// in every transaction and no two writes can deadlock; writes to
	// different collections do their work concurrently and serialize only
	// from here to their commit.
	nextSeqSQL = `UPDATE change_counter SET seq = seq + $1 RETURNING seq`
	// insertAuditSQL writes the entries numbered $1+1 … $1+n from parallel
	// arrays, in one statement.
	insertAuditSQL = `
INSERT INTO audit (seq, time, actor_id, actor_name, actor_role, collection, feature_id, action, version, before, after)
SELECT $1 + u.ord, $2, $3, $4, $5, u.collection, u.feature_id, u.action, u.version,
       NULLIF(u.before, '')::jsonb, NULLIF(u.after, '')::jsonb
FROM unnest($6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[])
     WITH ORDINALITY AS u(collection, feature_id, action, version, before, after, ord)`
	// notifySQL tells every listening store that changes up to $2
	// committed. PostgreSQL delivers it at commit, and not at all on
	// rollback.
	notifySQL = `SELECT pg_notify($1, $2)`
)

// appendAudit appends entries to the audit log of the write transaction
// tx, made by actor at time at, numbers them (setting their Seq), queues
// the notification and records the answer of the idempotency key that ctx
// may carry. It (or appendResult) is the last step of every write.
func appendAudit(ctx context.Context, tx pgx.Tx, actor geo.Actor, at time.Time, entries []geo.AuditEntry) error {
	return appendResult(ctx, tx, actor, at, geo.WriteResult{Entries: entries})
}

// appendResult is appendAudit for a write that wrote more than features
// (a report, a proposal): res holds it, for the answer of an idempotent
// write (completeClaim).
func appendResult(ctx context.Context, tx pgx.Tx, actor geo.Actor, at time.Time, res geo.WriteResult) error {
	if err := numberAudit(ctx, tx, actor, at, res.Entries); err != nil {
		return err
	}
	return completeClaim(ctx, tx, res)
}

// numberAudit stores entries, numbered from the change counter.
func numberAudit(ctx context.Context, tx pgx.Tx, actor geo.Actor, at time.Time, entries []geo.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	n := len(entries)
	var (
		collections = make([]string, n)
		ids         = make([]string, n)
		actions     = make([]string, n)
		versions    = make([]int64, n)
		befores     = make([]string, n)
		afters      = make([]string, n)
	)
	for i, e := range entries {
		collections[i], ids[i], actions[i], versions[i] = e.Collection, e.FeatureID, string(e.Action), e.Version
		var err error
		if befores[i], err = encodeSnapshot(e.Before); err != nil {
			return fmt.Errorf("audit %s/%s: before: %w", e.Collection, e.FeatureID, err)
		}
		if afters[i], err = encodeSnapshot(e.After); err != nil {
			return fmt.Errorf("audit %s/%s: after: %w", e.Collection, e.FeatureID, err)
		}
	}
	var last int64
	if err := tx.QueryRow(ctx, nextSeqSQL, n).Scan(&last); err != nil {
		return fmt.Errorf("audit: next seq: %w", err)
	}
	first := last - int64(n)
	_, err := tx.Exec(ctx, insertAuditSQL, first, at, actor.ID, actor.Name, string(actor.Role),
		collections, ids, actions, versions, befores, afters)
	if err != nil {
		return fmt.Errorf("audit: insert: %w", err)
	}
	if _, err := tx.Exec(ctx, notifySQL, changesChannel, strconv.FormatInt(last, 10)); err != nil {
		return fmt.Errorf("audit: notify: %w", err)
	}
	for i := range entries {
		entries[i].Seq, entries[i].Time, entries[i].Actor = first+int64(i)+1, at, actor
	}
	return nil
}

// snapshot is a feature in the audit log: a GeoJSON Feature with the
// foreign members version and updated, readable with any JSON tool.
type snapshot struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   *geometry      `json:"geometry"`
	Properties map[string]any `json:"properties"`
	Version    int64          `json:"version"`
	Updated    time.Time      `json:"updated"`
}

// geometry is a GeoJSON geometry of one of the types the schemas allow
// (and the other single-type ones). It is written here rather than with
// orb/geojson, which would bring a BSON driver into the build. Go writes
// float64 in the shortest form that reads back to the same value, and
// jsonb keeps numbers' decimal digits, so coordinates round-trip exactly.
type geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

func newGeometry(g orb.Geometry) (*geometry, error) {
	switch g.(type) {
	case orb.Point, orb.MultiPoint, orb.LineString, orb.MultiLineString, orb.Polygon, orb.MultiPolygon:
	default:
		return nil, fmt.Errorf("cannot record a %T", g)
	}
	coords, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	return &geometry{Type: g.GeoJSONType(), Coordinates: coords}, nil
}

func (g *geometry) orb() (orb.Geometry, error) {
	var (
		out orb.Geometry
		err error
	)
	unmarshal := func(dst orb.Geometry) orb.Geometry {
		err = json.Unmarshal(g.Coordinates, dst)
		return dst
	}
	switch g.Type {
	case "Point":
		out = *unmarshal(&orb.Point{}).(*orb.Point)
	case "MultiPoint":
		out = *unmarshal(&orb.MultiPoint{}).(*orb.MultiPoint)
	case "LineString":
		out = *unmarshal(&orb.LineString{}).(*orb.LineString)
	case "MultiLineString":
		out = *unmarshal(&orb.MultiLineString{}).(*orb.MultiLineString)
	case "Polygon":
		out = *unmarshal(&orb.Polygon{}).(*orb.Polygon)
	case "MultiPolygon":
		out = *unmarshal(&orb.MultiPolygon{}).(*orb.MultiPolygon)
	default:
		return nil, fmt.Errorf("geometry type %q", g.Type)
	}
	return out, err
}

// encodeSnapshot returns f as JSON text, or "" for nil (stored as NULL).
func encodeSnapshot(f *geo.Feature) (string, error) {
	if f == nil {
		return "", nil
	}
	if err := geo.CheckPropertiesText(f.Properties); err != nil {
		return "", err
	}
	sn := snapshot{Type: "Feature", ID: f.ID, Properties: f.Properties, Version: f.Version, Updated: f.Updated}
	if sn.Properties == nil {
		sn.Properties = map[string]any{}
	}
	if f.Geometry != nil {
		var err error
		if sn.Geometry, err = newGeometry(f.Geometry); err != nil {
			return "", err
		}
	}
	b, err := json.Marshal(sn)
	return string(b), err
}

// decodeSnapshot reads a snapshot; nil JSON is a nil feature.
func decodeSnapshot(raw []byte) (*geo.Feature, error) {
	if raw == nil {
		return nil, nil
	}
	var sn snapshot
	if err := json.Unmarshal(raw, &sn); err != nil {
		return nil, err
	}
	f := &geo.Feature{ID: sn.ID, Properties: sn.Properties, Version: sn.Version, Updated: sn.Updated.UTC()}
	if f.Properties == nil {
		f.Properties = map[string]any{}
	}
	if sn.Geometry != nil {
		g, err := sn.Geometry.orb()
		if err != nil {
			return nil, err
		}
		f.Geometry = g
	}
	return f, nil
}

// Statements of Audit, assembled from these constant parts and numbered
// parameters.
const (
	auditColumns   = `seq, time, actor_id, actor_name, actor_role, collection, feature_id, action, version`
	auditCountSQL  = `SELECT count(*) FROM audit`
	auditSelectSQL = `SELECT ` + auditColumns + `, before, after FROM audit`
)

// scanEntry reads one row of auditColumns, followed by before and after
// when data is set.
func scanEntry(row pgx.Row, data bool) (geo.AuditEntry, error) {
	var (
		e             geo.AuditEntry
		role, action  string
		before, after []byte
	)
	dest := []any{&e.Seq, &e.Time, &e.Actor.ID, &e.Actor.Name, &role, &e.Collection, &e.FeatureID, &action, &e.Version}
	if data {
		dest = append(dest, &before, &after)
	}
	if err := row.Scan(dest...); err != nil {
		return e, err
	}
	e.Time, e.Actor.Role, e.Action = e.Time.UTC(), geo.Role(role), geo.Action(action)
	var err error
	if e.Before, err = decodeSnapshot(before); err != nil {
		return e, fmt.Errorf("audit %d: before: %w", e.Seq, err)
	}
	if e.After, err = decodeSnapshot(after); err != nil {
		return e, fmt.Errorf("audit %d: after: %w", e.Seq, err)
	}
	return e, nil
}

// Audit returns the audit entries matching q, newest first (oldest first
// when q.AfterSeq > 0), and the total that matched, both from one
// snapshot. A feature's history uses the (collection, feature_id, seq)
// index, a time range the time index.
func (s *Store) Audit(ctx context.Context, q geo.AuditQuery) ([]geo.AuditEntry, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	var f filter
	if q.Collection != "" {
		f.add("collection =", q.Collection)
	}
	if q.FeatureID != "" {
		f.add("feature_id =", q.FeatureID)
	}
	if !q.From.IsZero() {
		f.add("time >=", q.From)
	}
	if !q.To.IsZero() {
		f.add("time <", q.To)
	}
	if q.AfterSeq > 0 {
		f.add("seq >", q.AfterSeq)
	}
	order := " ORDER BY seq DESC"
	if q.Ascending() {
		order = " ORDER BY seq"
	}
	out, total, err := readPage(ctx, s, auditCountSQL, auditSelectSQL, f, order, q.Limit, q.Offset,
		func(r pgx.Row) (geo.AuditEntry, error) { return scanEntry(r, true) })
	if err != nil {
		return nil, 0, fail(err, "postgis: audit")
	}
	return out, total, nil
}
