package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/notify/capmsg"
)

// This file serves the alerts of the gauges: the list (by state, gauge,
// kind), one alert with its history, a crew member's acknowledgement (a
// named person with a note: 确认), a planner's resolution, and the record
// of every delivery to the WeCom robots (planners). Every step is
// audited and on /events (collection "alerts").
//
// Alerts are public, as the CAP feed that publishes them is: the public
// sees what happened and the names on the steps (a duty team's token
// name, which the CAP message carries too); the ids of the tokens behind
// the steps are for crews and above.

// Routes of alerts.
const (
	alertsRoute     = "/alerts"
	alertRoute      = "/alerts/{alertId}"
	maxAlertBody    = 4 << 10
	maxAlertsLimit  = 1000
	defaultAlertsLm = 100
)

// stepJSON is one step of an alert.
type stepJSON struct {
	Action string    `json:"action"`
	At     string    `json:"at"`
	Note   string    `json:"note"`
	Actor  actorJSON `json:"actor"`
}

// alertJSON is an alert as the API writes it.
type alertJSON struct {
	ID          string     `json:"id"`
	GaugeID     string     `json:"gauge_id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	State       string     `json:"state"`
	Value       float64    `json:"value"`
	Limit       float64    `json:"limit"`
	Period      *string    `json:"period"`
	At          *string    `json:"at"`
	Opened      string     `json:"opened"`
	Escalated   *string    `json:"escalated"`
	Updated     string     `json:"updated"`
	Version     int64      `json:"version"`
	Steps       []stepJSON `json:"steps"`
	Links       []link     `json:"links"`
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// newAlertJSON returns a as a client of role may see it, with links to
// itself, its gauge and its CAP message, under base.
func newAlertJSON(a geo.Alert, role geo.Role, base string) alertJSON {
	c := geo.Condition{Kind: a.Kind, Value: a.Value, Limit: a.Limit, Period: a.Period, At: a.At}
	out := alertJSON{ID: a.ID, GaugeID: a.GaugeID, Kind: string(a.Kind), Title: a.Kind.TitleZH(), Description: c.Describe(),
		State: string(a.State), Value: a.Value, Limit: a.Limit, At: optTime(a.At), Opened: a.Opened.UTC().Format(time.RFC3339Nano),
		Escalated: optTime(a.Escalated), Updated: a.Updated.UTC().Format(time.RFC3339Nano), Version: a.Version,
		Steps: make([]stepJSON, 0, len(a.Steps))}
	if a.Period != "" {
		out.Period = &a.Period
	}
	for _, s := range a.Steps {
		actor := newActorJSON(s.Actor)
		if !role.AtLeast(geo.RoleCrew) && s.Actor.ID != geo.SystemID {
			actor.ID = ""
		}
		out.Steps = append(out.Steps, stepJSON{Action: string(s.Action), At: s.At.UTC().Format(time.RFC3339Nano), Note: s.Note, Actor: actor})
	}
	out.Links = []link{
		{Href: base + "/alerts/" + url.PathEscape(a.ID), Rel: "self", Type: typeJSON, Title: "This alert"},
		{Href: base + "/collections/" + geo.Gauges + "/items/" + url.PathEscape(a.GaugeID), Rel: "related", Type: typeGeoJSON, Title: "The gauge"},
		{Href: base + capMessagePath(a.ID, a.Version), Rel: "alternate", Type: typeCAP, Title: "The CAP 1.2 message of this version"},
	}
	return out
}

// alertsQuery is a validated query of /alerts.
type alertsQuery struct {
	geo.AlertQuery
	state string // as given: open, acknowledged, resolved, active
}

// parseAlertsQuery reads the query of /alerts: state (open,
// acknowledged, resolved, or active: open or acknowledged), gauge_id,
// kind, limit (1 to maxAlertsLimit, default defaultAlertsLm), offset,
// f=json.
func parseAlertsQuery(v url.Values) (alertsQuery, error) {
	q := alertsQuery{AlertQuery: geo.AlertQuery{Limit: defaultAlertsLm}}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "state":
			q.state = raw
			switch raw {
			case "active":
				q.Active = true
			case string(geo.AlertOpen), string(geo.AlertAcknowledged), string(geo.AlertResolved):
				q.State = geo.AlertState(raw)
			default:
				err = geo.InvalidField(name, "want open, acknowledged, resolved or active")
			}
		case "gauge_id":
			if geo.ValidateID(raw) != nil {
				err = geo.InvalidField(name, "%q is not an id", raw)
			}
			q.GaugeID = raw
		case "kind":
			q.Kind = geo.AlertKind(raw)
			if !slices.Contains(geo.AlertKinds(), q.Kind) {
				err = geo.InvalidField(name, "want one of over_flood_limit, over_warning, over_guaranteed, rising_fast, silent")
			}
		case "limit":
			q.Limit, err = strconv.Atoi(raw)
			if err != nil || q.Limit < 1 || q.Limit > maxAlertsLimit {
				err = geo.InvalidField(name, "want an integer from 1 to %d, got %q", maxAlertsLimit, raw)
			}
		case "offset":
			q.Offset, err = parseOffset(raw)
		case "f":
			err = parseFormat(raw, false)
		default:
			err = geo.InvalidField(name, "unknown parameter; parameters: state, gauge_id, kind, limit, offset, f")
		}
		return err
	})
	return q, invalidQuery(bad)
}

// values returns q as query parameters at offset, for links.
func (q alertsQuery) values(offset int) string {
	v := url.Values{}
	if q.state != "" {
		v.Set("state", q.state)
	}
	if q.GaugeID != "" {
		v.Set("gauge_id", q.GaugeID)
	}
	if q.Kind != "" {
		v.Set("kind", string(q.Kind))
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	v.Set("offset", strconv.Itoa(offset))
	return v.Encode()
}

// alertsPage is the answer to GET /alerts.
type alertsPage struct {
	NumberMatched  int         `json:"numberMatched"`
	NumberReturned int         `json:"numberReturned"`
	Links          []link      `json:"links"`
	Alerts         []alertJSON `json:"alerts"`
}

// handleAlerts serves GET /alerts: the alerts, newest first, filtered by
// state, gauge and kind, a page at a time.
func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	q, err := parseAlertsQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	as, matched, err := s.store.Alerts(r.Context(), q.AlertQuery)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: alerts: %w", err))
		return
	}
	base, role := s.baseURL(r), roleOf(r)
	page := alertsPage{NumberMatched: matched, NumberReturned: len(as), Alerts: make([]alertJSON, 0, len(as)),
		Links: pageLinks(base+alertsRoute, q.values, q.Offset, q.Limit, len(as), matched)}
	for _, a := range as {
		page.Alerts = append(page.Alerts, newAlertJSON(a, role, base))
	}
	w.Header().Add("Vary", "Authorization")
	writeJSON(w, r, http.StatusOK, page)
}

// handleAlert serves GET /alerts/{alertId}.
func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	if err := noQuery(r); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.store.Alert(r.Context(), chi.URLParam(r, "alertId"))
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: alert: %w", err))
		return
	}
	w.Header().Add("Vary", "Authorization")
	writeJSON(w, r, http.StatusOK, newAlertJSON(a, roleOf(r), s.baseURL(r)))
}

// parseAlertStep reads the body of an acknowledgement or a resolution:
// {"note": "已通知水库管理员开闸", "version": 2}. note is required for an
// acknowledgement (geo.Alert.Apply says so, naming it); version, when
// given, is the version of the alert the person saw: a step taken since
// is a 409.
func parseAlertStep(raw []byte) (note string, version int64, err error) {
	var m map[string]json.RawMessage
	if err := decodeObject(raw, &m, `want a JSON object such as {"note": "已通知水库管理员", "version": 1}`); err != nil {
		return "", 0, err
	}
	var bad []geo.FieldError
	for name, v := range m {
		switch name {
		case "note":
			if !isNull(v) && json.Unmarshal(v, &note) != nil {
				bad = append(bad, geo.FieldError{Field: name, Detail: "want a string"})
			}
		case "version":
			if !isNull(v) && (json.Unmarshal(v, &version) != nil || version < 1) {
				bad = append(bad, geo.FieldError{Field: name, Detail: "want the alert's version, a positive integer"})
			}
		default:
			bad = append(bad, geo.FieldError{Field: name, Detail: "unknown member; the body has note and version"})
		}
	}
	slices.SortFunc(bad, func(a, b geo.FieldError) int {
		if a.Field < b.Field {
			return -1
		}
		return 1
	})
	if len(bad) > 0 {
		return "", 0, &geo.Error{Kind: geo.Invalid, Message: "invalid alert step", Fields: bad}
	}
	return note, version, nil
}

// handleAlertStep returns the handler of POST /alerts/{alertId}/
// acknowledge (crew: a named person is on it) or …/resolve (planner: it
// is over, or handled — see geo.Held for what a resolution of a
// condition that still holds means). 200 with the alert as it is now.
func (s *Server) handleAlertStep(action geo.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := readBody(w, r, maxAlertBody, typeJSON)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		note, version, err := parseAlertStep(raw)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		id := chi.URLParam(r, "alertId")
		s.water(w, r, raw, func(ctx context.Context) (geo.WriteResult, error) {
			step := s.engine.Acknowledge
			if action == geo.ActionResolve {
				step = s.engine.Resolve
			}
			a, err := step(ctx, id, version, note)
			if err != nil {
				return geo.WriteResult{}, fmt.Errorf("api: %s alert %s: %w", action, id, err)
			}
			return geo.WriteResult{Alert: &a}, nil
		}, func(res geo.WriteResult) (int, any, []string, error) {
			if res.Alert == nil {
				return 0, nil, nil, fmt.Errorf("api: %s wrote no alert", action)
			}
			return http.StatusOK, newAlertJSON(*res.Alert, roleOf(r), s.baseURL(r)), nil, nil
		})
	}
}

// deliveryJSON is one delivery of an alert step.
type deliveryJSON struct {
	ID       int64  `json:"id"`
	Version  int64  `json:"version"`
	Channel  string `json:"channel"`
	OK       bool   `json:"ok"`
	Attempts int    `json:"attempts"`
	Detail   string `json:"detail"`
	Batch    int    `json:"batch"`
	At       string `json:"at"`
}

// handleDeliveries serves GET /alerts/{alertId}/deliveries (planner):
// every attempt to deliver the alert's steps to the WeCom robots, with
// its result, oldest first.
func (s *Server) handleDeliveries(w http.ResponseWriter, r *http.Request) {
	if err := noQuery(r); err != nil {
		s.fail(w, r, err)
		return
	}
	id := chi.URLParam(r, "alertId")
	if _, err := s.store.Alert(r.Context(), id); err != nil {
		s.fail(w, r, fmt.Errorf("api: alert: %w", err))
		return
	}
	ds, err := s.store.Deliveries(r.Context(), id)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: deliveries: %w", err))
		return
	}
	out := struct {
		AlertID    string         `json:"alert_id"`
		Deliveries []deliveryJSON `json:"deliveries"`
	}{AlertID: id, Deliveries: make([]deliveryJSON, 0, len(ds))}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, deliveryJSON{ID: d.ID, Version: d.AlertVersion, Channel: d.Channel, OK: d.OK,
			Attempts: d.Attempts, Detail: d.Detail, Batch: d.Batch, At: d.At.UTC().Format(time.RFC3339Nano)})
	}
	writeJSON(w, r, http.StatusOK, out)
}

// capMessagePath is the stable path of the CAP message of version v of
// alert id.
func capMessagePath(id string, v int64) string {
	return capRoute + "/" + url.PathEscape(capmsg.Identifier(id, v))
}
