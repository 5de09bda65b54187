package geo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// LocationProposal is a crew's proposed position for a feature that has
// none (待定位) or whose position may be more than LocatePrecisionM off:
// the crew stood there with a phone and the map measured where. It is a
// proposal, not an edit: a planner accepts it (the feature gets the
// position) or rejects it with a reason.
type LocationProposal struct {
	// ID is assigned by the store: positive, increasing in the order the
	// proposals were received.
	ID int64
	// Collection and FeatureID name the feature.
	Collection string
	FeatureID  string
	// Position is where the crew stood, WGS-84 lon/lat as the browser's
	// Geolocation API gives it, whatever datum the map's tiles use.
	Position orb.Point
	// AccuracyM is the radius in metres within which the position lies,
	// as the phone measured it (coords.accuracy).
	AccuracyM float64
	// Method says how the position was taken: LocateAuto, LocateAccepted
	// or LocateDragged.
	Method string
	// Note is free text, at most MaxNoteRunes characters.
	Note string
	// ObservedAt is when the phone measured the position; zero when not
	// given. Like a report's, it may lie at most MaxObservationSkew after
	// Time and at most MaxObservationAge before it (a proposal queued
	// offline keeps its time).
	ObservedAt time.Time
	// Time is when the server received it (set by the store).
	Time time.Time
	// Actor proposed it (set by the store from the context).
	Actor Actor

	// Status is ProposalPending until a planner decides.
	Status string
	// Decided is when it was accepted, rejected or superseded; Decider who
	// did it; Reason why it was rejected or superseded. Zero while
	// pending.
	Decided time.Time
	Decider Actor
	Reason  string
}

// How a position was taken on the phone. The map watches the position and
// accepts a fix by itself at ≤ LocateAutoM, lets the crew accept one up to
// LocateAcceptM, and above that makes the crew drag the pin to the spot
// and confirm it.
const (
	LocateAuto     = "auto"     // accepted by the map at ≤ 10 m
	LocateAccepted = "accepted" // accepted by the crew at ≤ 30 m
	LocateDragged  = "dragged"  // placed by the crew on the map, any accuracy
)

// Accuracy thresholds of the methods, and the precision below which a
// feature no longer needs locating.
const (
	LocateAutoM   = 10
	LocateAcceptM = 30
	// LocatePrecisionM: a feature whose location_precision_m is above it
	// (or null, or that has no geometry) may get proposals.
	LocatePrecisionM = 100
)

// The statuses of a proposal.
const (
	ProposalPending    = "pending"
	ProposalAccepted   = "accepted"
	ProposalRejected   = "rejected"
	ProposalSuperseded = "superseded" // another proposal for the feature was accepted
)

// ProposalStatuses returns every status.
func ProposalStatuses() []string {
	return []string{ProposalPending, ProposalAccepted, ProposalRejected, ProposalSuperseded}
}

// LocateMethods returns every method.
func LocateMethods() []string { return []string{LocateAuto, LocateAccepted, LocateDragged} }

// MaxReasonRunes caps the reason of a rejection.
const MaxReasonRunes = 500

// Validate checks p as a crew sent it (collection, feature id, position,
// accuracy_m, method, note, observed_at; Time, or now when zero, is the
// time of receipt). Errors are Invalid and name those fields. An
// accuracy above a method's threshold is refused: above 30 m the crew
// must drag the pin.
func (p LocationProposal) Validate() error {
	var errs []FieldError
	bad := func(field, detail string) { errs = append(errs, FieldError{Field: field, Detail: detail}) }
	if _, err := SchemaFor(p.Collection); err != nil {
		bad("collection", fmt.Sprintf("%q is not a collection", p.Collection))
	}
	if err := ValidateID(p.FeatureID); err != nil {
		bad("feature_id", "is not a feature id")
	}
	if err := checkPoint(p.Position); err != nil {
		bad("position", err.Error())
	}
	if err := checkAccuracy(p.AccuracyM, true); err != nil {
		bad("accuracy_m", err.Error())
	}
	switch p.Method {
	case LocateAuto:
		if p.AccuracyM > LocateAutoM {
			bad("method", fmt.Sprintf("auto accepts a fix of at most %d m; this one is %.0f m", LocateAutoM, p.AccuracyM))
		}
	case LocateAccepted:
		if p.AccuracyM > LocateAcceptM {
			bad("method", fmt.Sprintf("a crew may accept a fix of at most %d m; above that, drag the pin to the spot and confirm (method dragged)", LocateAcceptM))
		}
	case LocateDragged:
	default:
		bad("method", "must be one of auto, accepted, dragged")
	}
	if err := checkText(p.Note, MaxNoteRunes); err != nil {
		bad("note", err.Error())
	}
	if err := checkObservedAt(p.ObservedAt, p.Time); err != nil {
		bad("observed_at", err.Error())
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "invalid location proposal", Fields: errs}
}

