// Package postgis is the geo.Store on PostgreSQL with PostGIS, the system
// of record that many API instances share.
//
// Each collection of geo.Schemas() is a table of the same name (see
// hazardmap/migrations): id, version, geom (geometry(Geometry,4326), NULL
// when unlocated), properties (jsonb), updated, and a STORED generated
// column for every Filterable scalar property. The row of the collection
// in collection_state carries the collection's version and seeded flag.
//
// Every exported method runs in one transaction. Every write first locks
// and bumps the collection's state row, so the writes to one collection are
// serialized, and a failed write (Invalid, NotFound, Conflict) rolls the
// bump back with everything else. Its last step appends its audit entries
// (migrations/002): it takes the single change_counter row, so that audit
// seqs are assigned in commit order across the whole database, and queues
// a NOTIFY on hazardmap_changes, which PostgreSQL delivers at commit to
// every store that listens (Subscribe), and records the answer of an
// idempotent write (idempotency.go). Every write locks rows in one
// order — state, features, change_counter — so none can deadlock. Reads
// run in a read-only REPEATABLE READ transaction: a View (Read) is one such
// transaction, so everything read through it agrees.
//
// Values always travel as $n parameters. Table and column names come only
// from geo.Schemas(), never from a request, and are quoted with
// pgx.Identifier.
//
// Errors that mean the database cannot be reached are geo.Unavailable (see
// errors.go); the pool replaces broken connections by itself, so the store
// recovers when the database returns without being reopened.
package postgis

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"

	"hazardmap/geo"
)

// Pool settings. Each is a bound on how long a request or a probe can be
// held up by a database that is gone, and on how soon the pool notices.
const (
	// connectTimeout bounds one connection attempt (TCP, TLS and startup).
	// Without it a database host that drops packets holds each attempt for
	// the operating system's TCP timeout (minutes), and /readyz and every
	// request with no shorter deadline hang for as long. A connect_timeout
	// in the URL takes precedence.
	connectTimeout = 5 * time.Second
	// healthCheckPeriod is how often idle connections are checked, so that
	// connections broken while the database was away are dropped before a
	// request picks them up.
	healthCheckPeriod = 5 * time.Second
	// pingTimeout bounds the liveness ping of a connection that has been
	// idle for a while before it is handed out, leaving the caller time to
	// get another connection when that one turns out to be dead.
	pingTimeout = 2 * time.Second
	// readBuffer is the size of each connection's read buffer.
	readBuffer = 256 << 10
)

// PoolSize returns the connections a Store's pool holds at most unless
// its database URL says otherwise (pool_max_conns): four for each core
// the process may use (GOMAXPROCS), at least 8. A read holds a connection
// for its whole View, while PostgreSQL works and while Go waits for it;
// the API lets at most one large build per core run at once (api.Limits),
// so three connections per core are always left for the cheap requests a
// storm brings (a layer a phone reloads, /readyz), which a pool of
// max(4, cores), pgxpool's default, did not leave. The change listener
// holds one connection more, outside the pool. With several instances on
// one database, their pools together must stay below the server's
// max_connections (100 by default).
func PoolSize() int { return max(8, 4*runtime.GOMAXPROCS(0)) }

// Store is a geo.Store on PostGIS. It is safe for concurrent use.
type Store struct {
	pool   checkedPool // check.go: statements check their arguments
	log    *slog.Logger
	tables map[string]*table
	order  []string

	// notifier fans the listener's signals out to subscribers.
	notifier geo.Notifier
	// versions answers Version from memory while the listener keeps it
	// current (version.go).
	versions versions
	// listenMu guards the listener's lifecycle (see startListener).
	listenMu   sync.Mutex
	closed     bool
	stopListen context.CancelFunc
	listenDone chan struct{}
}

var _ geo.Store = (*Store)(nil)

