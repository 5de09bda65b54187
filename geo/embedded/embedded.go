// Package embedded is a geo.Store that needs no database server: features
// live in a bbolt file under the data directory and in memory.
//
// bbolt (go.etcd.io/bbolt) was chosen over a hand-rolled file format: it is
// a maintained, single-file, copy-on-write B+tree whose Update commits only
// after fsync, so a write acknowledged by this store survives SIGKILL and
// power loss. It also takes an exclusive file lock, so two processes cannot
// open the same data directory at once.
//
// All reads of features and tokens are served from an in-memory copy that
// is changed only after the bbolt transaction has committed, under the
// store's write lock; the file is the truth and the copy is rebuilt from
// it on Open. Read holds the read lock while its View is in use, so a
// View sees no write until it is done. The audit log and the observations, which only grow, stay on disk
// and are read through bbolt's read transactions (a consistent snapshot
// each), so memory does not grow with the history.
//
// Every write holds the store's lock from its checks to its commit, so
// writes are serialized: audit seqs (bbolt's bucket sequence, assigned in
// the write's transaction) are in commit order, and a failed write rolls
// its seq back with everything else.
package embedded

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"hazardmap/geo"
)

// FileName is the name of the bbolt file inside the data directory.
const FileName = "hazardmap.db"

// lockTimeout bounds how long Open waits for another process to release
// the file lock before failing with a clear error instead of hanging.
const lockTimeout = 2 * time.Second

// Buckets besides one per collection (named after it).
var (
	stateBucket        = []byte("collection_state")
	auditBucket        = []byte("audit")        // seq (8 bytes, big-endian) → auditRecord
	observationsBucket = []byte("observations") // feature id, 0, id (8 bytes, big-endian) → observationRecord
	tokensBucket       = []byte("tokens")       // id → tokenRecord
	// water.go: readings, alerts and their deliveries.
	readingsBucket   = []byte("readings")   // gauge id, 0, time → readingRecord
	alertsBucket     = []byte("alerts")     // alert id → geo.Alert (JSON)
	deliveriesBucket = []byte("deliveries") // alert id, 0, id → geo.Delivery (JSON)
)

// Store is a geo.Store on a bbolt file. It is safe for concurrent use.
type Store struct {
	db      *bolt.DB
	schemas map[string]*geo.Schema
	order   []string

	mu          sync.RWMutex
	collections map[string]*collection
	tokens      map[string]geo.Token // by id
	tokenByHash map[string]string    // string(hash) → id

	notifier geo.Notifier

	depotIndex depotIndex // see nearest.go
}

var _ geo.Store = (*Store)(nil)

// collection is the in-memory copy of one collection.
type collection struct {
	features map[string]*geo.Feature
	ids      []string // sorted by bytes
	state    state
}

// state is the stored record of a collection's version.
type state struct {
	Version int64     `json:"version"`
	Updated time.Time `json:"updated"`
	Seeded  bool      `json:"seeded"`
}

// record is the stored form of a feature.
type record struct {
	Geometry   []byte         `json:"geometry"` // WKB; absent for a null geometry
	Properties map[string]any `json:"properties"`
	Version    int64          `json:"version"`
	Updated    time.Time      `json:"updated"`
}

// IsLocked reports whether err is Open's failure to lock a file that
// another process holds open.
func IsLocked(err error) bool { return errors.Is(err, bolterrors.ErrTimeout) }

