package embedded

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
)

// Readings live in one bucket keyed by gauge id, a 0 byte (which no id
// holds) and the reading's time as 8 big-endian bytes (Unix microseconds
// with the sign bit flipped, so that byte order is time order before 1970
// too). So one gauge's series is one range of keys in time order: a chart
// is a range scan, the latest reading is one seek to the end of the range
// and a step back, and a second reading at the same time is the same key
// (a Conflict). The value is a compact binary record (readingRecord): a
// flood season of 30 gauges is 6.5 million of them.
//
// Alerts are few (at most one unresolved per gauge and kind): one bucket
// keyed by id, read whole. Deliveries are keyed by alert id, 0, seq.

func readingPrefix(gauge string) []byte { return append([]byte(gauge), 0) }

func readingKey(gauge string, at time.Time) []byte {
	return binary.BigEndian.AppendUint64(readingPrefix(gauge), uint64(at.UnixMicro())^(1<<63))
}

// afterPrefix returns the first key after every key of gauge's range.
func afterPrefix(gauge string) []byte { return append([]byte(gauge), 1) }

// encodeReading is the value of a reading: id, level (IEEE 754 bits) and
// received time (Unix µs) as 8 bytes each, then source, note and the
// actor's id, name and role, each a uvarint length and the bytes.
func encodeReading(r geo.Reading) []byte {
	b := make([]byte, 0, 64+len(r.Note)+len(r.Actor.Name))
	b = binary.BigEndian.AppendUint64(b, uint64(r.ID))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.Level))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Received.UnixMicro()))
	for _, s := range []string{r.Source, r.Note, r.Actor.ID, r.Actor.Name, string(r.Actor.Role)} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeReading(key, v []byte) (geo.Reading, error) {
	sep := len(key) - 9
	if sep < 0 || key[sep] != 0 || len(v) < 24 {
		return geo.Reading{}, fmt.Errorf("bad reading record %x", key)
	}
	r := geo.Reading{GaugeID: string(key[:sep]),
		At:       time.UnixMicro(int64(binary.BigEndian.Uint64(key[sep+1:]) ^ (1 << 63))).UTC(),
		ID:       int64(binary.BigEndian.Uint64(v)),
		Level:    math.Float64frombits(binary.BigEndian.Uint64(v[8:])),
		Received: time.UnixMicro(int64(binary.BigEndian.Uint64(v[16:]))).UTC()}
	rest := v[24:]
	var strs [5]string
	for i := range strs {
		n, k := binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < n {
			return r, fmt.Errorf("bad reading record %x", key)
		}
		strs[i], rest = string(rest[k:k+int(n)]), rest[k+int(n):]
	}
	r.Source, r.Note, r.Actor = strs[0], strs[1], geo.Actor{ID: strs[2], Name: strs[3], Role: geo.Role(strs[4])}
	return r, nil
}

// gauge returns the typed gauge id, ok false when there is none (or it
// is not a valid gauge); the caller holds mu.
func (s *Store) gauge(id string) (g geo.Gauge, ok bool, err error) {
	f, err := s.feature(geo.Gauges, id)
	if f == nil || err != nil {
		return g, false, err
	}
	g, err = geo.GaugeOf(f)
	return g, err == nil, nil
}

// numberReadings gives rs the ids after the readings bucket's sequence.
// The caller holds mu, so that no other write takes them before its
// commit advances the sequence (putReadings).
func (s *Store) numberReadings(rs []geo.Reading) error {
	var seq uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		seq = tx.Bucket(readingsBucket).Sequence()
		return nil
	})
	for i := range rs {
		rs[i].ID = int64(seq) + int64(i) + 1
	}
	return err
}

// putReadings stores rs (received and numbered already) and advances the
// bucket's sequence past them; a key already stored is a Conflict naming
// field(i).
func putReadings(tx *bolt.Tx, rs []geo.Reading, field func(i int) string) error {
	b := tx.Bucket(readingsBucket)
	// Readings arrive in time order, so each gauge's range grows at its
	// end: pages split there can be left nearly full instead of half
	// (bbolt's default), which halves the file of a season's series.
	b.FillPercent = 0.9
	for i := range rs {
		k := readingKey(rs[i].GaugeID, rs[i].At)
		if b.Get(k) != nil {
			return geo.DuplicateReading(field(i), rs[i].GaugeID, rs[i].At)
		}
		if err := b.Put(k, encodeReading(rs[i])); err != nil {
			return err
		}
	}
	if len(rs) == 0 {
		return nil
	}
	return b.SetSequence(uint64(rs[len(rs)-1].ID))
}

