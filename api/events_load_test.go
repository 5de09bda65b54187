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
	"syscall"
	"testing"
	"time"
)

// The event-stream load run (not part of the default test run):
//
//	go test ./api -run TestSSELoad -sse-clients 10000 -v
//	scripts/with-postgis go test ./api -run TestSSELoad -sse-clients 10000 -sse-store postgis -v
//
// Each client is one connection in this process and one in the server's,
// so the run raises the open-file limit itself (raiseFileLimit), to what
// the clients need, before it starts the server, which inherits it.
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

// raiseFileLimit lifts this process's soft limit on open files to at
// least need, and the hard limit too when it is lower and the process may
// (root). A limit set through syscall.Setrlimit is inherited by the
// processes started afterwards (the server).
func raiseFileLimit(t testing.TB, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("read the open-file limit: %v", err)
	}
	if lim.Cur >= need {
		// Set it anyway: only an explicit Setrlimit is passed on to
		// the server (Go restores the original soft limit in children).
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatalf("set the open-file limit: %v", err)
		}
		return
	}
	want := syscall.Rlimit{Cur: need, Max: max(lim.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		t.Fatalf("raise the open-file limit from %d (hard %d) to %d: %v; run as root or raise the hard limit (ulimit -Hn)", lim.Cur, lim.Max, need, err)
	}
}

// cpuTime returns the processor time (user and system) process pid has
// used: what a run costs, whatever else the machine is doing.
func cpuTime(t testing.TB, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("read the server's processor time: %v", err)
	}
	// The fields after the command name (which may hold spaces, in
	// parentheses): state is the first; utime and stime are the 12th and
	// 13th after it, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func TestSSELoad(t *testing.T) {
	if *sseClients <= 0 {
		t.Skip("the load run is off; give -sse-clients N")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	raiseFileLimit(t, uint64(*sseClients)+1024)
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
	// Each client records its arrivals in its own map, read only once it
	// has stopped, and counts them in got: the clients share no lock, so
	// what is measured is the server, not ten thousand goroutines queueing
	// on one mutex of the test.
	recv := make([]map[key]time.Time, n)
	var got atomic.Int64
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
						recv[i][key{d.ID, d.Version}] = time.Now()
						got.Add(1)
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
	cpuBefore := cpuTime(t, srv.Process.Pid)
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
	want := int64(n * len(sent))
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	endRSS, peakRSS := rss(t, srv.Process.Pid)
	cpu := cpuTime(t, srv.Process.Pid) - cpuBefore
	cancel()
	wg.Wait() // the clients have stopped: their maps can be read

	var lat []time.Duration
	missing := 0
	for i := range recv {
		for k, s := range sent {
			if r, ok := recv[i][k]; ok {
				lat = append(lat, r.Sub(s))
			} else {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d (client, report) events never arrived", missing)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	t.Logf("SSE load: store %s, %d clients connected in %s, %d reports %s apart, %d deliveries (%d streams ended early)",
		*sseStore, n, connected.Round(time.Millisecond), len(sent), *sseInterval, len(lat), lost.Load())
	t.Logf("delivery latency (POST sent → event read by client): p50 %s  p90 %s  p99 %s  max %s",
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if len(lat) > 0 {
		t.Logf("server processor time for the reports and their deliveries: %s (%.1f µs a delivery); load average %s",
			cpu, float64(cpu.Microseconds())/float64(len(lat)), loadAverage())
	}
	t.Logf("server RSS: %.1f MiB idle, %.1f MiB with %d clients, %.1f MiB after the reports, peak %.1f MiB (≈ %.1f KiB per client)",
		float64(idleRSS)/1024, float64(connRSS)/1024, n, float64(endRSS)/1024, float64(peakRSS)/1024, float64(connRSS-idleRSS)/float64(n))
}

// loadAverage returns the machine's load averages (1, 5, 15 minutes).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
