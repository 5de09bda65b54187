package storetest

// Cases of the ledger: audit entries, observations, changes, subscriptions
// and tokens.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// signalTimeout bounds how long a test waits for a Subscribe signal. It is
// a deadline for a failure message, not a sleep: a signal ends the wait
// at once.
const signalTimeout = 15 * time.Second

// ledgerCases are the cases of this file, run by Run like the others.
func ledgerCases() []struct {
	name string
	run  func(t *testing.T, s geo.Store)
} {
	return []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"AuditEveryWriteKind", auditEveryWrite},
		{"AuditQuery", auditQuery},
		{"FailedWritesAuditNothing", failedWritesAuditNothing},
		{"ObservationUpdatesPointAtomically", observationAtomic},
		{"ObservationOlderThanCurrentOnlyAppends", observationOlder},
		{"ObservationValidationNamesFields", observationValidation},
		{"ObservationsPagingAndTimeRange", observationsPaging},
		{"ObservationsOutliveThePoint", observationsOutlive},
		{"ChangesResumableFromAnySeq", changesResumable},
		{"ConcurrentWritersChangesInOrder", concurrentChanges},
		{"SubscribeSignalsAfterWrite", subscribeSignals},
		{"Tokens", tokens},
		{"TokensExpireAndAuthenticate", tokenExpiry},
		{"RedactHouseholds", redactHouseholds},
	}
}

// Fixtures.

func crewCtx() context.Context {
	return geo.WithActor(ctx, geo.Actor{ID: "tok-crew-1", Name: "城建局一队", Role: geo.RoleCrew})
}

func site(id string) *geo.Feature {
	return &geo.Feature{ID: id, Geometry: orb.Point{113.2, 34.8}, Properties: map[string]any{
		"name": "测试安置 " + id, "town": "汜水镇", "village": "老君堂村", "status": "in_progress",
		"households_total": 26.0, "households_relocated": 4.0, "households_remaining": 22.0,
		"location_source": "storetest fixture",
	}}
}

// allAudit returns every audit entry, oldest first.
func allAudit(t *testing.T, s geo.Store) []geo.AuditEntry {
	t.Helper()
	es, n, err := s.Audit(ctx, geo.AuditQuery{})
	if err != nil {
		t.Fatalf("Audit({}) = %v", err)
	}
	if n != len(es) {
		t.Fatalf("Audit({}) returned %d entries, total %d", len(es), n)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Seq >= es[i-1].Seq {
			t.Fatalf("Audit({}) not newest first: seq %d after %d", es[i].Seq, es[i-1].Seq)
		}
	}
	slices.Reverse(es)
	return es
}

// allChanges reads every change after afterSeq, page by page.
func allChanges(t *testing.T, s geo.Store, afterSeq int64, page int) []geo.Change {
	t.Helper()
	out := []geo.Change{}
	for {
		cs, err := s.Changes(ctx, afterSeq, page)
		if err != nil {
			t.Fatalf("Changes(%d, %d) = %v", afterSeq, page, err)
		}
		if len(cs) == 0 {
			return out
		}
		for _, c := range cs {
			if c.Seq <= afterSeq {
				t.Fatalf("Changes(%d, %d) returned seq %d, not after %d", afterSeq, page, c.Seq, afterSeq)
			}
			afterSeq = c.Seq
		}
		out = append(out, cs...)
	}
}

func seqs[T any](xs []T, seq func(T) int64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = seq(x)
	}
	return out
}

// sameVersion checks that an audit snapshot equals a feature as read back.
func sameVersion(t *testing.T, what string, got, want *geo.Feature) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Errorf("%s = %v, want %v", what, got, want)
		return
	}
	if got == nil {
		return
	}
	sameFeature(t, what, got, want)
	if got.Version != want.Version || !got.Updated.Equal(want.Updated) {
		t.Errorf("%s: version %d updated %v, want %d and %v", what, got.Version, got.Updated, want.Version, want.Updated)
	}
}

func wantEntry(t *testing.T, e geo.AuditEntry, c, id string, a geo.Action, version int64, actor geo.Actor) {
	t.Helper()
	if e.Collection != c || e.FeatureID != id || e.Action != a || e.Version != version || e.Actor != actor {
		t.Errorf("audit entry %d = %s %s/%s v%d by %+v; want %s %s/%s v%d by %+v",
			e.Seq, e.Action, e.Collection, e.FeatureID, e.Version, e.Actor, a, c, id, version, actor)
	}
	if e.Time.IsZero() {
		t.Errorf("audit entry %d has no time", e.Seq)
	}
}

func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: subscription closed, want a signal", what)
		}
	case <-time.After(signalTimeout):
		t.Fatalf("%s: no signal within %v", what, signalTimeout)
	}
}

func report(depth float64, status string) geo.Observation {
	p := orb.Point{113.40461, 34.79829}
	return geo.Observation{DepthCM: depth, Status: status, Note: "抽排中", Position: &p}
}

// Cases.

