package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file checks Store.AppendFeatures, the stored GeoJSON of the
// features: it must be exactly what the encoder writes for the features
// Features returns, in both views, after every kind of write.

// roles are the views AppendFeatures is checked in: the public one and a
// planner's (household detail).
var roles = []geo.Role{geo.RolePublic, geo.RoleCrew, geo.RolePlanner}

// checkEncoded fails unless AppendFeatures(c, q) is, for every role, the
// encoding of Features(c, q) as that role may see it, with the same
// counts, both read from one View.
func checkEncoded(t *testing.T, s geo.Store, c string, q geo.Query) {
	t.Helper()
	sc, err := geo.SchemaFor(c)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("kept:")
	type encoding struct {
		got  []byte
		n, m int
	}
	var (
		fs    []*geo.Feature
		total int
		got   = map[geo.Role]encoding{}
	)
	err = s.Read(ctx, func(v geo.View) error {
		if fs, total, err = v.Features(ctx, c, q); err != nil {
			return fmt.Errorf("features: %w", err)
		}
		for _, role := range roles {
			b, n, m, err := v.AppendFeatures(ctx, bytes.Clone(prefix), c, q, role)
			if err != nil {
				return fmt.Errorf("append features (%s): %w", role, err)
			}
			got[role] = encoding{b, n, m}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s, %+v: %v", c, q, err)
	}
	for _, role := range roles {
		var want []byte
		for i, f := range fs {
			if i > 0 {
				want = append(want, ',')
			}
			if want, err = geojson.AppendFeature(want, sc.Redact(f, role)); err != nil {
				t.Fatal(err)
			}
		}
		g := got[role]
		if !bytes.HasPrefix(g.got, prefix) {
			t.Fatalf("AppendFeatures(%s, %+v, %s) did not append to the buffer: %.40q", c, q, role, g.got)
		}
		if b := g.got[len(prefix):]; !bytes.Equal(b, want) || g.n != len(fs) || g.m != total {
			t.Errorf("AppendFeatures(%s, %+v, %s) = %d of %d\n%s\nwant %d of %d, the encoding of Features:\n%s", c, q, role, g.n, g.m, b, len(fs), total, want)
		}
	}
}

// appendFeatures checks the stored GeoJSON of every kind of feature and
// query, and after each kind of write.
func appendFeatures(t *testing.T, s geo.Store) {
	for i := range 30 {
		lon, lat := 113.13+float64(i%6)*0.07, 34.58+float64(i/6)*0.07
		mustCreate(t, s, geo.WaterloggingPoints, point(fmt.Sprintf("p%02d", i), orb.Point{lon, lat}, []any{"clear", "ponding", "closed", nil}[i%4]))
	}
	mustCreate(t, s, geo.WaterloggingPoints, point("line", orb.LineString{{113.2, 34.6}, {113.3, 34.7}}, "closed"))
	mustCreate(t, s, geo.WaterloggingPoints, point("nowhere", nil, nil))
	duty := point("duty", orb.Point{113.31, 34.71}, "closed")
	duty.Properties["duty_contact_name"] = "值班员"
	duty.Properties["duty_contact_phone"] = "037164000000"
	mustCreate(t, s, geo.WaterloggingPoints, duty) // crews see the contact, the public does not
	odd := point("odd", orb.Point{113.1234567, 34.7654321}, "ponding")
	odd.Properties["name"] = `<b>"引号" & \ 反斜杠` + "\u2028"
	mustCreate(t, s, geo.WaterloggingPoints, odd)
	private := site("r1")
	private.Properties["households"] = []any{map[string]any{"name": "测试户", "phone": nil, "members": 3.0, "note": nil}}
	mustCreate(t, s, geo.RelocationSites, private)
	mustCreate(t, s, geo.RelocationSites, site("r2"))
	area := site("r3")
	area.Geometry = orb.Polygon{{{113.3, 34.7}, {113.4, 34.7}, {113.4, 34.8}, {113.3, 34.8}, {113.3, 34.7}}}
	mustCreate(t, s, geo.RelocationSites, area)
	mustCreate(t, s, geo.Depots, depot("d1", orb.Point{113.4, 34.8}, 4, "flood", "relief"))
	mustCreate(t, s, geo.Depots, depot("d2", nil, 1))
	kept := depot("d3", orb.Point{113.35, 34.75}, 1, "flood")
	kept.Properties["keeper_name"] = "保管员"
	mustCreate(t, s, geo.Depots, kept)

	box := orb.Bound{Min: orb.Point{113.25, 34.65}, Max: orb.Point{113.45, 34.85}}
	edge := orb.Bound{Min: orb.Point{113.27, 34.65}, Max: orb.Point{113.27, 34.72}}
	queries := []geo.Query{
		{},
		{Limit: 5},
		{Limit: 5, Offset: 5},
		{Offset: 1000},
		{BBox: &box},
		{BBox: &box, Limit: 3, Offset: 2},
		{BBox: &edge},
		{Filters: []geo.Filter{{Property: "status", Value: "closed"}}},
		{BBox: &box, Filters: []geo.Filter{{Property: "status", Value: "ponding"}}, Limit: 2},
	}
	check := func(what string) {
		t.Helper()
		for _, c := range []string{geo.WaterloggingPoints, geo.RelocationSites, geo.Depots} {
			sc, _ := geo.SchemaFor(c)
			for _, q := range queries {
				if sc.CheckQuery(q) != nil {
					continue // a filter on a property c does not have
				}
				t.Run(what, func(t *testing.T) { checkEncoded(t, s, c, q) })
			}
		}
	}
	check("after create")

	p := mustGet(t, s, geo.WaterloggingPoints, "p07")
	p.Properties["status"] = "closed"
	p.Geometry = orb.Point{113.3, 34.7}
	if err := s.Replace(ctx, geo.WaterloggingPoints, p); err != nil {
		t.Fatal(err)
	}
	r := mustGet(t, s, geo.RelocationSites, "r2")
	if _, err := s.Patch(ctx, geo.RelocationSites, "r2", r.Version, geo.Patch{Properties: map[string]any{
		"households": []any{map[string]any{"name": "新户", "phone": "0", "members": 1.0, "note": "补录"}}}}); err != nil {
		t.Fatal(err)
	}
	d := mustGet(t, s, geo.Depots, "d2")
	if _, err := s.Patch(ctx, geo.Depots, "d2", d.Version, geo.Patch{SetGeometry: true, Geometry: orb.Point{113.31, 34.71}}); err != nil {
		t.Fatal(err)
	}
	gone := mustGet(t, s, geo.WaterloggingPoints, "p11")
	if err := s.Delete(ctx, geo.WaterloggingPoints, "p11", gone.Version); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddObservation(crewCtx(), "p12", 0, geo.Observation{DepthCM: 30, Status: "ponding"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Import(ctx, geo.WaterloggingPoints, []*geo.Feature{point("imported", orb.Point{113.26, 34.66}, "clear")}); err != nil {
		t.Fatal(err)
	}
	check("after replace, patch, delete, observe and import")
}