// AddReading records one reading (see geo.WaterStore).
func (s *Store) AddReading(ctx context.Context, r geo.Reading) (geo.Reading, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.Reading{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok, err := s.gauge(r.GaugeID)
	if err != nil {
		return geo.Reading{}, err
	}
	if !ok {
		return geo.Reading{}, geo.Errorf(geo.NotFound, "no feature %q in %s", r.GaugeID, geo.Gauges)
	}
	at := now()
	rec, err := r.Receive(g, at, actor)
	if err != nil {
		return geo.Reading{}, err
	}
	rs := []geo.Reading{rec}
	if err := s.numberReadings(rs); err != nil {
		return geo.Reading{}, fmt.Errorf("embedded: number a reading: %w", err)
	}
	err = s.commit(ctx, at, actor, write{
		extra: func(tx *bolt.Tx) error { return putReadings(tx, rs, func(int) string { return "at" }) },
		audit: []geo.AuditEntry{{Collection: geo.ReadingsCollection, FeatureID: rec.GaugeID, Action: geo.ActionReading,
			Version: 1, After: rs[0].AuditFeature()}},
		result: geo.WriteResult{Reading: &rs[0]},
	})
	if err != nil {
		return geo.Reading{}, err
	}
	return rs[0], nil
}

// ImportReadings records every reading of rs or none (see
// geo.WaterStore).
func (s *Store) ImportReadings(ctx context.Context, rs []geo.Reading) (int, error) {
	actor, err := writer(ctx)
	if err != nil {
		return 0, err
	}
	if len(rs) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gauges := map[string]geo.Gauge{}
	for _, r := range rs {
		if _, ok := gauges[r.GaugeID]; !ok {
			g, ok, err := s.gauge(r.GaugeID)
			if err != nil {
				return 0, err
			}
			if ok {
				gauges[r.GaugeID] = g
			}
		}
	}
	at := now()
	recs, err := geo.ReceiveAll(rs, gauges, at, actor)
	if err != nil {
		return 0, err
	}
	if err := s.numberReadings(recs); err != nil {
		return 0, fmt.Errorf("embedded: number readings: %w", err)
	}
	err = s.commit(ctx, at, actor, write{
		extra: func(tx *bolt.Tx) error {
			return putReadings(tx, recs, func(i int) string { return fmt.Sprintf("readings[%d].at", i) })
		},
		audit: geo.ImportAudit(recs, at),
	})
	if err != nil {
		return 0, err
	}
	return len(recs), nil
}

// Readings returns the readings of gauge matching q (see
// geo.WaterStore): a range scan of the gauge's keys.
func (s *Store) Readings(ctx context.Context, gauge string, q geo.ReadingQuery) ([]geo.Reading, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	s.mu.RLock()
	_, exists := s.collections[geo.Gauges].byID[gauge]
	s.mu.RUnlock()
	out := []geo.Reading{}
	var (
		total int
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(readingsBucket).Cursor()
		prefix := readingPrefix(gauge)
		k, _ := c.Seek(prefix)
		found = k != nil && bytes.HasPrefix(k, prefix)
		lo, hi := prefix, afterPrefix(gauge)
		if !q.From.IsZero() {
			lo = readingKey(gauge, q.From)
		}
		if !q.To.IsZero() {
			hi = readingKey(gauge, q.To)
		}
		var v []byte
		var next func() ([]byte, []byte)
		if q.Newest {
			k, v = c.Seek(hi)
			if k == nil {
				k, v = c.Last()
			}
			if k != nil && bytes.Compare(k, hi) >= 0 {
				k, v = c.Prev()
			}
			next = c.Prev
		} else {
			k, v = c.Seek(lo)
			next = c.Next
		}
		for ; k != nil && bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0; k, v = next() {
			total++
			if total <= q.Offset || len(out) >= q.PageSize() {
				continue
			}
			r, err := decodeReading(k, v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("embedded: readings of %s: %w", gauge, err)
	}
	if !found && !exists {
		return nil, 0, geo.Errorf(geo.NotFound, "no feature %q in %s", gauge, geo.Gauges)
	}
	return out, total, nil
}

// LatestReadings returns the latest reading of each gauge (see
// geo.WaterStore): per gauge one seek past its range and one step back.
func (s *Store) LatestReadings(ctx context.Context, gauges ...string) ([]geo.Reading, error) {
	out := []geo.Reading{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(readingsBucket).Cursor()
		latest := func(gauge string) error {
			var k, v []byte
			if k, _ = c.Seek(afterPrefix(gauge)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
			if k == nil || !bytes.HasPrefix(k, readingPrefix(gauge)) || len(k) != len(gauge)+9 {
				return nil
			}
			r, err := decodeReading(k, v)
			if err == nil {
				out = append(out, r)
			}
			return err
		}
		if len(gauges) > 0 {
			for _, g := range gauges {
				if err := latest(g); err != nil {
					return err
				}
			}
			return nil
		}
		for k, _ := c.First(); k != nil; {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				return fmt.Errorf("bad reading key %x", k)
			}
			g := string(k[:i])
			if err := latest(g); err != nil {
				return err
			}
			k, _ = c.Seek(afterPrefix(g))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: latest readings: %w", err)
	}
	return out, nil
}

// alerts returns every stored alert; the caller holds mu (or accepts a
// snapshot).
func (s *Store) alerts() ([]geo.Alert, error) {
	var out []geo.Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(alertsBucket).ForEach(func(_, v []byte) error {
			var a geo.Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: read alerts: %w", err)
	}
	return out, nil
}

// putAlert stores a and the outbox entry of its step (geo.PendingOf),
// in one transaction.
func putAlert(a geo.Alert) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if err := tx.Bucket(alertsBucket).Put([]byte(a.ID), raw); err != nil {
			return err
		}
		return putPending(tx, geo.PendingOf(a))
	}
}

// OpenAlert stores a unless an unresolved alert of its gauge and kind
// exists (see geo.WaterStore); the store's lock makes check and write
// one.
func (s *Store) OpenAlert(ctx context.Context, a geo.Alert) (geo.Alert, bool, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.Alert{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.alerts()
	if err != nil {
		return geo.Alert{}, false, err
	}
	for _, x := range all {
		if x.GaugeID == a.GaugeID && x.Kind == a.Kind && x.State != geo.AlertResolved {
			return x, false, nil
		}
	}
	a = a.Clone()
	a.ID = geo.NewID()
	w := write{extra: putAlert(a), audit: []geo.AuditEntry{{Collection: geo.AlertsCollection, FeatureID: a.ID,
		Action: geo.ActionOpen, Version: a.Version, After: a.AuditFeature()}}, result: geo.WriteResult{Alert: &a}}
	if err := s.commit(ctx, now(), actor, w); err != nil {
		return geo.Alert{}, false, err
	}
	return a, true, nil
}

// alert reads alert id.
func (s *Store) alert(id string) (geo.Alert, error) {
	var (
		a     geo.Alert
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(alertsBucket).Get([]byte(id))
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, &a)
	})
	if err != nil {
		return a, fmt.Errorf("embedded: read alert %s: %w", id, err)
	}
	if !found {
		return a, geo.Errorf(geo.NotFound, "no alert %q", id)
	}
	return a, nil
}

// ChangeAlert applies t to alert id at version (see geo.WaterStore).
func (s *Store) ChangeAlert(ctx context.Context, id string, version int64, t geo.AlertTransition, at time.Time) (geo.Alert, error) {
	actor, err := writer(ctx)
	if err != nil {
		return geo.Alert{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.alert(id)
	if err != nil {
		return geo.Alert{}, err
	}
	if version != 0 && old.Version != version {
		return geo.Alert{}, geo.Errorf(geo.Conflict, "alert %q is at version %d, not %d", id, old.Version, version)
	}
	a, err := old.Apply(t, at, actor)
	if err != nil {
		return geo.Alert{}, err
	}
	w := write{extra: putAlert(a), audit: []geo.AuditEntry{{Collection: geo.AlertsCollection, FeatureID: id,
		Action: t.Action, Version: a.Version, Before: old.AuditFeature(), After: a.AuditFeature()}}, result: geo.WriteResult{Alert: &a}}
	if err := s.commit(ctx, now(), actor, w); err != nil {
		return geo.Alert{}, err
	}
	return a, nil
}

// Alert returns alert id.
func (s *Store) Alert(ctx context.Context, id string) (geo.Alert, error) {
	return s.alert(id)
}

// Alerts returns the alerts matching q, newest first.
func (s *Store) Alerts(ctx context.Context, q geo.AlertQuery) ([]geo.Alert, int, error) {
	if err := q.Check(); err != nil {
		return nil, 0, err
	}
	all, err := s.alerts()
	if err != nil {
		return nil, 0, err
	}
	matched := slices.DeleteFunc(all, func(a geo.Alert) bool { return !q.Matches(a) })
	slices.SortFunc(matched, func(a, b geo.Alert) int {
		return cmp.Or(b.Opened.Compare(a.Opened), strings.Compare(b.ID, a.ID))
	})
	return page(matched, q.Limit, q.Offset), len(matched), nil
}

// RecordDelivery stores d (see geo.WaterStore).
func (s *Store) RecordDelivery(ctx context.Context, d geo.Delivery) (geo.Delivery, error) {
	if err := d.Check(); err != nil {
		return d, err
	}
	d.At = d.At.UTC().Truncate(time.Microsecond)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(deliveriesBucket)
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		d.ID = int64(id)
		raw, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(append([]byte(d.AlertID), 0), id), raw)
	})
	if err != nil {
		return d, fmt.Errorf("embedded: record delivery: %w", err)
	}
	return d, nil
}

// Deliveries returns the deliveries of alert id, oldest first.
func (s *Store) Deliveries(ctx context.Context, alertID string) ([]geo.Delivery, error) {
	out := []geo.Delivery{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(deliveriesBucket).Cursor()
		prefix := append([]byte(alertID), 0)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = c.Next() {
			var d geo.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: deliveries of %s: %w", alertID, err)
	}
	return out, nil
}

// page returns a copy of the page of xs that limit (0: no cap) and offset
// select; an empty, non-nil slice past the end.
func page[T any](xs []T, limit, offset int) []T {
	if offset >= len(xs) {
		return []T{}
	}
	xs = xs[offset:]
	if limit > 0 && len(xs) > limit {
		xs = xs[:limit]
	}
	return slices.Clone(xs)
}
