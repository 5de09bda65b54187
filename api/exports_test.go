package api

import (
	"archive/zip"
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hazardmap/geo"
	"hazardmap/geo/export"
	"hazardmap/geo/sheet"
)

// fileText returns what a file answer holds, as text a search can find
// anything in: decompressed when gzip, and for an xlsx (a zip) every
// part of it, so that no cell, shared string or property escapes.
func fileText(t testing.TB, r reply) []byte {
	t.Helper()
	b := bodyOf(t, r)
	if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		return b
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	var out bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("xlsx %s: %v", f.Name, err)
		}
		_, _ = io.Copy(&out, rc)
		rc.Close()
	}
	return out.Bytes()
}

// sheetRows reads the data sheet of an xlsx export.
func sheetRows(t testing.TB, c string, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("excelize cannot read the export: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(c)
	if err != nil {
		t.Fatalf("sheet %s: %v", c, err)
	}
	return rows
}

// TestExports gets every collection in every file format, on both
// stores: the media type, an attachment named in ASCII and in UTF-8, the
// same bytes under the same ETag every time (304 on If-None-Match), gzip
// for the text formats, HEAD, paging with Link headers, byte ranges, and
// the file's content read back (excelize for xlsx).
func TestExports(t *testing.T) {
	forEachStore(t, func(t *testing.T, st geo.Store) {
		e := newEnv(t, st, Options{FileBuilds: 2})
		for _, sc := range geo.Schemas() {
			items := "/collections/" + sc.ID + "/items"
			n := len(privateFixtures()[sc.ID])
			for _, f := range export.Formats() {
				what := sc.ID + " " + f.Name
				path := items + "?f=" + f.Name
				r := e.do(geo.RolePlanner, "GET", path, "", "Accept-Encoding", "identity")
				if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), f.MediaType) {
					t.Fatalf("%s = %d %s\n%.300s", what, r.status, r.header.Get("Content-Type"), r.body)
				}
				cd := r.header.Get("Content-Disposition")
				_, params, err := mime.ParseMediaType(cd)
				if ascii := strings.SplitN(cd+`""`, `"`, 3)[1]; err != nil || !strings.HasPrefix(cd, `attachment; filename="`+sc.ID+"_") ||
					params["filename"] != sc.TitleZH+"_"+ascii || !strings.HasSuffix(ascii, f.Ext) {
					t.Errorf("%s: Content-Disposition %q (parsed %v, %v)", what, cd, params, err)
				}
				if v := r.header.Values("Vary"); !slices.Contains(v, "Accept") || !slices.Contains(v, "Authorization") {
					t.Errorf("%s: Vary %v", what, v)
				}
				again := e.do(geo.RolePlanner, "GET", path, "", "Accept-Encoding", "identity")
				etag := r.header.Get("ETag")
				if !bytes.Equal(again.body, r.body) || again.header.Get("ETag") != etag || etag == "" {
					t.Errorf("%s: two exports of the same data differ (ETag %s, %s)", what, etag, again.header.Get("ETag"))
				}
				if nm := e.do(geo.RolePlanner, "GET", path, "", "Accept-Encoding", "identity", "If-None-Match", etag); nm.status != http.StatusNotModified {
					t.Errorf("%s with If-None-Match of its ETag = %d, want 304", what, nm.status)
				}
				head := e.do(geo.RolePlanner, "HEAD", path, "", "Accept-Encoding", "identity")
				if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
					t.Errorf("%s HEAD = %d, %d bytes, Content-Length %s; want 200, none, %d", what, head.status, len(head.body), head.header.Get("Content-Length"), len(r.body))
				}
				gz := e.do(geo.RolePlanner, "GET", path, "", "Accept-Encoding", "gzip")
				if zipped := gz.header.Get("Content-Encoding") == "gzip"; zipped != f.Compressible {
					t.Errorf("%s: gzip %v, want %v", what, zipped, f.Compressible)
				} else if zipped && (!bytes.Equal(gunzip(t, gz.body), r.body) || gz.header.Get("ETag") != gzipETag(etag)) {
					t.Errorf("%s: the gzip form is not the same file under its own ETag", what)
				}

				switch f.Name {
				case "xlsx":
					rows := sheetRows(t, sc.ID, r.body)
					if len(rows) != n+1 || rows[0][0] != "编号 (id)" || rows[0][1] != "版本 (version)" {
						t.Errorf("%s: %d rows (header %v), want %d and the id and version columns", what, len(rows), rows[0], n+1)
					}
				case "csv":
					if !bytes.HasPrefix(r.body, []byte("\uFEFF编号 (id),版本 (version),")) || bytes.Count(r.body, []byte("\r\n")) < n+1 {
						t.Errorf("%s: not the UTF-8 sheet with a BOM and %d rows:\n%.200s", what, n, r.body)
					}
				}
			}

			// Paging: a file of part of the selection says so, and links
			// the rest.
			if n <= 2 {
				continue
			}
			r := e.do(geo.RolePlanner, "GET", items+"?f=csv&limit=2", "")
			links := strings.Join(r.header.Values("Link"), ", ")
			if !strings.Contains(links, "limit=2&offset=2&f=csv>; rel=\"next\"; type=\"text/csv\"") ||
				!strings.Contains(r.header.Get("Content-Disposition"), "_rows1-2of"+strconv.Itoa(n)+".csv") {
				t.Errorf("%s first 2 as CSV: Link %q, Content-Disposition %q", sc.ID, links, r.header.Get("Content-Disposition"))
			}
			if r := e.do(geo.RolePlanner, "GET", items+"?f=csv&limit=2&offset=2", ""); !strings.Contains(strings.Join(r.header.Values("Link"), ", "), `offset=0&f=csv>; rel="prev"`) {
				t.Errorf("%s offset 2 as CSV: Link %v", sc.ID, r.header.Values("Link"))
			}
		}

		// Accept chooses a file only when it ranks it above GeoJSON.
		for accept, want := range map[string]string{
			"text/csv": export.MediaCSV, export.MediaKML: export.MediaKML, export.MediaXLSX + ", */*;q=0.1": export.MediaXLSX,
			"*/*": typeGeoJSON, "": typeGeoJSON, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8": typeGeoJSON,
			"application/geo+json, text/csv": typeGeoJSON, "image/png": typeGeoJSON, "text/csv;q=0": typeGeoJSON,
		} {
			r := e.do(geo.RolePublic, "GET", "/collections/depots/items", "", "Accept", accept)
			if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), want) {
				t.Errorf("Accept %q: %d %s, want %s", accept, r.status, r.header.Get("Content-Type"), want)
			}
		}
		if r := e.do(geo.RolePublic, "GET", "/collections/depots/items?f=json", "", "Accept", "text/csv"); r.header.Get("Content-Type") != typeGeoJSON {
			t.Errorf("f=json with Accept text/csv: %s, want GeoJSON (f wins)", r.header.Get("Content-Type"))
		}

		// Byte ranges of the identity encoding (GDAL's /vsicurl/, a
		// resumed download).
		path := "/collections/waterlogging_points/items?f=kml"
		full := e.do(geo.RolePublic, "GET", path, "", "Accept-Encoding", "identity")
		size := strconv.Itoa(len(full.body))
		r := e.do(geo.RolePublic, "GET", path, "", "Range", "bytes=10-19", "Accept-Encoding", "gzip")
		if r.status != http.StatusPartialContent || !bytes.Equal(r.body, full.body[10:20]) || r.header.Get("Content-Range") != "bytes 10-19/"+size ||
			r.header.Get("Content-Encoding") != "" || r.header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("Range bytes=10-19 = %d %q %q", r.status, r.header.Get("Content-Range"), r.body)
		}
		if r := e.do(geo.RolePublic, "GET", path, "", "Range", "bytes=-5"); r.status != http.StatusPartialContent || !bytes.Equal(r.body, full.body[len(full.body)-5:]) {
			t.Errorf("Range bytes=-5 = %d %q", r.status, r.body)
		}
		p := e.do(geo.RolePublic, "GET", path, "", "Range", "bytes="+size+"-").problem(t, "a range past the end", http.StatusRequestedRangeNotSatisfiable)
		if p["errors"].([]any)[0].(map[string]any)["field"] != "Range" {
			t.Errorf("416 problem %v", p)
		}
		for _, h := range [][]string{{"Range", "bytes=0-1,5-6"}, {"Range", "bytes=0-9", "If-Range", `"0-stale"`}} {
			if r := e.do(geo.RolePublic, "GET", path, "", h...); r.status != http.StatusOK || !bytes.Equal(r.body, full.body) {
				t.Errorf("%v = %d, want the whole file", h, r.status)
			}
		}

		// Refusals are problems naming the parameter.
		e.do(geo.RolePublic, "GET", "/collections/depots/items?f=pdf", "").problem(t, "f=pdf", http.StatusBadRequest)
		e.do(geo.RolePublic, "GET", "/collections/depots/items?f=XLSX", "").problem(t, "f=XLSX", http.StatusBadRequest)
		e.do(geo.RolePublic, "GET", "/collections/depots/items?f=xlsx&limit=10001", "").problem(t, "f=xlsx limit=10001", http.StatusBadRequest)
		e.do(geo.RolePublic, "GET", "/collections/depots/items?f=xlsx&keeper_name=x", "").problem(t, "public filter on a keeper", http.StatusBadRequest)

		// The collection and every items page link the files.
		for _, path := range []string{"/collections/depots", "/collections/depots/items?limit=1"} {
			doc := e.do(geo.RolePublic, "GET", path, "").json(t)
			var got []string
			for _, l := range doc["links"].([]any) {
				if l := l.(map[string]any); l["rel"] == "alternate" {
					got = append(got, l["type"].(string)+" "+l["href"].(string))
				}
			}
			if len(got) != len(export.Formats()) || !strings.Contains(strings.Join(got, " "), "f=xlsx") {
				t.Errorf("%s: alternate links %v, want one per format", path, got)
			}
		}
	})
}

