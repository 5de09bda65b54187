package api

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"hazardmap/geo"
)

// This file fans the store's changes out to the clients of GET /events
// (events.go). One hub per Server reads the changes: one goroutine waits
// for a signal from Store.Subscribe (or the safety-net poll), reads
// Store.Changes after the last seq it saw until there are no more, encodes
// each change once, and hands the batch to every client without blocking.
// Each client's buffer holds clientBuffer batches; a client that lets it
// fill (a phone on a dying link) is cut off and reconnects with
// Last-Event-ID. The store is asked once per signal, not once per client.
// A client that resumes finds the changes it missed in the hub's ring of
// recent changes, or, further back, reads them from the store once, before
// it joins the live stream.

// Settings of the event stream.
const (
	// heartbeatInterval is the time between comment lines on a quiet
	// stream, so that proxies and phones do not close it as idle and a
	// dead client is noticed by a failed write.
	heartbeatInterval = 15 * time.Second
	// pollInterval is the safety net: the hub reads the changes this often
	// even without a signal. A signal is not repeated when the Changes
	// call after it fails (the database coming back), nor sent for writes
	// committed while the PostGIS listener was reconnecting.
	pollInterval = 3 * time.Second
	// retryMin is the first pause after a failed Changes call; it doubles
	// up to pollInterval.
	retryMin = 100 * time.Millisecond
	// clientBuffer is how many batches a client may hold unsent.
	clientBuffer = 64
	// ringSize is how many recent changes the hub keeps for resuming
	// clients.
	ringSize = 4096
	// maxBackfill is how many changes a client resuming from further back
	// than the ring reads from the store; beyond it, it gets a reset event
	// (refetch everything) and joins the live stream.
	maxBackfill = 10 * geo.MaxChanges
	// readyTimeout bounds how long a client waits for the hub to learn the
	// store's last seq (the store being away at start) before it gets 503.
	readyTimeout = 10 * time.Second
	// reconnectAfter is the retry field sent to clients: how long an
	// EventSource waits before reconnecting, in milliseconds.
	reconnectAfter = 2000
)

// event is one change, encoded once for every client.
type event struct {
	seq int64
	// tokens marks a change of a token, sent to admins only.
	tokens bool
	msg    []byte
}

// encodeEvent returns c as an SSE message: id the seq, event the action,
// data the JSON {collection, id, action, version, time} and no feature
// data, so that clients refetch through the API, which hides what their
// role may not see.
func encodeEvent(c geo.Change) (event, error) {
	data, err := marshal(struct {
		Collection string `json:"collection"`
		ID         string `json:"id"`
		Action     string `json:"action"`
		Version    int64  `json:"version"`
		Time       string `json:"time"`
	}{c.Collection, c.FeatureID, string(c.Action), c.Version, c.Time.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return event{}, fmt.Errorf("api: encode change %d: %w", c.Seq, err)
	}
	msg := make([]byte, 0, len(data)+64)
	msg = append(msg, "id: "...)
	msg = strconv.AppendInt(msg, c.Seq, 10)
	msg = append(msg, "\nevent: "...)
	msg = append(msg, c.Action...)
	msg = append(msg, "\ndata: "...)
	msg = append(msg, data...)
	msg = append(msg, "\n\n"...)
	return event{seq: c.Seq, tokens: c.Collection == geo.TokensCollection, msg: msg}, nil
}

// subscriber is one client of the hub.
type subscriber struct {
	// ch receives batches of events; the hub closes it when the client
	// falls clientBuffer batches behind or the hub stops.
	ch chan []event
}

// hub fans the store's changes out to the event-stream clients of one
// server. It starts on the first client and runs until Close or until
// the store is closed.
type hub struct {
	store geo.Store
	log   *slog.Logger
	mu    sync.Mutex
	// Settings, changed by tests (under mu) before the first client.
	heartbeat, poll time.Duration
	buffer, ringCap int

	running bool
	closed  bool
	cancel  context.CancelFunc
	ready   chan struct{} // closed once head is known, per run
	done    chan struct{} // closed when the run ends
	head    int64         // every change up to head has been broadcast
	ring    []event       // the recent changes, oldest first
	from    int64         // the ring holds every change in (from, head]
	subs    map[*subscriber]struct{}
}

// newHub returns a hub over store; it starts on the first subscriber.
func newHub(store geo.Store, log *slog.Logger) *hub {
	return &hub{store: store, log: log, heartbeat: heartbeatInterval, poll: pollInterval, buffer: clientBuffer,
		ringCap: ringSize, subs: map[*subscriber]struct{}{}}
}

// start starts a run unless one is running or the hub is closed, and
// returns its ready and done channels.
func (h *hub) start() (ready, done chan struct{}, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, geo.Errorf(geo.Unavailable, "the server is shutting down; reconnect")
	}
	if !h.running {
		ctx, cancel := context.WithCancel(context.Background())
		h.running, h.cancel = true, cancel
		h.ready, h.done = make(chan struct{}), make(chan struct{})
		go h.run(ctx, h.ready, h.done)
	}
	return h.ready, h.done, nil
}

