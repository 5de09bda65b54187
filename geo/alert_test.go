package geo

import (
	"fmt"
	"testing"
	"time"
)

func ptr(x float64) *float64 { return &x }

var aug18 = time.Date(2024, 8, 18, 9, 0, 0, 0, ChinaTime)

func testGauge() Gauge {
	return Gauge{ID: "g", Name: "饮马坑水库",
		FloodLimits:  []FloodLimit{{Start: MonthDay{7, 16}, End: MonthDay{8, 31}, Level: 100, Period: PeriodMain}},
		WarningLevel: ptr(101), GuaranteedLevel: ptr(102), MaxRise: ptr(0.5), ReportInterval: 10 * time.Minute}
}

func reading(level float64, at time.Time) Reading {
	return Reading{GaugeID: "g", Level: level, At: at, Source: ReadingTelemetry}
}

func TestEvaluate(t *testing.T) {
	g := testGauge()
	tests := []struct {
		name   string
		g      Gauge
		recent []Reading
		now    time.Time
		want   []AlertKind
	}{
		{"below everything", g, []Reading{reading(99.9, aug18)}, aug18, nil},
		{"at the limit is not over", g, []Reading{reading(100, aug18)}, aug18, nil},
		{"0.15 m over the flood limit", g, []Reading{reading(100.15, aug18)}, aug18, []AlertKind{AlertFloodLimit}},
		{"outside every window", g, []Reading{reading(100.15, aug18.AddDate(0, 1, 0))}, aug18.AddDate(0, 1, 0), nil},
		{"over warning", g, []Reading{reading(101.2, aug18)}, aug18, []AlertKind{AlertFloodLimit, AlertWarning}},
		{"over guaranteed", g, []Reading{reading(102.01, aug18)}, aug18, []AlertKind{AlertFloodLimit, AlertWarning, AlertGuaranteed}},
		{"rising 0.6 m/h", g, []Reading{reading(99.6, aug18), reading(99.0, aug18.Add(-time.Hour))}, aug18, []AlertKind{AlertRising}},
		{"rising 0.5 m/h is the limit", g, []Reading{reading(99.5, aug18), reading(99.0, aug18.Add(-time.Hour))}, aug18, nil},
		{"falling fast", g, []Reading{reading(98, aug18), reading(99.5, aug18.Add(-time.Hour))}, aug18, nil},
		{"same time has no rate", g, []Reading{reading(99.9, aug18), reading(90, aug18)}, aug18, nil},
		{"silent after twice the interval", g, []Reading{reading(99, aug18)}, aug18.Add(20*time.Minute + time.Second), []AlertKind{AlertSilent}},
		{"twice the interval is not yet silent", g, []Reading{reading(99, aug18)}, aug18.Add(20 * time.Minute), nil},
		{"never reported", g, nil, aug18, []AlertKind{AlertSilent}},
		{"no limits known", Gauge{ID: "g"}, []Reading{reading(500, aug18), reading(0, aug18.Add(-time.Minute))}, aug18.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.g, tt.recent, tt.now)
			var kinds []AlertKind
			for _, c := range got {
				kinds = append(kinds, c.Kind)
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tt.want) {
				t.Fatalf("Evaluate = %v, want %v", kinds, tt.want)
			}
		})
	}
}

