package geo

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
)

// Observation is a status report of a crew from a waterlogging point: how
// deep the water is, whether the point is clear, ponding or closed, and
// where the reporter stood. Store.AddObservation records it, appends it
// to the point's history and makes it the point's current status.
type Observation struct {
	// ID is assigned by the store: positive and unique within the store,
	// increasing in the order the reports were received.
	ID int64
	// FeatureID is the waterlogging point's id (set by the store).
	FeatureID string
	// Time is when the server received the report (set by the store).
	Time time.Time
	// ObservedAt is when the crew observed, by the phone's clock; zero when
	// not given. A report queued on a phone during an outage (三断) carries
	// the time it was made. It may be at most MaxObservationSkew after
	// Time and at most MaxObservationAge before it.
	ObservedAt time.Time
	// DepthCM is the water depth in centimetres, 0 to MaxDepthCM.
	DepthCM float64
	// Status is ObservationClear, ObservationPonding or ObservationClosed.
	Status string
	// Note is free text, at most MaxNoteRunes characters.
	Note string
	// Position is where the reporter stood, if the phone knew (WGS-84
	// lon/lat).
	Position *orb.Point
	// AccuracyM is how far Position may be from where the reporter stood,
	// in metres, as the phone's location service said (the browser's
	// coords.accuracy); 0 when not given. It needs a Position.
	AccuracyM float64
	// Photo is the report's one photo, if any. To AddObservation it is the
	// JPEG as the crew sent it (Data only), which the store cleans
	// (CleanPhoto) before it stores it; in what a store returns it is the
	// stored photo without its Data (Store.Photo has it).
	Photo *Photo
	// Actor made the report (set by the store from the context).
	Actor Actor
}

// The statuses of a waterlogging point, as in the "status" property of
// waterlogging_points.
const (
	ObservationClear   = "clear"   // no standing water that hinders traffic
	ObservationPonding = "ponding" // standing water (积水)
	ObservationClosed  = "closed"  // the road is closed (封闭)
)

// ObservationStatuses returns the allowed values of Observation.Status.
func ObservationStatuses() []string {
	return []string{ObservationClear, ObservationPonding, ObservationClosed}
}

// Limits of an Observation.
const (
	// MaxDepthCM is the deepest water a report may give: 5 m, deeper than
	// any railway underpass of the report and far beyond any car.
	MaxDepthCM = 500
	// MaxNoteRunes caps Observation.Note.
	MaxNoteRunes = 500
	// MaxObservationSkew is how far ObservedAt may lie after the time the
	// report was received: phones' clocks drift.
	MaxObservationSkew = 5 * time.Minute
	// MaxObservationAge is how long before its receipt a report may have
	// been made: reports queued on a phone through a long outage are still
	// accepted, older ones are not news about the current state.
	MaxObservationAge = 7 * 24 * time.Hour
	// MaxAccuracyM caps AccuracyM (and a location proposal's accuracy):
	// 100 km, beyond even a position guessed from an IP address.
	MaxAccuracyM = 100_000
)

// WaterloggingDepthCM is the depth above which water on a carriageway is
// waterlogging (内涝; GB 51222-2017: at most 15 cm on one lane). Closing a
// road has no threshold: it is the crew's call, at any depth.
const WaterloggingDepthCM = 15

// At returns when the observation was made: ObservedAt when given, else
// Time. Histories are ordered by it, and it is the status_updated_at of
// the point.
func (o Observation) At() time.Time {
	if !o.ObservedAt.IsZero() {
		return o.ObservedAt
	}
	return o.Time
}

// Validate checks o as a crew sent it. Errors are Invalid and name the
// fields depth_cm, status, note, position and observed_at:
//   - depth_cm must be a finite number from 0 to MaxDepthCM;
//   - status must be one of ObservationStatuses and must not contradict
//     the depth: "clear" with water deeper than WaterloggingDepthCM is
//     waterlogging by GB 51222-2017, and "ponding" with a depth of 0 has no
//     water; "closed" goes with any depth (see WaterloggingDepthCM);
//   - note at most MaxNoteRunes characters of valid UTF-8 without NUL;
//   - position, if given, a finite WGS-84 lon/lat;
//   - accuracy_m, if given, a number of metres above 0 and at most
//     MaxAccuracyM, with a position;
//   - photo, if given, cleaned (CleanPhoto does it: Receive does not);
//   - observed_at, if given, at most MaxObservationSkew after and at most
//     MaxObservationAge before Time (or now, when Time is zero).
func (o Observation) Validate() error {
	var errs []FieldError
	bad := func(field, detail string) { errs = append(errs, FieldError{Field: field, Detail: detail}) }
	depthOK := !math.IsNaN(o.DepthCM) && !math.IsInf(o.DepthCM, 0) && o.DepthCM >= 0 && o.DepthCM <= MaxDepthCM
	if !depthOK {
		bad("depth_cm", "must be a number of centimetres from 0 to 500")
	}
	switch {
	case !slices.Contains(ObservationStatuses(), o.Status):
		bad("status", "must be one of clear, ponding, closed")
	case depthOK && o.Status == ObservationClear && o.DepthCM > WaterloggingDepthCM:
		bad("status", "clear contradicts a depth above 15 cm: GB 51222-2017 counts water deeper than 15 cm on a carriageway as waterlogging; report ponding or closed")
	case depthOK && o.Status == ObservationPonding && o.DepthCM == 0:
		bad("status", "ponding contradicts a depth of 0 cm; report clear, or give the depth")
	}
	if err := checkText(o.Note, MaxNoteRunes); err != nil {
		bad("note", err.Error())
	}
	if o.Position != nil {
		if err := checkPoint(*o.Position); err != nil {
			bad("position", err.Error())
		}
	}
	if err := checkAccuracy(o.AccuracyM, false); err != nil {
		bad("accuracy_m", err.Error())
	} else if o.AccuracyM != 0 && o.Position == nil {
		bad("accuracy_m", "is the accuracy of a position: give the position too")
	}
	if p := o.Photo; p != nil && (len(p.Data) == 0 || len(p.SHA256) != 32 || p.Bytes != len(p.Data)) {
		bad("photo", "must be cleaned by geo.CleanPhoto before it is stored")
	}
	if err := checkObservedAt(o.ObservedAt, o.Time); err != nil {
		bad("observed_at", err.Error())
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "invalid observation", Fields: errs}
}

