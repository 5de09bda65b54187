package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
)

// This file reads a status report sent with a photo (a multipart form)
// and serves the photos to crews and above.

// Limits of a report with a photo: the report's JSON as without one, the
// photo as geo.CleanPhoto takes it, and a little for the form's framing.
const (
	maxReportForm = maxObservationBody + geo.MaxPhotoBytes + 16<<10
	// maxFormParts caps the parts read: a report and a photo, and a few
	// the map does not send, to name them in the error.
	maxFormParts = 4
	// photosAtOnce is how many reports with a photo one instance cleans
	// at once (decode and encode again: ~60 ms of a core each); beyond it
	// a report with a photo gets 503 with Retry-After.
	photosAtOnce = 2
)

// photoRoute is the route of a report's photo.
const photoRoute = observationsRoute + "/{observationId}/photo"

// photoPath returns the path of the photo of report id of point featureID.
func photoPath(featureID string, id int64) string {
	return "/collections/" + geo.WaterloggingPoints + "/items/" + featureID + "/observations/" + strconv.FormatInt(id, 10) + "/photo"
}

// readReport reads the body of a status report: JSON (parseObservation),
// or multipart/form-data with a part "report" (that JSON) and an optional
// part "photo" (a JPEG, which the store checks and cleans). It returns
// what an Idempotency-Key's fingerprint covers — the JSON as sent, or for
// a form its parts (not its boundary, which a retry makes anew) — and the
// report.
func readReport(w http.ResponseWriter, r *http.Request) ([]byte, geo.Observation, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		raw, err := readBody(w, r, maxObservationBody, typeJSON, "multipart/form-data")
		if err != nil {
			return nil, geo.Observation{}, err
		}
		o, err := parseObservation(raw)
		return raw, o, err
	}
	if r.ContentLength > maxReportForm {
		return nil, geo.Observation{}, errTooLarge(maxReportForm)
	}
	report, photo, err := parseReportForm(http.MaxBytesReader(w, r.Body, maxReportForm), params["boundary"])
	if err != nil {
		return nil, geo.Observation{}, err
	}
	o, err := parseObservation(report)
	if err != nil {
		return nil, geo.Observation{}, err
	}
	if len(photo) > 0 {
		o.Photo = &geo.Photo{Data: photo}
	}
	fp := sha256.Sum256(report)
	ph := sha256.Sum256(photo)
	return append(append([]byte("multipart\x00"), fp[:]...), ph[:]...), o, nil
}

// parseReportForm reads a multipart body with boundary: the part "report"
// (required, at most maxObservationBody bytes) and the part "photo"
// (optional, at most geo.MaxPhotoBytes; an empty one is none). Another
// part, a part given twice or a malformed form is Invalid naming it; a
// body over maxReportForm is 413.
func parseReportForm(body io.Reader, boundary string) (report, photo []byte, err error) {
	if boundary == "" {
		return nil, nil, geo.InvalidField("Content-Type", "multipart/form-data needs a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	seen := map[string]bool{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, formError(err)
		}
		name := part.FormName()
		if n >= maxFormParts {
			return nil, nil, geo.InvalidField("body", "a report form has at most the parts report and photo")
		}
		if seen[name] {
			return nil, nil, geo.InvalidField(name, "give this part once")
		}
		seen[name] = true
		switch name {
		case "report":
			report, err = readPart(part, maxObservationBody)
			if errors.As(err, new(partTooLarge)) {
				return nil, nil, errTooLarge(maxObservationBody)
			}
		case "photo":
			photo, err = readPart(part, geo.MaxPhotoBytes)
			if errors.As(err, new(partTooLarge)) {
				return nil, nil, geo.InvalidField("photo", "is larger than %d bytes (resize it to 1600 px on the long side)", geo.MaxPhotoBytes)
			}
		default:
			return nil, nil, geo.InvalidField(name, "unknown part; a report form has the parts report (the JSON) and photo (a JPEG)")
		}
		if err != nil {
			return nil, nil, formError(err)
		}
	}
	if report == nil {
		return nil, nil, geo.InvalidField("report", "required: the report's JSON, e.g. {\"depth_cm\": 40, \"status\": \"closed\"}")
	}
	return report, photo, nil
}

// partTooLarge is what readPart returns for a part over its limit.
type partTooLarge struct{}

func (partTooLarge) Error() string { return "part too large" }

// readPart reads a part of at most limit bytes.
func readPart(p *multipart.Part, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(p, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, partTooLarge{}
	}
	return b, nil
}

// formError turns an error reading a form into a 413 (the body's limit)
// or an Invalid error.
func formError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge(maxReportForm)
	}
	return geo.InvalidField("body", "not a readable multipart/form-data body")
}

// errBusy reports a request refused for want of capacity (503), to be
// retried after retryAfter seconds.
func errBusy(msg, retryAfter string) error {
	return &httpError{status: http.StatusServiceUnavailable, err: geo.Errorf(geo.Unavailable, "%s", msg),
		header: http.Header{"Retry-After": {retryAfter}}}
}

// handlePhoto serves GET /collections/waterlogging_points/items/
// {featureId}/observations/{observationId}/photo (crew): the report's
// photo, as the server cleaned it. A photo never changes, so a browser
// keeps it for a year; privately, as only crews and above may see it.
func (s *Server) handlePhoto(w http.ResponseWriter, r *http.Request) {
	if _, err := parseSimpleQuery(r.URL.Query(), false); err != nil {
		s.fail(w, r, err)
		return
	}
	fid := chi.URLParam(r, "featureId")
	raw := chi.URLParam(r, "observationId")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 || strings.TrimLeft(raw, "0123456789") != "" {
		s.fail(w, r, geo.Errorf(geo.NotFound, "no report %q", raw))
		return
	}
	p, err := s.store.Photo(r.Context(), id)
	if err == nil && p.FeatureID != fid {
		err = geo.Errorf(geo.NotFound, "report %d is not of %s", id, fid)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	etag := `"` + hex.EncodeToString(p.SHA256) + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Authorization")
	h.Add("Vary", "Cookie")
	if notModified(r.Header, etag, time.Time{}) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method != http.MethodHead {
		// A photo is a large body: it waits for room to be sent
		// (limits.go), like a large page.
		sent, err := s.limits.sending(r.Context(), len(p.Data))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer sent()
	}
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.Data)
	}
}
