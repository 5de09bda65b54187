package geo

import (
	"fmt"
	"time"
)

// The outbox of alert deliveries. A message about an alert must not be
// lost between the write of the alert's step and its hand-over to the
// WeCom robot (a crash, a restart, a full queue). So every step a store
// writes (OpenAlert that opens, ChangeAlert) also puts a Pending entry in
// the store's outbox, in the same transaction: the step and the duty to
// deliver it commit together or not at all. A dispatcher (notify) claims
// due entries with a lease, delivers them, records each delivery's
// result (RecordDelivery) and finishes the entry, or sets it due again
// later. An instance that dies holding a lease leaves the entry to be
// claimed again once the lease runs out: delivery is at least once. The
// dedupe key of a message is its alert's id and version (and channel): a
// dispatcher that finds an OK delivery recorded for it does not send it
// again.

// Pending is an alert step waiting in the outbox to be delivered.
type Pending struct {
	// ID is assigned by the store, in the order entries were written.
	ID int64
	// AlertID and AlertVersion name the step.
	AlertID      string
	AlertVersion int64
	// Created is when the step was written (the step's time).
	Created time.Time
	// Due is when it may be claimed next: Created at first, later after
	// a failed attempt.
	Due time.Time
	// Attempts counts the claims, this one included.
	Attempts int
}

// Limits of the outbox.
const (
	// MaxClaim caps the entries one ClaimPending returns.
	MaxClaim = 1000
	// MinLease and MaxLease bound a claim's lease.
	MinLease = time.Second
	MaxLease = time.Hour
)

// CheckOutboxClaim returns an Invalid error naming the offending argument of a
// ClaimPending call.
func CheckOutboxClaim(now time.Time, lease time.Duration, limit int) error {
	switch {
	case now.IsZero():
		return InvalidField("now", "required")
	case lease < MinLease || lease > MaxLease:
		return InvalidField("lease", "must be %v to %v", MinLease, MaxLease)
	case limit < 1 || limit > MaxClaim:
		return InvalidField("limit", "must be 1 to %d", MaxClaim)
	}
	return nil
}

// PendingOf returns the outbox entry of step a (at its current version),
// due at once.
func PendingOf(a Alert) Pending {
	at := a.Updated.UTC().Truncate(time.Microsecond)
	return Pending{AlertID: a.ID, AlertVersion: a.Version, Created: at, Due: at}
}

// ErrLeaseLost is the error of FinishPending for an entry that is no
// longer held by the claim that finishes it (its lease ran out and
// another claim took it, or it was finished already).
func ErrLeaseLost(id int64, attempts int) error {
	return Errorf(Conflict, "outbox entry %d is no longer held by claim %d", id, attempts)
}

// String names p for logs.
func (p Pending) String() string {
	return fmt.Sprintf("%s/%d (entry %d, attempt %d)", p.AlertID, p.AlertVersion, p.ID, p.Attempts)
}
