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

// queueFull refuses every message.
type queueFull struct{}

func (queueFull) Enqueue(wecom.Message) error { return wecom.ErrQueueFull }

func TestPlannerResolvesAndDeletedGauges(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []string{"a", "b"} {
		if err := st.Create(ctx, geo.Gauges, &geo.Feature{ID: id, Properties: map[string]any{
			"name": "站 " + id, "kind": "other", "location_source": "test", "report_interval_min": 10.0}}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)}
	eng := notify.New(st, notify.Options{Now: clk.Now, Channels: []notify.Channel{{Name: "full", Queue: queueFull{}}}})
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	as, _, _ := st.Alerts(ctx, geo.AlertQuery{Active: true})
	if len(as) != 2 {
		t.Fatalf("%d silent alerts, want 2 (gauges that never reported)", len(as))
	}
	// A queue that is full is a failed delivery on record.
	if ds, _ := st.Deliveries(ctx, as[0].ID); len(ds) != 1 || ds[0].OK || !strings.Contains(ds[0].Detail, "queue full") {
		t.Errorf("deliveries = %+v", ds)
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
	// The planner's resolution of gauge a's alert stands; a is still
	// silent, so the next tick opens a new alert for it.
	as, _, _ = st.Alerts(ctx, geo.AlertQuery{GaugeID: "a", Active: true})
	if len(as) != 1 || as[0].ID == onA.ID {
		t.Errorf("active alerts of a = %+v, want a new one", as)
	}
}

// A reading sent with an Idempotency-Key (a phone's queue replaying it)
// answers the key with the reading; the alert it opens is the engine's
// own write and does not try to answer the key again.
func TestIdempotentReadingOpensItsAlert(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
