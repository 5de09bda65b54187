package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"hazardmap/geo"
)

// This file keeps the readings of the gauges, their alerts and the
// deliveries of alerts (migrations/005_water.sql). Readings and alert
// steps do not change the gauges collection (its version stays): they
// append audit entries (ReadingsCollection, AlertsCollection), which
// take the change counter last as every write does.

// nowSQL is the store's time of a write.
const nowSQL = `SELECT clock_timestamp()`

// Statements of readings.
const (
	readingColumns   = `id, gauge_id, at, level, source, note, received, actor_id, actor_name, actor_role`
	insertReadingSQL = `
INSERT INTO readings (gauge_id, at, level, source, note, received, actor_id, actor_name, actor_role)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (gauge_id, at) DO NOTHING
RETURNING id`
	// takenSQL returns the times of gauge $1 between $2 and $3 that are
	// stored already: a range of the primary key.
	takenSQL = `SELECT at FROM readings WHERE gauge_id = $1 AND at BETWEEN $2 AND $3`
	// readingsCountSQL and readingsSelectSQL read one gauge's range of the
	// primary key, with the conditions of Readings (gauge_id first).
	readingsCountSQL  = `SELECT count(*) FROM readings`
	readingsSelectSQL = `SELECT ` + readingColumns + ` FROM readings`
	knownGaugeSQL     = `
SELECT EXISTS (SELECT FROM readings WHERE gauge_id = $1)
    OR EXISTS (SELECT FROM gauges WHERE id = $1)`
	// latestOfSQL reads, for each of the gauges $1 in order, the last
	// entry of its range of the primary key.
	latestOfSQL = `
SELECT r.id, r.gauge_id, r.at, r.level, r.source, r.note, r.received, r.actor_id, r.actor_name, r.actor_role
FROM unnest($1::text[]) WITH ORDINALITY AS g(id, ord)
CROSS JOIN LATERAL (
    SELECT * FROM readings WHERE gauge_id = g.id ORDER BY at DESC LIMIT 1
) r
ORDER BY g.ord`
	// latestAllSQL finds the gauges that have readings by skipping
	// through the primary key (a recursive "loose index scan": one index
	// probe per gauge, not a scan of millions of rows), then reads each
	// one's latest as latestOfSQL does.
	latestAllSQL = `
WITH RECURSIVE g(id) AS (
    (SELECT gauge_id FROM readings ORDER BY gauge_id LIMIT 1)
    UNION ALL
    SELECT (SELECT gauge_id FROM readings WHERE gauge_id > g.id ORDER BY gauge_id LIMIT 1)
    FROM g WHERE g.id IS NOT NULL
)
SELECT r.id, r.gauge_id, r.at, r.level, r.source, r.note, r.received, r.actor_id, r.actor_name, r.actor_role
FROM g
CROSS JOIN LATERAL (
    SELECT * FROM readings WHERE gauge_id = g.id ORDER BY at DESC LIMIT 1
) r
WHERE g.id IS NOT NULL
ORDER BY g.id`
)

func scanReading(row pgx.Row) (geo.Reading, error) {
	var (
		r    geo.Reading
		role string
	)
	err := row.Scan(&r.ID, &r.GaugeID, &r.At, &r.Level, &r.Source, &r.Note, &r.Received, &r.Actor.ID, &r.Actor.Name, &role)
	r.At, r.Received, r.Actor.Role = r.At.UTC(), r.Received.UTC(), geo.Role(role)
	return r, err
}

// gaugeIn reads and types gauge id in tx.
func (s *Store) gaugeIn(ctx context.Context, tx pgx.Tx, id string) (geo.Gauge, error) {
	f, err := getFeature(ctx, tx, s.tables[geo.Gauges], id, false)
	if err != nil {
		return geo.Gauge{}, err
	}
	return geo.GaugeOf(f)
}

// AddReading records one reading (see geo.WaterStore).
func (s *Store) AddReading(ctx context.Context, r geo.Reading) (geo.Reading, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.Reading{}, err
	}
	var rec geo.Reading
	err = s.write(ctx, func(tx pgx.Tx) error {
		g, err := s.gaugeIn(ctx, tx, r.GaugeID)
		if err != nil {
			return err
		}
		var now time.Time
		if err := tx.QueryRow(ctx, nowSQL).Scan(&now); err != nil {
			return err
		}
		if rec, err = r.Receive(g, now, actor); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, insertReadingSQL, rec.GaugeID, rec.At, rec.Level, rec.Source, rec.Note, rec.Received,
			actor.ID, actor.Name, string(actor.Role)).Scan(&rec.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.DuplicateReading("at", rec.GaugeID, rec.At)
		}
		if err != nil {
			return err
		}
		return appendResult(ctx, tx, actor, rec.Received, geo.WriteResult{Reading: &rec, Entries: []geo.AuditEntry{{
			Collection: geo.ReadingsCollection, FeatureID: rec.GaugeID, Action: geo.ActionReading, Version: 1, After: rec.AuditFeature()}}})
	})
	if err != nil {
		return geo.Reading{}, fail(err, "postgis: reading of %s", r.GaugeID)
	}
	return rec, nil
}