// Open opens (creating if needed) the store in directory dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: create data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("embedded: %s is locked by another process: %w", path, err)
		}
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	s := &Store{db: db, schemas: map[string]*geo.Schema{}, collections: map[string]*collection{},
		tokens: map[string]geo.Token{}, tokenByHash: map[string]string{}}
	for _, sc := range geo.Schemas() {
		s.schemas[sc.ID] = sc
		s.order = append(s.order, sc.ID)
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// load creates missing buckets and reads everything into memory.
func (s *Store) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		states, err := tx.CreateBucketIfNotExists(stateBucket)
		if err != nil {
			return fmt.Errorf("embedded: create state bucket: %w", err)
		}
		for _, name := range [][]byte{auditBucket, observationsBucket, tokensBucket,
			idempotencyBucket, idempotencyExpiryBucket, signInBucket, photosBucket, photoDataBucket, proposalsBucket,
			readingsBucket, alertsBucket, deliveriesBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("embedded: create bucket %s: %w", name, err)
			}
		}
		if err := s.loadTokens(tx); err != nil {
			return err
		}
		for _, c := range s.order {
			b, err := tx.CreateBucketIfNotExists([]byte(c))
			if err != nil {
				return fmt.Errorf("embedded: create bucket %s: %w", c, err)
			}
			col := &collection{features: map[string]*geo.Feature{}}
			if raw := states.Get([]byte(c)); raw != nil {
				if err := json.Unmarshal(raw, &col.state); err != nil {
					return fmt.Errorf("embedded: read state of %s: %w", c, err)
				}
			}
			err = b.ForEach(func(k, v []byte) error {
				f, err := decode(string(k), v)
				if err != nil {
					return fmt.Errorf("embedded: read %s/%s: %w", c, k, err)
				}
				col.features[f.ID] = f
				col.ids = append(col.ids, f.ID) // bbolt iterates in byte order
				return nil
			})
			if err != nil {
				return err
			}
			s.collections[c] = col
		}
		return nil
	})
}

func decode(id string, raw []byte) (*geo.Feature, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	f := &geo.Feature{ID: id, Properties: r.Properties, Version: r.Version, Updated: r.Updated}
	if f.Properties == nil {
		f.Properties = map[string]any{}
	}
	if r.Geometry != nil {
		g, err := wkb.Unmarshal(r.Geometry)
		if err != nil {
			return nil, err
		}
		f.Geometry = g
	}
	return f, nil
}

func encode(f *geo.Feature) ([]byte, error) {
	r, err := toRecord(f)
	if err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

func toRecord(f *geo.Feature) (record, error) {
	r := record{Properties: f.Properties, Version: f.Version, Updated: f.Updated}
	if f.Geometry != nil {
		g, err := wkb.Marshal(f.Geometry)
		if err != nil {
			return r, err
		}
		r.Geometry = g
	}
	return r, nil
}

// Close ends every subscription and closes the bbolt file.
func (s *Store) Close() error {
	s.notifier.Close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded: close: %w", err)
	}
	return nil
}

// Ping reports whether the file is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.db.Path() == "" {
		return geo.Errorf(geo.Unavailable, "embedded store is closed")
	}
	return nil
}

func (s *Store) schema(c string) (*geo.Schema, error) {
	sc, ok := s.schemas[c]
	if !ok {
		return nil, geo.Errorf(geo.NotFound, "no collection %q", c)
	}
	return sc, nil
}

// Collections returns the state of every collection.
func (v *view) Collections(ctx context.Context) ([]geo.CollectionInfo, error) {
	s, err := v.store()
	if err != nil {
		return nil, err
	}
	out := make([]geo.CollectionInfo, 0, len(s.order))
	for _, c := range s.order {
		out = append(out, s.info(c))
	}
	return out, nil
}

// Collection returns the state of collection c.
func (v *view) Collection(ctx context.Context, c string) (geo.CollectionInfo, error) {
	s, err := v.store()
	if err != nil {
		return geo.CollectionInfo{}, err
	}
	if _, err := s.schema(c); err != nil {
		return geo.CollectionInfo{}, err
	}
	return s.info(c), nil
}

// Version returns the data version of collection c now.
func (s *Store) Version(ctx context.Context, c string) (int64, error) {
	if _, err := s.schema(c); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.collections[c].state.Version, nil
}

func (s *Store) info(c string) geo.CollectionInfo {
	col := s.collections[c]
	in := geo.CollectionInfo{ID: c, Count: len(col.features), Version: col.state.Version, Updated: col.state.Updated}
	var ext orb.Bound
	for _, f := range col.features {
		if f.Geometry == nil {
			continue
		}
		if in.Located == 0 {
			ext = f.Geometry.Bound()
		} else {
			ext = ext.Union(f.Geometry.Bound())
		}
		in.Located++
	}
	if in.Located > 0 {
		in.Extent = &ext
	}
	return in
}

