package api

import (
	"container/list"
	"context"
	"hash/maphash"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"hazardmap/geo"
)

// DefaultCacheBytes is the response-cache budget hazardmap serve uses
// unless told otherwise: room for every page a map loads of the seed
// layers many times over, and for a few maxLimit pages of a large layer.
const DefaultCacheBytes = 64 << 20

// buildTimeout bounds one build of a response (store query and encoding).
// A build shared by several requests does not stop when the request that
// started it goes away, so it needs a bound of its own.
const buildTimeout = 30 * time.Second

// cache keeps encoded responses within a byte budget, dropping the least
// recently used first, and lets only one build per key run at a time:
// when a layer changes and a hundred phones reload it at once, the store
// is asked once. Keys name the data version, so a write to a collection
// makes new keys and the old entries are dropped as soon as a newer
// version of the same group is stored. A nil *cache caches nothing and
// builds on every call. It is safe for concurrent use.
//
// A response is stored only once its key has been asked for twice
// (counting requests that wait for the same build): the pages a map loads
// on every open are asked for again and again and stay, while a page of a
// box a map was panned over is built, served and forgotten, without
// compressing it or pushing the layers out of the budget. seen counts the
// misses of recent keys by a hash, within a bound: when it is full it
// starts afresh, so a key forgotten that way is only stored a little
// later.
type cache struct {
	budget int64
	group  singleflight.Group
	seed   maphash.Seed

	mu      sync.Mutex
	used    int64
	order   *list.List // of *cacheEntry, most recently used first
	entries map[string]*list.Element
	latest  map[string]int64 // newest version stored per group
	seen    map[uint64]uint8 // misses per key hash, up to 2
	// aliases are the requests each entry was served to (alias), for the
	// hot path (hot.go). They go with their entry.
	aliases map[hotKey]hotAlias
}

// hotAlias is the entry a hotKey was answered with.
type hotAlias struct {
	el   *list.Element
	gzip bool // whether the request takes the gzip form
}

// maxAliases bounds the requests an entry remembers: the few forms a page
// is asked in (with gzip or not, by one or two host names).
const maxAliases = 8

// seenMax bounds the keys whose misses the cache counts.
const seenMax = 1 << 14

// cacheEntry is one cached response.
type cacheEntry struct {
	key     string
	group   string // what the version counts changes of, e.g. a collection
	version int64
	resp    *response
	size    int64
	aliases []hotKey
}

// newCache returns a cache of budget bytes, or nil (no cache) when budget
// is not positive.
func newCache(budget int64) *cache {
	if budget <= 0 {
		return nil
	}
	return &cache{budget: budget, seed: maphash.MakeSeed(), order: list.New(), entries: map[string]*list.Element{},
		latest: map[string]int64{}, seen: map[uint64]uint8{}, aliases: map[hotKey]hotAlias{}}
}

// get returns the response stored under key, or builds it with build,
// stores it if it shows version (rs.version) and fits, and returns it.
// Concurrent misses of one key share one build; each caller stops waiting
// when its own ctx ends. group and version say which data the key depends
// on, so that entries of older versions of group can be dropped.
func (c *cache) get(ctx context.Context, key, group string, version int64, build func(context.Context) (*response, error)) (*response, error) {
	if c == nil {
		return build(ctx)
	}
	if rs, _ := c.begin(key); rs != nil {
		return rs, nil
	}
	return c.fill(ctx, key, group, version, build)
}

// begin returns the response stored under key, marking it recently used;
// when there is none it counts the miss and reports whether it was the
// first of key. A nil cache has nothing and every miss is a first.
func (c *cache) begin(key string) (rs *response, first bool) {
	if c == nil {
		return nil, true
	}
	if rs := c.lookup(key); rs != nil {
		return rs, false
	}
	return nil, c.miss(maphash.String(c.seed, key))
}

// fill builds the response of key after a miss that begin counted, as
// get does: one build for concurrent callers, stored if it shows version
// and key has missed more than once.
func (c *cache) fill(ctx context.Context, key, group string, version int64, build func(context.Context) (*response, error)) (*response, error) {
	if c == nil {
		return build(ctx)
	}
	h := maphash.String(c.seed, key)
	ch := c.group.DoChan(key, func() (any, error) {
		if rs := c.lookup(key); rs != nil { // built while this caller was on its way
			return rs, nil
		}
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), buildTimeout)
		defer cancel()
		rs, err := build(bctx)
		if err != nil {
			if bctx.Err() != nil && geo.KindOf(err) == geo.Internal {
				// Out of time, not a fault: the client may try again.
				return nil, geo.Wrap(geo.Unavailable, err, "building this answer took longer than "+buildTimeout.String()+"; retry")
			}
			return nil, err
		}
		// Unless the data moved on since the key was made, and once the
		// key is asked for again.
		if rs.version == version && c.again(h) {
			rs.gzipped() // compress once, now, rather than per request
			c.add(key, group, version, rs)
		}
		return rs, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*response), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// built returns build as the cache runs it: behind the limit of large
