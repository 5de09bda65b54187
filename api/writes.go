package api

import (
	"fmt"
	"net/http"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file serves the writes of OGC API – Features – Part 4: Create,
// Replace, Update (a JSON Merge Patch, patch.go) and Delete, each behind
// If-Match (precondition.go).

// readFeatureBody reads a GeoJSON Feature from the body of r for the
// route's featureId id ("" on POST): an id in the body, when given, must
// be that one.
func readFeatureBody(w http.ResponseWriter, r *http.Request, id string) (*geo.Feature, error) {
	raw, err := readBody(w, r, maxFeatureBody, typeGeoJSON, typeJSON)
	if err != nil {
		return nil, err
	}
	f, err := geojson.DecodeFeature(raw, "")
	if err != nil {
		return nil, err
	}
	if f.ID != "" && id != "" && f.ID != id {
		return nil, geo.InvalidField("id", "%q differs from the feature id %q of the URL", f.ID, id)
	}
	return f, nil
}

// stored returns feature id of sc as the store keeps it after a write
// (normalized geometry, canonical properties), so that the answer and its
// ETag are those a GET gives; f when it cannot be read back.
func (s *Server) stored(r *http.Request, sc *geo.Schema, f *geo.Feature) *geo.Feature {
	if got, err := s.store.Feature(r.Context(), sc.ID, f.ID); err == nil {
		return got
	}
	return f
}

// handleCreate serves POST /collections/{collectionId}/items (planner):
// a GeoJSON Feature, with or without an id (the store makes one), is
// created; 201 with its Location and ETag.
func (s *Server) handleCreate(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := readFeatureBody(w, r, "")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.store.Create(r.Context(), sc.ID, f); err != nil {
			s.fail(w, r, fmt.Errorf("api: create in %s: %w", sc.ID, err))
			return
		}
		f = s.stored(r, sc, f)
		w.Header().Set("Location", s.baseURL(r)+"/collections/"+sc.ID+"/items/"+f.ID)
		s.writeFeature(w, r, http.StatusCreated, sc, f)
	}
}

// handleReplace serves PUT /collections/{collectionId}/items/{featureId}
// (planner): the feature is replaced by the body if If-Match names its
// current version.
func (s *Server) handleReplace(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var f *geo.Feature
		err := s.writeIfMatch(r, sc, "replace", func(id string) (err error) {
			f, err = readFeatureBody(w, r, id)
			return err
		}, func(id string, version int64) error {
			f.ID, f.Version = id, version
			return s.store.Replace(r.Context(), sc.ID, f)
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeFeature(w, r, http.StatusOK, sc, s.stored(r, sc, f))
	}
}

// handlePatch serves PATCH /collections/{collectionId}/items/{featureId}
// (planner): a JSON Merge Patch of the feature (parseMergePatch), applied
// if If-Match names its current version.
func (s *Server) handlePatch(sc *geo.Schema) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var p geo.Patch
		var f *geo.Feature
		err := s.writeIfMatch(r, sc, "patch", func(id string) error {
			raw, err := readBody(w, r, maxFeatureBody, typeMergePatch, typeJSON)
			if err == nil {
				p, err = parseMergePatch(raw, id)
			}
			return err
		}, func(id string, version int64) (err error) {
			f, err = s.store.Patch(r.Context(), sc.ID, id, version, p)
			return err
		})
		if err != nil {
			s.fail(w, r, err)
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
		err := s.writeIfMatch(r, sc, "delete", nil, func(id string, version int64) error {
			return s.store.Delete(r.Context(), sc.ID, id, version)
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}
