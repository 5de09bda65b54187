package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"hazardmap/geo"
)

// Cases of geo.WaterStore: readings, alerts, deliveries.

func waterCases() []struct {
	name string
	run  func(t *testing.T, s geo.Store)
} {
	return []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"ReadingsRangeAndPaging", readingsRange},
		{"ReadingsBadInputNamesFieldWritesNothing", readingsBad},
		{"ReadingsImportAllOrNothing", readingsImport},
		{"LatestReadingPerGauge", latestReadings},
		{"ReadingsOnTheLedger", readingsLedger},
		{"AlertOpensOnce", alertOpensOnce},
		{"AlertOpensOnceConcurrently", alertConcurrent},
		{"AlertLifecycleAudited", alertLifecycle},
		{"AlertsQuery", alertsQuery},
		{"Deliveries", deliveries},
		{"OutboxHoldsEveryStep", outboxSteps},
		{"OutboxLeases", outboxLeases},
		{"OutboxClaimsConcurrently", outboxConcurrent},
	}
}

// Fixtures.

// t0 is a time on the 18 August of the report, in China time.
var t0 = time.Date(2024, 8, 18, 8, 0, 0, 0, geo.ChinaTime)

// sensor is the actor of a telemetry station.
func sensor() geo.Actor {
	return geo.Actor{ID: "tok-sensor-1", Name: "饮马坑水库遥测站", Role: geo.RoleSensor}
}

// gauge returns a reservoir gauge with a test flood limit (not a fact
// of the report) of 100 m from 16 July to 31 August.
func gauge(id string) *geo.Feature {
	return &geo.Feature{ID: id, Properties: map[string]any{
		"name": "测试水库 " + id, "kind": "reservoir", "township": "贾峪镇", "location_source": "storetest fixture",
		"flood_limits": []any{map[string]any{"start": "07-16", "end": "08-31", "level": 100.0, "period": "main"}},
		"level_min":    80.0, "level_max": 120.0, "report_interval_min": 10.0, "max_rise_m_per_h": 0.5,
	}}
}

func level(g string, at time.Time, l float64) geo.Reading {
	return geo.Reading{GaugeID: g, At: at, Level: l, Source: geo.ReadingTelemetry}
}

func mustRead(t *testing.T, s geo.Store, r geo.Reading) geo.Reading {
	t.Helper()
	got, err := s.AddReading(geo.WithActor(ctx, sensor()), r)
	if err != nil {
		t.Fatalf("AddReading(%s at %v) = %v", r.GaugeID, r.At, err)
	}
	return got
}

func levels(rs []geo.Reading) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.Level
	}
	return out
}

func wantField(t *testing.T, what string, err error, k geo.Kind, field string) {
	t.Helper()
	wantKind(t, what, err, k)
	e := geo.AsError(err)
	if len(e.Fields) == 0 || e.Fields[0].Field != field {
		t.Fatalf("%s = %v, want it to name %s", what, err, field)
	}
}

// Cases.

