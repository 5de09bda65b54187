package api

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
)

var (
	waterSSE      = flag.Int("water-sse", 0, "TestReadingToSSE: readings to post, alternately opening and resolving an alert (0 skips the run)")
	waterSSEStore = flag.String("water-sse-store", "embedded", "TestReadingToSSE: embedded, or postgis (needs DATABASE_URL)")
)

// TestReadingToSSE measures the delay from a reading's arrival over HTTP
// to its alert on an event stream: a sensor posts readings to a gauge
// alternately 0.15 m over its flood limit (an alert opens in that
// request) and 0.10 m under it (beyond the deadband: it resolves), and a
// client of /events times each alert event from the moment the POST was
// sent. Real HTTP on loopback, the real store; not in the default run:
//
//	go test ./api -run TestReadingToSSE -water-sse 200 -v
//	scripts/with-postgis go test ./api -run TestReadingToSSE -water-sse 200 -water-sse-store postgis -v
func TestReadingToSSE(t *testing.T) {
	if *waterSSE == 0 {
		t.Skip("set -water-sse N to measure")
	}
	var st geo.Store
	switch *waterSSEStore {
	case "embedded":
		s, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		st = s
	case "postgis":
		st = OpenPostGIS(t)
	default:
		t.Fatalf("-water-sse-store %q: embedded or postgis", *waterSSEStore)
	}
	e := newEnv(t, st, Options{WritesPerMinute: 1 << 30})
	const limit = 149.5
	if r := e.do(geo.RolePlanner, http.MethodPost, "/collections/gauges/items", `{"type":"Feature","id":"g","geometry":null,"properties":{"name":"饮马坑水库",
		"kind":"reservoir","location_source":"load test","flood_limits":[{"start":"01-01","end":"12-31","level":149.5,"period":"main"}]}}`,
		"Content-Type", typeGeoJSON); r.status != http.StatusCreated {
		t.Fatalf("create gauge = %d %s", r.status, r.body)
	}
	events := e.listen(geo.RolePublic, "")
	var delays []time.Duration
	start := time.Now().Add(-time.Duration(*waterSSE+1) * time.Minute)
	for i := range *waterSSE {
		level := limit + 0.15
		want := "open"
		if i%2 == 1 {
			level, want = limit-0.10, "resolve"
		}
		body := fmt.Sprintf(`{"level":%g,"at":%q}`, level, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339Nano))
		sent := time.Now()
		if r := e.do(geo.RoleSensor, http.MethodPost, "/collections/gauges/items/g/readings", body, "Content-Type", typeJSON); r.status != http.StatusCreated {
			t.Fatalf("reading %d = %d %s", i, r.status, r.body)
		}
		for {
			m := events.next(t, 30*time.Second)
			var d map[string]any
			_ = json.Unmarshal([]byte(m.data), &d)
			if d["collection"] == geo.AlertsCollection {
				if d["action"] != want {
					t.Fatalf("reading %d: event %v, want %s", i, d, want)
				}
				delays = append(delays, time.Since(sent))
				break
			}
		}
	}
	slices.Sort(delays)
	q := func(p float64) time.Duration { return delays[min(len(delays)-1, int(p*float64(len(delays))))] }
	var b strings.Builder
	fmt.Fprintf(&b, "store %s, %d readings: reading POST → alert event on /events p50 %v, p90 %v, p99 %v, max %v",
		*waterSSEStore, len(delays), q(0.5).Round(10*time.Microsecond), q(0.9).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), delays[len(delays)-1].Round(10*time.Microsecond))
	t.Log(b.String())
}