// readingsColumns are the columns ImportReadings copies.
var readingsColumns = []string{"gauge_id", "at", "level", "source", "note", "received", "actor_id", "actor_name", "actor_role"}

// ImportReadings records every reading of rs or none (see
// geo.WaterStore). The readings are checked against their gauges, then
// against the times each gauge has stored in the import's span (one
// range of the primary key per gauge), then copied in with COPY, the
// fastest way into PostgreSQL.
func (s *Store) ImportReadings(ctx context.Context, rs []geo.Reading) (int, error) {
	actor, err := writer(ctx)
	if err != nil {
		return 0, err
	}
	if len(rs) == 0 {
		return 0, nil
	}
	var n int
	err = s.write(ctx, func(tx pgx.Tx) error {
		gauges := map[string]geo.Gauge{}
		for _, r := range rs {
			if _, done := gauges[r.GaugeID]; done {
				continue
			}
			g, err := s.gaugeIn(ctx, tx, r.GaugeID)
			if geo.KindOf(err) == geo.NotFound {
				continue // ReceiveAll names the reading
			}
			if err != nil {
				return err
			}
			gauges[r.GaugeID] = g
		}
		var now time.Time
		if err := tx.QueryRow(ctx, nowSQL).Scan(&now); err != nil {
			return err
		}
		recs, err := geo.ReceiveAll(rs, gauges, now, actor)
		if err != nil {
			return err
		}
		audit := geo.ImportAudit(recs, now)
		if err := checkTaken(ctx, tx, recs, audit); err != nil {
			return err
		}
		role := string(actor.Role)
		copied, err := tx.CopyFrom(ctx, pgx.Identifier{"readings"}, readingsColumns, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
			r := &recs[i]
			return []any{r.GaugeID, r.At, r.Level, r.Source, r.Note, r.Received, actor.ID, actor.Name, role}, nil
		}))
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation: written meanwhile
				return &geo.Error{Kind: geo.Conflict, Message: "duplicate reading", Err: err,
					Fields: []geo.FieldError{{Field: "readings", Detail: "a reading of the same gauge and time was stored while this import ran"}}}
			}
			return err
		}
		n = int(copied)
		return appendAudit(ctx, tx, actor, now, audit)
	})
	if err != nil {
		return 0, fail(err, "postgis: import %d readings", len(rs))
	}
	return n, nil
}

// checkTaken returns a Conflict naming the first reading of recs whose
// gauge has a reading stored at its time; audit gives each gauge's span.
func checkTaken(ctx context.Context, tx pgx.Tx, recs []geo.Reading, audit []geo.AuditEntry) error {
	taken := map[string]map[int64]bool{}
	for _, e := range audit {
		first, _ := time.Parse(time.RFC3339Nano, e.After.Properties["first"].(string))
		last, _ := time.Parse(time.RFC3339Nano, e.After.Properties["last"].(string))
		rows, err := tx.Query(ctx, takenSQL, e.FeatureID, first, last)
		if err != nil {
			return err
		}
		ats, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			return err
		}
		if len(ats) > 0 {
			m := make(map[int64]bool, len(ats))
			for _, at := range ats {
				m[at.UnixMicro()] = true
			}
			taken[e.FeatureID] = m
		}
	}
	if len(taken) == 0 {
		return nil
	}
	for i, r := range recs {
		if taken[r.GaugeID][r.At.UnixMicro()] {
			return geo.DuplicateReading(fmt.Sprintf("readings[%d].at", i), r.GaugeID, r.At)
		}
	}
	return nil
}

