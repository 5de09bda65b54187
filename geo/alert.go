package geo

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the alert rules — pure functions of a gauge, its latest
// readings and the time — and the lifecycle of an alert: open →
// acknowledged (by a named user, with a note) → resolved (by itself when
// the condition clears, or by a planner), with escalation of an alert
// left unacknowledged too long.

// AlertKind names a rule.
type AlertKind string

// The rules.
const (
	// AlertFloodLimit: the level is above the flood-limit level of the
	// window that holds the reading's date (超汛限水位).
	AlertFloodLimit AlertKind = "over_flood_limit"
	// AlertWarning: above the warning level (超警戒水位).
	AlertWarning AlertKind = "over_warning"
	// AlertGuaranteed: above the guaranteed level (超保证水位).
	AlertGuaranteed AlertKind = "over_guaranteed"
	// AlertRising: rising faster than the gauge's max_rise_m_per_h
	// between its two latest readings (涨率超限).
	AlertRising AlertKind = "rising_fast"
	// AlertSilent: no reading within twice the gauge's expected
	// reporting interval (测站失联): a broken gauge is how a flood goes
	// unnoticed.
	AlertSilent AlertKind = "silent"
)

// AlertKinds returns every kind, in the order Evaluate checks them.
func AlertKinds() []AlertKind {
	return []AlertKind{AlertFloodLimit, AlertWarning, AlertGuaranteed, AlertRising, AlertSilent}
}

// TitleZH returns the kind's Chinese name, for messages.
func (k AlertKind) TitleZH() string {
	switch k {
	case AlertFloodLimit:
		return "超汛限水位"
	case AlertWarning:
		return "超警戒水位"
	case AlertGuaranteed:
		return "超保证水位"
	case AlertRising:
		return "水位涨率超限"
	case AlertSilent:
		return "水位站失联"
	}
	return string(k)
}

// Condition is what a rule found to hold now.
type Condition struct {
	Kind AlertKind
	// Value is the level in metres (the level rules), the rise in metres
	// per hour (AlertRising) or the minutes since the latest reading
	// (AlertSilent; -1 when the gauge never reported).
	Value float64
	// Limit is the threshold Value went over, in the same unit.
	Limit float64
	// Period is the flood-limit window's period (AlertFloodLimit only).
	Period string
	// At is the time of the reading the rule looked at; zero for a
	// gauge that never reported.
	At time.Time
}

// OverFloodLimit reports whether r is above the flood limit of g for the
// date of r (ChinaTime). A date that no window holds has no limit.
func OverFloodLimit(g Gauge, r Reading) (Condition, bool) {
	w, ok := g.FloodLimitAt(r.At)
	if !ok || r.Level <= w.Level {
		return Condition{}, false
	}
	return Condition{Kind: AlertFloodLimit, Value: r.Level, Limit: w.Level, Period: w.Period, At: r.At}, true
}

// OverWarning reports whether r is above g's warning level.
func OverWarning(g Gauge, r Reading) (Condition, bool) {
	return over(AlertWarning, g.WarningLevel, r)
}

// OverGuaranteed reports whether r is above g's guaranteed level.
func OverGuaranteed(g Gauge, r Reading) (Condition, bool) {
	return over(AlertGuaranteed, g.GuaranteedLevel, r)
}

func over(k AlertKind, limit *float64, r Reading) (Condition, bool) {
	if limit == nil || r.Level <= *limit {
		return Condition{}, false
	}
	return Condition{Kind: k, Value: r.Level, Limit: *limit, At: r.At}, true
}

// RisingFast reports whether the level rose from prev to r faster than
// g's max_rise_m_per_h. Readings at the same time or out of order have no
// rate.
func RisingFast(g Gauge, prev, r Reading) (Condition, bool) {
	dt := r.At.Sub(prev.At).Hours()
	if g.MaxRise == nil || dt <= 0 {
		return Condition{}, false
	}
	rate := (r.Level - prev.Level) / dt
	if rate <= *g.MaxRise {
		return Condition{}, false
	}
	return Condition{Kind: AlertRising, Value: rate, Limit: *g.MaxRise, At: r.At}, true
}

// Silent reports whether g, which expects a reading every
// g.ReportInterval, has had none within twice that before now. latest is
// its latest reading, nil when it never reported (then it is silent: it
// is expected to report and has not).
func Silent(g Gauge, latest *Reading, now time.Time) (Condition, bool) {
	if g.ReportInterval <= 0 {
		return Condition{}, false
	}
	limit := 2 * g.ReportInterval
	if latest == nil {
		return Condition{Kind: AlertSilent, Value: -1, Limit: limit.Minutes()}, true
	}
	gap := now.Sub(latest.At)
	if gap <= limit {
		return Condition{}, false
	}
	return Condition{Kind: AlertSilent, Value: gap.Minutes(), Limit: limit.Minutes(), At: latest.At}, true
}