// Features returns the features of c matching q, in id order.
func (v *view) Features(ctx context.Context, c string, q geo.Query) ([]*geo.Feature, int, error) {
	s, err := v.store()
	if err != nil {
		return nil, 0, err
	}
	sc, err := s.schema(c)
	if err != nil {
		return nil, 0, err
	}
	if err := sc.CheckQuery(q); err != nil {
		return nil, 0, err
	}
	col := s.collections[c]
	out := []*geo.Feature{}
	total := 0
	for _, id := range col.ids {
		f := col.features[id]
		if !matches(f, q) {
			continue
		}
		total++
		if total > q.Offset && (q.Limit <= 0 || len(out) < q.Limit) {
			out = append(out, f.Clone())
		}
	}
	return out, total, nil
}

func matches(f *geo.Feature, q geo.Query) bool {
	if q.BBox != nil && !geo.Intersects(f.Geometry, *q.BBox) {
		return false
	}
	if q.Datetime != nil && !q.Datetime.Contains(f.Updated) {
		return false
	}
	for _, flt := range q.Filters {
		if !flt.Matches(f.Properties) {
			return false
		}
	}
	return true
}

// Feature returns one feature.
func (s *Store) Feature(ctx context.Context, c, id string) (*geo.Feature, error) {
	if err := geo.CheckText("id", id); err != nil {
		return nil, err
	}
	if _, err := s.schema(c); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, ok := s.collections[c].features[id]
	if !ok {
		return nil, geo.Errorf(geo.NotFound, "no feature %q in %s", id, c)
	}
	return f.Clone(), nil
}

// change is one feature write: put (f != nil) or delete (f == nil) id.
// before is the feature as it was (nil for a new one), for the audit log.
type change struct {
	id     string
	f      *geo.Feature
	before *geo.Feature
}

// write is everything one transaction writes.
type write struct {
	// c is the collection whose features change, "" for none (tokens).
	c       string
	changes []change
	// action is the audit action of every change.
	action geo.Action
	// bump advances c's version even without changes (a report that
	// only joins the history).
	bump       bool
	markSeeded bool
	// audit holds entries beyond those of changes (Seq, Time and Actor are
	// set by commit).
	audit []geo.AuditEntry
	// extra writes more records inside the transaction.
	extra func(tx *bolt.Tx) error
	// result is what the write wrote besides its audit entries (a report,
	// a proposal), for the answer of an idempotent write; extra may fill
	// in what it assigns (ids).
	result geo.WriteResult
}

// now returns the time of a write, as PostgreSQL would keep it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// commit runs w in one bbolt transaction (fsynced): the features and the
// collection's state, w.extra, one audit entry per change plus w.audit,
// numbered from the audit bucket's sequence, and the answer of the
// idempotency key that ctx may carry (geo.WithIdempotency). Only after
// the commit does it change memory (features, state) and signal
// subscribers, so a failed write leaves nothing behind, not even a used
// seq. The caller holds mu.
func (s *Store) commit(ctx context.Context, at time.Time, actor geo.Actor, w write) error {
	var (
		col *collection
		st  state
	)
	if w.c != "" {
		col = s.collections[w.c]
		st = col.state
		if len(w.changes) > 0 || w.bump {
			st.Version++
			st.Updated = at
		}
		if w.markSeeded {
			st.Seeded = true
		}
	}
	entries := make([]geo.AuditEntry, 0, len(w.changes)+len(w.audit))
	for _, ch := range w.changes {
		e := geo.AuditEntry{Collection: w.c, FeatureID: ch.id, Action: w.action, Before: ch.before}
		if ch.f != nil {
			ch.f.Updated = at
			e.Version, e.After = ch.f.Version, ch.f
		}
		entries = append(entries, e)
	}
	entries = append(entries, w.audit...)
	for i := range entries {
		entries[i].Time, entries[i].Actor = at, actor
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if w.c != "" {
			if err := putFeatures(tx, w.c, w.changes); err != nil {
				return err
			}
			raw, err := json.Marshal(st)
			if err != nil {
				return err
			}
			if err := tx.Bucket(stateBucket).Put([]byte(w.c), raw); err != nil {
				return err
			}
		}
		if w.extra != nil {
			if err := w.extra(tx); err != nil {
				return err
			}
		}
		if err := appendAudit(tx, entries); err != nil {
			return err
		}
		res := w.result
		res.Entries = entries
		return completeClaim(ctx, tx, res)
	})
	if err != nil {
		if geo.AsError(err) != nil {
			return err
		}
		return fmt.Errorf("embedded: write %s: %w", cmp.Or(w.c, geo.TokensCollection), err)
	}
	if col != nil {
		col.state = st
		col.apply(w.changes)
	}
	if len(entries) > 0 {
		s.notifier.Notify()
	}
	return nil
}

