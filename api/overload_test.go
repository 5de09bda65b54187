package api

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The overload run (not part of the default test run):
//
//	go test ./api -run TestOverload -overload -v
//	scripts/with-postgis go test ./api -run TestOverload -overload -overload-store postgis -v
//
// It builds and starts `hazardmap serve` as a process of its own on
// loopback with 100 000 synthetic waterlogging points, then, at once,
// sends 16 full reach reports (format=geojson, ready=any, each with its
// own max_distance_m, so no two share a build) and opens 150 connections
// that each ask a different limit=10000 page and never read the answer,
// while a probe GETs a seed layer (the depots) every 100 ms. It checks
// that the probe's p99 stays under 200 ms, that the server's RSS stays
// under a bound (rssBound), and that it falls back once the burst is over.
var (
	overload         = flag.Bool("overload", false, "TestOverload: run the overload test")
	overloadStore    = flag.String("overload-store", "embedded", "TestOverload: embedded, or postgis (needs DATABASE_URL)")
	overloadPoints   = flag.Int("overload-points", 100_000, "TestOverload: synthetic waterlogging points")
	overloadReach    = flag.Int("overload-reach", 16, "TestOverload: parallel full reach reports")
	overloadStalled  = flag.Int("overload-stalled", 150, "TestOverload: clients asking a limit=10000 page and never reading")
	overloadHold     = flag.Duration("overload-hold", 20*time.Second, "TestOverload: how long the stalled clients hold their connections")
	overloadRSS      = flag.Int("overload-rss-mib", 0, "TestOverload: the bound of the server's peak RSS, MiB (0: from the limits, see rssBound)")
	overloadAfterRSS = flag.Int("overload-after-mib", 0, "TestOverload: the RSS the server must fall back under after the burst, MiB (0: from the limits)")
)

