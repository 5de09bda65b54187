// Package pgtest gives each test its own PostGIS database on the server
// that DATABASE_URL names (scripts/with-postgis starts a throwaway one).
// Without DATABASE_URL the test is skipped, unless CI is set: under CI a
// missing database is a failure, never a silent skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// adminTimeout bounds CREATE/DROP DATABASE so a hung server fails the
// test instead of hanging it.
const adminTimeout = 60 * time.Second

// URL returns the DATABASE_URL of the test server, skipping or failing t
// when there is none.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("DATABASE_URL is not set under CI: run the tests through scripts/with-postgis")
		}
		t.Skip("DATABASE_URL is not set; run through scripts/with-postgis to include PostGIS")
	}
	return u
}

// NewDatabase creates an empty database with PostGIS for t, drops it when
// t ends, and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := URL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hm_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", redact(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		// A key=value connection string: append the database name.
		return admin + " dbname=" + name
	}
	u.Path = "/" + name
	db, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", name, err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		t.Fatalf("pgtest: create extension postgis in %s: %v", name, err)
	}
	return u.String()
}

func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("want a postgres:// URL, got %s", redact(s))
	}
	return u, nil
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}
