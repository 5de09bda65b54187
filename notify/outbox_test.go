package notify_test

import (
	"context"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/notify"
)

// TestOutboxSurvivesACrash: an instance writes an alert's step and dies
// before sending it — after the commit and before the hand-over, while
// holding its claim, or after the robot took it but before the entry was
// finished. Another instance (or the same one restarted) delivers it:
// once in the first two cases, and not again in the third (the dedupe
// key: an OK delivery of the same alert, version and channel is on
// record).
func TestOutboxSurvivesACrash(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		ctx := context.Background()
		for _, id := range []string{"a", "b", "c"} {
			if err := st.Create(ctx, geo.Gauges, &geo.Feature{ID: id, Properties: map[string]any{
				"name": "站 " + id, "kind": "reservoir", "location_source": "test", "warning_level": 100.0}}); err != nil {
				t.Fatal(err)
			}
		}
		clk := &clock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)}
		sensor := geo.WithActor(ctx, geo.Actor{ID: "s", Name: "站", Role: geo.RoleSensor})
		// The instance that dies has a channel too, but never dispatches.
		dying := notify.New(st, notify.Options{Now: clk.Now, Channels: []notify.Channel{{Name: "wecom", Sender: &counter{}}}})
		alerts := map[string]geo.Alert{}
		for _, id := range []string{"a", "b", "c"} {
			_, steps, err := dying.AddReading(sensor, geo.Reading{GaugeID: id, At: clk.Now(), Level: 100.3, Source: geo.ReadingTelemetry})
			if err != nil || len(steps) != 1 {
				t.Fatalf("AddReading(%s) = %+v, %v", id, steps, err)
			}
			alerts[id] = steps[0]
		}
		// a: committed, never claimed. b: claimed, then the process died.
		// c: claimed, sent and recorded, then it died before finishing.
		claimed, err := st.ClaimPending(ctx, clk.Now(), 10*time.Minute, 3)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("ClaimPending = %+v, %v", claimed, err)
		}
		for _, p := range claimed {
			switch p.AlertID {
			case alerts["a"].ID:
				if err := st.FinishPending(ctx, p.ID, p.Attempts, clk.Now()); err != nil { // back as if never claimed
					t.Fatal(err)
				}
			case alerts["c"].ID:
				if _, err := st.RecordDelivery(ctx, geo.Delivery{AlertID: p.AlertID, AlertVersion: p.AlertVersion, Channel: "wecom",
					OK: true, Attempts: 1, Detail: "ok", Batch: 1, At: clk.Now()}); err != nil {
					t.Fatal(err)
				}
			}
		}

		survivor := &counter{}
		other := notify.New(st, notify.Options{Now: clk.Now, Channels: []notify.Channel{{Name: "wecom", Sender: survivor}}})
		if _, err := other.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		if got := survivor.sent(); len(got) != 1 || got[0] != notify.Key(alerts["a"].ID, 1) {
			t.Fatalf("before the leases ran out the survivor sent %v, want a's step only", got)
		}
		clk.Set(clk.Now().Add(11 * time.Minute)) // the dead instance's leases have run out
		if _, err := other.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		got := survivor.sent()
		if len(got) != 2 || got[1] != notify.Key(alerts["b"].ID, 1) {
			t.Fatalf("after the leases the survivor sent %v, want a's and b's steps (c's was delivered already)", got)
		}
		if n, err := other.Dispatch(ctx); n != 0 || err != nil {
			t.Errorf("Dispatch with an empty outbox = %d, %v", n, err)
		}
		for id, a := range alerts {
			ds, _ := st.Deliveries(ctx, a.ID)
			if len(ds) != 1 || !ds[0].OK {
				t.Errorf("deliveries of %s's alert = %+v, want one OK", id, ds)
			}
		}
	})
}