// Readings returns the readings of gauge matching q (see
// geo.WaterStore), from one snapshot: a range of the primary key.
func (s *Store) Readings(ctx context.Context, gauge string, q geo.ReadingQuery) ([]geo.Reading, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	var f filter
	f.add("gauge_id =", gauge)
	if !q.From.IsZero() {
		f.add("at >=", q.From)
	}
	if !q.To.IsZero() {
		f.add("at <", q.To)
	}
	order := " ORDER BY at"
	if q.Newest {
		order = " ORDER BY at DESC"
	}
	out, total, err := readPage(ctx, s, readingsCountSQL, readingsSelectSQL, f, order, q.PageSize(), q.Offset, scanReading)
	if err == nil && total == 0 {
		// Nothing: a gauge without readings, or no gauge at all.
		var known bool
		if err = s.pool.QueryRow(ctx, knownGaugeSQL, gauge).Scan(&known); err == nil && !known {
			return nil, 0, geo.Errorf(geo.NotFound, "no feature %q in %s", gauge, geo.Gauges)
		}
	}
	if err != nil {
		return nil, 0, fail(err, "postgis: readings of %s", gauge)
	}
	return out, total, nil
}

// LatestReadings returns the latest reading of each gauge (see
// geo.WaterStore): one probe of the primary key per gauge.
func (s *Store) LatestReadings(ctx context.Context, gauges ...string) ([]geo.Reading, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if len(gauges) > 0 {
		rows, err = s.pool.Query(ctx, latestOfSQL, gauges)
	} else {
		rows, err = s.pool.Query(ctx, latestAllSQL)
	}
	if err != nil {
		return nil, fail(err, "postgis: latest readings")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Reading, error) { return scanReading(r) })
	if err != nil {
		return nil, fail(err, "postgis: latest readings")
	}
	if out == nil {
		out = []geo.Reading{}
	}
	return out, nil
}

// Statements of alerts.
const (
	// openAlertSQL inserts an alert unless an unresolved one of its gauge
	// and kind exists (the partial unique index alerts_one_unresolved_idx;
	// a concurrent insert of the same is waited for, then skipped).
	openAlertSQL = `
INSERT INTO alerts (id, gauge_id, kind, state, opened, version, alert)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
ON CONFLICT (gauge_id, kind) WHERE state <> 'resolved' DO NOTHING`
	unresolvedAlertSQL = `SELECT alert FROM alerts WHERE gauge_id = $1 AND kind = $2 AND state <> 'resolved'`
	getAlertSQL        = `SELECT alert FROM alerts WHERE id = $1`
	lockAlertSQL       = getAlertSQL + ` FOR UPDATE`
	updateAlertSQL     = `UPDATE alerts SET state = $2, version = $3, alert = $4::jsonb WHERE id = $1`
	alertsCountSQL     = `SELECT count(*) FROM alerts`
	alertsSelectSQL    = `SELECT alert FROM alerts`
)

func scanAlert(row pgx.Row) (geo.Alert, error) {
	var (
		raw []byte
		a   geo.Alert
	)
	if err := row.Scan(&raw); err != nil {
		return a, err
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, fmt.Errorf("decode alert: %w", err)
	}
	return a, nil
}

// OpenAlert stores a unless an unresolved alert of its gauge and kind
// exists (see geo.WaterStore and migrations/005_water.sql).
func (s *Store) OpenAlert(ctx context.Context, a geo.Alert) (geo.Alert, bool, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.Alert{}, false, err
	}
	a = a.Clone()
	a.ID = geo.NewID()
	raw, err := json.Marshal(a)
	if err != nil {
		return geo.Alert{}, false, fmt.Errorf("postgis: encode alert: %w", err)
	}
	var (
		out    geo.Alert
		opened bool
	)
	err = s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, openAlertSQL, a.ID, a.GaugeID, string(a.Kind), string(a.State), a.Opened, a.Version, string(raw))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			out, err = scanAlert(tx.QueryRow(ctx, unresolvedAlertSQL, a.GaugeID, string(a.Kind)))
			return err
		}
		var now time.Time
		if err := tx.QueryRow(ctx, nowSQL).Scan(&now); err != nil {
			return err
		}
		out, opened = a, true
		if err := putPending(ctx, tx, a); err != nil {
			return err
		}
		return appendResult(ctx, tx, actor, now.UTC(), geo.WriteResult{Alert: &out, Entries: []geo.AuditEntry{{
			Collection: geo.AlertsCollection, FeatureID: a.ID, Action: geo.ActionOpen, Version: a.Version, After: a.AuditFeature()}}})
	})
	if err != nil {
		return geo.Alert{}, false, fail(err, "postgis: open %s alert of %s", a.Kind, a.GaugeID)
	}
	return out, opened, nil
}

