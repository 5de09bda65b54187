package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// BenchmarkReports measures a crew's status report on s, which must be
// empty: plain, and with an Idempotency-Key (claim, the write with its
// answer, release), so that the cost of exactly-once is a ratio measured
// in the same run; and a replay (a retry of a report that arrived).
func BenchmarkReports(b *testing.B, s geo.Store) {
	ctx := geo.WithActor(context.Background(), geo.Actor{ID: "tok-crew-1", Name: "城建局一队", Role: geo.RoleCrew})
	if err := s.Create(ctx, geo.WaterloggingPoints, point("p", orb.Point{113.4, 34.8}, nil)); err != nil {
		b.Fatal(err)
	}
	observe := func(ctx context.Context) error {
		_, _, err := s.AddObservation(ctx, "p", 0, report(25, geo.ObservationPonding))
		return err
	}
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := observe(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	n := 0
	b.Run("idempotent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n++
			out, _, err := geo.Idempotently(ctx, s, fmt.Sprintf("bench-%d", n), fingerprint("a"), time.Now(), answer, observe)
			if err != nil || out != geo.IdempotencyClaimed {
				b.Fatal(out, err)
			}
		}
	})
	b.Run("replay", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, _, err := geo.Idempotently(ctx, s, "bench-1", fingerprint("a"), time.Now(), answer, observe)
			if err != nil || out != geo.IdempotencyReplay {
				b.Fatal(out, err)
			}
		}
	})
}
