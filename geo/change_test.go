package geo

import (
	"context"
	"testing"
	"time"
)

func TestNotifier(t *testing.T) {
	var n Notifier
	ctx, cancel := context.WithCancel(context.Background())
	a, err := n.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Signals coalesce and never block.
	for range 100 {
		n.Notify()
	}
	for _, ch := range []<-chan struct{}{a, b} {
		select {
		case <-ch:
		default:
			t.Fatal("no signal after Notify")
		}
		select {
		case <-ch:
			t.Fatal("a second signal: signals should coalesce")
		default:
		}
	}
	cancel()
	select {
	case _, ok := <-a:
		if ok {
			t.Fatal("a signal after cancel, want the channel closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription not closed after its context ended")
	}
	if n.Len() != 1 {
		t.Errorf("Len = %d after one subscription ended, want 1", n.Len())
	}
	n.Notify() // must not send on the closed channel; b gets a signal
	n.Close()
	<-b // the pending signal
	if _, ok := <-b; ok {
		t.Error("Close left a subscription open")
	}
	if _, err := n.Subscribe(context.Background()); KindOf(err) != Unavailable {
		t.Errorf("Subscribe after Close = %v, want Unavailable", err)
	}
	n.Notify()
}

func TestChangeLimit(t *testing.T) {
	for _, c := range []struct{ in, want int }{{0, MaxChanges}, {-1, MaxChanges}, {1, 1}, {MaxChanges, MaxChanges}, {MaxChanges + 1, MaxChanges}} {
		if got := ChangeLimit(c.in); got != c.want {
			t.Errorf("ChangeLimit(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestAuditQuery(t *testing.T) {
	t0 := time.Date(2025, 7, 20, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		q     AuditQuery
		field string
	}{
		{AuditQuery{}, ""},
		{AuditQuery{Collection: TokensCollection}, ""},
		{AuditQuery{Collection: Depots, FeatureID: "d"}, ""},
		{AuditQuery{Collection: "x"}, "collection"},
		{AuditQuery{FeatureID: "d"}, "feature_id"},
		{AuditQuery{From: t0, To: t0.Add(-1)}, "from"},
		{AuditQuery{AfterSeq: -1}, "after_seq"},
		{AuditQuery{Limit: -1}, "limit"},
		{AuditQuery{Offset: -1}, "offset"},
	} {
		err := c.q.Check()
		if e := AsError(err); (c.field == "") != (err == nil) || e != nil && e.Fields[0].Field != c.field {
			t.Errorf("%+v.Check() = %v, want field %q", c.q, err, c.field)
		}
	}
	e := AuditEntry{Seq: 5, Time: t0, Collection: Depots, FeatureID: "d"}
	for _, c := range []struct {
		q    AuditQuery
		want bool
	}{
		{AuditQuery{}, true},
		{AuditQuery{Collection: Depots, FeatureID: "d"}, true},
		{AuditQuery{Collection: RelocationSites}, false},
		{AuditQuery{Collection: Depots, FeatureID: "e"}, false},
		{AuditQuery{From: t0, To: t0.Add(1)}, true},
		{AuditQuery{To: t0}, false},
		{AuditQuery{From: t0.Add(1)}, false},
		{AuditQuery{AfterSeq: 4}, true},
		{AuditQuery{AfterSeq: 5}, false},
	} {
		if got := c.q.Matches(e); got != c.want {
			t.Errorf("%+v.Matches(seq 5) = %v, want %v", c.q, got, c.want)
		}
	}
}
