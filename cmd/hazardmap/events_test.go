package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"hazardmap/geo/postgis/pgtest"
)

// event is one SSE message.
type event struct{ id, event, data string }

// openEvents opens GET base/events (resuming after lastID when set) and
// returns its messages, the ready event first.
func openEvents(t *testing.T, base, lastID string) (<-chan event, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("GET %s/events = %v %v", base, res, err)
	}
	ch := make(chan event, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var e event
		for sc.Scan() {
			line := sc.Text()
			k, v, _ := strings.Cut(line, ": ")
			switch {
			case line == "":
				if e != (event{}) {
					ch <- e
				}
				e = event{}
			case k == "id":
				e.id = v
			case k == "event":
				e.event = v
			case k == "data":
				e.data = v
			}
		}
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return ch, stop
}

// waitEvent returns the next event other than ready within timeout.
func waitEvent(t *testing.T, ch <-chan event, timeout time.Duration) event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatal("the event stream ended")
			}
			if e.event != "ready" {
				return e
			}
		case <-deadline:
			t.Fatalf("no event within %s", timeout)
		}
	}
}

// post sends a status report to base as the holder of secret.
func post(t *testing.T, base, secret, id, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/collections/waterlogging_points/items/"+id+"/observations", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("report to %s = %d %s", base, res.StatusCode, b)
	}
}

// TestEventsAcrossInstances runs two `hazardmap serve` on one PostGIS: a
// crew's report posted to the first reaches an event-stream client of
// the second (LISTEN/NOTIFY), and the second serves the new status; a
// client of the second that reconnects with Last-Event-ID gets what it
// missed.
func TestEventsAcrossInstances(t *testing.T) {
	url := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": url}
	secret, _ := createToken(t, env, "--role", "crew", "--name", "城建局一队")
	a, _ := start(t, env)
	b, _ := start(t, env)

	events, stop := openEvents(t, b, "")
	// 陇海路 × 荥泽大道 underpass: 40 cm, road closed.
	sent := time.Now()
	post(t, a, secret, "wp-underpass-xingze", `{"depth_cm":40,"status":"closed","note":"road closed"}`)
	e := waitEvent(t, events, 5*time.Second)
	t.Logf("report posted to instance A reached a client of instance B in %s", time.Since(sent))
	if e.event != "observe" || !strings.Contains(e.data, `"id":"wp-underpass-xingze"`) || strings.Contains(e.data, "road closed") {
		t.Errorf("event on B: %+v", e)
	}
	if code, f := get(t, b+"/collections/waterlogging_points/items/wp-underpass-xingze"); code != http.StatusOK ||
		f["properties"].(map[string]any)["status"] != "closed" {
		t.Errorf("GET on B after the report = %d %v", code, f["properties"])
	}

	// Away from B while two reports go to A; back with Last-Event-ID.
	stop()
	post(t, a, secret, "wp-underpass-xingze", `{"depth_cm":20,"status":"ponding"}`)
	post(t, a, secret, "wp-underpass-xinghua", `{"depth_cm":0,"status":"clear"}`)
	again, _ := openEvents(t, b, e.id)
	e1, e2 := waitEvent(t, again, 5*time.Second), waitEvent(t, again, 5*time.Second)
	n0, _ := strconv.ParseInt(e.id, 10, 64)
	n1, _ := strconv.ParseInt(e1.id, 10, 64)
	if !strings.Contains(e1.data, "wp-underpass-xingze") || !strings.Contains(e2.data, "wp-underpass-xinghua") || n1 <= n0 {
		t.Errorf("resumed on B after %s: %+v, %+v", e.id, e1, e2)
	}
}
