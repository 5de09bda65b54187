package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Media types the service reads and writes.
const (
	typeJSON    = "application/json"
	typeGeoJSON = "application/geo+json"
	typeOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
	typeHTML    = "text/html"
	// typeProblem is the media type of an error (problem.go).
	typeProblem = "application/problem+json"
	// typeMergePatch is the media type of a JSON Merge Patch (patch.go).
	typeMergePatch = "application/merge-patch+json"
)

// revalidate is the Cache-Control of every data response. Caches may keep
// a copy (public) but must ask the server before each use (max-age=0,
// must-revalidate): during a storm a crew must see a point turn "closed"
// the moment it is reported, never a copy that a cache thought still
// fresh. The question costs little: the ETag and Last-Modified make the
// answer a bodiless 304 while the data is unchanged.
const revalidate = "public, max-age=0, must-revalidate"

// revalidatePrivate is the Cache-Control of a response that shows
// household detail (a planner's view): a browser may keep it, a shared
// cache may not.
const revalidatePrivate = "private, max-age=0, must-revalidate"

// Header values that serve sets without allocating (see serve).
var (
	revalidateHeader        = []string{revalidate}
	revalidatePrivateHeader = []string{revalidatePrivate}
	nosniffHeader           = []string{"nosniff"}
	gzipHeader              = []string{"gzip"}
	// varyHeader is what serve adds to Vary: the gzip form is sent to a
	// client that takes it, and the view depends on the token's role.
	varyHeader = []string{"Accept-Encoding", "Authorization"}
	// varyItems is the whole Vary of a page of items: Accept picks a
	// file format (itemsFormat), then varyHeader.
	varyItems   = []string{"Accept", "Accept-Encoding", "Authorization"}
	typeHeaders = map[string][]string{typeJSON: {typeJSON}, typeGeoJSON: {typeGeoJSON}, typeOpenAPI: {typeOpenAPI}, typeHTML: {typeHTML}}
)

// typeHeader returns the Content-Type header value of media type t.
func typeHeader(t string) []string {
	if v, ok := typeHeaders[t]; ok {
		return v
	}
	return []string{t}
}

// gzipMin is the smallest body worth compressing: below it the gzip
// header and the CPU outweigh the bytes saved.
const gzipMin = 1024

// response is an encoded body with what HTTP caching needs to know about
// it. It is not changed once built, except that its gzip form is made at
// most once, on first demand, so a cached response is compressed once and
// not per request.
type response struct {
	body     []byte
	ctype    string
	etag     string    // strong validator of body, quoted; "" for none
	modified time.Time // of the data shown; zero for none
	links    []string  // values of Link headers
	// version is the data version the body shows: the cache keeps the
	// response only when it is the version its key names.
	version int64
	// private marks a planner's view (household detail): shared caches
	// must not keep it.
	private bool

	gzOnce sync.Once
	gz     []byte // nil when compression does not pay

	// The header values serve sends, made once: fields[0] and
	// modifiedField by identity (fieldsOnce), fields[1] along with gz.
	fieldsOnce    sync.Once
	fields        [2]responseFields // of the body as it is, and gzipped
	modifiedField []string          // Last-Modified; nil for none
}

// responseFields are the header values of one encoding of a response,
// made once (response.identity, response.gzipForm) and shared by every
// request it is sent to: a cached page is served thousands of times a
// second, and formatting them (and allocating their slices) per request
// would cost more than the rest of serve. len == cap, so an Add elsewhere
// copies rather than writes into them.
type responseFields struct {
	body     []byte
	etag     []string // nil without a validator
	length   []string
	encoding []string // nil for the identity encoding
}

// lastModified is the Last-Modified value of a response, nil for none.
func lastModified(modified time.Time) []string {
	if modified.IsZero() {
		return nil
	}
	return []string{modified.UTC().Format(http.TimeFormat)}
}

