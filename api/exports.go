package api

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"hazardmap/geo"
	"hazardmap/geo/export"
)

// This file serves the items of a collection as a file: xlsx and CSV for
// planners' spreadsheets, KML for map apps, GPX for GPS units (package
// export), at /collections/{collectionId}/items?f=xlsx|csv|kml|gpx or by
// Accept. The file holds what the caller's role may see, the same
// features the query selects as GeoJSON would (filters, bbox, datetime,
// offset), at most maxExportRows of them; a larger selection is paged
// (Link: rel="next"). It is built into a temporary file under the file
// gate (filegate.go) and then sent with its length, under a strong ETag:
// the same data, query, format and view always give the same bytes.

// maxExportRows is the most features one file holds: the largest page of
// the items route, and what an import reads back (sheet.MaxRows less the
// header row, checked by TestExportLimits), so that every export can be
// imported again.
const maxExportRows = maxLimit

// chinaTime is China Standard Time (UTC+8, no daylight saving), in which
// file names state the data's time.
func chinaTime() *time.Location { return time.FixedZone("CST", 8*60*60) }

// itemsFormat returns the file format r asks for: f when given (json is
// GeoJSON), else the format its Accept header ranks strictly above
// GeoJSON (a tie, "*/*" and no Accept at all give GeoJSON). The zero
// Format is GeoJSON.
func itemsFormat(q itemsQuery, r *http.Request) export.Format {
	if r.URL.Query().Has("f") {
		return q.Format
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return export.Format{}
	}
	var ranges []acceptRange
	for _, part := range strings.Split(accept, ",") {
		v, q := mediaRange(part)
		ranges = append(ranges, acceptRange{v, q})
	}
	best, bestQ := export.Format{}, quality(ranges, "application", typeGeoJSON, typeJSON)
	for _, f := range export.Formats() {
		major, _, _ := strings.Cut(f.MediaType, "/")
		if q := quality(ranges, major, f.MediaType); q > bestQ && q > 0 {
			best, bestQ = f, q
		}
	}
	return best
}

// exportLinks returns the links to the items of q (query string
// canonical) at href ("…/items?") in every file format.
func exportLinks(href, canonical string, sc *geo.Schema) []link {
	var out []link
	for _, f := range export.Formats() {
		q := "f=" + f.Name
		if canonical != "" {
			q = canonical + "&" + q
		}
		out = append(out, link{Href: href + q, Rel: "alternate", Type: f.MediaType,
			Title: sc.TitleZH + " " + f.TitleZH + " / " + sc.TitleEN + " as " + f.TitleEN})
	}
	return out
}

// exportFile is a built file, in a temporary file.
type exportFile struct {
	file     *os.File
	size     int64
	stamp    geo.Stamp
	returned int
	matched  int
}

// close closes and removes the temporary file.
func (x *exportFile) close() {
	x.file.Close()
	os.Remove(x.file.Name())
}

// serveExport answers a request of the items of sc in format f, for
// role; q was checked by handleItems.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, sc *geo.Schema, q itemsQuery, f export.Format, role geo.Role) {
	if !q.limitSet {
		q.Limit = maxExportRows
	}
	// A range is of the identity encoding: GDAL's /vsicurl/ reads a file
	// in ranges, and a phone resumes a download so.
	gz := f.Compressible && acceptsGzip(r.Header.Get("Accept-Encoding")) && r.Header.Get("Range") == ""
	canonical := q.Canonical()
	etagOf := func(version int64) string {
		etag := makeETag(version, "export", sc.ID, f.Name, canonical, viewName(role))
		if gz {
			etag = gzipETag(etag)
		}
		return etag
	}
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	h.Add("Vary", "Authorization")
	h.Set("Cache-Control", revalidate)
	if privateView(role) {
		h.Set("Cache-Control", revalidatePrivate)
	}
	// A client that holds the file of the current data gets a 304
	// without a build.
	v, err := s.dataVersion(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if etag := etagOf(v); notModified(r.Header, etag, time.Time{}) {
		h.Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}

	doneFile, err := s.files.file()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer doneFile()
	doneBuild, err := s.files.build(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.buildExport(r.Context(), sc, q, f, role, gz)
	doneBuild()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer x.close()

	etag := etagOf(x.stamp.Version)
	h.Set("ETag", etag)
	if !x.stamp.Updated.IsZero() {
		h.Set("Last-Modified", x.stamp.Updated.UTC().Format(http.TimeFormat))
	}
	href := s.baseURL(r) + "/collections/" + sc.ID + "/items?"
	if next := q.Offset + x.returned; x.returned > 0 && next < x.matched {
		h.Add("Link", "<"+href+q.withOffset(next)+"&f="+f.Name+`>; rel="next"; type="`+f.MediaType+`"`)
	}
	if q.Offset > 0 {
		h.Add("Link", "<"+href+q.withOffset(max(0, q.Offset-q.Limit))+"&f="+f.Name+`>; rel="prev"; type="`+f.MediaType+`"`)
	}
	if notModified(r.Header, etag, time.Time{}) {
		w.WriteHeader(http.StatusNotModified) // the data moved to what the client has
		return
	}
	ctype := f.MediaType
	if f.Name == "csv" {
		ctype += "; charset=utf-8; header=present"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", contentDisposition(exportFilename(sc, f, q, x)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Accept-Ranges", "bytes")
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	status, body := http.StatusOK, io.Reader(x.file)
	start, n := int64(0), x.size
	if rg := r.Header.Get("Range"); rg != "" && ifRange(r.Header.Get("If-Range"), etag) {
		var ok bool
		start, n, ok, err = parseRange(rg, x.size)
		if err != nil {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(x.size, 10))
			s.fail(w, r, err)
			return
		}
		if ok {
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+n-1, x.size))
			body = io.NewSectionReader(x.file, start, n)
		} else {
			n = x.size
		}
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, body) // a client gone is the client's loss
	}
}

