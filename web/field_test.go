package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hazardmap/api"
	"hazardmap/geo"
)

// TestFieldModeInBrowser runs map/test/field.mjs in headless Chromium
// against the real handler stack on each store (embedded, PostGIS) with
// the seed data: a crew signs in through a one-time link, reports with a
// photo, goes offline and reopens the map from the service worker's
// caches, makes 20 reports and 2 location proposals offline, comes back
// online and every one arrives exactly once in the order observed; then
// 100 uploads are cut at random points (the request dropped before the
// server, or the answer dropped after the server committed) and the
// server still holds exactly one report each; a planner signed in by a
// typed code accepts a proposal in the review panel and the point leaves
// 待定位 on the crew's open map through /events. Screenshots at 360×640 go
// to test-output/field-*.png.
func TestFieldModeInBrowser(t *testing.T) {
	onEachStore(t, runField)
}

func runField(t *testing.T, node, name string, store geo.Store) {
	ctx := context.Background()
	seedData(t, store)
	code := func(who string, role geo.Role) string {
		_, c, err := geo.IssueSignInCode(ctx, store, who, role, 24*time.Hour, 0, time.Now())
		if err != nil {
			t.Fatalf("IssueSignInCode(%s) = %v", who, err)
		}
		return c
	}
	_, plannerToken, err := geo.IssueToken(ctx, store, "browser test planner API", geo.RolePlanner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(photo, phoneJPEG(t, 2400, 1800), 0o644); err != nil {
		t.Fatal(err)
	}

	chaos := &chaosSwitch{}
	// Writes are not rate-limited here: the chaos run sends a few hundred.
	srv := httptest.NewServer(chaos.wrap(api.NewServer(store, api.Options{Map: Handler(""), CacheBytes: api.DefaultCacheBytes})))
	defer srv.Close()

	out := runScript(t, node, "test/field.mjs", 6*time.Minute,
		"HM_BASE_URL="+srv.URL,
		"HM_STORE="+name,
		"HM_CREW_CODE="+code("城建局一队", geo.RoleCrew),
		"HM_PLANNER_CODE="+code("规划科 王工", geo.RolePlanner),
		"HM_PLANNER_TOKEN="+plannerToken,
		"HM_PHOTO="+photo,
	)
	t.Logf("node test/field.mjs (%s):\n%s", name, out)
}

// phoneJPEG returns a w×h JPEG with an EXIF segment that holds a position
// and a phone model, as a camera writes them.
func phoneJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x / 10), uint8(y / 8), 160, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	exif := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00"), []byte("GPS 34.80N 113.37E HUAWEI-TEST-MODEL")...)
	seg := append([]byte{0xff, 0xe1}, binary.BigEndian.AppendUint16(nil, uint16(len(exif)+2))...)
	seg = append(seg, exif...)
	return append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
}

// chaosSwitch cuts uploads at random points while it is on (POST
// /test/chaos {"p": 0.5}; {"p": 0} turns it off): a report or proposal
// POST is, with probability p, dropped before the server sees it (the
// connection closed, nothing written) or, as often, run to completion on
// the server and then its answer dropped (the phone never learns that it
// arrived). GET /test/chaos reports how many of each it did. {"hold":
// true} keeps such POSTs waiting (the phone shows 发送中) until {"hold":
// false}.
type chaosSwitch struct {
	mu                    sync.Mutex
	p                     float64
	before, after, passed int
	hold                  chan struct{} // nil: no hold
}

func (c *chaosSwitch) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/test/chaos" {
			c.mu.Lock()
			defer c.mu.Unlock()
			if r.Method == http.MethodPost {
				var body struct {
					P    float64
					Hold *bool
				}
				_ = json.NewDecoder(r.Body).Decode(&body)
				switch {
				case body.Hold == nil:
					c.p, c.before, c.after, c.passed = body.P, 0, 0, 0
				case *body.Hold && c.hold == nil:
					c.hold = make(chan struct{})
				case !*body.Hold && c.hold != nil:
					close(c.hold)
					c.hold = nil
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"p": c.p, "before": c.before, "after": c.after, "passed": c.passed})
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Idempotency-Key") == "" {
			h.ServeHTTP(w, r)
			return
		}
		c.mu.Lock()
		if hold := c.hold; hold != nil {
			c.mu.Unlock()
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
			c.mu.Lock()
		}
		roll := rand.Float64()
		p := c.p
		mode := "pass"
		switch {
		case roll < p/2:
			mode = "before"
			c.before++
		case roll < p:
			mode = "after"
			c.after++
		default:
			c.passed++
		}
		c.mu.Unlock()
		switch mode {
		case "before":
			hangUp(w)
		case "after":
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r) // the server commits…
			hangUp(w)           // …and the phone never hears it
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}
