package geo

import (
	"context"
	"sync"
	"time"
)

// Change is an audit entry without its data: what changed, not how. It is
// what the live-update stream (SSE) sends; subscribers refetch the feature
// through the API, which hides what their role may not see.
type Change struct {
	// Seq is the AuditEntry.Seq: strictly increasing in commit order, so
	// that a client that saw Seq n resumes with Changes(n, …) and misses
	// nothing (the SSE Last-Event-ID).
	Seq        int64
	Time       time.Time
	Collection string
	FeatureID  string
	Action     Action
	// Version is the feature's version after the change, 0 after a delete.
	Version int64
}

// MaxChanges caps the changes one call of Changes returns when its limit is
// 0 or above it, so that a client resuming from 0 after a long absence
// pages through the log instead of getting all of it at once.
const MaxChanges = 1000

// ChangeLimit returns the number of changes a call of Changes with limit
// returns at most: limit, or MaxChanges when limit is 0 or less or above
// it.
func ChangeLimit(limit int) int {
	if limit <= 0 || limit > MaxChanges {
		return MaxChanges
	}
	return limit
}

// Notifier fans a signal out to subscribers: the stores use it to
// implement Ledger.Subscribe. Each subscriber has a channel with room for
// one signal; Notify never blocks, and a subscriber that has not taken its
// signal yet gets no second one (signals coalesce). The zero Notifier is
// ready to use; it is safe for concurrent use.
type Notifier struct {
	mu     sync.Mutex
	subs   map[chan struct{}]struct{}
	closed bool
}

// Subscribe adds a subscriber whose channel is closed when ctx ends or the
// Notifier is closed. After Close it returns an Unavailable error.
func (n *Notifier) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, Errorf(Unavailable, "store closed")
	}
	if n.subs == nil {
		n.subs = map[chan struct{}]struct{}{}
	}
	ch := make(chan struct{}, 1)
	n.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() { n.remove(ch) })
	return ch, nil
}

// remove closes ch and forgets it, unless that was done already.
func (n *Notifier) remove(ch chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.subs[ch]; ok {
		delete(n.subs, ch)
		close(ch)
	}
}

// Notify signals every subscriber without blocking.
func (n *Notifier) Notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- struct{}{}:
		default: // a signal is pending already
		}
	}
}

// Len returns the number of subscribers.
func (n *Notifier) Len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs)
}

// Close closes every subscriber's channel; later Subscribe calls fail.
func (n *Notifier) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for ch := range n.subs {
		close(ch)
	}
	clear(n.subs)
}
