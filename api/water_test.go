package api

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"hazardmap/geo"
	"hazardmap/notify"
	"hazardmap/notify/capmsg/captest"
	"hazardmap/notify/wecom"
)

// waterClock is the alert engine's injected clock.
type waterClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *waterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *waterClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// robot stands in for the WeCom group robot: a real HTTP server that
// hands the content of every post to posts.
func newRobot(t *testing.T) (url string, posts chan string) {
	posts = make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Markdown, Text struct{ Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		posts <- p.Markdown.Content + p.Text.Content
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/cgi-bin/webhook/send?key=test", posts
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: nothing within 30 s", what)
		panic("unreachable")
	}
}

// nextAlertEvent returns the next event of the alerts collection,
// skipping the readings'.
func nextAlertEvent(t *testing.T, c *sseClient) (sse, map[string]any) {
	t.Helper()
	for {
		m := c.next(t, 30*time.Second)
		var d map[string]any
		if err := json.Unmarshal([]byte(m.data), &d); err != nil {
			t.Fatalf("event data %q: %v", m.data, err)
		}
		if d["collection"] == geo.AlertsCollection {
			return m, d
		}
	}
}

// capDoc fetches and validates a CAP message against the official
// schema, and returns it.
func (e *env) capDoc(t *testing.T, href string) string {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(geo.RolePublic, http.MethodGet, u.Path, "")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != typeCAP {
		t.Fatalf("GET %s = %d %s\n%s", u.Path, r.status, r.header.Get("Content-Type"), r.body)
	}
	captest.Validate(t, r.body)
	return string(r.body)
}

// capFeed fetches the Atom feed and returns its entries' titles and CAP
// links.
func (e *env) capFeed(t *testing.T) map[string]string {
	t.Helper()
	r := e.do(geo.RolePublic, http.MethodGet, capFeedRoute, "")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != typeAtom {
		t.Fatalf("GET %s = %d %s\n%s", capFeedRoute, r.status, r.header.Get("Content-Type"), r.body)
	}
	var feed atomFeed
	if err := xml.Unmarshal(r.body, &feed); err != nil {
		t.Fatalf("the feed is not Atom: %v\n%s", err, r.body)
	}
	out := map[string]string{}
	for _, en := range feed.Entries {
		for _, l := range en.Links {
			if l.Rel == "alternate" && l.Type == typeCAP {
				out[en.Title] = l.Href
			}
		}
	}
	// A reader polling the feed revalidates.
	if again := e.do(geo.RolePublic, http.MethodGet, capFeedRoute, "", "If-None-Match", r.header.Get("ETag")); again.status != http.StatusNotModified {
		t.Errorf("GET the feed with its ETag = %d, want 304", again.status)
	}
	return out
}

