package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// observationsRoute is the route of a waterlogging point's status
// reports: POST adds one (crew), GET lists the history.
const observationsRoute = "/collections/" + geo.WaterloggingPoints + "/items/{featureId}/observations"

// Paging bounds of the observation history and the audit log.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// ParseObservation reads the body of a status report:
//
//	{"depth_cm": 40, "status": "closed", "note": "陇海路桥下断路",
//	 "position": {"type": "Point", "coordinates": [113.37, 34.80]},
//	 "observed_at": "2024-07-20T08:05:00+08:00"}
//
// depth_cm (a number of centimetres) and status (clear, ponding, closed)
// are required; note, position (a GeoJSON Point or null: where the
// reporter stood) and observed_at (RFC 3339, when the phone recorded it,
// if it was queued) are optional. It checks the JSON, not the rules:
// geo.Observation.Validate does that when the store receives it. Errors
// are Invalid and name the member.
func ParseObservation(raw []byte) (geo.Observation, error) {
	var m map[string]json.RawMessage
	if err := strictUnmarshal(raw, &m); err != nil || m == nil {
		return geo.Observation{}, geo.InvalidField("body", `a status report is a JSON object such as {"depth_cm": 40, "status": "closed"}`)
	}
	var o geo.Observation
	var bad []geo.FieldError
	add := func(field, detail string) { bad = append(bad, geo.FieldError{Field: field, Detail: detail}) }
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := m[name]
		switch name {
		case "depth_cm":
			if err := json.Unmarshal(v, &o.DepthCM); err != nil || isNull(v) {
				add(name, "want a number of centimetres, e.g. 40")
			}
		case "status":
			if err := json.Unmarshal(v, &o.Status); err != nil || isNull(v) {
				add(name, "want one of clear, ponding, closed")
			}
		case "note":
			if isNull(v) {
				break
			}
			if err := json.Unmarshal(v, &o.Note); err != nil {
				add(name, "want a string")
			}
		case "position":
			g, err := DecodeGeometry(v, name)
			if err != nil {
				bad = append(bad, fieldErrors(err, name)...)
				break
			}
			switch p := g.(type) {
			case nil:
			case orb.Point:
				o.Position = &p
			default:
				add(name, "want a GeoJSON Point (where the reporter stood) or null")
			}
		case "observed_at":
			if isNull(v) {
				break
			}
			var s string
			t, err := time.Time{}, json.Unmarshal(v, &s)
			if err == nil {
				t, err = time.Parse(time.RFC3339Nano, s)
			}
			if err != nil {
				add(name, "want an RFC 3339 date-time with a zone, e.g. 2024-07-20T08:05:00+08:00")
				break
			}
			o.ObservedAt = t
		default:
			add(name, "unknown member; a report has depth_cm, status, note, position, observed_at")
		}
	}
	for _, name := range []string{"depth_cm", "status"} {
		if _, ok := m[name]; !ok {
			add(name, "required")
		}
	}
	if len(bad) > 0 {
		return geo.Observation{}, &geo.Error{Kind: geo.Invalid, Message: "invalid status report", Fields: bad}
	}
	return o, nil
}

// observationJSON is a status report as the API writes it. The reporter,
// where they stood and their note are for crews and above: the public
// sees depth, status and times.
type observationJSON struct {
	ID         int64           `json:"id"`
	FeatureID  string          `json:"feature_id"`
	Time       string          `json:"time"`
	ObservedAt *string         `json:"observed_at"`
	DepthCM    float64         `json:"depth_cm"`
	Status     string          `json:"status"`
	Note       *string         `json:"note,omitempty"`
	Position   json.RawMessage `json:"position,omitempty"`
	Reporter   *actorJSON      `json:"reporter,omitempty"`
}

// actorJSON is who wrote: a token's id, name and role, or "system".
type actorJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

func newActorJSON(a geo.Actor) actorJSON {
	return actorJSON{ID: a.ID, Name: a.Name, Role: string(a.Role)}
}

// newObservationJSON returns o as a client of role may see it.
func newObservationJSON(o geo.Observation, role geo.Role) observationJSON {
	out := observationJSON{ID: o.ID, FeatureID: o.FeatureID, Time: o.Time.UTC().Format(time.RFC3339Nano),
		DepthCM: o.DepthCM, Status: o.Status}
	if !o.ObservedAt.IsZero() {
		at := o.ObservedAt.UTC().Format(time.RFC3339Nano)
		out.ObservedAt = &at
	}
	if role.AtLeast(geo.RoleCrew) {
		note := o.Note
		out.Note = &note
		out.Position = json.RawMessage("null")
		if o.Position != nil {
			out.Position = AppendGeometry(nil, *o.Position)
		}
		a := newActorJSON(o.Actor)
		out.Reporter = &a
	}
	return out
}

