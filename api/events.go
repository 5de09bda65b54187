package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"hazardmap/geo"
)

// This file serves GET /events: every change of the store as Server-Sent
// Events, on every instance (with PostGIS the signal crosses instances
// through LISTEN/NOTIFY), fanned out by the hub (hub.go).

// Close ends every event stream (clients reconnect, to another instance
// when this one is going away) and stops reading changes. Call it when
// the server shuts down (http.Server.RegisterOnShutdown): a stream never
// goes idle, so http.Server.Shutdown would otherwise wait for it until
// its deadline. The rest of the API keeps working.
func (s *Server) Close() error {
	s.events.close()
	return nil
}

// parseLastEventID reads where a client resumes: the Last-Event-ID
// header that an EventSource sends when it reconnects, else the after
// query parameter (a client's first connection, or a page that stored the
// id). The header wins, as a reconnecting EventSource repeats the URL it
// was opened with. Both are a seq: a non-negative decimal integer; an
// empty header counts as absent. Errors are Invalid and name the source.
func parseLastEventID(header string, query []string) (after int64, resume bool, err error) {
	parse := func(field, raw string) (int64, bool, error) {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || strings.TrimLeft(raw, "0123456789") != "" {
			return 0, false, geo.InvalidField(field, "want the id of an event (a non-negative integer), got %q", raw)
		}
		return n, true, nil
	}
	if header != "" {
		return parse("Last-Event-ID", header)
	}
	switch len(query) {
	case 0:
		return 0, false, nil
	case 1:
		return parse("after", query[0])
	}
	return 0, false, geo.InvalidField("after", "give this parameter once")
}

// parseEventsQuery checks the query string of /events: after and f only.
func parseEventsQuery(r *http.Request) (after int64, resume bool, err error) {
	v := r.URL.Query()
	for name := range v {
		if name != "after" && name != "f" {
			return 0, false, geo.InvalidField(name, "unknown parameter; /events takes after (and f=json)")
		}
	}
	if f, ok := v["f"]; ok {
		if len(f) != 1 {
			return 0, false, geo.InvalidField("f", "give this parameter once")
		}
		if err := parseFormat(f[0], false); err != nil {
			return 0, false, err
		}
	}
	return parseLastEventID(r.Header.Get("Last-Event-ID"), v["after"])
}

// handleEvents serves GET /events: Server-Sent Events of every change,
// each `id: <public number>` (hub.go, "Event ids"), `event: <action>`,
// `data: {collection, id, action, version, time}`; token changes, with no
// id, to admins only. It first sends an event "ready" whose id is where
// the stream starts, so that a client that reconnects before any change
// resumes from there. A client resuming from an id the store has not
// reached gets "reset" (load everything again) after it. A heartbeat
// comment follows every quiet heartbeatInterval.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	after, resume, err := parseEventsQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	sn, err := s.events.subscribe(r.Context(), after, resume)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer s.events.unsubscribe(sn.sub)
	// The stream outlives the server's read and write timeouts, which are
	// there for ordinary requests: lift them for this response.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	admin := roleOf(r).AtLeast(geo.RoleAdmin)

	w.WriteHeader(http.StatusOK)
	// floor is the last seq the client has, or need not have; the ids it
	// is told are public numbers (hub.go, "Event ids").
	floor, id := sn.after, sn.headPub
	if resume && !sn.reset {
		id = after
	}
	if _, err := fmt.Fprintf(w, "retry: %d\nid: %d\nevent: ready\ndata: {\"after\":%d}\n\n", reconnectAfter, id, id); err != nil {
		return
	}
	send := func(batch []event) error {
		for _, e := range batch {
			if e.seq <= floor {
				continue
			}
			floor = e.seq
			if e.tokens && !admin {
				continue
			}
			if _, err := w.Write(e.msg); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case sn.reset:
		// Resuming from further than the store has reached: the client
		// holds another history (see subscription). It reloads, then
		// follows from here.
		if err := writeReset(w, sn.headPub); err != nil {
			return
		}
	case !resume:
	case sn.covered:
		if err := send(sn.backlog); err != nil {
			return
		}
	default:
		if err := s.backfill(r.Context(), w, floor, sn.head, sn.headPub, send); err != nil {
			return
		}
		floor = max(floor, sn.head)
	}
	if rc.Flush() != nil {
		return
	}

	beat := time.NewTicker(sn.heartbeat)
	defer beat.Stop()
	for {
		select {
		case batch, ok := <-sn.sub.ch:
			if !ok {
				return // cut off or shutting down: the client reconnects
			}
			// Whatever else is waiting goes out with it, in one write:
			// when a storm of reports outruns the machine, each client
			// costs a system call per round rather than per event, and
			// catches up instead of falling further behind.
			for more := true; more && ok; {
				if send(batch) != nil {
					return
				}
				select {
				case batch, ok = <-sn.sub.ch:
				default:
					more = false
				}
			}
			if rc.Flush() != nil || !ok {
				return
			}
			beat.Reset(sn.heartbeat)
		case <-beat.C:
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// backfill sends a resuming client the changes in (after, head] that the
// hub's ring no longer holds, read from the store; beyond maxBackfill it
// sends a reset event (refetch everything) with id headPub, the public
// number of head, instead.
func (s *Server) backfill(ctx context.Context, w http.ResponseWriter, after, head, headPub int64, send func([]event) error) error {
	for read := 0; after < head; {
		if read >= maxBackfill {
			return writeReset(w, headPub)
		}
		cs, err := s.store.Changes(ctx, after, 0)
		if err != nil || len(cs) == 0 {
			return err
		}
		if i := slices.IndexFunc(cs, func(c geo.Change) bool { return c.Seq > head }); i >= 0 {
			cs = cs[:i]
		}
		batch, err := s.events.numbered(cs)
		if err != nil {
			return err
		}
		if err := send(batch); err != nil {
			return err
		}
		read += len(cs)
		if len(cs) == 0 {
			return nil
		}
		after = cs[len(cs)-1].Seq
	}
	return nil
}

// writeReset tells a client to load everything again and follow from
// public number id: the map reloads its layers on it (web/map/src/live.js).
func writeReset(w http.ResponseWriter, id int64) error {
	_, err := fmt.Fprintf(w, "id: %d\nevent: reset\ndata: {\"after\":%d}\n\n", id, id)
	return err
}
