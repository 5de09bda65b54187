package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file serves the writes of OGC API – Features – Part 4: Create,
// Replace, Update (a JSON Merge Patch, patch.go) and Delete, each behind
// If-Match (precondition.go).

// readFeatureBody reads a GeoJSON Feature from the body of r for the
// route's featureId id ("" on POST): an id in the body, when given, must
// be that one. It returns the body as sent too (for an Idempotency-Key's
// fingerprint).
func readFeatureBody(w http.ResponseWriter, r *http.Request, id string) ([]byte, *geo.Feature, error) {
	raw, err := readBody(w, r, maxFeatureBody, typeGeoJSON, typeJSON)
	if err != nil {
		return nil, nil, err
	}
	f, err := geojson.DecodeFeature(raw, "")
	if err != nil {
		return nil, nil, err
	}
	if f.ID != "" && id != "" && f.ID != id {
		return nil, nil, geo.InvalidField("id", "%q differs from the feature id %q of the URL", f.ID, id)
	}
	return raw, f, nil
}

// stored returns feature id of sc as the store keeps it after a write
// (normalized geometry, canonical properties), so that the answer and its
// ETag are those a GET gives; f when it cannot be read back.
func (s *Server) stored(ctx context.Context, sc *geo.Schema, f *geo.Feature) *geo.Feature {
	if got, err := s.store.Feature(ctx, sc.ID, f.ID); err == nil {
		return got
	}
	return f
}

// wrote returns what a write of one feature wrote, as the store reports
// it to an idempotent write: one audit entry whose After is f (nil after
// a delete).
func wrote(f *geo.Feature) geo.WriteResult {
	return geo.WriteResult{Entries: []geo.AuditEntry{{After: f}}}
}

// written returns the feature a write left (the After of its last audit
// entry), or nil (a delete).
func written(res geo.WriteResult) *geo.Feature {
	if len(res.Entries) == 0 {
		return nil
	}
	return res.Entries[len(res.Entries)-1].After
}

// featureAnswer is the answer of a write that leaves feature f of sc:
// status, f as GET sends it to the writer, its ETag and Last-Modified,
// and the header pairs given.
func (s *Server) featureAnswer(r *http.Request, status int, sc *geo.Schema, f *geo.Feature, header ...string) (geo.StoredResponse, error) {
	if f == nil {
		return geo.StoredResponse{}, fmt.Errorf("api: %s wrote no feature of %s", r.Method, sc.ID)
	}
	body, etag, err := featureBody(sc, f, s.baseURL(r), roleOf(r))
	if err != nil {
		return geo.StoredResponse{}, err
	}
	header = append(header, "ETag", etag, "Last-Modified", f.Updated.UTC().Format(http.TimeFormat))
	return storedBody(status, typeGeoJSON, body, header...), nil
}

// handleCreate serves POST /collections/{collectionId}/items (planner):
// a GeoJSON Feature, with or without an id (the store makes one), is
// created; 201 with its Location and ETag.
func (s *Server) handleCreate(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, f, err := readFeatureBody(w, r, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.commit(w, r, writeOp{body: raw,
			write: func(ctx context.Context) (geo.WriteResult, error) {
				if err := s.store.Create(ctx, sc.ID, f); err != nil {
					return geo.WriteResult{}, fmt.Errorf("api: create in %s: %w", sc.ID, err)
				}
				return wrote(s.stored(ctx, sc, f)), nil
			},
			respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
				f := written(res)
				if f == nil {
					return geo.StoredResponse{}, fmt.Errorf("api: create in %s wrote nothing", sc.ID)
				}
				return s.featureAnswer(r, http.StatusCreated, sc, f, "Location", s.baseURL(r)+"/collections/"+sc.ID+"/items/"+f.ID)
			}})
	}
}

// featureWrite returns the writeOp of a write of feature featureId of sc
// that If-Match must name (writeIfMatch): its answer is the feature as it
// is after the write, status 200.
func (s *Server) featureWrite(r *http.Request, sc *geo.Schema, op string, raw []byte, tags []string,
	write func(ctx context.Context, id string, version int64) (*geo.Feature, error)) writeOp {
	return writeOp{body: raw,
		write: func(ctx context.Context) (geo.WriteResult, error) {
			var f *geo.Feature
			err := s.writeIfMatch(ctx, r, sc, op, tags, func(id string, version int64) (err error) {
				f, err = write(ctx, id, version)
				return err
			})
			return wrote(f), err
		},
		respond: func(res geo.WriteResult) (geo.StoredResponse, error) {
			return s.featureAnswer(r, http.StatusOK, sc, written(res))
		}}
}

// handleReplace serves PUT /collections/{collectionId}/items/{featureId}
// (planner): the feature is replaced by the body if If-Match names its
// current version.
func (s *Server) handleReplace(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tags, err := ifMatch(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		raw, f, err := readFeatureBody(w, r, chi.URLParam(r, "featureId"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.commit(w, r, s.featureWrite(r, sc, "replace", raw, tags, func(ctx context.Context, id string, version int64) (*geo.Feature, error) {
			f.ID, f.Version = id, version
			if err := s.store.Replace(ctx, sc.ID, f); err != nil {
				return nil, err
			}
			return s.stored(ctx, sc, f), nil
		}))
	}
}

// handlePatch serves PATCH /collections/{collectionId}/items/{featureId}
// (planner): a JSON Merge Patch of the feature (parseMergePatch), applied
// if If-Match names its current version. A planner dragging a feature to
// its place on the map sends geometry, location_precision_m and
// location_source together this way.
func (s *Server) handlePatch(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
		p, err := parseMergePatch(raw, chi.URLParam(r, "featureId"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.commit(w, r, s.featureWrite(r, sc, "patch", raw, tags, func(ctx context.Context, id string, version int64) (*geo.Feature, error) {
			return s.store.Patch(ctx, sc.ID, id, version, p)
		}))
	}
}

// handleDelete serves DELETE /collections/{collectionId}/items/{featureId}
// (planner): the feature is deleted if If-Match names its current
// version; 204.
func (s *Server) handleDelete(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tags, err := ifMatch(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		op := s.featureWrite(r, sc, "delete", nil, tags, func(ctx context.Context, id string, version int64) (*geo.Feature, error) {
			return nil, s.store.Delete(ctx, sc.ID, id, version)
		})
		op.respond = func(geo.WriteResult) (geo.StoredResponse, error) {
			return storedBody(http.StatusNoContent, "", nil), nil
		}
		s.commit(w, r, op)
	}
}