// checkAccuracy checks an accuracy in metres: finite, above 0 and at most
// MaxAccuracyM, or 0 when optional.
func checkAccuracy(m float64, required bool) error {
	switch {
	case m == 0 && !required:
		return nil
	case math.IsNaN(m) || math.IsInf(m, 0) || m <= 0 || m > MaxAccuracyM:
		return fmt.Errorf("must be a number of metres above 0 and at most %d", MaxAccuracyM)
	}
	return nil
}

// WithCleanPhoto returns o with its photo, if any, cleaned by CleanPhoto.
// Stores call it on entry to AddObservation, before they lock anything.
func (o Observation) WithCleanPhoto() (Observation, error) {
	if o.Photo == nil {
		return o, nil
	}
	p, err := CleanPhoto(o.Photo.Data)
	if err != nil {
		return o, err
	}
	o.Photo = p
	return o, nil
}

// ObservationPatch returns the patch that makes o the current status of
// the waterlogging point f (properties status, depth_cm and
// status_updated_at, the last in RFC 3339 UTC), and whether o is current:
// made no earlier than the status f holds now. A report that was queued on
// a phone and arrives after a newer one must not overwrite it: it is only
// appended to the history, and current is false with an empty patch. A
// status_updated_at that is null or not a time counts as older than any
// report.
func ObservationPatch(f *Feature, o Observation) (p Patch, current bool) {
	if s, ok := f.Properties["status_updated_at"].(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil && o.At().Before(t) {
			return Patch{}, false
		}
	}
	return Patch{Properties: map[string]any{
		"status":            o.Status,
		"depth_cm":          o.DepthCM,
		"status_updated_at": o.At().UTC().Format(time.RFC3339Nano),
	}}, true
}

// ObservationQuery selects observations of one point. The zero value
// selects them all.
type ObservationQuery struct {
	// From and To, when set, keep the observations with From ≤ At() < To.
	From, To time.Time
	// Limit caps the number returned; 0 means no cap.
	Limit int
	// Offset skips that many, newest first.
	Offset int
}

// Check returns an Invalid error naming the offending field: From after
// To, a negative Limit or Offset.
func (q ObservationQuery) Check() error {
	switch {
	case !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To):
		return InvalidField("from", "must not be after to")
	case q.Limit < 0:
		return InvalidField("limit", "must not be negative")
	case q.Offset < 0:
		return InvalidField("offset", "must not be negative")
	}
	return nil
}

// Matches reports whether o lies in q's time range.
func (q ObservationQuery) Matches(o Observation) bool {
	at := o.At()
	return (q.From.IsZero() || !at.Before(q.From)) && (q.To.IsZero() || at.Before(q.To))
}

// Receive returns o as a store records it, received at now by actor for
// feature id: Time is now, times are UTC and truncated to microseconds
// (what PostgreSQL keeps), the position is rounded like geometries
// (Normalize), and it is validated. Both stores call it, so they store
// and return the same values.
func (o Observation) Receive(id string, now time.Time, actor Actor) (Observation, error) {
	o.ID = 0
	o.FeatureID = id
	o.Time = now.UTC().Truncate(time.Microsecond)
	if !o.ObservedAt.IsZero() {
		o.ObservedAt = o.ObservedAt.UTC().Truncate(time.Microsecond)
	}
	o.Actor = actor
	if err := o.Validate(); err != nil {
		return o, err
	}
	if o.Position != nil {
		p := Normalize(*o.Position).(orb.Point)
		o.Position = &p
	}
	if o.Photo != nil {
		p := *o.Photo
		p.FeatureID, p.ObservationID = id, 0
		o.Photo = &p
	}
	return o, nil
}
