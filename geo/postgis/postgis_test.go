package postgis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/postgis/pgtest"
	"hazardmap/geo/storetest"
	"hazardmap/migrations"
)

// Each test gets a database of its own (pgtest.NewDatabase), so tests run
// in parallel and leave nothing behind.

// openStore opens a Store on databaseURL, closed when the test ends.
func openStore(t *testing.T, databaseURL string) *Store {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Cap each test store's pool, so that many parallel tests stay under
	// the server's max_connections (pgxpool reads and removes the key).
	if u, err := url.Parse(databaseURL); err == nil {
		q := u.Query()
		q.Set("pool_max_conns", "6")
		u.RawQuery = q.Encode()
		databaseURL = u.String()
	}
	s, err := Open(context.Background(), databaseURL, logger)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustMigrate(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate = %v", err)
	}
}

// openFresh returns a migrated Store on a new, empty database.
func openFresh(t *testing.T) geo.Store {
	t.Helper()
	s := openStore(t, pgtest.NewDatabase(t))
	mustMigrate(t, s)
	return s
}

// reopen closes s and opens its database again, as a restarted process
// would (which migrates first).
func reopen(t *testing.T, s geo.Store) geo.Store {
	t.Helper()
	databaseURL := s.(*Store).pool.Config().ConnString()
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	r := openStore(t, databaseURL)
	mustMigrate(t, r)
	return r
}

func TestConformance(t *testing.T) {
	pgtest.URL(t)
	storetest.Run(t, openFresh, reopen)
}

// Fixtures.

func depot(id string, g orb.Geometry, township string) *geo.Feature {
	return &geo.Feature{ID: id, Geometry: g, Properties: map[string]any{
		"name":            "测试仓库 " + id,
		"township":        township,
		"level":           "village",
		"floor":           1.0,
		"damp":            true,
		"categories":      []any{"flood"},
		"location_source": "postgis test fixture",
	}}
}

// features reads the features of c matching q from a View of their own.
func features(s geo.Store, c string, q geo.Query) (fs []*geo.Feature, n int, err error) {
	err = s.Read(context.Background(), func(v geo.View) error {
		fs, n, err = v.Features(context.Background(), c, q)
		return err
	})
	return fs, n, err
}

func wantKind(t *testing.T, what string, err error, k geo.Kind) {
	t.Helper()
	if got := geo.KindOf(err); err == nil || got != k {
		t.Errorf("%s = %v (kind %v), want kind %v", what, err, got, k)
	}
}

func schemaVersion(t *testing.T, s *Store) int32 {
	t.Helper()
	var v int32
	if err := s.pool.QueryRow(context.Background(), "SELECT version FROM "+versionTable).Scan(&v); err != nil {
		t.Fatalf("read %s: %v", versionTable, err)
	}
	return v
}

func migrationCount(t *testing.T) int32 {
	t.Helper()
	names, err := fs.Glob(migrations.FS(), "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migration files: %v, %v", names, err)
	}
	return int32(len(names))
}

// Migrations.

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	s := openStore(t, pgtest.NewDatabase(t))
	mustMigrate(t, s)
	mustMigrate(t, s)
	if got, want := schemaVersion(t, s), migrationCount(t); got != want {
		t.Errorf("schema version after two Migrate = %d, want %d", got, want)
	}
	var infos []geo.CollectionInfo
	err := s.Read(context.Background(), func(v geo.View) (err error) {
		infos, err = v.Collections(context.Background())
		return err
	})
	if err != nil || len(infos) != len(geo.Schemas()) {
		t.Errorf("Collections after Migrate = %v, %v", infos, err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	databaseURL := pgtest.NewDatabase(t)
	const instances = 4
	stores := make([]*Store, instances)
	for i := range stores {
		stores[i] = openStore(t, databaseURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := make(chan struct{})
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: Migrate = %v", i, err)
		}
	}
	if got, want := schemaVersion(t, stores[0]), migrationCount(t); got != want {
		t.Errorf("schema version = %d, want %d", got, want)
	}
}

func TestMigrateFindsMissingColumn(t *testing.T) {
	t.Parallel()
	s := openFresh(t).(*Store)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `ALTER TABLE depots DROP COLUMN floor`); err != nil {
		t.Fatal(err)
	}
	err := s.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "depots.floor") {
		t.Errorf("Migrate with depots.floor dropped = %v, want an error naming depots.floor", err)
	}
}

