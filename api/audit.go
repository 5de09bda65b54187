package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// auditJSON is one audit entry as GET /audit writes it: who, when, what,
// and the whole feature before and after (GeoJSON Features, null where
// there is none). It holds household detail: the route is for planners.
type auditJSON struct {
	Seq        int64           `json:"seq"`
	Time       string          `json:"time"`
	Actor      actorJSON       `json:"actor"`
	Collection string          `json:"collection"`
	FeatureID  string          `json:"feature_id"`
	Action     string          `json:"action"`
	Version    int64           `json:"version"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

// auditPage is the answer to GET /audit.
type auditPage struct {
	NumberMatched  int         `json:"numberMatched"`
	NumberReturned int         `json:"numberReturned"`
	Links          []link      `json:"links"`
	Entries        []auditJSON `json:"entries"`
}

// auditFeature encodes f of an audit entry, or null.
func auditFeature(f *geo.Feature) (json.RawMessage, error) {
	if f == nil {
		return json.RawMessage("null"), nil
	}
	return geojson.AppendFeature(nil, f)
}

// handleAudit serves GET /audit (planner): the audit log, newest first,
// filtered by collection (a feature collection or "tokens"), feature_id
// (with a collection) and datetime (or from/to), a page at a time.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q, err := parseHistoryQuery(r.URL.Query(), "collection", "feature_id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	aq := geo.AuditQuery{Collection: q.Extra["collection"], FeatureID: q.Extra["feature_id"],
		From: q.From, To: q.To, Limit: q.Limit, Offset: q.Offset}
	if err := aq.Check(); err != nil {
		s.fail(w, r, err)
		return
	}
	entries, matched, err := s.store.Audit(r.Context(), aq)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: audit: %w", err))
		return
	}
	page := auditPage{NumberMatched: matched, NumberReturned: len(entries), Entries: make([]auditJSON, 0, len(entries)),
		Links: q.pageLinks(s.baseURL(r)+"/audit", len(entries), matched)}
	for _, e := range entries {
		before, err := auditFeature(e.Before)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		after, err := auditFeature(e.After)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		page.Entries = append(page.Entries, auditJSON{Seq: e.Seq, Time: e.Time.UTC().Format(time.RFC3339Nano),
			Actor: newActorJSON(e.Actor), Collection: e.Collection, FeatureID: e.FeatureID, Action: string(e.Action),
			Version: e.Version, Before: before, After: after})
	}
	writeJSON(w, r, http.StatusOK, page)
}
