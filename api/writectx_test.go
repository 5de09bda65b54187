package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hazardmap/geo"
)

// TestWriteOutlivesItsClient: a write the server has begun runs to its
// end under a context its client's going away does not cancel, with and
// without an Idempotency-Key; only the request's own deadline ends it.
func TestWriteOutlivesItsClient(t *testing.T) {
	s := NewServer(OpenFixtureStore(t), Options{})
	for _, key := range []string{"", `"client-left-1"`} {
		ctx, leave := context.WithCancel(geo.WithActor(context.Background(), geo.Actor{ID: "tok-crew", Name: "城建局一队", Role: geo.RoleCrew}))
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/collections/waterlogging_points/items/x/observations", strings.NewReader("{}"))
		if key != "" {
			r.Header.Set(headerIdempotencyKey, key)
		}
		var during error
		s.commit(httptest.NewRecorder(), r, writeOp{body: []byte("{}"),
			write: func(ctx context.Context) (geo.WriteResult, error) {
				leave() // the phone loses its signal mid-write
				during = ctx.Err()
				return geo.WriteResult{}, nil
			},
			respond: func(geo.WriteResult) (geo.StoredResponse, error) {
				return geo.StoredResponse{Status: http.StatusNoContent}, nil
			}})
		if during != nil {
			t.Errorf("key %q: the write's context ended with its client: %v", key, during)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	wctx, stop := geo.OutliveCaller(ctx, writeBound)
	defer stop()
	if wctx.Err() == nil {
		t.Error("a write past its request's deadline was not ended")
	}
}
