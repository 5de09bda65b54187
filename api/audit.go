package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"hazardmap/geo"
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
	Links          []Link      `json:"links"`
	Entries        []auditJSON `json:"entries"`
}

// auditFeature encodes f of an audit entry, or null.
func auditFeature(f *geo.Feature) (json.RawMessage, error) {
	if f == nil {
		return json.RawMessage("null"), nil
	}
	return AppendFeature(nil, f)
}

// handleAudit serves GET /audit (planner): the audit log, newest first,
// filtered by collection (a feature collection or "tokens"), feature_id
// (with a collection) and datetime (or from/to), a page at a time.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q, err := ParseHistoryQuery(r.URL.Query(), "collection", "feature_id")
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

// documentAudit documents GET /audit.
func documentAudit(add func(string, obj), schemas, params obj) {
	str := obj{"type": "string"}
	collections := geo.LedgerCollections()
	for _, sc := range geo.Schemas() {
		collections = append(collections, sc.ID)
	}
	params["audit.collection"] = obj{"name": "collection", "in": "query", "required": false,
		"description": "Only the entries of this collection (or of tokens).", "schema": obj{"type": "string", "enum": collections}}
	params["audit.feature_id"] = obj{"name": "feature_id", "in": "query", "required": false,
		"description": "Only the entries of this feature (with collection).", "schema": str}
	feature := obj{"type": "object", "nullable": true, "description": "The whole feature (GeoJSON), household detail included; null where there is none."}
	schemas["auditEntry"] = obj{"type": "object", "required": []string{"seq", "time", "actor", "collection", "feature_id", "action", "version", "before", "after"},
		"properties": obj{
			"seq":        obj{"type": "integer", "description": "Commit order; the id of the change on /events."},
			"time":       obj{"type": "string", "format": "date-time"},
			"actor":      ref("schemas", "actor"),
			"collection": str,
			"feature_id": str,
			"action":     obj{"type": "string", "enum": geo.Actions()},
			"version":    obj{"type": "integer", "description": "The version after the write; 0 after a delete."},
			"before":     feature,
			"after":      feature,
		}}
	add("/audit", obj{"operationId": "getAudit", "tags": []string{"Audit"}, "summary": "The audit log, newest first (planner)",
		"description": "Every write: who (token id, name, role), when, what, and the feature before and after, recorded in the same transaction as the write.",
		"parameters":  append([]any{ref("parameters", "audit.collection"), ref("parameters", "audit.feature_id")}, historyParams()...),
		"responses": obj{
			"200": obj{"description": "A page of entries, with next and prev links.", "content": content(obj{typeJSON: obj{
				"type": "object", "required": []string{"numberMatched", "numberReturned", "links", "entries"}, "properties": obj{
					"numberMatched":  obj{"type": "integer", "minimum": 0},
					"numberReturned": obj{"type": "integer", "minimum": 0},
					"links":          obj{"type": "array", "items": ref("schemas", "link")},
					"entries":        obj{"type": "array", "items": ref("schemas", "auditEntry")},
				}}})},
			"400": ref("responses", "BadRequest"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}})
}
