package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo"
)

// Settings of the change listener (see listen). Each bounds how long a
// change can go unsignalled, or how hard a store knocks on a database that
// is away.
const (
	// listenMinBackoff and listenMaxBackoff bound the wait between two
	// attempts to reconnect the listening connection: it doubles from the
	// minimum after each failure, so that many instances do not hammer a
	// database that is restarting, and returns to the minimum once a
	// connection has been made.
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
	// listenPingInterval is how long the listener waits for a
	// notification before it pings its connection. A database host that
	// vanishes without closing the TCP connection would otherwise leave
	// the listener waiting, deaf, for the operating system's keepalive
	// (many minutes).
	listenPingInterval = 30 * time.Second
	// listenCloseTimeout bounds closing the listening connection.
	listenCloseTimeout = 5 * time.Second
)

// changesSQL reads the changes after $1, oldest first, at most $2.
const changesSQL = `
SELECT ` + auditColumns + `
FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2`

// Changes returns at most geo.ChangeLimit(limit) changes after afterSeq,
// oldest first, from the audit table (an index range on its primary key).
// It is one statement, so one transaction and one snapshot, and one round
// trip: subscribers call it after every signal. Because seqs commit in
// order (see appendAudit), a change with a smaller seq can never appear
// after a larger one has been read.
func (s *Store) Changes(ctx context.Context, afterSeq int64, limit int) ([]geo.Change, error) {
	if afterSeq < 0 {
		return nil, geo.InvalidField("after_seq", "must not be negative")
	}
	rows, err := s.pool.Query(ctx, changesSQL, afterSeq, geo.ChangeLimit(limit))
	if err != nil {
		return nil, fail(err, "postgis: changes after %d", afterSeq)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Change, error) {
		e, err := scanEntry(r, false)
		return e.Change(), err
	})
	if err != nil {
		return nil, fail(err, "postgis: changes after %d", afterSeq)
	}
	if out == nil {
		out = []geo.Change{}
	}
	return out, nil
}

// Subscribe returns a channel signalled after any write to the database
// commits, through this store or any other on the same database, and
// whenever the store's listening connection is (re)established. The first
// call starts the listener: one connection of its own (outside the pool)
// that LISTENs on the changes channel and fans each notification out to
// every subscriber of this store. The channel is closed when ctx ends or
// the store is closed.
func (s *Store) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	ch, err := s.notifier.Subscribe(ctx)
	if err != nil {
		return nil, err
	}
	s.startListener()
	return ch, nil
}

// startListener starts listen once, unless the store is closed.
func (s *Store) startListener() {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listenDone != nil || s.closed {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopListen, s.listenDone = cancel, make(chan struct{})
	go s.listen(ctx, s.listenDone)
}

// stopListener stops the listener, if it runs, and waits for it.
func (s *Store) stopListener() {
	s.listenMu.Lock()
	s.closed = true
	cancel, done := s.stopListen, s.listenDone
	s.listenMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// listen keeps a LISTEN connection until ctx ends, reconnecting with
// backoff whenever it breaks.
func (s *Store) listen(ctx context.Context, done chan struct{}) {
	defer close(done)
	backoff := listenMinBackoff
	for {
		connected, err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = listenMinBackoff
		}
		s.log.Warn("postgis: change listener disconnected; reconnecting", "in", backoff, "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenSQL subscribes the session to the changes channel.
const listenSQL = `LISTEN ` + changesChannel

// listenOnce connects, LISTENs and signals every subscriber — changes may
// have committed while no connection listened, and subscribers find them
// with Changes — then signals them after every notification until the
// connection fails or ctx ends. It reports whether it got as far as
// listening.
func (s *Store) listenOnce(ctx context.Context) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenCloseTimeout)
		defer cancel()
		conn.Close(cctx) //nolint:errcheck // the connection is being dropped either way
	}()
	if _, err := conn.Exec(ctx, listenSQL); err != nil {
		return false, err
	}
	s.log.Debug("postgis: listening for changes")
	s.versions.setLive(true)
	defer s.versions.setLive(false)
	s.notifier.Notify()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPingInterval)
		_, err := conn.WaitForNotification(wctx)
		quiet := wctx.Err() != nil
		cancel()
		switch {
		case err == nil:
			s.versions.invalidate()
			s.notifier.Notify()
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case quiet && !conn.IsClosed():
			// No notification for a while: check that the connection
			// is alive. A notification that arrives meanwhile is kept
			// by pgx for the next WaitForNotification.
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
		}
		return true, errors.Join(errors.New("listening connection lost"), err)
	}
}
