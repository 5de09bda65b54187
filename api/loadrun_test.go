package api

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hazardmap/geo/postgis/pgtest"
)

// Helpers of the load runs (TestSSELoad, TestOverload): a hazardmap
// binary built from this tree, run as a process of its own on loopback so
// that its RSS is the server's alone.

// loadRun is a hazardmap binary and the environment of one store.
type loadRun struct {
	bin string
	env []string
}

// newLoadRun builds hazardmap into a temporary directory and returns it
// with the environment of store (embedded, or postgis on a database of
// its own, which needs DATABASE_URL).
func newLoadRun(t *testing.T, ctx context.Context, store string) loadRun {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hazardmap")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hazardmap")
	build.Dir = ModuleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "HAZARDMAP_DATA_DIR="+filepath.Join(dir, "data"), "HAZARDMAP_LOG_LEVEL=warn")
	switch store {
	case "embedded":
		env = append(env, "DATABASE_URL=")
	case "postgis":
		env = append(env, "DATABASE_URL="+pgtest.NewDatabase(t))
	default:
		t.Fatalf("store %q: want embedded or postgis", store)
	}
	return loadRun{bin: bin, env: env}
}

// run runs a hazardmap command to its end and returns its standard output.
func (lr loadRun) run(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, lr.bin, args...)
	cmd.Env = lr.env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hazardmap %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// serve starts hazardmap serve on a free loopback port with args, and
// returns its base URL and process; the server is stopped when t ends.
// Its standard error goes to stderr.
func (lr loadRun) serve(t *testing.T, ctx context.Context, stderr io.Writer, args ...string) (string, *exec.Cmd) {
	t.Helper()
	srv := exec.CommandContext(ctx, lr.bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	srv.Env = lr.env
	srv.Stderr = stderr
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve said nothing: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	base := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "hazardmap: serving "), "/")
	if res, err := http.Get(base + "/collections/depots/items"); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return base, srv
}
