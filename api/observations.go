package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// observationsRoute is the route of a waterlogging point's status
// reports: POST adds one (crew), GET lists the history.
const observationsRoute = "/collections/" + geo.WaterloggingPoints + "/items/{featureId}/observations"

// parseObservation reads the body of a status report:
//
//	{"depth_cm": 40, "status": "closed", "note": "陇海路桥下断路",
//	 "position": {"type": "Point", "coordinates": [113.37, 34.80]},
//	 "observed_at": "2024-07-20T08:05:00+08:00"}
//
// depth_cm (a number of centimetres) and status (clear, ponding, closed)
// are required; note, position (a GeoJSON Point or null: where the
// reporter stood), accuracy_m (the position's accuracy in metres, as the
// phone gives it) and observed_at (RFC 3339, when the phone recorded it,
// if it was queued) are optional. It checks the JSON, not the rules:
// geo.Observation.Validate does that when the store receives it. Errors
// are Invalid and name the member.
func parseObservation(raw []byte) (geo.Observation, error) {
	var m map[string]json.RawMessage
	if err := decodeObject(raw, &m, `a status report is a JSON object such as {"depth_cm": 40, "status": "closed"}`); err != nil {
		return geo.Observation{}, err
	}
	var o geo.Observation
	var bad []geo.FieldError
	add := func(field, detail string) { bad = append(bad, geo.FieldError{Field: field, Detail: detail}) }
	for _, name := range slices.Sorted(maps.Keys(m)) {
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
			g, err := geojson.DecodeGeometry(v, name)
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
		case "accuracy_m":
			if isNull(v) {
				break
			}
			if err := json.Unmarshal(v, &o.AccuracyM); err != nil {
				add(name, "want a number of metres: the accuracy of position, as the phone gives it (coords.accuracy)")
			}
		case "observed_at":
			var err error
			if o.ObservedAt, err = parseObservedAt(v); err != nil {
				add(name, err.Error())
			}
		default:
			add(name, "unknown member; a report has depth_cm, status, note, position, accuracy_m, observed_at")
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

// parseObservedAt reads when a phone observed (a report, a proposal): an
// RFC 3339 date-time with a zone, or null (zero: not given).
func parseObservedAt(v json.RawMessage) (time.Time, error) {
	if isNull(v) {
		return time.Time{}, nil
	}
	var s string
	t, err := time.Time{}, json.Unmarshal(v, &s)
	if err == nil {
		t, err = parseInstant(s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 date-time with a zone, e.g. 2024-07-20T08:05:00+08:00 (or no observed_at)")
	}
	return t, nil
}

// observationJSON is a status report as the API writes it. The reporter,
// where they stood (and how precisely), their note and their photo are
// for crews and above: the public sees depth, status and times.
type observationJSON struct {
	ID         int64           `json:"id"`
	FeatureID  string          `json:"feature_id"`
	Time       string          `json:"time"`
	ObservedAt *string         `json:"observed_at"`
	DepthCM    float64         `json:"depth_cm"`
	Status     string          `json:"status"`
	Note       *string         `json:"note,omitempty"`
	Position   json.RawMessage `json:"position,omitempty"`
	AccuracyM  *float64        `json:"accuracy_m,omitempty"`
	Photo      json.RawMessage `json:"photo,omitempty"`
	Reporter   *actorJSON      `json:"reporter,omitempty"`
}

// photoJSON describes a report's photo: where crews fetch it, and its
// size.
type photoJSON struct {
	Href   string `json:"href"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

// newObservationJSON returns o as a client of role may see it; base
// starts the photo's link.
func newObservationJSON(o geo.Observation, role geo.Role, base string) observationJSON {
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
			out.Position = geojson.AppendGeometry(nil, *o.Position)
		}
		if o.AccuracyM > 0 {
			acc := o.AccuracyM
			out.AccuracyM = &acc
		}
		out.Photo = json.RawMessage("null")
		if p := o.Photo; p != nil {
			out.Photo, _ = marshal(photoJSON{Href: base + photoPath(o.FeatureID, o.ID), Width: p.Width, Height: p.Height, Bytes: p.Bytes}) // plain fields: never fails
		}
		a := newActorJSON(o.Actor)
		out.Reporter = &a
	}
	return out
}

// observeResponse is the answer to a status report.
type observeResponse struct {
	Observation observationJSON `json:"observation"`
	// BecameStatus says whether the report became the point's status:
	// false when a newer report was already the status (a report queued
	// on a phone arrives late), which is then only added to the history.
	BecameStatus bool `json:"current"`
	// Feature is the point after the report.
	Feature json.RawMessage `json:"feature"`
}

// handleObserve serves POST /collections/waterlogging_points/items/
// {featureId}/observations (crew): a status report from the spot, as JSON
// or as a form with the report and one photo (readReport). It becomes the
// point's status (unless a newer one is current) and joins its history,
// with an audit entry, in one transaction. If-Match is optional: a crew
// in the rain should not fail on a page a minute old; when given, it must
// name the current version (else 412). An Idempotency-Key makes a retry
// safe (commit).
func (s *Server) handleObserve(w http.ResponseWriter, r *http.Request) {
	sc, err := s.schema(geo.WaterloggingPoints)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := chi.URLParam(r, "featureId")
	var tags []string
	if len(r.Header.Values("If-Match")) > 0 {
		if tags, err = ifMatch(r); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	fp, o, err := readReport(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if o.Photo != nil {
		// Cleaning a photo costs tens of milliseconds of a core: a few at
		// a time, so that reports without one are not starved.
		select {
		case s.photos <- struct{}{}:
			defer func() { <-s.photos }()
		default:
			s.fail(w, r, errBusy("photos are being processed; retry in a moment", inFlightRetry))
			return
		}
	}
	s.commit(w, r, writeOp{body: fp,
		write: func(ctx context.Context) (geo.WriteResult, error) {
			var (
				f      *geo.Feature
				stored geo.Observation
			)
			observe := func(id string, version int64) (err error) {
				f, stored, err = s.store.AddObservation(ctx, id, version, o)
				return err
			}
			var err error
			if tags != nil {
				err = s.writeIfMatch(ctx, r, sc, "observe", tags, observe)
			} else if err = observe(id, 0); err != nil {
				err = fmt.Errorf("api: observe %s: %w", id, err)
			}
			return geo.WriteResult{Observation: &stored, Entries: []geo.AuditEntry{{After: f}}}, err
		},
		respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
			f := written(res)
			if f == nil || res.Observation == nil {
				return geo.StoredResponse{}, fmt.Errorf("api: observe %s wrote no report", id)
			}
			body, etag, err := featureBody(sc, f, s.baseURL(r), roleOf(r))
			if err != nil {
				return geo.StoredResponse{}, err
			}
			stored := *res.Observation
			at, _ := f.Properties["status_updated_at"].(string)
			t, perr := time.Parse(time.RFC3339Nano, at)
			becameStatus := perr == nil && t.Equal(stored.At())
			return storedJSON(http.StatusCreated, typeJSON,
				observeResponse{Observation: newObservationJSON(stored, roleOf(r), s.baseURL(r)), BecameStatus: becameStatus, Feature: body},
				"ETag", etag, "Location", s.baseURL(r)+"/collections/"+sc.ID+"/items/"+id+"/observations")
		}})
}

// observationsPage is the answer to GET …/observations.
type observationsPage struct {
	FeatureID      string            `json:"feature_id"`
	NumberMatched  int               `json:"numberMatched"`
	NumberReturned int               `json:"numberReturned"`
	Links          []link            `json:"links"`
	Observations   []observationJSON `json:"observations"`
}

// handleObservations serves GET /collections/waterlogging_points/items/
// {featureId}/observations: the point's status reports, newest first,
// in a time range, a page at a time with next links.
func (s *Server) handleObservations(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "featureId")
	q, err := parseHistoryQuery(r.URL.Query())
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
		page.Observations = append(page.Observations, newObservationJSON(o, role, s.baseURL(r)))
	}
	w.Header().Add("Vary", "Authorization")
	writeJSON(w, r, http.StatusOK, page)
}