// putFeatures writes the changes of collection c to its bucket.
func putFeatures(tx *bolt.Tx, c string, changes []change) error {
	b := tx.Bucket([]byte(c))
	for _, ch := range changes {
		if ch.f == nil {
			if err := b.Delete([]byte(ch.id)); err != nil {
				return err
			}
			continue
		}
		raw, err := encode(ch.f)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(ch.id), raw); err != nil {
			return err
		}
	}
	return nil
}

// apply changes the in-memory copy after a commit.
func (col *collection) apply(changes []change) {
	for _, ch := range changes {
		i, found := sort.Find(len(col.ids), func(i int) int { return strings.Compare(ch.id, col.ids[i]) })
		if ch.f == nil {
			delete(col.features, ch.id)
			if found {
				col.ids = slices.Delete(col.ids, i, i+1)
			}
			continue
		}
		col.features[ch.id] = ch.f
		if !found {
			col.ids = slices.Insert(col.ids, i, ch.id)
		}
	}
}

// writer returns the actor of ctx, or an Internal error if it cannot be
// recorded.
func writer(ctx context.Context) (geo.Actor, error) {
	a := geo.ActorFrom(ctx)
	if err := a.Validate(); err != nil {
		return a, fmt.Errorf("embedded: %w", err)
	}
	return a, nil
}

// Create validates and stores a new feature.
func (s *Store) Create(ctx context.Context, c string, f *geo.Feature) error {
	sc, err := s.schema(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	p, err := sc.Prepare(f)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = geo.NewID()
	}
	if _, ok := s.collections[c].features[p.ID]; ok {
		return geo.Errorf(geo.Conflict, "feature %q already exists in %s", p.ID, c)
	}
	p.Version = 1
	if err := s.commit(ctx, now(), actor, write{c: c, action: geo.ActionCreate, changes: []change{{p.ID, p, nil}}}); err != nil {
		return err
	}
	f.ID, f.Version, f.Updated = p.ID, p.Version, p.Updated
	return nil
}

// current returns the stored feature id if its version is version.
func (s *Store) current(c, id string, version int64) (*geo.Feature, error) {
	old, ok := s.collections[c].features[id]
	if !ok {
		return nil, geo.Errorf(geo.NotFound, "no feature %q in %s", id, c)
	}
	if old.Version != version {
		return nil, geo.Errorf(geo.Conflict, "feature %q of %s is at version %d, not %d", id, c, old.Version, version)
	}
	return old, nil
}

