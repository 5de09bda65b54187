package embedded

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"
	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// observationRecord is the stored form of an observation. The key holds
// the feature id and the observation id, so that one point's history is
// one range of keys.
type observationRecord struct {
	Time       time.Time  `json:"time"`
	ObservedAt *time.Time `json:"observed_at,omitempty"`
	DepthCM    float64    `json:"depth_cm"`
	Status     string     `json:"status"`
	Note       string     `json:"note,omitempty"`
	Position   *orb.Point `json:"position,omitempty"`
	AccuracyM  float64    `json:"accuracy_m,omitempty"`
	Photo      *photoMeta `json:"photo,omitempty"`
	ActorID    string     `json:"actor_id"`
	ActorName  string     `json:"actor_name"`
	ActorRole  geo.Role   `json:"actor_role"`
}

// observationPrefix is the start of the keys of featureID's history: the
// id and a 0 byte, which no id contains (geo.ValidateID).
func observationPrefix(featureID string) []byte { return append([]byte(featureID), 0) }

func observationKey(featureID string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(observationPrefix(featureID), id)
}

func encodeObservation(o geo.Observation) ([]byte, error) {
	r := observationRecord{Time: o.Time, DepthCM: o.DepthCM, Status: o.Status, Note: o.Note, Position: o.Position,
		AccuracyM: o.AccuracyM, Photo: newPhotoMeta(o.Photo),
		ActorID: o.Actor.ID, ActorName: o.Actor.Name, ActorRole: o.Actor.Role}
	if !o.ObservedAt.IsZero() {
		r.ObservedAt = &o.ObservedAt
	}
	return json.Marshal(r)
}

func decodeObservation(key, raw []byte) (geo.Observation, error) {
	var r observationRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return geo.Observation{}, err
	}
	sep := len(key) - 9
	if sep < 0 || key[sep] != 0 {
		return geo.Observation{}, fmt.Errorf("bad observation key %x", key)
	}
	o := geo.Observation{ID: int64(binary.BigEndian.Uint64(key[sep+1:])), FeatureID: string(key[:sep]),
		Time: r.Time, DepthCM: r.DepthCM, Status: r.Status, Note: r.Note, Position: r.Position, AccuracyM: r.AccuracyM,
		Actor: geo.Actor{ID: r.ActorID, Name: r.ActorName, Role: r.ActorRole}}
	o.Photo = r.Photo.photo(o.ID, o.FeatureID)
	if r.ObservedAt != nil {
		o.ObservedAt = *r.ObservedAt
	}
	return o, nil
}

// AddObservation records a crew's report on waterlogging point featureID
// and makes it the point's current status unless a newer one is, all in
// one bbolt transaction with its audit entry (see geo.Store).
func (s *Store) AddObservation(ctx context.Context, featureID string, version int64, o geo.Observation) (*geo.Feature, geo.Observation, error) {
	if err := geo.CheckText("id", featureID); err != nil {
		return nil, geo.Observation{}, err
	}
	const c = geo.WaterloggingPoints
	actor, err := writer(ctx)
	if err != nil {
		return nil, geo.Observation{}, err
	}
	if o, err = o.WithCleanPhoto(); err != nil { // before the lock: it decodes and encodes a JPEG
		return nil, geo.Observation{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := now()
	rec, err := o.Receive(featureID, at, actor)
	if err != nil {
		return nil, geo.Observation{}, err
	}
	old, err := s.feature(c, featureID)
	if err != nil {
		return nil, geo.Observation{}, err
	}
	if old == nil {
		return nil, geo.Observation{}, geo.Errorf(geo.NotFound, "no feature %q in %s", featureID, c)
	}
	if version != 0 && old.Version != version {
		return nil, geo.Observation{}, geo.Errorf(geo.Conflict, "feature %q of %s is at version %d, not %d", featureID, c, old.Version, version)
	}
	w := write{c: c, action: geo.ActionObserve, bump: true}
	after := old
	if p, current := geo.ObservationPatch(old, rec); current {
		next, err := s.schemas[c].Prepare(p.Apply(old))
		if err != nil {
			return nil, geo.Observation{}, err
		}
		next.Version = old.Version + 1
		w.changes = []change{{featureID, next, old}}
		after = next
	} else {
		w.audit = []geo.AuditEntry{{Collection: c, FeatureID: featureID, Action: geo.ActionObserve,
			Version: old.Version, Before: old, After: old}}
	}
	var stored geo.Observation
	w.extra = func(tx *bolt.Tx) error {
		b := tx.Bucket(observationsBucket)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = int64(id)
		if rec.Photo != nil {
			rec.Photo.ObservationID = rec.ID
			if err := putPhoto(tx, rec.Photo); err != nil {
				return err
			}
		}
		raw, err := encodeObservation(rec)
		if err != nil {
			return err
		}
		stored = rec
		stored.Photo = rec.Photo.Meta()
		return b.Put(observationKey(featureID, id), raw)
	}
	w.result.Observation = &stored
	if err := s.commit(ctx, at, actor, w); err != nil {
		return nil, geo.Observation{}, err
	}
	return after.Clone(), stored, nil
}

// Observations returns the reports of featureID matching q, newest first,
// from one read transaction over the point's range of keys.
func (s *Store) Observations(ctx context.Context, featureID string, q geo.ObservationQuery) ([]geo.Observation, int, error) {
	if err := geo.CheckText("id", featureID); err != nil {
		return nil, 0, err
	}
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	_, exists := s.collections[geo.WaterloggingPoints].byID[featureID]
	s.mu.RUnlock()
	var (
		matched []geo.Observation
		found   bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := observationPrefix(featureID)
		c := tx.Bucket(observationsBucket).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			found = true
			o, err := decodeObservation(k, v)
			if err != nil {
				return err
			}
			if q.Matches(o) {
				matched = append(matched, o)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("embedded: observations of %s: %w", featureID, err)
	}
	if !found && !exists {
		return nil, 0, geo.Errorf(geo.NotFound, "no feature %q in %s", featureID, geo.WaterloggingPoints)
	}
	slices.SortFunc(matched, func(a, b geo.Observation) int {
		return cmp.Or(b.At().Compare(a.At()), cmp.Compare(b.ID, a.ID))
	})
	return page(matched, q.Limit, q.Offset), len(matched), nil
}
