package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hazardmap/geo"
)

// TestObservations: a crew reports from the 陇海路 × 荥泽大道 underpass; the
// point's status changes, the history grows, pages and filters by time;
// a late report only joins the history; If-Match is optional but checked
// when given; the public sees no reporter, note or position.
func TestObservations(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{})
		obs := "/collections/waterlogging_points/items/wp-1/observations"
		post := func(role geo.Role, body string, header ...string) reply {
			return e.do(role, "POST", obs, body, append([]string{"Content-Type", "application/json"}, header...)...)
		}
		start := time.Now().UTC().Add(-time.Second)

		r := post(geo.RoleCrew, `{"depth_cm":40,"status":"closed","note":"桥下断路，已设警示","position":{"type":"Point","coordinates":[113.3712,34.8021]}}`)
		if r.status != http.StatusCreated {
			t.Fatalf("POST observation = %d %s", r.status, r.body)
		}
		res := r.json(t)
		o := res["observation"].(map[string]any)
		if res["current"] != true || o["depth_cm"] != 40.0 || o["status"] != "closed" || o["reporter"].(map[string]any)["id"] != e.ids[geo.RoleCrew] {
			t.Errorf("POST observation = %s", r.body)
		}
		g := e.do(geo.RoleCrew, "GET", "/collections/waterlogging_points/items/wp-1", "")
		props := g.json(t)["properties"].(map[string]any)
		if props["status"] != "closed" || props["depth_cm"] != 40.0 || props["status_updated_at"] == nil {
			t.Errorf("point after the report: %v", props)
		}
		if g.header.Get("ETag") != r.header.Get("ETag") {
			t.Errorf("report ETag %s, GET ETag %s: want the same", r.header.Get("ETag"), g.header.Get("ETag"))
		}
		e.checkAudit("observe", geo.WaterloggingPoints, "wp-1", "observe", geo.RoleCrew, 2, true, true, "status", "closed")

		// A report queued on a phone, made before the current one, joins
		// the history only.
		late := time.Now().Add(-time.Hour).Format(time.RFC3339)
		r = post(geo.RoleCrew, `{"depth_cm":10,"status":"ponding","observed_at":"`+late+`"}`)
		if r.status != http.StatusCreated || r.json(t)["current"] != false {
			t.Fatalf("late report = %d %s", r.status, r.body)
		}
		if p := e.do(geo.RolePublic, "GET", "/collections/waterlogging_points/items/wp-1", "").json(t)["properties"].(map[string]any); p["status"] != "closed" {
			t.Errorf("a late report overwrote the current status: %v", p)
		}

		// If-Match: optional, checked when given.
		etag := e.do(geo.RoleCrew, "GET", "/collections/waterlogging_points/items/wp-1", "").header.Get("ETag")
		if r := post(geo.RoleCrew, `{"depth_cm":30,"status":"ponding"}`, "If-Match", etag); r.status != http.StatusCreated {
			t.Fatalf("report with the current ETag = %d %s", r.status, r.body)
		}
		p := post(geo.RoleCrew, `{"depth_cm":0,"status":"clear"}`, "If-Match", etag).problem(t, "report with a stale ETag", http.StatusPreconditionFailed)
		if cur := p["current"].(map[string]any); cur["version"] != 3.0 {
			t.Errorf("412 current = %v", cur)
		}

		// Bad reports name the field; GB 51222 thresholds are enforced.
		for body, field := range map[string]string{
			`{"depth_cm":40,"status":"clear"}`:      "status",
			`{"depth_cm":0,"status":"ponding"}`:     "status",
			`{"depth_cm":-1,"status":"closed"}`:     "depth_cm",
			`{"depth_cm":"40","status":"closed"}`:   "depth_cm",
			`{"status":"closed"}`:                   "depth_cm",
			`{"depth_cm":5,"status":"flooded"}`:     "status",
			`{"depth_cm":5,"status":"clear","x":1}`: "x",
			`{"depth_cm":5,"status":"clear","position":{"type":"LineString","coordinates":[[1,2],[3,4]]}}`: "position",
			`{"depth_cm":5,"status":"clear","observed_at":"yesterday"}`:                                    "observed_at",
		} {
			p := post(geo.RoleCrew, body).problem(t, "report "+body, http.StatusBadRequest)
			errs, _ := p["errors"].([]any)
			if len(errs) == 0 || errs[0].(map[string]any)["field"] != field {
				t.Errorf("report %s: errors %v, want field %s", body, p["errors"], field)
			}
		}
		e.do(geo.RoleCrew, "POST", "/collections/waterlogging_points/items/nope/observations", `{"depth_cm":5,"status":"clear"}`,
			"Content-Type", "application/json").problem(t, "report on a missing point", http.StatusNotFound)

		// The history, newest first, paged.
		h := e.do(geo.RoleCrew, "GET", obs+"?limit=2", "")
		if h.status != http.StatusOK {
			t.Fatalf("GET history = %d %s", h.status, h.body)
		}
		page := h.json(t)
		list := page["observations"].([]any)
		if page["numberMatched"] != 3.0 || len(list) != 2 || list[0].(map[string]any)["depth_cm"] != 30.0 {
			t.Fatalf("history page 1 = %s", h.body)
		}
		next := linkHref(t, page, "next")
		u, _ := url.Parse(next)
		h2 := e.do(geo.RoleCrew, "GET", u.RequestURI(), "").json(t)
		if l := h2["observations"].([]any); len(l) != 1 || l[0].(map[string]any)["depth_cm"] != 10.0 {
			t.Errorf("history page 2 (%s) = %v", next, h2)
		}
		// A time range: the late report is an hour old.
		for q, want := range map[string]float64{
			"datetime=" + url.QueryEscape(start.Format(time.RFC3339Nano)+"/..") + "": 2,
			"datetime=" + url.QueryEscape("../"+start.Format(time.RFC3339Nano)):      1,
			"from=" + url.QueryEscape(start.Format(time.RFC3339Nano)):                2,
			"to=" + url.QueryEscape(start.Format(time.RFC3339Nano)):                  1,
		} {
			if got := e.do(geo.RolePublic, "GET", obs+"?"+q, "").json(t)["numberMatched"]; got != want {
				t.Errorf("history ?%s matched %v, want %v", q, got, want)
			}
		}
		for _, q := range []string{"limit=0", "limit=1001", "datetime=x", "from=2024-01-01", "datetime=2024-07-20&from=2024-07-20T00:00:00Z", "colour=red", "limit=1&limit=2"} {
			e.do(geo.RolePublic, "GET", obs+"?"+q, "").problem(t, "history ?"+q, http.StatusBadRequest)
		}

		// The public sees depth and status, not who stood where.
		pub := e.do(geo.RolePublic, "GET", obs, "")
		if strings.Contains(string(pub.body), "reporter") || strings.Contains(string(pub.body), "桥下断路") || strings.Contains(string(pub.body), "113.3712") {
			t.Errorf("public history shows reporter, note or position: %s", pub.body)
		}
		crew := e.do(geo.RoleCrew, "GET", obs, "")
		if !strings.Contains(string(crew.body), "桥下断路") || !strings.Contains(string(crew.body), e.ids[geo.RoleCrew]) {
			t.Errorf("crew history lacks note or reporter: %s", crew.body)
		}
	})
}

