package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file is the JSON contract of the analysis routes (analysis.go):
// the nearest depots, the reach report, and its lines for the map.
// Distances are metres with 2 decimals.

type analysisFilters struct {
	Ready    *bool   `json:"ready"`
	Category *string `json:"category"`
}

func filtersOf(f geo.DepotFilter) analysisFilters {
	out := analysisFilters{Ready: f.Ready}
	if f.Category != "" {
		c := f.Category
		out.Category = &c
	}
	return out
}

type lonLat struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

type nearestDepotJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Level     string          `json:"level"`
	Ready     bool            `json:"ready"`
	Reasons   []geo.Reason    `json:"reasons"`
	DistanceM float64         `json:"distance_m"`
	Geometry  json.RawMessage `json:"geometry"`
}

type nearestDepotsJSON struct {
	Point   lonLat             `json:"point"`
	K       int                `json:"k"`
	Filters analysisFilters    `json:"filters"`
	Depots  []nearestDepotJSON `json:"depots"`
}

type reachSummaryJSON struct {
	Hazards   int `json:"hazards"`
	Within    int `json:"within"`
	Beyond    int `json:"beyond"`
	Unlocated int `json:"unlocated"`
	NoDepot   int `json:"no_depot"`
	// Uncertain counts the within and beyond results that the stated
	// location precision could turn round (an addition to the contract).
	Uncertain int `json:"uncertain"`
}

type reachDepotJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	DistanceM  float64  `json:"distance_m"`
	Ready      bool     `json:"ready"`
	PrecisionM *float64 `json:"location_precision_m"`
}

type skippedDepotJSON struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	DistanceM float64      `json:"distance_m"`
	Reasons   []geo.Reason `json:"reasons"`
	Why       string       `json:"why"`
}

type hazardReachJSON struct {
	Collection string             `json:"collection"`
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Kind       string             `json:"kind"`
	Located    bool               `json:"located"`
	Result     string             `json:"result"`
	Depot      *reachDepotJSON    `json:"depot"`
	Skipped    []skippedDepotJSON `json:"skipped"`
	PrecisionM *float64           `json:"location_precision_m"`
	Uncertain  bool               `json:"uncertain"`
}

type reachJSON struct {
	MaxDistanceM float64           `json:"max_distance_m"`
	Collections  []string          `json:"collections"`
	Filters      analysisFilters   `json:"filters"`
	Summary      reachSummaryJSON  `json:"summary"`
	Hazards      []hazardReachJSON `json:"hazards"`
}

type reachLineProps struct {
	HazardCollection string   `json:"hazard_collection"`
	HazardID         string   `json:"hazard_id"`
	HazardName       string   `json:"hazard_name"`
	DepotID          *string  `json:"depot_id"`
	DepotName        *string  `json:"depot_name"`
	DistanceM        *float64 `json:"distance_m"`
	Result           string   `json:"result"`
	Uncertain        bool     `json:"uncertain"`
}

type reachLineFeature struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties reachLineProps  `json:"properties"`
}

type reachLinesJSON struct {
	Type         string             `json:"type"`
	MaxDistanceM float64            `json:"max_distance_m"`
	Summary      reachSummaryJSON   `json:"summary"`
	Features     []reachLineFeature `json:"features"`
}

// metres rounds a distance to the centimetre, the precision the stores
// promise.
func metres(d float64) float64 { return math.Round(d*100) / 100 }

func summaryOf(s geo.ReachSummary) reachSummaryJSON {
	return reachSummaryJSON{Hazards: s.Hazards, Within: s.Within, Beyond: s.Beyond, Unlocated: s.Unlocated, NoDepot: s.NoDepot,
		Uncertain: s.Uncertain}
}

