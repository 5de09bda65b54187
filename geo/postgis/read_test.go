package postgis

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hazardmap/geo/postgis/pgtest"
)

// TestReadOutlivesItsCaller: a read whose caller goes away (a client
// hanging up) runs its statements to their end rather than cancelling
// them, since a cancel request that lands in a spatial query can abort
// the backend and with it the whole server (see read); a write still ends
// with its caller, and a read still ends at its caller's deadline.
func TestReadOutlivesItsCaller(t *testing.T) {
	s := openStore(t, pgtest.NewDatabase(t))
	sleep := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SELECT pg_sleep(0.3)")
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := s.read(ctx, func(tx pgx.Tx) error { return sleep(ctx, tx) }); err != nil {
		t.Errorf("a read whose caller went away mid-statement: %v, want its statement run to the end", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.read(ctx, func(tx pgx.Tx) error { return sleep(ctx, tx) }); err == nil {
		t.Error("a read past its caller's deadline succeeded, want it ended at the deadline")
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := s.read(ctx, func(tx pgx.Tx) error { return sleep(ctx, tx) }); err == nil {
		t.Error("a read whose caller had gone before it began ran, want it refused at once")
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := s.write(ctx, func(tx pgx.Tx) error { return sleep(ctx, tx) }); err == nil {
		t.Error("a write whose caller went away mid-statement committed, want it ended with its caller")
	}
}