func TestAlertLifecycle(t *testing.T) {
	c, _ := OverFloodLimit(testGauge(), reading(100.15, aug18))
	a := NewAlert("g", c, aug18, SystemActor())
	a.ID = "a1"
	planner := Actor{ID: "t1", Name: "防办值班", Role: RolePlanner}
	tests := []struct {
		name  string
		from  func() Alert
		t     AlertTransition
		actor Actor
		state AlertState
		kind  Kind // 0 = ok (Internal is never wanted here)
	}{
		{"acknowledge", func() Alert { return a }, AlertTransition{ActionAcknowledge, "已通知水库管理员开闸泄洪"}, planner, AlertAcknowledged, 0},
		{"acknowledge needs a note", func() Alert { return a }, AlertTransition{ActionAcknowledge, " "}, planner, "", Invalid},
		{"the system does not acknowledge", func() Alert { return a }, AlertTransition{ActionAcknowledge, "x"}, SystemActor(), "", Invalid},
		{"escalate", func() Alert { return a }, AlertTransition{Action: ActionEscalate}, SystemActor(), AlertOpen, 0},
		{"escalate twice", func() Alert {
			b, _ := a.Apply(AlertTransition{Action: ActionEscalate}, aug18, SystemActor())
			return b
		}, AlertTransition{Action: ActionEscalate}, SystemActor(), "", Conflict},
		{"acknowledge after escalation", func() Alert {
			b, _ := a.Apply(AlertTransition{Action: ActionEscalate}, aug18, SystemActor())
			return b
		}, AlertTransition{ActionAcknowledge, "收到"}, planner, AlertAcknowledged, 0},
		{"no escalation once acknowledged", func() Alert {
			b, _ := a.Apply(AlertTransition{ActionAcknowledge, "收到"}, aug18, planner)
			return b
		}, AlertTransition{Action: ActionEscalate}, SystemActor(), "", Conflict},
		{"resolve", func() Alert { return a }, AlertTransition{ActionResolve, "水位回落"}, SystemActor(), AlertResolved, 0},
		{"resolve twice", func() Alert {
			b, _ := a.Apply(AlertTransition{ActionResolve, "x"}, aug18, planner)
			return b
		}, AlertTransition{ActionResolve, "y"}, planner, "", Conflict},
		{"unknown step", func() Alert { return a }, AlertTransition{Action: ActionDelete}, planner, "", Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from()
			got, err := from.Apply(tt.t, aug18.Add(time.Minute), tt.actor)
			if tt.kind != 0 {
				if KindOf(err) != tt.kind {
					t.Fatalf("Apply = %v, want kind %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply = %v", err)
			}
			if got.State != tt.state || got.Version != from.Version+1 || len(got.Steps) != len(from.Steps)+1 || len(from.Steps) != int(from.Version) {
				t.Fatalf("Apply = state %s version %d (%d steps), want %s version %d", got.State, got.Version, len(got.Steps), tt.state, from.Version+1)
			}
		})
	}
}

func TestEscalationDue(t *testing.T) {
	a := NewAlert("g", Condition{Kind: AlertSilent}, aug18, SystemActor())
	if a.EscalationDue(aug18.Add(29*time.Minute), 30*time.Minute) {
		t.Error("due before the time")
	}
	if !a.EscalationDue(aug18.Add(30*time.Minute), 30*time.Minute) {
		t.Error("not due at the time")
	}
	if a.EscalationDue(aug18.Add(time.Hour), 0) {
		t.Error("due with escalation off")
	}
	b, _ := a.Apply(AlertTransition{ActionAcknowledge, "收到"}, aug18, Actor{ID: "t", Name: "n", Role: RoleCrew})
	if b.EscalationDue(aug18.Add(time.Hour), 30*time.Minute) {
		t.Error("an acknowledged alert escalates")
	}
}

func TestReadingCheck(t *testing.T) {
	g := testGauge()
	g.LevelMin, g.LevelMax = ptr(90), ptr(110)
	now := aug18
	tests := []struct {
		name  string
		r     Reading
		field string
	}{
		{"ok", reading(100, now), ""},
		{"clock a little fast", reading(100, now.Add(MaxReadingSkew)), ""},
		{"future", reading(100, now.Add(MaxReadingSkew+time.Second)), "at"},
		{"no time", reading(100, time.Time{}), "at"},
		{"1900", reading(100, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)), "at"},
		{"outside the gauge's range", reading(111, now), "level"},
		{"impossible anywhere", reading(1e6, now), "level"},
		{"other gauge", Reading{GaugeID: "h", Level: 100, At: now, Source: ReadingManual}, "gauge_id"},
		{"bad source", Reading{GaugeID: "g", Level: 100, At: now, Source: "guess"}, "source"},
		{"NUL note", Reading{GaugeID: "g", Level: 100, At: now, Source: ReadingManual, Note: "a\x00"}, "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Check(g, now)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			if e := AsError(err); e == nil || e.Kind != Invalid || e.Fields[0].Field != tt.field {
				t.Fatalf("Check = %v, want Invalid naming %s", err, tt.field)
			}
		})
	}
}

