package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// runOK runs the program with args and no environment but env, and
// returns its standard output.
func runOK(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	if err := run(context.Background(), args, func(k string) string { return env[k] }, nil, &out, &errs); err != nil {
		t.Fatalf("hazardmap %s = %v\n%s", strings.Join(args, " "), err, errs.String())
	}
	return out.String()
}

// createToken runs `token create` and returns the secret it printed (the
// last line) and the id.
func createToken(t *testing.T, env map[string]string, args ...string) (secret, id string) {
	t.Helper()
	out := runOK(t, env, append([]string{"token", "create"}, args...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret = lines[len(lines)-1]
	if !strings.HasPrefix(secret, "hm_") || len(secret) != 46 {
		t.Fatalf("token create printed %q: want the secret on the last line", out)
	}
	f := strings.Fields(lines[0])
	if len(f) < 3 || f[0] != "created" {
		t.Fatalf("token create printed %q", out)
	}
	return secret, f[2]
}

func TestTokenCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HAZARDMAP_DATA_DIR": dir}
	secret, id := createToken(t, env, "--role", "crew", "--name", "城建局一队", "--expires", "720h")
	_, adminID := createToken(t, env, "--role", "admin", "--name", "值班室")

	list := runOK(t, env, "token", "list")
	for _, want := range []string{id, "城建局一队", "crew", "active", adminID, "never"} {
		if !strings.Contains(list, want) {
			t.Errorf("token list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, secret) || strings.Contains(list, secret[3:]) {
		t.Errorf("token list shows the secret:\n%s", list)
	}

	// The token works against a server on the same store; revoked, it
	// does not.
	base, stop := start(t, env)
	report := func() int {
		req, _ := http.NewRequest("POST", base+"/collections/waterlogging_points/items/wp-underpass-xingze/observations",
			strings.NewReader(`{"depth_cm":40,"status":"closed"}`))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if code := report(); code != http.StatusCreated {
		t.Errorf("report with the new crew token = %d, want it accepted", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if out := runOK(t, env, "token", "revoke", id); !strings.Contains(out, "revoked") {
		t.Errorf("token revoke printed %q", out)
	}
	if list := runOK(t, env, "token", "list"); !strings.Contains(list, "revoked") {
		t.Errorf("token list after revoke:\n%s", list)
	}
	base, _ = start(t, env)
	if code := report(); code != http.StatusUnauthorized {
		t.Errorf("report with a revoked token = %d, want 401", code)
	}

	// Bad command lines.
	for _, args := range [][]string{
		{"token"}, {"token", "frob"}, {"token", "create"}, {"token", "create", "--role", "crew"}, {"token", "revoke"},
		{"token", "list", "extra"},
	} {
		if err := run(context.Background(), append(args, "--data-dir", t.TempDir()), func(string) string { return "" }, nil, io.Discard, io.Discard); err != errUsage {
			t.Errorf("hazardmap %s = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	for _, args := range [][]string{
		{"token", "create", "--role", "public", "--name", "x"},
		{"token", "create", "--role", "boss", "--name", "x"},
		{"token", "revoke", "no-such-token"},
	} {
		if err := run(context.Background(), append(args, "--data-dir", t.TempDir()), func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil || err == errUsage {
			t.Errorf("hazardmap %s = %v, want an error", strings.Join(args, " "), err)
		}
	}
}
