package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hazardmap/geo/postgis/pgtest"
)

// start runs `hazardmap serve` on 127.0.0.1:0 with env and returns its base
// URL and a stop function that cancels it and returns run's error.
func start(t *testing.T, env map[string]string, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), pw, &stderr)
		pw.Close()
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve said nothing: %v (stderr: %s; run: %v)", err, stderr.String(), <-done)
	}
	go io.Copy(io.Discard, pr)
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "hazardmap: serving ")
	if !ok {
		t.Fatalf("serve printed %q", line)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop within 30 s of cancel")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return strings.TrimSuffix(base, "/"), stop
}

func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func TestServeEmbeddedSeedsAndStops(t *testing.T) {
	dir := t.TempDir()
	base, stop := start(t, map[string]string{"HAZARDMAP_DATA_DIR": dir})
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("run after cancel = %v, want nil", err)
	}
	// The data dir now holds the seeded store; export reads it back.
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"export", "--collection", "waterlogging_points", "--data-dir", dir}, func(string) string { return "" }, nil, &out, &errs)
	if err != nil {
		t.Fatalf("export = %v (%s)", err, errs.String())
	}
	var fc struct {
		Features []map[string]any `json:"features"`
	}
	if err := json.Unmarshal(out.Bytes(), &fc); err != nil {
		t.Fatalf("export wrote invalid JSON: %v", err)
	}
	if len(fc.Features) != 19 {
		t.Errorf("export after seeding: %d waterlogging points, want 19", len(fc.Features))
	}
}

