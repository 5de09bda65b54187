package api_test

import (
	"context"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/postgis"
	"hazardmap/geo/postgis/pgtest"
)

// openPostGIS returns a migrated PostGIS store on a database of its own,
// created from DATABASE_URL and dropped (WITH (FORCE)) when t ends. With
// no DATABASE_URL it skips t, or fails it under CI (see pgtest.URL).
func openPostGIS(t testing.TB) geo.Store {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := postgis.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatalf("postgis.Open = %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate = %v", err)
	}
	return st
}