// observeResponse is the answer to a status report.
type observeResponse struct {
	Observation observationJSON `json:"observation"`
	// Current says whether the report became the point's status: false
	// when a newer report was already current (a report queued on a
	// phone arrives late), which is then only added to the history.
	Current bool `json:"current"`
	// Feature is the point after the report.
	Feature json.RawMessage `json:"feature"`
}

// handleObserve serves POST /collections/waterlogging_points/items/
// {featureId}/observations (crew): a status report from the spot. It
// becomes the point's status (unless a newer one is current) and joins its
// history, with an audit entry, in one transaction. If-Match is optional:
// a crew in the rain should not fail on a page a minute old; when given,
// it must name the current version (else 412).
func (s *Server) handleObserve(w http.ResponseWriter, r *http.Request) {
	sc, err := s.schema(geo.WaterloggingPoints)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := chi.URLParam(r, "featureId")
	raw, err := readBody(w, r, maxObservationBody, typeJSON)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := ParseObservation(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var version int64
	if len(r.Header.Values("If-Match")) > 0 {
		tags, err := ifMatch(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cur, err := s.current(r.Context(), r, sc, id, tags)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		version = cur.Version
	}
	f, stored, err := s.store.AddObservation(r.Context(), id, version, o)
	if err != nil {
		err = fmt.Errorf("api: observe %s: %w", id, err)
		if version > 0 {
			err = s.lost(r.Context(), r, sc, id, err)
		}
		s.fail(w, r, err)
		return
	}
	body, etag, err := featureBody(sc, f, s.baseURL(r), roleOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	at, _ := f.Properties["status_updated_at"].(string)
	t, perr := time.Parse(time.RFC3339Nano, at)
	current := perr == nil && t.Equal(stored.At())
	w.Header().Set("ETag", etag)
	w.Header().Set("Location", s.baseURL(r)+"/collections/"+sc.ID+"/items/"+id+"/observations")
	writeJSON(w, r, http.StatusCreated, observeResponse{Observation: newObservationJSON(stored, roleOf(r)), Current: current, Feature: body})
}

// HistoryQuery is a validated query of the observation history or the
// audit log: a time range and a page.
type HistoryQuery struct {
	// From and To bound the times kept: From ≤ t < To; zero for open.
	From, To time.Time
	// Limit is 1 to MaxHistoryLimit; Offset is 0 or more.
	Limit, Offset int
	// Extra holds the other parameters a route accepts (by name), as
	// given.
	Extra map[string]string
}

// ParseHistoryQuery validates the query string of a history route:
// datetime (an OGC API instant or interval, ends included), or from
// (inclusive) and to (exclusive) as RFC 3339 date-times, not both; limit
// (1 to MaxHistoryLimit, default DefaultHistoryLimit); offset; f=json; and
// the extra parameters named, whose values are returned as given. Unknown
// and repeated parameters are errors naming the parameter.
func ParseHistoryQuery(v url.Values, extra ...string) (HistoryQuery, error) {
	q := HistoryQuery{Limit: DefaultHistoryLimit, Extra: map[string]string{}}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "datetime":
			var iv geo.Interval
			if iv, err = ParseDatetime(name, raw); err == nil {
				q.From = iv.Start
				if !iv.End.IsZero() {
					// Stores keep microseconds: t ≤ End is t < End's
					// microsecond + 1 µs.
					q.To = iv.End.Truncate(time.Microsecond).Add(time.Microsecond)
				}
			}
		case "from", "to":
			var t time.Time
			if t, err = time.Parse(time.RFC3339Nano, raw); err != nil {
				err = geo.InvalidField(name, "want an RFC 3339 date-time with a zone, e.g. 2024-07-20T08:00:00+08:00")
			} else if name == "from" {
				q.From = t.UTC()
			} else {
				q.To = t.UTC()
			}
		case "limit":
			q.Limit, err = strconv.Atoi(raw)
			if err != nil || q.Limit < 1 || q.Limit > MaxHistoryLimit {
				err = geo.InvalidField(name, "want an integer from 1 to %d, got %q", MaxHistoryLimit, raw)
			}
		case "offset":
			q.Offset, err = ParseOffset(raw)
		case "f":
			err = parseFormat(raw, false)
		default:
			if !contains(extra, name) {
				all := append([]string{"datetime", "from", "to", "limit", "offset", "f"}, extra...)
				err = geo.InvalidField(name, "unknown parameter; parameters: %s", strings.Join(all, ", "))
				break
			}
			q.Extra[name] = raw
		}
		return err
	})
	if v.Has("datetime") && (v.Has("from") || v.Has("to")) {
		bad = append(bad, geo.FieldError{Field: "datetime", Detail: "give datetime or from/to, not both"})
	}
	if len(bad) == 0 && !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		bad = append(bad, geo.FieldError{Field: "from", Detail: "must not be after to"})
	}
	if len(bad) > 0 {
		return HistoryQuery{}, &geo.Error{Kind: geo.Invalid, Message: "invalid query parameters", Fields: bad}
	}
	return q, nil
}

