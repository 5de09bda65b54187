package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/httprate"
)

// This file limits the writes of each token: a crew reporting every few
// minutes, or a planner editing by hand, stays far below the limit; a
// runaway script does not.

// DefaultWritesPerMinute is the per-token write rate hazardmap serve
// uses unless told otherwise: a crew reporting every few minutes, or a
// planner editing by hand, stays far below it; a runaway script does not.
const DefaultWritesPerMinute = 60

// newLimiter returns the per-token write limiter of Options, or nil when
// it is off. Its counters live in this instance's memory: with n
// instances behind a balancer a token may write up to n times the rate.
func (s *Server) newLimiter() *httprate.RateLimiter {
	n := s.opts.WritesPerMinute
	if n <= 0 {
		return nil
	}
	return httprate.NewRateLimiter(n, time.Minute,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) { return authOf(r.Context()).actor.ID, nil }),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, errTooManyRequests(w.Header().Get("Retry-After")))
		}),
		httprate.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			s.fail(w, r, fmt.Errorf("api: rate limit: %w", err))
		}),
	)
}