func readingsRange(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Gauges, gauge("g"))
	for i := range 10 {
		mustRead(t, s, level("g", t0.Add(time.Duration(i)*10*time.Minute), 90+float64(i)))
	}
	got, n, err := s.Readings(ctx, "g", geo.ReadingQuery{})
	if err != nil || n != 10 || len(got) != 10 || got[0].Level != 90 || got[9].Level != 99 {
		t.Fatalf("Readings(all) = %v, %d, %v; want 10 oldest first", levels(got), n, err)
	}
	r := got[3]
	if r.ID <= 0 || r.Source != geo.ReadingTelemetry || r.Actor.Role != geo.RoleSensor || r.Received.IsZero() || !r.At.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("reading = %+v", r)
	}
	got, n, err = s.Readings(ctx, "g", geo.ReadingQuery{From: t0.Add(20 * time.Minute), To: t0.Add(60 * time.Minute)})
	if err != nil || n != 4 || fmt.Sprint(levels(got)) != "[92 93 94 95]" {
		t.Fatalf("Readings(from, to) = %v, %d, %v; want [92 93 94 95] (from included, to not)", levels(got), n, err)
	}
	got, n, err = s.Readings(ctx, "g", geo.ReadingQuery{Newest: true, Limit: 3, Offset: 1})
	if err != nil || n != 10 || fmt.Sprint(levels(got)) != "[98 97 96]" {
		t.Fatalf("Readings(newest, 3, 1) = %v, %d, %v; want [98 97 96] of 10", levels(got), n, err)
	}
	got, n, err = s.Readings(ctx, "g", geo.ReadingQuery{Newest: true, To: t0.Add(25 * time.Minute)})
	if err != nil || n != 3 || fmt.Sprint(levels(got)) != "[92 91 90]" {
		t.Fatalf("Readings(newest, to) = %v, %d, %v; want [92 91 90]", levels(got), n, err)
	}
	got, n, err = s.Readings(ctx, "g", geo.ReadingQuery{Offset: 20})
	if err != nil || n != 10 || got == nil || len(got) != 0 {
		t.Fatalf("Readings(offset past end) = %v, %d, %v", got, n, err)
	}
	mustCreate(t, s, geo.Gauges, gauge("empty"))
	if got, n, err := s.Readings(ctx, "empty", geo.ReadingQuery{}); err != nil || n != 0 || got == nil {
		t.Fatalf("Readings(gauge without readings) = %v, %d, %v; want [] 0 nil", got, n, err)
	}
	_, _, err = s.Readings(ctx, "nope", geo.ReadingQuery{})
	wantKind(t, "Readings(no such gauge)", err, geo.NotFound)
	_, _, err = s.Readings(ctx, "g", geo.ReadingQuery{Limit: geo.MaxReadingsPage + 1})
	wantField(t, "Readings(limit too large)", err, geo.Invalid, "limit")
	// The series outlives the gauge.
	f := mustGet(t, s, geo.Gauges, "g")
	if err := s.Delete(ctx, geo.Gauges, "g", f.Version); err != nil {
		t.Fatal(err)
	}
	if _, n, err := s.Readings(ctx, "g", geo.ReadingQuery{}); err != nil || n != 10 {
		t.Fatalf("Readings(deleted gauge) = %d, %v; want 10", n, err)
	}
}

func readingsBad(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Gauges, gauge("g"))
	mustRead(t, s, level("g", t0, 95))
	before := len(allAudit(t, s))
	sctx := geo.WithActor(ctx, sensor())
	_, err := s.AddReading(sctx, level("g", time.Now().Add(geo.MaxReadingSkew+time.Minute), 95))
	wantField(t, "AddReading(future)", err, geo.Invalid, "at")
	_, err = s.AddReading(sctx, level("g", t0.Add(time.Minute), 121))
	wantField(t, "AddReading(above level_max)", err, geo.Invalid, "level")
	_, err = s.AddReading(sctx, level("g", t0, 96))
	wantField(t, "AddReading(same gauge and time)", err, geo.Conflict, "at")
	_, err = s.AddReading(sctx, level("nope", t0, 96))
	wantKind(t, "AddReading(no such gauge)", err, geo.NotFound)
	r := level("g", t0.Add(time.Minute), 96)
	r.Note = "bad\x00"
	_, err = s.AddReading(sctx, r)
	wantField(t, "AddReading(NUL in note)", err, geo.Invalid, "note")
	if after := len(allAudit(t, s)); after != before {
		t.Errorf("failed readings wrote %d audit entries", after-before)
	}
	if _, n, _ := s.Readings(ctx, "g", geo.ReadingQuery{}); n != 1 {
		t.Errorf("after failed readings: %d stored, want 1", n)
	}
	// A clock a little fast is not the future.
	mustRead(t, s, level("g", time.Now().Add(geo.MaxReadingSkew/2), 95))
}

