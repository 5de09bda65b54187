package api

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// This file covers the errors that net/http answers by itself, before any
// handler runs, so that they too are problem JSON (RFC 9457) like every
// other error of the service: a request line or header it cannot parse
// (400), headers over http.Server.MaxHeaderBytes (431), a
// Transfer-Encoding it does not implement (501), an HTTP version it does
// not speak (505), and an Expect other than 100-continue (417). net/http
// writes the first four straight to the connection as text/plain, the
// last as an empty response; Listener's connections turn each into a
// problem body on its way out. Handlers never send text/plain (an error
// from a handler is problem JSON, problemsOnly sees to it), and JSON
// never holds a raw line break, so what is rewritten is exactly what
// net/http wrote itself.

// MaxHeaderBytes is the http.Server.MaxHeaderBytes cmd sets: a request's
// line and header fields may take this much (net/http allows 4 KiB more).
// A browser sends 1–2 KiB, a long token and cookies a little more; 32 KiB
// is generous. Beyond it net/http answers 431 (a problem body, through
// Listener).
const MaxHeaderBytes = 32 << 10

// Listener returns ln with the connections described above: the errors
// net/http writes itself are sent as problem JSON.
func Listener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c}, nil
}

// problemConn rewrites net/http's own error answers (see above).
type problemConn struct{ net.Conn }

// Write sends b, or the problem body of the error answer b is.
func (c *problemConn) Write(b []byte) (int, error) {
	if p := serverProblem(b); p != nil {
		if _, err := c.Conn.Write(p); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// CloseWrite lets net/http half-close the connection after a 431, as it
// does with a bare TCP connection, so that the client reads the answer.
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// serverErrorHeaders are the header lines of every error net/http writes
// straight to the connection (net/http/server.go, conn.serve).
const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// serverProblem returns the problem answer that replaces b when b is an
// error answer net/http wrote itself, or nil.
func serverProblem(b []byte) []byte {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) || len(b) < 12 || len(b) > 4096 {
		return nil
	}
	code, err := strconv.Atoi(string(b[9:12]))
	if err != nil || code < 400 {
		return nil
	}
	head, body, found := bytes.Cut(b, []byte("\r\n\r\n"))
	switch {
	case found && bytes.HasSuffix(append(head, "\r\n\r\n"...), []byte(serverErrorHeaders)):
		// "HTTP/1.1 400 Bad Request: <why>" + headers + "<code> <text>: <why>"
	case code == http.StatusExpectationFailed && found && len(body) == 0 && !bytes.Contains(bytes.ToLower(head), []byte("content-type:")):
	default:
		return nil
	}
	detail := http.StatusText(code)
	if _, why, ok := strings.Cut(string(body), ": "); ok {
		detail = why // net/http's own reason, such as "missing required Host header"
	}
	switch code {
	case http.StatusRequestHeaderFieldsTooLarge:
		detail = "the request line and header fields are larger than " + strconv.Itoa(MaxHeaderBytes) + " bytes"
	case http.StatusExpectationFailed:
		detail = "the only expectation this server meets is Expect: 100-continue"
	}
	p, _ := json.Marshal(problemDetails{Type: "about:blank", Title: http.StatusText(code), Status: code, Detail: detail})
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
	out.WriteString("Content-Type: " + typeProblem + "\r\nCache-Control: no-store\r\nConnection: close\r\n")
	out.WriteString("Content-Length: " + strconv.Itoa(len(p)+1) + "\r\n\r\n")
	out.Write(p)
	out.WriteByte('\n')
	return out.Bytes()
}