// TestAugust18OverHTTP is the 18 August replay of the report (三（五）3:
// 饮马坑水库 stood 0.15 m over its flood-limit level and nobody noticed),
// end to end over HTTP on both stores: a planner creates the gauge with a
// flood limit (149.50 m, a test value: the report gives none), a
// telemetry station posts a reading 0.15 m over it, and within that
// request an alert opens; an event-stream client sees it, a real HTTP
// server standing in for the WeCom robot receives it, the CAP feed
// carries it and its message validates against the OASIS schema. A gauge
// that stops reporting raises a silent-gauge alert; nobody acknowledges
// the first for 30 minutes, so it escalates; a planner acknowledges it
// (audited); a reading within the deadband leaves it open, one below it
// resolves it (CAP Cancel). The engine's clock is injected: no waiting.
func TestAugust18OverHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		clk := &waterClock{t: time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)}
		robotURL, posts := newRobot(t)
		bot, err := wecom.New(robotURL, wecom.Options{Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		eng := notify.New(st, notify.Options{Now: clk.Now, EscalateAfter: 30 * time.Minute,
			Channels: []notify.Channel{{Name: "wecom", Sender: bot}}})
		ctx, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		go eng.RunDelivery(ctx)
		e := newEnv(t, st, Options{Alerts: eng})
		doc := loadOpenAPI(t, e.srv)
		chk := newChecker(t, e.srv, doc)
		auth := func(role geo.Role) []string {
			return []string{"Authorization", "Bearer " + e.tokens[role], "Content-Type", "application/json"}
		}
		const limit = 149.50
		for _, g := range []string{
			`{"type":"Feature","id":"yinmakeng","geometry":null,"properties":{"name":"饮马坑水库","kind":"reservoir","township":"贾峪镇",
			  "datum":"测试基面","location_source":"test: the report gives no place","location_precision_m":null,
			  "flood_limits":[{"start":"07-16","end":"08-31","level":149.5,"period":"main"}]}}`,
			`{"type":"Feature","id":"telemetry-1","geometry":{"type":"Point","coordinates":[113.3,34.7]},"properties":{"name":"测试遥测站",
			  "kind":"river_section","river":"汜河","location_source":"test","location_precision_m":50,"report_interval_min":10}}`,
		} {
			if r := chk.check(http.MethodPost, "/collections/gauges/items", g, auth(geo.RolePlanner)...); r.Code != http.StatusCreated {
				t.Fatalf("create gauge = %d\n%s", r.Code, r.Body)
			}
		}
		events := e.listen(geo.RolePublic, "")
		post := func(gauge string, level float64) {
			t.Helper()
			body := fmt.Sprintf(`{"level":%g,"at":%q}`, level, clk.Now().Format(time.RFC3339))
			if r := chk.check(http.MethodPost, "/collections/gauges/items/"+gauge+"/readings", body, auth(geo.RoleSensor)...); r.Code != http.StatusCreated {
				t.Fatalf("POST reading %g on %s = %d\n%s", level, gauge, r.Code, r.Body)
			}
		}

		// 09:00 both gauges report; 饮马坑水库 0.15 m over its limit.
		post("telemetry-1", 3.2)
		sent := time.Now()
		post("yinmakeng", limit+0.15)
		m, d := nextAlertEvent(t, events)
		delay := time.Since(sent)
		if m.event != "open" || d["action"] != "open" {
			t.Fatalf("first alert event %+v, want open", m)
		}
		t.Logf("reading → alert on /events: %v (one sample; TestReadingToSSE measures many)", delay)
		id, _ := d["id"].(string)
		r := chk.check(http.MethodGet, "/alerts/"+id, "")
		var a alertJSON
		if err := json.Unmarshal(r.Body.Bytes(), &a); err != nil || a.Kind != string(geo.AlertFloodLimit) || a.GaugeID != "yinmakeng" || a.State != "open" {
			t.Fatalf("GET /alerts/%s = %s", id, r.Body)
		}
		if s := waitFor(t, posts, "the robot's post of the alert"); !strings.Contains(s, "饮马坑水库") || !strings.Contains(s, "超汛限水位") || !strings.Contains(s, "0.15") {
			t.Errorf("robot got %q", s)
		}
		feed := e.capFeed(t)
		href, ok := feed["饮马坑水库超汛限水位"]
		if !ok {
			t.Fatalf("the CAP feed has %v, want 饮马坑水库超汛限水位", feed)
		}
		if doc := e.capDoc(t, href); !strings.Contains(doc, "<msgType>Alert</msgType>") || !strings.Contains(doc, "0.15") {
			t.Errorf("CAP message:\n%s", doc)
		}

		// 09:21 the telemetry station has been silent for over 2 × 10 min.
		clk.Set(clk.Now().Add(21 * time.Minute))
		if err := eng.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, d := nextAlertEvent(t, events); d["action"] != "open" {
			t.Fatalf("after the silence: %v, want an alert opened", d)
		}
		r = chk.check(http.MethodGet, "/alerts?state=active&gauge_id=telemetry-1", "")
		var page alertsPage
		if err := json.Unmarshal(r.Body.Bytes(), &page); err != nil || len(page.Alerts) != 1 || page.Alerts[0].Kind != string(geo.AlertSilent) {
			t.Fatalf("active alerts of the silent gauge: %s", r.Body)
		}
		waitFor(t, posts, "the robot's post of the silent gauge")

		// 09:30 nobody acknowledged: it escalates.
		clk.Set(time.Date(2024, 8, 18, 9, 30, 0, 0, geo.ChinaTime))
		if err := eng.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, d := nextAlertEvent(t, events); d["action"] != "escalate" || d["id"] != id {
			t.Fatalf("after 30 minutes: %v, want the alert escalated", d)
		}
		if s := waitFor(t, posts, "the escalation's post"); !strings.Contains(s, "升级") {
			t.Errorf("escalation post %q", s)
		}

		// 09:35 a planner acknowledges it; a sensor may not.
		clk.Set(clk.Now().Add(5 * time.Minute))
		if r := e.do(geo.RoleSensor, http.MethodPost, "/alerts/"+id+"/acknowledge", `{"note":"x"}`, "Content-Type", typeJSON); r.status != http.StatusForbidden {
			t.Errorf("a sensor acknowledging = %d, want 403", r.status)
		}
		r = chk.check(http.MethodPost, "/alerts/"+id+"/acknowledge", `{"note":"已通知贾峪镇和水库管理员开闸泄洪","version":2}`, auth(geo.RolePlanner)...)
		if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), `"state":"acknowledged"`) {
			t.Fatalf("acknowledge = %d\n%s", r.Code, r.Body)
		}
		if _, d := nextAlertEvent(t, events); d["action"] != "acknowledge" || d["id"] != id {
			t.Fatalf("after the acknowledgement: %v", d)
		}
		audit := e.do(geo.RolePlanner, http.MethodGet, "/audit?collection=alerts&feature_id="+id, "").json(t)
		entries, _ := audit["entries"].([]any)
		first, _ := entries[0].(map[string]any)
		if len(entries) != 3 || first["action"] != "acknowledge" || first["actor"].(map[string]any)["id"] != e.ids[geo.RolePlanner] {
			t.Fatalf("audit of the alert = %v, want the planner's acknowledgement first of 3", audit)
		}
		if s := waitFor(t, posts, "the acknowledgement's post"); !strings.Contains(s, "确认") {
			t.Errorf("acknowledgement post %q", s)
		}
		if doc := e.capDoc(t, e.capFeed(t)["饮马坑水库超汛限水位（已确认）"]); !strings.Contains(doc, "<msgType>Update</msgType>") || !strings.Contains(doc, "开闸泄洪") {
			t.Errorf("CAP message after the acknowledgement:\n%s", doc)
		}

		// 09:40 the level is 3 cm below the limit: within the deadband,
		// the alert stays. 10:00 10 cm below: it resolves.
		clk.Set(clk.Now().Add(5 * time.Minute))
		post("yinmakeng", limit-0.03)
		if r := chk.check(http.MethodGet, "/alerts/"+id, ""); !strings.Contains(r.Body.String(), `"state":"acknowledged"`) {
			t.Fatalf("within the deadband the alert = %s, want still acknowledged", r.Body)
		}
		clk.Set(time.Date(2024, 8, 18, 10, 0, 0, 0, geo.ChinaTime))
		post("yinmakeng", limit-0.10)
		if _, d := nextAlertEvent(t, events); d["action"] != "resolve" || d["id"] != id {
			t.Fatalf("after a reading below the deadband: %v, want the alert resolved", d)
		}
		if s := waitFor(t, posts, "the resolution's post"); !strings.Contains(s, "解除") {
			t.Errorf("resolution post %q", s)
		}
		feed = e.capFeed(t)
		cancel := e.capDoc(t, feed["饮马坑水库超汛限水位（已解除）"])
		if !strings.Contains(cancel, "<msgType>Cancel</msgType>") || !strings.Contains(cancel, "hazardmap."+id+".1") {
			t.Errorf("CAP message after the resolution (a Cancel referencing the first):\n%s", cancel)
		}
		// Every step's message stays at its URL and validates.
		for v := 1; v <= 4; v++ {
			e.capDoc(t, e.ts.URL+capMessagePath(id, int64(v)))
		}
		// The planner sees every delivery, recorded (the last one is
		// recorded just after the robot answered: wait for it).
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			r = chk.check(http.MethodGet, "/alerts/"+id+"/deliveries", "", auth(geo.RolePlanner)...)
			if strings.Count(r.Body.String(), `"ok":true`) == 4 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries = %s, want the 4 steps delivered", r.Body)
			}
		}
		if r := e.do(geo.RoleCrew, http.MethodGet, "/alerts/"+id+"/deliveries", ""); r.status != http.StatusForbidden {
			t.Errorf("deliveries as a crew = %d, want 403", r.status)
		}
	})
}