func auditEveryWrite(t *testing.T, s geo.Store) {
	crew := geo.Actor{ID: "tok-crew-1", Name: "城建局一队", Role: geo.RoleCrew}
	cctx := geo.WithActor(ctx, crew)
	system := geo.SystemActor()

	f := point("a", orb.Point{113.40458, 34.798322}, "clear")
	if err := s.Create(cctx, geo.WaterloggingPoints, f); err != nil {
		t.Fatal(err)
	}
	v1 := mustGet(t, s, geo.WaterloggingPoints, "a")
	r := v1.Clone()
	r.Properties["duty_unit"] = "城建局"
	if err := s.Replace(cctx, geo.WaterloggingPoints, r); err != nil {
		t.Fatal(err)
	}
	v2 := mustGet(t, s, geo.WaterloggingPoints, "a")
	v3, err := s.Patch(cctx, geo.WaterloggingPoints, "a", 2, geo.Patch{Properties: map[string]any{"note": "泵车已到"}})
	if err != nil {
		t.Fatal(err)
	}
	v4, o, err := s.AddObservation(cctx, "a", 3, report(40, geo.ObservationClosed))
	if err != nil {
		t.Fatalf("AddObservation = %v", err)
	}
	if err := s.Delete(cctx, geo.WaterloggingPoints, "a", 4); err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, geo.Depots, []*geo.Feature{depot("i1", nil, 1), depot("i2", nil, 2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seed(ctx, geo.RelocationSites, []*geo.Feature{site("s1"), site("s2")}); err != nil {
		t.Fatal(err)
	}
	i1, i2 := mustGet(t, s, geo.Depots, "i1"), mustGet(t, s, geo.Depots, "i2")
	s1, s2 := mustGet(t, s, geo.RelocationSites, "s1"), mustGet(t, s, geo.RelocationSites, "s2")

	es := allAudit(t, s)
	if len(es) != 9 {
		t.Fatalf("Audit after 9 feature writes: %d entries %+v", len(es), es)
	}
	W := geo.WaterloggingPoints
	wantEntry(t, es[0], W, "a", geo.ActionCreate, 1, crew)
	sameVersion(t, "create before", es[0].Before, nil)
	sameVersion(t, "create after", es[0].After, v1)
	wantEntry(t, es[1], W, "a", geo.ActionReplace, 2, crew)
	sameVersion(t, "replace before", es[1].Before, v1)
	sameVersion(t, "replace after", es[1].After, v2)
	wantEntry(t, es[2], W, "a", geo.ActionPatch, 3, crew)
	sameVersion(t, "patch before", es[2].Before, v2)
	sameVersion(t, "patch after", es[2].After, v3)
	wantEntry(t, es[3], W, "a", geo.ActionObserve, 4, crew)
	sameVersion(t, "observe before", es[3].Before, v3)
	sameVersion(t, "observe after", es[3].After, v4)
	wantEntry(t, es[4], W, "a", geo.ActionDelete, 0, crew)
	sameVersion(t, "delete before", es[4].Before, v4)
	sameVersion(t, "delete after", es[4].After, nil)
	// Import and Seed write one entry per feature, in the order given.
	wantEntry(t, es[5], geo.Depots, "i1", geo.ActionImport, 1, system)
	sameVersion(t, "import after", es[5].After, i1)
	wantEntry(t, es[6], geo.Depots, "i2", geo.ActionImport, 1, system)
	sameVersion(t, "import after", es[6].After, i2)
	wantEntry(t, es[7], geo.RelocationSites, "s1", geo.ActionSeed, 1, system)
	sameVersion(t, "seed after", es[7].After, s1)
	wantEntry(t, es[8], geo.RelocationSites, "s2", geo.ActionSeed, 1, system)
	sameVersion(t, "seed after", es[8].After, s2)
	for _, e := range es[5:] {
		if e.Before != nil {
			t.Errorf("%s entry %d has a Before: %+v", e.Action, e.Seq, e.Before)
		}
	}
	// The time of an entry is the time of the write.
	if !es[0].Time.Equal(v1.Updated) || !es[3].Time.Equal(v4.Updated) || !es[3].Time.Equal(o.Time) {
		t.Errorf("audit times %v, %v; want the writes' times %v, %v (observation received %v)",
			es[0].Time, es[3].Time, v1.Updated, v4.Updated, o.Time)
	}
	// Changes are the entries without data, in the same order.
	cs := allChanges(t, s, 0, 0)
	if len(cs) != len(es) {
		t.Fatalf("Changes(0) = %d changes, want %d as Audit", len(cs), len(es))
	}
	for i, c := range cs {
		if c != es[i].Change() {
			t.Errorf("change %d = %+v, want %+v", i, c, es[i].Change())
		}
	}
	// Seeding again (already seeded) and importing nothing write nothing.
	if _, err := s.Seed(ctx, geo.RelocationSites, []*geo.Feature{site("s3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, geo.Depots, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(allAudit(t, s)); n != 9 {
		t.Errorf("after a no-op Seed and Import: %d entries, want 9", n)
	}
}

func auditQuery(t *testing.T, s geo.Store) {
	for i := range 5 {
		mustCreate(t, s, geo.Depots, depot(fmt.Sprintf("d%d", i), nil, 1))
	}
	if _, err := s.Patch(ctx, geo.Depots, "d1", 1, geo.Patch{Properties: map[string]any{"floor": 2.0}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, geo.WaterloggingPoints, point("d1", nil, nil)) // same id, other collection
	all := allAudit(t, s)                                           // oldest first
	if len(all) != 7 {
		t.Fatalf("%d entries, want 7", len(all))
	}
	get := func(q geo.AuditQuery) ([]int64, int) {
		t.Helper()
		es, n, err := s.Audit(ctx, q)
		if err != nil {
			t.Fatalf("Audit(%+v) = %v", q, err)
		}
		if es == nil {
			t.Fatalf("Audit(%+v) = nil slice, want non-nil", q)
		}
		return seqs(es, func(e geo.AuditEntry) int64 { return e.Seq }), n
	}
	seq := func(i int) int64 { return all[i].Seq }
	cases := []struct {
		q     geo.AuditQuery
		want  []int64
		total int
	}{
		{geo.AuditQuery{Limit: 2}, []int64{seq(6), seq(5)}, 7},
		{geo.AuditQuery{Limit: 2, Offset: 6}, []int64{seq(0)}, 7},
		{geo.AuditQuery{Collection: geo.Depots, FeatureID: "d1"}, []int64{seq(5), seq(1)}, 2},
		{geo.AuditQuery{Collection: geo.WaterloggingPoints}, []int64{seq(6)}, 1},
		{geo.AuditQuery{Collection: geo.TokensCollection}, []int64{}, 0},
		{geo.AuditQuery{AfterSeq: seq(3)}, []int64{seq(4), seq(5), seq(6)}, 3},
		{geo.AuditQuery{AfterSeq: seq(3), Limit: 1, Offset: 1}, []int64{seq(5)}, 3},
		{geo.AuditQuery{From: all[2].Time, To: all[4].Time}, []int64{seq(3), seq(2)}, 2},
		{geo.AuditQuery{From: all[6].Time.Add(time.Second)}, []int64{}, 0},
	}
	for _, c := range cases {
		// Times of different writes may be equal (a coarse clock); skip
		// the range case then rather than guess.
		if !c.q.From.IsZero() && !c.q.To.IsZero() && (all[1].Time.Equal(all[2].Time) || all[3].Time.Equal(all[4].Time)) {
			continue
		}
		got, n := get(c.q)
		if !slices.Equal(got, c.want) || n != c.total {
			t.Errorf("Audit(%+v) = %v (total %d), want %v (total %d)", c.q, got, n, c.want, c.total)
		}
	}
	bad := []struct {
		q     geo.AuditQuery
		field string
	}{
		{geo.AuditQuery{Collection: "no_such_layer"}, "collection"},
		{geo.AuditQuery{FeatureID: "d1"}, "feature_id"},
		{geo.AuditQuery{From: time.Now(), To: time.Now().Add(-time.Hour)}, "from"},
		{geo.AuditQuery{AfterSeq: -1}, "after_seq"},
		{geo.AuditQuery{Limit: -1}, "limit"},
		{geo.AuditQuery{Offset: -1}, "offset"},
	}
	for _, c := range bad {
		_, _, err := s.Audit(ctx, c.q)
		wantKind(t, fmt.Sprintf("Audit(%+v)", c.q), err, geo.Invalid)
		if e := geo.AsError(err); len(e.Fields) == 0 || e.Fields[0].Field != c.field {
			t.Errorf("Audit(%+v): fields %+v, want %q", c.q, e.Fields, c.field)
		}
	}
}

func failedWritesAuditNothing(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, "clear"))
	mustCreate(t, s, geo.Depots, depot("d", orb.Point{113.4, 34.8}, 1))
	before := allAudit(t, s)
	last := before[len(before)-1].Seq
	cctx := crewCtx()
	stale := mustGet(t, s, geo.Depots, "d")
	stale.Version = 7
	invalid := point("q", nil, "flooded")
	failures := []struct {
		name string
		kind geo.Kind
		run  func(ctx context.Context) error
	}{
		{"Create(invalid)", geo.Invalid, func(ctx context.Context) error { return s.Create(ctx, geo.WaterloggingPoints, invalid) }},
		{"Create(duplicate)", geo.Conflict, func(ctx context.Context) error {
			return s.Create(ctx, geo.Depots, depot("d", nil, 1))
		}},
		{"Replace(stale)", geo.Conflict, func(ctx context.Context) error { return s.Replace(ctx, geo.Depots, stale) }},
		{"Patch(stale)", geo.Conflict, func(ctx context.Context) error {
			_, err := s.Patch(ctx, geo.Depots, "d", 9, geo.Patch{Properties: map[string]any{"floor": 2.0}})
			return err
		}},
		{"Patch(invalid)", geo.Invalid, func(ctx context.Context) error {
			_, err := s.Patch(ctx, geo.Depots, "d", 1, geo.Patch{Properties: map[string]any{"floor": "two"}})
			return err
		}},
		{"Delete(stale)", geo.Conflict, func(ctx context.Context) error { return s.Delete(ctx, geo.Depots, "d", 3) }},
		{"Delete(missing)", geo.NotFound, func(ctx context.Context) error { return s.Delete(ctx, geo.Depots, "nope", 1) }},
		{"Import(one invalid)", geo.Invalid, func(ctx context.Context) error {
			return s.Import(ctx, geo.Depots, []*geo.Feature{depot("i1", nil, 1), invalid})
		}},
		{"Seed(invalid)", geo.Invalid, func(ctx context.Context) error {
			_, err := s.Seed(ctx, geo.RelocationSites, []*geo.Feature{invalid})
			return err
		}},
		{"AddObservation(stale)", geo.Conflict, func(ctx context.Context) error {
			_, _, err := s.AddObservation(ctx, "p", 5, report(20, geo.ObservationPonding))
			return err
		}},
		{"AddObservation(invalid)", geo.Invalid, func(ctx context.Context) error {
			_, _, err := s.AddObservation(ctx, "p", 1, report(40, geo.ObservationClear))
			return err
		}},
		{"AddObservation(missing point)", geo.NotFound, func(ctx context.Context) error {
			_, _, err := s.AddObservation(ctx, "nope", 0, report(20, geo.ObservationPonding))
			return err
		}},
		{"CreateToken(invalid)", geo.Invalid, func(ctx context.Context) error {
			return s.CreateToken(ctx, geo.Token{ID: "t", Name: "x", Role: "boss", Hash: make([]byte, 32), Created: time.Now()})
		}},
		{"RevokeToken(missing)", geo.NotFound, func(ctx context.Context) error { return s.RevokeToken(ctx, "nope") }},
	}
	for _, f := range failures {
		wantKind(t, f.name, f.run(cctx), f.kind)
	}
	// An actor that cannot be recorded is a bug of the caller: the write
	// fails (Internal) and writes nothing.
	nobody := geo.WithActor(ctx, geo.Actor{})
	if err := s.Create(nobody, geo.Depots, depot("e", nil, 1)); err == nil || geo.KindOf(err) != geo.Internal {
		t.Errorf("Create with an empty actor = %v, want an Internal error", err)
	}
	badRole := geo.WithActor(ctx, geo.Actor{ID: "x", Name: "x", Role: "boss"})
	if _, _, err := s.AddObservation(badRole, "p", 0, report(20, geo.ObservationPonding)); err == nil || geo.KindOf(err) != geo.Internal {
		t.Errorf("AddObservation with an unknown role = %v, want an Internal error", err)
	}
	if _, err := s.Feature(ctx, geo.Depots, "e"); geo.KindOf(err) != geo.NotFound {
		t.Errorf("Create with an empty actor stored the feature (%v)", err)
	}

	after := allAudit(t, s)
	if len(after) != len(before) {
		t.Errorf("failed writes added audit entries: %+v", after[len(before):])
	}
	if cs, err := s.Changes(ctx, last, 0); err != nil || len(cs) != 0 {
		t.Errorf("Changes after failed writes = %+v, %v; want none", cs, err)
	}
	if os, n, err := s.Observations(ctx, "p", geo.ObservationQuery{}); err != nil || n != 0 || len(os) != 0 {
		t.Errorf("Observations after failed reports = %+v, %d, %v; want none", os, n, err)
	}
	if p := mustGet(t, s, geo.WaterloggingPoints, "p"); p.Version != 1 || p.Properties["status"] != "clear" {
		t.Errorf("failed reports changed the point: version %d status %v", p.Version, p.Properties["status"])
	}
	if in, _ := collection(s, geo.Depots); in.Version != 1 {
		t.Errorf("failed writes changed the depots version to %d, want 1", in.Version)
	}
	if in, _ := collection(s, geo.WaterloggingPoints); in.Version != 1 {
		t.Errorf("failed writes changed the waterlogging_points version to %d, want 1", in.Version)
	}
}

func observationAtomic(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.40458, 34.798322}, nil))
	colBefore, err := s.Version(ctx, geo.WaterloggingPoints)
	if err != nil {
		t.Fatal(err)
	}
	in := report(32.5, geo.ObservationClosed)
	in.ObservedAt = time.Now().Add(-10 * time.Minute)
	start := time.Now()
	f, o, err := s.AddObservation(crewCtx(), "p", 1, in)
	if err != nil {
		t.Fatalf("AddObservation = %v", err)
	}
	crew := geo.ActorFrom(crewCtx())
	if o.ID <= 0 || o.FeatureID != "p" || o.Actor != crew || o.DepthCM != 32.5 || o.Status != "closed" || o.Note != "抽排中" ||
		o.Position == nil || *o.Position != (orb.Point{113.40461, 34.79829}) {
		t.Errorf("AddObservation returned %+v", o)
	}
	if o.Time.Before(start.Add(-time.Second)) || o.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("observation Time %v, want the time of receipt (about %v)", o.Time, start)
	}
	if !o.ObservedAt.Equal(in.ObservedAt.Truncate(time.Microsecond)) {
		t.Errorf("ObservedAt %v, want %v", o.ObservedAt, in.ObservedAt)
	}
	wantAt := in.ObservedAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	stored := mustGet(t, s, geo.WaterloggingPoints, "p")
	for _, g := range []*geo.Feature{f, stored} {
		if g.Version != 2 || g.Properties["status"] != "closed" || g.Properties["depth_cm"] != 32.5 || g.Properties["status_updated_at"] != wantAt {
			t.Errorf("point after report: version %d status %v depth %v updated_at %v; want 2, closed, 32.5, %s",
				g.Version, g.Properties["status"], g.Properties["depth_cm"], g.Properties["status_updated_at"], wantAt)
		}
	}
	sameVersion(t, "returned point", f, stored)
	if v, _ := s.Version(ctx, geo.WaterloggingPoints); v != colBefore+1 {
		t.Errorf("collection version %d after a report, want %d", v, colBefore+1)
	}
	hist, n, err := s.Observations(ctx, "p", geo.ObservationQuery{})
	if err != nil || n != 1 || len(hist) != 1 {
		t.Fatalf("Observations = %+v, %d, %v; want the one report", hist, n, err)
	}
	if !reflect.DeepEqual(hist[0], o) {
		t.Errorf("Observations()[0] = %+v\nwant %+v as AddObservation returned", hist[0], o)
	}
	es := allAudit(t, s)
	last := es[len(es)-1]
	wantEntry(t, last, geo.WaterloggingPoints, "p", geo.ActionObserve, 2, crew)
	if last.Before == nil || last.Before.Properties["status"] != nil || last.After == nil || last.After.Properties["status"] != "closed" {
		t.Errorf("observe entry before %v after %v", last.Before, last.After)
	}
	// Version 0 does not check; without ObservedAt the time of receipt
	// is the status time.
	f, o, err = s.AddObservation(crewCtx(), "p", 0, geo.Observation{DepthCM: 0, Status: geo.ObservationClear})
	if err != nil {
		t.Fatalf("AddObservation(version 0) = %v", err)
	}
	if f.Version != 3 || f.Properties["status"] != "clear" || f.Properties["status_updated_at"] != o.Time.UTC().Format(time.RFC3339Nano) || o.Position != nil {
		t.Errorf("after the second report: %+v, %+v", f.Properties, o)
	}
}

