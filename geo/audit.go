package geo

import (
	"slices"
	"strings"
	"time"
)

// Action names the kind of write an audit entry records.
type Action string

// The actions. Every write of a Store appends one audit entry per feature
// (or token) it changed, in the same transaction as the change.
const (
	ActionCreate  Action = "create"  // Store.Create; CreateToken
	ActionReplace Action = "replace" // Store.Replace
	ActionPatch   Action = "patch"   // Store.Patch
	ActionDelete  Action = "delete"  // Store.Delete
	ActionImport  Action = "import"  // Store.Import, one entry per feature
	ActionSeed    Action = "seed"    // Store.Seed, one entry per feature
	ActionObserve Action = "observe" // Store.AddObservation
	ActionRevoke  Action = "revoke"  // RevokeToken (of a token, or of an unused sign-in link)
	ActionLink    Action = "link"    // CreateSignInCode: a one-time sign-in link for a token to come
	ActionPropose Action = "propose" // ProposeLocation: a crew proposed a position for a feature
	ActionAccept  Action = "accept"  // AcceptLocation: a planner set the feature's position from a proposal
	ActionReject  Action = "reject"  // RejectLocation: a planner rejected a proposal
	// ActionReading records one reading (ReadingsCollection; an import
	// of readings is ActionImport, one entry per gauge).
	ActionReading Action = "reading"
	// The steps of an alert's lifecycle (AlertsCollection).
	ActionOpen        Action = "open"
	ActionAcknowledge Action = "acknowledge"
	ActionEscalate    Action = "escalate"
	ActionResolve     Action = "resolve"
)

// Actions returns every action.
func Actions() []Action {
	return []Action{ActionCreate, ActionReplace, ActionPatch, ActionDelete, ActionImport, ActionSeed, ActionObserve, ActionRevoke,
		ActionLink, ActionPropose, ActionAccept, ActionReject,
		ActionReading, ActionOpen, ActionAcknowledge, ActionEscalate, ActionResolve}
}

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool { return slices.Contains(Actions(), a) }

// TokensCollection is the AuditEntry.Collection (and Change.Collection) of
// token writes. It is not a feature collection: no Store method but Audit
// and Changes accepts it.
const TokensCollection = "tokens"

// LedgerCollections returns the names the audit log uses for what is not
// a feature collection: tokens, readings and alerts.
func LedgerCollections() []string {
	return []string{TokensCollection, ReadingsCollection, AlertsCollection}
}

// AuditEntry records one write: who, when, what and the feature before and
// after it.
type AuditEntry struct {
	// Seq numbers the entries of a store, strictly increasing in the order
	// the writes committed (see Ledger). It is also the Change.Seq, the
	// SSE event id.
	Seq int64
	// Time is when the write happened: the Updated time of the features it
	// wrote. It is informational; order by Seq.
	Time time.Time
	// Actor made the write (geo.ActorFrom of the write's context).
	Actor Actor
	// Collection and FeatureID name what was written; for token writes
	// Collection is TokensCollection and FeatureID the token's id.
	Collection string
	FeatureID  string
	Action     Action
	// Version is the feature's version after the write, 0 after a delete.
	// A token is at version 1 when created and 2 once revoked.
	Version int64
	// Before and After are the whole feature before and after the write,
	// nil where there is none (Before of a create, After of a delete).
	// They hold private properties: the audit log is for planners only.
	// A token is recorded as a feature without geometry whose properties
	// are name, role, created, expires and revoked — never its hash.
	Before, After *Feature
}

// Change returns the entry without the feature data.
func (e AuditEntry) Change() Change {
	return Change{Seq: e.Seq, Time: e.Time, Collection: e.Collection, FeatureID: e.FeatureID, Action: e.Action, Version: e.Version}
}

// AuditQuery selects audit entries. The zero AuditQuery selects all,
// newest first.
type AuditQuery struct {
	// Collection and FeatureID, when set, keep the entries of that
	// collection (a feature collection or TokensCollection) and feature.
	Collection string
	FeatureID  string
	// From and To, when set, keep entries with From ≤ Time < To.
	From, To time.Time
	// AfterSeq, when above 0, keeps entries with Seq > AfterSeq and turns
	// the order to oldest first, so that a reader can page forward from
	// the last entry it saw.
	AfterSeq int64
	// Limit caps the number returned; 0 means no cap.
	Limit int
	// Offset skips that many matches, in the order of the result.
	Offset int
}

// Ascending reports whether the entries q selects come oldest first.
func (q AuditQuery) Ascending() bool { return q.AfterSeq > 0 }

// Check returns an Invalid error naming the offending field: a collection
// that is neither a feature collection nor TokensCollection, a feature id
// without a collection, From after To, a negative AfterSeq, Limit or
// Offset. Every Store calls it first.
func (q AuditQuery) Check() error {
	if q.Collection != "" && !slices.Contains(LedgerCollections(), q.Collection) {
		if _, err := SchemaFor(q.Collection); err != nil {
			return InvalidField("collection", "%q is not a collection (nor one of %s)", q.Collection, strings.Join(LedgerCollections(), ", "))
		}
	}
	switch {
	case !ValidText(q.FeatureID):
		return CheckText("feature_id", q.FeatureID)
	case q.FeatureID != "" && q.Collection == "":
		return InvalidField("feature_id", "needs a collection")
	case !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To):
		return InvalidField("from", "must not be after to")
	case q.AfterSeq < 0:
		return InvalidField("after_seq", "must not be negative")
	case q.Limit < 0:
		return InvalidField("limit", "must not be negative")
	case q.Offset < 0:
		return InvalidField("offset", "must not be negative")
	}
	return nil
}

// Matches reports whether e satisfies the filters of q (not its paging).
func (q AuditQuery) Matches(e AuditEntry) bool {
	return (q.Collection == "" || e.Collection == q.Collection) &&
		(q.FeatureID == "" || e.FeatureID == q.FeatureID) &&
		(q.From.IsZero() || !e.Time.Before(q.From)) &&
		(q.To.IsZero() || e.Time.Before(q.To)) &&
		e.Seq > q.AfterSeq
}