// reachBody is the JSON form of a reach report, encoded hazard by hazard
// (marshalList): a report of 100 000 hazards is 30 MB, and building all
// of it as values first would hold several times that.
func reachBody(rep *geo.ReachReport) ([]byte, error) {
	head := reachJSON{MaxDistanceM: rep.Query.MaxDistanceM, Collections: rep.Query.Collections, Filters: filtersOf(rep.Query.Filter),
		Summary: summaryOf(rep.Summary), Hazards: []hazardReachJSON{}}
	return marshalList(head, len(rep.Hazards), func(i int) any {
		h := rep.Hazards[i]
		hj := hazardReachJSON{Collection: h.Collection, ID: h.ID, Name: h.Name, Kind: h.Kind, Located: h.Located, Result: h.Result,
			Skipped: make([]skippedDepotJSON, 0, len(h.Skipped)), PrecisionM: h.PrecisionM, Uncertain: h.Uncertain}
		if h.Depot != nil {
			hj.Depot = &reachDepotJSON{ID: h.Depot.ID, Name: h.Depot.Name, DistanceM: metres(h.Depot.DistanceM), Ready: h.Depot.Ready,
				PrecisionM: h.Depot.PrecisionM}
		}
		for _, sk := range h.Skipped {
			hj.Skipped = append(hj.Skipped, skippedDepotJSON{ID: sk.ID, Name: sk.Name, DistanceM: metres(sk.DistanceM), Reasons: sk.Reasons, Why: sk.Why})
		}
		return hj
	})
}

// reachLines is the GeoJSON form of a reach report: a LineString from each
// located hazard's representative point to its depot (straight in
// longitude/latitude, for drawing; the distance is the geodesic one); a
// Point at the hazard when no depot qualifies (no_depot); a null geometry
// for an unlocated hazard. Every hazard is a feature, none is dropped.
// Like reachBody, it is encoded feature by feature.
func reachLines(rep *geo.ReachReport) ([]byte, error) {
	head := reachLinesJSON{Type: "FeatureCollection", MaxDistanceM: rep.Query.MaxDistanceM, Summary: summaryOf(rep.Summary),
		Features: []reachLineFeature{}}
	return marshalList(head, len(rep.Hazards), func(i int) any {
		h := rep.Hazards[i]
		f := reachLineFeature{Type: "Feature", ID: h.Collection + "/" + h.ID, Properties: reachLineProps{
			HazardCollection: h.Collection, HazardID: h.ID, HazardName: h.Name, Result: h.Result, Uncertain: h.Uncertain}}
		var g orb.Geometry
		switch {
		case h.Depot != nil:
			id, name, d := h.Depot.ID, h.Depot.Name, metres(h.Depot.DistanceM)
			f.Properties.DepotID, f.Properties.DepotName, f.Properties.DistanceM = &id, &name, &d
			g = orb.LineString{h.Point, h.Depot.Point}
		case h.Located:
			g = h.Point
		}
		f.Geometry = geojson.AppendGeometry(nil, g)
		return f
	})
}

// marshalList encodes head, a struct whose last member is an empty array,
// with the n elements elem returns in that array, as marshal would encode
// head holding them; but one element at a time, into a buffer sized from
// the first, so that a list of 100 000 is never held as values, nor
// encoded into a buffer that grows by doubling.
func marshalList(head any, n int, elem func(i int) any) ([]byte, error) {
	h, err := marshal(head)
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(h, []byte("[]}")) {
		return nil, fmt.Errorf("api: encode %T: the last member is not an empty array", head)
	}
	w := &listWriter{buf: h[:len(h)-2]}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range n {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		if err := enc.Encode(elem(i)); err != nil {
			return nil, fmt.Errorf("api: encode %T element %d: %w", head, i, err)
		}
		if i == 0 {
			w.buf = slices.Grow(w.buf, (len(w.buf)-len(h)+8)*n+16)
		}
	}
	return append(w.buf, "]}"...), nil
}

// listWriter appends what a json.Encoder writes, one value per Write,
// without the newline it ends each with.
type listWriter struct{ buf []byte }

func (w *listWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, bytes.TrimSuffix(p, []byte("\n"))...)
	return len(p), nil
}