// TestReadingsHTTP checks the reading routes' answers to good and bad
// input, who sees what, paging, and the CSV import (UTF-8 with BOM, GBK,
// a per-line report).
func TestReadingsHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		chk := newChecker(t, e.srv, loadOpenAPI(t, e.srv))
		auth := func(role geo.Role, ct string) []string {
			return []string{"Authorization", "Bearer " + e.tokens[role], "Content-Type", ct}
		}
		const path = "/collections/gauges/items/g-1/readings"
		at := time.Date(2024, 8, 18, 8, 0, 0, 0, geo.ChinaTime)
		for i := range 5 {
			body := fmt.Sprintf(`{"level":%g,"at":%q,"note":"人工 %d"}`, 99.0+float64(i)/10, at.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), i)
			if r := chk.check(http.MethodPost, path, body, auth(geo.RoleCrew, typeJSON)...); r.Code != http.StatusCreated ||
				!strings.Contains(r.Body.String(), `"source":"manual"`) {
				t.Fatalf("POST reading = %d\n%s", r.Code, r.Body)
			}
		}
		r := chk.check(http.MethodPost, path, `{"level":99.9}`, auth(geo.RoleSensor, typeJSON)...)
		if r.Code != http.StatusCreated || !strings.Contains(r.Body.String(), `"source":"telemetry"`) {
			t.Fatalf("POST reading as a sensor (no at: now) = %d\n%s", r.Code, r.Body)
		}
		// A phone's queue resending with its Idempotency-Key: one reading,
		// the same answer.
		keyed := fmt.Sprintf(`{"level":99.95,"at":%q}`, at.Add(-time.Hour).Format(time.RFC3339))
		first := chk.check(http.MethodPost, path, keyed, append(auth(geo.RoleCrew, typeJSON), "Idempotency-Key", `"r-1"`)...)
		again := chk.check(http.MethodPost, path, keyed, append(auth(geo.RoleCrew, typeJSON), "Idempotency-Key", `"r-1"`)...)
		if first.Code != http.StatusCreated || again.Code != http.StatusCreated || again.Header().Get("Idempotency-Replayed") != "true" ||
			again.Body.String() != first.Body.String() {
			t.Fatalf("a reading sent twice with one key = %d, %d (%s)\n%s\n%s", first.Code, again.Code, again.Header().Get("Idempotency-Replayed"), first.Body, again.Body)
		}
		for _, tt := range []struct {
			body, field string
			status      int
		}{
			{`{"level":"high"}`, "level", 400},
			{`{}`, "level", 400},
			{`{"level":99,"at":"yesterday"}`, "at", 400},
			{`{"level":99,"depth":1}`, "depth", 400},
			{`{"level":99,"at":"2099-01-01T00:00:00Z"}`, "at", 400},
			{`{"level":99999}`, "level", 400},
			{fmt.Sprintf(`{"level":99,"at":%q}`, at.Format(time.RFC3339)), "at", 409},
			{`[1]`, "body", 400},
		} {
			r := chk.check(http.MethodPost, path, tt.body, auth(geo.RoleCrew, typeJSON)...)
			if r.Code != tt.status || !strings.Contains(r.Body.String(), `"field":"`+tt.field+`"`) {
				t.Errorf("POST %s = %d %s, want %d naming %s", tt.body, r.Code, r.Body, tt.status, tt.field)
			}
		}
		if r := e.do(geo.RolePublic, http.MethodPost, path, `{"level":99}`, "Content-Type", typeJSON); r.status != http.StatusUnauthorized {
			t.Errorf("POST reading as the public = %d, want 401", r.status)
		}
		if r := e.do(geo.RoleSensor, http.MethodPost, "/collections/gauges/items/nope/readings", `{"level":99}`, "Content-Type", typeJSON); r.status != http.StatusNotFound {
			t.Errorf("POST reading of no gauge = %d, want 404", r.status)
		}
		// A sensor may post readings and nothing a crew may.
		if r := e.do(geo.RoleSensor, http.MethodPost, observationsRoute[:len(observationsRoute)-len("{featureId}/observations")]+"wp-1/observations",
			`{"depth_cm":1,"status":"ponding"}`, "Content-Type", typeJSON); r.status != http.StatusForbidden {
			t.Errorf("a sensor's status report = %d, want 403", r.status)
		}

		// The series: oldest first, paged; the public sees no note.
		r = chk.check(http.MethodGet, path+"?limit=2&from="+url.QueryEscape(at.Add(time.Hour).Format(time.RFC3339)), "")
		var page readingsPage
		if err := json.Unmarshal(r.Body.Bytes(), &page); err != nil || page.NumberMatched != 5 || len(page.Readings) != 2 ||
			page.Readings[0].Level != 99.1 || page.Readings[0].Note != nil || page.Readings[0].Reporter != nil {
			t.Fatalf("GET readings as the public = %s", r.Body)
		}
		next := ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
		if u, _ := url.Parse(next); next == "" || !strings.Contains(chk.check(http.MethodGet, u.RequestURI(), "").Body.String(), `"level":99.3`) {
			t.Errorf("next link %q", next)
		}
		r = chk.check(http.MethodGet, path+"?order=desc&limit=1", "", "Authorization", "Bearer "+e.tokens[geo.RoleCrew])
		if !strings.Contains(r.Body.String(), `"level":99.9`) || !strings.Contains(r.Body.String(), `"reporter"`) {
			t.Errorf("newest reading as a crew = %s, want 99.9 with its reporter", r.Body)
		}
		for _, q := range []string{"?limit=0", "?limit=99999", "?order=up", "?from=x", "?datetime=2024-08-18&from=2024-08-18T00:00:00Z", "?bbox=1,2,3,4"} {
			if r := chk.check(http.MethodGet, path+q, ""); r.Code != http.StatusBadRequest {
				t.Errorf("GET readings%s = %d, want 400", q, r.Code)
			}
		}
		r = chk.check(http.MethodGet, "/readings/latest?gauge_id=g-1,g-2", "")
		if !strings.Contains(r.Body.String(), `"level":99.9`) || strings.Count(r.Body.String(), `"gauge_id"`) != 1 {
			t.Errorf("latest = %s", r.Body)
		}

		// CSV: UTF-8 with Excel's BOM, Chinese headers.
		csv := "\ufeff站码,时间,水位,备注\ng-2,2024-08-18 09:00,3.10,\ng-2,2024-08-18 09:10,3.20,巡查\n"
		r = chk.check(http.MethodPost, "/readings", csv, auth(geo.RoleSensor, "text/csv")...)
		if r.Code != http.StatusCreated || !strings.Contains(r.Body.String(), `"imported":2`) {
			t.Fatalf("CSV import (UTF-8 with BOM) = %d\n%s", r.Code, r.Body)
		}
		// GBK, one gauge by the query.
		gbk, err := simplifiedchinese.GBK.NewEncoder().String("时间,水位,备注\n2024-08-18 10:00,3.30,人工观测\n")
		if err != nil {
			t.Fatal(err)
		}
		r = chk.check(http.MethodPost, "/readings?gauge_id=g-2", gbk, auth(geo.RolePlanner, "text/csv; charset=gbk")...)
		if r.Code != http.StatusCreated || !strings.Contains(r.Body.String(), `"encoding":"GB18030"`) {
			t.Fatalf("CSV import (GBK) = %d\n%s", r.Code, r.Body)
		}
		// Bad rows: every one reported by line and column, nothing written.
		bad := "gauge_id,at,level\ng-2,2024-08-18 11:00,abc\ng-2,not a time,3\nnope,2024-08-18 11:10,3\ng-2,2024-08-18 09:00,3\n"
		r = chk.check(http.MethodPost, "/readings", bad, auth(geo.RolePlanner, "text/csv")...)
		if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), `"lines[2].level"`) || !strings.Contains(r.Body.String(), `"lines[3].at"`) {
			t.Fatalf("CSV with bad rows = %d\n%s", r.Code, r.Body)
		}
		stale := "gauge_id,at,level\nnope,2024-08-18 11:10,3\n"
		if r := chk.check(http.MethodPost, "/readings", stale, auth(geo.RolePlanner, "text/csv")...); r.Code != http.StatusBadRequest ||
			!strings.Contains(r.Body.String(), `"lines[2].gauge_id"`) {
			t.Errorf("CSV naming no gauge = %d\n%s", r.Code, r.Body)
		}
		dup := "gauge_id,at,level\ng-2,2024-08-18 09:00,3\n"
		if r := chk.check(http.MethodPost, "/readings", dup, auth(geo.RolePlanner, "text/csv")...); r.Code != http.StatusConflict ||
			!strings.Contains(r.Body.String(), `"lines[2].at"`) {
			t.Errorf("CSV repeating a stored reading = %d\n%s", r.Code, r.Body)
		}
		if r := chk.check(http.MethodPost, "/readings", csv, auth(geo.RolePlanner, "application/json")...); r.Code != http.StatusUnsupportedMediaType {
			t.Errorf("CSV sent as JSON = %d, want 415", r.Code)
		}
		if n, _, _ := st.Readings(context.Background(), "g-2", geo.ReadingQuery{}); len(n) != 3 {
			t.Errorf("g-2 has %d readings after the refused imports, want 3", len(n))
		}
	})
}

