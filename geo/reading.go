package geo

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Reading is one water level of a gauge at one time: read off a staff
// gauge by a patrol (ReadingManual), sent by a telemetry station
// (ReadingTelemetry), or imported from a spreadsheet (ReadingImport).
// A gauge has at most one reading per time.
type Reading struct {
	// ID is assigned by the store: positive, unique within the store.
	ID int64
	// GaugeID is the gauge's feature id.
	GaugeID string
	// At is when the level was measured. It may be at most
	// MaxReadingSkew after the time the store received the reading.
	At time.Time
	// Level is the water level in metres, in the gauge's datum.
	Level float64
	// Source is ReadingManual, ReadingTelemetry or ReadingImport.
	Source string
	// Note is free text, at most MaxNoteRunes characters.
	Note string
	// Received is when the store received it (set by the store).
	Received time.Time
	// Actor sent it (set by the store from the context).
	Actor Actor
}

// The sources of a reading.
const (
	ReadingManual    = "manual"    // read by a patrol (人工观测)
	ReadingTelemetry = "telemetry" // sent by a station (遥测)
	ReadingImport    = "import"    // imported in bulk (CSV)
)

// ReadingSources returns the allowed values of Reading.Source.
func ReadingSources() []string { return []string{ReadingManual, ReadingTelemetry, ReadingImport} }

// SourceFor returns the source of a reading posted by a client of role r:
// telemetry for a sensor's token, manual for a person's.
func SourceFor(r Role) string {
	if r == RoleSensor {
		return ReadingTelemetry
	}
	return ReadingManual
}

// Limits of readings.
const (
	// MaxReadingSkew is how far a reading's time may lie after the
	// moment the store receives it: the clocks of phones and telemetry
	// stations drift, and a reading made "now" on a clock two minutes
	// fast must not be refused. Anything later is in the future.
	MaxReadingSkew = 5 * time.Minute
	// MaxReadingsImport caps one ImportReadings call: a flood season of
	// one gauge read every minute (153 days × 1 440) fits, so a season's
	// CSV per gauge is one import, and one transaction stays bounded.
	MaxReadingsImport = 250_000
	// MaxReadingsPage caps the readings one Readings call returns: a
	// week's chart at one reading a minute.
	MaxReadingsPage = 10_080
)

// earliestReading is the earliest time a reading may have: nothing in
// this system is older than the People's Republic's hydrological
// records.
var earliestReading = time.Date(1949, 1, 1, 0, 0, 0, 0, time.UTC)

// ReadingsCollection is the AuditEntry.Collection (and Change.Collection)
// of readings: FeatureID is the gauge's id, After the reading as
// Reading.AuditFeature records it. Like TokensCollection it is not a
// feature collection.
const ReadingsCollection = "readings"

// Check validates r as its sender gave it, received at now by a store
// that knows gauge g. Errors are Invalid and name the fields gauge_id,
// at, level, source and note:
//   - level finite, within MinLevel..MaxLevel and the gauge's
//     level_min..level_max when set ("impossible");
//   - at set, not before 1949, at most MaxReadingSkew after now;
//   - source one of ReadingSources, note at most MaxNoteRunes characters
//     of valid UTF-8 without NUL.
func (r Reading) Check(g Gauge, now time.Time) error {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if r.GaugeID != g.ID {
		bad("gauge_id", "is %q, not the gauge %q", r.GaugeID, g.ID)
	}
	switch {
	case r.At.IsZero():
		bad("at", "required: when the level was read")
	case r.At.Before(earliestReading):
		bad("at", "%s is before 1949", r.At.UTC().Format(time.RFC3339))
	case r.At.After(now.Add(MaxReadingSkew)):
		bad("at", "%s is in the future (more than %v after the server's time %s): check the clock of the phone or station",
			r.At.UTC().Format(time.RFC3339), MaxReadingSkew, now.UTC().Format(time.RFC3339))
	}
	lo, hi := MinLevel, MaxLevel
	if g.LevelMin != nil {
		lo = *g.LevelMin
	}
	if g.LevelMax != nil {
		hi = *g.LevelMax
	}
	switch {
	case !finite(r.Level):
		bad("level", "must be a finite number of metres")
	case r.Level < MinLevel || r.Level > MaxLevel:
		bad("level", "%g m is not a possible level (%g to %g m)", r.Level, MinLevel, MaxLevel)
	case r.Level < lo || r.Level > hi:
		bad("level", "%g m is outside what gauge %s can read (%g to %g m): a misread digit or a faulty sensor", r.Level, g.ID, lo, hi)
	}
	if !slices.Contains(ReadingSources(), r.Source) {
		bad("source", "must be one of manual, telemetry, import")
	}
	switch {
	case !utf8.ValidString(r.Note) || strings.ContainsRune(r.Note, 0):
		bad("note", "must be valid UTF-8 without the NUL character (U+0000)")
	case utf8.RuneCountInString(r.Note) > MaxNoteRunes:
		bad("note", "must be at most %d characters", MaxNoteRunes)
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "invalid reading", Fields: errs}
}

