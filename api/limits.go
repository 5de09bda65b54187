package api

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"hazardmap/geo"
)

// This file bounds what requests together may cost the process, so that
// no request grows it without bound and the cheap requests of a storm (a
// phone reloading a layer, a load balancer's /readyz) are answered
// promptly while expensive ones queue:
//   - large builds (a reach report; a page of more than largeBuild
//     features) run at most Limits.Builds at once; up to Limits.Queue
//     more wait, each at most Limits.Wait; beyond that a request gets 503
//     with Retry-After — at once when the builds ahead of it, at the
//     average time a large build has been taking, would outlast Wait.
//     Cheap builds do not queue behind them. On PostGIS
//     a build holds a pool connection, and the pool is larger than Builds
//     (postgis.PoolSize), so cheap requests always find one.
//   - large bodies (sendMin bytes or more, as sent: gzipped when the
//     client takes gzip) draw their size from a budget of
//     Limits.SendBytes while they are being sent, so that clients that
//     ask and never read (or read slowly) hold at most that much; beyond
//     it, 503 with Retry-After after Limits.Wait.
//   - once a burst of large work is over (none in progress), the memory
//     it used (and that of a burst of pages of releaseMin bytes or more,
//     which do not queue) is handed back to the operating system
//     (debug.FreeOSMemory), at most once every releaseEvery, later when
//     the last was less than that ago: Go's scavenger would take minutes.
//
// Limits are set by cmd from DefaultLimits; the zero Limits turns every
// bound off, as the zero value of every setting of Options does.

// Limits bound the large work of requests (see above).
type Limits struct {
	// Builds is how many large builds may run at once; 0 leaves them
	// unbounded.
	Builds int
	// Queue is how many more large builds may wait for a slot.
	Queue int
	// Wait is how long a large build waits for a slot, and a large body
	// for room in SendBytes, before the request gets 503.
	Wait time.Duration
	// SendBytes is the budget of large bodies being sent at once; 0
	// leaves them unbounded.
	SendBytes int64
}

// Sizes that make work large.
const (
	// largeBuild is the number of features above which a page is a large
	// build: a page of 1 000 is about 0.5 MB of GeoJSON and 10 ms of
	// encoding; of 10 000 (the most a page may hold), ten times that.
	largeBuild = 1000
	// sendMin is the size from which a body draws on Limits.SendBytes:
	// every seed layer, and a phone's every page, stay under it.
	sendMin = 1 << 20
	// releaseEvery spaces the returns of memory to the operating system:
	// each forces a garbage collection.
	releaseEvery = 10 * time.Second
	// releaseMin is the body size from which a page that is not a large
	// build still counts as work whose end returns memory: a page of 1 000
	// points is about half a megabyte; a seed layer is well under.
	releaseMin = 256 << 10
	// releaseQuiet is how long no large work must be in progress before
	// memory is returned: a pause between two builds of a burst is not
	// its end.
	releaseQuiet = time.Second
)

// DefaultLimits returns the limits of hazardmap serve, decided from the
// machine: one large build per two cores the process may use (GOMAXPROCS;
// at least one): a build is CPU work (reading, encoding, compressing, and
// the garbage collection after), so this leaves half the cores to the
// cheap requests, and more builds at once would only share the cores
// while each holds its memory longer; 32 times as many waiting (a
// waiting request holds a goroutine and a connection, little else), for
// at most 10 s (a report of 100 000 hazards takes about a second to
// build, a page of 10 000 features a fifth); and large bodies up to 1/128
// of the machine's memory (of its cgroup limit when lower) being sent at
// once, between 64 and 256 MiB.
func DefaultLimits() Limits {
	n := max(1, runtime.GOMAXPROCS(0)/2)
	send := min(max(memoryBytes()/128, 64<<20), 256<<20)
	return Limits{Builds: n, Queue: 32 * n, Wait: 10 * time.Second, SendBytes: send}
}

// memoryBytes returns the memory the process may use: the machine's
// (MemTotal of /proc/meminfo), or its cgroup's limit when lower; 8 GiB
// when neither can be read.
func memoryBytes() int64 {
	total := int64(8 << 30)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if kb, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64); err == nil {
					total = n << 10
				}
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < total {
			total = n
		}
	}
	return total
}

// limiter enforces Limits.
type limiter struct {
	lim     Limits
	builds  *semaphore.Weighted // nil: unbounded
	waiting atomic.Int64
	send    *semaphore.Weighted // nil: unbounded

	mu       sync.Mutex
	mean     time.Duration // moving average of a large build's time
	busy     int           // large builds and sends in progress
	work     int64         // bytes of large work since the last release
	released time.Time     // of the last release
	pending  bool          // a release is scheduled
	// release returns memory to the operating system
	// (debug.FreeOSMemory; tests count the calls).
	release func()
}