func TestMigrationsDown(t *testing.T) {
	t.Parallel()
	s := openFresh(t).(*Store)
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	m, err := newMigrator(ctx, conn.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, 0); err != nil {
		t.Fatalf("MigrateTo(0) = %v", err)
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = ANY($1)`,
		[]string{"depots", "relocation_sites", "waterlogging_points", "collection_state",
			"change_counter", "audit", "observations", "tokens"}).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("after migrating down to 0: %d tables left, want 0", tables)
	}
	if err := m.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after down = %v", err)
	}
}

// Identifiers and values.

func TestInjectionIsJustData(t *testing.T) {
	t.Parallel()
	s := openFresh(t)
	ctx := context.Background()
	const evil = `'; DROP TABLE depots; --`
	f := depot("d1", orb.Point{113.4, 34.8}, evil)
	f.Properties["name"] = `x"); DELETE FROM collection_state; --`
	if err := s.Create(ctx, geo.Depots, f); err != nil {
		t.Fatalf("Create = %v", err)
	}
	for _, c := range []struct {
		filter geo.Filter
		want   []string
	}{
		{geo.Filter{Property: "township", Value: evil}, []string{"d1"}},
		{geo.Filter{Property: "level", Value: evil}, nil},
		{geo.Filter{Property: "categories", Value: evil}, nil},
		{geo.Filter{Property: "categories", Value: `flood"]}'::jsonb OR true --`}, nil},
	} {
		fs, n, err := features(s, geo.Depots, geo.Query{Filters: []geo.Filter{c.filter}})
		var got []string
		for _, f := range fs {
			got = append(got, f.ID)
		}
		if err != nil || !slices.Equal(got, c.want) || n != len(c.want) {
			t.Errorf("Features(%s = %q) = %v (total %d), %v; want %v", c.filter.Property, c.filter.Value, got, n, err, c.want)
		}
	}
	_, _, err := features(s, geo.Depots, geo.Query{Filters: []geo.Filter{{Property: evil, Value: "x"}}})
	wantKind(t, "Features(filter on property "+evil+")", err, geo.Invalid)
	_, err = s.Feature(ctx, geo.Depots, evil)
	wantKind(t, "Feature(evil id)", err, geo.NotFound)
	wantKind(t, "Delete(evil id)", s.Delete(ctx, geo.Depots, evil, 1), geo.NotFound)
	_, err = s.Patch(ctx, geo.Depots, evil, 1, geo.Patch{})
	wantKind(t, "Patch(evil id)", err, geo.NotFound)
	wantKind(t, "Create(evil id)", s.Create(ctx, geo.Depots, depot(evil, nil, "x")), geo.Invalid)
	for _, c := range []string{evil, `depots; DROP TABLE depots; --`, `depots"; DROP TABLE depots; --`} {
		err := s.Read(ctx, func(v geo.View) error {
			_, err := v.Collection(ctx, c)
			wantKind(t, "Collection("+c+")", err, geo.NotFound)
			_, err = v.Stamp(ctx, c)
			wantKind(t, "Stamp("+c+")", err, geo.NotFound)
			return nil
		})
		if err != nil {
			t.Fatalf("Read = %v", err)
		}
		_, _, err = features(s, c, geo.Query{})
		wantKind(t, "Features("+c+")", err, geo.NotFound)
	}
	got, err := s.Feature(ctx, geo.Depots, "d1")
	if err != nil {
		t.Fatalf("Feature(d1) = %v", err)
	}
	if got.Properties["township"] != evil || got.Properties["name"] != f.Properties["name"] {
		t.Errorf("stored values changed: %v", got.Properties)
	}
	err = s.Read(ctx, func(v geo.View) error {
		_, err := v.Collections(ctx)
		return err
	})
	if err != nil {
		t.Errorf("Collections after the attempts = %v", err)
	}
}

func TestNULIsInvalid(t *testing.T) {
	t.Parallel()
	s := openFresh(t)
	f := depot("d", nil, "a\x00b")
	err := s.Create(context.Background(), geo.Depots, f)
	wantKind(t, "Create(NUL in a string)", err, geo.Invalid)
	if e := geo.AsError(err); e == nil || len(e.Fields) != 1 || e.Fields[0].Field != "properties.township" {
		t.Errorf("Create(NUL) = %v, want a field error on properties.township", err)
	}
}

// TestQueriesUseIndexes checks that bbox, generated-column and string-list
// filters can be answered from the indexes of the migrations.
func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	s := openFresh(t).(*Store)
	ctx := context.Background()
	box := orb.Bound{Min: orb.Point{113.3, 34.7}, Max: orb.Point{113.5, 34.9}}
	cases := []struct {
		c     string
		q     geo.Query
		index string
	}{
		{geo.Depots, geo.Query{BBox: &box}, "depots_geom_idx"},
		{geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "categories", Value: "flood"}}}, "depots_properties_idx"},
		{geo.Depots, geo.Query{Filters: []geo.Filter{{Property: "floor", Value: 4.0}}}, "depots_floor_idx"},
		{geo.WaterloggingPoints, geo.Query{Filters: []geo.Filter{{Property: "status", Value: "closed"}}}, "waterlogging_points_status_idx"},
	}
	for _, c := range cases {
		sel, ok, err := s.tables[c.c].selection(c.q, docColumns()[0])
		if err != nil || !ok {
			t.Fatalf("selection(%+v) = %v, %v", c.q, ok, err)
		}
		err = s.read(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+sel.page, append(sel.pageArgs, c.c)...)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if plan := strings.Join(lines, "\n"); !strings.Contains(plan, c.index) {
				t.Errorf("plan of %s does not use %s:\n%s", sel.page, c.index, plan)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Errors.

// TestRefused: the server's errors about the data of a request are 4xx
// kinds (or Unavailable when it ran out of time), never Internal.
func TestRefused(t *testing.T) {
	for code, want := range map[string]geo.Kind{
		"22021": geo.Invalid, "22P05": geo.Invalid, "22003": geo.Invalid, "22P02": geo.Invalid, "23514": geo.Invalid,
		"54000": geo.Invalid, "23505": geo.Conflict, "57014": geo.Unavailable, "40001": geo.Unavailable, "53100": geo.Unavailable,
		"42P01": geo.Internal, "XX000": geo.Internal,
	} {
		err := fail(fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "secret value 13800138000"}), "postgis: test")
		if k := geo.KindOf(err); k != want {
			t.Errorf("fail(SQLSTATE %s) is %v, want %v", code, k, want)
		}
		if e := geo.AsError(err); e != nil && strings.Contains(e.Message, "13800138000") {
			t.Errorf("fail(SQLSTATE %s) tells the client the server's text: %s", code, e.Message)
		}
	}
	if err := checkArgs([]any{"ok", 1, []byte{0, 0xff}, []string{"a", "b\x00"}}); geo.KindOf(err) != geo.Invalid {
		t.Errorf("checkArgs(a []string holding NUL) = %v, want Invalid", err)
	}
}

