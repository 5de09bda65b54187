package api

import (
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/notify"
)

// TestCAPFeedBeforeAnyAlert: while no alert has ever been raised, the
// Atom feed's updated is when the server began publishing it (the alert
// engine's clock at start, to the second), not the zero time
// 0001-01-01T00:00:00Z: RFC 4287 §4.2.15 makes updated the last instant
// the feed changed in a way the publisher considers significant, and an
// empty feed has been what it is since then. Last-Modified says the same,
// and a later request, with the clock moved on, gets the same bytes (so a
// poller's If-None-Match and If-Modified-Since keep answering 304).
func TestCAPFeedBeforeAnyAlert(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		start := time.Date(2024, 7, 20, 6, 30, 15, 500_000_000, geo.ChinaTime)
		clk := &waterClock{t: start}
		e := newEnv(t, st, Options{Alerts: notify.New(st, notify.Options{Now: clk.Now})})
		r := e.do(geo.RolePublic, http.MethodGet, capFeedRoute, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d\n%s", capFeedRoute, r.status, r.body)
		}
		var feed atomFeed
		if err := xml.Unmarshal(r.body, &feed); err != nil {
			t.Fatalf("the feed is not Atom: %v\n%s", err, r.body)
		}
		want := start.Truncate(time.Second)
		if feed.Updated != want.UTC().Format(time.RFC3339) || len(feed.Entries) != 0 {
			t.Errorf("feed updated %q with %d entries, want %s and none", feed.Updated, len(feed.Entries), want.UTC().Format(time.RFC3339))
		}
		if lm := r.header.Get("Last-Modified"); lm != want.UTC().Format(http.TimeFormat) {
			t.Errorf("Last-Modified %q, want %q", lm, want.UTC().Format(http.TimeFormat))
		}
		clk.Set(start.Add(time.Hour))
		again := e.do(geo.RolePublic, http.MethodGet, capFeedRoute, "")
		if string(again.body) != string(r.body) {
			t.Errorf("an hour later, with no alert, the feed changed:\n%s\nthen\n%s", r.body, again.body)
		}
		if c := e.do(geo.RolePublic, http.MethodGet, capFeedRoute, "", "If-Modified-Since", r.header.Get("Last-Modified")); c.status != http.StatusNotModified {
			t.Errorf("GET with If-Modified-Since = %d, want 304", c.status)
		}
	})
}
