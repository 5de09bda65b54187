package api

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/geo/readingcsv"
)

// This file serves the water levels of the gauges: a reading posted by a
// patrol or a telemetry station (the sensor role: a token that may post
// readings and nothing else), a CSV of many, a gauge's series by time
// range a page at a time, and the latest reading of every gauge. Each
// reading goes through the alert engine (notify), which evaluates the
// gauge at once: an alert opens within the request that brought the
// reading.
//
// Who sees what: a level, its time and its source are public — the
// public sees the gauges' levels as it sees the status of a ponding
// point, and the CAP feed publishes the alerts they raise. Who sent a
// reading, when it arrived and the note are for crews and above, like
// the reporter of a status report.

// Routes of readings.
const (
	readingsRoute = "/collections/" + geo.Gauges + "/items/{featureId}/readings"
	latestRoute   = "/readings/latest"
	importRoute   = "/readings"
)

// Limits of the reading routes.
const (
	// maxReadingBody caps one reading's body.
	maxReadingBody = 4 << 10
	// defaultReadingsLimit is the page of a series without limit; a
	// 72-hour chart of a station reporting every minute (4 320) needs a
	// larger one, up to geo.MaxReadingsPage.
	defaultReadingsLimit = 1000
	// maxLatestGauges caps the gauge_id list of /readings/latest.
	maxLatestGauges = 1000
	// importRetry is the Retry-After of an import refused because
	// another runs on this instance.
	importRetry = "10"
)

// parseReading reads the body of one reading:
//
//	{"level": 149.65, "at": "2024-08-18T09:00:00+08:00", "note": "水尺读数"}
//
// level (metres, in the gauge's datum) is required; at (RFC 3339, when
// the level was read; default: now, as the server receives it) and note
// are optional. It checks the JSON; geo.Reading.Check checks the rules
// against the gauge when the store receives it. Errors are Invalid and
// name the member.
func parseReading(raw []byte) (r geo.Reading, hasAt bool, err error) {
	var m map[string]json.RawMessage
	if err := decodeObject(raw, &m, `a reading is a JSON object such as {"level": 149.65, "at": "2024-08-18T09:00:00+08:00"}`); err != nil {
		return r, false, err
	}
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
		case "level":
			if err := json.Unmarshal(v, &r.Level); err != nil || isNull(v) {
				add(name, "want a number of metres, e.g. 149.65")
			}
		case "at":
			if isNull(v) {
				break
			}
			var s string
			t, err := time.Time{}, json.Unmarshal(v, &s)
			if err == nil {
				t, err = parseInstant(s)
			}
			if err != nil {
				add(name, "want an RFC 3339 date-time with a zone, e.g. 2024-08-18T09:00:00+08:00")
				break
			}
			r.At, hasAt = t, true
		case "note":
			if isNull(v) {
				break
			}
			if err := json.Unmarshal(v, &r.Note); err != nil {
				add(name, "want a string")
			}
		default:
			add(name, "unknown member; a reading has level, at, note")
		}
	}
	if _, ok := m["level"]; !ok {
		add("level", "required")
	}
	if len(bad) > 0 {
		return geo.Reading{}, false, &geo.Error{Kind: geo.Invalid, Message: "invalid reading", Fields: bad}
	}
	return r, hasAt, nil
}

// readingJSON is a reading as the API writes it. note, received and
// reporter are for crews and above.
type readingJSON struct {
	ID       int64      `json:"id"`
	GaugeID  string     `json:"gauge_id"`
	At       string     `json:"at"`
	Level    float64    `json:"level"`
	Source   string     `json:"source"`
	Note     *string    `json:"note,omitempty"`
	Received *string    `json:"received,omitempty"`
	Reporter *actorJSON `json:"reporter,omitempty"`
}