func FuzzParseReading(f *testing.F) {
	for _, s := range []string{`{"level":149.65}`, `{"level":1,"at":"2024-08-18T09:00:00+08:00","note":"x"}`, `{"level":null}`, `[]`, `{"at":1}`, `{"level":1e999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, hasAt, err := parseReading(raw)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid || len(geo.AsError(err).Fields) == 0 {
				t.Fatalf("parseReading(%q) = %v: want Invalid naming a field", raw, err)
			}
			return
		}
		if hasAt == r.At.IsZero() {
			t.Fatalf("parseReading(%q): hasAt %v with at %v", raw, hasAt, r.At)
		}
	})
}

func FuzzParseReadingsQuery(f *testing.F) {
	for _, s := range []string{"", "from=2024-08-18T00:00:00Z&limit=5000", "order=desc", "datetime=2024-08-18/..", "limit=0", "x=1", "from=a&to=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseReadingsQuery(v)
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("parseReadingsQuery(%q) = %v, want Invalid", raw, err)
			}
			return
		}
		if err := q.Check(); err != nil {
			t.Fatalf("parseReadingsQuery(%q) accepted a query the store refuses: %v", raw, err)
		}
	})
}

func FuzzParseAlertStep(f *testing.F) {
	for _, s := range []string{`{"note":"已通知"}`, `{"note":"x","version":2}`, `{"version":0}`, `{"x":1}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, v, err := parseAlertStep(raw)
		if err != nil && geo.KindOf(err) != geo.Invalid {
			t.Fatalf("parseAlertStep(%q) = %v, want Invalid", raw, err)
		}
		if err == nil && v < 0 {
			t.Fatalf("parseAlertStep(%q): version %d", raw, v)
		}
	})
}

func FuzzParseCAPIdentifier(f *testing.F) {
	for _, s := range []string{"hazardmap.abc.1", "hazardmap..1", "hazardmap.a.b.2", "x.y.1", "hazardmap.abc.0", "hazardmap.abc.-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, v, err := parseCAPIdentifier(raw)
		if err != nil {
			if geo.KindOf(err) != geo.NotFound {
				t.Fatalf("parseCAPIdentifier(%q) = %v, want NotFound", raw, err)
			}
			return
		}
		if v < 1 || geo.ValidateID(id) != nil || "hazardmap."+id+"."+fmt.Sprint(v) != raw {
			t.Fatalf("parseCAPIdentifier(%q) = %q, %d", raw, id, v)
		}
	})
}
