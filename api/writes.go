package api

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file serves the writes of OGC API – Features – Part 4: Create,
// Replace, Update (a JSON Merge Patch, patch.go) and Delete, each behind
// If-Match (precondition.go).

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
		cur, err := s.featureIfMatch(r.Context(), r, sc, id, tags)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.ID, f.Version = id, cur.Version
		if err := s.store.Replace(r.Context(), sc.ID, f); err != nil {
			s.fail(w, r, s.errIfRaced(r.Context(), r, sc, id, fmt.Errorf("api: replace %s/%s: %w", sc.ID, id, err)))
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
		cur, err := s.featureIfMatch(r.Context(), r, sc, id, tags)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f, err := s.store.Patch(r.Context(), sc.ID, id, cur.Version, p)
		if err != nil {
			s.fail(w, r, s.errIfRaced(r.Context(), r, sc, id, fmt.Errorf("api: patch %s/%s: %w", sc.ID, id, err)))
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
		cur, err := s.featureIfMatch(r.Context(), r, sc, id, tags)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.store.Delete(r.Context(), sc.ID, id, cur.Version); err != nil {
			s.fail(w, r, s.errIfRaced(r.Context(), r, sc, id, fmt.Errorf("api: delete %s/%s: %w", sc.ID, id, err)))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}
