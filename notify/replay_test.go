package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
	"hazardmap/geo/postgis"
	"hazardmap/geo/postgis/pgtest"
	"hazardmap/notify"
	"hazardmap/notify/capmsg"
	"hazardmap/notify/capmsg/captest"
	"hazardmap/notify/wecom"
)

// stores returns the two stores, each opened empty per test.
func forEachStore(t *testing.T, f func(t *testing.T, st geo.Store)) {
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		st, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
	t.Run("postgis", func(t *testing.T) {
		t.Parallel()
		url := pgtest.NewDatabase(t)
		st, err := postgis.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		f(t, st)
	})
}

// clock is the engine's injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// robot stands in for the WeCom group robot: a real HTTP server that
// hands every post to posts.
type robot struct {
	srv   *httptest.Server
	posts chan map[string]any
}

func newRobot(t *testing.T) *robot {
	r := &robot{posts: make(chan map[string]any, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p map[string]any
		if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		r.posts <- p
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// waitTimeout bounds each wait for something the test caused: a
// failure, never a measurement.
const waitTimeout = 30 * time.Second

func next[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("%s: nothing within %v", what, waitTimeout)
		panic("unreachable")
	}
}

// content returns the text a robot post carried.
func content(p map[string]any) string {
	for _, k := range []string{"markdown", "text"} {
		if m, ok := p[k].(map[string]any); ok {
			s, _ := m["content"].(string)
			return s
		}
	}
	return ""
}

// The 18 August replay (report 三（五）3): 饮马坑水库 stood 0.15 m over its
// flood-limit level and nobody noticed. Here the same reading opens an
// alert in the same call, the robot gets it, the CAP message validates,
// nobody acknowledges it for half an hour so it escalates, a planner
// acknowledges it, the level falls back and it resolves; a gauge that
// stops reporting raises its own alert. The flood limit (149.50 m) is a
// test value: the report gives none.
func TestAugust18Replay(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		ctx := context.Background()
		limit := 149.50
		mustCreate := func(f *geo.Feature) {
			if err := st.Create(ctx, geo.Gauges, f); err != nil {
				t.Fatal(err)
			}
		}
		mustCreate(&geo.Feature{ID: "gauge-yinmakeng", Properties: map[string]any{
			"name": "饮马坑水库", "kind": "reservoir", "township": "贾峪镇", "location_source": "test",
			"datum": "测试基面",
			"flood_limits": []any{
				map[string]any{"start": "06-01", "end": "07-15", "level": limit + 0.5, "period": "transition"},
				map[string]any{"start": "07-16", "end": "08-31", "level": limit, "period": "main"},
			},
		}})
		mustCreate(&geo.Feature{ID: "gauge-silent", Properties: map[string]any{
			"name": "测试遥测站", "kind": "river_section", "river": "汜河", "location_source": "test", "report_interval_min": 10.0,
		}})

		clk := &clock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)}
		bot, escBot := newRobot(t), newRobot(t)
		deliveries := make(chan geo.Delivery, 100)
		var chans []notify.Channel
		runCtx, stop := context.WithCancel(ctx)
		t.Cleanup(stop)
		for _, c := range []struct {
			name string
			url  string
			esc  bool
		}{{"wecom", bot.srv.URL + "/send?key=k", false}, {"wecom_escalation", escBot.srv.URL + "/send?key=k2", true}} {
			name := c.name
			cl, err := wecom.New(c.url, wecom.Options{Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			chans = append(chans, notify.Channel{Name: name, Sender: cl, Escalations: c.esc})
		}
		eng := notify.New(st, notify.Options{Now: clk.Now, EscalateAfter: 30 * time.Minute, Channels: chans,
			OnDelivery: func(d geo.Delivery) { deliveries <- d }})
		go eng.RunDelivery(runCtx)
		gauge, _ := st.Feature(ctx, geo.Gauges, "gauge-yinmakeng")
		g, _ := geo.GaugeOf(gauge)
		validate := func(a geo.Alert, msgType string) {
			t.Helper()
			doc, err := capmsg.Encode(a, g, capmsg.Site{Description: g.Township}, capmsg.Options{})
			if err != nil {
				t.Fatal(err)
			}
			captest.Validate(t, doc)
			if !strings.Contains(string(doc), "<msgType>"+msgType+"</msgType>") {
				t.Errorf("CAP of version %d is not %s:\n%s", a.Version, msgType, doc)
			}
		}
		sensor := geo.WithActor(ctx, geo.Actor{ID: "tok-sensor", Name: "饮马坑水库遥测站", Role: geo.RoleSensor})
		seen, _ := st.Changes(ctx, 0, 0)
		after := seen[len(seen)-1].Seq
		sub, err := st.Subscribe(runCtx)
		if err != nil {
			t.Fatal(err)
		}

		// 09:00 both gauges report; 饮马坑水库 0.15 m over its limit.
		if _, _, err := eng.AddReading(sensor, geo.Reading{GaugeID: "gauge-silent", At: clk.Now(), Level: 3.2, Source: geo.ReadingTelemetry}); err != nil {
			t.Fatal(err)
		}
		_, steps, err := eng.AddReading(sensor, geo.Reading{GaugeID: "gauge-yinmakeng", At: clk.Now(), Level: limit + 0.15, Source: geo.ReadingTelemetry})
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != 1 || steps[0].Kind != geo.AlertFloodLimit || steps[0].State != geo.AlertOpen {
			t.Fatalf("the reading 0.15 m over made steps %+v, want one open over_flood_limit alert", steps)
		}
		alert := steps[0]
		if alert.Steps[0].Actor != geo.SystemActor() {
			t.Errorf("alert opened by %+v, want the system", alert.Steps[0].Actor)
		}
		// What /events carries: the change of the alert, after the reading's.
		next(t, sub, "a signal after the alert")
		cs, _ := st.Changes(ctx, after, 0)
		if n := len(cs); n < 3 || cs[n-1].Collection != geo.AlertsCollection || cs[n-1].FeatureID != alert.ID || cs[n-1].Action != geo.ActionOpen {
			t.Fatalf("changes after the reading = %+v, want the alert's open last", cs)
		}
		post := next(t, bot.posts, "the robot's first post")
		if s := content(post); !strings.Contains(s, "饮马坑水库") || !strings.Contains(s, "超汛限水位") || !strings.Contains(s, "0.15") {
			t.Errorf("robot got %q", s)
		}
		if d := next(t, deliveries, "the first delivery"); !d.OK || d.AlertID != alert.ID || d.AlertVersion != 1 || d.Channel != "wecom" {
			t.Errorf("delivery %+v", d)
		}
		validate(alert, "Alert")

		// 09:21 the telemetry station has been silent for over 2 × 10 min.
		clk.Set(clk.Now().Add(21 * time.Minute))
		if err := eng.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		silent, _, _ := st.Alerts(ctx, geo.AlertQuery{GaugeID: "gauge-silent", Active: true})
		if len(silent) != 1 || silent[0].Kind != geo.AlertSilent {
			t.Fatalf("silent gauge alerts = %+v, want one silent alert", silent)
		}
		next(t, bot.posts, "the silent gauge's post")
		next(t, deliveries, "the silent gauge's delivery")

		// 09:30 nobody has acknowledged: it escalates, to the second robot with @all too.
		clk.Set(time.Date(2024, 8, 18, 9, 30, 0, 0, geo.ChinaTime))
		if err := eng.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		esc, err := st.Alert(ctx, alert.ID)
		if err != nil || esc.Escalated.IsZero() || esc.Version != 2 {
			t.Fatalf("after 30 min unacknowledged: %+v, %v; want escalated", esc, err)
		}
		p := next(t, escBot.posts, "the escalation robot's post")
		if p["msgtype"] != "text" || !strings.Contains(fmt.Sprint(p["text"]), "@all") || !strings.Contains(content(p), "升级") {
			t.Errorf("escalation post = %v", p)
		}
		next(t, bot.posts, "the first robot's escalation post")
		validate(esc, "Update")
		// Ticking again does not escalate twice.
		if err := eng.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if again, _ := st.Alert(ctx, alert.ID); again.Version != 2 {
			t.Errorf("a second tick changed the alert to version %d", again.Version)
		}

		// 09:35 a planner acknowledges it.
		clk.Set(clk.Now().Add(5 * time.Minute))
		planner := geo.Actor{ID: "tok-planner", Name: "市防办值班", Role: geo.RolePlanner}
		ack, err := eng.Acknowledge(geo.WithActor(ctx, planner), alert.ID, 2, "已通知贾峪镇和水库管理员开闸泄洪")
		if err != nil || ack.State != geo.AlertAcknowledged {
			t.Fatalf("Acknowledge = %+v, %v", ack, err)
		}
		es, _, _ := st.Audit(ctx, geo.AuditQuery{Collection: geo.AlertsCollection, FeatureID: alert.ID})
		if len(es) != 3 || es[0].Action != geo.ActionAcknowledge || es[0].Actor != planner {
			t.Fatalf("audit of the alert = %+v, want the planner's acknowledgement first", es)
		}
		if s := content(next(t, bot.posts, "the acknowledgement's post")); !strings.Contains(s, "市防办值班") {
			t.Errorf("acknowledgement post %q", s)
		}
		validate(ack, "Update")

		// 10:00 the level is back below the limit: it resolves by itself.
		clk.Set(time.Date(2024, 8, 18, 10, 0, 0, 0, geo.ChinaTime))
		_, steps, err = eng.AddReading(sensor, geo.Reading{GaugeID: "gauge-yinmakeng", At: clk.Now(), Level: limit - 0.1, Source: geo.ReadingTelemetry})
		if err != nil || len(steps) != 1 || steps[0].State != geo.AlertResolved || steps[0].ID != alert.ID {
			t.Fatalf("reading below the limit: steps %+v, %v; want the alert resolved", steps, err)
		}
		if s := content(next(t, bot.posts, "the resolution's post")); !strings.Contains(s, "解除") {
			t.Errorf("resolution post %q", s)
		}
		validate(steps[0], "Cancel")

		// The silent gauge reports again: its alert resolves.
		_, steps, err = eng.AddReading(sensor, geo.Reading{GaugeID: "gauge-silent", At: clk.Now(), Level: 3.1, Source: geo.ReadingTelemetry})
		if err != nil || len(steps) != 1 || steps[0].Kind != geo.AlertSilent || steps[0].State != geo.AlertResolved {
			t.Fatalf("silent gauge reports again: %+v, %v", steps, err)
		}

		// Every step of the flood-limit alert was delivered and recorded.
		for {
			ds, _ := st.Deliveries(ctx, alert.ID)
			if len(ds) >= 5 { // open, escalate ×2 channels, acknowledge, resolve
				break
			}
			next(t, deliveries, "the remaining deliveries")
		}
		ds, _ := st.Deliveries(ctx, alert.ID)
		var got []string
		for _, d := range ds {
			if !d.OK {
				t.Errorf("delivery %+v failed", d)
			}
			got = append(got, fmt.Sprintf("%s/%d", d.Channel, d.AlertVersion))
		}
		want := map[string]bool{"wecom/1": true, "wecom/2": true, "wecom_escalation/2": true, "wecom/3": true, "wecom/4": true}
		for _, k := range got {
			delete(want, k)
		}
		if len(want) > 0 {
			t.Errorf("deliveries %v, missing %v", got, want)
		}
	})
}

