package geo

import (
	"context"
	"time"
)

// WaterStore keeps the readings of the gauges, their alerts and the
// deliveries of those alerts. It is part of Store.
//
// Readings and alert steps are writes like any other: each appends audit
// entries (ReadingsCollection, AlertsCollection) in its transaction, and
// so reaches Changes and Subscribe. Times that a caller passes (an
// alert's steps) are the caller's clock, so that an evaluator with an
// injected clock sees its own times back; the audit entry's Time is the
// store's.
type WaterStore interface {
	// AddReading records r (Reading.Receive: Received and Actor set from
	// the store's time and ActorFrom(ctx)) on the gauge r.GaugeID and
	// returns it with its ID. A gauge that does not exist is NotFound; an
	// invalid reading is Invalid (Reading.Check against the gauge); a
	// reading of the same gauge at the same At is a Conflict naming "at"
	// (DuplicateReading). It appends one audit entry (ActionReading,
	// FeatureID the gauge, After Reading.AuditFeature).
	AddReading(ctx context.Context, r Reading) (Reading, error)
	// ImportReadings records every reading of rs, or none: at most
	// MaxReadingsImport of them, each checked as AddReading checks it
	// (errors name "readings[i].field"), none at a gauge and time that is
	// stored or appears twice in rs (Conflict). It appends one audit
	// entry per gauge (ActionImport, After ImportAuditFeature) and
	// returns the number stored.
	ImportReadings(ctx context.Context, rs []Reading) (int, error)
	// Readings returns the readings of gauge matching q and the total
	// that matched before paging. Readings outlive their gauge, like
	// observations. An id with no readings that is not a gauge is
	// NotFound; a gauge without readings an empty, non-nil slice. A bad q
	// is Invalid (ReadingQuery.Check).
	Readings(ctx context.Context, gauge string, q ReadingQuery) ([]Reading, int, error)
	// LatestReadings returns the latest reading (greatest At) of each of
	// gauges that has one, in the order of gauges; every gauge with
	// readings when gauges is empty, by gauge id. It reads one index entry
	// per gauge, never the series.
	LatestReadings(ctx context.Context, gauges ...string) ([]Reading, error)

	// OpenAlert stores a (from NewAlert; the store assigns ID) unless an
	// unresolved alert of the same gauge and kind exists: then it
	// returns that one and false, and writes nothing. Many evaluators
	// (one per API instance on PostGIS) may open the same alert at once;
	// exactly one succeeds. Appends one audit entry (ActionOpen) and,
	// in the same transaction, the outbox entry of the step (PendingOf).
	OpenAlert(ctx context.Context, a Alert) (Alert, bool, error)
	// ChangeAlert applies t to alert id at time now by ActorFrom(ctx)
	// (Alert.Apply) if version is its version (0: whatever it is), and
	// returns it as stored. NotFound, Conflict (version, or a step the
	// state does not allow), Invalid as Apply says. Appends one audit
	// entry with t.Action and, in the same transaction, the outbox entry
	// of the step (PendingOf).
	ChangeAlert(ctx context.Context, id string, version int64, t AlertTransition, now time.Time) (Alert, error)
	// Alert returns alert id, or NotFound.
	Alert(ctx context.Context, id string) (Alert, error)
	// Alerts returns the alerts matching q, newest first (Opened, then
	// ID, descending), and the total before paging. A bad q is Invalid.
	Alerts(ctx context.Context, q AlertQuery) ([]Alert, int, error)

	// RecordDelivery stores d (Delivery.Check, else Invalid) and returns
	// it with its ID. No audit entry.
	RecordDelivery(ctx context.Context, d Delivery) (Delivery, error)
	// Deliveries returns the deliveries of alert id, oldest first.
	Deliveries(ctx context.Context, alertID string) ([]Delivery, error)

	// ClaimPending leases up to limit entries of the outbox (outbox.go)
	// that are due at now and not leased (or whose lease ran out), oldest
	// first, until now+lease, and returns them with Attempts counting
	// this claim. While a lease runs no other claim — of this process or
	// of another instance on the same database — gets the entry. Bad
	// arguments are Invalid (CheckOutboxClaim). No audit entry.
	ClaimPending(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Pending, error)
	// FinishPending ends the claim attempts of entry id: the entry is
	// deleted (retry zero: delivered, or given up), or released and due
	// again at retry. An entry no longer held by that claim (another
	// claim took it after the lease ran out, or it is gone) is a Conflict
	// (ErrLeaseLost) that changes nothing. No audit entry.
	FinishPending(ctx context.Context, id int64, attempts int, retry time.Time) error
}

// WithoutIdempotency returns a copy of ctx that carries no idempotent
// write (WithIdempotency): for the writes a request causes beyond the one
// its Idempotency-Key answers, such as the alert a reading opens.
func WithoutIdempotency(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, (*Idempotent)(nil))
}
