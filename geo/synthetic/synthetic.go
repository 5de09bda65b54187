// Package synthetic makes up waterlogging points for benchmarks and load
// tests (`hazardmap import --synthetic N`). They are marked as synthetic
// in location_source and must never be mixed with the real data.
package synthetic

import (
	"fmt"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// Bounds returns the box synthetic features fall in: Xingyang's
// urban area and surroundings (lon 113.13–113.55, lat 34.58–35.00).
func Bounds() orb.Bound {
	return orb.Bound{Min: orb.Point{113.13, 34.58}, Max: orb.Point{113.55, 35.00}}
}

// Features returns n made-up waterlogging points for benchmarks
// and load tests: points inside Bounds(), valid for the
// waterlogging_points schema, with ids syn-0000001… The same n and seed
// always give the same features. Their location_source says they are
// synthetic: they must never be mixed with the real data.
func Features(n int, seed uint64) []*geo.Feature {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	kinds := []string{"railway_underpass", "road_spot"}
	statuses := []any{"clear", "ponding", "closed", nil}
	units := []string{"城建局", "京城路街道办事处", "索河街道办事处", "豫龙镇人民政府"}
	box := Bounds()
	w, h := box.Max[0]-box.Min[0], box.Max[1]-box.Min[1]
	out := make([]*geo.Feature, n)
	for i := range out {
		lon := box.Min[0] + rng.Float64()*w
		lat := box.Min[1] + rng.Float64()*h
		status := statuses[rng.IntN(len(statuses))]
		props := map[string]any{
			"name":                 fmt.Sprintf("合成积水点 %07d", i+1),
			"name_en":              fmt.Sprintf("Synthetic ponding point %d", i+1),
			"township":             nil,
			"location_precision_m": float64(10 + rng.IntN(500)),
			"location_source":      "synthetic: generated for load tests, not a real place",
			"findings":             []any{},
			"kind":                 kinds[rng.IntN(len(kinds))],
			"duty_unit":            units[rng.IntN(len(units))],
			"measures":             []any{"排水泵", "警示标识"},
			"status":               status,
			"depth_cm":             nil,
			"status_updated_at":    nil,
		}
		if status != nil && status != "clear" {
			props["depth_cm"] = float64(rng.IntN(80))
			props["status_updated_at"] = "2024-07-20T08:00:00Z"
		}
		out[i] = &geo.Feature{
			ID:         fmt.Sprintf("syn-%07d", i+1),
			Geometry:   orb.Point{lon, lat},
			Properties: props,
		}
	}
	return out
}