func observationOlder(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	now := time.Now()
	newer := report(10, geo.ObservationClear)
	newer.ObservedAt = now.Add(-time.Hour)
	if _, _, err := s.AddObservation(crewCtx(), "p", 1, newer); err != nil {
		t.Fatal(err)
	}
	colVersion, _ := s.Version(ctx, geo.WaterloggingPoints)
	// A report made two hours ago, queued on a phone, arrives now.
	queued := report(60, geo.ObservationClosed)
	queued.ObservedAt = now.Add(-2 * time.Hour)
	f, o, err := s.AddObservation(crewCtx(), "p", 2, queued)
	if err != nil {
		t.Fatalf("AddObservation(older) = %v", err)
	}
	if f.Version != 2 || f.Properties["status"] != "clear" || f.Properties["depth_cm"] != 10.0 {
		t.Errorf("an older report overwrote the current status: version %d %v", f.Version, f.Properties)
	}
	sameVersion(t, "point after older report", mustGet(t, s, geo.WaterloggingPoints, "p"), f)
	if v, _ := s.Version(ctx, geo.WaterloggingPoints); v != colVersion+1 {
		t.Errorf("collection version %d, want %d (the history changed)", v, colVersion+1)
	}
	hist, n, err := s.Observations(ctx, "p", geo.ObservationQuery{})
	if err != nil || n != 2 || hist[0].Status != "clear" || hist[1].ID != o.ID {
		t.Errorf("Observations = %+v, %d, %v; want the newer report first, then the queued one", hist, n, err)
	}
	es := allAudit(t, s)
	last := es[len(es)-1]
	wantEntry(t, last, geo.WaterloggingPoints, "p", geo.ActionObserve, 2, geo.ActorFrom(crewCtx()))
	sameVersion(t, "older report: before", last.Before, f)
	sameVersion(t, "older report: after", last.After, f)
}