// Evaluate returns every condition that holds for g at now, given its
// latest readings newest first (recent[0] the latest, recent[1] the one
// before; fewer when it has fewer), in AlertKinds order. A kind not
// returned does not hold: an open alert of that kind may be resolved.
func Evaluate(g Gauge, recent []Reading, now time.Time) []Condition {
	var out []Condition
	add := func(c Condition, ok bool) {
		if ok {
			out = append(out, c)
		}
	}
	var latest *Reading
	if len(recent) > 0 {
		latest = &recent[0]
		add(OverFloodLimit(g, *latest))
		add(OverWarning(g, *latest))
		add(OverGuaranteed(g, *latest))
		if len(recent) > 1 {
			add(RisingFast(g, recent[1], *latest))
		}
	}
	add(Silent(g, latest, now))
	return out
}

// AlertState is where an alert is in its lifecycle.
type AlertState string

// The states.
const (
	AlertOpen         AlertState = "open"
	AlertAcknowledged AlertState = "acknowledged"
	AlertResolved     AlertState = "resolved"
)

// AlertsCollection is the AuditEntry.Collection (and Change.Collection)
// of alerts: FeatureID is the alert's id, Before and After the alert as
// Alert.AuditFeature records it.
const AlertsCollection = "alerts"

// Alert is one alert of one gauge: at most one of each kind per gauge is
// unresolved at a time (stores enforce it).
type Alert struct {
	// ID is assigned when the alert opens (NewID); it is the stable part
	// of every message about the alert (CAP identifiers).
	ID      string
	GaugeID string
	Kind    AlertKind
	State   AlertState
	// Value, Limit, Period and At are the Condition that opened it.
	Value, Limit float64
	Period       string
	At           time.Time
	// Opened is when it opened; Escalated when it escalated (zero while
	// it has not).
	Opened, Escalated time.Time
	// Steps are its history, one per version: open, then acknowledge,
	// escalate and resolve as they happened.
	Steps []AlertStep
	// Version is len(Steps): writes carry the version they were based
	// on; a mismatch is a Conflict.
	Version int64
	// Updated is the time of the latest step.
	Updated time.Time
}

// AlertStep is one step of an alert's lifecycle.
type AlertStep struct {
	Action Action
	At     time.Time
	// Actor made the step: a person acknowledging or resolving, the
	// system for what the evaluator does.
	Actor Actor
	// Note says why: the acknowledger's note, what resolved it.
	Note string
}

// Acknowledged returns the acknowledge step, if there is one.
func (a Alert) Acknowledged() (AlertStep, bool) { return a.step(ActionAcknowledge) }

// Resolved returns the resolve step, if there is one.
func (a Alert) Resolved() (AlertStep, bool) { return a.step(ActionResolve) }

func (a Alert) step(act Action) (AlertStep, bool) {
	for _, s := range a.Steps {
		if s.Action == act {
			return s, true
		}
	}
	return AlertStep{}, false
}

// Clone returns a copy of a that shares nothing with it.
func (a Alert) Clone() Alert {
	a.Steps = slices.Clone(a.Steps)
	return a
}

// NewAlert returns the alert that c opens on gauge at time now by actor
// (the evaluator's: SystemActor): state open, version 1, one step. The
// store assigns the ID.
func NewAlert(gauge string, c Condition, now time.Time, actor Actor) Alert {
	now = now.UTC().Truncate(time.Microsecond)
	return Alert{GaugeID: gauge, Kind: c.Kind, State: AlertOpen, Value: c.Value, Limit: c.Limit, Period: c.Period,
		At: c.At.UTC().Truncate(time.Microsecond), Opened: now, Updated: now, Version: 1,
		Steps: []AlertStep{{Action: ActionOpen, At: now, Actor: actor, Note: c.Describe()}}}
}

