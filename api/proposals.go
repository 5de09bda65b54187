package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file serves location proposals: a crew standing at a record that
// has no place (待定位), or only a rough one, proposes where it is, from
// the phone's GPS; a planner accepts the proposal (the feature gets the
// position, with who stood there and how precisely) or rejects it with a
// reason. Every step is audited and announced on /events.

// Routes of the proposals (the per-collection POST is in routes.go).
const (
	proposalsRoute = "/location-proposals"
	proposalRoute  = proposalsRoute + "/{proposalId}"
)

// maxReasonBody caps the body of a rejection.
const maxReasonBody = 4 << 10

// proposalsPath returns the route on which crews propose a location for a
// feature of collection c.
func proposalsPath(c string) string {
	return "/collections/" + c + "/items/{featureId}/location-proposals"
}

// proposalJSON is a location proposal as the API writes it.
type proposalJSON struct {
	ID         int64           `json:"id"`
	Collection string          `json:"collection"`
	FeatureID  string          `json:"feature_id"`
	Position   json.RawMessage `json:"position"`
	AccuracyM  float64         `json:"accuracy_m"`
	Method     string          `json:"method"`
	Note       string          `json:"note"`
	ObservedAt *string         `json:"observed_at"`
	Received   string          `json:"received"`
	Proposer   actorJSON       `json:"proposer"`
	Status     string          `json:"status"`
	Decided    *string         `json:"decided"`
	Decider    *actorJSON      `json:"decider"`
	Reason     *string         `json:"reason"`
}

func newProposalJSON(p geo.LocationProposal) proposalJSON {
	out := proposalJSON{ID: p.ID, Collection: p.Collection, FeatureID: p.FeatureID,
		Position: geojson.AppendGeometry(nil, p.Position), AccuracyM: p.AccuracyM, Method: p.Method, Note: p.Note,
		Received: p.Time.UTC().Format(time.RFC3339Nano), Proposer: newActorJSON(p.Actor), Status: p.Status}
	if !p.ObservedAt.IsZero() {
		at := p.ObservedAt.UTC().Format(time.RFC3339Nano)
		out.ObservedAt = &at
	}
	if !p.Decided.IsZero() {
		at := p.Decided.UTC().Format(time.RFC3339Nano)
		d := newActorJSON(p.Decider)
		out.Decided, out.Decider = &at, &d
	}
	if p.Reason != "" {
		reason := p.Reason
		out.Reason = &reason
	}
	return out
}

// parseProposal reads the body of a location proposal:
//
//	{"position": {"type": "Point", "coordinates": [113.37, 34.80]},
//	 "accuracy_m": 8, "method": "auto",
//	 "observed_at": "2024-07-20T08:05:00+08:00", "note": "桥洞东口"}
//
// position (WGS-84, as the browser's geolocation gives it), accuracy_m
// and method are required; observed_at and note are optional. It checks
// the JSON; geo.LocationProposal.Validate checks the rules (a method over
// its accuracy threshold, say) when the store receives it. Errors are
// Invalid and name the member.
func parseProposal(raw []byte) (geo.LocationProposal, error) {
	var m map[string]json.RawMessage
	if err := decodeObject(raw, &m, `a location proposal is a JSON object such as {"position": {"type": "Point", "coordinates": [113.37, 34.8]}, "accuracy_m": 8, "method": "auto"}`); err != nil {
		return geo.LocationProposal{}, err
	}
	var p geo.LocationProposal
	var bad []geo.FieldError
	add := func(field, detail string) { bad = append(bad, geo.FieldError{Field: field, Detail: detail}) }
	for _, name := range slices.Sorted(maps.Keys(m)) {
		v := m[name]
		switch name {
		case "position":
			g, err := geojson.DecodeGeometry(v, name)
			if err != nil {
				bad = append(bad, fieldErrors(err, name)...)
				break
			}
			pt, ok := g.(orb.Point)
			if !ok {
				add(name, "want a GeoJSON Point: where the crew stands, in WGS-84 as the phone gives it")
				break
			}
			p.Position = pt
		case "accuracy_m":
			if err := json.Unmarshal(v, &p.AccuracyM); err != nil || isNull(v) {
				add(name, "want a number of metres (coords.accuracy)")
			}
		case "method":
			if err := json.Unmarshal(v, &p.Method); err != nil || isNull(v) {
				add(name, "want one of auto, accepted, dragged")
			}
		case "note":
			if !isNull(v) && json.Unmarshal(v, &p.Note) != nil {
				add(name, "want a string")
			}
		case "observed_at":
			var err error
			if p.ObservedAt, err = parseObservedAt(v); err != nil {
				add(name, err.Error())
			}
		default:
			add(name, "unknown member; a proposal has position, accuracy_m, method, observed_at, note")
		}
	}
	for _, name := range []string{"position", "accuracy_m", "method"} {
		if _, ok := m[name]; !ok {
			add(name, "required")
		}
	}
	if len(bad) > 0 {
		return geo.LocationProposal{}, &geo.Error{Kind: geo.Invalid, Message: "invalid location proposal", Fields: bad}
	}
	return p, nil
}