func TestUnreachable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "08001"}, true},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "57P02"}, true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "42P01"}, false},
		{&pgconn.PgError{Code: "57014"}, false}, // query_canceled: statement_timeout
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("write: %w", syscall.EPIPE), true},
		{pgconn.ErrConnClosed, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.Canceled), false},
		{errors.New("postgis: something else"), false},
	}
	for _, c := range cases {
		if got := unreachable(c.err); got != c.want {
			t.Errorf("unreachable(%v) = %v, want %v", c.err, got, c.want)
		}
		if _, _, ok := refused(c.err); ok {
			continue // TestRefused
		}
		err := fail(c.err, "postgis: test %s", "op")
		if got := geo.KindOf(err) == geo.Unavailable; got != c.want {
			t.Errorf("fail(%v) = %v (kind %v), want unavailable %v", c.err, err, geo.KindOf(err), c.want)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("fail(%v) = %v, does not wrap the cause", c.err, err)
		}
	}
	invalid := geo.InvalidField("x", "bad")
	if got := fail(invalid, "postgis: test"); got != error(invalid) {
		t.Errorf("fail(*geo.Error) = %v, want it unchanged", got)
	}
}

func TestOpenDoesNotConnect(t *testing.T) {
	t.Parallel()
	// Nothing listens on this port: Open succeeds, Ping says Unavailable.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := Open(context.Background(), "postgres://nobody@"+addr+"/none?sslmode=disable", nil)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	wantKind(t, "Ping(no server)", s.Ping(ctx), geo.Unavailable)
	wantKind(t, "Read(no server)", s.Read(ctx, func(geo.View) error { return nil }), geo.Unavailable)
	wantKind(t, "Migrate(no server)", s.Migrate(ctx), geo.Unavailable)
}