// run reads changes until ctx ends or the store's signals end for good.
func (h *hub) run(ctx context.Context, ready, done chan struct{}) {
	defer close(done)
	defer h.stop()
	// Subscribe before reading the head, so that no write between the two
	// goes unsignalled.
	signals, err := h.store.Subscribe(ctx)
	if err != nil {
		h.log.Warn("events: subscribe failed; polling", "error", err)
	}
	head, err := h.lastSeq(ctx)
	if err != nil {
		return // ctx ended
	}
	h.mu.Lock()
	h.head, h.from, h.ring = head, head, nil
	pollEvery := h.poll
	h.mu.Unlock()
	close(ready)

	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	var retry <-chan time.Time
	backoff := retryMin
	for {
		if err := h.drain(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			h.log.Warn("events: reading changes failed; retrying", "in", backoff, "error", err)
			retry = time.After(backoff)
			backoff = min(2*backoff, pollEvery)
		} else {
			retry, backoff = nil, retryMin
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-signals:
			if !ok {
				// The store is closed (or ctx ended): subscribe again,
				// which fails if the store is closed for good.
				if signals, err = h.store.Subscribe(ctx); err != nil {
					h.log.Debug("events: store subscription ended", "error", err)
					return
				}
			}
		case <-poll.C:
		case <-retry:
		}
	}
}

// lastSeq returns the seq of the newest audit entry (0 for none),
// retrying while the store is away, until ctx ends.
func (h *hub) lastSeq(ctx context.Context) (int64, error) {
	h.mu.Lock()
	maxBackoff := h.poll
	h.mu.Unlock()
	backoff := retryMin
	for {
		entries, _, err := h.store.Audit(ctx, geo.AuditQuery{Limit: 1})
		if err == nil {
			if len(entries) == 0 {
				return 0, nil
			}
			return entries[0].Seq, nil
		}
		h.log.Warn("events: reading the last change failed; retrying", "in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// drain reads and broadcasts every change after head.
func (h *hub) drain(ctx context.Context) error {
	for {
		h.mu.Lock()
		after := h.head
		h.mu.Unlock()
		cs, err := h.store.Changes(ctx, after, 0)
		if err != nil {
			return fmt.Errorf("api: changes after %d: %w", after, err)
		}
		if len(cs) == 0 {
			return nil
		}
		batch := make([]event, 0, len(cs))
		for _, c := range cs {
			e, err := encodeEvent(c)
			if err != nil {
				return err
			}
			batch = append(batch, e)
		}
		h.broadcast(batch)
		if len(cs) < geo.MaxChanges {
			return nil
		}
	}
}

// broadcast records batch in the ring and hands it to every subscriber;
// a subscriber whose buffer is full is cut off.
func (h *hub) broadcast(batch []event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.head = batch[len(batch)-1].seq
	h.ring = append(h.ring, batch...)
	if n := len(h.ring) - h.ringCap; n > 0 {
		h.from = h.ring[n-1].seq
		h.ring = append(h.ring[:0:0], h.ring[n:]...)
	}
	for sub := range h.subs {
		select {
		case sub.ch <- batch:
		default:
			delete(h.subs, sub)
			close(sub.ch)
		}
	}
}

// stop ends a run: every subscriber is cut off (and reconnects).
func (h *hub) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = false
	if h.cancel != nil {
		h.cancel()
	}
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// close stops the hub for good and waits for its run to end.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	done := h.done
	h.mu.Unlock()
	h.stop()
	if done != nil {
		<-done
	}
}

// subscription is what a new client gets: its subscriber, the head when
// it joined, and the recent changes after its resume point when the ring
// holds them all (covered).
type subscription struct {
	sub       *subscriber
	head      int64
	backlog   []event
	covered   bool
	heartbeat time.Duration
}

// subscribe adds a client that resumes after seq after (when resume).
func (h *hub) subscribe(ctx context.Context, after int64, resume bool) (subscription, error) {
	ready, done, err := h.start()
	if err != nil {
		return subscription{}, err
	}
	t := time.NewTimer(readyTimeout)
	defer t.Stop()
	select {
	case <-ready:
	case <-done:
		return subscription{}, geo.Errorf(geo.Unavailable, "the event stream stopped; reconnect")
	case <-t.C:
		return subscription{}, geo.Errorf(geo.Unavailable, "the store is not answering; reconnect")
	case <-ctx.Done():
		return subscription{}, ctx.Err()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		return subscription{}, geo.Errorf(geo.Unavailable, "the event stream stopped; reconnect")
	}
	sub := &subscriber{ch: make(chan []event, h.buffer)}
	h.subs[sub] = struct{}{}
	s := subscription{sub: sub, head: h.head, heartbeat: h.heartbeat}
	if resume && after >= h.from {
		s.covered = true
		for _, e := range h.ring {
			if e.seq > after {
				s.backlog = append(s.backlog, e)
			}
		}
	}
	return s, nil
}

// unsubscribe removes a client.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// subscribers returns the number of clients.
func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