// Open returns a Store on the database at databaseURL (a postgres:// URL or
// a key=value connection string). It does not connect: a database that is
// down makes Ping and every method return geo.Unavailable errors until it
// is back. It does not migrate either; call Migrate. A nil logger logs
// nothing.
func Open(ctx context.Context, databaseURL string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("postgis: parse database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = int32(PoolSize())
	}
	cfg.HealthCheckPeriod = healthCheckPeriod
	cfg.PingTimeout = pingTimeout
	// pgx reads messages through a buffer of 8 KiB: a page of features
	// (half a megabyte of GeoJSON) would take a read system call per
	// 8 KiB. A larger buffer in front takes what has arrived at once.
	cfg.ConnConfig.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBuffer), w)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hazardmap"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: create pool: %w", err)
	}
	s := &Store{pool: checkedPool{pool}, log: logger, tables: map[string]*table{}}
	for _, sc := range geo.Schemas() {
		s.tables[sc.ID] = newTable(sc)
		s.order = append(s.order, sc.ID)
	}
	logger.Debug("postgis: pool ready", "host", cfg.ConnConfig.Host, "port", cfg.ConnConfig.Port,
		"database", cfg.ConnConfig.Database, "max_conns", cfg.MaxConns)
	return s, nil
}

// Close stops the change listener, closes every subscription and every
// connection of the pool. The Store cannot be used afterwards.
func (s *Store) Close() error {
	s.stopListener()
	s.notifier.Close()
	s.pool.Close()
	return nil
}

// Ping checks that a connection can be had and the database answers; any
// failure is a geo.Unavailable error.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return &geo.Error{Kind: geo.Unavailable, Message: "database unavailable", Err: fmt.Errorf("postgis: ping: %w", err)}
	}
	return nil
}

// table returns the table of collection c, or a NotFound error.
func (s *Store) table(c string) (*table, error) {
	t, ok := s.tables[c]
	if !ok {
		return nil, geo.Errorf(geo.NotFound, "no collection %q", c)
	}
	return t, nil
}

// read runs fn in a read-only REPEATABLE READ transaction, so that every
// statement of fn sees the same snapshot (a page and its total agree).
//
// Its statements are not cancelled when ctx is (a client hanging up):
// they run to their end, at most readBound (or ctx's own deadline when
// sooner), and their answer is dropped. Cancelling a statement sends
// PostgreSQL a cancel request, which interrupts the backend with SIGINT;
// with PostGIS 3.3 and GEOS 3.11 (Debian 12) a cancel that lands inside a
// spatial query can abort the backend ("malloc assertion failure in
// sysmalloc", signal 6), and PostgreSQL then restarts every backend of the
// server: one phone losing its signal mid-page would take the database
// down for every client. scripts/bench-wrk's abort run (after its cold
// run) did so in each of three runs before this. Waiting for a free
// connection still ends with ctx, as no statement is running then.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// readBound bounds a read transaction whose caller has gone (see read):
// the longest read, a reach report over 100 000 hazards, takes about a
// second; a database that hangs must not hold a connection for ever.
const readBound = time.Minute

// write runs fn in a READ COMMITTED read-write transaction. fn starts by
// locking the collection's state row (see bump), which serializes writes.
// Once it has ended, committed or not (a commit whose answer was lost may
// have committed), the versions this store remembers are dropped, so the
// next Version asks the database: a client reads its own write at once.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	defer s.versions.invalidate()
	return s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, fn)
}

// inTx runs fn in one transaction: begin, deferred rollback (a no-op once
// committed; on a dead connection pgx discards the connection), commit if
// fn succeeds. A read-only transaction's statements run under
// geo.OutliveCaller (see read).
func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Release()
	var stmt context.Context
	if opts.AccessMode == pgx.ReadOnly {
		var cancel context.CancelFunc
		stmt, cancel = geo.OutliveCaller(ctx, readBound)
		defer cancel()
		ctx = stmt
	}
	raw, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := checkedTx{raw, stmt}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it only reports ErrTxClosed
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