// The outage test puts a TCP proxy (pgtest.Proxy) between the Store and
// PostgreSQL.

func TestOutage(t *testing.T) {
	t.Parallel()
	databaseURL := pgtest.NewDatabase(t)
	p := pgtest.StartProxy(t, pgtest.Target(t, databaseURL))
	s := openStore(t, p.Through(t, databaseURL))
	mustMigrate(t, s)
	bg := context.Background()
	if err := s.Create(bg, geo.Depots, depot("d1", orb.Point{113.4, 34.8}, "豫龙镇")); err != nil {
		t.Fatalf("Create before the outage = %v", err)
	}

	ops := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Ping", s.Ping},
		{"Features", func(ctx context.Context) error {
			return s.Read(ctx, func(v geo.View) error { _, _, err := v.Features(ctx, geo.Depots, geo.Query{}); return err })
		}},
		{"Feature", func(ctx context.Context) error { _, err := s.Feature(ctx, geo.Depots, "d1"); return err }},
		{"Collections", func(ctx context.Context) error {
			return s.Read(ctx, func(v geo.View) error { _, err := v.Collections(ctx); return err })
		}},
		{"Version", func(ctx context.Context) error { _, err := s.Version(ctx, geo.Depots); return err }},
		{"Create", func(ctx context.Context) error { return s.Create(ctx, geo.Depots, depot("", nil, "x")) }},
		{"Patch", func(ctx context.Context) error {
			_, err := s.Patch(ctx, geo.Depots, "d1", 1, geo.Patch{Properties: map[string]any{"floor": 4.0}})
			return err
		}},
	}
	// unavailable checks that every operation fails as Unavailable within
	// its deadline (plus slack for the race detector), and never panics.
	unavailable := func(phase string, deadline time.Duration) {
		t.Helper()
		for _, op := range ops {
			ctx, cancel := context.WithTimeout(bg, deadline)
			start := time.Now()
			err := op.run(ctx)
			took := time.Since(start)
			cancel()
			if k := geo.KindOf(err); err == nil || k != geo.Unavailable {
				t.Errorf("%s: %s = %v (kind %v), want an Unavailable error", phase, op.name, err, k)
			}
			t.Logf("%s: %s failed in %v: %v", phase, op.name, took.Round(time.Millisecond), err)
			if took > deadline+2*time.Second {
				t.Errorf("%s: %s took %v, want at most its %v deadline", phase, op.name, took, deadline)
			}
		}
	}

	p.Off()
	unavailable("proxy off", 3*time.Second)
	unavailable("proxy still off", 3*time.Second) // broken pooled connections are gone by now
	p.On(t, true)
	unavailable("proxy hanging", time.Second)
	p.Off()
	p.On(t, false)

	// The pool recovers by itself: no reopening, only retries.
	deadline := time.Now().Add(30 * time.Second)
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(bg, 2*time.Second)
		err := s.Ping(ctx)
		cancel()
		if err == nil {
			t.Logf("Ping succeeded on attempt %d after the proxy came back", attempt)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping still failing 30 s after the database came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // pacing between attempts, not an assertion
	}
	fs, n, err := features(s, geo.Depots, geo.Query{})
	if err != nil || n != 1 || fs[0].ID != "d1" || fs[0].Version != 1 {
		t.Errorf("Features after the outage = %v, %d, %v; want [d1] at version 1 (nothing written while down)", fs, n, err)
	}
	if _, err := s.Patch(bg, geo.Depots, "d1", 1, geo.Patch{Properties: map[string]any{"floor": 4.0}}); err != nil {
		t.Errorf("Patch after the outage = %v", err)
	}
}

// BenchmarkReports: a status report plain, with an Idempotency-Key, and
// replayed (scripts/with-postgis go test ./geo/postgis -run '^$' -bench
// Reports -benchmem).
func BenchmarkReports(b *testing.B) {
	storetest.BenchmarkReports(b, openMigrated(b))
}

// BenchmarkBBoxPages: random 0.06° boxes, pages of 1000, over 100 000
// points (scripts/with-postgis go test ./geo/postgis -run '^$' -bench
// BBoxPages -benchmem); the import takes a few seconds first.
func BenchmarkBBoxPages(b *testing.B) {
	s := openMigrated(b)
	storetest.LoadSynthetic(b, s, 100000)
	storetest.BenchmarkBBoxPages(b, s)
}
