// Package embedded is a geo.Store that needs no database server: features
// live in a bbolt file under the data directory and in memory.
//
// bbolt (go.etcd.io/bbolt) was chosen over a hand-rolled file format: it is
// a maintained, single-file, copy-on-write B+tree whose Update commits only
// after fsync, so a write acknowledged by this store survives SIGKILL and
// power loss. It also takes an exclusive file lock, so two processes cannot
// open the same data directory at once.
//
// Features are kept on disk as GeoJSON, ready to send (record.go), and
// found through an in-memory index of each collection (index.go): an
// R-tree of their bounds, their ids in order, versions, times and the
// values of the filterable properties. The index, like the in-memory
// tokens, is changed only after the bbolt transaction has committed,
// under the store's write lock, so a reader holding the read lock sees
// the index and the file agree; the file is the truth and the index is
// rebuilt from it on Open. Read holds the read lock while its View is in
// use, so a View sees no write until it is done. The audit log and the observations, which only grow, stay
// on disk and are read through bbolt's read transactions (a consistent
// snapshot each), so memory does not grow with the history, and the
// features' bytes are read from bbolt's memory map, so it does not grow
// with the size of their properties either.
//
// Every write holds the store's lock from its checks to its commit, so
// writes are serialized: audit seqs (bbolt's bucket sequence, assigned in
// the write's transaction) are in commit order, and a failed write rolls
// its seq back with everything else.
package embedded

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

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
	outboxBucket     = []byte("outbox")     // id (8 bytes, big-endian) → outboxRecord (JSON)
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
	strings     map[string]any       // one copy of each filterable string value (intern)
	valueSets   map[string][]any     // one copy of each set of filterable values (internValues)

	notifier geo.Notifier

	depotIndex depotIndex // see nearest.go
}

var _ geo.Store = (*Store)(nil)

// state is the stored record of a collection's version.
type state struct {
	Version int64     `json:"version"`
	Updated time.Time `json:"updated"`
	Seeded  bool      `json:"seeded"`
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
		tokens: map[string]geo.Token{}, tokenByHash: map[string]string{}, strings: map[string]any{},
		valueSets: map[string][]any{}}
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

// load creates missing buckets, rebuilds the feature records when their
// format has changed (record.go), and reads the tokens and the index of
// every collection into memory.
func (s *Store) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		states, err := tx.CreateBucketIfNotExists(stateBucket)
		if err != nil {
			return fmt.Errorf("embedded: create state bucket: %w", err)
		}
		for _, name := range [][]byte{auditBucket, observationsBucket, tokensBucket, formatBucket,
			idempotencyBucket, idempotencyExpiryBucket, signInBucket, photosBucket, photoDataBucket, proposalsBucket,
			readingsBucket, alertsBucket, deliveriesBucket, outboxBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("embedded: create bucket %s: %w", name, err)
			}
		}
		if err := s.loadTokens(tx); err != nil {
			return err
		}
		want := recordFingerprint()
		rebuild := !bytes.Equal(tx.Bucket(formatBucket).Get(fingerprint), want)
		if rebuild {
			if err := tx.DeleteBucket(indexBucket); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return fmt.Errorf("embedded: drop the feature index: %w", err)
			}
		}
		ix, err := tx.CreateBucketIfNotExists(indexBucket)
		if err != nil {
			return fmt.Errorf("embedded: create bucket %s: %w", indexBucket, err)
		}
		for _, c := range s.order {
			if _, err := tx.CreateBucketIfNotExists([]byte(c)); err != nil {
				return fmt.Errorf("embedded: create bucket %s: %w", c, err)
			}
			col := newCollection(s.schemas[c])
			if raw := states.Get([]byte(c)); raw != nil {
				if err := json.Unmarshal(raw, &col.state); err != nil {
					return fmt.Errorf("embedded: read state of %s: %w", c, err)
				}
			}
			if rebuild {
				if err := s.rebuild(tx, col.schema); err != nil {
					return err
				}
			}
			prefix := indexKey(c, "")
			cur := ix.Cursor()
			for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
				e, err := s.readIndex(string(k[len(prefix):]), v)
				if err != nil {
					return fmt.Errorf("embedded: read the index of %s/%s: %w", c, k[len(prefix):], err)
				}
				col.byID[e.id] = e
				col.sorted = append(col.sorted, e) // bbolt iterates in byte order
				if e.located {
					col.tree.Insert(e.bound.Min, e.bound.Max, e)
				}
			}
			s.collections[c] = col
		}
		if rebuild {
			return tx.Bucket(formatBucket).Put(fingerprint, want)
		}
		return nil
	})
}

