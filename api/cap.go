package api

import (
	"context"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/notify/capmsg"
)

// This file publishes the alerts as OASIS CAP 1.2 messages, the way CAP
// feeds are published (OASIS "Example Practices: CAP Feeds", the
// Atom index that alert hubs and Google Public Alerts read):
//
//   - GET /cap/alerts.atom — an Atom feed (RFC 4287) with one entry per
//     current alert: every unresolved alert, and those resolved within
//     capRecent (so that a reader sees their Cancel). Each entry links
//     (rel="alternate", type="application/cap+xml") to the alert's latest
//     message.
//   - GET /cap/{identifier} — one CAP message, at a stable URL: the
//     identifier is hazardmap.<alert id>.<version>, so each step of an
//     alert (Alert when it opens, Update when it escalates or is
//     acknowledged, Cancel when it resolves, each referencing the earlier
//     ones) keeps its URL for good.
//
// Both are public (scope Public): the point of CAP is that other
// systems — the province's warning platform (GB/T 35965.1 is CAP-based),
// a news room — can pick the alerts up.

// Routes and settings of the CAP feed.
const (
	capRoute     = "/cap"
	capFeedRoute = capRoute + "/alerts.atom"
	// typeCAP and typeAtom are the media types of a CAP message and an
	// Atom feed.
	typeCAP  = "application/cap+xml"
	typeAtom = "application/atom+xml"
	// capRecent is how long a resolved alert stays in the feed.
	capRecent = 24 * time.Hour
	// capMaxEntries bounds the feed (alert hubs want feeds under 100 KB):
	// the unresolved alerts first, then the recently resolved.
	capMaxEntries = 200
)

// capSite returns the area of gauge g's messages: its location and
// precision, with its township and river.
func capSite(f *geo.Feature, g geo.Gauge) capmsg.Site {
	var site capmsg.Site
	var where []string
	for _, s := range []string{g.Township, g.River} {
		if s != "" {
			where = append(where, s)
		}
	}
	site.Description = strings.Join(where, " ")
	if f == nil {
		return site
	}
	if p, ok := f.Geometry.(orb.Point); ok {
		site.Point = &p
		if m, ok := f.Properties["location_precision_m"].(float64); ok {
			site.PrecisionM = m
		}
	}
	return site
}

// capMessage returns the CAP document of alert a at version v (a.AsOf).
func (s *Server) capMessage(ctx context.Context, a geo.Alert, v int64, base string) ([]byte, error) {
	step, ok := a.AsOf(v)
	if !ok {
		return nil, geo.Errorf(geo.NotFound, "alert %s has no version %d", a.ID, v)
	}
	g := geo.Gauge{ID: a.GaugeID}
	f, err := s.store.Feature(ctx, geo.Gauges, a.GaugeID)
	switch {
	case err == nil:
		if got, err := geo.GaugeOf(f); err == nil {
			g = got
		}
	case geo.KindOf(err) == geo.NotFound:
		f = nil // a deleted gauge: its alerts are still published
	default:
		return nil, err
	}
	opts := s.opts.CAP
	if opts.Web == "" {
		opts.Web = base + "/"
	}
	doc, err := capmsg.Encode(step, g, capSite(f, g), opts)
	if err != nil {
		return nil, fmt.Errorf("api: CAP message of %s/%d: %w", a.ID, v, err)
	}
	return doc, nil
}

// parseCAPIdentifier reads hazardmap.<alert id>.<version>.
func parseCAPIdentifier(raw string) (id string, v int64, err error) {
	rest, ok := strings.CutPrefix(raw, "hazardmap.")
	i := strings.LastIndexByte(rest, '.')
	if ok && i > 0 {
		id = rest[:i]
		v, err = strconv.ParseInt(rest[i+1:], 10, 64)
		if err == nil && v > 0 && geo.ValidateID(id) == nil {
			return id, v, nil
		}
	}
	return "", 0, geo.Errorf(geo.NotFound, "no CAP message %q: identifiers are hazardmap.<alert id>.<version>", raw)
}