// newReadingJSON returns r as a client of role may see it.
func newReadingJSON(r geo.Reading, role geo.Role) readingJSON {
	out := readingJSON{ID: r.ID, GaugeID: r.GaugeID, At: r.At.UTC().Format(time.RFC3339Nano), Level: r.Level, Source: r.Source}
	if role.AtLeast(geo.RoleCrew) {
		note, received := r.Note, r.Received.UTC().Format(time.RFC3339Nano)
		a := newActorJSON(r.Actor)
		out.Note, out.Received, out.Reporter = &note, &received, &a
	}
	return out
}

// handleAddReading serves POST /collections/gauges/items/{featureId}/
// readings (sensor and above): one reading, stored and audited, and the
// gauge evaluated at once (an alert opens in this request). 201 with the
// reading; its source is telemetry for a sensor's token, manual for a
// person's.
func (s *Server) handleAddReading(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r, maxReadingBody, typeJSON)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rd, hasAt, err := parseReading(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rd.GaugeID = chi.URLParam(r, "featureId")
	rd.Source = geo.SourceFor(roleOf(r))
	if !hasAt {
		rd.At = time.Now()
	}
	s.water(w, r, raw, func(ctx context.Context) (geo.WriteResult, error) {
		rec, _, err := s.engine.AddReading(ctx, rd)
		if err != nil {
			return geo.WriteResult{}, fmt.Errorf("api: reading of %s: %w", rd.GaugeID, err)
		}
		return geo.WriteResult{Reading: &rec}, nil
	}, func(res geo.WriteResult) (int, any, []string, error) {
		if res.Reading == nil {
			return 0, nil, nil, fmt.Errorf("api: a reading wrote no reading")
		}
		loc := s.baseURL(r) + "/collections/" + geo.Gauges + "/items/" + url.PathEscape(res.Reading.GaugeID) + "/readings"
		return http.StatusCreated, newReadingJSON(*res.Reading, roleOf(r)), []string{"Location", loc}, nil
	})
}

// water runs one water write (a reading, an import, an alert step)
// through commit (idempotency.go), so that it takes an Idempotency-Key:
// a phone's queue that lost the answer sends it again and gets the first
// answer back, written once. write makes the store call through the
// alert engine and returns what it wrote; respond builds the answer from
// that alone (with a key the store calls it inside the write's
// transaction). body is what the key's fingerprint covers.
func (s *Server) water(w http.ResponseWriter, r *http.Request, body []byte, write func(context.Context) (geo.WriteResult, error),
	respond func(geo.WriteResult) (status int, v any, header []string, err error)) {
	s.commit(w, r, writeOp{body: body, write: write, respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
		status, v, header, err := respond(res)
		if err != nil {
			return geo.StoredResponse{}, err
		}
		return storedJSON(status, typeJSON, v, header...)
	}})
}

// readingsQuery is a validated query of a gauge's series.
type readingsQuery struct {
	geo.ReadingQuery
	// desc is order=desc (newest first).
	desc bool
}

// parseReadingsQuery validates the query string of a gauge's series:
// datetime (an instant or interval, ends included) or from (inclusive)
// and to (exclusive); order=asc (oldest first, the default: a chart) or
// desc; limit 1 to geo.MaxReadingsPage (default defaultReadingsLimit);
// offset; f=json. Unknown and repeated parameters are errors naming the
// parameter.
func parseReadingsQuery(v url.Values) (readingsQuery, error) {
	q := readingsQuery{ReadingQuery: geo.ReadingQuery{Limit: defaultReadingsLimit}}
	bad := eachParam(v, func(name, raw string) (err error) {
		switch name {
		case "datetime", "from", "to":
			err = parseTimeRange(name, raw, &q.From, &q.To)
		case "order":
			switch raw {
			case "asc":
			case "desc":
				q.desc, q.Newest = true, true
			default:
				err = geo.InvalidField(name, "want asc (oldest first) or desc (newest first)")
			}
		case "limit":
			q.Limit, err = strconv.Atoi(raw)
			if err != nil || q.Limit < 1 || q.Limit > geo.MaxReadingsPage {
				err = geo.InvalidField(name, "want an integer from 1 to %d, got %q", geo.MaxReadingsPage, raw)
			}
		case "offset":
			q.Offset, err = parseOffset(raw)
		case "f":
			err = parseFormat(raw, false)
		default:
			err = geo.InvalidField(name, "unknown parameter; parameters: datetime, from, to, order, limit, offset, f")
		}
		return err
	})
	if err := invalidQuery(checkTimeRange(v, q.From, q.To, bad)); err != nil {
		return readingsQuery{}, err
	}
	return q, nil
}

