package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hazardmap/geo"
)

// sse is one message of an event stream; comment is set for a comment
// line (": heartbeat").
type sse struct {
	id, event, data, comment string
}

// sseClient reads an event stream.
type sseClient struct {
	msgs   chan sse
	cancel context.CancelFunc
	done   chan struct{} // closed when the stream ends
}

// readSSE parses an event stream from res into c.msgs until it ends.
func readSSE(res *http.Response, msgs chan<- sse, done chan<- struct{}) {
	defer close(done)
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	var m sse
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if m.event != "" || m.data != "" || m.id != "" {
				msgs <- m
			}
			m = sse{}
		case strings.HasPrefix(line, ":"):
			msgs <- sse{comment: strings.TrimSpace(line[1:])}
		default:
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				m.id = v
			case "event":
				m.event = v
			case "data":
				m.data = v
			}
		}
	}
}

// listen opens GET /events as role, resuming from lastID (the
// Last-Event-ID header) when it is not empty; query is added to the URL.
// It returns once the ready event arrived.
func (e *env) listen(role geo.Role, lastID string, query ...string) *sseClient {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	path := "/events"
	if len(query) > 0 {
		path += "?" + query[0]
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	if s, ok := e.tokens[role]; ok {
		req.Header.Set("Authorization", "Bearer "+s)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		cancel()
		e.t.Fatalf("GET /events: %v", err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		e.t.Fatalf("GET /events = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	c := &sseClient{msgs: make(chan sse, 1000), cancel: cancel, done: make(chan struct{})}
	go readSSE(res, c.msgs, c.done)
	e.t.Cleanup(c.close)
	if m := c.next(e.t, 10*time.Second); m.event != "ready" || m.id == "" {
		e.t.Fatalf("first message %+v, want the ready event", m)
	}
	return c
}

func (c *sseClient) close() {
	c.cancel()
	<-c.done
}

// next returns the next message that is not a comment.
func (c *sseClient) next(t testing.TB, timeout time.Duration) sse {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-c.msgs:
			if m.comment == "" {
				return m
			}
		case <-c.done:
			select {
			case m := <-c.msgs:
				if m.comment == "" {
					return m
				}
				continue
			default:
			}
			t.Fatal("the event stream ended")
		case <-deadline:
			t.Fatalf("no event within %s", timeout)
		}
	}
}

// quiet checks that no event (comments aside) arrives within d.
func (c *sseClient) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if m.comment == "" {
				t.Fatalf("unexpected event %+v", m)
			}
		case <-deadline:
			return
		}
	}
}

// report posts a status report on point id as a crew.
func (e *env) report(id string, depth float64) {
	e.t.Helper()
	status := "ponding"
	if depth == 0 {
		status = "clear"
	}
	r := e.do(geo.RoleCrew, "POST", "/collections/waterlogging_points/items/"+id+"/observations",
		`{"depth_cm":`+strconv.FormatFloat(depth, 'f', -1, 64)+`,"status":"`+status+`"}`, "Content-Type", "application/json")
	if r.status != http.StatusCreated {
		e.t.Fatalf("report on %s = %d %s", id, r.status, r.body)
	}
}