// ChangeAlert applies t to alert id at version (see geo.WaterStore),
// holding the alert's row lock from the check to the commit.
func (s *Store) ChangeAlert(ctx context.Context, id string, version int64, t geo.AlertTransition, at time.Time) (geo.Alert, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.Alert{}, err
	}
	var a geo.Alert
	err = s.write(ctx, func(tx pgx.Tx) error {
		old, err := scanAlert(tx.QueryRow(ctx, lockAlertSQL, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.NotFound, "no alert %q", id)
		}
		if err != nil {
			return err
		}
		if version != 0 && old.Version != version {
			return geo.Errorf(geo.Conflict, "alert %q is at version %d, not %d", id, old.Version, version)
		}
		if a, err = old.Apply(t, at, actor); err != nil {
			return err
		}
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, updateAlertSQL, id, string(a.State), a.Version, string(raw)); err != nil {
			return err
		}
		if err := putPending(ctx, tx, a); err != nil {
			return err
		}
		var now time.Time
		if err := tx.QueryRow(ctx, nowSQL).Scan(&now); err != nil {
			return err
		}
		return appendResult(ctx, tx, actor, now.UTC(), geo.WriteResult{Alert: &a, Entries: []geo.AuditEntry{{
			Collection: geo.AlertsCollection, FeatureID: id, Action: t.Action, Version: a.Version, Before: old.AuditFeature(), After: a.AuditFeature()}}})
	})
	if err != nil {
		return geo.Alert{}, fail(err, "postgis: %s alert %s", t.Action, id)
	}
	return a, nil
}

// Alert returns alert id.
func (s *Store) Alert(ctx context.Context, id string) (geo.Alert, error) {
	a, err := scanAlert(s.pool.QueryRow(ctx, getAlertSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, geo.Errorf(geo.NotFound, "no alert %q", id)
	}
	if err != nil {
		return a, fail(err, "postgis: alert %s", id)
	}
	return a, nil
}

// Alerts returns the alerts matching q, newest first, and the total, from
// one snapshot.
func (s *Store) Alerts(ctx context.Context, q geo.AlertQuery) ([]geo.Alert, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	var f filter
	if q.GaugeID != "" {
		f.add("gauge_id =", q.GaugeID)
	}
	if q.Kind != "" {
		f.add("kind =", string(q.Kind))
	}
	if q.Active {
		f.conds = append(f.conds, "state <> 'resolved'")
	}
	if q.State != "" {
		f.add("state =", string(q.State))
	}
	out, total, err := readPage(ctx, s, alertsCountSQL, alertsSelectSQL, f, " ORDER BY opened DESC, id DESC", q.Limit, q.Offset, scanAlert)
	if err != nil {
		return nil, 0, fail(err, "postgis: alerts")
	}
	return out, total, nil
}

// Statements of deliveries.
const (
	insertDeliverySQL = `
INSERT INTO deliveries (alert_id, alert_version, channel, ok, attempts, detail, batch, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id`
	deliveriesSQL = `
SELECT id, alert_id, alert_version, channel, ok, attempts, detail, batch, at
FROM deliveries WHERE alert_id = $1 ORDER BY id`
)

// RecordDelivery stores d (see geo.WaterStore).
func (s *Store) RecordDelivery(ctx context.Context, d geo.Delivery) (geo.Delivery, error) {
	if err := d.Check(); err != nil {
		return d, err
	}
	d.At = d.At.UTC().Truncate(time.Microsecond)
	err := s.pool.QueryRow(ctx, insertDeliverySQL, d.AlertID, d.AlertVersion, d.Channel, d.OK, d.Attempts, d.Detail, d.Batch, d.At).Scan(&d.ID)
	if err != nil {
		return d, fail(err, "postgis: record delivery of %s", d.AlertID)
	}
	return d, nil
}

// Deliveries returns the deliveries of alert id, oldest first.
func (s *Store) Deliveries(ctx context.Context, alertID string) ([]geo.Delivery, error) {
	rows, err := s.pool.Query(ctx, deliveriesSQL, alertID)
	if err != nil {
		return nil, fail(err, "postgis: deliveries of %s", alertID)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Delivery, error) {
		var d geo.Delivery
		err := r.Scan(&d.ID, &d.AlertID, &d.AlertVersion, &d.Channel, &d.OK, &d.Attempts, &d.Detail, &d.Batch, &d.At)
		d.At = d.At.UTC()
		return d, err
	})
	if err != nil {
		return nil, fail(err, "postgis: deliveries of %s", alertID)
	}
	if out == nil {
		out = []geo.Delivery{}
	}
	return out, nil
}
