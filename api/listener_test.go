package api

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestListenerProblems: the errors net/http answers by itself, before any
// handler runs, reach the client as problem JSON.
func TestListenerProblems(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: NewServer(OpenFixtureStore(t), Options{}), MaxHeaderBytes: MaxHeaderBytes, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(Listener(ln))
	t.Cleanup(func() { srv.Close() })
	for _, tt := range []struct {
		name, request string
		status        int
	}{
		{"headers too large", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", MaxHeaderBytes+8192) + "\r\n\r\n", 431},
		{"malformed request line", "GET\r\n\r\n", 400},
		{"no Host", "GET /healthz HTTP/1.1\r\n\r\n", 400},
		{"bad header line", "GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400},
		{"unknown transfer coding", "POST /tokens HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"unsupported version", "GET /healthz HTTP/2.5\r\nHost: x\r\n\r\n", 505},
		{"an expectation", "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417},
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		go io.WriteString(c, tt.request)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			c.Close()
			continue
		}
		body, _ := io.ReadAll(res.Body)
		c.Close()
		var p problemDetails
		if res.StatusCode != tt.status || res.Header.Get("Content-Type") != typeProblem || json.Unmarshal(body, &p) != nil || p.Status != tt.status || p.Detail == "" {
			t.Errorf("%s = %d %s %s, want %d problem JSON", tt.name, res.StatusCode, res.Header.Get("Content-Type"), body, tt.status)
		}
	}
	// An ordinary request on the same listener is untouched.
	res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz = %v, %v", res, err)
	}
	res.Body.Close()
}

// TestServerProblemLeavesHandlersAlone: a handler's own answers, errors
// included, pass the connection unchanged.
func TestServerProblemLeavesHandlersAlone(t *testing.T) {
	for _, b := range []string{
		"HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\nContent-Length: 2\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nok",
		`{"type":"FeatureCollection"}`,
	} {
		if p := serverProblem([]byte(b)); p != nil {
			t.Errorf("serverProblem(%q) = %q, want nil", b, p)
		}
	}
}
