package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	qr "github.com/piglig/go-qr"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
)

// runErr runs the program and returns its error.
func runErr(env map[string]string, args ...string) error {
	return run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
}

// decodeQR reads the QR code that writeQR drew in out back into text.
func decodeQR(t *testing.T, out string) string {
	t.Helper()
	var rows [][]bool
	for _, line := range strings.Split(out, "\n") {
		body, ok := strings.CutPrefix(line, "\x1b[30;47m")
		if !ok {
			continue
		}
		body = strings.TrimSuffix(body, "\x1b[0m")
		var top, bottom []bool
		for _, r := range body {
			top = append(top, r == '█' || r == '▀')
			bottom = append(bottom, r == '█' || r == '▄')
		}
		rows = append(rows, top, bottom)
	}
	if len(rows) == 0 {
		t.Fatalf("no QR code in %q", out)
	}
	const scale = 6
	img := image.NewGray(image.Rect(0, 0, len(rows[0])*scale, len(rows)*scale))
	for y, row := range rows {
		for x, dark := range row {
			c := color.Gray{255}
			if dark {
				c = color.Gray{0}
			}
			for dy := range scale {
				for dx := range scale {
					img.SetGray(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	text, err := qr.Decode(img)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	return text
}

func TestWriteQR(t *testing.T) {
	link := "https://hazardmap.example.org/#signin=7KQ2-M9XD-4TRA-0ZPB"
	var b bytes.Buffer
	if err := writeQR(&b, link); err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, b.String()); got != link {
		t.Errorf("QR code reads %q, want %q", got, link)
	}
}

// TestCLIWritesThroughRunningServer runs `serve` on the embedded store and
// the token, import and export commands beside it: they go through the
// control socket, are audited as the system's, and take effect at once.
func TestCLIWritesThroughRunningServer(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HAZARDMAP_DATA_DIR": dir, "HAZARDMAP_BASE_URL": "https://hazardmap.example.org/xy"}
	base, stop := start(t, env)

	sock := filepath.Join(dir, controlSocket)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %s: %v, %v; want a socket with mode 0600", sock, fi, err)
	}

	// A token, while the server holds the store.
	out := runOK(t, env, "token", "create", "--role", "admin", "--name", "值班室")
	if !strings.Contains(out, "through the running server") {
		t.Errorf("token create did not go through the server:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	admin := lines[len(lines)-1]
	adminID := strings.Fields(lines[0])[2]
	do := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	if code, body := do("GET", "/tokens", ""); code != http.StatusOK || !strings.Contains(string(body), "值班室") {
		t.Fatalf("GET /tokens with the token made through the socket = %d %s", code, body)
	}

	// A sign-in link: printed with its QR code; its base is the server's
	// --base-url; the code is not usable twice.
	out = runOK(t, env, "token", "create", "--role", "crew", "--name", "城建局一队", "--link", "--expires", "720h", "--link-expires", "30m")
	link := regexp.MustCompile(`https://hazardmap.example.org/xy/#signin=[0-9A-Z-]{19}`).FindString(out)
	if link == "" {
		t.Fatalf("token create --link printed no link:\n%s", out)
	}
	if got := decodeQR(t, out); got != link {
		t.Errorf("the QR code reads %q, want the link %q", got, link)
	}
	code := link[strings.Index(link, "=")+1:]
	if !strings.Contains(out, "type the code") || !strings.Contains(out, code) || strings.Contains(out, "hm_") {
		t.Errorf("token create --link output (want the code to type, no token):\n%s", out)
	}
	linkToken := regexp.MustCompile(`hazardmap token revoke ([0-9a-f]+)`).FindStringSubmatch(out)
	if linkToken == nil {
		t.Fatalf("token create --link names no token id:\n%s", out)
	}

	// Import and export through the server; the import is live at once.
	file := filepath.Join(t.TempDir(), "depot.geojson")
	os.WriteFile(file, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":"cli-depot","geometry":{"type":"Point","coordinates":[113.38,34.79]},
		"properties":{"name":"测试仓库","level":"village","location_source":"test","location_precision_m":10}}]}`), 0o600)
	if out := runOK(t, env, "import", file, "--collection", "depots"); !strings.Contains(out, "imported 1 features into depots (through the running server") {
		t.Errorf("import printed %q", out)
	}
	if code, _ := do("GET", "/collections/depots/items/cli-depot", ""); code != http.StatusOK {
		t.Errorf("GET the imported depot = %d", code)
	}
	if out := runOK(t, env, "export", "--collection", "depots"); !strings.Contains(out, `"cli-depot"`) || !json.Valid([]byte(out)) {
		t.Errorf("export through the server lacks the depot or is not JSON: %.200s", out)
	}
	if err := runErr(env, "import", file, "--collection", "depots"); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("importing the same id again = %v, want the store's conflict", err)
	}

	// Revoke through the server: the token stops working at once.
	if out := runOK(t, env, "token", "list"); !strings.Contains(out, "值班室") {
		t.Errorf("token list through the server:\n%s", out)
	}
	runOK(t, env, "token", "revoke", linkToken[1])
	// Audited as the system's, like any CLI write.
	codeA, body := do("GET", "/audit?collection=tokens", "")
	if codeA != http.StatusOK {
		t.Fatalf("GET /audit = %d %s", codeA, body)
	}
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			ID     string `json:"feature_id"`
			Actor  struct {
				ID string `json:"id"`
			} `json:"actor"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(body, &audit); err != nil {
		t.Fatalf("audit: %v: %s", err, body)
	}
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action+" "+e.ID+" by "+e.Actor.ID)
	}
	for _, want := range []string{"create " + adminID + " by system", "link " + linkToken[1] + " by system", "revoke " + linkToken[1] + " by system"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("audit lacks %q: %v", want, actions)
		}
	}
	runOK(t, env, "token", "revoke", adminID)
	if code, _ := do("GET", "/tokens", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /tokens with a token revoked through the socket = %d, want 401", code)
	}

	// Stopped, the server removes its socket; the CLI opens the store
	// itself. The revoked link cannot be exchanged; a new one can, once.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket after serve stopped: %v", err)
	}
	out = runOK(t, env, "token", "create", "--role", "crew", "--name", "二队", "--link")
	if strings.Contains(out, "through the running server") {
		t.Errorf("with no server the CLI still went through one:\n%s", out)
	}
	code2 := regexp.MustCompile(`#signin=([0-9A-Z-]{19})`).FindStringSubmatch(out)[1]
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := geo.RedeemSignIn(context.Background(), s, code, time.Now()); geo.KindOf(err) != geo.Unauthorized {
		t.Errorf("redeeming a revoked link = %v, want Unauthorized", err)
	}
	tok, secret, err := geo.RedeemSignIn(context.Background(), s, code2, time.Now())
	if err != nil || tok.Name != "二队" || tok.Role != geo.RoleCrew {
		t.Fatalf("redeeming the link = %+v, %v", tok, err)
	}
	if _, err := geo.Authenticate(context.Background(), s, secret, time.Now()); err != nil {
		t.Errorf("the token from the link does not authenticate: %v", err)
	}
}

