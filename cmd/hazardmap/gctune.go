package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The garbage collector's target in serve. Go's own (GOGC=100) lets the
// heap grow to twice what is live between collections. serve holds little
// that lives (the embedded store's index, the response cache), and what a
// burst of requests leaves behind is garbage, so twice is more memory than
// it needs: at the end of a cold run over 100 000 points it held 156 MiB,
// against 138 at 1.5 times (README "Benchmarks"). But a tighter target on
// a small heap (the seed data: a few MiB live) means a collection every
// few thousand requests, and a cached page of relocation sites cost 8 %
// more CPU at GOGC=50 than at 100 on this machine. So serve keeps the
// heap's target at 1.5 times what is live, and never below gcFloor:
// GOGC is set after each collection from the heap it left live.
const (
	gcPercent = 50       // the target over what is live, once that is large
	gcFloor   = 48 << 20 // the smallest heap target, in bytes
)

// gcTarget returns the GOGC that makes the heap's target max(floor,
// live × (1 + percent/100)) for a live heap of live bytes.
func gcTarget(live uint64, percent int, floor uint64) int {
	if live == 0 || live*uint64(100+percent) >= floor*100 {
		return percent
	}
	return int(floor*100/live) - 100
}

// gcTuner sets GOGC after each garbage collection (gcTarget), until
// stopped. It runs on the finalizer goroutine: the collection that finds
// its sentinel unreachable runs the finalizer, which arms a new one.
type gcTuner struct {
	percent int
	floor   uint64

	mu      sync.Mutex // orders adjust and stop
	stopped bool
	sample  []metrics.Sample
	// tuned counts the adjustments, for tests.
	tuned atomic.Int64
}

// gcSentinel is the object whose finalizer runs once per collection. It
// holds a pointer so that it is not a tiny allocation, which may share a
// block with other objects and so never be finalized.
type gcSentinel struct{ _ *int }

// tuneGC starts a gcTuner and returns the function that stops it and
// sets GOGC back to what it was.
func tuneGC(percent int, floor uint64) (stop func(), t *gcTuner) {
	t = &gcTuner{percent: percent, floor: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	before := debug.SetGCPercent(percent)
	t.adjust()
	t.arm()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.stopped = true
		debug.SetGCPercent(before)
	}, t
}

// arm allocates a sentinel whose finalizer adjusts GOGC and arms again.
func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		if t.adjust() {
			t.arm()
		}
	})
}

// adjust sets GOGC for the heap the last collection left live, and
// reports whether the tuner still runs.
func (t *gcTuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	var live uint64
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	debug.SetGCPercent(gcTarget(live, t.percent, t.floor))
	t.tuned.Add(1)
	return true
}
