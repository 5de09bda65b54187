package api

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
//
// Event ids. The ledger numbers every change (geo.Change.Seq), token
// changes included, which only admins see: ids that were the seq would
// show the public, by their gaps, when and how often tokens change. So
// the id of an event is its public number: the seq less the token changes
// up to it (pub). A token change carries no id at all (an EventSource
// keeps the last id it had), so admins and the public share one id
// space, and a client resuming from id n gets every change after the
// n-th public one (an admin may get a token change twice, never none).
// Every instance derives the numbers from the same ledger, so they agree;
// the hub learns the token changes' seqs once when it starts (Audit of
// geo.TokensCollection: tokens change rarely) and then from the changes
// it reads.

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

// encodeEvent returns c as an SSE message: id its public number pub
// (none for a token change), event the action, data the JSON
// {collection, id, action, version, time} and no feature data, so that
// clients refetch through the API, which hides what their role may not
// see.
func encodeEvent(c geo.Change, pub int64) (event, error) {
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
	tokens := c.Collection == geo.TokensCollection
	msg := make([]byte, 0, len(data)+64)
	if !tokens {
		msg = append(msg, "id: "...)
		msg = strconv.AppendInt(msg, pub, 10)
		msg = append(msg, '\n')
	}
	msg = append(msg, "event: "...)
	msg = append(msg, c.Action...)
	msg = append(msg, "\ndata: "...)
	msg = append(msg, data...)
	msg = append(msg, "\n\n"...)
	return event{seq: c.Seq, tokens: tokens, msg: msg}, nil
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
	// tokenSeqs are the seqs of the token changes up to head, ascending:
	// what public numbers leave out (see "Event ids" above).
	tokenSeqs []int64

	// drainMu lets one drain run at a time: the run's, or a subscriber's
	// that must know the head of the store (subscribe).
	drainMu sync.Mutex
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
	head, tokenSeqs, err := h.lastSeq(ctx)
	if err != nil {
		return // ctx ended
	}
	h.mu.Lock()
	h.head, h.from, h.ring, h.tokenSeqs = head, head, nil, tokenSeqs
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

// lastSeq returns the seq of the newest audit entry (0 for none) and the
// seqs of the token changes up to it, retrying while the store is away,
// until ctx ends.
func (h *hub) lastSeq(ctx context.Context) (int64, []int64, error) {
	h.mu.Lock()
	maxBackoff := h.poll
	h.mu.Unlock()
	backoff := retryMin
	for {
		head, tokens, err := h.readHead(ctx)
		if err == nil {
			return head, tokens, nil
		}
		h.log.Warn("events: reading the last change failed; retrying", "in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// readHead reads the seq of the newest audit entry and the seqs of the
// token changes up to it, ascending.
func (h *hub) readHead(ctx context.Context) (int64, []int64, error) {
	entries, _, err := h.store.Audit(ctx, geo.AuditQuery{Limit: 1})
	if err != nil || len(entries) == 0 {
		return 0, nil, err
	}
	head := entries[0].Seq
	tokens, _, err := h.store.Audit(ctx, geo.AuditQuery{Collection: geo.TokensCollection})
	if err != nil {
		return 0, nil, err
	}
	seqs := make([]int64, 0, len(tokens))
	for _, e := range tokens {
		if e.Seq <= head {
			seqs = append(seqs, e.Seq)
		}
	}
	slices.Sort(seqs)
	return head, seqs, nil
}

// drain reads and broadcasts every change after head.
func (h *hub) drain(ctx context.Context) error {
	h.drainMu.Lock()
	defer h.drainMu.Unlock()
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
		if err := h.broadcast(cs); err != nil {
			return err
		}
		if len(cs) < geo.MaxChanges {
			return nil
		}
	}
}

// pub returns the public number of the change at seq (see "Event ids"):
// seq less the token changes up to it. The caller holds mu, and seq is at
// most head.
func (h *hub) pub(seq int64) int64 {
	n, _ := slices.BinarySearch(h.tokenSeqs, seq+1)
	return seq - int64(n)
}

// seqOf returns the seq after which a client resumes that has seen every
// change up to public number n: the seq of the n-th public change (or,
// as the ledger may have gaps, where it would be); token changes after it
// come again. The caller holds mu.
func (h *hub) seqOf(n int64) int64 {
	seq := n
	for _, t := range h.tokenSeqs {
		if t > seq {
			break
		}
		seq++
	}
	return seq
}

// encode numbers and encodes the changes cs, which follow head, and
// records the token changes among them. The caller holds mu.
func (h *hub) encode(cs []geo.Change) ([]event, error) {
	batch := make([]event, 0, len(cs))
	for _, c := range cs {
		if c.Collection == geo.TokensCollection && c.Seq > h.head && (len(h.tokenSeqs) == 0 || c.Seq > h.tokenSeqs[len(h.tokenSeqs)-1]) {
			h.tokenSeqs = append(h.tokenSeqs, c.Seq)
		}
		e, err := encodeEvent(c, h.pub(c.Seq))
		if err != nil {
			return nil, err
		}
		batch = append(batch, e)
	}
	return batch, nil
}

// broadcast numbers and encodes cs (the changes after head, oldest
// first), records them in the ring and hands them to every subscriber; a
// subscriber whose buffer is full is cut off.
func (h *hub) broadcast(cs []geo.Change) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	batch, err := h.encode(cs)
	if err != nil {
		return err
	}
	h.send(batch)
	return nil
}

// send records batch in the ring and hands it to every subscriber. The
// caller holds mu.
func (h *hub) send(batch []event) {
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
// it joined (a seq, and its public number), where it resumes (a seq), the
// recent changes after that when the ring holds them all (covered), and
// whether it must reset: it named a public number the store has not
// reached (a store restored from a backup, a rebuilt database), so it
// holds data of another history and must load everything again.
type subscription struct {
	sub       *subscriber
	head      int64
	headPub   int64
	after     int64
	backlog   []event
	covered   bool
	reset     bool
	heartbeat time.Duration
}

// subscribe adds a client that resumes after public number after (when
// resume).
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
	if resume && after > h.headPub() {
		// The client has seen further than this hub: another instance
		// may have told it of changes this one has yet to read, or the
		// store no longer holds them. Read up to the store's head first.
		if err := h.drain(ctx); err != nil {
			return subscription{}, geo.Wrap(geo.Unavailable, err, "the store is not answering; reconnect")
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		return subscription{}, geo.Errorf(geo.Unavailable, "the event stream stopped; reconnect")
	}
	sub := &subscriber{ch: make(chan []event, h.buffer)}
	h.subs[sub] = struct{}{}
	s := subscription{sub: sub, head: h.head, headPub: h.pub(h.head), heartbeat: h.heartbeat, after: h.head}
	switch {
	case !resume:
	case after > s.headPub:
		s.reset = true
	default:
		s.after = h.seqOf(after)
		if s.after >= h.from {
			s.covered = true
			for _, e := range h.ring {
				if e.seq > s.after {
					s.backlog = append(s.backlog, e)
				}
			}
		}
	}
	return s, nil
}

// headPub returns the public number of head.
func (h *hub) headPub() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pub(h.head)
}

// numbered numbers and encodes changes read from the store at or below
// head (a backfill).
func (h *hub) numbered(cs []geo.Change) ([]event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	batch := make([]event, 0, len(cs))
	for _, c := range cs {
		e, err := encodeEvent(c, h.pub(c.Seq))
		if err != nil {
			return nil, err
		}
		batch = append(batch, e)
	}
	return batch, nil
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