// feature returns feature id of c as stored, or nil when there is none.
// The caller holds mu.
func (s *Store) feature(c, id string) (*geo.Feature, error) {
	if _, ok := s.collections[c].byID[id]; !ok {
		return nil, nil
	}
	fs, err := s.read(c, []string{id})
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

// read returns the features ids of c, which the index holds, decoded from
// their records in one read transaction. The caller holds mu.
func (s *Store) read(c string, ids []string) ([]*geo.Feature, error) {
	out := make([]*geo.Feature, 0, len(ids))
	err := s.records(c, ids, func(id string, rec record) error {
		f, err := rec.feature(id)
		if err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// records calls fn with the record of each of ids of c, in one read
// transaction; rec aliases bbolt's memory map and is valid only during
// the call. The caller holds mu, so the records are those the index
// describes.
func (s *Store) records(c string, ids []string, fn func(id string, rec record) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		cur := newRecordCursor(tx, c)
		for _, id := range ids {
			rec, err := cur.get(id)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if err := fn(id, rec); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: read %s: %w", c, err)
	}
	return nil
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
		out = append(out, s.collections[c].info())
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
	return s.collections[c].info(), nil
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
	page, total := s.collections[c].match(q)
	ids := make([]string, len(page))
	for i, e := range page {
		ids[i] = e.id
	}
	out, err := s.read(c, ids)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// AppendFeatures appends the stored GeoJSON of the features of c that q
// selects, as role may see them, without decoding or encoding any.
func (v *view) AppendFeatures(ctx context.Context, buf []byte, c string, q geo.Query, role geo.Role) ([]byte, int, int, error) {
	s, err := v.store()
	if err != nil {
		return buf, 0, 0, err
	}
	sc, err := s.schema(c)
	if err != nil {
		return buf, 0, 0, err
	}
	if err := sc.CheckQuery(q); err != nil {
		return buf, 0, 0, err
	}
	page, total := s.collections[c].match(q)
	err = s.db.View(func(tx *bolt.Tx) error {
		cur := newRecordCursor(tx, c)
		for i, e := range page {
			rec, err := cur.get(e.id)
			if err != nil {
				return fmt.Errorf("%s: %w", e.id, err)
			}
			doc := rec.view(role)
			if i == 0 {
				// Room for the page at once, guessed from its first
				// feature, rather than doubling as it grows.
				buf = slices.Grow(buf, (len(doc)+1)*len(page))
			} else {
				buf = append(buf, ',')
			}
			buf = append(buf, doc...)
		}
		return nil
	})
	if err != nil {
		return buf, 0, 0, fmt.Errorf("embedded: read %s: %w", c, err)
	}
	return buf, len(page), total, nil
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
	f, err := s.feature(c, id)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, geo.Errorf(geo.NotFound, "no feature %q in %s", id, c)
	}
	return f, nil
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
	var (
		ids []string
		enc []encoded
	)
	if col != nil {
		ids, enc = make([]string, len(w.changes)), make([]encoded, len(w.changes))
		for i, ch := range w.changes {
			ids[i] = ch.id
			if ch.f == nil {
				continue
			}
			var err error
			if enc[i], err = s.encodeFeature(col.schema, ch.f); err != nil {
				return fmt.Errorf("embedded: write %s: %w", w.c, err)
			}
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if w.c != "" {
			if err := putFeatures(tx, w.c, ids, enc); err != nil {
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
		es := make([]*item, len(enc))
		for i := range enc {
			es[i] = enc[i].item
		}
		col.apply(ids, es)
	}
	if len(entries) > 0 {
		s.notifier.Notify()
	}
	return nil
}

// putFeatures writes both records of each of ids of collection c, or
// deletes them where enc[i].record is nil.
func putFeatures(tx *bolt.Tx, c string, ids []string, enc []encoded) error {
	b, ix := tx.Bucket([]byte(c)), tx.Bucket(indexBucket)
	if len(ids) >= bulkApply {
		// An import: ids mostly come in order, and pages filled to 90 %
		// rather than half keep the file (and what of it is mapped into
		// memory) small.
		b.FillPercent, ix.FillPercent = 0.9, 0.9
	}
	for i, id := range ids {
		if enc[i].record == nil {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
			if err := ix.Delete(indexKey(c, id)); err != nil {
				return err
			}
			continue
		}
		if err := b.Put([]byte(id), enc[i].record); err != nil {
			return err
		}
		if err := ix.Put(indexKey(c, id), enc[i].index); err != nil {
			return err
		}
	}
	return nil
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
	if _, ok := s.collections[c].byID[p.ID]; ok {
		return geo.Errorf(geo.Conflict, "feature %q already exists in %s", p.ID, c)
	}
	p.Version = 1
	if err := s.commit(ctx, now(), actor, write{c: c, action: geo.ActionCreate, changes: []change{{p.ID, p, nil}}}); err != nil {
		return err
	}
	f.ID, f.Version, f.Updated = p.ID, p.Version, p.Updated
	return nil
}

// current returns the stored feature id if its version is version. The
// caller holds mu.
func (s *Store) current(c, id string, version int64) (*geo.Feature, error) {
	e, ok := s.collections[c].byID[id]
	if !ok {
		return nil, geo.Errorf(geo.NotFound, "no feature %q in %s", id, c)
	}
	if e.version != version {
		return nil, geo.Errorf(geo.Conflict, "feature %q of %s is at version %d, not %d", id, c, e.version, version)
	}
	return s.feature(c, id)
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
		if _, ok := col.byID[p.ID]; ok || seen[p.ID] {
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
	if len(col.sorted) > 0 {
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