// The 18 August case: 饮马坑水库 stood 0.15 m over its flood-limit level.
// (The limit here is an example, not a fact: the report gives none.)
func ExampleEvaluate() {
	limit := 149.5 // example value
	g := Gauge{ID: "yinmakeng", Name: "饮马坑水库",
		FloodLimits: []FloodLimit{{Start: MonthDay{7, 16}, End: MonthDay{8, 31}, Level: limit, Period: PeriodMain}}}
	r := Reading{GaugeID: g.ID, Level: limit + 0.15, At: time.Date(2024, 8, 18, 9, 0, 0, 0, ChinaTime)}
	for _, c := range Evaluate(g, []Reading{r}, r.At) {
		fmt.Println(c.Kind, c.Describe())
	}
	// Output: over_flood_limit 水位 149.65 米，超汛限水位 149.50 米（主汛期）0.15 米
}

func ExampleAlert_Apply() {
	now := time.Date(2024, 8, 18, 9, 0, 0, 0, ChinaTime)
	a := NewAlert("yinmakeng", Condition{Kind: AlertFloodLimit, Value: 149.65, Limit: 149.5}, now, SystemActor())
	a, _ = a.Apply(AlertTransition{Action: ActionEscalate}, now.Add(30*time.Minute), SystemActor())
	a, _ = a.Apply(AlertTransition{ActionAcknowledge, "已通知贾峪镇和水库管理员"}, now.Add(35*time.Minute), Actor{ID: "t1", Name: "市防办值班", Role: RolePlanner})
	a, _ = a.Apply(AlertTransition{ActionResolve, "水位回落至汛限水位以下"}, now.Add(3*time.Hour), SystemActor())
	for _, s := range a.Steps {
		fmt.Println(a.Version, s.Action, s.Actor.Name)
	}
	// Output:
	// 4 open system
	// 4 escalate system
	// 4 acknowledge 市防办值班
	// 4 resolve system
}

func BenchmarkEvaluate(b *testing.B) {
	g := testGauge()
	recent := []Reading{reading(100.15, aug18), reading(99.9, aug18.Add(-time.Minute))}
	b.ReportAllocs()
	for b.Loop() {
		if len(Evaluate(g, recent, aug18)) == 0 {
			b.Fatal("no condition")
		}
	}
}

func TestAlertAsOf(t *testing.T) {
	p := Actor{ID: "p", Name: "值班", Role: RolePlanner}
	a := NewAlert("g", Condition{Kind: AlertFloodLimit, Value: 100.15, Limit: 100}, aug18, SystemActor())
	steps := []struct {
		t  AlertTransition
		by Actor
	}{{AlertTransition{Action: ActionEscalate}, SystemActor()}, {AlertTransition{Action: ActionAcknowledge, Note: "收到"}, p},
		{AlertTransition{Action: ActionResolve, Note: "回落"}, SystemActor()}}
	versions := []Alert{a}
	for i, s := range steps {
		var err error
		if a, err = a.Apply(s.t, aug18.Add(time.Duration(i+1)*time.Minute), s.by); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, a)
	}
	for v := int64(1); v <= a.Version; v++ {
		got, ok := a.AsOf(v)
		want := versions[v-1]
		if !ok || got.Version != v || got.State != want.State || !got.Escalated.Equal(want.Escalated) || !got.Updated.Equal(want.Updated) || len(got.Steps) != int(v) {
			t.Errorf("AsOf(%d) = %+v, %v; want %+v", v, got, ok, want)
		}
	}
	if _, ok := a.AsOf(5); ok {
		t.Error("AsOf(5) of a 4-step alert is true")
	}
	if _, ok := a.AsOf(0); ok {
		t.Error("AsOf(0) is true")
	}
}