// values returns q as query parameters at offset, for links.
func (q readingsQuery) values(offset int) string {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.desc {
		v.Set("order", "desc")
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	v.Set("offset", strconv.Itoa(offset))
	return v.Encode()
}

// readingsPage is the answer to GET …/readings.
type readingsPage struct {
	GaugeID        string        `json:"gauge_id"`
	NumberMatched  int           `json:"numberMatched"`
	NumberReturned int           `json:"numberReturned"`
	Links          []link        `json:"links"`
	Readings       []readingJSON `json:"readings"`
}

// handleReadings serves GET /collections/gauges/items/{featureId}/
// readings: the gauge's series in a time range, oldest first (or newest
// first), a page at a time with next and prev links. A 72-hour chart is
// ?from=<now−72h>&limit=5000: one range of the store's index.
func (s *Server) handleReadings(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "featureId")
	q, err := parseReadingsQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rs, matched, err := s.store.Readings(r.Context(), id, q.ReadingQuery)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: readings of %s: %w", id, err))
		return
	}
	role := roleOf(r)
	href := s.baseURL(r) + "/collections/" + geo.Gauges + "/items/" + url.PathEscape(id) + "/readings"
	page := readingsPage{GaugeID: id, NumberMatched: matched, NumberReturned: len(rs), Readings: make([]readingJSON, 0, len(rs)),
		Links: pageLinks(href, q.values, q.Offset, q.Limit, len(rs), matched)}
	for _, rd := range rs {
		page.Readings = append(page.Readings, newReadingJSON(rd, role))
	}
	w.Header().Add("Vary", "Authorization")
	writeJSON(w, r, http.StatusOK, page)
}

// parseLatestQuery reads the query of /readings/latest: gauge_id, a
// comma-separated list of at most maxLatestGauges ids (every gauge with
// readings when absent), and f=json.
func parseLatestQuery(v url.Values) ([]string, error) {
	var ids []string
	bad := eachParam(v, func(name, raw string) error {
		switch name {
		case "gauge_id":
			for id := range strings.SplitSeq(raw, ",") {
				if id = strings.TrimSpace(id); id == "" {
					return geo.InvalidField(name, "an empty id in the list")
				}
				if err := geo.ValidateID(id); err != nil {
					return geo.InvalidField(name, "%q is not an id", id)
				}
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
			if len(ids) > maxLatestGauges {
				return geo.InvalidField(name, "at most %d gauges", maxLatestGauges)
			}
		case "f":
			return parseFormat(raw, false)
		default:
			return geo.InvalidField(name, "unknown parameter; parameters: gauge_id, f")
		}
		return nil
	})
	return ids, invalidQuery(bad)
}

// handleLatest serves GET /readings/latest: the latest reading of each
// gauge named (or of every gauge with readings), one index probe per
// gauge.
func (s *Server) handleLatest(w http.ResponseWriter, r *http.Request) {
	ids, err := parseLatestQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rs, err := s.store.LatestReadings(r.Context(), ids...)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: latest readings: %w", err))
		return
	}
	out := struct {
		Readings []readingJSON `json:"readings"`
	}{Readings: make([]readingJSON, 0, len(rs))}
	role := roleOf(r)
	for _, rd := range rs {
		out.Readings = append(out.Readings, newReadingJSON(rd, role))
	}
	w.Header().Add("Vary", "Authorization")
	writeJSON(w, r, http.StatusOK, out)
}

