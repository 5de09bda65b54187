package postgis

import (
	"sync"
	"time"
)

// versionMaxAge bounds how long a version read from the database is
// answered from memory, even while the change listener is connected. The
// listener invalidates the versions on every notification within
// milliseconds; the bound is for a listening connection that has gone
// deaf without failing (a database host that vanished without closing
// the socket is noticed only by the listener's ping, listenPingInterval):
// then a write by another instance is seen here at most this late.
const versionMaxAge = time.Second

// versions answers Store.Version from memory while that is known to be
// current: the change listener (change.go) is connected and has LISTENed,
// no notification has arrived since the version was read, no write of
// this store has committed since, and the version is younger than
// versionMaxAge. Every write notifies hazardmap_changes at commit, through
// whichever instance it went, so a version another instance moves is
// dropped here as soon as the notification arrives; a write through this
// store drops it when it commits, before the writer's request is
// answered, so a client sees its own write at once. While the listener is
// down (the database restarting, the connection lost) nothing is kept,
// and every Version asks the database, as without a cache: the channel
// dropping cannot make an instance serve stale data.
type versions struct {
	mu    sync.Mutex
	live  bool   // the listener is connected and LISTENing
	epoch uint64 // advances on every invalidation
	known map[string]knownVersion
}

// knownVersion is a version as read from the database.
type knownVersion struct {
	v  int64
	at time.Time
}

// get returns the version of c if it is known and current, and the epoch
// to hand to put after reading it from the database otherwise.
func (vs *versions) get(c string, now time.Time) (v int64, ok bool, epoch uint64) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	k, ok := vs.known[c]
	if ok && vs.live && now.Sub(k.at) < versionMaxAge {
		return k.v, true, vs.epoch
	}
	return 0, false, vs.epoch
}

// put remembers version v of c, read at time at after get returned epoch,
// unless something was invalidated meanwhile (the read may predate the
// write that caused it) or the listener is down.
func (vs *versions) put(c string, v int64, epoch uint64, at time.Time) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if !vs.live || epoch != vs.epoch {
		return
	}
	if vs.known == nil {
		vs.known = map[string]knownVersion{}
	}
	vs.known[c] = knownVersion{v, at}
}

// invalidate forgets every version: a notification arrived or a write of
// this store committed.
func (vs *versions) invalidate() {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.epoch++
	clear(vs.known)
}

// setLive records whether the listener is LISTENing, forgetting every
// version either way: writes may have gone unnotified while it was not.
func (vs *versions) setLive(live bool) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.live = live
	vs.epoch++
	clear(vs.known)
}