// Replace stores f in place of the feature f.ID at version f.Version.
func (s *Store) Replace(ctx context.Context, c string, f *geo.Feature) error {
	sc, err := s.schema(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	p, err := sc.Prepare(f)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.current(c, p.ID, p.Version)
	if err != nil {
		return err
	}
	p.Version++
	if err := s.commit(ctx, now(), actor, write{c: c, action: geo.ActionReplace, changes: []change{{p.ID, p, old}}}); err != nil {
		return err
	}
	f.Version, f.Updated = p.Version, p.Updated
	return nil
}

// Patch applies p to feature id at version.
func (s *Store) Patch(ctx context.Context, c, id string, version int64, p geo.Patch) (*geo.Feature, error) {
	if err := geo.CheckText("id", id); err != nil {
		return nil, err
	}
	sc, err := s.schema(c)
	if err != nil {
		return nil, err
	}
	actor, err := writer(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.current(c, id, version)
	if err != nil {
		return nil, err
	}
	next, err := sc.Prepare(p.Apply(old))
	if err != nil {
		return nil, err
	}
	next.Version = old.Version + 1
	if err := s.commit(ctx, now(), actor, write{c: c, action: geo.ActionPatch, changes: []change{{id, next, old}}}); err != nil {
		return nil, err
	}
	return next.Clone(), nil
}

// Delete removes feature id at version.
func (s *Store) Delete(ctx context.Context, c, id string, version int64) error {
	if err := geo.CheckText("id", id); err != nil {
		return err
	}
	if _, err := s.schema(c); err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.current(c, id, version)
	if err != nil {
		return err
	}
	return s.commit(ctx, now(), actor, write{c: c, action: geo.ActionDelete, changes: []change{{id, nil, old}}})
}

// prepareAll validates fs for import into c; the caller holds mu.
func (s *Store) prepareAll(c string, fs []*geo.Feature) ([]change, error) {
	sc := s.schemas[c]
	col := s.collections[c]
	seen := map[string]bool{}
	changes := make([]change, 0, len(fs))
	for i, f := range fs {
		p, err := sc.Prepare(f)
		if err != nil {
			return nil, fmt.Errorf("feature %d (%q): %w", i, f.ID, err)
		}
		if p.ID == "" {
			p.ID = geo.NewID()
		}
		if _, ok := col.features[p.ID]; ok || seen[p.ID] {
			return nil, geo.Errorf(geo.Conflict, "feature %d: id %q is already taken in %s", i, p.ID, c)
		}
		seen[p.ID] = true
		p.Version = 1
		changes = append(changes, change{p.ID, p, nil})
	}
	return changes, nil
}

// Import creates every feature of fs, or none, with one audit entry each.
func (s *Store) Import(ctx context.Context, c string, fs []*geo.Feature) error {
	if _, err := s.schema(c); err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes, err := s.prepareAll(c, fs)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	return s.commit(ctx, now(), actor, write{c: c, action: geo.ActionImport, changes: changes})
}

// Apply writes batch b to c, all or nothing, with one import audit entry
// per feature.
func (s *Store) Apply(ctx context.Context, c string, b geo.Batch) error {
	sc, err := s.schema(c)
	if err != nil {
		return err
	}
	actor, err := writer(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes, err := s.prepareAll(c, b.Create)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, b.Len())
	for _, ch := range changes {
		seen[ch.id] = true
	}
	for i, f := range b.Replace {
		p, err := sc.Prepare(f)
		if err != nil {
			return fmt.Errorf("replaced feature %d (%q): %w", i, f.ID, err)
		}
		if seen[p.ID] {
			return geo.Errorf(geo.Conflict, "feature %q is written twice in one batch", p.ID)
		}
		seen[p.ID] = true
		old, err := s.current(c, p.ID, p.Version)
		if err != nil {
			return err
		}
		p.Version++
		changes = append(changes, change{p.ID, p, old})
	}
	if len(changes) == 0 {
		return nil
	}
	if err := s.commit(ctx, now(), actor, write{c: c, action: geo.ActionImport, changes: changes}); err != nil {
		return err
	}
	for i, f := range append(slices.Clone(b.Create), b.Replace...) {
		f.ID, f.Version, f.Updated = changes[i].id, changes[i].f.Version, changes[i].f.Updated
	}
	return nil
}

// Seed imports fs into c once, if c has never been seeded and is empty,
// with one audit entry per feature.
func (s *Store) Seed(ctx context.Context, c string, fs []*geo.Feature) (bool, error) {
	if _, err := s.schema(c); err != nil {
		return false, err
	}
	actor, err := writer(ctx)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	col := s.collections[c]
	if col.state.Seeded {
		return false, nil
	}
	if len(col.features) > 0 {
		return false, s.commit(ctx, now(), actor, write{c: c, markSeeded: true})
	}
	changes, err := s.prepareAll(c, fs)
	if err != nil {
		return false, err
	}
	if err := s.commit(ctx, now(), actor, write{c: c, action: geo.ActionSeed, changes: changes, markSeeded: true}); err != nil {
		return false, err
	}
	return true, nil
}