// TestExportGate fills the file gate: a file waits for a build slot and
// then gets 503 with Retry-After; with every temporary-file place taken it
// gets 503 at once; GeoJSON never waits.
func TestExportGate(t *testing.T) {
	e := newEnv(t, OpenFixtureStore(t), Options{FileBuilds: 1})
	e.srv.files.wait = 50 * time.Millisecond
	e.srv.files.builds <- struct{}{} // a build in progress
	for _, path := range []string{"/collections/depots/items?f=xlsx", "/collections/depots/items?f=csv"} {
		r := e.do(geo.RolePublic, "GET", path, "")
		r.problem(t, path+" with the build slot taken", http.StatusServiceUnavailable)
		if r.header.Get("Retry-After") != strconv.Itoa(fileRetryAfter) {
			t.Errorf("503 Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	if r := e.do(geo.RolePublic, "GET", "/collections/depots/items", ""); r.status != http.StatusOK {
		t.Errorf("GeoJSON while files are busy = %d", r.status)
	}
	<-e.srv.files.builds
	for range cap(e.srv.files.files) {
		e.srv.files.files <- struct{}{}
	}
	e.do(geo.RolePublic, "GET", "/collections/depots/items?f=gpx", "").problem(t, "with every file place taken", http.StatusServiceUnavailable)
	for range cap(e.srv.files.files) {
		<-e.srv.files.files
	}
	if r := e.do(geo.RolePublic, "GET", "/collections/depots/items?f=gpx", ""); r.status != http.StatusOK {
		t.Errorf("after the gate freed = %d", r.status)
	}
	e.ts.Close() // waits for the handlers, which give their places back as they return
	if len(e.srv.files.files) != 0 || len(e.srv.files.builds) != 0 {
		t.Errorf("the gate holds %d files and %d builds after every request ended", len(e.srv.files.files), len(e.srv.files.builds))
	}
}

// TestExportLimits pins the row limit of a file to the page limit and to
// what an import reads back.
func TestExportLimits(t *testing.T) {
	if maxExportRows != maxLimit {
		t.Errorf("maxExportRows %d, maxLimit %d: a file must be a page", maxExportRows, maxLimit)
	}
	if maxExportRows != sheet.MaxRows-1 {
		t.Errorf("maxExportRows %d, sheet.MaxRows %d: an import must read back every export", maxExportRows, sheet.MaxRows)
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct{ ascii, full string }{
		{"depots_20240720-0815.xlsx", "应急物资储备库_depots_20240720-0815.xlsx"},
		{`a"b\c/d é.csv`, "名 (1) 100%.csv"},
	} {
		v := contentDisposition(tc.ascii, tc.full)
		typ, params, err := mime.ParseMediaType(v)
		if err != nil || typ != "attachment" || params["filename"] != tc.full {
			t.Errorf("contentDisposition(%q, %q) = %q: parsed %q %v %v", tc.ascii, tc.full, v, typ, params, err)
		}
		quoted := strings.SplitN(v, `"`, 3)[1]
		for _, c := range []byte(quoted) {
			if c < 0x20 || c > 0x7e || c == '\\' {
				t.Errorf("filename %q holds %q", quoted, c)
			}
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		v        string
		start, n int64
		ok, bad  bool
	}{
		{"bytes=0-9", 0, 10, true, false}, {"bytes=90-", 90, 10, true, false}, {"bytes=-5", 95, 5, true, false},
		{"bytes=-500", 0, 100, true, false}, {"bytes=95-200", 95, 5, true, false}, {"bytes=0-1,3-4", 0, 0, false, false},
		{"items=0-1", 0, 0, false, false}, {"bytes=100-", 0, 0, false, true}, {"bytes=5-1", 0, 0, false, true},
		{"bytes=x-1", 0, 0, false, true}, {"bytes=-0", 0, 0, false, true}, {"bytes=7", 0, 0, false, true},
	} {
		start, n, ok, err := parseRange(tc.v, 100)
		if start != tc.start || n != tc.n || ok != tc.ok || (err != nil) != tc.bad {
			t.Errorf("parseRange(%q, 100) = %d, %d, %v, %v", tc.v, start, n, ok, err)
		}
	}
}

// TestFilesMatchOpenAPI checks the file answers and the imports, good and
// bad, against the planner's document: statuses, media types, headers,
// bodies, and that the document accepts what the server accepted.
func TestFilesMatchOpenAPI(t *testing.T) {
	e := newEnv(t, OpenFixtureStore(t), Options{FileBuilds: 1})
	c := newChecker(t, e.srv, loadOpenAPI(t, e.srv, e.tokens[geo.RolePlanner]))
	planner := []string{"Authorization", "Bearer " + e.tokens[geo.RolePlanner]}
	for _, f := range export.Formats() {
		for _, target := range []string{"/collections/depots/items?f=" + f.Name, "/collections/waterlogging_points/items?f=" + f.Name + "&limit=2&offset=1"} {
			if r := c.check("GET", target, "", planner...); r.Code != http.StatusOK {
				t.Errorf("GET %s = %d", target, r.Code)
			}
			c.check("HEAD", target, "", planner...)
		}
		c.check("GET", "/collections/depots/items", "", "Accept", f.MediaType)
	}
	c.check("GET", "/collections/depots/items?f=pdf", "")
	c.check("GET", "/collections/depots/items?f=kml", "", "Range", "bytes=999999-")
	if r := c.check("GET", "/collections/depots/items?f=kml", "", "Range", "bytes=0-9"); r.Code != http.StatusPartialContent {
		t.Errorf("a range = %d", r.Code)
	}
	xlsx := c.check("GET", "/collections/depots/items?f=xlsx", "", planner...).Body.String()
	csvBody := c.check("GET", "/collections/depots/items?f=csv", "", planner...).Body.String()
	for _, x := range []struct {
		path, body, ctype string
		want              int
	}{
		{"/collections/depots/import?dry_run=true", xlsx, export.MediaXLSX, http.StatusOK},
		{"/collections/depots/import", csvBody, "text/csv; charset=utf-8", http.StatusOK},
		{"/collections/depots/import?apply_good_rows=true", csvBody, typeExcelLegacy, http.StatusOK},
		{"/collections/depots/import", "编号 (id),版本 (version),名称 (name)\r\nd-1,1,\r\n", export.MediaCSV, http.StatusBadRequest},
		{"/collections/depots/import", "编号 (id),颜色\r\n", export.MediaCSV, http.StatusBadRequest},
		{"/collections/depots/import", "{}", typeJSON, http.StatusUnsupportedMediaType},
		{"/collections/depots/import?dry_run=true", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.csv\"\r\nContent-Type: text/csv\r\n\r\n" +
			csvBody + "\r\n--b--\r\n", "multipart/form-data; boundary=b", http.StatusOK},
	} {
		if r := c.check("POST", x.path, x.body, append([]string{"Content-Type", x.ctype}, planner...)...); r.Code != x.want {
			t.Errorf("POST %s (%s) = %d, want %d\n%.300s", x.path, x.ctype, r.Code, x.want, r.Body)
		}
	}
}

// FuzzParseRange: any Range header gives a range inside the file, or
// none, or a 416; never a panic.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=90-", "bytes=0-1,2-3", "bytes=-", "bytes=99999999999999999999-", "bytes=5-1", "items=1-2", ""} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size <= 0 {
			return
		}
		start, n, ok, err := parseRange(v, size)
		if err != nil && statusOf(err) != http.StatusRequestedRangeNotSatisfiable {
			t.Fatalf("parseRange(%q, %d): %v is not a 416", v, size, err)
		}
		if ok && (start < 0 || n <= 0 || start+n > size) {
			t.Fatalf("parseRange(%q, %d) = %d, %d: outside the file", v, size, start, n)
		}
	})
}

// FuzzParseImportQuery: any query of the import route is read or refused
// naming a parameter; never a panic.
func FuzzParseImportQuery(f *testing.F) {
	for _, s := range []string{"dry_run=true", "apply_good_rows=false&dry_run=true", "dry_run=yes", "x=1", "dry_run=true&dry_run=true", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if _, err := parseImportQuery(v); err != nil {
			if e := geo.AsError(err); e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 {
				t.Fatalf("parseImportQuery(%q) = %v: want Invalid naming a field", raw, err)
			}
		}
	})
}