// proposalAnswer is the answer of a write that leaves proposal p:
// status, its JSON and header pairs.
func proposalAnswer(status int, p *geo.LocationProposal, header ...string) (geo.StoredResponse, error) {
	if p == nil {
		return geo.StoredResponse{}, fmt.Errorf("api: the write left no proposal")
	}
	return storedJSON(status, typeJSON, newProposalJSON(*p), header...)
}

// handlePropose serves POST /collections/{collectionId}/items/{featureId}/
// location-proposals (crew): a position for a feature that has none, or
// only one worse than geo.LocatePrecisionM; 201 with the proposal.
func (s *Server) handlePropose(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := readBody(w, r, maxObservationBody, typeJSON)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := parseProposal(raw)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Collection, p.FeatureID = sc.ID, chi.URLParam(r, "featureId")
		s.commit(w, r, writeOp{body: raw,
			write: func(ctx context.Context) (geo.WriteResult, error) {
				stored, err := s.store.ProposeLocation(ctx, p)
				if err != nil {
					return geo.WriteResult{}, fmt.Errorf("api: propose a location for %s/%s: %w", sc.ID, p.FeatureID, err)
				}
				return geo.WriteResult{Proposal: &stored}, nil
			},
			respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
				if res.Proposal == nil {
					return geo.StoredResponse{}, fmt.Errorf("api: the proposal was not written")
				}
				return proposalAnswer(http.StatusCreated, res.Proposal,
					"Location", s.baseURL(r)+proposalsRoute+"/"+strconv.FormatInt(res.Proposal.ID, 10))
			}})
	}
}

// proposalsPage is the answer to GET /location-proposals.
type proposalsPage struct {
	NumberMatched  int            `json:"numberMatched"`
	NumberReturned int            `json:"numberReturned"`
	Links          []link         `json:"links"`
	Proposals      []proposalJSON `json:"proposals"`
}

// parseProposalQuery reads the query of GET /location-proposals: status,
// collection, feature_id (with collection), limit (1 to maxHistoryLimit,
// default defaultHistoryLimit), offset, f=json. Unknown and repeated
// parameters are errors naming the parameter.
func parseProposalQuery(v url.Values) (geo.ProposalQuery, historyQuery, error) {
	q := geo.ProposalQuery{Limit: defaultHistoryLimit}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "status":
			if !slices.Contains(geo.ProposalStatuses(), raw) {
				err = geo.InvalidField(name, "want one of %s", strings.Join(geo.ProposalStatuses(), ", "))
			}
			q.Status = raw
		case "collection":
			if _, e := geo.SchemaFor(raw); e != nil {
				err = geo.InvalidField(name, "%q is not a collection", raw)
			}
			q.Collection = raw
		case "feature_id":
			if e := geo.ValidateID(raw); e != nil {
				err = geo.InvalidField(name, "is not a feature id")
			}
			q.FeatureID = raw
		case "limit":
			q.Limit, err = parseHistoryLimit(raw)
		case "offset":
			q.Offset, err = parseOffset(raw)
		case "f":
			err = parseFormat(raw, false)
		default:
			err = geo.InvalidField(name, "unknown parameter; parameters: status, collection, feature_id, limit, offset, f")
		}
		return err
	})
	if len(bad) == 0 {
		if err := q.Check(); err != nil {
			bad = fieldErrors(err, "query")
		}
	}
	if err := invalidQuery(bad); err != nil {
		return geo.ProposalQuery{}, historyQuery{}, err
	}
	hq := historyQuery{Limit: q.Limit, Offset: q.Offset, Extra: map[string]string{}}
	for name, value := range map[string]string{"status": q.Status, "collection": q.Collection, "feature_id": q.FeatureID} {
		if value != "" {
			hq.Extra[name] = value
		}
	}
	return q, hq, nil
}

// handleProposals serves GET /location-proposals (crew): the proposals,
// oldest first, a page at a time — the planners' 待审核 list
// (status=pending), and a crew's answer (rejected, with the reason).
func (s *Server) handleProposals(w http.ResponseWriter, r *http.Request) {
	q, hq, err := parseProposalQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ps, matched, err := s.store.LocationProposals(r.Context(), q)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: location proposals: %w", err))
		return
	}
	page := proposalsPage{NumberMatched: matched, NumberReturned: len(ps), Proposals: make([]proposalJSON, 0, len(ps)),
		Links: hq.pageLinks(s.baseURL(r)+proposalsRoute, len(ps), matched)}
	for _, p := range ps {
		page.Proposals = append(page.Proposals, newProposalJSON(p))
	}
	writeJSON(w, r, http.StatusOK, page)
}

