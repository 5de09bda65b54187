package postgis

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/postgis/pgtest"
)

// isLive reports whether vs may answer from memory now.
func (vs *versions) isLive() bool {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	return vs.live
}

// waitLive waits until s's listener is (or is not) LISTENing.
func waitLive(t *testing.T, s *Store, live bool) {
	t.Helper()
	deadline := time.Now().Add(signalTimeout)
	for s.versions.isLive() != live {
		if time.Now().After(deadline) {
			t.Fatalf("listener live = %v after %v, want %v", !live, signalTimeout, live)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// version returns s.Version(c), failing the test on an error.
func version(t *testing.T, s *Store, c string) int64 {
	t.Helper()
	v, err := s.Version(context.Background(), c)
	if err != nil {
		t.Fatalf("Version(%s) = %v", c, err)
	}
	return v
}

// listening returns two stores on a fresh migrated database: a writer,
// and a reader whose change listener is LISTENing and which remembers the
// version of the depots, returned last.
func listening(t *testing.T) (writer, reader *Store, depots int64) {
	t.Helper()
	databaseURL := pgtest.NewDatabase(t)
	writer = openStore(t, databaseURL)
	mustMigrate(t, writer)
	reader = openStore(t, databaseURL)
	version(t, reader, geo.Depots) // starts the listener
	waitLive(t, reader, true)
	return writer, reader, version(t, reader, geo.Depots)
}

// TestVersionFollowsOtherInstances checks the version cache: a write
// through one store is seen by another store's Version once its
// notification arrives, a store sees its own writes at once, and answers
// from memory cost no statement while nothing changes.
func TestVersionFollowsOtherInstances(t *testing.T) {
	t.Parallel()
	a, b, before := listening(t)
	ctx := context.Background()

	// Remembered: with the table renamed away the statement would fail,
	// and it is not sent.
	if _, err := b.pool.Exec(ctx, `ALTER TABLE collection_state RENAME TO collection_state_away`); err != nil {
		t.Fatal(err)
	}
	v, err := b.Version(ctx, geo.Depots)
	if _, err := b.pool.Exec(ctx, `ALTER TABLE collection_state_away RENAME TO collection_state`); err != nil {
		t.Fatal(err)
	}
	if err != nil || v != before {
		t.Fatalf("Version from memory = %d, %v; want %d", v, err, before)
	}

	if err := a.Create(ctx, geo.Depots, depot("other", orb.Point{113.4, 34.8}, "豫龙镇")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(signalTimeout)
	for version(t, b, geo.Depots) == before {
		if time.Now().After(deadline) {
			t.Fatalf("b.Version(depots) still %d %v after a's write", before, signalTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Own writes: visible to the writer's next Version, with no wait.
	for i := range 5 {
		now := version(t, b, geo.Depots)
		f := depot("own", nil, "豫龙镇")
		f.ID = f.ID + string(rune('a'+i))
		if err := b.Create(ctx, geo.Depots, f); err != nil {
			t.Fatal(err)
		}
		if v := version(t, b, geo.Depots); v <= now {
			t.Fatalf("b.Version(depots) = %d right after b's own write, want more than %d", v, now)
		}
	}
}

// TestVersionWithoutListener cuts the listener's connection, the
// database staying up: the store must stop answering from memory at once,
// so a write it is not told of is seen by its very next Version.
func TestVersionWithoutListener(t *testing.T) {
	t.Parallel()
	writer, s, before := listening(t) // remembered
	ctx := context.Background()

	if _, err := writer.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = $1`, listenSQL); err != nil {
		t.Fatal(err)
	}
	waitLive(t, s, false)
	if err := writer.Create(ctx, geo.Depots, depot("unnotified", nil, "豫龙镇")); err != nil {
		t.Fatal(err)
	}
	if v := version(t, s, geo.Depots); v <= before {
		t.Errorf("Version(depots) = %d right after a write while the listener was down, want more than %d", v, before)
	}
}

// TestVersionsDropOnInvalidation checks the cache's bookkeeping without a
// database: nothing is kept while the listener is down, a read made
// before an invalidation is not kept after it, and nothing is older than
// versionMaxAge.
func TestVersionsDropOnInvalidation(t *testing.T) {
	var vs versions
	now := time.Now()
	_, _, e := vs.get("c", now)
	vs.put("c", 1, e, now)
	if _, ok, _ := vs.get("c", now); ok {
		t.Error("a version was kept while the listener is down")
	}
	vs.setLive(true)
	_, _, e = vs.get("c", now)
	vs.put("c", 2, e, now)
	if v, ok, _ := vs.get("c", now); !ok || v != 2 {
		t.Errorf("get = %d, %v; want 2 from memory", v, ok)
	}
	if _, ok, _ := vs.get("c", now.Add(versionMaxAge)); ok {
		t.Error("a version older than versionMaxAge was answered")
	}
	_, _, e = vs.get("d", now)
	vs.invalidate() // a notification arrives while d is read
	vs.put("d", 3, e, now)
	if _, ok, _ := vs.get("d", now); ok {
		t.Error("a version read before an invalidation was kept")
	}
	if _, ok, _ := vs.get("c", now); ok {
		t.Error("invalidate kept a version")
	}
}
