package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"hazardmap/geo"
)

// This file reads request bodies: within a size limit, of a media type
// the route reads. Their JSON is decoded by geo.DecodeJSON, the one strict
// JSON decoder of the service.

// Body limits. A feature of the largest layer is a few kilobytes; a status
// report is a few hundred bytes. Anything much larger is a mistake or an
// attack, refused with 413 before it is read.
const (
	maxFeatureBody     = 1 << 20  // POST, PUT, PATCH of a feature: 1 MiB
	maxObservationBody = 64 << 10 // a status report: 64 KiB
	maxTokenBody       = 4 << 10  // POST /tokens: 4 KiB
)

// readBody reads the request body, at most limit bytes (else 413), after
// checking that its Content-Type is one of types (else 415) and that any
// charset is UTF-8.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, types ...string) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(types, mt) {
		return nil, errUnsupportedMedia(ct, types...)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, errUnsupportedMedia(ct, types...)
	}
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, errTooLarge(limit)
	case err != nil:
		return nil, geo.Wrap(geo.Invalid, err, "could not read the request body")
	}
	return raw, nil
}

// isNull reports whether a member of a decoded JSON object is null.
func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// decodeObject decodes a body that must be a JSON object into m: the
// error of geo.DecodeJSON when it names a member below the body (text no
// store can keep, a member given twice), else an error naming the body
// that shows what the route reads (example).
func decodeObject(raw []byte, m *map[string]json.RawMessage, example string) error {
	err := geo.DecodeJSON("body", raw, m)
	if e := geo.AsError(err); e != nil && len(e.Fields) > 0 && e.Fields[0].Field != "body" {
		return err
	}
	if err != nil || *m == nil {
		return geo.InvalidField("body", "%s", example)
	}
	return nil
}