// counter counts what an engine hands to a channel.
type counter struct {
	mu   sync.Mutex
	keys []string
}

func (q *counter) Send(_ context.Context, batch []wecom.Message) wecom.Result {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range batch {
		q.keys = append(q.keys, m.Key)
	}
	return wecom.Result{Messages: batch, OK: true, Attempts: 1, Detail: "ok", At: time.Now()}
}

func (q *counter) sent() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.keys...)
}

// Two API instances on one PostGIS, each with its engine, tick at the
// same moment over a silent gauge: one alert opens, it is handed to a
// channel once, and it escalates once.
func TestTwoInstancesOpenOneAlert(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	var stores []*postgis.Store
	for range 2 {
		st, err := postgis.Open(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, st)
	}
	for i := range 5 {
		err := stores[0].Create(ctx, geo.Gauges, &geo.Feature{ID: fmt.Sprint("g", i), Properties: map[string]any{
			"name": "测试站", "kind": "other", "location_source": "test", "report_interval_min": 5.0}})
		if err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)}
	queues := []*counter{{}, {}}
	var engines []*notify.Engine
	for i, st := range stores {
		engines = append(engines, notify.New(st, notify.Options{Now: clk.Now, EscalateAfter: time.Minute,
			Channels: []notify.Channel{{Name: "q", Sender: queues[i]}}}))
	}
	tickBoth := func() {
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() {
				if err := e.Tick(ctx); err != nil {
					t.Error(err)
				}
				if _, err := e.Dispatch(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	tickBoth()
	clk.Set(clk.Now().Add(2 * time.Minute))
	tickBoth()
	as, _, _ := stores[1].Alerts(ctx, geo.AlertQuery{})
	if len(as) != 5 {
		t.Fatalf("%d alerts, want one per gauge (5)", len(as))
	}
	handed := map[string]int{}
	for _, q := range queues {
		for _, k := range q.keys {
			handed[k]++
		}
	}
	for _, a := range as {
		if a.Version != 2 || a.Escalated.IsZero() {
			t.Errorf("alert %s at version %d, want escalated once (2)", a.ID, a.Version)
		}
		for v := int64(1); v <= 2; v++ {
			if n := handed[notify.Key(a.ID, v)]; n != 1 {
				t.Errorf("step %d of alert %s handed to the channels %d times, want once", v, a.ID, n)
			}
		}
	}
}
