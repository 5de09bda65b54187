package main

// The control socket's routes for spreadsheets (sheets.go): a sheet needs
// each feature's version, which GeoJSON does not carry, so features travel
// as {"version", "feature"} pairs.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// versionedWire is a feature with its version.
type versionedWire struct {
	Version int64           `json:"version"`
	Feature json.RawMessage `json:"feature"`
}

// batchWire is a geo.Batch on the wire.
type batchWire struct {
	Create  []json.RawMessage `json:"create"`
	Replace []versionedWire   `json:"replace"`
}

func toVersioned(fs []*geo.Feature) ([]versionedWire, error) {
	out := make([]versionedWire, len(fs))
	for i, f := range fs {
		raw, err := geojson.AppendFeature(nil, f)
		if err != nil {
			return nil, err
		}
		out[i] = versionedWire{Version: f.Version, Feature: raw}
	}
	return out, nil
}

func fromVersioned(ws []versionedWire) ([]*geo.Feature, error) {
	out := make([]*geo.Feature, len(ws))
	for i, w := range ws {
		f, err := geojson.DecodeFeature(w.Feature, "")
		if err != nil {
			return nil, err
		}
		f.Version = w.Version
		out[i] = f
	}
	return out, nil
}

// sheetRoutes adds the routes of this file to mux.
func (cs *controlServer) sheetRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/features", func(w http.ResponseWriter, r *http.Request) {
		fs, err := geo.AllFeatures(r.Context(), cs.store, r.URL.Query().Get("collection"))
		var out []versionedWire
		if err == nil {
			out, err = toVersioned(fs)
		}
		cs.answer(w, r, http.StatusOK, out, err)
	})
	mux.HandleFunc("POST /v1/apply", func(w http.ResponseWriter, r *http.Request) {
		var in batchWire
		// A batch is as large as a sheet: the import limit, not decode's.
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody)).Decode(&in); err != nil {
			cs.answer(w, r, 0, nil, geo.Errorf(geo.Invalid, "bad request body: %v", err))
			return
		}
		var b geo.Batch
		var err error
		b.Create = make([]*geo.Feature, len(in.Create))
		for i, raw := range in.Create {
			if b.Create[i], err = geojson.DecodeFeature(raw, ""); err != nil {
				break
			}
		}
		if err == nil {
			b.Replace, err = fromVersioned(in.Replace)
		}
		if err == nil {
			err = cs.store.Apply(r.Context(), r.URL.Query().Get("collection"), b)
		}
		cs.answer(w, r, http.StatusOK, map[string]int{"written": b.Len()}, err)
	})
}

// features returns every feature of c, with versions, from the server.
func (r *remote) features(ctx context.Context, c string) ([]*geo.Feature, error) {
	var ws []versionedWire
	if err := r.do(ctx, http.MethodGet, "/v1/features?collection="+url.QueryEscape(c), nil, &ws); err != nil {
		return nil, err
	}
	return fromVersioned(ws)
}

// Apply sends batch b to the server.
func (r *remote) Apply(ctx context.Context, c string, b geo.Batch) error {
	var in batchWire
	for _, f := range b.Create {
		raw, err := geojson.AppendFeature(nil, f)
		if err != nil {
			return err
		}
		in.Create = append(in.Create, raw)
	}
	var err error
	if in.Replace, err = toVersioned(b.Replace); err != nil {
		return err
	}
	return r.do(ctx, http.MethodPost, "/v1/apply?collection="+url.QueryEscape(c), in, nil)
}
