package main

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

func TestGCTarget(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 50},         // nothing measured yet: the percent
		{8 * mib, 500},  // the seed data: the floor, 48 MiB
		{30 * mib, 60},  // 30 × 1.6 = 48
		{32 * mib, 50},  // 32 × 1.5 = 48: the percent from here on
		{100 * mib, 50}, // a large index
		{1 << 40, 50},   // no overflow
		{48 * mib, 50},  // at the floor
		{47 * mib, 50},  // 47 × 1.5 > 48
		{20 * mib, 140}, // 20 × 2.4 = 48
		{1, 5033164700}, // one byte live: the floor still
	} {
		if got := gcTarget(c.live, 50, 48*mib); got != c.want {
			t.Errorf("gcTarget(%d B live) = %d, want %d", c.live, got, c.want)
		}
	}
}

// currentGOGC reads the collector's GOGC without changing it.
func currentGOGC() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestGCTunerFollowsCollections checks that the tuner sets GOGC after
// collections (with a floor far above this test's heap, so the target is
// the floor's), and that stopping it restores the GOGC it found.
func TestGCTunerFollowsCollections(t *testing.T) {
	before := currentGOGC()
	stop, tuner := tuneGC(50, 1<<40)
	for i := 0; i < 1000 && tuner.tuned.Load() < 3; i++ {
		runtime.GC() // the sentinel's finalizer runs on the finalizer goroutine, after the cycle
		runtime.Gosched()
	}
	if n := tuner.tuned.Load(); n < 3 {
		t.Fatalf("tuned %d times over up to 1000 collections, want at least 3", n)
	}
	if got := currentGOGC(); got <= 50 {
		t.Errorf("GOGC = %d under a 1 TiB floor, want far above 50", got)
	}
	stop()
	if got := currentGOGC(); got != before {
		t.Errorf("GOGC after stop = %d, want %d as before", got, before)
	}
	n := tuner.tuned.Load()
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
	if tuner.tuned.Load() != n {
		t.Error("the tuner adjusted GOGC after it was stopped")
	}
}
