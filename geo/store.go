package geo

import "context"

// Store keeps the features of the collections in Schemas. Implementations
// are safe for concurrent use. Every method that writes either writes all
// it was asked to or nothing. Unknown collections are NotFound errors.
type Store interface {
	// Collections returns the state of every collection, in Schemas order.
	Collections(ctx context.Context) ([]CollectionInfo, error)
	// Collection returns the state of collection c.
	Collection(ctx context.Context, c string) (CollectionInfo, error)
	// Version returns CollectionInfo.Version of c, cheaply: callers ask it
	// on every request to decide whether cached responses are still good.
	Version(ctx context.Context, c string) (int64, error)
	// Features returns the features of c matching q in id order and the
	// total that matched before paging. No match is an empty, non-nil slice.
	Features(ctx context.Context, c string, q Query) ([]*Feature, int, error)
	// Feature returns one feature, or a NotFound error.
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
	// Seed imports fs into c if c has never been seeded and holds no
	// features, and marks c as seeded either way, so that features deleted
	// later are not brought back. It reports whether it imported.
	Seed(ctx context.Context, c string, fs []*Feature) (bool, error)
	// Ping reports whether the store can serve requests; an Unavailable
	// error when its backend cannot be reached.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}
