package geo

import "time"

// Interval is a closed time interval; a zero Start or End leaves that side
// open. Start == End is an instant.
type Interval struct {
	Start, End time.Time
}

// Contains reports whether t lies in the interval, ends included.
func (iv Interval) Contains(t time.Time) bool {
	if !iv.Start.IsZero() && t.Before(iv.Start) {
		return false
	}
	if !iv.End.IsZero() && t.After(iv.End) {
		return false
	}
	return true
}

// Check returns an Invalid error naming field when End is before Start.
func (iv Interval) Check(field string) error {
	if !iv.Start.IsZero() && !iv.End.IsZero() && iv.End.Before(iv.Start) {
		return InvalidField(field, "the end %s is before the start %s", iv.End.Format(time.RFC3339), iv.Start.Format(time.RFC3339))
	}
	return nil
}
