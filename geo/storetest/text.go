package storetest

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// textCases check the strings no store can keep (geo.ValidText): bytes
// that are not UTF-8 and NUL, which PostgreSQL refuses with SQLSTATE
// 22021 and the embedded store would cut its keys at. Every store answers
// them alike, Invalid naming the field, before anything is read or
// written; and text properties longer than an index can hold are Invalid
// too, before PostGIS refuses them (SQLSTATE 54000).
func textCases() []struct {
	name string
	run  func(t *testing.T, s geo.Store)
} {
	return []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"TextNoStoreCanKeepIsInvalid", textInvalid},
		{"TextLongerThanAnIndexIsInvalid", textTooLong},
	}
}

func textInvalid(t *testing.T, s geo.Store) {
	mustCreate(t, s, geo.WaterloggingPoints, point("wp", orb.Point{113.4, 34.8}, nil))
	before := auditLen(t, s)
	for _, bad := range []string{"wp\x00", "\x00", "wp\xff", "\xc3\x28", "\xe2\x80"} {
		wantField := func(what string, err error, field string) {
			t.Helper()
			e := geo.AsError(err)
			if e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 || e.Fields[0].Field != field {
				t.Errorf("%s(%q) = %v, want Invalid naming %s", what, bad, err, field)
			}
		}
		_, err := s.Feature(ctx, geo.WaterloggingPoints, bad)
		wantField("Feature", err, "id")
		_, err = s.Patch(ctx, geo.WaterloggingPoints, bad, 1, geo.Patch{Properties: map[string]any{"status": "closed"}})
		wantField("Patch", err, "id")
		wantField("Delete", s.Delete(ctx, geo.WaterloggingPoints, bad, 1), "id")
		_, _, err = s.AddObservation(ctx, bad, 0, geo.Observation{DepthCM: 20, Status: geo.ObservationPonding})
		wantField("AddObservation", err, "id")
		_, _, err = s.Observations(ctx, bad, geo.ObservationQuery{})
		wantField("Observations", err, "id")
		wantField("RevokeToken", s.RevokeToken(ctx, bad), "id")
		_, _, err = s.Audit(ctx, geo.AuditQuery{Collection: geo.WaterloggingPoints, FeatureID: bad})
		wantField("Audit", err, "feature_id")
		err = s.Read(ctx, func(v geo.View) error {
			_, _, err := v.Features(ctx, geo.WaterloggingPoints, geo.Query{Filters: []geo.Filter{{Property: "township", Value: bad}}})
			return err
		})
		wantField("Features(filter)", err, "township")
		f := point("ok", nil, nil)
		f.Properties["name"] = "名" + bad
		err = s.Create(ctx, geo.WaterloggingPoints, f)
		wantField("Create(name)", err, "properties.name")
	}
	if after := auditLen(t, s); after != before {
		t.Errorf("the audit log grew from %d to %d entries on refused writes", before, after)
	}
}

func textTooLong(t *testing.T, s geo.Store) {
	f := point("long", nil, nil)
	f.Properties["township"] = strings.Repeat("荥", geo.MaxFilterableRunes+1)
	wantKind(t, "Create(a township longer than an index can hold)", s.Create(ctx, geo.WaterloggingPoints, f), geo.Invalid)
	f = point("long", nil, nil)
	f.Properties["township"] = strings.Repeat("荥", geo.MaxFilterableRunes)
	mustCreate(t, s, geo.WaterloggingPoints, f)
	f = point("longer", nil, nil)
	f.Properties["location_source"] = strings.Repeat("a", geo.MaxTextRunes+1)
	wantKind(t, "Create(a text over MaxTextRunes)", s.Create(ctx, geo.WaterloggingPoints, f), geo.Invalid)
}

// auditLen returns the number of audit entries of s.
func auditLen(t *testing.T, s geo.Store) int {
	t.Helper()
	_, n, err := s.Audit(ctx, geo.AuditQuery{Limit: 1})
	if err != nil {
		t.Fatalf("Audit = %v", err)
	}
	return n
}
