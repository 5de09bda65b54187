package geo

import "context"

// Store keeps the features of the collections in Schemas, their audit log,
// the status reports of the waterlogging points and the API's tokens.
// Implementations are safe for concurrent use. Unknown collections are
// NotFound errors.
//
// Every method that writes either writes all it was asked to or nothing,
// and in the same transaction appends one AuditEntry per feature (or
// token) it wrote, recording ActorFrom(ctx) (see Ledger), and records the
// answer of the idempotency key that ctx may carry (WithIdempotency). A
// write that fails — Invalid, NotFound, Conflict, or an actor that fails
// Actor.Validate — appends no entry and no Change and records no answer.
// Stores do not authorize: the API checks roles before it calls a write.
type Store interface {
	Ledger
	TokenStore
	SignInStore      // signin.go: one-time sign-in codes
	IdempotencyStore // idempotency.go: Idempotency-Key records
	FieldStore       // proposal.go: photos and location proposals
	WaterStore       // waterstore.go: readings, alerts, deliveries

	// Read calls fn with a View of the collections as they are at one
	// moment, and returns what fn returns (or an error of the store's own
	// when the snapshot cannot be had). Everything fn reads through the
	// View agrees, whatever is written meanwhile: see View.
	//
	// fn must read through v only. It must not call the Store, which may
	// wait for a write that waits for fn: a deadlock. It should do no
	// more than read (encode after Read returns), because on the embedded
	// store writes wait until fn returns.
	Read(ctx context.Context, fn func(v View) error) error
	// Version returns the version of c as it is now (what View.Stamp
	// says), in one cheap read of its own: callers ask it on every request to decide whether a cached
	// response is still good. A response built from data is labelled with
	// the Stamp of the View that read the data, never with a Version read
	// beside it.
	Version(ctx context.Context, c string) (int64, error)
	// Feature returns one feature, or a NotFound error. The feature
	// carries its own version (what a write's If-Match names), so it
	// needs no View.
	Feature(ctx context.Context, c, id string) (*Feature, error)
	// Create validates and stores a new feature. An empty f.ID is replaced
	// by a generated one. On success f.Version is 1 and f.Updated is set.
	// An existing id is a Conflict.
	Create(ctx context.Context, c string, f *Feature) error
	// Replace stores f in place of the feature with f.ID if f.Version equals
	// the stored version; otherwise it returns a Conflict and changes
	// nothing. On success f.Version is the new version.
	Replace(ctx context.Context, c string, f *Feature) error
	// Patch applies p to the feature if version equals the stored version
	// and the result is valid, and returns the new feature.
	Patch(ctx context.Context, c, id string, version int64, p Patch) (*Feature, error)
	// Delete removes the feature if version equals the stored version.
	Delete(ctx context.Context, c, id string, version int64) error
	// Import validates and creates every feature of fs in one transaction:
	// if one is invalid or its id exists, nothing is written.
	Import(ctx context.Context, c string, fs []*Feature) error
	// Apply writes batch b to c in one transaction: every feature of
	// b.Create is created as Create would (an empty ID gets one), and
	// every feature of b.Replace replaces the stored feature with its ID
	// if its Version is the stored version, as Replace would. If any
	// feature is invalid, a created id is taken (or given twice), or a
	// replaced feature is missing, given twice or at another version,
	// nothing is written and the error (Invalid, Conflict or NotFound)
	// names it. Each feature written gets one audit entry with
	// ActionImport. On success every feature's ID, Version and Updated
	// are set; an empty batch writes nothing.
	Apply(ctx context.Context, c string, b Batch) error
	// Seed imports fs into c if c has never been seeded and holds no
	// features, and marks c as seeded either way, so that features deleted
	// later are not brought back. It reports whether it imported.
	Seed(ctx context.Context, c string, fs []*Feature) (bool, error)
	// AddObservation records a crew's status report o on the waterlogging
	// point featureID, in one transaction: it stores the observation (ID,
	// FeatureID, Time, Actor set by the store; see Observation.Receive),
	// makes it the point's current status (ObservationPatch: properties
	// status, depth_cm, status_updated_at, bumping the point's version)
	// unless a newer report is already current, bumps the collection's
	// version, and appends an audit entry with ActionObserve. It returns
	// the point after the write and the stored observation.
	//
	// A photo (o.Photo, as sent) is cleaned with CleanPhoto before
	// anything is locked (Invalid, naming "photo", when it is not a JPEG
	// within the limits) and stored in the same transaction; the returned
	// observation carries it without its data (Store.Photo has it).
	//
	// version is the point's version the report was based on (the API's
	// If-Match), or 0 not to check it; a mismatch is a Conflict. A point
	// that does not exist is NotFound; an invalid o is Invalid with field
	// errors (Observation.Validate). A report older than the current status
	// (queued on a phone while a newer one arrived) is appended to the
	// history only: the point's properties and version stay, and its audit
	// entry has equal Before and After.
	AddObservation(ctx context.Context, featureID string, version int64, o Observation) (*Feature, Observation, error)
	// Observations returns the status reports of featureID matching q,
	// newest first (by Observation.At, then by ID), and the total that
	// matched before paging. The history outlives the point: reports of a
	// deleted point are still returned (a point created again with the
	// same id continues that history). An id that is not a point and has
	// no history is NotFound; a point without reports is an empty,
	// non-nil slice. A bad q is Invalid (ObservationQuery.Check).
	Observations(ctx context.Context, featureID string, q ObservationQuery) ([]Observation, int, error)
	// Ping reports whether the store can serve requests; an Unavailable
	// error when its backend cannot be reached.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// View is the collections of a Store as of one snapshot, given to the
// function passed to Store.Read. Everything read through one View agrees,
// whatever is written meanwhile: a page with its total, the features with
// their collection's Stamp and CollectionInfo, the nearest depots with the
// depots' features, and one collection with another (a reach report reads
// the depots and the hazards). So a response built from one View is
// exactly the data that its Stamp names. PostGIS reads in one read-only
// REPEATABLE READ transaction; the embedded store holds its read lock.
//
// A View is valid only until the function it was given to returns (its
// methods fail after that), and is not safe for concurrent use. Unknown collections are NotFound
// errors. fn should return the error of a View method: on PostGIS a
// statement that failed aborts the transaction, and the View with it.
type View interface {
	// Collections returns the state of every collection, in Schemas order.
	Collections(ctx context.Context) ([]CollectionInfo, error)
	// Collection returns the state of collection c. It counts and
	// measures the features; Stamp does not.
	Collection(ctx context.Context, c string) (CollectionInfo, error)
	// Stamp returns the version of c and the time of its last write,
	// cheaply: what a response built from this View is labelled with.
	Stamp(ctx context.Context, c string) (Stamp, error)
	// Features returns the features of c matching q in id order and the
	// total that matched before paging. No match is an empty, non-nil slice.
	Features(ctx context.Context, c string, q Query) ([]*Feature, int, error)
	// AppendFeatures appends to buf the features Features(ctx, c, q)
	// would return, each as the GeoJSON Feature that geojson.AppendFeature
	// writes for the schema's Redact(f, role), separated by commas, and
	// returns buf, how many it appended and the total that matched before
	// paging. Stores keep every feature encoded for both views, so a page
	// is copied rather than decoded and encoded again: the bytes are
	// exactly those of the encoder, on every store.
	AppendFeatures(ctx context.Context, buf []byte, c string, q Query, role Role) ([]byte, int, int, error)
	// NearestDepots returns, for each of q.Points in order, the q.K depots
	// nearest to it by ellipsoidal (WGS-84) distance, as Distance computes
	// it, among the located (Point) depots that q.Filter keeps: exactly
	// the first q.K of those depots sorted by (distance, id), as
	// NearestDepotsIn computes by brute force, with distances equal to the
	// centimetre. A point that is not a valid position (ValidPoint) gets
	// an empty list. The outer slice and every list are non-nil. A bad q
	// is Invalid (NearestQuery.Check).
	NearestDepots(ctx context.Context, q NearestQuery) ([][]Neighbor, error)
}

// Ledger is the record of every write of a Store: the audit log and the
// stream of changes derived from it.
//
// Order: Seq is assigned in commit order. Once a reader has seen an entry
// (through Audit or Changes), every entry with a smaller Seq has
// committed and is visible to it too: no later read returns an entry with
// a Seq below one already returned. So "every change after n" is always
// Changes(n, …), and a client that remembers the last Seq it saw misses
// nothing. Seq may have gaps; readers must not rely on it having none.
type Ledger interface {
	// Audit returns the audit entries matching q and the total that
	// matched before paging: newest first, or oldest first when
	// q.AfterSeq > 0. No match is an empty, non-nil slice. A bad q is
	// Invalid (AuditQuery.Check).
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, int, error)
	// Changes returns the changes with Seq > afterSeq, oldest first, at
	// most ChangeLimit(limit) of them; an empty, non-nil slice when there
	// are none. They are the audit entries without their data, so Changes
	// and Audit never disagree. A negative afterSeq is Invalid.
	Changes(ctx context.Context, afterSeq int64, limit int) ([]Change, error)
	// Subscribe returns a channel that receives a value soon after any
	// write that added changes commits, in this process or (PostGIS) any
	// other process on the same database. Signals are coalesced and never
	// block the writer: one signal may stand for many writes, and a
	// subscriber reacts by reading Changes from the last Seq it saw. A
	// subscriber may also be signalled when nothing new has committed (the
	// PostGIS store signals every subscriber when its listening connection
	// is re-established, as changes may have been missed while it was
	// down). A signal is not repeated: a subscriber whose Changes call
	// fails after one (the database still coming back) must retry on its
	// own. The channel is closed when ctx ends or the store is closed.
	Subscribe(ctx context.Context) (<-chan struct{}, error)
}

// TokenStore keeps the API's bearer tokens. Every write appends an audit
// entry (Collection TokensCollection; the hash is never recorded).
type TokenStore interface {
	// CreateToken stores t, which must pass Token.Validate (else Invalid);
	// an id or hash already stored is a Conflict. Times are stored as
	// Token.Normalize returns them.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token whose Hash is hash, revoked or expired
	// ones included (Token.Check tells), or a NotFound error. Stores look
	// it up by hash and confirm with Token.Matches (constant time). Use
	// Authenticate rather than calling it directly.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// Tokens returns every token, revoked and expired ones included, by
	// creation time then id; an empty, non-nil slice when there are none.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks the token id revoked now, or returns NotFound.
	// Revoking a revoked token changes nothing and is not an error. An id
	// that is not a token yet but the TokenID of an unused sign-in code
	// (SignInStore) revokes the code: it can no longer be exchanged.
	RevokeToken(ctx context.Context, id string) error
}