// proposalID reads the route's proposalId: a positive integer, or
// NotFound.
func proposalID(r *http.Request) (int64, error) {
	raw := chi.URLParam(r, "proposalId")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 || strings.TrimLeft(raw, "0123456789") != "" {
		return 0, geo.Errorf(geo.NotFound, "no location proposal %q", raw)
	}
	return id, nil
}

// handleProposal serves GET /location-proposals/{proposalId} (crew).
func (s *Server) handleProposal(w http.ResponseWriter, r *http.Request) {
	if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := proposalID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.store.LocationProposal(r.Context(), id)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: location proposal %d: %w", id, err))
		return
	}
	writeJSON(w, r, http.StatusOK, newProposalJSON(p))
}

// acceptJSON is the answer to an accept: the feature as it is now (as
// GET sends it) and the proposal.
type acceptJSON struct {
	Feature  json.RawMessage `json:"feature"`
	Proposal proposalJSON    `json:"proposal"`
}

// handleAccept serves POST /location-proposals/{proposalId}/accept
// (planner): If-Match must name the feature's current ETag (428 without,
// 412 with the current version when it changed); a proposal decided
// already is 409. The feature gets the position; 200 with the feature,
// the proposal and the feature's new ETag.
func (s *Server) handleAccept(w http.ResponseWriter, r *http.Request) {
	tags, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := proposalID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var sc *geo.Schema
	s.commit(w, r, writeOp{
		write: func(ctx context.Context) (geo.WriteResult, error) {
			p, err := s.store.LocationProposal(ctx, id)
			if err != nil {
				return geo.WriteResult{}, err
			}
			if p.Status != geo.ProposalPending {
				return geo.WriteResult{}, geo.Errorf(geo.Conflict, "location proposal %d is %s already", id, p.Status)
			}
			if sc, err = s.schema(p.Collection); err != nil {
				return geo.WriteResult{}, err
			}
			cur, err := s.featureIfMatch(ctx, r, sc, p.FeatureID, tags)
			if err != nil {
				return geo.WriteResult{}, err
			}
			f, accepted, err := s.store.AcceptLocation(ctx, id, cur.Version)
			if err != nil && geo.KindOf(err) == geo.Conflict && !geo.IsClaimLost(err) {
				// Decided meanwhile (409), or the feature changed (412).
				if now, e := s.store.LocationProposal(ctx, id); e == nil && now.Status == geo.ProposalPending {
					err = s.errIfRaced(ctx, r, sc, p.FeatureID, err)
				}
			}
			if err != nil {
				return geo.WriteResult{}, fmt.Errorf("api: accept location proposal %d: %w", id, err)
			}
			return geo.WriteResult{Proposal: &accepted, Entries: []geo.AuditEntry{{After: f}}}, nil
		},
		respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
			f := written(res)
			if f == nil || res.Proposal == nil {
				return geo.StoredResponse{}, fmt.Errorf("api: accept %d wrote no feature", id)
			}
			if sc == nil {
				var err error
				if sc, err = s.schema(res.Proposal.Collection); err != nil {
					return geo.StoredResponse{}, err
				}
			}
			body, etag, err := featureBody(sc, f, s.baseURL(r), roleOf(r))
			if err != nil {
				return geo.StoredResponse{}, err
			}
			return storedJSON(http.StatusOK, typeJSON, acceptJSON{Feature: body, Proposal: newProposalJSON(*res.Proposal)}, "ETag", etag)
		}})
}

// parseReject reads the body of a rejection: {"reason": "…"}.
func parseReject(raw []byte) (string, error) {
	var body struct {
		Reason *string `json:"reason"`
	}
	if err := geo.DecodeJSON("body", raw, &body); err != nil {
		return "", err
	}
	if body.Reason == nil || strings.TrimSpace(*body.Reason) == "" {
		return "", geo.InvalidField("reason", "required: why the position is rejected, so that the crew can try again")
	}
	return *body.Reason, nil
}

// handleReject serves POST /location-proposals/{proposalId}/reject
// (planner): {"reason": "…"} (1 to 500 characters); 200 with the
// proposal; 409 when it is decided already.
func (s *Server) handleReject(w http.ResponseWriter, r *http.Request) {
	id, err := proposalID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	raw, err := readBody(w, r, maxReasonBody, typeJSON)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason, err := parseReject(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.commit(w, r, writeOp{body: raw,
		write: func(ctx context.Context) (geo.WriteResult, error) {
			p, err := s.store.RejectLocation(ctx, id, reason)
			if err != nil {
				return geo.WriteResult{}, fmt.Errorf("api: reject location proposal %d: %w", id, err)
			}
			return geo.WriteResult{Proposal: &p}, nil
		},
		respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
			return proposalAnswer(http.StatusOK, res.Proposal)
		}})
}
