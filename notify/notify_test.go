package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/notify"
	"hazardmap/notify/wecom"
)

func TestKey(t *testing.T) {
	id, v, ok := notify.ParseKey(notify.Key("abc", 3))
	if !ok || id != "abc" || v != 3 {
		t.Errorf("ParseKey(Key(abc, 3)) = %q, %d, %v", id, v, ok)
	}
	for _, k := range []string{"", "abc", "abc/", "/3", "abc/0", "abc/x"} {
		if _, _, ok := notify.ParseKey(k); ok {
			t.Errorf("ParseKey(%q) ok", k)
		}
	}
}

func TestTextEscapesUserInput(t *testing.T) {
	now := time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)
	a := geo.NewAlert("g", geo.Condition{Kind: geo.AlertWarning, Value: 101.2, Limit: 101, At: now}, now, geo.SystemActor())
	a.ID = "a"
	a, _ = a.Apply(geo.AlertTransition{Action: geo.ActionAcknowledge, Note: "**见** <font>[链接](http://x)</font>"}, now, geo.Actor{ID: "t", Name: "值班`员`", Role: geo.RoleCrew})
	s := notify.Text(a, geo.Gauge{ID: "g", Name: "索河", Township: "索河街道"})
	for _, bad := range []string{"**见**", "<font>[", "](http", "`员`"} {
		if strings.Contains(s, bad) {
			t.Errorf("Text = %q: user text %q is read as markup", s, bad)
		}
	}
	if !strings.Contains(s, "超警戒水位") || !strings.Contains(s, "索河街道") {
		t.Errorf("Text = %q", s)
	}
}

// refuser is a channel that never takes a message.
type refuser struct{}

func (refuser) Send(_ context.Context, batch []wecom.Message) wecom.Result {
	return wecom.Result{Messages: batch, Attempts: 5, Detail: "HTTP 502", At: time.Now()}
}

func TestPlannerResolvesAndDeletedGauges(t *testing.T) {
	ctx := context.Background()
	st := openEmbedded(t)
	for _, id := range []string{"a", "b"} {
		if err := st.Create(ctx, geo.Gauges, &geo.Feature{ID: id, Properties: map[string]any{
			"name": "站 " + id, "kind": "other", "location_source": "test", "report_interval_min": 10.0}}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)}
	eng := notify.New(st, notify.Options{Now: clk.Now, Channels: []notify.Channel{{Name: "down", Sender: refuser{}}}})
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	as, _, _ := st.Alerts(ctx, geo.AlertQuery{Active: true})
	if len(as) != 2 {
		t.Fatalf("%d silent alerts, want 2 (gauges that never reported)", len(as))
	}
	// A channel that refuses is a failed delivery on record, and the step
	// stays in the outbox, due again after a backoff.
	if n, err := eng.Dispatch(ctx); n != 2 || err != nil {
		t.Fatalf("Dispatch = %d, %v; want the 2 steps", n, err)
	}
	if ds, _ := st.Deliveries(ctx, as[0].ID); len(ds) != 1 || ds[0].OK || !strings.Contains(ds[0].Detail, "502") {
		t.Errorf("deliveries = %+v", ds)
	}
	if n, _ := eng.Dispatch(ctx); n != 0 {
		t.Errorf("Dispatch at once again claimed %d steps, want none before the backoff", n)
	}
	clk.Set(clk.Now().Add(31 * time.Second))
	if n, _ := eng.Dispatch(ctx); n != 2 {
		t.Errorf("Dispatch after the backoff claimed %d steps, want 2", n)
	}
	if ds, _ := st.Deliveries(ctx, as[0].ID); len(ds) != 2 {
		t.Errorf("deliveries after a retry = %+v", ds)
	}
	planner := geo.WithActor(ctx, geo.Actor{ID: "p", Name: "规划员", Role: geo.RolePlanner})
	var onA geo.Alert
	for _, a := range as {
		if a.GaugeID == "a" {
			onA = a
		}
	}
	r, err := eng.Resolve(planner, onA.ID, onA.Version, "测站检修中，已安排人工观测")
	if err != nil || r.State != geo.AlertResolved {
		t.Fatalf("Resolve = %+v, %v", r, err)
	}
	if _, err := eng.Acknowledge(planner, onA.ID, 0, "迟到的确认"); geo.KindOf(err) != geo.Conflict {
		t.Errorf("Acknowledge(resolved) = %v, want Conflict", err)
	}
	// Gauge b is deleted: its alert resolves at the next tick.
	f, _ := st.Feature(ctx, geo.Gauges, "b")
	if err := st.Delete(ctx, geo.Gauges, "b", f.Version); err != nil {
		t.Fatal(err)
	}
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	as, _, _ = st.Alerts(ctx, geo.AlertQuery{GaugeID: "b"})
	if len(as) != 1 || as[0].State != geo.AlertResolved {
		t.Fatalf("alerts of the deleted gauge = %+v, want resolved", as)
	}
	// The planner's resolution of gauge a's alert holds while a stays
	// silent: the ticks open nothing new (geo.Held).
	clk.Set(clk.Now().Add(time.Hour))
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if as, _, _ = st.Alerts(ctx, geo.AlertQuery{GaugeID: "a", Active: true}); len(as) != 0 {
		t.Fatalf("active alerts of a after the planner resolved it = %+v, want none", as)
	}
	// Gauge a reports again, then falls silent again: a new alert.
	sensor := geo.WithActor(ctx, geo.Actor{ID: "s", Name: "站", Role: geo.RoleSensor})
	if _, _, err := eng.AddReading(sensor, geo.Reading{GaugeID: "a", At: clk.Now(), Level: 3, Source: geo.ReadingTelemetry}); err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(21 * time.Minute))
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	as, _, _ = st.Alerts(ctx, geo.AlertQuery{GaugeID: "a", Active: true})
	if len(as) != 1 || as[0].ID == onA.ID || as[0].Kind != geo.AlertSilent {
		t.Errorf("active alerts of a after it fell silent again = %+v, want a new silent alert", as)
	}
}