// TestEvents: a report reaches every open stream with its seq as id and
// its action as event type and no feature data; token changes reach
// admins only; a client resumes with Last-Event-ID (from the ring, or
// from the store when the ring has moved on) or ?after= without missing
// or repeating anything.
func TestEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		e.srv.events.set(func(h *hub) { h.ringCap = 3 })
		pub := e.listen(geo.RolePublic, "")
		admin := e.listen(geo.RoleAdmin, "")

		e.report("wp-2", 20)
		ev := pub.next(t, 5*time.Second)
		var data map[string]any
		if err := json.Unmarshal([]byte(ev.data), &data); err != nil {
			t.Fatalf("event data %q: %v", ev.data, err)
		}
		seq := e.lastAudit(geo.WaterloggingPoints, "wp-2")["seq"].(float64)
		if ev.event != "observe" || ev.id != strconv.FormatInt(e.publicNumber(int64(seq)), 10) || data["collection"] != geo.WaterloggingPoints ||
			data["id"] != "wp-2" || data["action"] != "observe" || data["version"] != 2.0 || data["time"] == nil || len(data) != 5 {
			t.Errorf("event %+v (audit seq %v)", ev, seq)
		}
		if a := admin.next(t, 5*time.Second); a.id != ev.id {
			t.Errorf("admin got %+v, public %+v", a, ev)
		}

		// A token change goes to the admin only.
		if r := e.do(geo.RoleAdmin, "POST", "/tokens", `{"name":"二队","role":"crew"}`, "Content-Type", "application/json"); r.status != http.StatusCreated {
			t.Fatalf("POST /tokens = %d", r.status)
		}
		if a := admin.next(t, 5*time.Second); a.event != "create" || !strings.Contains(a.data, `"collection":"tokens"`) || a.id != "" {
			t.Errorf("admin: token event %+v, want one without an id", a)
		}
		e.report("wp-3", 0)
		if p := pub.next(t, 5*time.Second); p.event != "observe" || !strings.Contains(p.data, `"wp-3"`) {
			t.Errorf("public: after a token change got %+v, want the wp-3 report (token changes are for admins)", p)
		}
		last := admin.next(t, 5*time.Second).id
		if want := strconv.FormatInt(mustAtoi(t, ev.id)+1, 10); last != want {
			t.Errorf("the public number after %s and a token change = %s, want %s: token changes use no public numbers", ev.id, last, want)
		}

		// Resume from the ring: two reports while away.
		pub.close()
		e.report("wp-1", 30)
		e.report("wp-5", 16)
		back := e.listen(geo.RolePublic, last)
		if a, b := back.next(t, 5*time.Second), back.next(t, 5*time.Second); !strings.Contains(a.data, `"wp-1"`) || !strings.Contains(b.data, `"wp-5"`) {
			t.Errorf("resumed from %s: %+v, %+v", last, a, b)
		}
		back.quiet(t, 200*time.Millisecond)

		// Resume from further back than the ring holds (3 changes):
		// read from the store once, then live; the header wins over
		// ?after=.
		for _, id := range []string{"wp-1", "wp-2", "wp-3", "wp-5"} {
			e.report(id, 17)
		}
		far := e.listen(geo.RolePublic, last, "after=0")
		var got []string
		for range 6 {
			m := far.next(t, 5*time.Second)
			got = append(got, m.data[strings.Index(m.data, `"id":`)+6:strings.Index(m.data, `","action"`)])
		}
		if want := "wp-1 wp-5 wp-1 wp-2 wp-3 wp-5"; strings.Join(got, " ") != want {
			t.Errorf("resumed from %s beyond the ring: %v, want %s", last, got, want)
		}
		e.report("wp-2", 0)
		if m := far.next(t, 5*time.Second); !strings.Contains(m.data, `"wp-2"`) {
			t.Errorf("live after the backfill: %+v", m)
		}
		far.quiet(t, 200*time.Millisecond)

		// ?after= alone resumes too.
		q := e.listen(geo.RolePublic, "", "after="+last)
		if m := q.next(t, 5*time.Second); !strings.Contains(m.data, `"wp-1"`) {
			t.Errorf("?after=%s: %+v", last, m)
		}
		for _, bad := range []string{"after=-1", "after=x", "after=1&after=2", "colour=red"} {
			e.do(geo.RolePublic, "GET", "/events?"+bad, "").problem(t, "/events?"+bad, http.StatusBadRequest)
		}
		e.do(geo.RolePublic, "GET", "/events", "", "Last-Event-ID", "abc").problem(t, "Last-Event-ID: abc", http.StatusBadRequest)
		if r := e.do(geo.RolePublic, "HEAD", "/events", ""); r.status != http.StatusOK || len(r.body) != 0 {
			t.Errorf("HEAD /events = %d %q", r.status, r.body)
		}
	})
}

// TestEventsOutliveServerTimeouts runs the stream on a server whose read
// and write timeouts are 200 ms: it must stay open past them, deliver
// events and heartbeats, and end when the server closes it.
func TestEventsOutliveServerTimeouts(t *testing.T) {
	st := OpenFixtureStore(t)
	e := &env{t: t, store: st, srv: NewServer(st, Options{}), tokens: map[geo.Role]string{}, ids: map[geo.Role]string{}}
	e.srv.events.set(func(h *hub) { h.heartbeat = 50 * time.Millisecond })
	e.ts = httptest.NewUnstartedServer(e.srv)
	e.ts.Config.ReadTimeout, e.ts.Config.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	_, secret, err := geo.IssueToken(context.Background(), st, "crew", geo.RoleCrew, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens[geo.RoleCrew] = secret
	c := e.listen(geo.RolePublic, "")
	time.Sleep(600 * time.Millisecond)
	beats := 0
	for len(c.msgs) > 0 {
		if m := <-c.msgs; m.comment == "heartbeat" {
			beats++
		}
	}
	if beats < 3 {
		t.Errorf("%d heartbeats in 600 ms at 50 ms, want several", beats)
	}
	e.report("wp-1", 25)
	if m := c.next(t, 5*time.Second); m.event != "observe" {
		t.Errorf("after the server's timeouts: %+v", m)
	}
	// Close ends the stream (as serve does on shutdown).
	e.srv.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end on Close")
	}
	if r := e.do(geo.RolePublic, "GET", "/events", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET /events after Close = %d, want 503", r.status)
	}
}

