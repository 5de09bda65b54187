package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock never waits: Sleep moves its time on.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	return ctx.Err()
}

// robot is a test server standing in for the WeCom robot: it records
// each post with the fake time it arrived and answers from script (then
// errcode 0).
type robot struct {
	clock  *fakeClock
	mu     sync.Mutex
	posts  []payload
	times  []time.Time
	script []func(w http.ResponseWriter)
	srv    *httptest.Server
}

func newRobot(t *testing.T, clock *fakeClock, script ...func(w http.ResponseWriter)) *robot {
	r := &robot{clock: clock, script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p payload
		if req.Method != http.MethodPost || req.URL.Query().Get("key") != "secret-key" || json.NewDecoder(req.Body).Decode(&p) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.posts = append(r.posts, p)
		r.times = append(r.times, clock.Now())
		var answer func(http.ResponseWriter)
		if len(r.script) > 0 {
			answer, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		if answer != nil {
			answer(w)
			return
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *robot) url() string { return r.srv.URL + "/cgi-bin/webhook/send?key=secret-key" }

func errcode(code int, msg string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { fmt.Fprintf(w, `{"errcode":%d,"errmsg":%q}`, code, msg) }
}

func status(code int) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code) }
}

func client(t *testing.T, r *robot, clock *fakeClock) *Client {
	c, err := New(r.url(), Options{Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRateLimitAndBatching(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, time.UTC)}
	r := newRobot(t, clock)
	c := client(t, r, clock)
	// 45 messages of 3 000 bytes: one per post, so 45 posts.
	big := strings.Repeat("水", 1000)
	var pending []Message
	for i := range 45 {
		pending = append(pending, Message{Key: fmt.Sprint(i), Text: big})
	}
	// And 10 short ones, which share posts.
	for i := range 10 {
		pending = append(pending, Message{Key: fmt.Sprint("s", i), Text: "饮马坑水库超汛限水位"})
	}
	delivered := map[string]bool{}
	for len(pending) > 0 {
		var batch []Message
		batch, pending = Batch(pending)
		res := c.Send(context.Background(), batch)
		if !res.OK || res.Attempts != 1 {
			t.Fatalf("result %+v", res)
		}
		for _, m := range res.Messages {
			delivered[m.Key] = true
		}
	}
	if len(delivered) != 55 {
		t.Fatalf("%d messages delivered, want 55", len(delivered))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.posts) != 45 {
		t.Errorf("%d posts, want 45 (one per large message; the short ones ride along)", len(r.posts))
	}
	for i := range r.times {
		n := 0
		for _, u := range r.times[i:] {
			if u.Sub(r.times[i]) < time.Minute {
				n++
			}
		}
		if n > PerMinute {
			t.Fatalf("%d posts in the minute from post %d (%v), want at most %d", n, i, r.times[i], PerMinute)
		}
	}
	if first := r.posts[0]; first.MsgType != "markdown" || strings.Count(first.Markdown.Content, "饮马坑") != 10 || len(first.Markdown.Content) > MaxMarkdown {
		t.Errorf("first post = %+v, want the 10 short messages beside the first large one", first)
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, time.UTC)}
	r := newRobot(t, clock, status(http.StatusBadGateway), errcode(45009, "api freq out of limit"), errcode(-1, "system busy"))
	c := client(t, r, clock)
	res := c.Send(context.Background(), []Message{{Key: "a", Text: "x"}})
	if !res.OK || res.Attempts != 4 || res.Detail != "ok" {
		t.Fatalf("Send = %+v, want ok after 4 attempts", res)
	}
	if fmt.Sprint(clock.sleeps) != "[2s 4s 8s]" {
		t.Errorf("backoff sleeps %v, want [2s 4s 8s]", clock.sleeps)
	}
}

func TestGivesUpAndNeverLeaksTheKey(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	r := newRobot(t, clock, errcode(93000, "invalid webhook url, hint: [x], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"))
	c := client(t, r, clock)
	res := c.Send(context.Background(), []Message{{Key: "a", Text: "x"}})
	if res.OK || res.Attempts != 1 || res.Detail != "errcode 93000: invalid webhook url" {
		t.Fatalf("Send(permanent error) = %+v, want one attempt", res)
	}
	var five []func(http.ResponseWriter)
	for range 5 {
		five = append(five, status(http.StatusServiceUnavailable))
	}
	r = newRobot(t, clock, five...)
	c = client(t, r, clock)
	res = c.Send(context.Background(), []Message{{Key: "a", Text: "x"}})
	if res.OK || res.Attempts != 5 || res.Detail != "HTTP 503" {
		t.Fatalf("Send(always 503) = %+v, want 5 attempts", res)
	}
	// A robot that is not there: the error must not carry the key.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/send?key=secret-key"
	dead.Close()
	c, _ = New(deadURL, Options{Now: clock.Now, Sleep: clock.Sleep, MaxAttempts: 2})
	res = c.Send(context.Background(), []Message{{Key: "a", Text: "x"}})
	if res.OK || res.Attempts != 2 || strings.Contains(res.Detail, "secret-key") || !strings.HasPrefix(res.Detail, "network:") {
		t.Fatalf("Send(no robot) = %+v", res)
	}
}

func TestMentionAllIsText(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	r := newRobot(t, clock)
	c := client(t, r, clock)
	batch, rest := Batch([]Message{{Text: "升级：饮马坑水库", MentionAll: true}, {Text: "普通"}, {Text: "升级2", MentionAll: true}})
	if len(batch) != 2 || len(rest) != 1 || rest[0].Text != "普通" {
		t.Fatalf("Batch = %v, %v", batch, rest)
	}
	if res := c.Send(context.Background(), batch); !res.OK {
		t.Fatal(res)
	}
	p := r.posts[0]
	if p.MsgType != "text" || p.Text.MentionedList[0] != "@all" || p.Text.Content != "升级：饮马坑水库\n\n升级2" {
		t.Errorf("post = %+v", p)
	}
}

func TestContentIsCutOnACharacter(t *testing.T) {
	s := content([]Message{{Text: strings.Repeat("水", 2000)}}, MaxMarkdown)
	if len(s) > MaxMarkdown || !strings.HasSuffix(s, "水") {
		t.Errorf("content: %d bytes", len(s))
	}
}

func TestNewRefusesBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"} {
		if _, err := New(u, Options{}); err == nil {
			t.Errorf("New(%q) = nil error", u)
		}
	}
}