// A planner resolves an over-limit alert while the level is still over
// (the reservoir is held over its limit on orders): readings still over
// open nothing; once the level has fallen through the deadband and rises
// again, a new alert opens; and a day after the resolution a condition
// that never cleared is raised again.
func TestPlannerResolutionHoldsUntilCleared(t *testing.T) {
	ctx := context.Background()
	st := openEmbedded(t)
	if err := st.Create(ctx, geo.Gauges, &geo.Feature{ID: "r", Properties: map[string]any{
		"name": "水库", "kind": "reservoir", "location_source": "test",
		"flood_limits": []any{map[string]any{"start": "06-01", "end": "09-30", "level": 100.0, "period": "main"}}}}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)}
	eng := notify.New(st, notify.Options{Now: clk.Now})
	sensor := geo.WithActor(ctx, geo.Actor{ID: "s", Name: "站", Role: geo.RoleSensor})
	planner := geo.WithActor(ctx, geo.Actor{ID: "p", Name: "规划员", Role: geo.RolePlanner})
	read := func(level float64) []geo.Alert {
		t.Helper()
		clk.Set(clk.Now().Add(10 * time.Minute))
		_, steps, err := eng.AddReading(sensor, geo.Reading{GaugeID: "r", At: clk.Now(), Level: level, Source: geo.ReadingTelemetry})
		if err != nil {
			t.Fatal(err)
		}
		return steps
	}
	steps := read(100.15)
	if len(steps) != 1 {
		t.Fatalf("0.15 m over: %+v", steps)
	}
	if _, err := eng.Resolve(planner, steps[0].ID, 0, "防指批准超汛限蓄水"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []float64{100.2, 100.1, 99.97, 100.3} { // 99.97 is within the 5 cm deadband
		if steps := read(l); len(steps) != 0 {
			t.Fatalf("reading %g after the planner's resolution: steps %+v, want none", l, steps)
		}
	}
	if steps := read(99.9); len(steps) != 0 { // cleared: nothing to resolve, nothing opens
		t.Fatalf("reading 99.9: steps %+v", steps)
	}
	steps = read(100.2)
	if len(steps) != 1 || steps[0].State != geo.AlertOpen {
		t.Fatalf("over again after clearing: steps %+v, want a new alert", steps)
	}
	if _, err := eng.Resolve(planner, steps[0].ID, 0, "防指批准"); err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(geo.ManualHold))
	if steps := read(100.2); len(steps) != 1 {
		t.Fatalf("a day after the resolution, still over: steps %+v, want the alert raised again", steps)
	}
}

// A reading sent with an Idempotency-Key (a phone's queue replaying it)
// answers the key with the reading; the alert it opens is the engine's
// own write and does not try to answer the key again.
func TestIdempotentReadingOpensItsAlert(t *testing.T) {
	ctx := context.Background()
	st := openEmbedded(t)
	if err := st.Create(ctx, geo.Gauges, &geo.Feature{ID: "g", Properties: map[string]any{
		"name": "站", "kind": "reservoir", "location_source": "test", "warning_level": 100.0}}); err != nil {
		t.Fatal(err)
	}
	claim, err := st.ClaimIdempotencyKey(ctx, "reading-1", make([]byte, 32), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var answered *geo.Reading
	ictx := geo.WithIdempotency(geo.WithActor(ctx, geo.Actor{ID: "c", Name: "巡查员", Role: geo.RoleCrew}), claim,
		func(res geo.WriteResult) (geo.StoredResponse, error) {
			answered = res.Reading
			return geo.StoredResponse{Status: 201, Body: []byte("{}")}, nil
		})
	now := time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)
	eng := notify.New(st, notify.Options{Now: func() time.Time { return now }})
	_, steps, err := eng.AddReading(ictx, geo.Reading{GaugeID: "g", At: now, Level: 100.5, Source: geo.ReadingManual})
	if err != nil || len(steps) != 1 || steps[0].Kind != geo.AlertWarning {
		t.Fatalf("AddReading = %+v, %v; want an over_warning alert", steps, err)
	}
	if answered == nil || answered.Level != 100.5 {
		t.Errorf("the key was answered with %+v, want the reading", answered)
	}
}

// openEmbedded returns an empty embedded store, closed when t ends.
func openEmbedded(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
