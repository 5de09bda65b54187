package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// body returns a response of n bytes at version v.
func body(n int, v int64) *response {
	return &response{body: bytes.Repeat([]byte("x"), n), ctype: typeJSON, etag: `"e"`, version: v}
}

// twice gets key twice, so that the cache stores what build returns (it
// stores a key asked for again), and returns the second response.
func twice(c *cache, key, group string, version int64, build func(context.Context) (*response, error)) *response {
	c.get(context.Background(), key, group, version, build)
	rs, _ := c.get(context.Background(), key, group, version, build)
	return rs
}

func TestCacheHitAndMiss(t *testing.T) {
	c := newCache(1 << 20)
	builds := 0
	build := func(context.Context) (*response, error) { builds++; return body(10, 1), nil }
	ctx := context.Background()
	c.get(ctx, "k", "g", 1, build)
	if n, _ := c.stats(); n != 0 {
		t.Errorf("entries after one get = %d, want 0 (stored when asked for again)", n)
	}
	a, _ := c.get(ctx, "k", "g", 1, build)
	b, _ := c.get(ctx, "k", "g", 1, build)
	if a != b || builds != 2 {
		t.Errorf("three gets of one key: same response %v, builds %d; want true, 2", a == b, builds)
	}
	if _, err := c.get(ctx, "k2", "g", 1, func(context.Context) (*response, error) { return nil, errors.New("boom") }); err == nil {
		t.Error("get with a failing build = nil error")
	}
	if n, _ := c.stats(); n != 1 {
		t.Errorf("entries after a failed build = %d, want 1 (errors are not cached)", n)
	}
}

func TestCacheBudgetEvictsLeastRecentlyUsed(t *testing.T) {
	sample := body(1000, 1)
	sample.gzipped()
	one := sample.size() + 1 // + len(key)
	c := newCache(3 * one)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		twice(c, k, "g", 1, func(context.Context) (*response, error) { return body(1000, 1), nil })
	}
	c.get(ctx, "a", "g", 1, nil) // a hit: a becomes the most recent; nil build would panic on a miss
	twice(c, "d", "g", 1, func(context.Context) (*response, error) { return body(1000, 1), nil })
	n, used := c.stats()
	if n != 3 || used > c.budget {
		t.Errorf("stats = %d entries, %d bytes; want 3 entries within %d", n, used, c.budget)
	}
	if c.lookup("b") != nil {
		t.Error("b (least recently used) is still cached")
	}
	for _, k := range []string{"a", "c", "d"} {
		if c.lookup(k) == nil {
			t.Errorf("%s was evicted", k)
		}
	}
	// Larger than the whole budget: served, not stored.
	big := twice(c, "big", "g", 1, func(context.Context) (*response, error) { return body(int(4*one), 1), nil })
	if big == nil || c.lookup("big") != nil {
		t.Errorf("oversized response: served %v, cached %v; want served and not cached", big != nil, c.lookup("big") != nil)
	}
}

func TestCacheDropsOlderVersions(t *testing.T) {
	c := newCache(1 << 20)
	twice(c, "g@1/a", "g", 1, func(context.Context) (*response, error) { return body(10, 1), nil })
	twice(c, "h@1/a", "h", 1, func(context.Context) (*response, error) { return body(10, 1), nil })
	twice(c, "g@2/a", "g", 2, func(context.Context) (*response, error) { return body(10, 2), nil })
	if c.lookup("g@1/a") != nil {
		t.Error("an entry of version 1 survived the caching of version 2 of its group")
	}
	if c.lookup("h@1/a") == nil || c.lookup("g@2/a") == nil {
		t.Error("entries of another group or of the new version were dropped")
	}
	// A build that saw a newer version than its key is served, not cached.
	rs := twice(c, "g@2/b", "g", 2, func(context.Context) (*response, error) { return body(10, 3), nil })
	if rs == nil || c.lookup("g@2/b") != nil {
		t.Error("a response of version 3 was cached under a key of version 2")
	}
	// A late build of an older version does not come back in.
	twice(c, "g@1/b", "g", 1, func(context.Context) (*response, error) { return body(10, 1), nil })
	if c.lookup("g@1/b") != nil {
		t.Error("an entry of version 1 was stored after version 2")
	}
}

