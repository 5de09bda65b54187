package postgis

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// insertObservationSQL stores a report; a NULL position ($7, $8) makes a
// NULL point, as ST_MakePoint and ST_SetSRID are strict.
const insertObservationSQL = `
INSERT INTO observations (feature_id, received, observed_at, depth_cm, status, note, position, actor_id, actor_name, actor_role, accuracy_m)
VALUES ($1, $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), $9, $10, $11, $12)
RETURNING id`

// insertPhotoSQL stores the photo of a report.
const insertPhotoSQL = `
INSERT INTO photos (observation_id, feature_id, data, width, height, sha256)
VALUES ($1, $2, $3, $4, $5, $6)`

// AddObservation records a crew's report on waterlogging point featureID
// in one transaction (see geo.Store): it bumps the collection's version,
// locks and checks the point, updates its status unless a newer report is
// current, inserts the report and appends the audit entry.
func (s *Store) AddObservation(ctx context.Context, featureID string, version int64, o geo.Observation) (*geo.Feature, geo.Observation, error) {
	if err := geo.CheckText("id", featureID); err != nil {
		return nil, geo.Observation{}, err
	}
	t := s.tables[geo.WaterloggingPoints]
	actor, err := writer(ctx)
	if err != nil {
		return nil, geo.Observation{}, err
	}
	if o, err = o.WithCleanPhoto(); err != nil { // before the transaction: it decodes and encodes a JPEG
		return nil, geo.Observation{}, err
	}
	var (
		after *geo.Feature
		rec   geo.Observation
	)
	err = s.write(ctx, func(tx pgx.Tx) error {
		now, err := bump(ctx, tx, t)
		if err != nil {
			return err
		}
		if rec, err = o.Receive(featureID, now, actor); err != nil {
			return err
		}
		old, err := getFeature(ctx, tx, t, featureID, true)
		if err != nil {
			return err
		}
		if version != 0 && old.Version != version {
			return geo.Errorf(geo.Conflict, "feature %q of %s is at version %d, not %d", featureID, t.schema.ID, old.Version, version)
		}
		after = old
		if p, current := geo.ObservationPatch(old, rec); current {
			next, err := t.schema.Prepare(p.Apply(old))
			if err != nil {
				return err
			}
			r, err := t.encode(next)
			if err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, t.sql(replaceSQL), r.replaceArgs(old.Version, now)...).Scan(&next.Version); err != nil {
				return err
			}
			next.Updated = now
			after = next
		}
		var (
			observedAt *time.Time
			lon, lat   *float64
			accuracy   *float64
		)
		if !rec.ObservedAt.IsZero() {
			observedAt = &rec.ObservedAt
		}
		if rec.Position != nil {
			lon, lat = &rec.Position[0], &rec.Position[1]
		}
		if rec.AccuracyM != 0 {
			accuracy = &rec.AccuracyM
		}
		err = tx.QueryRow(ctx, insertObservationSQL, featureID, rec.Time, observedAt, rec.DepthCM, rec.Status, rec.Note,
			lon, lat, actor.ID, actor.Name, string(actor.Role), accuracy).Scan(&rec.ID)
		if err != nil {
			return err
		}
		if p := rec.Photo; p != nil {
			p.ObservationID = rec.ID
			if _, err := tx.Exec(ctx, insertPhotoSQL, rec.ID, featureID, p.Data, p.Width, p.Height, p.SHA256); err != nil {
				return err
			}
			rec.Photo = p.Meta()
		}
		return appendResult(ctx, tx, actor, now, geo.WriteResult{Observation: &rec, Entries: []geo.AuditEntry{{
			Collection: t.schema.ID, FeatureID: featureID, Action: geo.ActionObserve, Version: after.Version, Before: old, After: after}}})
	})
	if err != nil {
		return nil, geo.Observation{}, fail(err, "postgis: observe %s/%s", t.schema.ID, featureID)
	}
	return after, rec, nil
}