// identity returns the header values of the body as it is, and makes
// modifiedField.
func (rs *response) identity() *responseFields {
	rs.fieldsOnce.Do(func() {
		rs.fields[0] = newResponseFields(rs.body, rs.etag, nil)
		rs.modifiedField = lastModified(rs.modified)
	})
	return &rs.fields[0]
}

// gzipForm returns the header values of the gzip form of the body, or nil
// when compression does not pay (gzipped).
func (rs *response) gzipForm() *responseFields {
	if rs.gzipped() == nil {
		return nil
	}
	return &rs.fields[1]
}

// newResponseFields returns the header values of body.
func newResponseFields(body []byte, etag string, encoding []string) responseFields {
	f := responseFields{body: body, length: []string{strconv.Itoa(len(body))}, encoding: encoding}
	if etag != "" {
		f.etag = []string{etag}
	}
	return f
}

// gzipped returns the gzip encoding of the body, or nil when the body is
// too small for compression to pay.
func (rs *response) gzipped() []byte {
	rs.gzOnce.Do(func() {
		if len(rs.body) < gzipMin {
			return
		}
		var b bytes.Buffer
		b.Grow(len(rs.body) / 4)
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression) // the level is valid
		_, _ = zw.Write(rs.body)                                  // a bytes.Buffer does not fail
		_ = zw.Close()
		if b.Len() < len(rs.body) {
			rs.gz = b.Bytes()
			rs.fields[1] = newResponseFields(rs.gz, gzipETag(rs.etag), gzipHeader)
		}
	})
	return rs.gz
}

// size is what the response costs the cache, in bytes.
func (rs *response) size() int64 {
	n := len(rs.body) + len(rs.gz) + len(rs.etag) + len(rs.ctype) + 256
	for _, l := range rs.links {
		n += len(l)
	}
	return int64(n)
}

// serve writes rs for r: the gzip form when r accepts it, a 304 when r's
// validators still match, no body for HEAD. A large body waits for room
// to be sent (limits.go), or is a 503.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rs *response) {
	h := w.Header()
	if vary := h["Vary"]; len(vary) == 0 {
		h["Vary"] = varyHeader
	} else {
		h["Vary"] = append(vary, varyHeader...)
	}
	s.serveEncoding(w, r, rs, acceptsGzip(r.Header.Get("Accept-Encoding")))
}

// serveEncoding is serve once the Vary header is set and it is known
// whether the client takes gzip.
func (s *Server) serveEncoding(w http.ResponseWriter, r *http.Request, rs *response, gzipOK bool) {
	h := w.Header()
	enc := rs.identity()
	if gzipOK {
		if gz := rs.gzipForm(); gz != nil {
			enc = gz
		}
	}
	notMod := notModified(r.Header, rs.etagOf(enc), rs.modified)
	if !notMod && r.Method != http.MethodHead {
		sent, err := s.limits.sending(r.Context(), len(enc.body))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer sent()
	}
	// Headers are set from shared slices, never formatted here (see
	// responseFields), and by their canonical names directly.
	h["Cache-Control"] = revalidateHeader
	if rs.private {
		h["Cache-Control"] = revalidatePrivateHeader
	}
	if enc.etag != nil {
		h["Etag"] = enc.etag
	}
	if rs.modifiedField != nil {
		h["Last-Modified"] = rs.modifiedField
	}
	for _, l := range rs.links {
		h.Add("Link", l)
	}
	if notMod {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if enc.encoding != nil {
		h["Content-Encoding"] = enc.encoding
	}
	h["Content-Type"] = typeHeader(rs.ctype)
	h["Content-Length"] = enc.length
	h["X-Content-Type-Options"] = nosniffHeader
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(enc.body)
	}
}

// etagOf returns the validator of one encoding of rs, "" for none.
func (rs *response) etagOf(enc *responseFields) string {
	if enc.etag == nil {
		return ""
	}
	return enc.etag[0]
}

// gzipETag is the validator of the gzip form of the body whose validator
// is etag: a different representation needs a different strong ETag.
func gzipETag(etag string) string {
	if etag == "" {
		return ""
	}
	return strings.TrimSuffix(etag, `"`) + `-gzip"`
}

