package geo

import (
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestNeedsLocating(t *testing.T) {
	p := orb.Point{113.4, 34.8}
	for _, c := range []struct {
		f    *Feature
		want bool
	}{
		{&Feature{Properties: map[string]any{"location_precision_m": nil}}, true},
		{&Feature{Geometry: p, Properties: map[string]any{"location_precision_m": 100.0}}, false},
		{&Feature{Geometry: p, Properties: map[string]any{"location_precision_m": 100.5}}, true},
		{&Feature{Geometry: p, Properties: map[string]any{"location_precision_m": 8.0}}, false},
		{&Feature{Geometry: p, Properties: map[string]any{}}, true},
		{&Feature{Geometry: p, Properties: map[string]any{"location_precision_m": nil}}, true},
	} {
		if got := NeedsLocating(c.f); got != c.want {
			t.Errorf("NeedsLocating(%v, %v) = %v, want %v", c.f.Geometry, c.f.Properties, got, c.want)
		}
	}
}

func TestProposalMethodThresholds(t *testing.T) {
	base := LocationProposal{Collection: WaterloggingPoints, FeatureID: "u", Position: orb.Point{113.4, 34.8}}
	for _, c := range []struct {
		method string
		m      float64
		ok     bool
	}{
		{LocateAuto, 10, true}, {LocateAuto, 10.1, false},
		{LocateAccepted, 30, true}, {LocateAccepted, 30.5, false},
		{LocateDragged, 30.5, true}, {LocateDragged, 2500, true},
		{LocateDragged, MaxAccuracyM + 1, false}, {"gps", 5, false},
	} {
		p := base
		p.Method, p.AccuracyM = c.method, c.m
		if err := p.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%s at %g m) = %v, want ok %v", c.method, c.m, err, c.ok)
		}
	}
}

func TestLocationPatch(t *testing.T) {
	at := time.Date(2024, 7, 20, 0, 5, 0, 0, time.UTC)
	p := LocationProposal{ID: 7, Position: orb.Point{113.39, 34.79}, AccuracyM: 8.25, Method: LocateAuto,
		ObservedAt: at, Time: at.Add(time.Hour), Actor: Actor{ID: "tc", Name: "城建局一队", Role: RoleCrew}}
	patch := LocationPatch(p, Actor{ID: "tp", Name: "规划科", Role: RolePlanner}, at.Add(2*time.Hour))
	if !patch.SetGeometry || patch.Geometry != p.Position || patch.Properties["location_precision_m"] != 8.25 {
		t.Errorf("patch %+v", patch)
	}
	src := patch.Properties["location_source"].(string)
	for _, want := range []string{"proposal 7", "城建局一队 (token tc)", "2024-07-20T00:05:00Z", "accuracy 8.2 m", "≤ 10 m", "规划科 (token tp)", "2024-07-20T02:05:00Z", "WGS-84"} {
		if !strings.Contains(src, want) {
			t.Errorf("location_source %q lacks %q", src, want)
		}
	}
}