// values returns q as query parameters at offset, for links: from and to
// (what datetime became), the extras, limit, offset.
func (q HistoryQuery) values(offset int) string {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	for k, x := range q.Extra {
		v.Set(k, x)
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	v.Set("offset", strconv.Itoa(offset))
	return v.Encode()
}

// pageLinks returns the self, next and prev links of a page of q at href
// that returned n of matched.
func (q HistoryQuery) pageLinks(href string, n, matched int) []Link {
	links := []Link{{Href: href + "?" + q.values(q.Offset), Rel: "self", Type: typeJSON, Title: "This page"}}
	if next := q.Offset + n; n > 0 && next < matched {
		links = append(links, Link{Href: href + "?" + q.values(next), Rel: "next", Type: typeJSON, Title: "Next page"})
	}
	if q.Offset > 0 {
		links = append(links, Link{Href: href + "?" + q.values(max(0, q.Offset-q.Limit)), Rel: "prev", Type: typeJSON, Title: "Previous page"})
	}
	return links
}

// observationsPage is the answer to GET …/observations.
type observationsPage struct {
	FeatureID      string            `json:"feature_id"`
	NumberMatched  int               `json:"numberMatched"`
	NumberReturned int               `json:"numberReturned"`
	Links          []Link            `json:"links"`
	Observations   []observationJSON `json:"observations"`
}

// handleObservations serves GET /collections/waterlogging_points/items/
// {featureId}/observations: the point's status reports, newest first,
// in a time range, a page at a time with next links.
func (s *Server) handleObservations(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "featureId")
	q, err := ParseHistoryQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	obs, matched, err := s.store.Observations(r.Context(), id, geo.ObservationQuery{From: q.From, To: q.To, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: observations of %s: %w", id, err))
		return
	}
	role := roleOf(r)
	page := observationsPage{FeatureID: id, NumberMatched: matched, NumberReturned: len(obs),
		Observations: make([]observationJSON, 0, len(obs)),
		Links:        q.pageLinks(s.baseURL(r)+"/collections/"+geo.WaterloggingPoints+"/items/"+url.PathEscape(id)+"/observations", len(obs), matched)}
	for _, o := range obs {
		page.Observations = append(page.Observations, newObservationJSON(o, role))
	}
	w.Header().Add("Vary", "Authorization")
	writeJSON(w, r, http.StatusOK, page)
}

// documentHistory adds the parameters of the history routes
// (observations, audit) to the OpenAPI document.
func documentHistory(params obj) {
	params["history.datetime"] = obj{"name": "datetime", "in": "query", "required": false,
		"description": "Only entries made within this instant or interval (ends included): an RFC 3339 date-time, a date, or START/END with .. for an open end. Not with from/to.",
		"schema":      obj{"type": "string"}}
	params["history.from"] = obj{"name": "from", "in": "query", "required": false,
		"description": "Only entries made at or after this RFC 3339 date-time.", "schema": obj{"type": "string", "format": "date-time"}}
	params["history.to"] = obj{"name": "to", "in": "query", "required": false,
		"description": "Only entries made before this RFC 3339 date-time.", "schema": obj{"type": "string", "format": "date-time"}}
	params["history.limit"] = obj{"name": "limit", "in": "query", "required": false, "description": "The page size; follow the next link for more.",
		"schema": obj{"type": "integer", "minimum": 1, "maximum": MaxHistoryLimit, "default": DefaultHistoryLimit}}
	params["history.offset"] = obj{"name": "offset", "in": "query", "required": false, "description": "How many entries to skip, newest first.",
		"schema": obj{"type": "integer", "minimum": 0, "default": 0}}
}

// historyParams returns the references to the history parameters.
func historyParams() []any {
	return []any{ref("parameters", "history.datetime"), ref("parameters", "history.from"), ref("parameters", "history.to"),
		ref("parameters", "history.limit"), ref("parameters", "history.offset"), ref("parameters", "f")}
}

// documentObservations documents the status-report routes.
func documentObservations(add func(string, obj), paths, schemas, params obj) {
	str := obj{"type": "string"}
	schemas["actor"] = obj{"type": "object", "required": []string{"id", "name", "role"}, "properties": obj{
		"id": str, "name": str, "role": obj{"type": "string", "enum": []string{"public", "sensor", "crew", "planner", "admin"}}}}
	schemas["observation"] = obj{"type": "object", "required": []string{"id", "feature_id", "time", "observed_at", "depth_cm", "status"},
		"description": "A status report. note, position and reporter are shown to crews and above only.",
		"properties": obj{
			"id":          obj{"type": "integer"},
			"feature_id":  str,
			"time":        obj{"type": "string", "format": "date-time", "description": "When the server received it."},
			"observed_at": obj{"type": "string", "format": "date-time", "nullable": true, "description": "When the crew observed, if the phone said (a queued report)."},
			"depth_cm":    obj{"type": "number", "minimum": 0, "maximum": geo.MaxDepthCM},
			"status":      obj{"type": "string", "enum": geo.ObservationStatuses()},
			"note":        str,
			"position":    obj{"type": "object", "nullable": true, "description": "Where the reporter stood: a GeoJSON Point."},
			"reporter":    ref("schemas", "actor"),
		}}
	schemas["observationInput"] = obj{"type": "object", "required": []string{"depth_cm", "status"}, "additionalProperties": false,
		"description": "A status report from the spot. Water deeper than 15 cm on a carriageway is waterlogging by GB 51222-2017: clear is refused above it, ponding at 0 cm; closed goes with any depth (closing a road is the crew's call).",
		"properties": obj{
			"depth_cm":    obj{"type": "number", "minimum": 0, "maximum": geo.MaxDepthCM, "description": "Water depth in centimetres."},
			"status":      obj{"type": "string", "enum": geo.ObservationStatuses()},
			"note":        obj{"type": "string", "maxLength": geo.MaxNoteRunes, "nullable": true},
			"position":    obj{"type": "object", "nullable": true, "description": "Where the reporter stands: a GeoJSON Point in WGS-84."},
			"observed_at": obj{"type": "string", "format": "date-time", "nullable": true, "description": "When observed, for a report queued on the phone (at most 7 days old, 5 minutes ahead)."},
		}}
	path := observationsRoute
	id := ref("parameters", "featureId")
	add(path, obj{"operationId": "getObservations", "tags": []string{geo.WaterloggingPoints},
		"summary":    "The status reports of a waterlogging point, newest first",
		"parameters": append([]any{id}, historyParams()...),
		"responses": obj{
			"200": obj{"description": "A page of the history, with next and prev links.", "content": content(obj{typeJSON: obj{
				"type": "object", "required": []string{"feature_id", "numberMatched", "numberReturned", "links", "observations"}, "properties": obj{
					"feature_id":     str,
					"numberMatched":  obj{"type": "integer", "minimum": 0},
					"numberReturned": obj{"type": "integer", "minimum": 0},
					"links":          obj{"type": "array", "items": ref("schemas", "link")},
					"observations":   obj{"type": "array", "items": ref("schemas", "observation")},
				}}})},
			"400": ref("responses", "BadRequest"),
			"404": ref("responses", "NotFound"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}})
	paths[path].(obj)["post"] = obj{"operationId": "addObservation", "tags": []string{geo.WaterloggingPoints},
		"summary": "Report the status of a waterlogging point from the spot (crew)",
		"description": "Becomes the point's status (status, depth_cm, status_updated_at) and joins its history, audited, announced on /events. " +
			"A report older than the current status (queued on a phone) joins the history only (current: false). If-Match is optional; when given it must be current.",
		"parameters":  []any{id, obj{"name": "If-Match", "in": "header", "required": false, "description": "Optional: the point's ETag the report is based on.", "schema": str}},
		"requestBody": obj{"required": true, "content": content(obj{typeJSON: ref("schemas", "observationInput")})},
		"responses": obj{
			"201": obj{"description": "Recorded.", "headers": obj{"ETag": obj{"description": "The point's new ETag.", "schema": str}},
				"content": content(obj{typeJSON: obj{"type": "object", "required": []string{"observation", "current", "feature"}, "properties": obj{
					"observation": ref("schemas", "observation"),
					"current":     obj{"type": "boolean", "description": "Whether the report became the point's status."},
					"feature":     ref("schemas", geo.WaterloggingPoints+".feature"),
				}}})},
			"400": ref("responses", "BadRequest"),
			"404": ref("responses", "NotFound"),
			"412": ref("responses", "PreconditionFailed"),
			"413": ref("responses", "PayloadTooLarge"),
			"415": ref("responses", "UnsupportedMediaType"),
			"428": ref("responses", "PreconditionRequired"),
			"429": ref("responses", "TooManyRequests"),
			"500": ref("responses", "ServerError"),
			"503": ref("responses", "Unavailable"),
		}}
}