func TestOverload(t *testing.T) {
	if !*overload {
		t.Skip("the overload run is off; give -overload")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	lr := newLoadRun(t, ctx, *overloadStore)
	start := time.Now()
	lr.run(t, ctx, "import", "--synthetic", strconv.Itoa(*overloadPoints), "--collection", "waterlogging_points")
	t.Logf("imported %d synthetic points in %s", *overloadPoints, time.Since(start).Round(time.Millisecond))
	var logs strings.Builder
	var logMu sync.Mutex
	base, srv := lr.serve(t, ctx, writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}))
	pid := srv.Process.Pid
	host := strings.TrimPrefix(base, "http://")
	idleRSS, _ := rss(t, pid)
	load1 := loadAverage()
	peakBound, afterBound := rssBound(idleRSS/1024, DefaultLimits())
	if *overloadRSS > 0 {
		peakBound = *overloadRSS
	}
	if *overloadAfterRSS > 0 {
		afterBound = *overloadAfterRSS
	}

	// The probe: a seed layer every 100 ms, on a connection of its own.
	probeClient := &http.Client{Transport: &http.Transport{}}
	var (
		probeMu   sync.Mutex
		probeLat  []time.Duration
		probeFail []string
		stopProbe = make(chan struct{})
		probeDone = make(chan struct{})
		peakRSS   int
	)
	go func() {
		defer close(probeDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopProbe:
				return
			case <-tick.C:
			}
			if cur, _ := rss(t, pid); cur > peakRSS {
				peakRSS = cur
			}
			t0 := time.Now()
			res, err := probeClient.Get(base + "/collections/depots/items")
			if err == nil {
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
			}
			d := time.Since(t0)
			probeMu.Lock()
			probeLat = append(probeLat, d)
			if err != nil {
				probeFail = append(probeFail, err.Error())
			}
			probeMu.Unlock()
		}
	}()
	time.Sleep(5 * time.Second) // a baseline before the burst: the machine's own noise
	probeMu.Lock()
	baseline := slices.Clone(probeLat)
	probeLat = probeLat[:0]
	probeMu.Unlock()

	// The reach reports, read whole (gzipped, not decompressed).
	reachCodes := map[int]int{}
	var reachMu sync.Mutex
	var reachWG sync.WaitGroup
	var reachBytes atomic.Int64
	burst := time.Now()
	for i := range *overloadReach {
		reachWG.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
				fmt.Sprintf("%s/analysis/reach?format=geojson&ready=any&max_distance_m=%d", base, 3000+i), nil)
			req.Header.Set("Accept-Encoding", "gzip")
			code := 0
			if res, err := (&http.Client{Transport: &http.Transport{}}).Do(req); err == nil {
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				reachBytes.Add(n)
				code = res.StatusCode
			}
			reachMu.Lock()
			reachCodes[code]++
			reachMu.Unlock()
		})
	}
	// The stalled clients: each asks its own page of 10 000 and reads
	// nothing (no Accept-Encoding: the largest answer). They start a
	// moment after the reports, which would otherwise find the queue of
	// large builds full on PostGIS, where reading the data versions takes
	// a round trip.
	time.Sleep(200 * time.Millisecond)
	var stalled []net.Conn
	for i := range *overloadStalled {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("stalled client %d: %v", i, err)
		}
		stalled = append(stalled, c)
		fmt.Fprintf(c, "GET /collections/waterlogging_points/items?limit=10000&offset=%d HTTP/1.1\r\nHost: %s\r\n\r\n", i*(*overloadPoints-10000)/max(1, *overloadStalled), host)
	}
	reachWG.Wait()
	reachTook := time.Since(burst)
	if d := *overloadHold - time.Since(burst); d > 0 {
		time.Sleep(d)
	}
	// What the stalled clients got, had they read it: the status line.
	stalledCodes := map[string]int{}
	for _, c := range stalled {
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		b := make([]byte, 12)
		n, _ := io.ReadFull(c, b)
		code := "none yet"
		if n == 12 {
			code = string(b[9:12])
		}
		stalledCodes[code]++
		c.Close()
	}
	burstTook := time.Since(burst)
	probeMu.Lock()
	during := slices.Clone(probeLat)
	probeMu.Unlock()

	// After the burst: the memory goes back (builds queued by clients
	// that left may still run for up to Limits.Wait and their own time).
	var afterRSS int
	burstEnd := time.Now()
	deadline := burstEnd.Add(60 * time.Second)
	for {
		time.Sleep(time.Second)
		afterRSS, _ = rss(t, pid)
		if afterRSS < afterBound*1024 || time.Now().After(deadline) {
			break
		}
	}
	fellBack := time.Since(burstEnd)
	close(stopProbe)
	<-probeDone
	_, hwm := rss(t, pid)
	peakRSS = max(peakRSS, hwm)
	load2 := loadAverage()

	slices.Sort(during)
	slices.Sort(baseline)
	pctOf := func(lat []time.Duration, p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(100 * time.Microsecond)
	}
	pct := func(p float64) time.Duration { return pctOf(during, p) }
	logMu.Lock()
	errorLines := strings.Count(logs.String(), "level=ERROR")
	logMu.Unlock()
	t.Logf("overload: store %s, %d points, %d reach reports (%s, %.1f MiB read) and %d stalled limit=10000 clients; load average %s → %s",
		*overloadStore, *overloadPoints, *overloadReach, reachTook.Round(time.Millisecond), float64(reachBytes.Load())/(1<<20), *overloadStalled, load1, load2)
	t.Logf("reach statuses %v; stalled clients' statuses %v; %d ERROR log lines", reachCodes, stalledCodes, errorLines)
	t.Logf("probe (GET /collections/depots/items every 100 ms over %s): %d requests, p50 %s p90 %s p99 %s max %s, %d failed %v; before the burst (5 s, the machine's own noise): p50 %s p99 %s max %s",
		burstTook.Round(time.Millisecond), len(during), pct(0.5), pct(0.9), pct(0.99), pct(1), len(probeFail), probeFail[:min(3, len(probeFail))],
		pctOf(baseline, 0.5), pctOf(baseline, 0.99), pctOf(baseline, 1))
	t.Logf("server RSS: %.0f MiB idle, peak %.0f MiB (bound %d), %.0f MiB %s after the burst (bound %d)",
		float64(idleRSS)/1024, float64(peakRSS)/1024, peakBound, float64(afterRSS)/1024, fellBack.Round(time.Second), afterBound)
	if p99 := pct(0.99); p99 >= 200*time.Millisecond {
		t.Errorf("probe p99 %s, want under 200 ms", p99)
	}
	if len(probeFail) > 0 {
		t.Errorf("%d probes failed: %v", len(probeFail), probeFail[:min(3, len(probeFail))])
	}
	if peakRSS > peakBound*1024 {
		t.Errorf("peak RSS %.0f MiB, over the bound of %d MiB", float64(peakRSS)/1024, peakBound)
	}
	if afterRSS > afterBound*1024 {
		t.Errorf("RSS %.0f MiB after the burst, over %d MiB", float64(afterRSS)/1024, afterBound)
	}
	if errorLines > 0 {
		t.Errorf("%d ERROR log lines (client hang-ups and refusals are not errors)", errorLines)
	}
}

// buildPeakMiB is what one large build may hold at its peak: a reach
// report of 100 000 hazards allocates about 350 MiB (report, JSON, body,
// gzip), more than a page of 10 000 features (about 35 MiB).
const buildPeakMiB = 400

// rssBound returns the bounds of the server's RSS under the overload run,
// in MiB, from its RSS when idle (the data it holds) and its limits: at
// the peak, what it holds idle, plus the response cache (the budget of
// hazardmap serve, once more for the gzip forms), plus the bodies being
// sent (SendBytes), plus what the large builds allowed at once hold;
// after the burst, what it held idle plus the response cache, which keeps
// pages of the burst.
func rssBound(idleMiB int, lim Limits) (peak, after int) {
	cache := int(DefaultCacheBytes >> 20)
	peak = idleMiB + 2*cache + int(lim.SendBytes>>20) + lim.Builds*buildPeakMiB
	after = idleMiB + 2*cache
	return peak, after
}

// writerFunc is an io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