// checkText checks free text: valid UTF-8 without NUL, at most max
// characters.
func checkText(s string, max int) error {
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return fmt.Errorf("must be valid UTF-8 without the NUL character (U+0000)")
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("must be at most %d characters", max)
	}
	return nil
}

// checkObservedAt checks a phone's time against the time of receipt (now
// when zero): at most MaxObservationSkew after, MaxObservationAge before.
func checkObservedAt(at, received time.Time) error {
	if at.IsZero() {
		return nil
	}
	if received.IsZero() {
		received = time.Now()
	}
	switch {
	case at.After(received.Add(MaxObservationSkew)):
		return fmt.Errorf("is in the future (more than 5 minutes after the server's time): check the phone's clock")
	case at.Before(received.Add(-MaxObservationAge)):
		return fmt.Errorf("is more than 7 days ago")
	}
	return nil
}

// At returns when the position was measured: ObservedAt when given, else
// Time.
func (p LocationProposal) At() time.Time {
	if !p.ObservedAt.IsZero() {
		return p.ObservedAt
	}
	return p.Time
}

// NeedsLocating reports whether f may get location proposals: it has no
// geometry, or its location_precision_m is null, missing or above
// LocatePrecisionM.
func NeedsLocating(f *Feature) bool {
	if f.Geometry == nil {
		return true
	}
	m, ok := f.Properties["location_precision_m"].(float64)
	return !ok || math.IsNaN(m) || m > LocatePrecisionM
}

// Receive returns p as a store records it, received at now by actor for
// the feature f (nil when it does not exist): Time now, times in UTC
// truncated to microseconds, the position rounded (Normalize), pending,
// and checked: Invalid (Validate), NotFound (no feature), Conflict (a
// feature located to LocatePrecisionM or better needs no proposal).
func (p LocationProposal) Receive(f *Feature, now time.Time, actor Actor) (LocationProposal, error) {
	p.ID = 0
	p.Time = now.UTC().Truncate(time.Microsecond)
	if !p.ObservedAt.IsZero() {
		p.ObservedAt = p.ObservedAt.UTC().Truncate(time.Microsecond)
	}
	p.Actor = actor
	p.Status, p.Decided, p.Decider, p.Reason = ProposalPending, time.Time{}, Actor{}, ""
	if err := p.Validate(); err != nil {
		return p, err
	}
	if f == nil {
		return p, Errorf(NotFound, "no feature %q in %s", p.FeatureID, p.Collection)
	}
	if !NeedsLocating(f) {
		return p, Errorf(Conflict, "feature %q of %s is located to %v m already (%d m or better needs no proposal); a planner can move it",
			p.FeatureID, p.Collection, f.Properties["location_precision_m"], LocatePrecisionM)
	}
	p.Position = Normalize(p.Position).(orb.Point)
	return p, nil
}

// Decide returns p decided at now by actor: status (accepted, rejected or
// superseded) and reason. A proposal that is not pending is a Conflict; a
// rejection needs a reason of 1 to MaxReasonRunes characters (Invalid,
// naming "reason").
func (p LocationProposal) Decide(status, reason string, now time.Time, actor Actor) (LocationProposal, error) {
	if p.Status != ProposalPending {
		return p, Errorf(Conflict, "location proposal %d is %s already", p.ID, p.Status)
	}
	if status == ProposalRejected {
		if strings.TrimSpace(reason) == "" {
			return p, InvalidField("reason", "say why the position is rejected, so that the crew can try again")
		}
		if err := checkText(reason, MaxReasonRunes); err != nil {
			return p, InvalidField("reason", "%v", err)
		}
	}
	if !slices.Contains(ProposalStatuses(), status) || status == ProposalPending {
		return p, fmt.Errorf("geo: decide proposal %d: bad status %q", p.ID, status)
	}
	p.Status, p.Reason, p.Decided, p.Decider = status, reason, now.UTC().Truncate(time.Microsecond), actor
	return p, nil
}

// AuditEntry returns the audit entry of a step a on p that leaves its
// feature f as it is (f nil when the feature is gone): Before and After
// are f, Version is f's (0 when gone).
func (p LocationProposal) AuditEntry(a Action, f *Feature) AuditEntry {
	e := AuditEntry{Collection: p.Collection, FeatureID: p.FeatureID, Action: a, Before: f, After: f}
	if f != nil {
		e.Version = f.Version
	}
	return e
}