// ifRange reports whether a Range may be honoured under the If-Range
// value v: no If-Range, or the current (strong) ETag. A date, or another
// ETag, means the client's copy is not this one: send the whole file.
func ifRange(v, etag string) bool { return v == "" || v == etag }

// parseRange reads a Range header of one byte range of a body of size
// bytes ("bytes=0-1023", "bytes=1024-", "bytes=-500") and returns its
// start and length; ok is false for what the server may ignore (several
// ranges, another unit: the whole body is sent). A range that starts
// past the end is a 416.
func parseRange(v string, size int64) (start, n int64, ok bool, err error) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	unsatisfiable := &httpError{status: http.StatusRequestedRangeNotSatisfiable,
		err: geo.InvalidField("Range", "%q is not a range of this file of %d bytes", v, size)}
	if !found {
		return 0, 0, false, unsatisfiable
	}
	if first == "" { // the last n bytes
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k <= 0 {
			return 0, 0, false, unsatisfiable
		}
		k = min(k, size)
		return size - k, k, true, nil
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 || a >= size {
		return 0, 0, false, unsatisfiable
	}
	b := size - 1
	if last != "" {
		if b, err = strconv.ParseInt(last, 10, 64); err != nil || b < a {
			return 0, 0, false, unsatisfiable
		}
		b = min(b, size-1)
	}
	return a, b - a + 1, true, nil
}

// buildExport reads the features of q from one View and writes them in
// format f, gzipped when gz, to a temporary file, rewound for reading.
func (s *Server) buildExport(ctx context.Context, sc *geo.Schema, q itemsQuery, f export.Format, role geo.Role, gz bool) (x *exportFile, err error) {
	x = &exportFile{}
	var features []*geo.Feature
	err = s.store.Read(ctx, func(v geo.View) (err error) {
		if x.stamp, err = v.Stamp(ctx, sc.ID); err != nil {
			return err
		}
		features, x.matched, err = v.Features(ctx, sc.ID, q.Query())
		return err
	})
	if err != nil {
		return nil, err
	}
	x.returned = len(features)
	if x.file, err = os.CreateTemp("", "hazardmap-export-*"+f.Ext); err != nil {
		return nil, fmt.Errorf("api: export %s: %w", sc.ID, err)
	}
	defer func() {
		if err != nil {
			x.close()
		}
	}()
	bw := bufio.NewWriterSize(x.file, 64<<10)
	var out io.Writer = bw
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(bw)
		out = zw
	}
	// A GPX file states the time of the data's last write, not of the
	// request: the same data gives the same bytes, as its ETag promises.
	if err = export.Write(f, out, sc, role, x.stamp.Updated, features); err != nil {
		return nil, err
	}
	if zw != nil {
		if err = zw.Close(); err != nil {
			return nil, fmt.Errorf("api: export %s: %w", sc.ID, err)
		}
	}
	if err = bw.Flush(); err != nil {
		return nil, fmt.Errorf("api: export %s: %w", sc.ID, err)
	}
	if x.size, err = x.file.Seek(0, io.SeekCurrent); err == nil {
		_, err = x.file.Seek(0, io.SeekStart)
	}
	if err != nil {
		return nil, fmt.Errorf("api: export %s: %w", sc.ID, err)
	}
	return x, nil
}

// exportFilename returns the name of an export file: in ASCII
// ("depots_20240720-0815.xlsx") and in full ("应急物资储备库_depots_20240720-0815.xlsx"),
// the time being that of the data's last write in China Standard Time,
// and the rows when the file holds part of the selection
// ("_rows10001-20000of23456").
func exportFilename(sc *geo.Schema, f export.Format, q itemsQuery, x *exportFile) (ascii, full string) {
	name := sc.ID
	if !x.stamp.Updated.IsZero() {
		name += "_" + x.stamp.Updated.In(chinaTime()).Format("20060102-1504")
	}
	if q.Offset > 0 || q.Offset+x.returned < x.matched {
		name += fmt.Sprintf("_rows%d-%dof%d", q.Offset+1, q.Offset+x.returned, x.matched)
	}
	return name + f.Ext, sc.TitleZH + "_" + name + f.Ext
}

// contentDisposition returns an attachment Content-Disposition naming the
// file both ways RFC 6266 allows: filename (ASCII, for old clients) and
// filename* (UTF-8, RFC 8187), which clients that know it prefer.
func contentDisposition(ascii, full string) string {
	return `attachment; filename="` + asciiFilename(ascii) + `"; filename*=UTF-8''` + rfc8187(full)
}

// asciiFilename keeps the printable ASCII of name that is safe inside a
// quoted string, replacing the rest with '_'.
func asciiFilename(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, name)
}

// rfc8187 percent-encodes s as the value of an ext-value (RFC 8187
// §3.2.1): attr-char stays, every other byte of the UTF-8 is %XX.
func rfc8187(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
