package postgis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"hazardmap/migrations"
)

// versionTable is where tern records which migrations have run.
const versionTable = "public.schema_version"

// closeTimeout bounds closing the migration connection after ctx is done.
const closeTimeout = 5 * time.Second

// Migrate brings the database schema up to date with the embedded
// migrations (hazardmap/migrations), then checks that every Filterable
// property of geo.Schemas() has its column. It is safe to run from several
// instances at once and to run again: tern takes a session-level
// pg_advisory_lock (a fixed key, per database) both while it creates its
// version table and around reading the version and applying the pending
// migrations, so a second instance waits, then finds nothing to do.
//
// It runs on a connection of its own rather than one of the pool: the
// advisory lock belongs to the session, and closing the connection
// releases it even when tern could not unlock (its context ran out
// mid-migration), so no pooled connection can go on holding it.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return fail(err, "postgis: migrate: connect")
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		conn.Close(cctx) //nolint:errcheck // closing the socket releases the session's lock anyway
	}()
	m, err := newMigrator(ctx, conn)
	if err != nil {
		return fail(err, "postgis: migrate")
	}
	m.OnStart = func(seq int32, name, direction, _ string) {
		s.log.Info("postgis: migrating", "sequence", seq, "name", name, "direction", direction)
	}
	if err := m.Migrate(ctx); err != nil {
		return fail(err, "postgis: migrate")
	}
	if err := s.checkColumns(ctx, conn); err != nil {
		return fail(err, "postgis: migrate: check columns")
	}
	if err := s.fillDocuments(ctx, conn); err != nil {
		return fail(err, "postgis: migrate: store the GeoJSON of features")
	}
	v, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fail(err, "postgis: migrate: read version")
	}
	s.log.Info("postgis: schema up to date", "version", v)
	return nil
}

// newMigrator returns a tern Migrator on conn with the embedded migrations
// loaded. Creating it takes tern's advisory lock while the version table
// is created, if it is missing.
func newMigrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return nil, fmt.Errorf("version table: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS()); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return m, nil
}

// Statements of checkColumns: whether a table exists, and its generated
// columns with their types.
const (
	tableExistsSQL = `SELECT to_regclass($1) IS NOT NULL`
	columnsSQL     = `
SELECT column_name::text, data_type::text
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'ALWAYS'`
)

// checkColumns reports a collection of geo.Schemas() with no table, or a
// Filterable scalar property with no generated column of its type: the
// migrations have fallen behind geo, and filters on it would fail.
func (s *Store) checkColumns(ctx context.Context, conn *pgx.Conn) error {
	var problems []string
	for _, c := range s.order {
		t := s.tables[c]
		var exists bool
		if err := conn.QueryRow(ctx, tableExistsSQL, t.ident).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			problems = append(problems, c+" (no table)")
			continue
		}
		rows, err := conn.Query(ctx, columnsSQL, c)
		if err != nil {
			return err
		}
		cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Name, Type string }])
		if err != nil {
			return err
		}
		have := make(map[string]string, len(cols))
		for _, col := range cols {
			have[col.Name] = col.Type
		}
		for _, p := range t.schema.Properties {
			want := columnType(p.Type)
			if !p.Filterable || want == "" {
				continue
			}
			if got := have[p.Name]; got != want {
				problems = append(problems, fmt.Sprintf("%s.%s (want a generated %s column, have %q)", c, p.Name, want, got))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("geo.Schemas() and the database disagree, a migration is missing for: %s", strings.Join(problems, ", "))
	}
	return nil
}
