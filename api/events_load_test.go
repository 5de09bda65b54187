package api

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The event-stream load run (not part of the default test run):
//
//	go test ./api -run TestSSELoad -sse-clients 1000 -v
//	scripts/with-postgis go test ./api -run TestSSELoad -sse-clients 1000 -sse-store postgis -v
//
// It builds and starts `hazardmap serve` as a process of its own on
// loopback (so that its RSS is the server's alone), opens the clients
// from this process, posts status reports one after another as a crew,
// and measures for every (client, report) the time from sending the POST
// to the event's arrival, and the server's memory.
var (
	sseClients  = flag.Int("sse-clients", 0, "TestSSELoad: concurrent event-stream clients (0 skips the load run)")
	sseReports  = flag.Int("sse-reports", 50, "TestSSELoad: status reports to post")
	sseInterval = flag.Duration("sse-interval", 100*time.Millisecond, "TestSSELoad: pause between reports")
	sseStore    = flag.String("sse-store", "embedded", "TestSSELoad: embedded, or postgis (needs DATABASE_URL)")
)

// rss returns the VmRSS and VmHWM of process pid, in KiB.
func rss(t testing.TB, pid int) (cur, peak int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the server's memory: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			cur, _ = strconv.Atoi(f[1])
		}
		if len(f) >= 2 && f[0] == "VmHWM:" {
			peak, _ = strconv.Atoi(f[1])
		}
	}
	return cur, peak
}

func TestSSELoad(t *testing.T) {
	if *sseClients <= 0 {
		t.Skip("the load run is off; give -sse-clients N")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lr := newLoadRun(t, ctx, *sseStore)
	lines := strings.Split(strings.TrimSpace(lr.run(t, ctx, "token", "create", "--role", "crew", "--name", "load test")), "\n")
	secret := lines[len(lines)-1]
	base, srv := lr.serve(t, ctx, os.Stderr, "--write-rate", "0")
	idleRSS, _ := rss(t, srv.Process.Pid)

	// The clients: one connection each, dialled 50 at a time so the
	// listen backlog is not the thing measured.
	n := *sseClients
	transport := &http.Transport{MaxIdleConnsPerHost: n, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
	client := &http.Client{Transport: transport}
	type key struct {
		id      string
		version int64
	}
	recv := make([]map[key]time.Time, n)
	var mu sync.Mutex
	var ready sync.WaitGroup
	var failed, lost atomic.Int32
	var wg sync.WaitGroup
	connStart := time.Now()
	sem := make(chan struct{}, 50)
	for i := range n {
		recv[i] = map[key]time.Time{}
		ready.Add(1)
		sem <- struct{}{}
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
			res, err := client.Do(req)
			<-sem
			if err != nil || res.StatusCode != http.StatusOK {
				failed.Add(1)
				ready.Done()
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			first := true
			for sc.Scan() {
				l := sc.Text()
				if first && strings.HasPrefix(l, "event: ready") {
					first = false
					ready.Done()
				}
				if data, ok := strings.CutPrefix(l, "data: "); ok && !first {
					var d struct {
						ID      string `json:"id"`
						Version int64  `json:"version"`
					}
					if json.Unmarshal([]byte(data), &d) == nil && d.ID != "" {
						now := time.Now()
						mu.Lock()
						recv[i][key{d.ID, d.Version}] = now
						mu.Unlock()
					}
				}
			}
			if first {
				ready.Done()
			}
			if ctx.Err() == nil {
				lost.Add(1) // the stream ended before the run did
			}
		})
	}
	ready.Wait()
	connected := time.Since(connStart)
	connRSS, _ := rss(t, srv.Process.Pid)
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d clients could not connect", f, n)
	}

	// The reports, one after another, on the seed's five underpasses.
	points := []string{"wp-underpass-xinghua", "wp-underpass-guangwu", "wp-underpass-jingcheng", "wp-underpass-youyi", "wp-underpass-xingze"}
	sent := map[key]time.Time{}
	for k := range *sseReports {
		id := points[k%len(points)]
		depth := 16 + k%50
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/collections/waterlogging_points/items/"+id+"/observations",
			strings.NewReader(fmt.Sprintf(`{"depth_cm":%d,"status":"ponding","note":"load test"}`, depth)))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("report %d = %d", k, res.StatusCode)
		}
		// The ETag starts with the point's new version.
		v, _ := strconv.ParseInt(strings.SplitN(strings.Trim(res.Header.Get("ETag"), `"`), "-", 2)[0], 10, 64)
		sent[key{id, v}] = start
		time.Sleep(*sseInterval)
	}
	// Wait for every client to have every report (or give up after 30 s).
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		missing := 0
		for i := range recv {
			for k := range sent {
				if _, ok := recv[i][k]; !ok {
					missing++
				}
			}
		}
		mu.Unlock()
		if missing == 0 || time.Now().After(deadline) {
			if missing > 0 {
				t.Errorf("%d (client, report) events never arrived", missing)
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	endRSS, peakRSS := rss(t, srv.Process.Pid)

	var lat []time.Duration
	mu.Lock()
	for i := range recv {
		for k, s := range sent {
			if r, ok := recv[i][k]; ok {
				lat = append(lat, r.Sub(s))
			}
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	cancel()
	wg.Wait()
	t.Logf("SSE load: store %s, %d clients connected in %s, %d reports %s apart, %d deliveries (%d streams ended early)",
		*sseStore, n, connected.Round(time.Millisecond), len(sent), *sseInterval, len(lat), lost.Load())
	t.Logf("delivery latency (POST sent → event read by client): p50 %s  p90 %s  p99 %s  max %s",
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	t.Logf("server RSS: %.1f MiB idle, %.1f MiB with %d clients, %.1f MiB after the reports, peak %.1f MiB (≈ %.1f KiB per client)",
		float64(idleRSS)/1024, float64(connRSS)/1024, n, float64(endRSS)/1024, float64(peakRSS)/1024, float64(connRSS-idleRSS)/float64(n))
}
