package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file serves the writes of OGC API – Features – Part 4 (Create,
// Replace, Update, Delete) and holds what every write shares: the view a
// role gets of a feature, the feature's ETag, and If-Match.
//
// Optimistic concurrency: GET …/items/{featureId} sends a strong ETag
// (featureETag). PUT, PATCH and DELETE must send it back in If-Match
// (without it: 428). The handler reads the feature, compares the tags with
// the ETag the same GET would send now (412 with the current version when
// none matches), and passes the version it compared to the store, which
// writes only if that is still the stored version — so a write that lands
// between the comparison and the store's check is a 412 too, never a
// silent overwrite.

// Media types of write bodies.
const (
	typeMergePatch = "application/merge-patch+json"
	typeProblem    = "application/problem+json"
)

// fullView reports whether role sees the Private properties (household
// detail): planners and admins do, the public and crews do not.
func fullView(role geo.Role) bool { return role.AtLeast(geo.RolePlanner) }

// viewName names what role sees, for cache keys and ETags: a response
// built for one view is never served, nor validated, for the other.
func viewName(role geo.Role) string {
	if fullView(role) {
		return "full"
	}
	return "public"
}

// featureETag returns the ETag of feature f of sc as GET
// …/items/{featureId} sends it to a client of role at base: the version,
// and a hash of the write time (a version can come back when a feature is
// deleted and created again), the links' base and the view.
func featureETag(sc *geo.Schema, f *geo.Feature, base string, role geo.Role) string {
	return makeETag(f.Version, "feature", sc.ID, f.ID, strconv.FormatInt(f.Updated.UnixNano(), 10), base, viewName(role))
}

// featureBody encodes f as GET …/items/{featureId} sends it to a client
// of role: without what role may not see, with its links; and its ETag.
func featureBody(sc *geo.Schema, f *geo.Feature, base string, role geo.Role) ([]byte, string, error) {
	href := base + "/collections/" + sc.ID
	links, err := marshal([]link{
		{Href: href + "/items/" + f.ID, Rel: "self", Type: typeGeoJSON, Title: "This feature"},
		{Href: href, Rel: "collection", Type: typeJSON, Title: sc.TitleEN},
	})
	if err != nil {
		return nil, "", err
	}
	body, err := geojson.AppendFeature(make([]byte, 0, 1024), sc.Redact(f, role))
	if err != nil {
		return nil, "", err
	}
	// AppendFeature closes the object; reopen it for the links.
	body = append(body[:len(body)-1], `,"links":`...)
	body = append(body, links...)
	body = append(body, '}')
	return body, featureETag(sc, f, base, role), nil
}

// writeFeature answers a write with the feature as it is now, in the
// view of the writer, and its ETag (the next If-Match).
func (s *Server) writeFeature(w http.ResponseWriter, r *http.Request, status int, sc *geo.Schema, f *geo.Feature) {
	body, etag, err := featureBody(sc, f, s.baseURL(r), roleOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typeGeoJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("ETag", etag)
	h.Set("Last-Modified", f.Updated.UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// parseETags reads an If-Match (or If-None-Match) field value: "*", or a
// comma-separated list of entity tags (RFC 9110 §8.8.3), each returned as
// written, W/ prefix and quotes included; empty list elements are
// skipped. star reports "*". A malformed value is an Invalid error naming
// field.
func parseETags(field, value string) (tags []string, star bool, err error) {
	v := strings.TrimSpace(value)
	if v == "*" {
		return nil, true, nil
	}
	bad := func(detail string) ([]string, bool, error) {
		return nil, false, geo.InvalidField(field, "%s; want \"*\" or entity tags such as \"3-00ab…\" (quotes included), comma-separated", detail)
	}
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == ' ' || c == '\t' || c == ',':
			i++
			continue
		case c == '"' || strings.HasPrefix(v[i:], `W/"`):
			start := i
			if c == 'W' {
				i += 2
			}
			i++ // the opening quote
			for i < len(v) && v[i] != '"' {
				if b := v[i]; b < 0x21 || b == 0x7f {
					return bad("an entity tag holds a control character or space")
				}
				i++
			}
			if i == len(v) {
				return bad("an entity tag is not closed")
			}
			i++ // the closing quote
			tags = append(tags, v[start:i])
			if i < len(v) && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
				return bad("entity tags must be separated by commas")
			}
		default:
			return bad("an entity tag must be quoted")
		}
	}
	if len(tags) == 0 {
		return bad("no entity tag")
	}
	return tags, false, nil
}

// ifMatch returns the entity tags of r's If-Match. Without one, or with
// "*" (which would let a write overwrite whatever is there), the write
// is refused with 428.
func ifMatch(r *http.Request) ([]string, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil, errPreconditionRequired("this write needs If-Match with the feature's current ETag (from GET of the feature), so that two crews never overwrite each other's edits unseen")
	}
	tags, star, err := parseETags("If-Match", strings.Join(values, ","))
	if err != nil {
		return nil, err
	}
	if star {
		return nil, errPreconditionRequired(`If-Match: * would overwrite whatever version is there; send the ETag of the version you edited`)
	}
	return tags, nil
}