// Receive returns r as a store records it, received at now by actor for
// gauge g: times in UTC truncated to microseconds (what PostgreSQL
// keeps), Received and Actor set, and checked (Check). Both stores call
// it, so they store and return the same values.
func (r Reading) Receive(g Gauge, now time.Time, actor Actor) (Reading, error) {
	r.ID = 0
	r.Received = now.UTC().Truncate(time.Microsecond)
	r.At = r.At.UTC().Truncate(time.Microsecond)
	r.Actor = actor
	return r, r.Check(g, now)
}

// DuplicateReading returns the Conflict of a second reading of gauge at
// the same time, naming the field "at" (prefix, when set, locates the
// reading in an import, e.g. "rows[12].at").
func DuplicateReading(field, gauge string, at time.Time) error {
	return &Error{Kind: Conflict, Message: "duplicate reading", Fields: []FieldError{{Field: field,
		Detail: fmt.Sprintf("gauge %s already has a reading at %s", gauge, at.UTC().Format(time.RFC3339Nano))}}}
}

// AuditFeature returns r as audit entries record it: a feature without
// geometry whose id is the reading's id and whose properties are
// gauge_id, at, level, source, note and received.
func (r Reading) AuditFeature() *Feature {
	return &Feature{ID: fmt.Sprint(r.ID), Version: 1, Updated: r.Received, Properties: map[string]any{
		"gauge_id": r.GaugeID, "at": r.At.UTC().Format(time.RFC3339Nano), "level": r.Level,
		"source": r.Source, "note": r.Note, "received": r.Received.UTC().Format(time.RFC3339Nano),
	}}
}

// ImportAuditFeature returns the audit record of an import of n readings
// of gauge from first to last (one entry per gauge per import: the
// readings themselves carry who sent them and when).
func ImportAuditFeature(gauge string, n int, first, last, received time.Time) *Feature {
	return &Feature{ID: gauge, Version: 1, Updated: received, Properties: map[string]any{
		"gauge_id": gauge, "count": float64(n), "first": first.UTC().Format(time.RFC3339Nano),
		"last": last.UTC().Format(time.RFC3339Nano), "source": ReadingImport,
	}}
}

// ReadingQuery selects readings of one gauge. The zero value selects all,
// oldest first.
type ReadingQuery struct {
	// From and To, when set, keep readings with From ≤ At < To. For a
	// chart: From = now − 72 h. To page on through a long range, set From
	// just after the last reading returned (keyset paging stays an index
	// range however far one goes; Offset does not).
	From, To time.Time
	// Newest turns the order to newest first.
	Newest bool
	// Limit caps the number returned: 0 means MaxReadingsPage, and more
	// than MaxReadingsPage is Invalid.
	Limit int
	// Offset skips that many, in the order of the result.
	Offset int
}

// Check returns an Invalid error naming the offending field: From after
// To, a negative Limit or Offset, a Limit above MaxReadingsPage.
func (q ReadingQuery) Check() error {
	switch {
	case !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To):
		return InvalidField("from", "must not be after to")
	case q.Limit < 0 || q.Limit > MaxReadingsPage:
		return InvalidField("limit", "must be 0 to %d", MaxReadingsPage)
	case q.Offset < 0:
		return InvalidField("offset", "must not be negative")
	}
	return nil
}