// Statements of Observations, assembled from these constant parts and
// numbered parameters ($1 is always the feature id).
const (
	observationColumns = `o.id, o.feature_id, o.received, o.observed_at, o.depth_cm, o.status, o.note,
ST_X(o.position), ST_Y(o.position), o.actor_id, o.actor_name, o.actor_role, o.accuracy_m,
p.width, p.height, octet_length(p.data), p.sha256`
	observationsCountSQL = `SELECT count(*) FROM observations WHERE feature_id = $1`
	// observationsSelectSQL reads reports with their photos' metadata
	// (octet_length reads the size of the out-of-line data without
	// fetching it).
	observationsSelectSQL = `SELECT ` + observationColumns + `
FROM observations o LEFT JOIN photos p ON p.observation_id = o.id WHERE o.feature_id = $1`
	// observationsOrder is the order of a history, newest first, as the
	// index observations_feature_at_idx has it.
	observationsOrder = ` ORDER BY at DESC, o.id DESC`
	// knownPointSQL tells whether $1 has a history or is a point.
	knownPointSQL = `
SELECT EXISTS (SELECT FROM observations WHERE feature_id = $1)
    OR EXISTS (SELECT FROM waterlogging_points WHERE id = $1)`
)

// scanObservation reads one row of observationColumns.
func scanObservation(row pgx.Row) (geo.Observation, error) {
	var (
		o             geo.Observation
		observedAt    *time.Time
		lon, lat      *float64
		role          string
		accuracy      *float64
		width, height *int
		size          *int
		sum           []byte
	)
	err := row.Scan(&o.ID, &o.FeatureID, &o.Time, &observedAt, &o.DepthCM, &o.Status, &o.Note, &lon, &lat,
		&o.Actor.ID, &o.Actor.Name, &role, &accuracy, &width, &height, &size, &sum)
	if err != nil {
		return o, err
	}
	if accuracy != nil {
		o.AccuracyM = *accuracy
	}
	if width != nil && height != nil && size != nil {
		o.Photo = &geo.Photo{ObservationID: o.ID, FeatureID: o.FeatureID, Width: *width, Height: *height, Bytes: *size, SHA256: sum}
	}
	o.Time, o.Actor.Role = o.Time.UTC(), geo.Role(role)
	if observedAt != nil {
		o.ObservedAt = observedAt.UTC()
	}
	if lon != nil && lat != nil {
		o.Position = &orb.Point{*lon, *lat}
	}
	return o, nil
}

// Observations returns the reports of featureID matching q, newest first,
// and the total that matched, from one snapshot.
func (s *Store) Observations(ctx context.Context, featureID string, q geo.ObservationQuery) ([]geo.Observation, int, error) {
	if err := geo.CheckText("id", featureID); err != nil {
		return nil, 0, err
	}
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	args := []any{featureID}
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var conds []string
	if !q.From.IsZero() {
		conds = append(conds, " AND at >= "+param(q.From))
	}
	if !q.To.IsZero() {
		conds = append(conds, " AND at < "+param(q.To))
	}
	where := strings.Join(conds, "")
	count := observationsCountSQL + where
	page := observationsSelectSQL + where + observationsOrder
	page, pageArgs := paged(page, args, q.Limit, q.Offset)
	out := []geo.Observation{}
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, count, args...).Scan(&total); err != nil {
			return err
		}
		if total == 0 {
			var known bool
			if err := tx.QueryRow(ctx, knownPointSQL, featureID).Scan(&known); err != nil {
				return err
			}
			if !known {
				return geo.Errorf(geo.NotFound, "no feature %q in %s", featureID, geo.WaterloggingPoints)
			}
			return nil
		}
		if total <= q.Offset {
			return nil
		}
		rows, err := tx.Query(ctx, page, pageArgs...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Observation, error) { return scanObservation(r) })
		return err
	})
	if err != nil {
		return nil, 0, fail(err, "postgis: observations of %s", featureID)
	}
	return out, total, nil
}
