package geo

import (
	"testing"
	"time"
)

func TestPersists(t *testing.T) {
	g := testGauge()
	g.Deadband = DefaultDeadband
	tight := g
	tight.Deadband = 0
	at := aug18
	before := at.Add(-time.Hour)
	tests := []struct {
		name   string
		g      Gauge
		k      AlertKind
		recent []Reading
		now    time.Time
		want   bool
	}{
		{"still over the flood limit", g, AlertFloodLimit, []Reading{reading(100.15, at)}, at, true},
		{"at the limit: within the deadband", g, AlertFloodLimit, []Reading{reading(100, at)}, at, true},
		{"4 cm below: within the deadband", g, AlertFloodLimit, []Reading{reading(99.96, at)}, at, true},
		{"5 cm below: cleared", g, AlertFloodLimit, []Reading{reading(99.95, at)}, at, false},
		{"deadband 0: at the limit clears", tight, AlertFloodLimit, []Reading{reading(100, at)}, at, false},
		{"the window ended", g, AlertFloodLimit, []Reading{reading(100.15, at.AddDate(0, 1, 0))}, at.AddDate(0, 1, 0), false},
		{"no readings: a level alert clears", g, AlertFloodLimit, nil, at, false},
		{"warning: within the deadband", g, AlertWarning, []Reading{reading(100.98, at)}, at, true},
		{"warning: cleared", g, AlertWarning, []Reading{reading(100.9, at)}, at, false},
		{"guaranteed: within the deadband", g, AlertGuaranteed, []Reading{reading(101.99, at)}, at, true},
		{"guaranteed: cleared", g, AlertGuaranteed, []Reading{reading(101.95, at)}, at, false},
		{"warning level removed", Gauge{ID: "g", Deadband: DefaultDeadband}, AlertWarning, []Reading{reading(200, at)}, at, false},
		{"rising at 0.3 m/h: above half the limit", g, AlertRising, []Reading{reading(99.3, at), reading(99, before)}, at, true},
		{"rising at 0.25 m/h: half the limit clears", g, AlertRising, []Reading{reading(99.25, at), reading(99, before)}, at, false},
		{"rising: one reading has no rate", g, AlertRising, []Reading{reading(99.25, at)}, at, false},
		{"silent: still no reading", g, AlertSilent, []Reading{reading(99, at)}, at.Add(21 * time.Minute), true},
		{"silent: a reading within twice the interval", g, AlertSilent, []Reading{reading(99, at)}, at.Add(20 * time.Minute), false},
		{"silent: never reported", g, AlertSilent, nil, at, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Persists(tt.g, tt.k, tt.recent, tt.now); got != tt.want {
				t.Fatalf("Persists(%s) = %v, want %v", tt.k, got, tt.want)
			}
		})
	}
}

// TestHoveringLevel replays a level that hovers around the flood limit, a
// centimetre either side, and counts the alerts that open and resolve
// with and without the deadband: with it, one alert for the whole
// episode.
func TestHoveringLevel(t *testing.T) {
	levels := []float64{99.99, 100.01, 99.99, 100.02, 99.98, 100.01, 99.97, 100.0, 99.99, 100.01, 99.94}
	for _, tt := range []struct {
		deadband float64
		opens    int
	}{{0, 4}, {DefaultDeadband, 1}} {
		g := testGauge()
		g.Deadband = tt.deadband
		open, opens := false, 0
		for i, l := range levels {
			r := []Reading{reading(l, aug18.Add(time.Duration(i)*time.Minute))}
			if open && !Persists(g, AlertFloodLimit, r, r[0].At) {
				open = false
			}
			if _, over := OverFloodLimit(g, r[0]); over && !open {
				open, opens = true, opens+1
			}
		}
		if opens != tt.opens || open {
			t.Errorf("deadband %g m: %d alerts opened (open at the end: %v), want %d and resolved", tt.deadband, opens, open, tt.opens)
		}
	}
}

func TestHeld(t *testing.T) {
	g := testGauge()
	g.Deadband = DefaultDeadband
	planner := Actor{ID: "tok-p", Name: "市防办", Role: RolePlanner}
	resolved := func(k AlertKind, by Actor, at time.Time) Alert {
		a := NewAlert("g", Condition{Kind: k, Value: 100.2, Limit: 100}, at.Add(-time.Hour), SystemActor())
		a, err := a.Apply(AlertTransition{Action: ActionResolve, Note: "人工解除"}, at, by)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	at := aug18
	later := func(m int) time.Time { return at.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name  string
		last  Alert
		since []Reading
		prev  *Reading
		now   time.Time
		want  bool
	}{
		{"resolved by the system: not held", resolved(AlertFloodLimit, SystemActor(), at), []Reading{reading(100.2, later(1))}, nil, later(2), false},
		{"still over since the planner resolved it", resolved(AlertFloodLimit, planner, at), []Reading{reading(100.2, later(1)), reading(100.1, later(2))}, nil, later(3), true},
		{"no reading since", resolved(AlertFloodLimit, planner, at), nil, nil, later(3), true},
		{"it fell below the deadband once", resolved(AlertFloodLimit, planner, at), []Reading{reading(99.9, later(1)), reading(100.2, later(2))}, nil, later(3), false},
		{"within the deadband is not clearing", resolved(AlertFloodLimit, planner, at), []Reading{reading(99.97, later(1)), reading(100.2, later(2))}, nil, later(3), true},
		{"a day later it is raised again", resolved(AlertFloodLimit, planner, at), []Reading{reading(100.2, later(1))}, nil, at.Add(ManualHold), false},
		{"silent: no reading since", resolved(AlertSilent, planner, at), nil, nil, later(60), true},
		{"silent: a reading at the resolution's time does not end it", resolved(AlertSilent, planner, at), []Reading{reading(99, at)}, nil, later(60), true},
		{"silent: the gauge reported after", resolved(AlertSilent, planner, at), []Reading{reading(99, later(5))}, nil, later(60), false},
		{"rising: still fast against the reading before", resolved(AlertRising, planner, at), []Reading{reading(100.0, later(60))}, &Reading{Level: 99.4, At: at}, later(61), true},
		{"rising: it slowed", resolved(AlertRising, planner, at), []Reading{reading(99.5, later(60))}, &Reading{Level: 99.4, At: at}, later(61), false},
		{"not resolved at all", NewAlert("g", Condition{Kind: AlertFloodLimit}, at, SystemActor()), nil, nil, later(1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Held(g, tt.last, tt.since, tt.prev, tt.now); got != tt.want {
				t.Fatalf("Held = %v, want %v", got, tt.want)
			}
		})
	}
}