func readingsImport(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Gauges, gauge("a"))
	mustCreate(t, s, geo.Gauges, gauge("b"))
	mustRead(t, s, level("a", t0, 95))
	var rs []geo.Reading
	for i := range 50 {
		at := t0.Add(time.Duration(i+1) * time.Minute)
		rs = append(rs, level("a", at, 95), level("b", at, 90))
	}
	before := len(allAudit(t, s))
	check := func(what string, rs []geo.Reading, k geo.Kind, field string) {
		t.Helper()
		n, err := s.ImportReadings(ctx, rs)
		wantField(t, what, err, k, field)
		if n != 0 {
			t.Errorf("%s = %d stored", what, n)
		}
		if after := len(allAudit(t, s)); after != before {
			t.Errorf("%s wrote %d audit entries", what, after-before)
		}
		if _, n, _ := s.Readings(ctx, "b", geo.ReadingQuery{}); n != 0 {
			t.Errorf("%s stored %d readings of b", what, n)
		}
	}
	bad := append([]geo.Reading(nil), rs...)
	bad[41].Level = 1e9
	check("ImportReadings(impossible level in row 41)", bad, geo.Invalid, "readings[41].level")
	bad = append(append([]geo.Reading(nil), rs...), level("nope", t0, 95))
	check("ImportReadings(unknown gauge)", bad, geo.Invalid, "readings[100].gauge_id")
	bad = append(append([]geo.Reading(nil), rs...), level("b", t0.Add(7*time.Minute), 91))
	check("ImportReadings(twice the same time)", bad, geo.Conflict, "readings[100].at")
	bad = append(append([]geo.Reading(nil), rs...), level("a", t0, 91))
	check("ImportReadings(a time stored already)", bad, geo.Conflict, "readings[100].at")

	n, err := s.ImportReadings(ctx, rs)
	if err != nil || n != 100 {
		t.Fatalf("ImportReadings(100) = %d, %v", n, err)
	}
	es := allAudit(t, s)[before:]
	if len(es) != 2 {
		t.Fatalf("import wrote %d audit entries, want one per gauge (2)", len(es))
	}
	wantEntry(t, es[0], geo.ReadingsCollection, "a", geo.ActionImport, 1, geo.SystemActor())
	if c := es[1].After.Properties["count"]; es[1].FeatureID != "b" || c != 50.0 {
		t.Errorf("import audit of b: %s count %v, want b 50", es[1].FeatureID, c)
	}
	got, total, err := s.Readings(ctx, "a", geo.ReadingQuery{})
	if err != nil || total != 51 || got[0].Source != geo.ReadingTelemetry || got[1].Actor != geo.SystemActor() {
		t.Fatalf("Readings(a) after import = %d, %v", total, err)
	}
	if n, err := s.ImportReadings(ctx, nil); n != 0 || err != nil {
		t.Errorf("ImportReadings(nil) = %d, %v", n, err)
	}
}

func latestReadings(t *testing.T, s geo.Store) {
	// Ids that are prefixes of each other, and times before 1970.
	old := time.Date(1960, 7, 20, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"g", "g1", "g10", "h"} {
		mustCreate(t, s, geo.Gauges, gauge(id))
	}
	mustRead(t, s, level("g", old, 81))
	mustRead(t, s, level("g", t0, 99))
	mustRead(t, s, level("g", old.Add(time.Hour), 82))
	mustRead(t, s, level("g1", old, 83))
	mustRead(t, s, level("g10", t0.Add(-time.Hour), 84))
	mustRead(t, s, level("g10", t0.Add(-2*time.Hour), 85))
	got, err := s.LatestReadings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, fmt.Sprintf("%s=%g", r.GaugeID, r.Level))
	}
	if fmt.Sprint(ids) != "[g=99 g1=83 g10=84]" {
		t.Fatalf("LatestReadings() = %v, want [g=99 g1=83 g10=84]", ids)
	}
	got, err = s.LatestReadings(ctx, "h", "g10", "nope", "g1")
	if err != nil || fmt.Sprint(levels(got)) != "[84 83]" || got[0].GaugeID != "g10" {
		t.Fatalf("LatestReadings(h, g10, nope, g1) = %v, %v; want [84 83] in that order", levels(got), err)
	}
	if !got[1].At.Equal(old) {
		t.Errorf("latest of g1 at %v, want %v", got[1].At, old)
	}
	if got, err := s.LatestReadings(ctx, "h"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("LatestReadings(no readings) = %v, %v; want []", got, err)
	}
}