// etagMatches reports whether one of tags is etag, by strong comparison
// (RFC 9110 §13.1.1: a weak tag never matches), or the ETag of its gzip
// form: both stand for the same version.
func etagMatches(tags []string, etag string) bool {
	for _, t := range tags {
		if t == etag || t == gzipETag(etag) {
			return true
		}
	}
	return false
}

// current reads feature id of sc and checks tags against the ETag the
// requester's GET would get: it returns the feature, or a 412 with the
// current version, or NotFound.
func (s *Server) current(ctx context.Context, r *http.Request, sc *geo.Schema, id string, tags []string) (*geo.Feature, error) {
	f, err := s.store.Feature(ctx, sc.ID, id)
	if err != nil {
		return nil, err
	}
	if !etagMatches(tags, featureETag(sc, f, s.baseURL(r), roleOf(r))) {
		return nil, s.stale(sc, f, r)
	}
	return f, nil
}

// stale returns the 412 for a write based on an older version than f.
func (s *Server) stale(sc *geo.Schema, f *geo.Feature, r *http.Request) error {
	body, etag, err := featureBody(sc, f, s.baseURL(r), roleOf(r))
	if err != nil {
		return err
	}
	return errPreconditionFailed(&currentVersion{ETag: etag, Version: f.Version, Updated: f.Updated.UTC().Format(time.RFC3339Nano), Feature: body})
}

// lost turns the Conflict of a store write that lost a race after the
// ETag matched (another write committed in between) into the 412 of the
// newer version; other errors pass through.
func (s *Server) lost(ctx context.Context, r *http.Request, sc *geo.Schema, id string, err error) error {
	if geo.KindOf(err) != geo.Conflict {
		return err
	}
	f, ferr := s.store.Feature(ctx, sc.ID, id)
	if ferr != nil {
		return ferr
	}
	return s.stale(sc, f, r)
}

// decodeBodyFeature reads a feature body for the route's featureId: an id
// in the body, when given, must be that one.
func decodeBodyFeature(raw []byte, id string) (*geo.Feature, error) {
	f, err := geojson.DecodeFeature(raw, "")
	if err != nil {
		return nil, err
	}
	if f.ID != "" && id != "" && f.ID != id {
		return nil, geo.InvalidField("id", "%q differs from the feature id %q of the URL", f.ID, id)
	}
	return f, nil
}

// handleCreate serves POST /collections/{collectionId}/items (planner):
// a GeoJSON Feature, with or without an id (the store makes one), is
// created; 201 with its Location and ETag.
func (s *Server) handleCreate(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := readBody(w, r, maxFeatureBody, typeGeoJSON, typeJSON)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f, err := decodeBodyFeature(raw, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.store.Create(r.Context(), sc.ID, f); err != nil {
			s.fail(w, r, fmt.Errorf("api: create in %s: %w", sc.ID, err))
			return
		}
		// Read back what the store keeps (normalized geometry, canonical
		// properties), so the body and ETag are those a GET gives.
		if stored, err := s.store.Feature(r.Context(), sc.ID, f.ID); err == nil {
			f = stored
		}
		w.Header().Set("Location", s.baseURL(r)+"/collections/"+sc.ID+"/items/"+f.ID)
		s.writeFeature(w, r, http.StatusCreated, sc, f)
	}
}