// TestCLIWhenNoServerAnswers: a socket left by a server that died is
// ignored; a store held by something else than serve is a clear error.
func TestCLIWhenNoServerAnswers(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HAZARDMAP_DATA_DIR": dir}
	// A stale socket: bound, then its listener gone.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, controlSocket), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if out := runOK(t, env, "token", "create", "--role", "crew", "--name", "一队"); strings.Contains(out, "through") {
		t.Errorf("token create with a stale socket:\n%s", out)
	}
	// The store held open by another process, no server on the socket.
	os.Remove(filepath.Join(dir, controlSocket))
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = runErr(env, "token", "create", "--role", "crew", "--name", "二队")
	if err == nil || !strings.Contains(err.Error(), "locked by another process") || !strings.Contains(err.Error(), "no hazardmap serve answers") {
		t.Errorf("token create with the store held and no server = %v; want both said", err)
	}
	// --link needs a base URL when no server can tell it.
	s.Close()
	err = runErr(env, "token", "create", "--role", "crew", "--name", "二队", "--link")
	if err == nil || !strings.Contains(err.Error(), "--base-url") {
		t.Errorf("token create --link without a base URL = %v", err)
	}
	for _, args := range [][]string{
		{"--link", "--link-expires", "25h", "--base-url", "https://x.example.org"},
		{"--link", "--link-expires", "0s", "--base-url", "https://x.example.org"},
		{"--link", "--base-url", "x.example.org"},
	} {
		err := runErr(env, append([]string{"token", "create", "--role", "crew", "--name", "三队"}, args...)...)
		if err == nil {
			t.Errorf("token create %v succeeded", args)
		}
	}
}

func TestPeerAllowed(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("unix", ln.Addr().String()) // queued until accepted
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !peerAllowed(c) {
		t.Error("a connection from this process's own user was refused")
	}
}
