package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/paulmach/orb"
	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// Buckets of the reports' photos and the location proposals.
var (
	photosBucket    = []byte("photos")     // observation id (8 bytes) → photoMeta with feature id
	photoDataBucket = []byte("photo_data") // observation id (8 bytes) → the JPEG
	proposalsBucket = []byte("proposals")  // proposal id (8 bytes) → proposalRecord
)

// photoMeta is a photo without its data, as the observation's record and
// the photos bucket hold it.
type photoMeta struct {
	FeatureID string `json:"feature_id,omitempty"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bytes     int    `json:"bytes"`
	SHA256    []byte `json:"sha256"`
}

func newPhotoMeta(p *geo.Photo) *photoMeta {
	if p == nil {
		return nil
	}
	return &photoMeta{Width: p.Width, Height: p.Height, Bytes: p.Bytes, SHA256: p.SHA256}
}

func (m *photoMeta) photo(observationID int64, featureID string) *geo.Photo {
	if m == nil {
		return nil
	}
	return &geo.Photo{ObservationID: observationID, FeatureID: featureID, Width: m.Width, Height: m.Height, Bytes: m.Bytes, SHA256: m.SHA256}
}

func idKey(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

// putPhoto stores p (with its data) under its observation id.
func putPhoto(tx *bolt.Tx, p *geo.Photo) error {
	m := newPhotoMeta(p)
	m.FeatureID = p.FeatureID
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := tx.Bucket(photosBucket).Put(idKey(p.ObservationID), raw); err != nil {
		return err
	}
	return tx.Bucket(photoDataBucket).Put(idKey(p.ObservationID), p.Data)
}

// Photo returns the photo of report observationID (see geo.FieldStore).
func (s *Store) Photo(ctx context.Context, observationID int64) (*geo.Photo, error) {
	var p *geo.Photo
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(photosBucket).Get(idKey(observationID))
		if raw == nil {
			return nil
		}
		var m photoMeta
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		p = m.photo(observationID, m.FeatureID)
		p.Data = append([]byte(nil), tx.Bucket(photoDataBucket).Get(idKey(observationID))...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: photo %d: %w", observationID, err)
	}
	if p == nil {
		return nil, geo.Errorf(geo.NotFound, "report %d has no photo", observationID)
	}
	return p, nil
}

// proposalRecord is the stored form of a location proposal (its id is the
// key).
type proposalRecord struct {
	Collection string     `json:"collection"`
	FeatureID  string     `json:"feature_id"`
	Position   orb.Point  `json:"position"`
	AccuracyM  float64    `json:"accuracy_m"`
	Method     string     `json:"method"`
	Note       string     `json:"note,omitempty"`
	ObservedAt *time.Time `json:"observed_at,omitempty"`
	Time       time.Time  `json:"time"`
	Actor      geo.Actor  `json:"actor"`
	Status     string     `json:"status"`
	Decided    *time.Time `json:"decided,omitempty"`
	Decider    *geo.Actor `json:"decider,omitempty"`
	Reason     string     `json:"reason,omitempty"`
}

func putProposal(tx *bolt.Tx, p geo.LocationProposal) error {
	r := proposalRecord{Collection: p.Collection, FeatureID: p.FeatureID, Position: p.Position, AccuracyM: p.AccuracyM,
		Method: p.Method, Note: p.Note, Time: p.Time, Actor: p.Actor, Status: p.Status, Reason: p.Reason}
	if !p.ObservedAt.IsZero() {
		r.ObservedAt = &p.ObservedAt
	}
	if !p.Decided.IsZero() {
		r.Decided, r.Decider = &p.Decided, &p.Decider
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(proposalsBucket).Put(idKey(p.ID), raw)
}

func decodeProposal(key, raw []byte) (geo.LocationProposal, error) {
	var r proposalRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return geo.LocationProposal{}, err
	}
	p := geo.LocationProposal{ID: int64(binary.BigEndian.Uint64(key)), Collection: r.Collection, FeatureID: r.FeatureID,
		Position: r.Position, AccuracyM: r.AccuracyM, Method: r.Method, Note: r.Note, Time: r.Time, Actor: r.Actor,
		Status: r.Status, Reason: r.Reason}
	if r.ObservedAt != nil {
		p.ObservedAt = *r.ObservedAt
	}
	if r.Decided != nil {
		p.Decided, p.Decider = *r.Decided, *r.Decider
	}
	return p, nil
}

// getProposal reads proposal id, or NotFound.
func getProposal(tx *bolt.Tx, id int64) (geo.LocationProposal, error) {
	raw := tx.Bucket(proposalsBucket).Get(idKey(id))
	if raw == nil {
		return geo.LocationProposal{}, geo.Errorf(geo.NotFound, "no location proposal %d", id)
	}
	return decodeProposal(idKey(id), raw)
}

// ProposeLocation records a pending proposal with its audit entry (see
// geo.FieldStore).
func (s *Store) ProposeLocation(ctx context.Context, p geo.LocationProposal) (geo.LocationProposal, error) {
	actor, err := writer(ctx)
	if err != nil {
		return p, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := now()
	var f *geo.Feature
	if _, ok := s.collections[p.Collection]; ok {
		if f, err = s.feature(p.Collection, p.FeatureID); err != nil {
			return p, err
		}
	}
	rec, err := p.Receive(f, at, actor)
	if err != nil {
		return p, err
	}
	w := write{audit: []geo.AuditEntry{rec.AuditEntry(geo.ActionPropose, f)}}
	w.result.Proposal = &rec
	w.extra = func(tx *bolt.Tx) error {
		id, err := tx.Bucket(proposalsBucket).NextSequence()
		if err != nil {
			return err
		}
		rec.ID = int64(id)
		return putProposal(tx, rec)
	}
	if err := s.commit(ctx, at, actor, w); err != nil {
		return p, err
	}
	return rec, nil
}

// decide reads proposal id and returns it decided as status, under mu.
func (s *Store) decide(id int64, status, reason string, at time.Time, actor geo.Actor) (geo.LocationProposal, error) {
	var p geo.LocationProposal
	if err := s.db.View(func(tx *bolt.Tx) (err error) { p, err = getProposal(tx, id); return err }); err != nil {
		if geo.AsError(err) != nil {
			return p, err
		}
		return p, fmt.Errorf("embedded: proposal %d: %w", id, err)
	}
	return p.Decide(status, reason, at, actor)
}

// AcceptLocation sets the feature's position from pending proposal id, in
// one transaction (see geo.FieldStore).
func (s *Store) AcceptLocation(ctx context.Context, id, version int64) (*geo.Feature, geo.LocationProposal, error) {
	actor, err := writer(ctx)
	if err != nil {
		return nil, geo.LocationProposal{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := now()
	p, err := s.decide(id, geo.ProposalAccepted, "", at, actor)
	if err != nil {
		return nil, p, err
	}
	old, err := s.current(p.Collection, p.FeatureID, version)
	if err != nil {
		return nil, p, err
	}
	next, err := s.schemas[p.Collection].Prepare(geo.LocationPatch(p, actor, at).Apply(old))
	if err != nil {
		return nil, p, err
	}
	next.Version = old.Version + 1
	w := write{c: p.Collection, action: geo.ActionAccept, changes: []change{{p.FeatureID, next, old}}}
	w.result.Proposal = &p
	w.extra = func(tx *bolt.Tx) error {
		if err := putProposal(tx, p); err != nil {
			return err
		}
		return supersede(tx, p, at, actor)
	}
	if err := s.commit(ctx, at, actor, w); err != nil {
		return nil, p, err
	}
	return next.Clone(), p, nil
}

// supersede marks the other pending proposals of accepted's feature
// superseded.
func supersede(tx *bolt.Tx, accepted geo.LocationProposal, at time.Time, actor geo.Actor) error {
	var others []geo.LocationProposal
	err := tx.Bucket(proposalsBucket).ForEach(func(k, v []byte) error {
		o, err := decodeProposal(k, v)
		if err == nil && o.ID != accepted.ID && o.Status == geo.ProposalPending &&
			o.Collection == accepted.Collection && o.FeatureID == accepted.FeatureID {
			others = append(others, o)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, o := range others {
		o, err := o.Decide(geo.ProposalSuperseded, fmt.Sprintf("proposal %d was accepted", accepted.ID), at, actor)
		if err != nil {
			return err
		}
		if err := putProposal(tx, o); err != nil {
			return err
		}
	}
	return nil
}

// RejectLocation rejects pending proposal id with its audit entry (see
// geo.FieldStore).
func (s *Store) RejectLocation(ctx context.Context, id int64, reason string) (geo.LocationProposal, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.LocationProposal{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := now()
	p, err := s.decide(id, geo.ProposalRejected, reason, at, actor)
	if err != nil {
		return p, err
	}
	var f *geo.Feature
	if _, ok := s.collections[p.Collection]; ok {
		if f, err = s.feature(p.Collection, p.FeatureID); err != nil {
			return p, err
		}
	}
	w := write{audit: []geo.AuditEntry{p.AuditEntry(geo.ActionReject, f)}}
	w.result.Proposal = &p
	w.extra = func(tx *bolt.Tx) error { return putProposal(tx, p) }
	if err := s.commit(ctx, at, actor, w); err != nil {
		return p, err
	}
	return p, nil
}

// LocationProposal returns proposal id.
func (s *Store) LocationProposal(ctx context.Context, id int64) (geo.LocationProposal, error) {
	var p geo.LocationProposal
	err := s.db.View(func(tx *bolt.Tx) (err error) { p, err = getProposal(tx, id); return err })
	if err != nil && geo.AsError(err) == nil {
		return p, fmt.Errorf("embedded: proposal %d: %w", id, err)
	}
	return p, err
}

// LocationProposals returns the proposals matching q, oldest first, from
// one read transaction.
func (s *Store) LocationProposals(ctx context.Context, q geo.ProposalQuery) ([]geo.LocationProposal, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	out := []geo.LocationProposal{}
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(proposalsBucket).ForEach(func(k, v []byte) error {
			p, err := decodeProposal(k, v)
			if err != nil || !q.Matches(p) {
				return err
			}
			total++
			if total > q.Offset && (q.Limit == 0 || len(out) < q.Limit) {
				out = append(out, p)
			}
			return nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("embedded: location proposals: %w", err)
	}
	return out, total, nil
}
