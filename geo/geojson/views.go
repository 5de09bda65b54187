package geojson

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"

	"hazardmap/geo"

	"github.com/paulmach/orb"
)

// EncodeViews returns f as each view of the data shows it (geo.Views, from
// the least shown): AppendFeature of sc.Redact(f, view). The last, which
// shows everything, is always there; an earlier one is nil where it is
// the same as the last, so that a store keeping them holds once what most
// features show everyone alike. Stores keep these bytes and serve them
// as they are (see geo.View.AppendFeatures).
func EncodeViews(sc *geo.Schema, f *geo.Feature) ([][]byte, error) {
	views := geo.Views()
	out := make([][]byte, len(views))
	full, err := AppendFeature(nil, sc.Redact(f, views[len(views)-1]))
	if err != nil {
		return nil, err
	}
	out[len(views)-1] = full
	for i, v := range views[:len(views)-1] {
		red := sc.Redact(f, v)
		if red == f {
			continue // shows everything: the same bytes
		}
		b, err := AppendFeature(nil, red)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(b, full) {
			out[i] = b
		}
	}
	return out, nil
}

// Fingerprint identifies what EncodeViews writes: the views, which
// properties of each schema each view shows, and the bytes of a sample
// feature. A store that keeps the encodings compares it with the one it
// wrote them under and encodes everything afresh when it differs (a new
// version of the encoder, a property that became private).
func Fingerprint() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "views %q\n", geo.Views())
	for _, sc := range geo.Schemas() {
		fmt.Fprintf(h, "%s", sc.ID)
		for _, p := range sc.Properties {
			fmt.Fprintf(h, " %s:%s", p.Name, p.ReadRole)
		}
		fmt.Fprintln(h)
	}
	sample := &geo.Feature{ID: "x", Geometry: orb.Polygon{{{113.1234567891, 34.5}, {113.2, 34.6}, {113.3, 34.5}, {113.1234567891, 34.5}}},
		Properties: map[string]any{"a": "<&>\u2028é", "b": 1e21, "c": []any{1.5, true, nil}, "d": map[string]any{"e": math.Copysign(0, -1)}}}
	doc, _ := AppendFeature(nil, sample) // the sample encodes
	h.Write(doc)
	return fmt.Sprintf("%016x", h.Sum64())
}