func TestCacheSharesConcurrentBuilds(t *testing.T) {
	c := newCache(1 << 20)
	var builds atomic.Int32
	release := make(chan struct{})
	build := func(context.Context) (*response, error) {
		builds.Add(1)
		<-release
		return body(2000, 1), nil
	}
	const n = 50
	var wg sync.WaitGroup
	results := make([]*response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = c.get(context.Background(), "k", "g", 1, build)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let every goroutine reach the cache
	close(release)
	wg.Wait()
	if got := builds.Load(); got != 1 {
		t.Errorf("%d concurrent misses ran %d builds, want 1", n, got)
	}
	for i, r := range results {
		if r != results[0] {
			t.Fatalf("caller %d got another response", i)
		}
	}
	// Stored at once (fifty asked for it), compressed once, at admission,
	// and the gzip is correct.
	if c.lookup("k") == nil {
		t.Error("a key fifty callers waited for was not stored")
	}
	gz := results[0].gz
	if gz == nil {
		t.Fatal("a cached 2000-byte response has no gzip form")
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, results[0].body) {
		t.Error("gzip form does not decompress to the body")
	}
}

func TestCacheWaiterStopsWithItsContext(t *testing.T) {
	c := newCache(1 << 20)
	release := make(chan struct{})
	defer close(release)
	go c.get(context.Background(), "k", "g", 1, func(context.Context) (*response, error) { <-release; return body(1, 1), nil })
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.get(ctx, "k", "g", 1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting get with an expired context = %v, want DeadlineExceeded", err)
	}
}

func TestNilCacheBuildsEveryTime(t *testing.T) {
	var c *cache = newCache(0)
	builds := 0
	for range 3 {
		c.get(context.Background(), "k", "g", 1, func(context.Context) (*response, error) { builds++; return body(1, 1), nil })
	}
	if builds != 3 {
		t.Errorf("nil cache: %d builds for 3 gets, want 3", builds)
	}
}

func TestCacheConcurrentMixedKeys(t *testing.T) {
	// Run under -race: many keys, versions and evictions at once.
	c := newCache(20 * body(500, 1).size())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v := int64(i / 50)
				key := fmt.Sprintf("g%d@%d/%d", g%3, v, i%7)
				rs, err := c.get(context.Background(), key, fmt.Sprint(g%3), v,
					func(context.Context) (*response, error) { return body(500, v), nil })
				if err != nil || rs == nil {
					t.Errorf("get(%s) = %v, %v", key, rs, err)
					return
				}
				_ = rs.gzipped()
			}
		}()
	}
	wg.Wait()
	if _, used := c.stats(); used > c.budget {
		t.Errorf("used %d bytes of a %d budget", used, c.budget)
	}
}

func TestCacheKeepsOnlyWhatIsAskedAgain(t *testing.T) {
	c := newCache(1 << 20)
	ctx := context.Background()
	for i := range 3 * seenMax {
		key := fmt.Sprintf("box-%d", i) // a map panned over new boxes
		if rs, err := c.get(ctx, key, "g", 1, func(context.Context) (*response, error) { return body(2000, 1), nil }); err != nil || rs == nil {
			t.Fatalf("get(%s) = %v, %v", key, rs, err)
		}
	}
	if n, used := c.stats(); n != 0 || used != 0 {
		t.Errorf("after %d keys asked once: %d entries, %d bytes; want none", 3*seenMax, n, used)
	}
	c.mu.Lock()
	seen := len(c.seen)
	c.mu.Unlock()
	if seen > seenMax {
		t.Errorf("the cache remembers %d keys, more than its bound %d", seen, seenMax)
	}
}
