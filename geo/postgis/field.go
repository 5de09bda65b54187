package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// photoSQL reads a report's photo with its data.
const photoSQL = `SELECT feature_id, data, width, height, sha256 FROM photos WHERE observation_id = $1`

// Photo returns the photo of report observationID (see geo.FieldStore).
func (s *Store) Photo(ctx context.Context, observationID int64) (*geo.Photo, error) {
	p := &geo.Photo{ObservationID: observationID}
	err := s.pool.QueryRow(ctx, photoSQL, observationID).Scan(&p.FeatureID, &p.Data, &p.Width, &p.Height, &p.SHA256)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geo.Errorf(geo.NotFound, "report %d has no photo", observationID)
	}
	if err != nil {
		return nil, fail(err, "postgis: photo %d", observationID)
	}
	p.Bytes = len(p.Data)
	return p, nil
}

// Statements of the location proposals.
const (
	proposalColumns = `id, collection, feature_id, ST_X(position), ST_Y(position), accuracy_m, method, note,
observed_at, received, actor_id, actor_name, actor_role, status, decided, decider_id, decider_name, decider_role, reason`
	// lockStateTimeSQL locks the collection's state row, as every write
	// to the collection does first, without bumping its version, and
	// returns the time of the write (never before the last one).
	lockStateTimeSQL = `
SELECT greatest(clock_timestamp(), updated) FROM collection_state WHERE collection = $1 FOR UPDATE`
	insertProposalSQL = `
INSERT INTO location_proposals (collection, feature_id, position, accuracy_m, method, note, observed_at, received,
    actor_id, actor_name, actor_role, status)
VALUES ($1, $2, ST_SetSRID(ST_MakePoint($3, $4), 4326), $5, $6, $7, $8, $9, $10, $11, $12, 'pending')
RETURNING id`
	proposalSQL          = `SELECT ` + proposalColumns + ` FROM location_proposals WHERE id = $1`
	proposalForUpdateSQL = proposalSQL + ` FOR UPDATE`
	decideProposalSQL    = `
UPDATE location_proposals SET status = $2, decided = $3, decider_id = $4, decider_name = $5, decider_role = $6, reason = $7
WHERE id = $1`
	// supersedeSQL closes the other pending proposals of an accepted
	// one's feature.
	supersedeSQL = `
UPDATE location_proposals SET status = 'superseded', decided = $4, decider_id = $5, decider_name = $6, decider_role = $7, reason = $8
WHERE collection = $1 AND feature_id = $2 AND status = 'pending' AND id <> $3`
	proposalsCountSQL  = `SELECT count(*) FROM location_proposals`
	proposalsSelectSQL = `SELECT ` + proposalColumns + ` FROM location_proposals`
	clockSQL           = `SELECT clock_timestamp()`
)

// scanProposal reads one row of proposalColumns.
func scanProposal(row pgx.Row) (geo.LocationProposal, error) {
	var (
		p                               geo.LocationProposal
		observedAt, decided             *time.Time
		role                            string
		deciderID, deciderName, decRole *string
	)
	err := row.Scan(&p.ID, &p.Collection, &p.FeatureID, &p.Position[0], &p.Position[1], &p.AccuracyM, &p.Method, &p.Note,
		&observedAt, &p.Time, &p.Actor.ID, &p.Actor.Name, &role, &p.Status, &decided, &deciderID, &deciderName, &decRole, &p.Reason)
	if err != nil {
		return p, err
	}
	p.Time, p.Actor.Role = p.Time.UTC(), geo.Role(role)
	if observedAt != nil {
		p.ObservedAt = observedAt.UTC()
	}
	if decided != nil && deciderID != nil && deciderName != nil && decRole != nil {
		p.Decided, p.Decider = decided.UTC(), geo.Actor{ID: *deciderID, Name: *deciderName, Role: geo.Role(*decRole)}
	}
	return p, nil
}

// ProposeLocation records a pending proposal with its audit entry, in one
// transaction that holds the collection's state row (see
// geo.FieldStore).
func (s *Store) ProposeLocation(ctx context.Context, p geo.LocationProposal) (geo.LocationProposal, error) {
	actor, err := writer(ctx)
	if err != nil {
		return p, err
	}
	t, ok := s.tables[p.Collection]
	if !ok {
		_, err := p.Receive(nil, time.Now(), actor) // Invalid, naming the collection
		return p, err
	}
	var rec geo.LocationProposal
	err = s.write(ctx, func(tx pgx.Tx) error {
		var now time.Time
		if err := tx.QueryRow(ctx, lockStateTimeSQL, t.schema.ID).Scan(&now); err != nil {
			return err
		}
		f, err := getFeature(ctx, tx, t, p.FeatureID, false)
		if geo.KindOf(err) == geo.NotFound {
			f, err = nil, nil
		}
		if err != nil {
			return err
		}
		if rec, err = p.Receive(f, now, actor); err != nil {
			return err
		}
		var observedAt *time.Time
		if !rec.ObservedAt.IsZero() {
			observedAt = &rec.ObservedAt
		}
		err = tx.QueryRow(ctx, insertProposalSQL, rec.Collection, rec.FeatureID, rec.Position[0], rec.Position[1], rec.AccuracyM,
			rec.Method, rec.Note, observedAt, rec.Time, actor.ID, actor.Name, string(actor.Role)).Scan(&rec.ID)
		if err != nil {
			return err
		}
		return appendResult(ctx, tx, actor, rec.Time, geo.WriteResult{Proposal: &rec,
			Entries: []geo.AuditEntry{rec.AuditEntry(geo.ActionPropose, f)}})
	})
	if err != nil {
		return p, fail(err, "postgis: propose location of %s/%s", p.Collection, p.FeatureID)
	}
	return rec, nil
}

