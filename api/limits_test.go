package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hazardmap/geo"
)

// TestLargeBuildsQueue: large builds run Builds at once and Queue more
// wait; beyond that a request gets 503 with Retry-After as problem JSON
// at once; cheap builds do not wait at all; a waiting build runs once the
// slot is free.
func TestLargeBuildsQueue(t *testing.T) {
	e := newEnv(t, OpenFixtureStore(t), Options{Limits: Limits{Builds: 1, Queue: 1, Wait: time.Hour}})
	l := e.srv.limits
	held, release := make(chan struct{}), make(chan struct{})
	go l.build(context.Background(), largeBuild+1, func(context.Context) (*response, error) {
		close(held)
		<-release
		return &response{}, nil
	})
	<-held
	if r := e.do(geo.RolePublic, "GET", "/collections/depots/items?limit=10", ""); r.status != http.StatusOK {
		t.Errorf("a cheap page while a large build runs = %d", r.status)
	}
	done := make(chan reply)
	go func() { done <- e.do(geo.RolePublic, "GET", "/analysis/reach?max_distance_m=1234", "") }()
	for l.waiting.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	r := e.do(geo.RolePublic, "GET", "/collections/depots/items?limit=5000", "")
	p := r.problem(t, "a large page beyond the queue", http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" || !strings.Contains(p["detail"].(string), "large answers") {
		t.Errorf("503 with Retry-After %q: %v", r.header.Get("Retry-After"), p)
	}
	close(release)
	if r := <-done; r.status != http.StatusOK {
		t.Errorf("the queued report, once the slot was free = %d %s", r.status, r.body)
	}
}

// TestLargeBuildWaitsAtMostWait: a large build that finds no slot within
// Wait is refused (503).
func TestLargeBuildWaitsAtMostWait(t *testing.T) {
	l := newLimiter(Limits{Builds: 1, Queue: 10, Wait: 50 * time.Millisecond})
	held, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	go l.build(context.Background(), largeBuild+1, func(context.Context) (*response, error) {
		close(held)
		<-release
		return &response{}, nil
	})
	<-held
	start := time.Now()
	_, err := l.build(context.Background(), largeBuild+1, func(context.Context) (*response, error) { return &response{}, nil })
	if statusOf(err) != http.StatusServiceUnavailable || time.Since(start) < 50*time.Millisecond {
		t.Errorf("build with the slot held = %v after %s, want 503 after Wait", err, time.Since(start))
	}
}

// TestHopelessBuildsShedAtOnce: when the builds ahead would outlast Wait
// at the time builds have been taking, a request gets 503 at once.
func TestHopelessBuildsShedAtOnce(t *testing.T) {
	l := newLimiter(Limits{Builds: 1, Queue: 100, Wait: time.Second})
	l.took(800 * time.Millisecond)
	if l.hopeless(1) {
		t.Error("one build ahead of 0.8 s: hopeless, want a wait")
	}
	if !l.hopeless(2) {
		t.Error("two builds ahead of 0.8 s each, 1 s to wait: not hopeless")
	}
}

// TestSendBudget: large bodies being sent draw on SendBytes; beyond it a
// request waits at most Wait, then gets 503; small bodies never wait.
func TestSendBudget(t *testing.T) {
	l := newLimiter(Limits{SendBytes: 3 << 20, Wait: 100 * time.Millisecond})
	ctx := context.Background()
	done1, err := l.sending(ctx, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.sending(ctx, 2<<20); geo.KindOf(err) != geo.Unavailable || statusOf(err) != http.StatusServiceUnavailable {
		t.Errorf("a second 2 MiB body in a 3 MiB budget = %v, want 503", err)
	}
	small, err := l.sending(ctx, sendMin-1)
	if err != nil {
		t.Errorf("a small body = %v", err)
	}
	small()
	done1()
	done2, err := l.sending(ctx, 10<<20) // larger than the budget: takes all of it
	if err != nil {
		t.Fatalf("a body larger than the budget, alone = %v", err)
	}
	done2()
}

// hangStore holds every read until its context ends: a client that hangs
// up meanwhile is what TestClientClosedIsNotAnError logs.
type hangStore struct{ geo.Store }

func (h hangStore) Read(ctx context.Context, fn func(geo.View) error) error {
	<-ctx.Done()
	return fmt.Errorf("hang: %w", ctx.Err())
}

// TestClientClosedIsNotAnError: a client that hangs up before its answer
// is ready is logged as what it is — 499, client closed, at info — not as
// a 500 at error.
func TestClientClosedIsNotAnError(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(NewServer(hangStore{OpenFixtureStore(t)}, Options{Logger: log}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/collections/depots/items", nil)
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request was answered; want it cut off")
	}
	for range 100 {
		mu.Lock()
		done := strings.Contains(logs.String(), "msg=request ")
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Contains(out, "level=ERROR") || !strings.Contains(out, `level=INFO msg="client closed request"`) || !strings.Contains(out, "status=499") {
		t.Errorf("log of a client hanging up:\n%s", out)
	}
}

// TestMemoryReturnedAfterABurst: once large work stops — large builds,
// or pages under the large-build size whose bodies are large (a panned
// map's random boxes) — memory is handed back to the operating system;
// small pages (the seed layers) never cause a release.
func TestMemoryReturnedAfterABurst(t *testing.T) {
	for _, tc := range []struct {
		name     string
		features int
		body     int
		release  bool
	}{
		{"large builds", largeBuild + 1, 1 << 20, true},
		{"pages of large bodies", largeBuild, releaseMin, true},
		{"small pages", largeBuild, releaseMin - 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(Limits{Builds: 1, Queue: 4, Wait: time.Second})
			var released atomic.Int32
			l.release = func() { released.Add(1) }
			build := func() {
				if _, err := l.build(context.Background(), tc.features, func(context.Context) (*response, error) {
					return &response{body: make([]byte, tc.body)}, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			build()
			build()
			if !tc.release {
				l.mu.Lock()
				pending, work := l.pending, l.work
				l.mu.Unlock()
				if pending || work != 0 {
					t.Errorf("small pages scheduled a release (pending %v, work %d)", pending, work)
				}
				return
			}
			for i := 0; released.Load() == 0 && i < 400; i++ {
				time.Sleep(50 * time.Millisecond)
			}
			if released.Load() == 0 {
				t.Error("no memory was returned after the burst")
			}
		})
	}
}