func newLimiter(lim Limits) *limiter {
	l := &limiter{lim: lim, release: debug.FreeOSMemory}
	if lim.Builds > 0 {
		l.builds = semaphore.NewWeighted(int64(lim.Builds))
	}
	if lim.SendBytes > 0 {
		l.send = semaphore.NewWeighted(lim.SendBytes)
	}
	return l
}

// errBusy is the 503 of a request beyond the limits.
func (l *limiter) errBusy(what string) error {
	retry := strconv.Itoa(max(1, int(l.lim.Wait.Round(time.Second)/time.Second)))
	return &httpError{status: 503, err: geo.Errorf(geo.Unavailable, "the server is %s as many large answers as it may at once; retry after %s seconds", what, retry),
		header: map[string][]string{"Retry-After": {retry}}}
}

// build runs fn as a large build when features (what it encodes at most)
// makes it one: after a slot is free, or not at all (503) when the queue
// is full or no slot frees within Limits.Wait.
func (l *limiter) build(ctx context.Context, features int, fn func(context.Context) (*response, error)) (*response, error) {
	if l.builds == nil {
		return fn(ctx)
	}
	if features <= largeBuild {
		rs, err := fn(ctx)
		if rs != nil && len(rs.body) >= releaseMin {
			l.did(int64(len(rs.body)))
		}
		return rs, err
	}
	ahead := l.waiting.Add(1) - 1
	if ahead >= int64(l.lim.Queue)+int64(l.lim.Builds) || l.hopeless(ahead) {
		l.waiting.Add(-1)
		return nil, l.errBusy("building")
	}
	wctx, cancel := context.WithTimeout(ctx, l.lim.Wait)
	err := l.builds.Acquire(wctx, 1)
	cancel()
	if err != nil {
		l.waiting.Add(-1)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, l.errBusy("building")
	}
	l.start()
	began := time.Now()
	rs, err := background(ctx, fn)
	l.builds.Release(1)
	l.waiting.Add(-1)
	l.took(time.Since(began))
	n := int64(0)
	if rs != nil {
		n = int64(len(rs.body))
	}
	l.done(n)
	return rs, err
}

// background runs fn on an operating-system thread of its own at a lower
// priority (lowerPriority), which ends with it: when the machine is busy,
// the threads serving cheap requests get the processor first, and a large
// build takes longer rather than holding up a phone reloading a layer.
func background(ctx context.Context, fn func(context.Context) (*response, error)) (*response, error) {
	type result struct {
		rs  *response
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends here
		lowerPriority()
		rs, err := fn(ctx)
		done <- result{rs, err}
	}()
	r := <-done
	return r.rs, r.err
}

// hopeless reports whether a build with ahead builds before it (running
// or waiting) would wait longer than Limits.Wait, at the average time
// builds have been taking.
func (l *limiter) hopeless(ahead int64) bool {
	l.mu.Lock()
	mean := l.mean
	l.mu.Unlock()
	waits := ahead - int64(l.lim.Builds) + 1 // the builds that must end first
	return waits > 0 && time.Duration(waits)*mean/time.Duration(l.lim.Builds) > l.lim.Wait
}

// took records how long a large build took, in the moving average (1/4
// weight to the newest).
func (l *limiter) took(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mean == 0 {
		l.mean = d
		return
	}
	l.mean += (d - l.mean) / 4
}

// sending reserves room for a body of n bytes about to be sent, and
// returns the function that gives it back once sent; a 503 when there is
// no room within Limits.Wait.
func (l *limiter) sending(ctx context.Context, n int) (func(), error) {
	if l.send == nil || n < sendMin {
		return func() {}, nil
	}
	w := min(int64(n), l.lim.SendBytes)
	wctx, cancel := context.WithTimeout(ctx, l.lim.Wait)
	defer cancel()
	if err := l.send.Acquire(wctx, w); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, l.errBusy("sending")
	}
	l.start()
	return func() {
		l.send.Release(w)
		l.done(int64(n))
	}, nil
}

// start records large work beginning.
func (l *limiter) start() {
	l.mu.Lock()
	l.busy++
	l.mu.Unlock()
}

// done records large work of n bytes ending; the last of a burst hands
// memory back to the operating system (see above).
func (l *limiter) done(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.busy--
	l.work += n
	l.releaseLocked()
}

// did records work of n bytes done outside the large builds (a page of
// up to largeBuild features whose body is releaseMin or more): it does
// not queue, but a burst of it leaves as much garbage behind as a few
// large builds, so its end returns memory too.
func (l *limiter) did(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.work += n
	l.releaseLocked()
}

// releaseLocked returns memory to the operating system once no large
// work has been in progress for releaseQuiet, some having been done since
// the last time, and releaseEvery after the last time. The caller holds
// mu.
func (l *limiter) releaseLocked() {
	if l.busy > 0 || l.work == 0 || l.pending {
		return
	}
	l.pending = true
	time.AfterFunc(max(releaseQuiet, releaseEvery-time.Since(l.released)), func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.pending = false
		if l.busy > 0 {
			return // work again: its end schedules the release
		}
		l.work, l.released = 0, time.Now()
		go l.release()
	})
}