// handleCAPMessage serves GET /cap/{identifier}: one CAP 1.2 message.
func (s *Server) handleCAPMessage(w http.ResponseWriter, r *http.Request) {
	if err := noQuery(r); err != nil {
		s.fail(w, r, err)
		return
	}
	id, v, err := parseCAPIdentifier(chi.URLParam(r, "identifier"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.store.Alert(r.Context(), id)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: CAP message: %w", err))
		return
	}
	doc, err := s.capMessage(r.Context(), a, v, s.baseURL(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	step, _ := a.AsOf(v)
	s.sendXML(w, r, typeCAP, doc, step.Updated)
}

// sendXML sends an XML document with a strong ETag of its bytes, so
// that a reader polling the feed gets a 304 while nothing changed.
func (s *Server) sendXML(w http.ResponseWriter, r *http.Request, ctype string, doc []byte, modified time.Time) {
	h := fnv.New64a()
	_, _ = h.Write(doc)
	s.serve(w, r, &response{body: doc, ctype: ctype, etag: fmt.Sprintf(`"%016x"`, h.Sum64()), modified: modified})
}

// Atom (RFC 4287) of the feed.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID      string     `xml:"id"`
	Title   string     `xml:"title"`
	Updated string     `xml:"updated"`
	Author  atomPerson `xml:"author"`
	Summary string     `xml:"summary"`
	Links   []atomLink `xml:"link"`
}

// handleCAPFeed serves GET /cap/alerts.atom: the Atom index of the
// current alerts' latest CAP messages.
func (s *Server) handleCAPFeed(w http.ResponseWriter, r *http.Request) {
	if err := noQuery(r); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	active, _, err := s.store.Alerts(ctx, geo.AlertQuery{Active: true, Limit: capMaxEntries})
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: CAP feed: %w", err))
		return
	}
	resolved, _, err := s.store.Alerts(ctx, geo.AlertQuery{State: geo.AlertResolved, Limit: capMaxEntries})
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: CAP feed: %w", err))
		return
	}
	latest, _, err := s.store.Alerts(ctx, geo.AlertQuery{Limit: 1})
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: CAP feed: %w", err))
		return
	}
	entries := active
	now := s.engine.Now() // the clock of the alerts' steps
	for _, a := range resolved {
		if len(entries) >= capMaxEntries {
			break
		}
		if now.Sub(a.Updated) < capRecent {
			entries = append(entries, a)
		}
	}
	base := s.baseURL(r)
	opts := s.opts.CAP
	sender := opts.SenderName
	if sender == "" {
		sender = "荥阳市防汛风险地图"
	}
	// The feed's time (Atom's updated: "the most recent instant in time
	// when an entry or feed was modified in a way the publisher considers
	// significant", RFC 4287 §4.2.15) is its newest alert's, so that two
	// instances (and two requests) build the same bytes while nothing
	// changed. While no alert has ever been raised the feed has been what
	// it is since this server began publishing it: its start, not year 1.
	var updated time.Time
	for _, a := range append(entries, latest...) {
		if a.Updated.After(updated) {
			updated = a.Updated
		}
	}
	if updated.IsZero() {
		updated = s.started
	}
	feed := atomFeed{ID: base + capFeedRoute, Title: sender + " 水情告警（CAP 1.2）", Updated: updated.UTC().Format(time.RFC3339),
		Author:  atomPerson{Name: sender},
		Links:   []atomLink{{Rel: "self", Type: typeAtom, Href: base + capFeedRoute}, {Rel: "alternate", Type: typeHTML, Href: base + "/"}},
		Entries: []atomEntry{}}
	for _, a := range entries {
		names := map[string]string{}
		if f, err := s.store.Feature(ctx, geo.Gauges, a.GaugeID); err == nil {
			names[a.GaugeID], _ = f.Properties["name"].(string)
		}
		name := names[a.GaugeID]
		if name == "" {
			name = a.GaugeID
		}
		c := geo.Condition{Kind: a.Kind, Value: a.Value, Limit: a.Limit, Period: a.Period, At: a.At}
		title := name + a.Kind.TitleZH()
		switch a.State {
		case geo.AlertResolved:
			title += "（已解除）"
		case geo.AlertAcknowledged:
			title += "（已确认）"
		}
		href := base + capMessagePath(a.ID, a.Version)
		feed.Entries = append(feed.Entries, atomEntry{ID: href, Title: title, Updated: a.Updated.UTC().Format(time.RFC3339),
			Author: atomPerson{Name: sender}, Summary: c.Describe(),
			Links: []atomLink{{Rel: "alternate", Type: typeCAP, Href: href}}})
	}
	out, err := xml.MarshalIndent(feed, "", "  ")
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: encode the CAP feed: %w", err))
		return
	}
	s.sendXML(w, r, typeAtom, append([]byte(xml.Header), append(out, '\n')...), updated)
}