// deafStore never signals, and fails Changes while failing is set: the
// hub must still deliver, by polling and retrying.
type deafStore struct {
	geo.Store
	failing atomic.Int32
	calls   atomic.Int32
}

func (d *deafStore) Subscribe(ctx context.Context) (<-chan struct{}, error) {
	ch := make(chan struct{})
	context.AfterFunc(ctx, func() { close(ch) })
	return ch, nil
}

func (d *deafStore) Changes(ctx context.Context, after int64, limit int) ([]geo.Change, error) {
	d.calls.Add(1)
	if d.failing.Load() > 0 {
		d.failing.Add(-1)
		return nil, geo.Errorf(geo.Unavailable, "database coming back")
	}
	return d.Store.Changes(ctx, after, limit)
}

func TestEventsPollAndRetry(t *testing.T) {
	st := &deafStore{Store: OpenFixtureStore(t)}
	e := newEnv(t, st, Options{})
	e.srv.events.set(func(h *hub) { h.poll = 100 * time.Millisecond })
	c := e.listen(geo.RolePublic, "")
	st.failing.Store(3)
	e.report("wp-1", 30)
	if m := c.next(t, 5*time.Second); m.event != "observe" {
		t.Errorf("without signals and with failing reads: %+v", m)
	}
	if st.failing.Load() != 0 {
		t.Error("the failing reads were not retried")
	}
}