func observationValidation(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	far := orb.Point{34.8, 213.4}
	cases := []struct {
		name  string
		edit  func(o *geo.Observation)
		field string
	}{
		{"negative depth", func(o *geo.Observation) { o.DepthCM = -1 }, "depth_cm"},
		{"too deep", func(o *geo.Observation) { o.DepthCM = 501 }, "depth_cm"},
		{"unknown status", func(o *geo.Observation) { o.Status = "flooded" }, "status"},
		{"no status", func(o *geo.Observation) { o.Status = "" }, "status"},
		{"clear at 40 cm", func(o *geo.Observation) { o.DepthCM, o.Status = 40, geo.ObservationClear }, "status"},
		{"ponding without water", func(o *geo.Observation) { o.DepthCM, o.Status = 0, geo.ObservationPonding }, "status"},
		{"long note", func(o *geo.Observation) { o.Note = string(make([]rune, 501)) }, "note"},
		{"NUL in note", func(o *geo.Observation) { o.Note = "a\x00b" }, "note"},
		{"position outside WGS-84", func(o *geo.Observation) { o.Position = &far }, "position"},
		{"observed in the future", func(o *geo.Observation) { o.ObservedAt = time.Now().Add(time.Hour) }, "observed_at"},
		{"observed 8 days ago", func(o *geo.Observation) { o.ObservedAt = time.Now().Add(-8 * 24 * time.Hour) }, "observed_at"},
	}
	for _, c := range cases {
		o := report(20, geo.ObservationPonding)
		c.edit(&o)
		_, _, err := s.AddObservation(crewCtx(), "p", 1, o)
		wantKind(t, "AddObservation("+c.name+")", err, geo.Invalid)
		if e := geo.AsError(err); !slices.ContainsFunc(e.Fields, func(f geo.FieldError) bool { return f.Field == c.field }) {
			t.Errorf("AddObservation(%s): fields %+v, want one naming %q", c.name, e.Fields, c.field)
		}
	}
	// Allowed: closed at any depth, clear with a film of water, a phone
	// clock a little ahead.
	ok := []geo.Observation{report(0, geo.ObservationClosed), report(15, geo.ObservationClear), report(500, geo.ObservationPonding)}
	ok[1].ObservedAt = time.Now().Add(2 * time.Minute)
	for _, o := range ok {
		if _, _, err := s.AddObservation(crewCtx(), "p", 0, o); err != nil {
			t.Errorf("AddObservation(%v cm, %s) = %v", o.DepthCM, o.Status, err)
		}
	}
}

