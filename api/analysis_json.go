package api

import (
	"encoding/json"
	"math"

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

// reachBody is the JSON form of a reach report.
func reachBody(rep *geo.ReachReport) reachJSON {
	out := reachJSON{MaxDistanceM: rep.Query.MaxDistanceM, Collections: rep.Query.Collections, Filters: filtersOf(rep.Query.Filter),
		Summary: summaryOf(rep.Summary), Hazards: make([]hazardReachJSON, 0, len(rep.Hazards))}
	for _, h := range rep.Hazards {
		hj := hazardReachJSON{Collection: h.Collection, ID: h.ID, Name: h.Name, Kind: h.Kind, Located: h.Located, Result: h.Result,
			Skipped: make([]skippedDepotJSON, 0, len(h.Skipped)), PrecisionM: h.PrecisionM, Uncertain: h.Uncertain}
		if h.Depot != nil {
			hj.Depot = &reachDepotJSON{ID: h.Depot.ID, Name: h.Depot.Name, DistanceM: metres(h.Depot.DistanceM), Ready: h.Depot.Ready,
				PrecisionM: h.Depot.PrecisionM}
		}
		for _, sk := range h.Skipped {
			hj.Skipped = append(hj.Skipped, skippedDepotJSON{ID: sk.ID, Name: sk.Name, DistanceM: metres(sk.DistanceM), Reasons: sk.Reasons, Why: sk.Why})
		}
		out.Hazards = append(out.Hazards, hj)
	}
	return out
}

// reachLines is the GeoJSON form of a reach report: a LineString from each
// located hazard's representative point to its depot (straight in
// longitude/latitude, for drawing; the distance is the geodesic one); a
// Point at the hazard when no depot qualifies (no_depot); a null geometry
// for an unlocated hazard. Every hazard is a feature, none is dropped.
func reachLines(rep *geo.ReachReport) reachLinesJSON {
	out := reachLinesJSON{Type: "FeatureCollection", MaxDistanceM: rep.Query.MaxDistanceM, Summary: summaryOf(rep.Summary),
		Features: make([]reachLineFeature, 0, len(rep.Hazards))}
	for _, h := range rep.Hazards {
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
		out.Features = append(out.Features, f)
	}
	return out
}
