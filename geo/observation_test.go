package geo

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestObservationValidate(t *testing.T) {
	now := time.Date(2025, 7, 20, 8, 0, 0, 0, time.UTC)
	ok := func() Observation {
		p := orb.Point{113.4, 34.8}
		return Observation{Time: now, DepthCM: 30, Status: "ponding", Note: "抽排中", Position: &p}
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("valid observation: %v", err)
	}
	cases := []struct {
		name   string
		edit   func(o *Observation)
		fields string // comma-separated, in order; "" for valid
	}{
		{"zero depth, clear", func(o *Observation) { o.DepthCM, o.Status = 0, "clear" }, ""},
		{"closed, shallow", func(o *Observation) { o.DepthCM, o.Status = 3, "closed" }, ""},
		{"clear at the threshold", func(o *Observation) { o.DepthCM, o.Status = 15, "clear" }, ""},
		{"no position", func(o *Observation) { o.Position = nil }, ""},
		{"clock 4 minutes ahead", func(o *Observation) { o.ObservedAt = now.Add(4 * time.Minute) }, ""},
		{"queued 6 days", func(o *Observation) { o.ObservedAt = now.Add(-6 * 24 * time.Hour) }, ""},
		{"500 runes", func(o *Observation) { o.Note = strings.Repeat("水", 500) }, ""},
		{"NaN depth", func(o *Observation) { o.DepthCM = math.NaN() }, "depth_cm"},
		{"infinite depth", func(o *Observation) { o.DepthCM = math.Inf(1) }, "depth_cm"},
		{"negative depth", func(o *Observation) { o.DepthCM = -0.5 }, "depth_cm"},
		{"too deep", func(o *Observation) { o.DepthCM = 500.5 }, "depth_cm"},
		{"unknown status", func(o *Observation) { o.Status = "flooded" }, "status"},
		{"clear at 40 cm", func(o *Observation) { o.DepthCM, o.Status = 40, "clear" }, "status"},
		{"clear just above", func(o *Observation) { o.DepthCM, o.Status = 15.5, "clear" }, "status"},
		{"ponding, no water", func(o *Observation) { o.DepthCM = 0 }, "status"},
		{"501 runes", func(o *Observation) { o.Note = strings.Repeat("水", 501) }, "note"},
		{"bad UTF-8", func(o *Observation) { o.Note = "\xff" }, "note"},
		{"swapped position", func(o *Observation) { o.Position = &orb.Point{34.8, 113.4} }, "position"},
		{"NaN position", func(o *Observation) { o.Position = &orb.Point{math.NaN(), 34.8} }, "position"},
		{"future", func(o *Observation) { o.ObservedAt = now.Add(6 * time.Minute) }, "observed_at"},
		{"8 days old", func(o *Observation) { o.ObservedAt = now.Add(-8 * 24 * time.Hour) }, "observed_at"},
		{"several", func(o *Observation) { o.DepthCM, o.Status, o.Note = -1, "x", "\x00" }, "depth_cm,status,note"},
	}
	for _, c := range cases {
		o := ok()
		c.edit(&o)
		err := o.Validate()
		var got []string
		if e := AsError(err); e != nil {
			if e.Kind != Invalid {
				t.Errorf("%s: kind %v, want Invalid", c.name, e.Kind)
			}
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
		}
		if strings.Join(got, ",") != c.fields {
			t.Errorf("%s: Validate() = %v, want fields %q", c.name, err, c.fields)
		}
	}
}

func TestObservationPatch(t *testing.T) {
	now := time.Date(2025, 7, 20, 8, 0, 0, 0, time.UTC)
	point := func(updatedAt any) *Feature {
		return &Feature{Properties: map[string]any{"status": "clear", "depth_cm": 0.0, "status_updated_at": updatedAt}}
	}
	o := Observation{Time: now, DepthCM: 30, Status: "ponding"}
	cases := []struct {
		name      string
		f         *Feature
		at        time.Time
		wantApply bool
	}{
		{"never reported", point(nil), time.Time{}, true},
		{"property missing", &Feature{Properties: map[string]any{}}, time.Time{}, true},
		{"older status", point(now.Add(-time.Hour).Format(time.RFC3339)), time.Time{}, true},
		{"same time", point(now.Format(time.RFC3339Nano)), time.Time{}, true},
		{"newer status", point(now.Add(time.Minute).Format(time.RFC3339)), time.Time{}, false},
		{"queued report, older", point(now.Add(-time.Hour).Format(time.RFC3339)), now.Add(-2 * time.Hour), false},
		{"queued report, newer", point(now.Add(-3 * time.Hour).Format(time.RFC3339)), now.Add(-2 * time.Hour), true},
		{"unparsable status time", point("yesterday"), time.Time{}, true},
	}
	for _, c := range cases {
		o := o
		o.ObservedAt = c.at
		p, current := ObservationPatch(c.f, o)
		if current != c.wantApply {
			t.Errorf("%s: current = %v, want %v", c.name, current, c.wantApply)
			continue
		}
		if !current {
			if len(p.Properties) != 0 || p.SetGeometry {
				t.Errorf("%s: an older report patches %+v", c.name, p)
			}
			continue
		}
		want := o.At().UTC().Format(time.RFC3339Nano)
		if p.Properties["status"] != "ponding" || p.Properties["depth_cm"] != 30.0 || p.Properties["status_updated_at"] != want || len(p.Properties) != 3 {
			t.Errorf("%s: patch %v, want status, depth_cm and status_updated_at %s", c.name, p.Properties, want)
		}
	}
}

func TestObservationReceive(t *testing.T) {
	now := time.Date(2025, 7, 20, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	p := orb.Point{113.404581234, 34.8}
	o := Observation{ID: 9, FeatureID: "x", DepthCM: 20, Status: "ponding", Position: &p, ObservedAt: now.Add(-time.Minute)}
	crew := Actor{ID: "t", Name: "n", Role: RoleCrew}
	got, err := o.Receive("p1", now, crew)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != 0 || got.FeatureID != "p1" || got.Actor != crew || got.Time.Location() != time.UTC ||
		got.Time.Nanosecond() != 123456000 || got.ObservedAt.Nanosecond() != 123456000 {
		t.Errorf("Receive = %+v", got)
	}
	if *got.Position != (orb.Point{113.4045812, 34.8}) || p != (orb.Point{113.404581234, 34.8}) {
		t.Errorf("Receive position %v (given %v), want it rounded to 7 decimals and the input unchanged", *got.Position, p)
	}
	o.Status = "clear"
	if _, err := o.Receive("p1", now, crew); KindOf(err) != Invalid {
		t.Errorf("Receive(clear at 20 cm) = %v, want Invalid", err)
	}
}

func TestObservationQueryCheck(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		q     ObservationQuery
		field string
	}{
		{ObservationQuery{}, ""},
		{ObservationQuery{From: now, To: now}, ""},
		{ObservationQuery{From: now, To: now.Add(-1)}, "from"},
		{ObservationQuery{Limit: -1}, "limit"},
		{ObservationQuery{Offset: -1}, "offset"},
	} {
		err := c.q.Check()
		if e := AsError(err); (c.field == "") != (err == nil) || e != nil && e.Fields[0].Field != c.field {
			t.Errorf("%+v.Check() = %v, want field %q", c.q, err, c.field)
		}
	}
}