func readingsLedger(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Gauges, gauge("g"))
	v, _ := s.Version(ctx, geo.Gauges)
	sub, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := allAudit(t, s)
	r := mustRead(t, s, level("g", t0, 95))
	waitSignal(t, sub, "after AddReading")
	cs := allChanges(t, s, last[len(last)-1].Seq, 0)
	if len(cs) != 1 || cs[0].Collection != geo.ReadingsCollection || cs[0].FeatureID != "g" || cs[0].Action != geo.ActionReading {
		t.Fatalf("Changes after a reading = %+v", cs)
	}
	es, _, err := s.Audit(ctx, geo.AuditQuery{Collection: geo.ReadingsCollection, FeatureID: "g"})
	if err != nil || len(es) != 1 {
		t.Fatalf("Audit(readings/g) = %d, %v", len(es), err)
	}
	wantEntry(t, es[0], geo.ReadingsCollection, "g", geo.ActionReading, 1, sensor())
	if p := es[0].After.Properties; es[0].After.ID != fmt.Sprint(r.ID) || p["level"] != 95.0 || p["source"] != "telemetry" {
		t.Errorf("audit of a reading = %+v", es[0].After)
	}
	if v2, _ := s.Version(ctx, geo.Gauges); v2 != v {
		t.Errorf("a reading changed the gauges collection's version %d → %d", v, v2)
	}
}

func openAt(t *testing.T, s geo.Store, gauge string, k geo.AlertKind, at time.Time) (geo.Alert, bool) {
	t.Helper()
	a, opened, err := s.OpenAlert(ctx, geo.NewAlert(gauge, geo.Condition{Kind: k, Value: 100.15, Limit: 100, Period: geo.PeriodMain, At: at}, at, geo.SystemActor()))
	if err != nil {
		t.Fatalf("OpenAlert(%s, %s) = %v", gauge, k, err)
	}
	return a, opened
}