func observationsPaging(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("other", orb.Point{113.4, 34.8}, nil))
	base := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	var ids []int64 // in report order
	for i := range 12 {
		// Out of order: ObservedAt decides the order of the history.
		k := (i * 5) % 12
		o := report(float64(20+k), geo.ObservationPonding)
		o.ObservedAt = at(k)
		_, got, err := s.AddObservation(crewCtx(), "p", 0, o)
		if err != nil {
			t.Fatalf("AddObservation(%d) = %v", i, err)
		}
		ids = append(ids, got.ID)
		if _, _, err := s.AddObservation(crewCtx(), "other", 0, report(5, geo.ObservationClear)); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("observation ids %v, want increasing in order of receipt", ids)
	}
	depths := func(os []geo.Observation) []float64 {
		out := []float64{}
		for _, o := range os {
			out = append(out, o.DepthCM-20)
		}
		return out
	}
	cases := []struct {
		q     geo.ObservationQuery
		want  []float64 // minutes after base, newest first
		total int
	}{
		{geo.ObservationQuery{}, []float64{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 12},
		{geo.ObservationQuery{Limit: 5}, []float64{11, 10, 9, 8, 7}, 12},
		{geo.ObservationQuery{Limit: 5, Offset: 10}, []float64{1, 0}, 12},
		{geo.ObservationQuery{Offset: 12}, []float64{}, 12},
		{geo.ObservationQuery{From: at(3), To: at(6)}, []float64{5, 4, 3}, 3},
		{geo.ObservationQuery{From: at(10)}, []float64{11, 10}, 2},
		{geo.ObservationQuery{To: at(1)}, []float64{0}, 1},
		{geo.ObservationQuery{From: at(3), To: at(9), Limit: 2, Offset: 1}, []float64{7, 6}, 6},
	}
	for _, c := range cases {
		os, n, err := s.Observations(ctx, "p", c.q)
		if err != nil {
			t.Fatalf("Observations(%+v) = %v", c.q, err)
		}
		if got := depths(os); !slices.Equal(got, c.want) || n != c.total || os == nil {
			t.Errorf("Observations(%+v) = %v (total %d), want %v (total %d)", c.q, got, n, c.want, c.total)
		}
	}
	if f := mustGet(t, s, geo.WaterloggingPoints, "p"); f.Properties["depth_cm"] != 31.0 {
		t.Errorf("current depth %v, want 31 (the newest report, though not the last received)", f.Properties["depth_cm"])
	}
	for _, c := range []struct {
		q     geo.ObservationQuery
		field string
	}{
		{geo.ObservationQuery{Limit: -1}, "limit"},
		{geo.ObservationQuery{Offset: -1}, "offset"},
		{geo.ObservationQuery{From: at(5), To: at(1)}, "from"},
	} {
		_, _, err := s.Observations(ctx, "p", c.q)
		wantKind(t, fmt.Sprintf("Observations(%+v)", c.q), err, geo.Invalid)
		if e := geo.AsError(err); len(e.Fields) == 0 || e.Fields[0].Field != c.field {
			t.Errorf("Observations(%+v): fields %+v, want %q", c.q, e.Fields, c.field)
		}
	}
}