func TestServeTwiceSeedsOnce(t *testing.T) {
	dir := t.TempDir()
	_, stop := start(t, nil, "--data-dir", dir)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Delete nothing, serve again: the seed must not be loaded twice (that
	// would fail on the existing ids).
	_, stop = start(t, nil, "--data-dir", dir)
	if err := stop(); err != nil {
		t.Fatalf("second serve = %v", err)
	}
}

func TestServeBusyPortFailsAtOnce(t *testing.T) {
	base, _ := start(t, nil, "--data-dir", t.TempDir())
	addr := strings.TrimPrefix(base, "http://")
	err := run(context.Background(), []string{"serve", "--addr", addr, "--data-dir", t.TempDir()}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("serve on a busy port = %v, want a listen error", err)
	}
}

func TestImportExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "in.geojson")
	in := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"new-1","geometry":{"type":"Point","coordinates":[113.4,34.8]},"properties":{"name":"新积水点","kind":"road_spot","location_source":"crew GPS","location_precision_m":10}},
{"type":"Feature","id":"new-2","geometry":null,"properties":{"name":"待定位","kind":"road_spot","location_source":"none yet"}}]}`
	if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(string) string { return "" }
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"import", file, "--collection", "waterlogging_points", "--data-dir", dir}, env, nil, &out, &errs); err != nil {
		t.Fatalf("import = %v (%s)", err, errs.String())
	}
	if !strings.Contains(out.String(), "imported 2 features") {
		t.Errorf("import said %q", out.String())
	}
	// A bad file writes nothing.
	bad := strings.Replace(in, `"new-1"`, `"new-3"`, 1)
	bad = strings.Replace(bad, `"new-2"`, `"new-4"`, 1)
	bad = strings.Replace(bad, `"road_spot","location_source":"none yet"`, `"river","location_source":"none yet"`, 1)
	if err := run(context.Background(), []string{"import", "-", "--collection", "waterlogging_points", "--data-dir", dir}, env, strings.NewReader(bad), io.Discard, io.Discard); err == nil {
		t.Fatal("import of an invalid feature succeeded")
	}
	out.Reset()
	if err := run(context.Background(), []string{"export", "--collection", "waterlogging_points", "--data-dir", dir}, env, nil, &out, &errs); err != nil {
		t.Fatalf("export = %v", err)
	}
	var fc struct {
		Features []struct {
			ID       string          `json:"id"`
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(out.Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 2 || fc.Features[0].ID != "new-1" || string(fc.Features[1].Geometry) != "null" {
		t.Errorf("export = %s", out.String())
	}
}

func TestHelpDocumentsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings() {
		if !strings.Contains(out.String(), "--"+s.flag) || s.env != "" && !strings.Contains(out.String(), s.env) {
			t.Errorf("help does not document --%s / %s", s.flag, s.env)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err != errUsage {
		t.Errorf("unknown command = %v, want errUsage", err)
	}
	var help bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, nil, io.Discard, &help); err != errHelp || exitCode(err) != 0 || !strings.Contains(help.String(), "HAZARDMAP_ADDR") {
		t.Errorf("--help = %v (exit %d), printed %q; want the usage and exit 0", err, exitCode(err), help.String())
	}
	if err := run(context.Background(), []string{"serve", "--no-such-flag"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err != errUsage {
		t.Errorf("unknown flag = %v, want errUsage", err)
	}
	err := run(context.Background(), []string{"serve", "--log-level", "loud", "--addr", "127.0.0.1:0"}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "log-level") {
		t.Errorf("bad log level = %v", err)
	}
}

func TestServePostGISMigratesAndSeeds(t *testing.T) {
	url := pgtest.NewDatabase(t)
	base, stop := start(t, map[string]string{"DATABASE_URL": url})
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("GET /readyz = %d %v", code, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"export", "--collection", "depots"}, func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	}, nil, &out, io.Discard); err != nil {
		t.Fatalf("export from PostGIS = %v", err)
	}
	if n := strings.Count(out.String(), `"type":"Feature",`); n != 22 {
		t.Errorf("PostGIS export after seeding: %d depots, want 22", n)
	}
	// migrate on an already migrated database is a no-op.
	if err := run(context.Background(), []string{"migrate", "--database-url", url}, func(string) string { return "" }, nil, io.Discard, io.Discard); err != nil {
		t.Errorf("migrate again = %v", err)
	}
}

// TestPostGISOutageUnderRunningServer takes the database away under a
// running server: /readyz and data requests answer 503 problem JSON, the
// process stays up, and service comes back by itself when the database does.
func TestPostGISOutageUnderRunningServer(t *testing.T) {
	url := pgtest.NewDatabase(t)
	proxy := pgtest.StartProxy(t, pgtest.Target(t, url))
	base, stop := start(t, map[string]string{"DATABASE_URL": proxy.Through(t, url)})
	paths := []string{"/readyz", "/collections/waterlogging_points/items", "/collections/depots/items/depot-city"}
	for _, p := range paths {
		if code, body := get(t, base+p); code != http.StatusOK {
			t.Fatalf("GET %s before the outage = %d %v", p, code, body)
		}
	}

	proxy.Off()
	for _, p := range paths {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatalf("GET %s during the outage: %v (the server must stay up)", p, err)
		}
		var prob map[string]any
		_ = json.NewDecoder(res.Body).Decode(&prob)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Content-Type") != "application/problem+json" || prob["status"] != 503.0 {
			t.Errorf("GET %s during the outage = %d %s %v, want 503 problem JSON", p, res.StatusCode, res.Header.Get("Content-Type"), prob)
		}
	}

	proxy.On(t, false)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := get(t, base+"/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d 30 s after the database came back", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range paths {
		if code, body := get(t, base+p); code != http.StatusOK {
			t.Errorf("GET %s after the outage = %d %v", p, code, body)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("serve after the outage = %v", err)
	}
}

func TestOriginOf(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"},
		{"https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://{s}.tile.example.org"},
		{"http://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}&tk=KEY", "http://t{s}.tianditu.gov.cn"},
		{"ftp://example.org/{z}", "error"},
		{"tiles/{z}/{x}/{y}.png", "error"},
		{"https://{q}.example.org/{z}", "error"},
	}
	for _, c := range cases {
		got, err := originOf(c.in)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("originOf(%q) = %q (%v), want %q", c.in, got, err, c.want)
		}
	}
}