// TestHubCutsOffSlowClients: a client that does not take its batches is
// cut off when its buffer is full, after what it holds, so that it
// reconnects with Last-Event-ID; the others are not held up.
func TestHubCutsOffSlowClients(t *testing.T) {
	h := newHub(OpenFixtureStore(t), nil)
	h.buffer = 2
	h.subs = map[*subscriber]struct{}{}
	slow := &subscriber{ch: make(chan []event, h.buffer)}
	fast := &subscriber{ch: make(chan []event, 10)}
	h.subs[slow], h.subs[fast] = struct{}{}, struct{}{}
	for i := range 3 {
		if err := h.broadcast([]geo.Change{{Seq: int64(i + 1), Collection: geo.Depots, FeatureID: "d-1", Action: geo.ActionPatch}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	for b := range slow.ch {
		got = append(got, b[0].seq)
	}
	if len(got) != 2 || got[1] != 2 || h.subscribers() != 1 || len(fast.ch) != 3 {
		t.Errorf("slow client got %v then was cut off? subscribers %d, fast holds %d", got, h.subscribers(), len(fast.ch))
	}
}

func TestParseLastEventID(t *testing.T) {
	for _, tt := range []struct {
		header string
		query  []string
		after  int64
		resume bool
		ok     bool
	}{
		{"", nil, 0, false, true},
		{"42", nil, 42, true, true},
		{"42", []string{"7"}, 42, true, true},
		{"", []string{"7"}, 7, true, true},
		{"0", nil, 0, true, true},
		{"-1", nil, 0, false, false},
		{"+1", nil, 0, false, false},
		{"1e3", nil, 0, false, false},
		{"99999999999999999999", nil, 0, false, false},
		{"", []string{"1", "2"}, 0, false, false},
		{"", []string{""}, 0, false, false},
	} {
		after, resume, err := parseLastEventID(tt.header, tt.query)
		if after != tt.after || resume != tt.resume || (err == nil) != tt.ok {
			t.Errorf("ParseLastEventID(%q, %q) = %d, %v, %v", tt.header, tt.query, after, resume, err)
		}
	}
}

func FuzzParseLastEventID(f *testing.F) {
	for _, s := range []string{"", "0", "42", "-1", "+1", " 1", "1 ", "9223372036854775807", "9223372036854775808", "0x10"} {
		f.Add(s, "")
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, header, query string) {
		after, resume, err := parseLastEventID(header, []string{query})
		if err != nil {
			if geo.KindOf(err) != geo.Invalid || resume {
				t.Fatalf("ParseLastEventID(%q, %q) = %v, %v", header, query, resume, err)
			}
			return
		}
		src := query
		if header != "" {
			src = header
		}
		n, perr := strconv.ParseInt(src, 10, 64)
		if !resume || after < 0 || perr != nil || n != after || src[0] == '+' || src[0] == '-' {
			t.Fatalf("ParseLastEventID(%q, %q) = %d, %v", header, query, after, resume)
		}
	})
}

// set changes the hub's settings.
func (h *hub) set(f func(*hub)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

// publicNumber returns the public number of the change at seq: seq less
// the token changes up to it, read from the audit log.
func (e *env) publicNumber(seq int64) int64 {
	e.t.Helper()
	entries, _, err := e.store.Audit(context.Background(), geo.AuditQuery{Collection: geo.TokensCollection})
	if err != nil {
		e.t.Fatal(err)
	}
	n := seq
	for _, en := range entries {
		if en.Seq <= seq {
			n--
		}
	}
	return n
}

func mustAtoi(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

// TestEventsAhead: a client resuming from an id the store has not reached
// (a store restored from a backup, a rebuilt database) gets ready and
// then reset, whose id is the store's head, and then follows from there:
// on both stores, and through an instance whose hub has not yet read
// the changes another instance told the client of.
func TestEventsAhead(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		head := e.listen(geo.RolePublic, "")
		e.report("wp-1", 20)
		now := head.next(t, 5*time.Second).id

		for _, from := range []string{"Last-Event-ID", "after"} {
			ahead := strconv.FormatInt(mustAtoi(t, now)+1000, 10)
			var c *sseClient
			if from == "after" {
				c = e.listen(geo.RolePublic, "", "after="+ahead)
			} else {
				c = e.listen(geo.RoleAdmin, ahead)
			}
			if m := c.next(t, 5*time.Second); m.event != "reset" || m.id != now {
				t.Fatalf("%s %s ahead of %s: %+v, want reset with id %s", from, ahead, now, m, now)
			}
			e.report("wp-2", 30)
			if m := c.next(t, 5*time.Second); m.event != "observe" || m.id != strconv.FormatInt(mustAtoi(t, now)+1, 10) {
				t.Errorf("after the reset: %+v", m)
			}
			now = head.next(t, 5*time.Second).id
			c.close()
		}

		// Another instance on the same store has the client at a change
		// this one has not read yet (its hub is idle: no signal): it
		// catches up instead of resetting.
		other := newEnv(t, st, Options{})
		other.srv.events.set(func(h *hub) { h.poll = time.Hour })
		c0 := other.listen(geo.RolePublic, "")
		c0.close()
		e.report("wp-3", 40)
		later := head.next(t, 5*time.Second).id
		c := other.listen(geo.RolePublic, later)
		e.report("wp-5", 50)
		if m := c.next(t, 5*time.Second); m.event != "observe" || !strings.Contains(m.data, `"wp-5"`) {
			t.Errorf("resumed at %s through a lagging instance: %+v, want the wp-5 report (no reset)", later, m)
		}
	})
}

// TestEventIDsHideTokens: the public stream's ids count public changes
// only, so nobody below admin can count token changes by their gaps, and
// an admin resuming from any id misses no token change.
func TestEventIDsHideTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		pub := e.listen(geo.RolePublic, "")
		admin := e.listen(geo.RoleAdmin, "")
		e.report("wp-1", 20)
		first := pub.next(t, 5*time.Second).id
		if a := admin.next(t, 5*time.Second); a.id != first {
			t.Fatalf("admin id %s, public %s", a.id, first)
		}
		for i := range 3 {
			if r := e.do(geo.RoleAdmin, "POST", "/tokens", fmt.Sprintf(`{"name":"队%d","role":"crew"}`, i), "Content-Type", "application/json"); r.status != http.StatusCreated {
				t.Fatalf("POST /tokens = %d", r.status)
			}
		}
		e.report("wp-2", 20)
		if second := pub.next(t, 5*time.Second).id; mustAtoi(t, second) != mustAtoi(t, first)+1 {
			t.Errorf("public ids %s then %s around 3 token changes, want consecutive", first, second)
		}
		// The admin resumes from the id before the token changes: it gets
		// them (again, possibly), and the report.
		admin.close()
		back := e.listen(geo.RoleAdmin, first)
		var got []string
		for range 4 {
			m := back.next(t, 5*time.Second)
			got = append(got, m.event)
		}
		if strings.Join(got, " ") != "create create create observe" {
			t.Errorf("admin resumed from %s: %v", first, got)
		}
	})
}