// LocationPatch returns the patch that accepting p makes to its feature:
// the geometry becomes the proposed point, location_precision_m the
// measured accuracy, location_source says who stood there, when, how the
// position was taken and who accepted it.
func LocationPatch(p LocationProposal, planner Actor, now time.Time) Patch {
	how := map[string]string{
		LocateAuto:     fmt.Sprintf("fix accepted by the map at ≤ %d m", LocateAutoM),
		LocateAccepted: fmt.Sprintf("fix accepted by the crew at ≤ %d m", LocateAcceptM),
		LocateDragged:  "pin placed by the crew on the map and confirmed",
	}[p.Method]
	src := fmt.Sprintf("On-site location proposal %d: %s (token %s) stood here at %s; phone GPS (WGS-84), accuracy %s m, %s. Accepted by %s (token %s) at %s.",
		p.ID, p.Actor.Name, p.Actor.ID, p.At().UTC().Format(time.RFC3339), trimFloat(p.AccuracyM), how,
		planner.Name, planner.ID, now.UTC().Format(time.RFC3339))
	return Patch{
		Properties: map[string]any{
			"location_precision_m": p.AccuracyM,
			"location_source":      src,
		},
		SetGeometry: true,
		Geometry:    p.Position,
	}
}

func trimFloat(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", x), "0"), ".")
}

// ProposalQuery selects location proposals. The zero value selects all,
// oldest first.
type ProposalQuery struct {
	// Status, Collection and FeatureID, when set, keep the proposals with
	// that status, of that collection, of that feature.
	Status     string
	Collection string
	FeatureID  string
	// Limit caps the number returned; 0 means no cap.
	Limit int
	// Offset skips that many, oldest first.
	Offset int
}

// Check returns an Invalid error naming the offending field: an unknown
// status or collection, a feature id without a collection, a negative
// limit or offset.
func (q ProposalQuery) Check() error {
	switch {
	case q.Status != "" && !slices.Contains(ProposalStatuses(), q.Status):
		return InvalidField("status", "must be one of pending, accepted, rejected, superseded")
	case q.FeatureID != "" && q.Collection == "":
		return InvalidField("feature_id", "needs a collection")
	case q.Limit < 0:
		return InvalidField("limit", "must not be negative")
	case q.Offset < 0:
		return InvalidField("offset", "must not be negative")
	}
	if q.Collection != "" {
		if _, err := SchemaFor(q.Collection); err != nil {
			return InvalidField("collection", "%q is not a collection", q.Collection)
		}
	}
	return nil
}

// Matches reports whether p satisfies q's filters (not its paging).
func (q ProposalQuery) Matches(p LocationProposal) bool {
	return (q.Status == "" || p.Status == q.Status) &&
		(q.Collection == "" || p.Collection == q.Collection) &&
		(q.FeatureID == "" || p.FeatureID == q.FeatureID)
}

// FieldStore keeps what crews send from the spot besides status reports:
// the reports' photos and location proposals. Every Store is one.
type FieldStore interface {
	// Photo returns the photo of report observationID with its data, or
	// NotFound when the report has none (or does not exist).
	Photo(ctx context.Context, observationID int64) (*Photo, error)
	// ProposeLocation records p (LocationProposal.Receive: Invalid,
	// NotFound, or Conflict for a feature that needs no locating) as
	// pending, with an audit entry (ActionPropose) on its feature whose
	// Before and After are the feature as it is. It does not change the
	// feature nor the collection's version.
	ProposeLocation(ctx context.Context, p LocationProposal) (LocationProposal, error)
	// AcceptLocation accepts pending proposal id if its feature is at
	// version (else Conflict and nothing changes), in one transaction:
	// the feature gets LocationPatch (a new version, the collection's
	// version bumped), the proposal is accepted, the feature's other
	// pending proposals are superseded, and an audit entry (ActionAccept)
	// records the feature before and after. It returns both. An unknown
	// proposal is NotFound; one decided already, a Conflict; a feature
	// deleted since, NotFound.
	AcceptLocation(ctx context.Context, id, version int64) (*Feature, LocationProposal, error)
	// RejectLocation rejects pending proposal id with reason (Invalid
	// when blank), with an audit entry (ActionReject) on its feature (as
	// it is; nil if it was deleted). Unknown is NotFound; decided, a
	// Conflict.
	RejectLocation(ctx context.Context, id int64, reason string) (LocationProposal, error)
	// LocationProposal returns proposal id, or NotFound.
	LocationProposal(ctx context.Context, id int64) (LocationProposal, error)
	// LocationProposals returns the proposals matching q, oldest first
	// (by ID), and the total that matched before paging; an empty,
	// non-nil slice when none. A bad q is Invalid (ProposalQuery.Check).
	LocationProposals(ctx context.Context, q ProposalQuery) ([]LocationProposal, int, error)
}