// handleReplace serves PUT /collections/{collectionId}/items/{featureId}
// (planner): the feature is replaced by the body if If-Match names its
// current version.
func (s *Server) handleReplace(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "featureId")
		tags, err := ifMatch(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		raw, err := readBody(w, r, maxFeatureBody, typeGeoJSON, typeJSON)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f, err := decodeBodyFeature(raw, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cur, err := s.current(r.Context(), r, sc, id, tags)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.ID, f.Version = id, cur.Version
		if err := s.store.Replace(r.Context(), sc.ID, f); err != nil {
			s.fail(w, r, s.lost(r.Context(), r, sc, id, fmt.Errorf("api: replace %s/%s: %w", sc.ID, id, err)))
			return
		}
		if stored, err := s.store.Feature(r.Context(), sc.ID, id); err == nil {
			f = stored
		}
		s.writeFeature(w, r, http.StatusOK, sc, f)
	}
}

// handlePatch serves PATCH /collections/{collectionId}/items/{featureId}
// (planner): a JSON Merge Patch of the feature (parseMergePatch), applied
// if If-Match names its current version.
func (s *Server) handlePatch(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "featureId")
		tags, err := ifMatch(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		raw, err := readBody(w, r, maxFeatureBody, typeMergePatch, typeJSON)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := parseMergePatch(raw, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cur, err := s.current(r.Context(), r, sc, id, tags)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f, err := s.store.Patch(r.Context(), sc.ID, id, cur.Version, p)
		if err != nil {
			s.fail(w, r, s.lost(r.Context(), r, sc, id, fmt.Errorf("api: patch %s/%s: %w", sc.ID, id, err)))
			return
		}
		s.writeFeature(w, r, http.StatusOK, sc, f)
	}
}

// handleDelete serves DELETE /collections/{collectionId}/items/{featureId}
// (planner): the feature is deleted if If-Match names its current
// version; 204.
func (s *Server) handleDelete(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "featureId")
		tags, err := ifMatch(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cur, err := s.current(r.Context(), r, sc, id, tags)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.store.Delete(r.Context(), sc.ID, id, cur.Version); err != nil {
			s.fail(w, r, s.lost(r.Context(), r, sc, id, fmt.Errorf("api: delete %s/%s: %w", sc.ID, id, err)))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// parseMergePatch reads a JSON Merge Patch (RFC 7396) of a GeoJSON
// Feature whose id is id: an object with any of
//   - "properties": an object whose members replace the feature's (a
//     property's array value replaces the whole array; null sets the
//     property to null, which the nullable properties accept and the
//     others refuse — a declared property is never removed);
//   - "geometry": a GeoJSON geometry, or null to clear the location;
//   - "type" ("Feature"), "id" (must be id) and "links" (ignored), so that
//     a client may send back what it read.
//
// Anything else is an Invalid error naming the member.
func parseMergePatch(raw []byte, id string) (geo.Patch, error) {
	var m map[string]json.RawMessage
	if err := geo.DecodeJSON("body", raw, &m); err != nil || m == nil {
		return geo.Patch{}, geo.InvalidField("body", "a merge patch is a JSON object such as {\"properties\":{\"status\":\"closed\"}}")
	}
	var p geo.Patch
	for name, v := range m {
		switch name {
		case "type":
			var t string
			if err := json.Unmarshal(v, &t); err != nil || t != "Feature" {
				return geo.Patch{}, geo.InvalidField("type", `want "Feature"`)
			}
		case "id":
			var s string
			if err := json.Unmarshal(v, &s); err != nil || s != id {
				return geo.Patch{}, geo.InvalidField("id", "the id of a feature cannot be changed; want %q or no id", id)
			}
		case "links":
		case "properties":
			if isNull(v) {
				return geo.Patch{}, geo.InvalidField("properties", "null would remove every property; name the properties to change")
			}
			d := json.NewDecoder(bytes.NewReader(v))
			var props map[string]any
			if err := d.Decode(&props); err != nil {
				return geo.Patch{}, geo.InvalidField("properties", "want an object")
			}
			p.Properties = props
		case "geometry":
			g, err := geojson.DecodeGeometry(v, "geometry")
			if err != nil {
				return geo.Patch{}, err
			}
			p.SetGeometry, p.Geometry = true, g
		default:
			return geo.Patch{}, geo.InvalidField(name, "not a member of a feature patch (properties, geometry)")
		}
	}
	return p, nil
}

// isNull reports whether a member of a decoded JSON object is null.
func isNull(raw json.RawMessage) bool { return string(raw) == "null" }