func observationsOutlive(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("quiet", orb.Point{113.4, 34.8}, nil))
	if _, _, err := s.AddObservation(crewCtx(), "p", 1, report(30, geo.ObservationPonding)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, geo.WaterloggingPoints, "p", 2); err != nil {
		t.Fatal(err)
	}
	if os, n, err := s.Observations(ctx, "p", geo.ObservationQuery{}); err != nil || n != 1 || len(os) != 1 || os[0].DepthCM != 30 {
		t.Errorf("Observations(deleted point) = %+v, %d, %v; want its history", os, n, err)
	}
	if os, n, err := s.Observations(ctx, "quiet", geo.ObservationQuery{}); err != nil || n != 0 || os == nil || len(os) != 0 {
		t.Errorf("Observations(point without reports) = %#v, %d, %v; want an empty non-nil slice", os, n, err)
	}
	_, _, err := s.Observations(ctx, "never", geo.ObservationQuery{})
	wantKind(t, "Observations(no such point)", err, geo.NotFound)
	// Observations are of waterlogging points only.
	mustCreate(t, s, geo.Depots, depot("d", nil, 1))
	_, _, err = s.AddObservation(crewCtx(), "d", 0, report(30, geo.ObservationPonding))
	wantKind(t, "AddObservation(a depot's id)", err, geo.NotFound)
}

func changesResumable(t *testing.T, s geo.Store) {
	if cs, err := s.Changes(ctx, 0, 0); err != nil || cs == nil || len(cs) != 0 {
		t.Errorf("Changes on an empty store = %#v, %v; want an empty non-nil slice", cs, err)
	}
	for i := range 4 {
		mustCreate(t, s, geo.Depots, depot(fmt.Sprintf("d%d", i), nil, 1))
		mustCreate(t, s, geo.WaterloggingPoints, point(fmt.Sprintf("p%d", i), nil, nil))
	}
	if _, _, err := s.AddObservation(crewCtx(), "p1", 1, report(20, geo.ObservationPonding)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, geo.Depots, "d2", 1); err != nil {
		t.Fatal(err)
	}
	es := allAudit(t, s)
	all := allChanges(t, s, 0, 0)
	if len(all) != 10 || len(es) != 10 {
		t.Fatalf("%d changes and %d audit entries, want 10 of each", len(all), len(es))
	}
	for k := range all {
		after := all[k].Seq
		for _, page := range []int{0, 1, 3} {
			got := allChanges(t, s, after, page)
			if !slices.Equal(got, all[k+1:]) {
				t.Errorf("Changes from %d (page %d) = %v, want %v", after, page, seqs(got, func(c geo.Change) int64 { return c.Seq }),
					seqs(all[k+1:], func(c geo.Change) int64 { return c.Seq }))
			}
		}
	}
	if cs, err := s.Changes(ctx, 0, 3); err != nil || len(cs) != 3 || cs[0] != all[0] {
		t.Errorf("Changes(0, 3) = %v, %v; want the first 3", cs, err)
	}
	if cs, err := s.Changes(ctx, all[9].Seq+1000, 0); err != nil || len(cs) != 0 {
		t.Errorf("Changes(beyond the last) = %v, %v; want none", cs, err)
	}
	_, err := s.Changes(ctx, -1, 0)
	wantKind(t, "Changes(-1)", err, geo.Invalid)
	last := all[len(all)-1]
	if last.Collection != geo.Depots || last.FeatureID != "d2" || last.Action != geo.ActionDelete || last.Version != 0 {
		t.Errorf("last change = %+v, want the delete of depots/d2", last)
	}
}