// decideProposal stores the decision on p in tx.
func decideProposal(ctx context.Context, tx pgx.Tx, p geo.LocationProposal) error {
	_, err := tx.Exec(ctx, decideProposalSQL, p.ID, p.Status, p.Decided, p.Decider.ID, p.Decider.Name, string(p.Decider.Role), p.Reason)
	return err
}

// lockProposal reads and locks proposal id in tx, or NotFound.
func lockProposal(ctx context.Context, tx pgx.Tx, id int64) (geo.LocationProposal, error) {
	p, err := scanProposal(tx.QueryRow(ctx, proposalForUpdateSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, geo.Errorf(geo.NotFound, "no location proposal %d", id)
	}
	return p, err
}

// AcceptLocation sets the feature's position from pending proposal id, in
// one transaction (see geo.FieldStore). Its locks come in the order of
// every write: the collection's state row, the proposal, the feature, the
// change counter.
func (s *Store) AcceptLocation(ctx context.Context, id, version int64) (*geo.Feature, geo.LocationProposal, error) {
	actor, err := writer(ctx)
	if err != nil {
		return nil, geo.LocationProposal{}, err
	}
	var (
		p    geo.LocationProposal
		next *geo.Feature
	)
	err = s.write(ctx, func(tx pgx.Tx) error {
		var collection string
		err := tx.QueryRow(ctx, `SELECT collection FROM location_proposals WHERE id = $1`, id).Scan(&collection)
		if errors.Is(err, pgx.ErrNoRows) {
			return geo.Errorf(geo.NotFound, "no location proposal %d", id)
		}
		if err != nil {
			return err
		}
		t, err := s.table(collection)
		if err != nil {
			return err
		}
		now, err := bump(ctx, tx, t)
		if err != nil {
			return err
		}
		if p, err = lockProposal(ctx, tx, id); err != nil {
			return err
		}
		if p, err = p.Decide(geo.ProposalAccepted, "", now, actor); err != nil {
			return err
		}
		old, err := current(ctx, tx, t, p.FeatureID, version)
		if err != nil {
			return err
		}
		if next, err = t.schema.Prepare(geo.LocationPatch(p, actor, now).Apply(old)); err != nil {
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
		if err := decideProposal(ctx, tx, p); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, supersedeSQL, p.Collection, p.FeatureID, p.ID, p.Decided, actor.ID, actor.Name, string(actor.Role),
			fmt.Sprintf("proposal %d was accepted", p.ID))
		if err != nil {
			return err
		}
		return appendResult(ctx, tx, actor, now, geo.WriteResult{Proposal: &p, Entries: []geo.AuditEntry{{
			Collection: p.Collection, FeatureID: p.FeatureID, Action: geo.ActionAccept, Version: next.Version, Before: old, After: next}}})
	})
	if err != nil {
		return nil, p, fail(err, "postgis: accept location proposal %d", id)
	}
	return next, p, nil
}

// RejectLocation rejects pending proposal id with its audit entry, in one
// transaction (see geo.FieldStore).
func (s *Store) RejectLocation(ctx context.Context, id int64, reason string) (geo.LocationProposal, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.LocationProposal{}, err
	}
	var p geo.LocationProposal
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if p, err = lockProposal(ctx, tx, id); err != nil {
			return err
		}
		var now time.Time
		if err := tx.QueryRow(ctx, clockSQL).Scan(&now); err != nil {
			return err
		}
		if p, err = p.Decide(geo.ProposalRejected, reason, now, actor); err != nil {
			return err
		}
		var f *geo.Feature
		if t, ok := s.tables[p.Collection]; ok {
			if f, err = getFeature(ctx, tx, t, p.FeatureID, false); geo.KindOf(err) == geo.NotFound {
				f, err = nil, nil
			}
			if err != nil {
				return err
			}
		}
		if err := decideProposal(ctx, tx, p); err != nil {
			return err
		}
		return appendResult(ctx, tx, actor, p.Decided, geo.WriteResult{Proposal: &p,
			Entries: []geo.AuditEntry{p.AuditEntry(geo.ActionReject, f)}})
	})
	if err != nil {
		return p, fail(err, "postgis: reject location proposal %d", id)
	}
	return p, nil
}

// LocationProposal returns proposal id.
func (s *Store) LocationProposal(ctx context.Context, id int64) (geo.LocationProposal, error) {
	p, err := scanProposal(s.pool.QueryRow(ctx, proposalSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, geo.Errorf(geo.NotFound, "no location proposal %d", id)
	}
	return p, fail(err, "postgis: location proposal %d", id)
}

// LocationProposals returns the proposals matching q, oldest first, and
// the total, from one snapshot.
func (s *Store) LocationProposals(ctx context.Context, q geo.ProposalQuery) ([]geo.LocationProposal, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	var f filter
	if q.Status != "" {
		f.add("status =", q.Status)
	}
	if q.Collection != "" {
		f.add("collection =", q.Collection)
	}
	if q.FeatureID != "" {
		f.add("feature_id =", q.FeatureID)
	}
	out, total, err := readPage(ctx, s, proposalsCountSQL, proposalsSelectSQL, f, " ORDER BY id", q.Limit, q.Offset, scanProposal)
	if err != nil {
		return nil, 0, fail(err, "postgis: location proposals")
	}
	return out, total, nil
}