// Describe returns a one-line Chinese description of c for messages and
// the opening step's note.
func (c Condition) Describe() string {
	switch c.Kind {
	case AlertFloodLimit:
		return fmt.Sprintf("水位 %.2f 米，超汛限水位 %.2f 米（%s）%.2f 米", c.Value, c.Limit, PeriodTitleZH(c.Period), c.Value-c.Limit)
	case AlertWarning, AlertGuaranteed:
		return fmt.Sprintf("水位 %.2f 米，%s %.2f 米（%s %.2f 米）", c.Value, c.Kind.TitleZH(), c.Value-c.Limit, strings.TrimPrefix(c.Kind.TitleZH(), "超"), c.Limit)
	case AlertRising:
		return fmt.Sprintf("水位上涨 %.2f 米/时，超过最大涨率 %.2f 米/时", c.Value, c.Limit)
	case AlertSilent:
		if c.Value < 0 {
			return fmt.Sprintf("从未报送水位，应每 %.0f 分钟内报送", c.Limit/2)
		}
		return fmt.Sprintf("已 %.0f 分钟无水位数据（超过报汛间隔的两倍 %.0f 分钟）", c.Value, c.Limit)
	}
	return string(c.Kind)
}

// PeriodTitleZH returns the Chinese name of a flood-limit period.
func PeriodTitleZH(p string) string {
	switch p {
	case PeriodMain:
		return "主汛期"
	case PeriodPost:
		return "后汛期"
	case PeriodTransition:
		return "过渡期"
	}
	return p
}

// AlertTransition is a step asked of an open alert: acknowledge (Note
// required), escalate, or resolve (Note says why).
type AlertTransition struct {
	Action Action
	Note   string
}

// Apply returns a with t applied at now by actor, Version and Updated
// advanced, or an error that changes nothing:
//   - acknowledge: the alert must be open (escalated or not), and the
//     actor a named person (not the system) with a note of 1 to
//     MaxNoteRunes characters; Invalid (field "note") or Conflict;
//   - escalate: the alert must be open and not escalated yet (Conflict);
//   - resolve: the alert must not be resolved yet (Conflict);
//   - any other action is Invalid (field "action").
func (a Alert) Apply(t AlertTransition, now time.Time, actor Actor) (Alert, error) {
	now = now.UTC().Truncate(time.Microsecond)
	switch {
	case !utf8.ValidString(t.Note) || strings.ContainsRune(t.Note, 0):
		return a, InvalidField("note", "must be valid UTF-8 without the NUL character (U+0000)")
	case utf8.RuneCountInString(t.Note) > MaxNoteRunes:
		return a, InvalidField("note", "must be at most %d characters", MaxNoteRunes)
	}
	conflict := func(why string) (Alert, error) {
		return a, Errorf(Conflict, "alert %s is %s: cannot %s it", a.ID, why, t.Action)
	}
	switch t.Action {
	case ActionAcknowledge:
		if a.State != AlertOpen {
			return conflict(string(a.State))
		}
		if actor.ID == SystemID {
			return a, Errorf(Invalid, "an alert is acknowledged by a named person, not the system")
		}
		if strings.TrimSpace(t.Note) == "" {
			return a, InvalidField("note", "required: say who is on it and what is being done")
		}
		a.State = AlertAcknowledged
	case ActionEscalate:
		if a.State != AlertOpen {
			return conflict(string(a.State))
		}
		if !a.Escalated.IsZero() {
			return conflict("escalated already")
		}
		a.Escalated = now
	case ActionResolve:
		if a.State == AlertResolved {
			return conflict(string(a.State))
		}
		a.State = AlertResolved
	default:
		return a, InvalidField("action", "must be one of acknowledge, escalate, resolve")
	}
	a = a.Clone()
	a.Steps = append(a.Steps, AlertStep{Action: t.Action, At: now, Actor: actor, Note: t.Note})
	a.Version = int64(len(a.Steps))
	a.Updated = now
	return a, nil
}

// EscalationDue reports whether a, still open (unacknowledged) and not
// escalated, has been open for at least after at now. after ≤ 0 never
// escalates.
func (a Alert) EscalationDue(now time.Time, after time.Duration) bool {
	return after > 0 && a.State == AlertOpen && a.Escalated.IsZero() && now.Sub(a.Opened) >= after
}

// AuditFeature returns a as audit entries record it: a feature without
// geometry whose properties are gauge_id, kind, state, value, limit,
// period, at, opened, escalated and steps.
func (a Alert) AuditFeature() *Feature {
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	steps := make([]any, len(a.Steps))
	for i, s := range a.Steps {
		steps[i] = map[string]any{"action": string(s.Action), "at": ts(s.At), "actor_id": s.Actor.ID,
			"actor_name": s.Actor.Name, "actor_role": string(s.Actor.Role), "note": s.Note}
	}
	return &Feature{ID: a.ID, Version: a.Version, Updated: a.Updated, Properties: map[string]any{
		"gauge_id": a.GaugeID, "kind": string(a.Kind), "state": string(a.State), "value": a.Value, "limit": a.Limit,
		"period": a.Period, "at": ts(a.At), "opened": ts(a.Opened), "escalated": ts(a.Escalated), "steps": steps,
	}}
}

