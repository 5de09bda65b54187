package storetest

// Cases of batch writes (Store.Apply, what a spreadsheet import writes)
// and of the duty contacts and pre-positioned equipment it fills in.

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// batchCases are the cases of this file, run by Run like the others.
func batchCases() []struct {
	name string
	run  func(t *testing.T, s geo.Store)
} {
	return []struct {
		name string
		run  func(t *testing.T, s geo.Store)
	}{
		{"ApplyCreatesAndReplaces", applyBatch},
		{"ApplyIsAllOrNothing", applyAllOrNothing},
		{"ContactsAndEquipment", contactsAndEquipment},
		{"FeaturesByID", featuresByID},
	}
}

// featuresByID reads features by id (geo.FeaturesByID), a few (one by
// one) and many (paged from one View): held ids with their versions,
// unknown ids absent.
func featuresByID(t *testing.T, s geo.Store) {
	var all []*geo.Feature
	for i := range 1050 {
		all = append(all, point(fmt.Sprintf("p%04d", i), orb.Point{113 + float64(i)*1e-4, 34.8}, nil))
	}
	if err := s.Import(ctx, geo.WaterloggingPoints, all); err != nil {
		t.Fatal(err)
	}
	f := mustGet(t, s, geo.WaterloggingPoints, "p1049")
	f.Properties["duty_unit"] = "城建局"
	if err := s.Replace(ctx, geo.WaterloggingPoints, f); err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]string{{"p0001", "nope", "p1049"}, append([]string{"nope", "p1049", "p0000"}, idsOf(all[500:600])...)} {
		got, err := geo.FeaturesByID(ctx, s, geo.WaterloggingPoints, ids)
		if err != nil {
			t.Fatalf("FeaturesByID(%d ids) = %v", len(ids), err)
		}
		if len(got) != len(ids)-1 || got["nope"] != nil || got["p1049"] == nil || got["p1049"].Version != 2 {
			t.Errorf("FeaturesByID(%d ids): %d features, p1049 %+v; want all but nope, p1049 at version 2", len(ids), len(got), got["p1049"])
		}
	}
	if _, err := geo.FeaturesByID(ctx, s, "nope", slices.Repeat([]string{"x"}, 100)); geo.KindOf(err) != geo.NotFound {
		t.Errorf("FeaturesByID(unknown collection) = %v, want NotFound", err)
	}
}

