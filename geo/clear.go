package geo

import "time"

// This file holds when an alert is over: the hysteresis (deadband) that
// keeps a level hovering at a limit from opening and resolving alert
// after alert, each one a message to a WeCom group; and what a person's
// resolution of an alert whose condition still holds means for the next
// alert of the same kind.
//
// The choice, and why:
//
//   - An alert opens when its condition holds (Evaluate: the level above
//     the limit, strictly). An open alert over a level (flood limit,
//     warning, guaranteed) resolves by itself only once the level is at
//     least the gauge's deadband_m below that limit (DefaultDeadband,
//     5 cm: a staff gauge is read to the centimetre, a telemetry
//     station's noise is a centimetre or two, so 5 cm is beyond both,
//     yet far below the 0.15 m of the 18 August). A margin rather than
//     "N readings in a row below": it does not depend on how often a
//     gauge reports (a patrol reads twice a day, a station every
//     minute), and one reading decides, so the rule stays a pure
//     function of the latest reading.
//   - A rising_fast alert resolves once the rise between the two latest
//     readings is at most RiseClearRatio (half) of max_rise_m_per_h.
//   - A silent alert resolves on any reading within twice the expected
//     interval: a reading arriving is not noise.
//   - A person (a planner) may resolve an alert whose condition still
//     holds: a gauge known to be broken and being repaired, a reservoir
//     held over its limit on the flood-control headquarters' order. The
//     next evaluation would open a new alert at once. So a person's
//     resolution holds the same kind on that gauge (Held) until the
//     condition has cleared once — a reading that would have resolved it
//     by itself (for silence: any reading after the resolution) — and at
//     most ManualHold (a day): a condition that still holds a day later is
//     raised again, as a reminder. A worse condition is another kind
//     (warning, guaranteed) and is never held by this one.

// DefaultDeadband is the deadband of a gauge without deadband_m, in
// metres.
const DefaultDeadband = 0.05

// MaxDeadband bounds deadband_m, in metres.
const MaxDeadband = 1.0

// RiseClearRatio is the fraction of max_rise_m_per_h that the rise must
// fall to for a rising_fast alert to resolve by itself.
const RiseClearRatio = 0.5

// ManualHold is how long a person's resolution of an alert whose
// condition still held keeps the same kind from reopening on that gauge
// while the condition has not cleared.
const ManualHold = 24 * time.Hour

// Persists reports whether the condition of an unresolved alert of kind
// k on g still holds, with hysteresis, given g's latest readings newest
// first (recent[0] the latest) at now. Without readings only silence
// persists; a limit that is no longer set (or a date no flood-limit window
// holds) no longer holds.
func Persists(g Gauge, k AlertKind, recent []Reading, now time.Time) bool {
	if k == AlertSilent {
		var latest *Reading
		if len(recent) > 0 {
			latest = &recent[0]
		}
		_, silent := Silent(g, latest, now)
		return silent
	}
	if len(recent) == 0 {
		return false
	}
	r := recent[0]
	above := func(limit *float64) bool { return limit != nil && r.Level > *limit-g.Deadband }
	switch k {
	case AlertFloodLimit:
		w, ok := g.FloodLimitAt(r.At)
		return ok && above(&w.Level)
	case AlertWarning:
		return above(g.WarningLevel)
	case AlertGuaranteed:
		return above(g.GuaranteedLevel)
	case AlertRising:
		if len(recent) < 2 || g.MaxRise == nil {
			return false
		}
		dt := r.At.Sub(recent[1].At).Hours()
		return dt > 0 && (r.Level-recent[1].Level)/dt > *g.MaxRise*RiseClearRatio
	}
	return false
}

// ResolvedByPerson returns the resolve step of a when a person (not the
// system) resolved it.
func (a Alert) ResolvedByPerson() (AlertStep, bool) {
	s, ok := a.Resolved()
	return s, ok && s.Actor.ID != SystemID
}

// Held reports whether a new alert of last's kind on g must wait at now:
// last, the latest alert of that gauge and kind, was resolved by a person
// less than ManualHold ago, and no reading since cleared its condition.
// since holds the readings of g at or after that resolution, oldest
// first, and prev the one just before them (nil if none): a rise needs
// the reading before.
func Held(g Gauge, last Alert, since []Reading, prev *Reading, now time.Time) bool {
	step, ok := last.ResolvedByPerson()
	if !ok || now.Sub(step.At) >= ManualHold {
		return false
	}
	if last.Kind == AlertSilent {
		// Silence ends with a reading after the resolution.
		for _, r := range since {
			if r.At.After(step.At) {
				return false
			}
		}
		return true
	}
	for i, r := range since {
		recent := []Reading{r}
		if i > 0 {
			recent = append(recent, since[i-1])
		} else if prev != nil {
			recent = append(recent, *prev)
		}
		if !Persists(g, last.Kind, recent, r.At) {
			return false
		}
	}
	return true
}