// importResult is the answer to a CSV import.
type importResult struct {
	Imported int      `json:"imported"`
	Gauges   []string `json:"gauges"`
	Encoding string   `json:"encoding"`
}

// readCSV reads the body of a CSV import: text/csv with a charset of
// UTF-8, GBK or GB18030 or none (readingcsv finds out which), at most
// readingcsv.MaxBytes.
func readCSV(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "text/csv" {
		return nil, errUnsupportedMedia(ct, "text/csv")
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "gbk", "gb2312", "gb18030":
	default:
		return nil, errUnsupportedMedia(ct, "text/csv; charset=utf-8", "text/csv; charset=gbk")
	}
	// readBody checks the type again and the charset for UTF-8: call it
	// with the type it wants and read within the limit.
	r.Header.Set("Content-Type", "text/csv")
	defer r.Header.Set("Content-Type", ct)
	return readBody(w, r, readingcsv.MaxBytes, "text/csv")
}

// handleImportReadings serves POST /readings (sensor and above): a CSV of
// readings (text/csv; UTF-8 with or without Excel's byte-order mark, or
// GBK), all or nothing. Every bad cell is reported in the problem body
// by line and column ("lines[12].level"), up to geo.MaxFieldErrors; a
// file without a gauge column takes ?gauge_id=. A sensor's token may
// import too: a station that buffered its readings through an outage
// (三断) uploads its backlog as one file; persons import a patrol's
// notebook or a station's export. Readings never overwrite (a second one
// at the same gauge and time is a 409), so an import can add but not
// destroy. One import runs at a time on an instance (503 with
// Retry-After beyond): a file may hold 250 000 readings.
func (s *Server) handleImportReadings(w http.ResponseWriter, r *http.Request) {
	var gauge string
	bad := eachParam(r.URL.Query(), func(name, raw string) error {
		if name != "gauge_id" {
			return geo.InvalidField(name, "unknown parameter; parameters: gauge_id")
		}
		if err := geo.ValidateID(raw); err != nil {
			return geo.InvalidField(name, "%q is not an id", raw)
		}
		gauge = raw
		return nil
	})
	if err := invalidQuery(bad); err != nil {
		s.fail(w, r, err)
		return
	}
	select {
	case s.imports <- struct{}{}:
		defer func() { <-s.imports }()
	default:
		s.fail(w, r, &httpError{status: http.StatusServiceUnavailable, header: http.Header{"Retry-After": {importRetry}},
			err: geo.Errorf(geo.Unavailable, "another import of readings is running on this server; retry in %s seconds", importRetry)})
		return
	}
	raw, err := readCSV(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	source := geo.ReadingImport
	if roleOf(r) == geo.RoleSensor {
		source = geo.ReadingTelemetry
	}
	parsed, err := readingcsv.Parse(strings.NewReader(string(raw)), readingcsv.Options{Gauge: gauge, Source: source})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.water(w, r, raw, func(ctx context.Context) (geo.WriteResult, error) {
		if _, err := s.engine.ImportReadings(ctx, parsed.Readings); err != nil {
			return geo.WriteResult{}, parsed.Locate(err)
		}
		// What the store recorded: one audit entry per gauge (its count).
		return geo.WriteResult{Entries: geo.ImportAudit(parsed.Readings, time.Now())}, nil
	}, func(res geo.WriteResult) (int, any, []string, error) {
		out := importResult{Gauges: []string{}, Encoding: parsed.Encoding}
		for _, e := range res.Entries {
			out.Gauges = append(out.Gauges, e.FeatureID)
			if n, ok := e.After.Properties["count"].(float64); ok {
				out.Imported += int(n)
			}
		}
		return http.StatusCreated, out, nil, nil
	})
}
