package synthetic

import (
	"reflect"
	"strings"
	"testing"

	"hazardmap/geo"
)

// TestFeatures checks that the made-up points are valid waterlogging
// points inside Bounds, marked synthetic, and the same for the same seed.
func TestFeatures(t *testing.T) {
	sc, err := geo.SchemaFor(geo.WaterloggingPoints)
	if err != nil {
		t.Fatal(err)
	}
	fs := Features(200, 7)
	if len(fs) != 200 {
		t.Fatalf("Features(200, 7) gave %d features", len(fs))
	}
	box := Bounds()
	for _, f := range fs {
		if err := sc.Validate(f); err != nil {
			t.Fatalf("%s: %v", f.ID, err)
		}
		if !box.Contains(f.Geometry.Bound().Min) {
			t.Errorf("%s at %v: outside %v", f.ID, f.Geometry, box)
		}
		if src, _ := f.Properties["location_source"].(string); !strings.HasPrefix(src, "synthetic") {
			t.Errorf("%s: location_source %q does not say synthetic", f.ID, src)
		}
	}
	if !reflect.DeepEqual(fs, Features(200, 7)) {
		t.Error("Features(200, 7) differs between calls")
	}
}
