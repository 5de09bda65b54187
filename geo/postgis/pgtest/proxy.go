package pgtest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections from Addr to a target, so a test can take
// the database away and bring it back under a running program. Off closes
// the listener and every live connection (as a stopped server would); On
// listens on the same address again, forwarding, or hanging (accepting
// connections and never answering, as a host that drops packets would).
type Proxy struct {
	// Addr is the host:port to connect to instead of the target.
	Addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener // nil while off
	hang  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// StartProxy starts a forwarding proxy to target on a free loopback port;
// it is stopped when t ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, Addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln, false)
	t.Cleanup(func() {
		p.Off()
		p.wg.Wait()
	})
	return p
}

func (p *Proxy) serve(ln net.Listener, hang bool) {
	p.mu.Lock()
	p.ln, p.hang = ln, hang
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.track(c) {
				c.Close()
				continue
			}
			p.mu.Lock()
			hang := p.hang
			p.mu.Unlock()
			if !hang {
				p.wg.Go(func() { p.pipe(c) })
			}
		}
	})
}

// track records c as live unless the proxy is off.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) pipe(c net.Conn) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	if !p.track(up) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// Off stops listening and cuts every live connection.
func (p *Proxy) Off() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// On listens on Addr again; with hang it accepts connections and never
// answers them.
func (p *Proxy) On(t testing.TB, hang bool) {
	t.Helper()
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.Addr, err)
	}
	p.serve(ln, hang)
}

// Through returns databaseURL with its host and port replaced by the
// proxy's address.
func (p *Proxy) Through(t testing.TB, databaseURL string) string {
	t.Helper()
	u, err := parseURL(databaseURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.Host = p.Addr
	return u.String()
}

// Target returns the host:port of the server that databaseURL names.
func Target(t testing.TB, databaseURL string) string {
	t.Helper()
	u, err := parseURL(databaseURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(host, port)
}