func idsOf(fs []*geo.Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func applyBatch(t *testing.T, s geo.Store) {
	a := mustCreate(t, s, geo.WaterloggingPoints, point("a", orb.Point{113.4, 34.8}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("b", orb.Point{113.41, 34.8}, nil))
	before, err := s.Version(ctx, geo.WaterloggingPoints)
	if err != nil {
		t.Fatal(err)
	}
	edited := a.Clone()
	edited.Properties["duty_unit"] = "市城建局"
	fresh := point("", orb.Point{113.42, 34.8}, nil)
	named := point("c", nil, nil)
	if err := s.Apply(ctx, geo.WaterloggingPoints, geo.Batch{Create: []*geo.Feature{fresh, named}, Replace: []*geo.Feature{edited}}); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	if fresh.ID == "" || fresh.Version != 1 || named.Version != 1 || edited.Version != 2 || edited.Updated.IsZero() || !edited.Updated.Equal(named.Updated) {
		t.Errorf("after Apply: ids %q %q, versions %d %d %d, updated %v %v", fresh.ID, named.ID, fresh.Version, named.Version, edited.Version, edited.Updated, named.Updated)
	}
	got := mustGet(t, s, geo.WaterloggingPoints, "a")
	if got.Version != 2 || got.Properties["duty_unit"] != "市城建局" {
		t.Errorf("a after Apply: v%d %v", got.Version, got.Properties["duty_unit"])
	}
	sameFeature(t, "c after Apply", mustGet(t, s, geo.WaterloggingPoints, "c"), named)
	if after, _ := s.Version(ctx, geo.WaterloggingPoints); after <= before {
		t.Errorf("collection version %d after Apply, was %d", after, before)
	}
	es := allAudit(t, s)
	es = es[len(es)-3:]
	for _, e := range es {
		if e.Action != geo.ActionImport || e.Actor != geo.SystemActor() {
			t.Errorf("audit entry %+v, want import by system", e.Change())
		}
	}
	if last := es[2]; last.FeatureID != "a" || last.Before == nil || last.Before.Version != 1 || last.After.Properties["duty_unit"] != "市城建局" {
		t.Errorf("audit of the replace: %+v before %v", last.Change(), last.Before)
	}
	if err := s.Apply(ctx, geo.WaterloggingPoints, geo.Batch{}); err != nil {
		t.Errorf("Apply(empty) = %v", err)
	}
}

func applyAllOrNothing(t *testing.T, s geo.Store) {
	a := mustCreate(t, s, geo.WaterloggingPoints, point("a", orb.Point{113.4, 34.8}, nil))
	mustCreate(t, s, geo.WaterloggingPoints, point("b", orb.Point{113.41, 34.8}, nil))
	n0 := len(allAudit(t, s))
	v0, _ := s.Version(ctx, geo.WaterloggingPoints)
	stale := a.Clone()
	stale.Version = 7
	good := a.Clone()
	good.Properties["duty_unit"] = "x"
	badPhone := point("p", nil, nil)
	badPhone.Properties["duty_contact_phone"] = "12345"
	for _, tc := range []struct {
		name string
		b    geo.Batch
		kind geo.Kind
	}{
		{"stale replace", geo.Batch{Create: []*geo.Feature{point("n1", nil, nil)}, Replace: []*geo.Feature{stale}}, geo.Conflict},
		{"missing replace", geo.Batch{Replace: []*geo.Feature{good, point("zz", nil, nil)}}, geo.NotFound},
		{"taken id", geo.Batch{Create: []*geo.Feature{point("n1", nil, nil), point("b", nil, nil)}, Replace: []*geo.Feature{good}}, geo.Conflict},
		{"id twice", geo.Batch{Create: []*geo.Feature{point("a", nil, nil)}, Replace: []*geo.Feature{good}}, geo.Conflict},
		{"replace twice", geo.Batch{Replace: []*geo.Feature{good, good.Clone()}}, geo.Conflict},
		{"invalid", geo.Batch{Create: []*geo.Feature{badPhone}, Replace: []*geo.Feature{good}}, geo.Invalid},
	} {
		err := s.Apply(ctx, geo.WaterloggingPoints, tc.b)
		wantKind(t, "Apply("+tc.name+")", err, tc.kind)
	}
	if got := mustGet(t, s, geo.WaterloggingPoints, "a"); got.Version != 1 || got.Properties["duty_unit"] != nil {
		t.Errorf("a after failed batches: v%d %v", got.Version, got.Properties["duty_unit"])
	}
	if _, err := s.Feature(ctx, geo.WaterloggingPoints, "n1"); geo.KindOf(err) != geo.NotFound {
		t.Errorf("n1 of a failed batch exists: %v", err)
	}
	if n := len(allAudit(t, s)); n != n0 {
		t.Errorf("failed batches audited: %d entries, want %d", n, n0)
	}
	if v, _ := s.Version(ctx, geo.WaterloggingPoints); v != v0 {
		t.Errorf("failed batches moved the collection's version %d → %d", v0, v)
	}
}

// contactsAndEquipment stores the duty contact, the keeper and the
// equipment, keeps them from the public (Schema.Redact) and refuses
// telephone numbers that are not Chinese mobile or landline numbers.
func contactsAndEquipment(t *testing.T, s geo.Store) {
	p := point("p", orb.Point{113.4, 34.8}, nil)
	p.Properties["duty_unit"] = "市城建局排水所"
	p.Properties["duty_contact_name"] = "测试值守人"
	p.Properties["duty_contact_phone"] = "0371-86572555"
	p.Properties["equipment"] = []any{
		map[string]any{"item": "排水泵", "quantity": 2.0, "unit": "台"},
		map[string]any{"item": "反光锥", "quantity": 10.0, "unit": "个", "note": nil},
	}
	mustCreate(t, s, geo.WaterloggingPoints, p)
	d := depot("d", orb.Point{113.3, 34.7}, 1)
	d.Properties["kind"] = "equipment"
	d.Properties["keeper_name"] = "测试保管人"
	d.Properties["keeper_phone"] = "+86 138 0013 8000"
	mustCreate(t, s, geo.Depots, d)
	for c, f := range map[string]*geo.Feature{geo.WaterloggingPoints: p, geo.Depots: d} {
		stored := mustGet(t, s, c, f.ID)
		sameFeature(t, c+" with contacts", stored, f)
		sc, _ := geo.SchemaFor(c)
		pub := sc.Redact(stored, geo.RolePublic)
		for _, k := range []string{"duty_contact_name", "duty_contact_phone", "keeper_name", "keeper_phone"} {
			if _, ok := pub.Properties[k]; ok {
				t.Errorf("%s: the public view keeps %s", c, k)
			}
		}
		if crew := sc.Redact(stored, geo.RoleCrew); !reflect.DeepEqual(crew.Properties, stored.Properties) {
			t.Errorf("%s: the crew view lacks something: %v", c, crew.Properties)
		}
	}
	if r := geo.DepotReadiness(mustGet(t, s, geo.Depots, "d").Properties); r.Ready || !slices.ContainsFunc(r.Reasons, func(x geo.Reason) bool {
		return x.Code == geo.ReasonNoStoreNamed && x.Blocking
	}) {
		t.Errorf("an equipment-only site: %+v, want not ready (no_store_named blocks)", r)
	}
	for _, phone := range []any{"12345", "37186572555", "1380013800", 13800138000.0} {
		bad := point("bad", nil, nil)
		bad.Properties["duty_contact_phone"] = phone
		err := s.Create(ctx, geo.WaterloggingPoints, bad)
		wantKind(t, "Create(duty_contact_phone "+reflect.ValueOf(phone).String()+")", err, geo.Invalid)
		if e := geo.AsError(err); len(e.Fields) != 1 || e.Fields[0].Field != "properties.duty_contact_phone" {
			t.Errorf("Create(phone %v): fields %+v", phone, e.Fields)
		}
	}
	bad := depot("bad", nil, 1)
	bad.Properties["kind"] = "shop"
	wantKind(t, "Create(depot kind shop)", s.Create(ctx, geo.Depots, bad), geo.Invalid)
	bad = point("bad", nil, nil)
	bad.Properties["equipment"] = []any{map[string]any{"quantity": 2.0}}
	wantKind(t, "Create(equipment without item)", s.Create(ctx, geo.WaterloggingPoints, bad), geo.Invalid)
}