// linkHref returns the href of the link of rel in a JSON document.
func linkHref(t testing.TB, doc map[string]any, rel string) string {
	t.Helper()
	for _, l := range doc["links"].([]any) {
		if l := l.(map[string]any); l["rel"] == rel {
			return l["href"].(string)
		}
	}
	t.Fatalf("no %s link in %v", rel, doc["links"])
	return ""
}

func FuzzParseObservation(f *testing.F) {
	for _, s := range []string{
		`{"depth_cm":40,"status":"closed","note":"断路","position":{"type":"Point","coordinates":[113.37,34.8]},"observed_at":"2024-07-20T08:05:00+08:00"}`,
		`{"depth_cm":0,"status":"clear"}`, `{"depth_cm":1e400,"status":"x"}`, `{}`, `[]`, `null`, `{"depth_cm":null,"status":null,"note":null,"position":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := parseObservation(raw)
		if err != nil {
			if e := geo.AsError(err); e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 {
				t.Fatalf("ParseObservation(%q) = %v: want Invalid with fields", raw, err)
			}
			return
		}
		// What parses is either valid or refused by the domain with
		// field errors; it never panics there.
		if err := o.Validate(); err != nil && geo.KindOf(err) != geo.Invalid {
			t.Fatalf("Validate after parseObservation(%q) = %v", raw, err)
		}
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil || m["status"] != o.Status {
			t.Fatalf("ParseObservation(%q) = %+v", raw, o)
		}
	})
}

func FuzzParseHistoryQuery(f *testing.F) {
	for _, s := range []string{"limit=10&offset=5", "datetime=2024-07-20T00:00:00Z/..", "from=2024-07-20T00:00:00Z&to=2024-07-21T00:00:00Z",
		"datetime=2024-07-20", "collection=depots&feature_id=d-1", "limit=0", "x=1", "datetime=../..", "from=2024-07-21T00:00:00Z&to=2024-07-20T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseHistoryQuery(v, "collection", "feature_id")
		if err != nil {
			if geo.KindOf(err) != geo.Invalid {
				t.Fatalf("ParseHistoryQuery(%q) error kind %v", raw, geo.KindOf(err))
			}
			return
		}
		if q.Limit < 1 || q.Limit > maxHistoryLimit || q.Offset < 0 || (!q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To)) {
			t.Fatalf("ParseHistoryQuery(%q) = %+v", raw, q)
		}
		// The links' query parses back to the same query.
		again, err := parseHistoryQuery(mustQuery(t, q.values(q.Offset)), "collection", "feature_id")
		if err != nil || !again.From.Equal(q.From) || !again.To.Equal(q.To) || again.Limit != q.Limit || again.Offset != q.Offset ||
			fmt.Sprint(again.Extra) != fmt.Sprint(q.Extra) {
			t.Fatalf("ParseHistoryQuery(%q) = %+v; its link query %q = %+v, %v", raw, q, q.values(q.Offset), again, err)
		}
	})
}

func mustQuery(t *testing.T, s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
