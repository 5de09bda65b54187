package postgis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/postgis/pgtest"
)

// signalTimeout bounds each wait for a Subscribe signal: a deadline for
// the failure message, not a sleep (a signal ends the wait at once).
const signalTimeout = 20 * time.Second

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

// lastSeq returns the seq of the last change s sees.
func lastSeq(t *testing.T, s *Store) int64 {
	t.Helper()
	cs, err := s.Changes(context.Background(), 0, 0)
	if err != nil {
		t.Fatalf("Changes = %v", err)
	}
	if len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].Seq
}

// awaitChange waits, signal by signal, until s sees a change of feature
// id after seq; other signals (a reconnect) only make it look again. It
// reads through a pool that may still be recovering from an outage, so a
// failed read is retried after a short pause, as a subscriber must (the
// signal that made it read will not come again).
func awaitChange(t *testing.T, s *Store, ch <-chan struct{}, after int64, id string) {
	t.Helper()
	deadline := time.Now().Add(signalTimeout)
	retry := false
	for {
		if !retry {
			select {
			case _, ok := <-ch:
				if !ok {
					t.Fatal("subscription closed")
				}
			case <-time.After(time.Until(deadline)):
				t.Fatalf("no signal after which the change of %s was visible within %v", id, signalTimeout)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("Changes still failing %v after the signal", signalTimeout)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		cs, err := s.Changes(ctx, after, 0)
		cancel()
		if retry = err != nil; retry {
			t.Logf("Changes after a signal = %v; retrying", err)
			time.Sleep(100 * time.Millisecond) // pacing between attempts, not an assertion
			continue
		}
		for _, c := range cs {
			if c.FeatureID == id {
				return
			}
		}
	}
}

// TestSubscribeAcrossInstances checks LISTEN/NOTIFY: a write through one
// store signals a subscriber of another store on the same database.
func TestSubscribeAcrossInstances(t *testing.T) {
	t.Parallel()
	databaseURL := pgtest.NewDatabase(t)
	a := openStore(t, databaseURL)
	mustMigrate(t, a)
	b := openStore(t, databaseURL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatalf("Subscribe = %v", err)
	}
	// The first signal says that b's listener is connected (and asks to
	// look for changes made before it was).
	waitSignal(t, ch, "listener connected")
	after := lastSeq(t, b)
	for i := range 3 {
		id := fmt.Sprintf("d%d", i)
		if err := a.Create(context.Background(), geo.Depots, depot(id, orb.Point{113.4, 34.8}, "豫龙镇")); err != nil {
			t.Fatal(err)
		}
		// Nothing but a's NOTIFY can signal b now.
		waitSignal(t, ch, "after a write through the other store")
		cs, err := b.Changes(context.Background(), after, 0)
		if err != nil || len(cs) != 1 || cs[0].FeatureID != id {
			t.Fatalf("b.Changes(%d) after the signal = %+v, %v; want the create of %s", after, cs, err, id)
		}
		after = cs[0].Seq
	}
	// A store's own writes signal its own subscribers the same way.
	if err := b.Create(context.Background(), geo.Depots, depot("own", nil, "豫龙镇")); err != nil {
		t.Fatal(err)
	}
	awaitChange(t, b, ch, after, "own")
	cancel()
	for range ch { // closed once ctx is done; a pending signal may come first
	}
}

// TestSubscribeSurvivesOutage cuts the subscriber's connection to the
// database, writes through another store meanwhile (the NOTIFY is lost to
// it) and checks that the subscriber is signalled after it reconnects and
// finds the write with Changes.
func TestSubscribeSurvivesOutage(t *testing.T) {
	t.Parallel()
	databaseURL := pgtest.NewDatabase(t)
	writer := openStore(t, databaseURL)
	mustMigrate(t, writer)
	p := pgtest.StartProxy(t, pgtest.Target(t, databaseURL))
	sub := openStore(t, p.Through(t, databaseURL))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := sub.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "listener connected")
	after := lastSeq(t, sub)

	p.Off()
	if err := writer.Create(context.Background(), geo.Depots, depot("during", nil, "豫龙镇")); err != nil {
		t.Fatalf("Create during the subscriber's outage = %v", err)
	}
	p.On(t, false)
	awaitChange(t, sub, ch, after, "during")
}

// TestAuditFailureRollsBackTheWrite makes the audit insert fail and
// checks that the feature write went with it: audit rows and the change
// they record commit together or not at all.
func TestAuditFailureRollsBackTheWrite(t *testing.T) {
	t.Parallel()
	s := openFresh(t).(*Store)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `ALTER TABLE audit ADD CONSTRAINT no_poison CHECK (feature_id <> 'poison')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, geo.Depots, depot("poison", nil, "豫龙镇")); err == nil {
		t.Fatal("Create with a failing audit insert = nil error")
	}
	if _, err := s.Feature(ctx, geo.Depots, "poison"); geo.KindOf(err) != geo.NotFound {
		t.Errorf("the feature was stored without its audit entry: %v", err)
	}
	if v, err := s.Version(ctx, geo.Depots); err != nil || v != 0 {
		t.Errorf("collection version %d, %v after the failed write; want 0", v, err)
	}
	var counter int64
	if err := s.pool.QueryRow(ctx, `SELECT seq FROM change_counter`).Scan(&counter); err != nil || counter != 0 {
		t.Errorf("change_counter = %d, %v; want 0 (the increment rolled back)", counter, err)
	}
	if err := s.Create(ctx, geo.Depots, depot("fine", nil, "豫龙镇")); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.Changes(ctx, 0, 0); err != nil || len(cs) != 1 || cs[0].Seq != 1 {
		t.Errorf("Changes = %+v, %v; want the one good write at seq 1", cs, err)
	}
}

// TestSubscribeAfterClose checks that a closed store refuses subscribers
// and that Close ends the listener and the subscriptions.
func TestSubscribeAfterClose(t *testing.T) {
	t.Parallel()
	databaseURL := pgtest.NewDatabase(t)
	s, err := Open(context.Background(), databaseURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustMigrate(t, s)
	ch, err := s.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch { // closed by Close, maybe after the connected signal
	}
	if _, err := s.Subscribe(context.Background()); geo.KindOf(err) != geo.Unavailable {
		t.Errorf("Subscribe after Close = %v, want Unavailable", err)
	}
}

// TestLedgerQueriesUseIndexes checks that the ledger's hot statements can
// be answered from the indexes of migration 002.
func TestLedgerQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	s := openFresh(t).(*Store)
	ctx := context.Background()
	cases := []struct {
		sql   string
		args  []any
		index string
	}{
		{changesSQL, []any{int64(10), 100}, "audit_pkey"},
		{auditSelectSQL + " WHERE collection = $1 AND feature_id = $2 ORDER BY seq DESC", []any{geo.Depots, "d"}, "audit_feature_idx"},
		{observationsSelectSQL + observationsOrder + " LIMIT 10", []any{"p"}, "observations_feature_at_idx"},
		{tokenByHashSQL, []any{make([]byte, 32)}, "tokens_hash_key"},
	}
	for _, c := range cases {
		err := s.read(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+c.sql, c.args...)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if plan := strings.Join(lines, "\n"); !strings.Contains(plan, c.index) {
				t.Errorf("plan of %s does not use %s:\n%s", c.sql, c.index, plan)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", c.sql, err)
		}
	}
}