// PageSize returns the number of readings q returns at most.
func (q ReadingQuery) PageSize() int {
	if q.Limit == 0 {
		return MaxReadingsPage
	}
	return q.Limit
}

// Matches reports whether r lies in q's time range.
func (q ReadingQuery) Matches(r Reading) bool {
	return (q.From.IsZero() || !r.At.Before(q.From)) && (q.To.IsZero() || r.At.Before(q.To))
}

// MaxFieldErrors caps the field errors one Invalid error lists, so that
// a file of a million bad rows gets a readable report, not a million
// lines.
const MaxFieldErrors = 100

// ReceiveAll returns rs as ImportReadings stores them, received at now by
// actor: each through Receive against its gauge in gauges (a gauge not
// there is an error naming readings[i].gauge_id), at most
// MaxReadingsImport, none twice at the same gauge and time (a Conflict
// naming readings[i].at). Field errors are prefixed "readings[i]." and
// capped at MaxFieldErrors. Both stores call it.
func ReceiveAll(rs []Reading, gauges map[string]Gauge, now time.Time, actor Actor) ([]Reading, error) {
	if len(rs) > MaxReadingsImport {
		return nil, InvalidField("readings", "%d readings; one import takes at most %d", len(rs), MaxReadingsImport)
	}
	out := make([]Reading, len(rs))
	var errs []FieldError
	type key struct {
		gauge string
		at    int64
	}
	seen := make(map[key]int, len(rs))
	for i, r := range rs {
		prefix := fmt.Sprintf("readings[%d].", i)
		g, ok := gauges[r.GaugeID]
		if !ok {
			errs = append(errs, FieldError{Field: prefix + "gauge_id", Detail: fmt.Sprintf("no gauge %q", r.GaugeID)})
		} else if rec, err := r.Receive(g, now, actor); err != nil {
			for _, f := range AsError(err).Fields {
				errs = append(errs, FieldError{Field: prefix + f.Field, Detail: f.Detail})
			}
		} else {
			out[i] = rec
			k := key{rec.GaugeID, rec.At.UnixMicro()}
			if j, dup := seen[k]; dup && len(errs) == 0 {
				return nil, &Error{Kind: Conflict, Message: "duplicate reading", Fields: []FieldError{{Field: prefix + "at",
					Detail: fmt.Sprintf("readings[%d] is of the same gauge %s at the same time %s", j, rec.GaugeID, rec.At.Format(time.RFC3339Nano))}}}
			}
			seen[k] = i
		}
		if len(errs) >= MaxFieldErrors {
			errs = append(errs[:MaxFieldErrors], FieldError{Field: "readings", Detail: fmt.Sprintf("more errors after readings[%d] not listed", i)})
			break
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Kind: Invalid, Message: "invalid readings", Fields: errs}
	}
	return out, nil
}

// ImportAudit returns the audit entries of an import: one per gauge, in
// the order the gauges first appear.
func ImportAudit(rs []Reading, at time.Time) []AuditEntry {
	type span struct {
		n           int
		first, last time.Time
	}
	var order []string
	spans := map[string]*span{}
	for _, r := range rs {
		sp, ok := spans[r.GaugeID]
		if !ok {
			sp = &span{first: r.At, last: r.At}
			spans[r.GaugeID] = sp
			order = append(order, r.GaugeID)
		}
		sp.n++
		if r.At.Before(sp.first) {
			sp.first = r.At
		}
		if r.At.After(sp.last) {
			sp.last = r.At
		}
	}
	out := make([]AuditEntry, len(order))
	for i, g := range order {
		sp := spans[g]
		out[i] = AuditEntry{Collection: ReadingsCollection, FeatureID: g, Action: ActionImport, Version: 1,
			After: ImportAuditFeature(g, sp.n, sp.first, sp.last, at)}
	}
	return out
}
