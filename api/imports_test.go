package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"maps"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"hazardmap/geo"
	"hazardmap/geo/export"
	"hazardmap/geo/sheet"
	"hazardmap/geo/sheet/sheettest"
)

// report returns the import report of an answer: the body of a 200, the
// member import of a 400.
func (r reply) report(t testing.TB) map[string]any {
	t.Helper()
	m := r.json(t)
	if r.status != http.StatusOK {
		m, _ = m["import"].(map[string]any)
	}
	if m == nil {
		t.Fatalf("no import report in %d %s", r.status, r.body)
	}
	return m
}

// counts returns the report's counts by action.
func countsOf(rep map[string]any) map[string]int {
	out := map[string]int{}
	for k, v := range rep["counts"].(map[string]any) {
		out[k] = int(v.(float64))
	}
	return out
}

// TestImportRoundTrip is the planner's round trip over HTTP on both
// stores: export xlsx, edit cells, someone else changes a point
// meanwhile, dry run (nothing written), import (the edit written and
// audited as an import, the new row created, the stale row reported and
// left alone); a bad cell refuses the file with the row and column in
// Chinese and English and writes nothing, unless apply_good_rows; a GBK
// CSV and a browser's form are read; an Idempotency-Key replays.
func TestImportRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{FileBuilds: 2, WritesPerMinute: 1000})
		const c = geo.WaterloggingPoints
		imp := "/collections/" + c + "/import"
		version := func(id string) float64 {
			f, err := st.Feature(context.Background(), c, id)
			if err != nil {
				t.Fatal(err)
			}
			return float64(f.Version)
		}
		xlsx := e.do(geo.RolePlanner, "GET", "/collections/"+c+"/items?f=xlsx", "").body
		edited := sheettest.Edit(t, xlsx, c, map[[2]string]any{
			{"wp-1", "duty_unit"}:          "荥阳市城建局排水所",
			{"wp-1", "duty_contact_phone"}: "0371-86572555",
			{"wp-2", "duty_unit"}:          "这行会过期",
			{"", "name"}:                   "新积水点",
			{"", "kind"}:                   "road_spot",
			{"", "location_source"}:        "城建局现场定位",
		})
		// A crew reports on wp-2 after the export: its row is stale.
		e.report("wp-2", 30)
		v1, v2 := version("wp-1"), version("wp-2")
		xlsxType := []string{"Content-Type", export.MediaXLSX}

		dry := e.do(geo.RolePlanner, "POST", imp+"?dry_run=true", string(edited), xlsxType...)
		rep := dry.report(t)
		if dry.status != http.StatusOK || rep["written"] != false || rep["dry_run"] != true {
			t.Fatalf("dry run = %d %s", dry.status, dry.body)
		}
		want := map[string]int{"create": 1, "update": 1, "stale": 1, "unchanged": 3, "invalid": 0}
		if got := countsOf(rep); !maps.Equal(got, want) {
			t.Errorf("dry run counts %v, want %v", got, want)
		}
		before := e.auditCount(c)
		if version("wp-1") != v1 {
			t.Error("the dry run wrote")
		}

		r := e.do(geo.RolePlanner, "POST", imp, string(edited), xlsxType...)
		rep = r.report(t)
		if r.status != http.StatusOK || rep["written"] != true || len(rep["created"].([]any)) != 1 ||
			!slices.Equal(rep["updated"].([]any), []any{"wp-1"}) {
			t.Fatalf("import = %d %s", r.status, r.body)
		}
		if version("wp-1") != v1+1 || version("wp-2") != v2 {
			t.Errorf("versions wp-1 %v → %v, wp-2 %v → %v: want wp-1 written once and the stale wp-2 left", v1, version("wp-1"), v2, version("wp-2"))
		}
		stale := rowOf(rep, "wp-2")
		if stale["action"] != "stale" || !strings.Contains(problemText(stale), "已被他人修改") || !strings.Contains(problemText(stale), "changed by someone else") {
			t.Errorf("the stale row: %v", stale)
		}
		e.checkAudit("import", c, "wp-1", "import", geo.RolePlanner, v1+1, true, true, "duty_unit", "荥阳市城建局排水所")
		if after := e.auditCount(c); after != before+2 {
			t.Errorf("audit entries %d → %d, want 2 more (one per feature written)", before, after)
		}
		// The same file again: wp-1 is unchanged now, wp-2 still stale,
		// and the row without an id adds a feature again (README: export
		// again after an import).
		want = map[string]int{"create": 1, "update": 0, "stale": 1, "unchanged": 4, "invalid": 0}
		if got := countsOf(e.do(geo.RolePlanner, "POST", imp+"?dry_run=true", string(edited), xlsxType...).report(t)); !maps.Equal(got, want) {
			t.Errorf("the same file again: %v, want %v", got, want)
		}

		// A bad cell refuses the whole file, naming the row and column.
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(e.do(geo.RolePlanner, "GET", "/collections/"+c+"/items?f=csv", "").body, []byte("\uFEFF")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		phone, unit := slices.Index(recs[0], "值守联系电话 (duty_contact_phone)"), slices.Index(recs[0], "责任单位 (duty_unit)")
		bad := slices.IndexFunc(recs, func(r []string) bool { return r[0] == "wp-3" })
		good := slices.IndexFunc(recs, func(r []string) bool { return r[0] == "wp-5" })
		recs[bad][phone], recs[good][unit] = "12345", "城建局二队"
		var out bytes.Buffer
		_ = csv.NewWriter(&out).WriteAll(recs)
		badCSV := out.String()
		v3, v5 := version("wp-3"), version("wp-5")
		dryBad := e.do(geo.RolePlanner, "POST", imp+"?dry_run=true", badCSV, "Content-Type", "text/csv")
		if rep := dryBad.report(t); dryBad.status != http.StatusOK || countsOf(rep)["invalid"] != 1 || !strings.Contains(problemText(rowOf(rep, "wp-3")), "值守联系电话列") {
			t.Errorf("a dry run of a file with a bad cell = %d %s, want 200 and the row", dryBad.status, dryBad.body)
		}
		refused := e.do(geo.RolePlanner, "POST", imp, badCSV, "Content-Type", "text/csv; charset=utf-8")
		p := refused.problem(t, "a bad cell", http.StatusBadRequest)
		errs := p["errors"].([]any)
		field := errs[0].(map[string]any)
		row := "row " + strconv.Itoa(bad+1)
		if len(errs) != 1 || field["field"] != row+", duty_contact_phone" || !strings.Contains(field["detail"].(string), "第"+strconv.Itoa(bad+1)+"行 值守联系电话列") ||
			!strings.Contains(field["detail"].(string), row+", column 值守联系电话 (duty_contact_phone)") {
			t.Errorf("the problem's errors: %v", errs)
		}
		if rep := refused.report(t); countsOf(rep)["invalid"] != 1 || rep["written"] != false {
			t.Errorf("the refused import's report: %v", rep)
		}
		if version("wp-3") != v3 || version("wp-5") != v5 {
			t.Error("a refused file wrote something")
		}
		r = e.do(geo.RolePlanner, "POST", imp+"?apply_good_rows=true", badCSV, "Content-Type", "text/csv")
		if rep := r.report(t); r.status != http.StatusOK || !slices.Equal(rep["updated"].([]any), []any{"wp-5"}) || version("wp-3") != v3 {
			t.Errorf("apply_good_rows = %d %s", r.status, r.body)
		}

		// GBK, as older Excel saves "CSV" on Chinese Windows, in a
		// browser's form, under an Idempotency-Key sent twice.
		gbk, err := simplifiedchinese.GBK.NewEncoder().String("编号 (id),版本 (version),名称 (name),类型 (kind),定位来源 (location_source)\r\n,,表单新增点,road_spot,城建局\r\n")
		if err != nil {
			t.Fatal(err)
		}
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		part, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="file"; filename="积水点.csv"`},
			"Content-Type": {"application/vnd.ms-excel"}})
		_, _ = part.Write([]byte(gbk))
		_ = mw.Close()
		key := `"import-1"`
		first := e.do(geo.RolePlanner, "POST", imp, form.String(), "Content-Type", mw.FormDataContentType(), "Idempotency-Key", key)
		again := e.do(geo.RolePlanner, "POST", imp, form.String(), "Content-Type", mw.FormDataContentType(), "Idempotency-Key", key)
		rep = first.report(t)
		if first.status != http.StatusOK || rep["encoding"] != "GBK" || len(rep["created"].([]any)) != 1 {
			t.Fatalf("GBK form = %d %s", first.status, first.body)
		}
		if again.status != http.StatusOK || again.header.Get("Idempotency-Replayed") != "true" || !bytes.Equal(again.body, first.body) {
			t.Errorf("the same key again = %d (replayed %q), want the first answer", again.status, again.header.Get("Idempotency-Replayed"))
		}
		n := 0
		for _, f := range e.do(geo.RolePlanner, "GET", "/collections/"+c+"/items", "").json(t)["features"].([]any) {
			if f.(map[string]any)["properties"].(map[string]any)["name"] == "表单新增点" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d features 表单新增点 after the same key twice, want 1", n)
		}
	})
}

// auditCount returns how many audit entries collection c has.
func (e *env) auditCount(c string) int {
	e.t.Helper()
	return int(e.do(geo.RolePlanner, "GET", "/audit?collection="+c+"&limit=1", "").json(e.t)["numberMatched"].(float64))
}

// rowOf returns the report's row of feature id.
func rowOf(rep map[string]any, id string) map[string]any {
	for _, r := range rep["rows"].([]any) {
		if r := r.(map[string]any); r["id"] == id {
			return r
		}
	}
	return nil
}

// problemText joins the Chinese and English of a report row's problems.
func problemText(row map[string]any) string {
	var b strings.Builder
	ps, _ := row["problems"].([]any)
	for _, p := range ps {
		p := p.(map[string]any)
		b.WriteString(p["zh"].(string) + " / " + p["en"].(string) + "\n")
	}
	return b.String()
}

// TestImportRefusals: what the import route refuses, each a problem.
func TestImportRefusals(t *testing.T) {
	e := newEnv(t, OpenFixtureStore(t), Options{FileBuilds: 1})
	imp := "/collections/depots/import"
	csv := "编号 (id),版本 (version),名称 (name)\r\n"
	for _, tc := range []struct {
		what, path, body string
		header           []string
		status           int
		field            string
	}{
		{"JSON", imp, "{}", []string{"Content-Type", "application/json"}, http.StatusUnsupportedMediaType, "Content-Type"},
		{"no type", imp, csv, nil, http.StatusUnsupportedMediaType, "Content-Type"},
		{"too large", imp, strings.Repeat("a", sheet.MaxBytes+1), []string{"Content-Type", "text/csv"}, http.StatusRequestEntityTooLarge, ""},
		{"unknown parameter", imp + "?dryrun=true", csv, []string{"Content-Type", "text/csv"}, http.StatusBadRequest, "dryrun"},
		{"not a boolean", imp + "?dry_run=yes", csv, []string{"Content-Type", "text/csv"}, http.StatusBadRequest, "dry_run"},
		{"an old xls", imp, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", []string{"Content-Type", "application/vnd.ms-excel"}, http.StatusBadRequest, "file"},
		{"not a zip", imp, "hello", []string{"Content-Type", export.MediaXLSX}, http.StatusBadRequest, "file"},
		{"unknown column", imp, "编号 (id),版本 (version),颜色\r\n", []string{"Content-Type", "text/csv"}, http.StatusBadRequest, "颜色"},
		{"empty", imp, "", []string{"Content-Type", "text/csv"}, http.StatusBadRequest, "file"},
		{"form without file", imp, "--b\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\ntrue\r\n--b--\r\n", []string{"Content-Type", "multipart/form-data; boundary=b"}, http.StatusBadRequest, "dry_run"},
	} {
		r := e.do(geo.RolePlanner, "POST", tc.path, tc.body, tc.header...)
		p := r.problem(t, tc.what, tc.status)
		if tc.field != "" {
			errs, _ := p["errors"].([]any)
			if len(errs) == 0 || !strings.Contains(errs[0].(map[string]any)["field"].(string), tc.field) && !strings.Contains(errs[0].(map[string]any)["detail"].(string), tc.field) {
				t.Errorf("%s: problem %v, want it to name %s", tc.what, p, tc.field)
			}
		}
	}
	if r := e.do(geo.RoleCrew, "POST", imp, csv, "Content-Type", "text/csv"); r.status != http.StatusForbidden {
		t.Errorf("a crew's import = %d, want 403", r.status)
	}
	e.srv.files.wait = 50 * time.Millisecond
	e.srv.files.builds <- struct{}{}
	r := e.do(geo.RolePlanner, "POST", imp+"?dry_run=true", csv, "Content-Type", "text/csv")
	r.problem(t, "with the build slot taken", http.StatusServiceUnavailable)
	<-e.srv.files.builds
	if r := e.do(geo.RolePlanner, "POST", imp+"?dry_run=true", csv, "Content-Type", "text/csv"); r.status != http.StatusOK {
		t.Errorf("a header-only dry run = %d %s", r.status, r.body)
	}
}