// builds (limits.go) when features, the most it encodes, makes it one.
// Only the build that a miss starts waits; the requests that share it
// wait for it.
func (s *Server) built(features int, build func(context.Context) (*response, error)) func(context.Context) (*response, error) {
	return func(ctx context.Context) (*response, error) { return s.limits.build(ctx, features, build) }
}

// miss counts a miss of the key whose hash is h and reports whether it
// was the first.
func (c *cache) miss(h uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= seenMax {
		clear(c.seen)
	}
	if c.seen[h] < 2 {
		c.seen[h]++
	}
	return c.seen[h] == 1
}

// again reports whether the key whose hash is h has missed more than
// once: it is worth storing.
func (c *cache) again(h uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[h] >= 2
}

// lookup returns the response under key and marks it recently used.
func (c *cache) lookup(key string) *response {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).resp
}

// add stores rs under key, then drops entries of older versions of group
// and, while over budget, the least recently used ones. A response larger
// than the whole budget is not stored.
func (c *cache) add(key, group string, version int64, rs *response) {
	e := &cacheEntry{key: key, group: group, version: version, resp: rs, size: int64(len(key)) + rs.size()}
	if e.size > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.remove(old)
	}
	if version < c.latest[group] {
		return // the data has moved on while this was built
	}
	if version > c.latest[group] {
		c.latest[group] = version
		for el := c.order.Front(); el != nil; {
			next := el.Next()
			if o := el.Value.(*cacheEntry); o.group == group && o.version < version {
				c.remove(el)
			}
			el = next
		}
	}
	c.entries[key] = c.order.PushFront(e)
	c.used += e.size
	for c.used > c.budget {
		c.remove(c.order.Back())
	}
}

// remove drops one entry and its aliases; the caller holds mu.
func (c *cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.entries, e.key)
	for _, k := range e.aliases {
		delete(c.aliases, k)
	}
	c.used -= e.size
}

// alias remembers that the request k was answered with the entry stored
// under key (the hot path, hot.go), if there is one and it has room: the
// bytes of k count against the budget. gzip says whether k takes the gzip
// form.
func (c *cache) alias(k hotKey, key string, gzip bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return
	}
	if old, ok := c.aliases[k]; ok {
		if old.el == el {
			return
		}
		// The same request answered by another entry: a newer version.
		o := old.el.Value.(*cacheEntry)
		o.aliases = slices.DeleteFunc(o.aliases, func(a hotKey) bool { return a == k })
		o.size -= int64(k.size())
		c.used -= int64(k.size())
		delete(c.aliases, k)
	}
	e := el.Value.(*cacheEntry)
	if len(e.aliases) >= maxAliases {
		return
	}
	e.aliases = append(e.aliases, k)
	e.size += int64(k.size())
	c.used += int64(k.size())
	c.aliases[k] = hotAlias{el: el, gzip: gzip}
	for c.used > c.budget {
		c.remove(c.order.Back())
	}
}

// hotHit is what the hot path needs of an entry.
type hotHit struct {
	resp    *response
	group   string
	version int64
	gzip    bool
}

// hot returns the entry the request k was answered with (alias), marked
// recently used, or false.
func (c *cache) hot(k hotKey) (hotHit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.aliases[k]
	if !ok {
		return hotHit{}, false
	}
	c.order.MoveToFront(a.el)
	e := a.el.Value.(*cacheEntry)
	return hotHit{resp: e.resp, group: e.group, version: e.version, gzip: a.gzip}, true
}

// stats returns the number of entries and the bytes they use.
func (c *cache) stats() (entries int, used int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.used
}

// serveCached serves the response stored under key for the current data
// version of collection c, built by build when there is none: a write to
// c moves the version and so makes a new key. features is the most that
// build encodes: a large build waits its turn (Server.built).
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, c, key string, features int, build func(context.Context) (*response, error)) {
	v, err := s.dataVersion(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rs, err := s.cache.get(r.Context(), key+"\x00"+strconv.FormatInt(v, 10), c, v, s.built(features, build))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serve(w, r, rs)
}