// AlertQuery selects alerts. The zero value selects all, newest first
// (by Opened, then ID).
type AlertQuery struct {
	// GaugeID and Kind, when set, keep the alerts of that gauge and kind.
	GaugeID string
	Kind    AlertKind
	// Active keeps the unresolved alerts (open or acknowledged).
	Active bool
	// State, when set, keeps the alerts in that state.
	State AlertState
	// Limit caps the number returned; 0 means no cap.
	Limit int
	// Offset skips that many.
	Offset int
}

// Check returns an Invalid error naming the offending field: an unknown
// kind or state, a negative Limit or Offset.
func (q AlertQuery) Check() error {
	switch {
	case q.Kind != "" && !slices.Contains(AlertKinds(), q.Kind):
		return InvalidField("kind", "%q is not an alert kind", q.Kind)
	case q.State != "" && q.State != AlertOpen && q.State != AlertAcknowledged && q.State != AlertResolved:
		return InvalidField("state", "must be one of open, acknowledged, resolved")
	case q.Limit < 0:
		return InvalidField("limit", "must not be negative")
	case q.Offset < 0:
		return InvalidField("offset", "must not be negative")
	}
	return nil
}

// Matches reports whether a satisfies q's filters (not its paging).
func (q AlertQuery) Matches(a Alert) bool {
	return (q.GaugeID == "" || a.GaugeID == q.GaugeID) && (q.Kind == "" || a.Kind == q.Kind) &&
		(!q.Active || a.State != AlertResolved) && (q.State == "" || a.State == q.State)
}

// Delivery records one attempt to deliver messages about an alert over
// an outbound channel (the WeCom robot): whether it arrived, after how
// many tries, and why not. Deliveries are a log of their own, written by
// the system: they have no audit entries.
type Delivery struct {
	// ID is assigned by the store.
	ID int64
	// AlertID and AlertVersion name the step of the alert delivered.
	AlertID      string
	AlertVersion int64
	// Channel names the channel, e.g. "wecom" or "wecom_escalation".
	Channel string
	// OK reports whether the channel accepted it.
	OK bool
	// Attempts counts the tries, 1 or more.
	Attempts int
	// Detail is the channel's answer or the last error, short and
	// without secrets (never the webhook key).
	Detail string
	// Batch is how many alert steps shared the message.
	Batch int
	// At is when the result was known.
	At time.Time
}

// Check returns an Invalid error naming the offending field of a
// Delivery to record.
func (d Delivery) Check() error {
	switch {
	case d.AlertID == "" || len(d.AlertID) > 100:
		return InvalidField("alert_id", "required")
	case d.AlertVersion < 1:
		return InvalidField("alert_version", "must be positive")
	case d.Channel == "" || len(d.Channel) > 100 || !utf8.ValidString(d.Channel) || strings.ContainsRune(d.Channel, 0):
		return InvalidField("channel", "must be 1 to 100 bytes of UTF-8 without NUL")
	case d.Attempts < 1:
		return InvalidField("attempts", "must be positive")
	case !utf8.ValidString(d.Detail) || strings.ContainsRune(d.Detail, 0) || len(d.Detail) > 2000:
		return InvalidField("detail", "must be at most 2000 bytes of UTF-8 without NUL")
	case d.Batch < 1:
		return InvalidField("batch", "must be positive")
	case d.At.IsZero():
		return InvalidField("at", "required")
	}
	return nil
}

// AsOf returns a as it was at version v (1 to a.Version): its first v
// steps, with the state, escalation and time they left. It is how the
// message of an earlier step is rebuilt (an outbox entry, a CAP message
// at its stable URL). False when a has no version v.
func (a Alert) AsOf(v int64) (Alert, bool) {
	if v < 1 || v > a.Version || int(v) > len(a.Steps) {
		return Alert{}, false
	}
	out := a.Clone()
	out.Steps = out.Steps[:v]
	out.Version = v
	out.State, out.Escalated = AlertOpen, time.Time{}
	for _, s := range out.Steps {
		switch s.Action {
		case ActionAcknowledge:
			out.State = AlertAcknowledged
		case ActionEscalate:
			out.Escalated = s.At
		case ActionResolve:
			out.State = AlertResolved
		}
	}
	out.Updated = out.Steps[v-1].At
	return out, true
}
