// Package wecom sends messages to a WeCom (企业微信) group robot through its
// webhook: POST {"msgtype":"markdown","markdown":{"content":…}} (or text
// with @all) to https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=….
//
// A robot accepts at most 20 messages a minute (more are refused with
// errcode 45009), a markdown message at most 4 096 bytes and a text at
// most 2 048. So Batch joins what is waiting into as few messages as fit
// (a storm that opens ten alerts at once is one post, not ten), and the
// client never posts more than 20 times in any 60 s (retries included),
// retries failures that may pass (network errors, HTTP 5xx and 429,
// errcode -1 "system busy" and 45009) with exponential backoff, and
// returns the result of every post with the messages it carried (the
// caller, notify's outbox dispatcher, records it). The webhook URL holds
// the robot's key: it never appears in a result or an error.
package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits of the robot.
const (
	// PerMinute is how many posts a robot takes in a minute.
	PerMinute = 20
	// MaxMarkdown and MaxText cap a message's content in bytes.
	MaxMarkdown = 4096
	MaxText     = 2048
)

// Message is one piece of news to send.
type Message struct {
	// Key identifies what the message is about, for the Result (e.g. an
	// alert's id and version); it is not sent.
	Key string
	// Text is the content: markdown (WeCom's subset), or plain text when
	// MentionAll.
	Text string
	// MentionAll sends it as text with @all: every member of the group is
	// notified (an escalation). Such messages are batched only with each
	// other.
	MentionAll bool
}

// Result is the outcome of one post.
type Result struct {
	// Messages are those the post carried.
	Messages []Message
	OK       bool
	// Attempts counts the tries, 1 or more.
	Attempts int
	// Detail is the robot's answer or the last error, without the key.
	Detail string
	// At is when the result was known.
	At time.Time
}

// Options configure a Client. The zero value of each field has a
// sensible default.
type Options struct {
	// HTTP is the client that posts; http.DefaultClient's transport with a
	// 10 s timeout by default.
	HTTP *http.Client
	// MaxAttempts caps the tries of one post (default 5).
	MaxAttempts int
	// Backoff is the wait before the second try, doubled before each
	// further one up to MaxBackoff (defaults 2 s and 60 s).
	Backoff, MaxBackoff time.Duration
	// PerMinute caps posts per rolling minute (default PerMinute).
	PerMinute int
	// Now and Sleep are the clock (defaults time.Now and a timer that
	// stops when ctx ends); tests inject a fake one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client posts to one robot. It is safe for concurrent use.
type Client struct {
	url  string
	opts Options

	mu   sync.Mutex
	sent []time.Time // times of the posts of the last minute
}

// New returns a client of the robot at webhook (an http or https URL).
func New(webhook string, opts Options) (*Client, error) {
	u, err := url.Parse(webhook)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("wecom: the webhook must be an http(s) URL such as https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 60 * time.Second
	}
	if opts.PerMinute <= 0 {
		opts.PerMinute = PerMinute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	return &Client{url: webhook, opts: opts}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Batch splits off the first post's worth of msgs: the first message and
// every later one of the same kind (MentionAll or not) that still fits
// within the content limit, joined by a blank line; it returns them and
// the rest, in order. A message too long on its own is cut to the limit.
func Batch(msgs []Message) (batch, rest []Message) {
	if len(msgs) == 0 {
		return nil, nil
	}
	limit := MaxMarkdown
	if msgs[0].MentionAll {
		limit = MaxText
	}
	size := 0
	for _, m := range msgs {
		n := len(m.Text)
		if len(batch) > 0 {
			n += len(separator)
		}
		if m.MentionAll != msgs[0].MentionAll || (len(batch) > 0 && size+n > limit) {
			rest = append(rest, m)
			continue
		}
		batch = append(batch, m)
		size += n
	}
	return batch, rest
}

const separator = "\n\n"

// content joins the texts of batch within limit bytes, cutting on a
// character boundary.
func content(batch []Message, limit int) string {
	texts := make([]string, len(batch))
	for i, m := range batch {
		texts[i] = m.Text
	}
	s := strings.Join(texts, separator)
	if len(s) <= limit {
		return s
	}
	s = s[:limit]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// payload is the JSON the robot takes.
type payload struct {
	MsgType  string `json:"msgtype"`
	Markdown *struct {
		Content string `json:"content"`
	} `json:"markdown,omitempty"`
	Text *struct {
		Content       string   `json:"content"`
		MentionedList []string `json:"mentioned_list,omitempty"`
	} `json:"text,omitempty"`
}

// answer is the robot's reply.
type answer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Send posts batch as one message now (waiting for the rate limit),
// retrying what may pass, and returns the result.
func (c *Client) Send(ctx context.Context, batch []Message) Result {
	var p payload
	if len(batch) > 0 && batch[0].MentionAll {
		p.MsgType = "text"
		p.Text = &struct {
			Content       string   `json:"content"`
			MentionedList []string `json:"mentioned_list,omitempty"`
		}{Content: content(batch, MaxText), MentionedList: []string{"@all"}}
	} else {
		p.MsgType = "markdown"
		p.Markdown = &struct {
			Content string `json:"content"`
		}{Content: content(batch, MaxMarkdown)}
	}
	body, _ := json.Marshal(p) // strings only: cannot fail
	r := Result{Messages: batch}
	wait := c.opts.Backoff
	for r.Attempts < c.opts.MaxAttempts {
		if r.Attempts > 0 {
			if err := c.opts.Sleep(ctx, wait); err != nil {
				r.Detail = "cancelled: " + r.Detail
				break
			}
			wait = min(2*wait, c.opts.MaxBackoff)
		}
		if err := c.slot(ctx); err != nil {
			r.Detail = "cancelled waiting for the rate limit"
			break
		}
		r.Attempts++
		retry, detail := c.post(ctx, body)
		r.Detail = detail
		if detail == "ok" {
			r.OK = true
			break
		}
		if !retry {
			break
		}
	}
	r.At = c.opts.Now()
	return r
}

// slot waits until a post keeps within PerMinute posts in any rolling
// minute, and records it.
func (c *Client) slot(ctx context.Context) error {
	for {
		c.mu.Lock()
		now := c.opts.Now()
		keep := c.sent[:0]
		for _, t := range c.sent {
			if now.Sub(t) < time.Minute {
				keep = append(keep, t)
			}
		}
		c.sent = keep
		if len(c.sent) < c.opts.PerMinute {
			c.sent = append(c.sent, now)
			c.mu.Unlock()
			return nil
		}
		wait := time.Minute - now.Sub(c.sent[0])
		c.mu.Unlock()
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// post sends body once and says whether a failure may pass on retry, and
// what happened ("ok" on success). Errors never carry the URL (its key).
func (c *Client) post(ctx context.Context, body []byte) (retry bool, detail string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return false, "bad request: " + stripURL(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		return true, "network: " + stripURL(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return true, "network: " + stripURL(err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests, fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return true, "unreadable answer"
	}
	switch a.ErrCode {
	case 0:
		return false, "ok"
	case -1, 45009: // system busy; over the rate limit
		return true, fmt.Sprintf("errcode %d: %s", a.ErrCode, clip(a.ErrMsg))
	}
	return false, fmt.Sprintf("errcode %d: %s", a.ErrCode, clip(a.ErrMsg))
}

// stripURL returns the error without the request URL, which holds the
// robot's key.
func stripURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// clip keeps the robot's message short: errmsg may echo a hint URL.
func clip(s string) string {
	if i := strings.Index(s, ","); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.ToValidUTF8(s, "")
}