func concurrentChanges(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.Depots, depot("shared", nil, 1))
	mustCreate(t, s, geo.WaterloggingPoints, point("spot", orb.Point{113.4, 34.8}, nil))
	start := allChanges(t, s, 0, 0)
	after := start[len(start)-1].Seq

	const each = 12
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	writers := []func(i int) error{
		func(i int) error { return s.Create(ctx, geo.Depots, depot(fmt.Sprintf("d%02d", i), nil, 1)) },
		func(i int) error {
			return s.Create(ctx, geo.WaterloggingPoints, point(fmt.Sprintf("w%02d", i), nil, nil))
		},
		func(i int) error {
			return s.Import(ctx, geo.RelocationSites, []*geo.Feature{site(fmt.Sprintf("a%02d", i)), site(fmt.Sprintf("b%02d", i))})
		},
		func(i int) error {
			_, _, err := s.AddObservation(crewCtx(), "spot", 0, report(float64(20+i), geo.ObservationPonding))
			return err
		},
		func(i int) error { // contended: retries on Conflict, which must audit nothing
			for {
				f, err := s.Feature(ctx, geo.Depots, "shared")
				if err != nil {
					return err
				}
				_, err = s.Patch(ctx, geo.Depots, "shared", f.Version, geo.Patch{Properties: map[string]any{"team_size": float64(i)}})
				if geo.KindOf(err) != geo.Conflict {
					return err
				}
			}
		},
	}
	done := make(chan struct{})
	for _, w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// The reader polls as the writers write, in small pages, and must see
	// every change once and in order: a change that commits after a
	// larger seq was read would be missed.
	var seen []geo.Change
	readerErr := make(chan error, 1)
	go func() {
		defer close(readerErr)
		last := after
		finished := false
		for {
			cs, err := s.Changes(ctx, last, 7)
			if err != nil {
				readerErr <- err
				return
			}
			for _, c := range cs {
				if c.Seq <= last {
					readerErr <- fmt.Errorf("Changes(%d) returned seq %d", last, c.Seq)
					return
				}
				last = c.Seq
			}
			seen = append(seen, cs...)
			if finished && len(cs) == 0 {
				return
			}
			select {
			case <-done:
				finished = true
			default:
			}
		}
	}()
	wg.Wait()
	close(done)
	if err := <-readerErr; err != nil {
		t.Fatalf("reader: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	want := allChanges(t, s, after, 0)
	if wantN := 6 * each; len(want) != wantN {
		t.Errorf("%d changes after the concurrent writes, want %d (1+1+2+1+1 per round)", len(want), wantN)
	}
	if !slices.Equal(seen, want) {
		t.Errorf("the polling reader saw %d changes %v\nthe log holds %d: %v", len(seen), seqs(seen, func(c geo.Change) int64 { return c.Seq }),
			len(want), seqs(want, func(c geo.Change) int64 { return c.Seq }))
	}
	es := allAudit(t, s)
	if got := es[len(es)-len(want):]; len(es) < len(want) || !slices.EqualFunc(got, want, func(e geo.AuditEntry, c geo.Change) bool { return e.Change() == c }) {
		t.Errorf("Changes and Audit disagree after concurrent writes")
	}
}

func subscribeSignals(t *testing.T, s geo.Store) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.Subscribe(sctx)
	if err != nil {
		t.Fatalf("Subscribe = %v", err)
	}
	other, err := s.Subscribe(sctx)
	if err != nil {
		t.Fatalf("second Subscribe = %v", err)
	}
	cs0, err := s.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := int64(0)
	if len(cs0) > 0 {
		last = cs0[len(cs0)-1].Seq
	}
	mustCreate(t, s, geo.Depots, depot("d", nil, 1))
	// Wait for a signal after which the write is visible; a store may
	// also signal for other reasons (a reconnect), so loop, bounded.
	deadline := time.Now().Add(signalTimeout)
	for {
		waitSignal(t, ch, "after Create")
		cs, err := s.Changes(ctx, last, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 && cs[0].FeatureID == "d" && cs[0].Action == geo.ActionCreate {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("signalled, but Changes(%d) = %+v, want the create of d", last, cs)
		}
	}
	waitSignal(t, other, "second subscriber after Create")
	// Many writes before the subscriber reads: signals coalesce, the
	// writers never block, and the subscriber is signalled again.
	for i := range 20 {
		mustCreate(t, s, geo.WaterloggingPoints, point(fmt.Sprintf("p%d", i), nil, nil))
	}
	waitSignal(t, ch, "after 20 creates")
	cancel()
	deadline = time.Now().Add(signalTimeout)
	for closed := false; !closed; {
		select {
		case _, ok := <-ch:
			closed = !ok
		case <-time.After(time.Until(deadline)):
			t.Fatal("subscription not closed after its context was cancelled")
		}
	}
	// A write after the end of a subscription neither blocks nor panics.
	mustCreate(t, s, geo.Depots, depot("e", nil, 1))
}

func newToken(t *testing.T, id string, role geo.Role) (geo.Token, string) {
	t.Helper()
	secret, hash := geo.NewTokenSecret()
	return geo.Token{ID: id, Name: "城建局一队 " + id, Role: role, Hash: hash, Created: time.Now().Add(-time.Minute)}, secret
}

func tokens(t *testing.T, s geo.Store) {
	if ts, err := s.Tokens(ctx); err != nil || ts == nil || len(ts) != 0 {
		t.Errorf("Tokens on an empty store = %#v, %v; want an empty non-nil slice", ts, err)
	}
	crew, crewSecret := newToken(t, "t1", geo.RoleCrew)
	planner, _ := newToken(t, "t2", geo.RolePlanner)
	planner.Created = crew.Created.Add(time.Second)
	planner.Expires = planner.Created.Add(24 * time.Hour)
	for _, tk := range []geo.Token{crew, planner} {
		if err := s.CreateToken(ctx, tk); err != nil {
			t.Fatalf("CreateToken(%s) = %v", tk.ID, err)
		}
	}
	got, err := s.TokenByHash(ctx, geo.HashToken(crewSecret))
	if err != nil {
		t.Fatalf("TokenByHash = %v", err)
	}
	if !reflect.DeepEqual(got, crew.Normalize()) {
		t.Errorf("TokenByHash = %+v\nwant %+v", got, crew.Normalize())
	}
	_, err = s.TokenByHash(ctx, geo.HashToken("hm_not-a-token"))
	wantKind(t, "TokenByHash(unknown)", err, geo.NotFound)
	dupID, _ := newToken(t, "t1", geo.RoleAdmin)
	wantKind(t, "CreateToken(same id)", s.CreateToken(ctx, dupID), geo.Conflict)
	dupHash, _ := newToken(t, "t3", geo.RoleAdmin)
	dupHash.Hash = crew.Hash
	wantKind(t, "CreateToken(same hash)", s.CreateToken(ctx, dupHash), geo.Conflict)
	bad := []struct {
		edit  func(tk *geo.Token)
		field string
	}{
		{func(tk *geo.Token) { tk.Role = "root" }, "role"},
		{func(tk *geo.Token) { tk.Hash = []byte("short") }, "hash"},
		{func(tk *geo.Token) { tk.Name = " " }, "name"},
		{func(tk *geo.Token) { tk.ID = "a b" }, "id"},
		{func(tk *geo.Token) { tk.ID = geo.SystemID }, "id"},
		{func(tk *geo.Token) { tk.Expires = tk.Created.Add(-time.Hour) }, "expires"},
	}
	for _, b := range bad {
		tk, _ := newToken(t, "t9", geo.RoleCrew)
		b.edit(&tk)
		err := s.CreateToken(ctx, tk)
		wantKind(t, "CreateToken(bad "+b.field+")", err, geo.Invalid)
		if e := geo.AsError(err); !slices.ContainsFunc(e.Fields, func(f geo.FieldError) bool { return f.Field == b.field }) {
			t.Errorf("CreateToken(bad %s): fields %+v", b.field, e.Fields)
		}
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "t1" || list[1].ID != "t2" || !list[1].Expires.Equal(planner.Normalize().Expires) {
		t.Fatalf("Tokens = %+v, %v; want t1, t2", list, err)
	}

	if err := s.RevokeToken(ctx, "t1"); err != nil {
		t.Fatalf("RevokeToken = %v", err)
	}
	if err := s.RevokeToken(ctx, "t1"); err != nil {
		t.Errorf("RevokeToken(again) = %v, want nil", err)
	}
	wantKind(t, "RevokeToken(unknown)", s.RevokeToken(ctx, "nope"), geo.NotFound)
	got, err = s.TokenByHash(ctx, crew.Hash)
	if err != nil || got.Revoked == nil {
		t.Fatalf("TokenByHash(revoked) = %+v, %v; want it, revoked", got, err)
	}
	wantKind(t, "Check(revoked)", got.Check(time.Now()), geo.Unauthorized)
	_, err = geo.Authenticate(ctx, s, crewSecret, time.Now())
	wantKind(t, "Authenticate(revoked)", err, geo.Unauthorized)

	// Token writes are audited under "tokens", without the hash.
	es, n, err := s.Audit(ctx, geo.AuditQuery{Collection: geo.TokensCollection, AfterSeq: 0})
	if err != nil || n != 3 {
		t.Fatalf("Audit(tokens) = %d entries, %v; want 3 (two creates, one revoke)", n, err)
	}
	slices.Reverse(es)
	wantEntry(t, es[0], geo.TokensCollection, "t1", geo.ActionCreate, 1, geo.SystemActor())
	wantEntry(t, es[1], geo.TokensCollection, "t2", geo.ActionCreate, 1, geo.SystemActor())
	wantEntry(t, es[2], geo.TokensCollection, "t1", geo.ActionRevoke, 2, geo.SystemActor())
	if es[2].Before == nil || es[2].Before.Properties["revoked"] != nil || es[2].After == nil || es[2].After.Properties["revoked"] == nil {
		t.Errorf("revoke entry before %+v after %+v", es[2].Before, es[2].After)
	}
	for _, e := range es {
		for _, f := range []*geo.Feature{e.Before, e.After} {
			if f == nil {
				continue
			}
			if _, ok := f.Properties["hash"]; ok || f.Properties["role"] == nil || f.Properties["name"] == nil {
				t.Errorf("token audit entry %d records %v; want name and role, never the hash", e.Seq, f.Properties)
			}
		}
	}
}

func tokenExpiry(t *testing.T, s geo.Store) {
	tk, secret := newToken(t, "t1", geo.RoleCrew)
	tk.Expires = time.Now().Add(time.Hour)
	if err := s.CreateToken(ctx, tk); err != nil {
		t.Fatal(err)
	}
	a, err := geo.Authenticate(ctx, s, secret, time.Now())
	if err != nil || a != (geo.Actor{ID: "t1", Name: tk.Name, Role: geo.RoleCrew}) {
		t.Errorf("Authenticate = %+v, %v; want the crew actor", a, err)
	}
	_, err = geo.Authenticate(ctx, s, secret, tk.Expires)
	wantKind(t, "Authenticate(at expiry)", err, geo.Unauthorized)
	_, err = geo.Authenticate(ctx, s, secret+"x", time.Now())
	wantKind(t, "Authenticate(wrong secret)", err, geo.Unauthorized)
	_, err = geo.Authenticate(ctx, s, "", time.Now())
	wantKind(t, "Authenticate(empty)", err, geo.Unauthorized)
}

func redactHouseholds(t *testing.T, s geo.Store) {
	f := site("r")
	f.Properties["households"] = []any{
		map[string]any{"name": "测试户", "phone": "00000000000", "members": 4.0, "note": nil},
	}
	mustCreate(t, s, geo.RelocationSites, f)
	sc, err := geo.SchemaFor(geo.RelocationSites)
	if err != nil {
		t.Fatal(err)
	}
	stored := mustGet(t, s, geo.RelocationSites, "r")
	for _, role := range []geo.Role{geo.RolePublic, geo.RoleCrew} {
		red := sc.Redact(stored, role)
		if _, ok := red.Properties["households"]; ok {
			t.Errorf("Redact(%s) kept households", role)
		}
		if red.Properties["households_remaining"] != 22.0 {
			t.Errorf("Redact(%s) removed the counts: %v", role, red.Properties)
		}
	}
	if _, ok := stored.Properties["households"]; !ok {
		t.Errorf("Redact changed the feature it was given")
	}
	for _, role := range []geo.Role{geo.RolePlanner, geo.RoleAdmin} {
		if red := sc.Redact(stored, role); !reflect.DeepEqual(red.Properties, stored.Properties) {
			t.Errorf("Redact(%s) = %v, want everything", role, red.Properties)
		}
	}
	bad := site("bad")
	bad.Properties["households"] = []any{map[string]any{"phone": "x", "members": 2.5}}
	err = s.Create(ctx, geo.RelocationSites, bad)
	wantKind(t, "Create(household without name, fractional members)", err, geo.Invalid)
}

// ledgerPersists checks that reports, the audit log, the changes and the
// tokens survive a restart, and that seq goes on increasing after it.
func ledgerPersists(t *testing.T, s geo.Store, reopen Reopener) {
	mustCreate(t, s, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil))
	_, o, err := s.AddObservation(crewCtx(), "p", 1, report(25, geo.ObservationPonding))
	if err != nil {
		t.Fatal(err)
	}
	tk, secret := newToken(t, "t1", geo.RoleCrew)
	if err := s.CreateToken(ctx, tk); err != nil {
		t.Fatal(err)
	}
	before := allAudit(t, s)
	s = reopen(t, s)
	after := allAudit(t, s)
	if len(after) != len(before) {
		t.Fatalf("after reopen: %d audit entries, want %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if b.Change() != a.Change() || b.Actor != a.Actor {
			t.Errorf("audit entry %d before reopen %+v, after %+v", i, b.Change(), a.Change())
		}
		sameVersion(t, "audit after reopen", a.After, b.After)
	}
	hist, n, err := s.Observations(ctx, "p", geo.ObservationQuery{})
	if err != nil || n != 1 || !reflect.DeepEqual(hist[0], o) {
		t.Errorf("Observations after reopen = %+v, %d, %v; want %+v", hist, n, err, o)
	}
	if _, err := geo.Authenticate(ctx, s, secret, time.Now()); err != nil {
		t.Errorf("Authenticate after reopen = %v", err)
	}
	mustCreate(t, s, geo.Depots, depot("d", nil, 1))
	cs := allChanges(t, s, before[len(before)-1].Seq, 0)
	if len(cs) != 1 || cs[0].FeatureID != "d" {
		t.Errorf("changes after reopen = %+v, want the create of d with a seq after %d", cs, before[len(before)-1].Seq)
	}
	_, o2, err := s.AddObservation(crewCtx(), "p", 0, report(30, geo.ObservationPonding))
	if err != nil || o2.ID <= o.ID {
		t.Errorf("observation after reopen: id %d, %v; want an id after %d", o2.ID, err, o.ID)
	}
}
