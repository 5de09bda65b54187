package geo

import (
	"context"
	"time"
)

// OutliveCaller returns a context for work that must run to its end once
// begun, even when its caller goes away (a client hanging up): ctx's
// values and deadline, not its cancellation, and at most bound from now.
// Its users: a PostGIS read (a cancel request that lands inside a spatial
// query can abort the database backend; see geo/postgis) and an HTTP write
// (its answer is kept under the Idempotency-Key for the retry).
func OutliveCaller(ctx context.Context, bound time.Duration) (context.Context, context.CancelFunc) {
	end := time.Now().Add(bound)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	return context.WithDeadline(context.WithoutCancel(ctx), end)
}