// makeETag returns a strong ETag: the data version (for people reading
// logs) and a hash of everything else the body depends on.
func makeETag(version int64, parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return fmt.Sprintf(`"%d-%016x"`, version, h.Sum64())
}

// notModified reports whether a GET or HEAD with header h may be answered
// 304, as RFC 9110 §13.2.2 orders the checks: If-None-Match when present
// (weak comparison, so a W/ prefix added by a proxy still matches), else
// If-Modified-Since at one-second resolution.
func notModified(h http.Header, etag string, modified time.Time) bool {
	if inm := h.Get("If-None-Match"); inm != "" {
		if etag == "" {
			return false
		}
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	ims := h.Get("If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	return !modified.Truncate(time.Second).After(t)
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip:
// listed (or covered by "*") with a q-value above zero.
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		coding, q := mediaRange(part)
		switch coding {
		case "gzip", "x-gzip":
			gzipQ = max(gzipQ, q)
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// prefersHTML reports whether an Accept header value ranks HTML above
// JSON. A tie goes to JSON, so "*/*" (curl, GDAL) and no header at all get
// JSON, while a browser's "text/html,…,*/*;q=0.8" gets HTML.
func prefersHTML(accept string) bool {
	if accept == "" {
		return false
	}
	var ranges []acceptRange
	for _, part := range strings.Split(accept, ",") {
		v, q := mediaRange(part)
		ranges = append(ranges, acceptRange{v, q})
	}
	html := quality(ranges, "text", typeHTML, "application/xhtml+xml")
	js := quality(ranges, "application", typeJSON, typeGeoJSON)
	return html > 0 && html > js
}

// acceptRange is one element of an Accept header.
type acceptRange struct {
	value string
	q     float64
}

// quality returns the q-value that ranges give a type named by exact
// (any of them) with major type major: that of the most specific range
// that matches (RFC 9110 §12.5.1), -1 when none does.
func quality(ranges []acceptRange, major string, exact ...string) float64 {
	best, spec := -1.0, -1
	for _, r := range ranges {
		s := -1
		switch {
		case slices.Contains(exact, r.value):
			s = 2
		case r.value == major+"/*":
			s = 1
		case r.value == "*/*":
			s = 0
		default:
			continue
		}
		if s > spec || (s == spec && r.q > best) {
			best, spec = r.q, s
		}
	}
	return best
}

// mediaRange splits one element of an Accept or Accept-Encoding header
// into its lower-case value and q-value: 1 when absent, 0 (not
// acceptable) when malformed.
func mediaRange(part string) (string, float64) {
	v, params, err := mime.ParseMediaType(strings.TrimSpace(part))
	if err != nil {
		// Accept-Encoding codings are not media types ("gzip;q=0.5"):
		// parse by hand.
		name, rest, _ := strings.Cut(strings.TrimSpace(part), ";")
		v = strings.ToLower(strings.TrimSpace(name))
		params = map[string]string{}
		for _, p := range strings.Split(rest, ";") {
			if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok {
				params[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
			}
		}
	}
	q := 1.0
	if s, ok := params["q"]; ok {
		if x, err := strconv.ParseFloat(s, 64); err == nil && x >= 0 && x <= 1 {
			q = x
		} else {
			q = 0 // a malformed q-value is not an acceptance
		}
	}
	return v, q
}

// marshal encodes v as compact JSON without escaping &, < and > (links
// carry query strings).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("api: encode %T: %w", v, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// jsonResponse returns v encoded as a JSON response of the given media
// type, validated by a hash of its bytes.
func jsonResponse(v any, ctype string) (*response, error) {
	body, err := marshal(v)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	_, _ = h.Write(body)
	return &response{body: body, ctype: ctype, etag: fmt.Sprintf(`"%016x"`, h.Sum64())}, nil
}

// writeJSON writes v as an uncacheable JSON response (no body for HEAD).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(v)
	}
}