func alertOpensOnce(t *testing.T, s geo.Store) {
	a, opened := openAt(t, s, "g", geo.AlertFloodLimit, t0)
	if !opened || a.ID == "" || a.Version != 1 || a.State != geo.AlertOpen {
		t.Fatalf("OpenAlert = %+v, %v", a, opened)
	}
	b, opened := openAt(t, s, "g", geo.AlertFloodLimit, t0.Add(time.Minute))
	if opened || b.ID != a.ID {
		t.Fatalf("OpenAlert(same gauge and kind) = %s, %v; want the open %s, false", b.ID, opened, a.ID)
	}
	if _, opened := openAt(t, s, "g", geo.AlertWarning, t0); !opened {
		t.Error("OpenAlert(another kind) did not open")
	}
	if _, opened := openAt(t, s, "h", geo.AlertFloodLimit, t0); !opened {
		t.Error("OpenAlert(another gauge) did not open")
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil || got.Opened != a.Opened || len(got.Steps) != 1 || got.Steps[0].Actor != geo.SystemActor() || got.Value != 100.15 {
		t.Fatalf("Alert(%s) = %+v, %v; want %+v", a.ID, got, err, a)
	}
	if _, err := s.ChangeAlert(crewCtx(), a.ID, 1, geo.AlertTransition{Action: geo.ActionAcknowledge, Note: "收到"}, t0); err != nil {
		t.Fatal(err)
	}
	// Acknowledged is still unresolved.
	if _, opened := openAt(t, s, "g", geo.AlertFloodLimit, t0); opened {
		t.Error("OpenAlert opened beside an acknowledged one")
	}
	if _, err := s.ChangeAlert(ctx, a.ID, 0, geo.AlertTransition{Action: geo.ActionResolve, Note: "回落"}, t0); err != nil {
		t.Fatal(err)
	}
	c, opened := openAt(t, s, "g", geo.AlertFloodLimit, t0.Add(time.Hour))
	if !opened || c.ID == a.ID {
		t.Fatalf("OpenAlert after resolving = %s, %v; want a new alert", c.ID, opened)
	}
	_, err = s.Alert(ctx, "nope")
	wantKind(t, "Alert(nope)", err, geo.NotFound)
}

func alertConcurrent(t *testing.T, s geo.Store) {
	const n = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		opened int
		ids    = map[string]bool{}
	)
	for range n {
		wg.Go(func() {
			a, ok, err := s.OpenAlert(ctx, geo.NewAlert("g", geo.Condition{Kind: geo.AlertSilent, Value: -1, Limit: 20}, t0, geo.SystemActor()))
			if err != nil {
				t.Errorf("OpenAlert = %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[a.ID] = true
			if ok {
				opened++
			}
		})
	}
	wg.Wait()
	if opened != 1 || len(ids) != 1 {
		t.Fatalf("%d concurrent OpenAlert: %d opened, %d distinct ids; want 1 and 1", n, opened, len(ids))
	}
	es, _, _ := s.Audit(ctx, geo.AuditQuery{Collection: geo.AlertsCollection})
	if len(es) != 1 {
		t.Errorf("%d audit entries of alerts, want 1", len(es))
	}
}

func alertLifecycle(t *testing.T, s geo.Store) {
	a, _ := openAt(t, s, "g", geo.AlertFloodLimit, t0)
	planner := geo.Actor{ID: "tok-planner", Name: "市防办值班", Role: geo.RolePlanner}
	pctx := geo.WithActor(ctx, planner)
	_, err := s.ChangeAlert(pctx, a.ID, 2, geo.AlertTransition{Action: geo.ActionAcknowledge, Note: "x"}, t0)
	wantKind(t, "ChangeAlert(stale version)", err, geo.Conflict)
	_, err = s.ChangeAlert(pctx, a.ID, 1, geo.AlertTransition{Action: geo.ActionAcknowledge}, t0)
	wantField(t, "ChangeAlert(acknowledge without a note)", err, geo.Invalid, "note")
	_, err = s.ChangeAlert(pctx, "nope", 0, geo.AlertTransition{Action: geo.ActionResolve}, t0)
	wantKind(t, "ChangeAlert(no such alert)", err, geo.NotFound)

	esc, err := s.ChangeAlert(ctx, a.ID, 1, geo.AlertTransition{Action: geo.ActionEscalate}, t0.Add(30*time.Minute))
	if err != nil || esc.Version != 2 || !esc.Escalated.Equal(t0.Add(30*time.Minute)) || esc.State != geo.AlertOpen {
		t.Fatalf("escalate = %+v, %v", esc, err)
	}
	ack, err := s.ChangeAlert(pctx, a.ID, 2, geo.AlertTransition{Action: geo.ActionAcknowledge, Note: "已通知水库管理员"}, t0.Add(35*time.Minute))
	if err != nil || ack.State != geo.AlertAcknowledged || ack.Version != 3 {
		t.Fatalf("acknowledge = %+v, %v", ack, err)
	}
	if st, ok := ack.Acknowledged(); !ok || st.Actor != planner || st.Note != "已通知水库管理员" {
		t.Errorf("acknowledge step = %+v", st)
	}
	res, err := s.ChangeAlert(ctx, a.ID, 3, geo.AlertTransition{Action: geo.ActionResolve, Note: "水位回落"}, t0.Add(3*time.Hour))
	if err != nil || res.State != geo.AlertResolved || res.Version != 4 {
		t.Fatalf("resolve = %+v, %v", res, err)
	}
	_, err = s.ChangeAlert(pctx, a.ID, 0, geo.AlertTransition{Action: geo.ActionResolve, Note: "again"}, t0)
	wantKind(t, "ChangeAlert(resolve twice)", err, geo.Conflict)
	got, err := s.Alert(ctx, a.ID)
	if err != nil || got.Version != 4 || len(got.Steps) != 4 || !got.Updated.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("Alert after its lifecycle = %+v, %v", got, err)
	}
	es, _, err := s.Audit(ctx, geo.AuditQuery{Collection: geo.AlertsCollection, FeatureID: a.ID})
	if err != nil || len(es) != 4 {
		t.Fatalf("Audit(alert) = %d entries, %v; want 4", len(es), err)
	}
	wantEntry(t, es[0], geo.AlertsCollection, a.ID, geo.ActionResolve, 4, geo.SystemActor())
	wantEntry(t, es[1], geo.AlertsCollection, a.ID, geo.ActionAcknowledge, 3, planner)
	wantEntry(t, es[2], geo.AlertsCollection, a.ID, geo.ActionEscalate, 2, geo.SystemActor())
	wantEntry(t, es[3], geo.AlertsCollection, a.ID, geo.ActionOpen, 1, geo.SystemActor())
	if es[1].Before.Properties["state"] != "open" || es[1].After.Properties["state"] != "acknowledged" {
		t.Errorf("acknowledge audit before/after = %v → %v", es[1].Before.Properties["state"], es[1].After.Properties["state"])
	}
}

func alertsQuery(t *testing.T, s geo.Store) {
	a, _ := openAt(t, s, "g", geo.AlertFloodLimit, t0)
	b, _ := openAt(t, s, "g", geo.AlertSilent, t0.Add(time.Minute))
	c, _ := openAt(t, s, "h", geo.AlertFloodLimit, t0.Add(2*time.Minute))
	if _, err := s.ChangeAlert(ctx, a.ID, 0, geo.AlertTransition{Action: geo.ActionResolve}, t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    geo.AlertQuery
		want []string
		n    int
	}{
		{geo.AlertQuery{}, []string{c.ID, b.ID, a.ID}, 3},
		{geo.AlertQuery{Active: true}, []string{c.ID, b.ID}, 2},
		{geo.AlertQuery{GaugeID: "g"}, []string{b.ID, a.ID}, 2},
		{geo.AlertQuery{Kind: geo.AlertFloodLimit, Limit: 1}, []string{c.ID}, 2},
		{geo.AlertQuery{State: geo.AlertResolved}, []string{a.ID}, 1},
		{geo.AlertQuery{Offset: 5}, []string{}, 3},
	}
	for _, tt := range tests {
		got, n, err := s.Alerts(ctx, tt.q)
		ids := []string{}
		for _, x := range got {
			ids = append(ids, x.ID)
		}
		if err != nil || n != tt.n || fmt.Sprint(ids) != fmt.Sprint(tt.want) || got == nil {
			t.Errorf("Alerts(%+v) = %v, %d, %v; want %v, %d", tt.q, ids, n, err, tt.want, tt.n)
		}
	}
	_, _, err := s.Alerts(ctx, geo.AlertQuery{Kind: "flood"})
	wantField(t, "Alerts(bad kind)", err, geo.Invalid, "kind")
}

func deliveries(t *testing.T, s geo.Store) {
	if got, err := s.Deliveries(ctx, "a"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Deliveries(none) = %v, %v", got, err)
	}
	d1, err := s.RecordDelivery(ctx, geo.Delivery{AlertID: "a", AlertVersion: 1, Channel: "wecom", OK: false, Attempts: 3, Detail: "HTTP 502", Batch: 1, At: t0})
	if err != nil || d1.ID <= 0 {
		t.Fatalf("RecordDelivery = %+v, %v", d1, err)
	}
	d2, _ := s.RecordDelivery(ctx, geo.Delivery{AlertID: "a", AlertVersion: 2, Channel: "wecom", OK: true, Attempts: 1, Detail: "ok", Batch: 2, At: t0.Add(time.Minute)})
	_, _ = s.RecordDelivery(ctx, geo.Delivery{AlertID: "ab", AlertVersion: 1, Channel: "wecom", OK: true, Attempts: 1, Batch: 1, At: t0})
	got, err := s.Deliveries(ctx, "a")
	if err != nil || len(got) != 2 || got[0] != d1 || got[1] != d2 {
		t.Fatalf("Deliveries(a) = %+v, %v; want %+v, %+v", got, err, d1, d2)
	}
	_, err = s.RecordDelivery(ctx, geo.Delivery{AlertID: "a", AlertVersion: 1, Channel: "wecom", Attempts: 0, Batch: 1, At: t0})
	wantField(t, "RecordDelivery(no attempts)", err, geo.Invalid, "attempts")
}

// waterPersists checks that readings and alerts survive a restart.
func waterPersists(t *testing.T, s geo.Store, reopen Reopener) {
	mustCreate(t, s, geo.Gauges, gauge("g"))
	mustRead(t, s, level("g", t0, 95))
	a, _ := openAt(t, s, "g", geo.AlertFloodLimit, t0)
	s = reopen(t, s)
	if got, err := s.LatestReadings(ctx, "g"); err != nil || len(got) != 1 || got[0].Level != 95 {
		t.Fatalf("LatestReadings after reopen = %v, %v", got, err)
	}
	if got, err := s.Alert(ctx, a.ID); err != nil || got.State != geo.AlertOpen {
		t.Fatalf("Alert after reopen = %+v, %v", got, err)
	}
	if _, opened := openAt(t, s, "g", geo.AlertFloodLimit, t0); opened {
		t.Error("after reopen a second alert of the same gauge and kind opened")
	}
}

// outboxSteps checks that every alert step is in the outbox, written with
// the step, and none twice.
func outboxSteps(t *testing.T, s geo.Store) {
	now := t0.Add(time.Hour)
	claim := func() []geo.Pending {
		t.Helper()
		ps, err := s.ClaimPending(ctx, now, time.Minute, 100)
		if err != nil {
			t.Fatalf("ClaimPending = %v", err)
		}
		return ps
	}
	if ps := claim(); ps == nil || len(ps) != 0 {
		t.Fatalf("ClaimPending(empty) = %v; want an empty, non-nil slice", ps)
	}
	a, _ := openAt(t, s, "g", geo.AlertFloodLimit, t0)
	openAt(t, s, "g", geo.AlertFloodLimit, t0) // not opened: no entry
	if _, err := s.ChangeAlert(ctx, a.ID, 1, geo.AlertTransition{Action: geo.ActionEscalate}, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A refused step writes no entry.
	_, err := s.ChangeAlert(crewCtx(), a.ID, 1, geo.AlertTransition{Action: geo.ActionAcknowledge, Note: "x"}, t0)
	wantKind(t, "ChangeAlert(stale)", err, geo.Conflict)
	ps := claim()
	if len(ps) != 2 || ps[0].AlertID != a.ID || ps[0].AlertVersion != 1 || ps[1].AlertVersion != 2 || ps[0].ID >= ps[1].ID {
		t.Fatalf("ClaimPending = %+v; want versions 1 and 2 of %s, in order", ps, a.ID)
	}
	if !ps[0].Created.Equal(t0) || !ps[0].Due.Equal(t0) || ps[0].Attempts != 1 || !ps[1].Created.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("entry = %+v; want created and due at the step's time, attempt 1", ps[0])
	}
	for _, p := range ps {
		if err := s.FinishPending(ctx, p.ID, p.Attempts, time.Time{}); err != nil {
			t.Fatalf("FinishPending(%v) = %v", p, err)
		}
	}
	now = now.Add(time.Hour) // every lease over
	if ps := claim(); len(ps) != 0 {
		t.Fatalf("after finishing: ClaimPending = %+v", ps)
	}
	if _, err := s.ChangeAlert(ctx, a.ID, 2, geo.AlertTransition{Action: geo.ActionResolve, Note: "回落"}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ps := claim(); len(ps) != 1 || ps[0].AlertVersion != 3 {
		t.Fatalf("after resolving: ClaimPending = %+v; want version 3", ps)
	}
}

// outboxLeases checks the lease: a claimed entry is not claimed again
// while its lease runs, is again after it ran out (a dispatcher that
// died), and a released one when it is due again; a claim that lost its
// entry cannot finish it.
func outboxLeases(t *testing.T, s geo.Store) {
	a, _ := openAt(t, s, "g", geo.AlertSilent, t0)
	ps, err := s.ClaimPending(ctx, t0, time.Minute, 10)
	if err != nil || len(ps) != 1 || ps[0].AlertID != a.ID {
		t.Fatalf("ClaimPending = %+v, %v", ps, err)
	}
	first := ps[0]
	if ps, _ := s.ClaimPending(ctx, t0.Add(59*time.Second), time.Minute, 10); len(ps) != 0 {
		t.Fatalf("claimed again within the lease: %+v", ps)
	}
	// The first claimant died: after the lease another claims it.
	ps, err = s.ClaimPending(ctx, t0.Add(time.Minute), time.Minute, 10)
	if err != nil || len(ps) != 1 || ps[0].ID != first.ID || ps[0].Attempts != 2 {
		t.Fatalf("ClaimPending after the lease = %+v, %v; want the entry at attempt 2", ps, err)
	}
	err = s.FinishPending(ctx, first.ID, first.Attempts, time.Time{})
	wantKind(t, "FinishPending(by the lapsed claim)", err, geo.Conflict)
	// Failed: due again in 5 minutes.
	if err := s.FinishPending(ctx, first.ID, 2, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.ClaimPending(ctx, t0.Add(5*time.Minute), time.Minute, 10); len(ps) != 0 {
		t.Fatalf("claimed before it was due again: %+v", ps)
	}
	ps, _ = s.ClaimPending(ctx, t0.Add(6*time.Minute), time.Minute, 10)
	if len(ps) != 1 || ps[0].Attempts != 3 || !ps[0].Due.Equal(t0.Add(6*time.Minute)) {
		t.Fatalf("ClaimPending when due again = %+v", ps)
	}
	if err := s.FinishPending(ctx, ps[0].ID, 3, time.Time{}); err != nil {
		t.Fatal(err)
	}
	err = s.FinishPending(ctx, ps[0].ID, 3, time.Time{})
	wantKind(t, "FinishPending(twice)", err, geo.Conflict)
	_, err = s.ClaimPending(ctx, t0, 0, 10)
	wantField(t, "ClaimPending(no lease)", err, geo.Invalid, "lease")
	_, err = s.ClaimPending(ctx, t0, time.Minute, 0)
	wantField(t, "ClaimPending(limit 0)", err, geo.Invalid, "limit")
}

// outboxConcurrent checks that claims running at once never hand out
// the same entry.
func outboxConcurrent(t *testing.T, s geo.Store) {
	const alerts, claimants = 40, 4
	for i := range alerts {
		openAt(t, s, fmt.Sprint("g", i), geo.AlertSilent, t0)
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = map[int64]int{}
	)
	for range claimants {
		wg.Go(func() {
			for {
				ps, err := s.ClaimPending(ctx, t0, time.Minute, 3)
				if err != nil {
					t.Errorf("ClaimPending = %v", err)
					return
				}
				if len(ps) == 0 {
					return
				}
				mu.Lock()
				for _, p := range ps {
					got[p.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != alerts {
		t.Errorf("%d entries claimed, want %d", len(got), alerts)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("entry %d claimed %d times within its lease", id, n)
		}
	}
}
