package geo

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestSchemasAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Schemas() {
		if seen[s.ID] {
			t.Errorf("collection %s declared twice", s.ID)
		}
		seen[s.ID] = true
		if s.TitleZH == "" || s.TitleEN == "" || s.Description == "" || len(s.GeometryTypes) == 0 {
			t.Errorf("%s: titles, description and geometry types are required", s.ID)
		}
		names := map[string]bool{}
		for _, p := range s.Properties {
			if names[p.Name] {
				t.Errorf("%s: property %s declared twice", s.ID, p.Name)
			}
			names[p.Name] = true
			if p.Title == "" {
				t.Errorf("%s.%s has no Chinese title", s.ID, p.Name)
			}
			if p.Filterable && p.Type != String && p.Type != Integer && p.Type != Number && p.Type != Boolean && p.Type != StringList {
				t.Errorf("%s.%s: a %s cannot be filterable", s.ID, p.Name, p.Type)
			}
		}
		for _, common := range []string{"name", "location_source", "location_precision_m", "findings"} {
			if !names[common] {
				t.Errorf("%s lacks the common property %s", s.ID, common)
			}
		}
	}
	if _, err := SchemaFor("nope"); KindOf(err) != NotFound {
		t.Errorf("SchemaFor(nope) = %v, want NotFound", err)
	}
}

func TestSchemasAreFreshCopies(t *testing.T) {
	a := Schemas()
	a[0].Properties[0].Name = "changed"
	if Schemas()[0].Properties[0].Name == "changed" {
		t.Fatal("Schemas returns shared values")
	}
}

func TestParseFilter(t *testing.T) {
	wp, _ := SchemaFor(WaterloggingPoints)
	depots, _ := SchemaFor(Depots)
	cases := []struct {
		s         *Schema
		name, raw string
		want      any
		ok        bool
	}{
		{wp, "status", "closed", "closed", true},
		{wp, "status", "flooded", nil, false},
		{wp, "kind", "railway_underpass", "railway_underpass", true},
		{wp, "name", "x", nil, false},          // not filterable
		{wp, "colour", "red", nil, false},      // unknown
		{wp, "status'; drop", "x", nil, false}, // unknown
		{depots, "floor", "4", 4.0, true},
		{depots, "floor", "4.5", nil, false},
		{depots, "floor", "abc", nil, false},
		{depots, "damp", "true", true, true},
		{depots, "damp", "1", nil, false},
		{depots, "damp", "yes", nil, false},
		{depots, "categories", "flood", "flood", true},
		{depots, "categories", "boats", nil, false},
		{depots, "township", "豫龙镇", "豫龙镇", true},
	}
	for _, c := range cases {
		f, err := c.s.ParseFilter(c.name, c.raw)
		if (err == nil) != c.ok {
			t.Errorf("ParseFilter(%s, %q, %q) = %v, want ok=%v", c.s.ID, c.name, c.raw, err, c.ok)
			continue
		}
		if err != nil {
			e := AsError(err)
			if e == nil || e.Kind != Invalid || len(e.Fields) != 1 || e.Fields[0].Field != c.name {
				t.Errorf("ParseFilter(%q, %q) error %#v: want Invalid naming the parameter", c.name, c.raw, e)
			}
			continue
		}
		if f.Property != c.name || f.Value != c.want {
			t.Errorf("ParseFilter(%q, %q) = %+v, want value %v", c.name, c.raw, f, c.want)
		}
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	s, _ := SchemaFor(Depots)
	f := &Feature{ID: "x y", Geometry: orb.LineString{{0, 0}, {1, 1}}, Properties: map[string]any{
		"level": "national", "floor": 2.5, "categories": []any{"flood", 3.0},
		"inventory": []any{map[string]any{"quantity": 1.0, "colour": "red"}}, "bogus": true,
	}}
	err := s.Validate(f)
	e := AsError(err)
	if e == nil || e.Kind != Invalid {
		t.Fatalf("Validate = %v, want Invalid", err)
	}
	var fields []string
	for _, fe := range e.Fields {
		fields = append(fields, fe.Field)
	}
	want := []string{"geometry", "id", "properties.bogus", "properties.categories[1]", "properties.floor",
		"properties.inventory[0].colour", "properties.inventory[0].item", "properties.level",
		"properties.location_source", "properties.name"}
	if !slices.Equal(fields, want) {
		t.Errorf("Validate fields\n got %v\nwant %v", fields, want)
	}
}

func TestPrepareCanonicalizes(t *testing.T) {
	s, _ := SchemaFor(Depots)
	f := &Feature{ID: "d", Geometry: orb.Point{113.123456789, 34.5}, Properties: map[string]any{
		"name": "仓库", "level": "city", "location_source": "x", "floor": 4, "categories": []string{"flood"},
	}}
	p, err := s.Prepare(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Properties["floor"] != 4.0 || !slices.Equal(p.Properties["categories"].([]any), []any{"flood"}) {
		t.Errorf("Prepare properties = %#v, want canonical JSON values", p.Properties)
	}
	if p.Geometry != (orb.Point{113.1234568, 34.5}) {
		t.Errorf("Prepare geometry = %v", p.Geometry)
	}
	if f.Properties["floor"] != 4 {
		t.Error("Prepare changed its argument")
	}
}

func TestNewIDIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if err := ValidateID(id); err != nil || seen[id] {
			t.Fatalf("NewID() = %q (%v, seen %v)", id, err, seen[id])
		}
		seen[id] = true
	}
}

func ExampleSchema_ParseFilter() {
	s, _ := SchemaFor(WaterloggingPoints)
	f, err := s.ParseFilter("status", "closed")
	fmt.Println(f.Property, f.Value, err)
	_, err = s.ParseFilter("status", "flooded")
	fmt.Println(err)
	// Output:
	// status closed <nil>
	// invalid status: status: "flooded" is not one of clear, ponding, closed
}

func TestRedactHouseholds(t *testing.T) {
	sc, err := SchemaFor(RelocationSites)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := sc.Property("households")
	if !ok || p.ReadRole != RolePlanner || p.Type != ObjectList || p.Filterable {
		t.Fatalf("relocation_sites.households = %+v, want a private, non-filterable object list", p)
	}
	f := &Feature{ID: "r", Properties: map[string]any{
		"name": "老君堂村", "households_remaining": 22.0,
		"households": []any{map[string]any{"name": "某户", "phone": "00000000000", "members": 3.0}},
	}}
	for _, role := range []Role{RolePublic, RoleCrew, "", "root"} {
		got := sc.Redact(f, role)
		if _, ok := got.Properties["households"]; ok || got.Properties["households_remaining"] != 22.0 {
			t.Errorf("Redact(%q) = %v, want the counts without households", role, got.Properties)
		}
	}
	if _, ok := f.Properties["households"]; !ok {
		t.Error("Redact changed its argument")
	}
	for _, role := range []Role{RolePlanner, RoleAdmin} {
		if got := sc.Redact(f, role); got != f {
			t.Errorf("Redact(%s) did not return the feature as is", role)
		}
	}
	if sc.Redact(nil, RolePublic) != nil {
		t.Error("Redact(nil) != nil")
	}
	if err := sc.Validate(f); err == nil {
		t.Error("a household without location_source etc. validated; fixture is wrong")
	}
}

func TestCanFilter(t *testing.T) {
	sc := &Schema{ID: "x", Properties: []Property{
		{Name: "status", Type: String, Filterable: true},
		{Name: "village", Type: String},
		{Name: "head", Type: String, Filterable: true, ReadRole: RolePlanner},
		{Name: "duty", Type: String, Filterable: true, ReadRole: RoleCrew},
	}}
	for _, c := range []struct {
		name string
		role Role
		want bool
	}{
		{"status", RolePublic, true},
		{"village", RoleAdmin, false},
		{"nope", RoleAdmin, false},
		{"head", RolePublic, false},
		{"head", RoleCrew, false},
		{"head", RolePlanner, true},
		{"head", RoleAdmin, true},
		{"duty", RolePublic, false},
		{"duty", RoleCrew, true},
		{"duty", "root", false},
	} {
		if got := sc.CanFilter(c.name, c.role); got != c.want {
			t.Errorf("CanFilter(%s, %s) = %v, want %v", c.name, c.role, got, c.want)
		}
	}
}

// TestReadRoleTiers checks the three views of the data: the public sees no
// personal data, crews see the contacts on duty, planners household
// detail as well.
func TestReadRoleTiers(t *testing.T) {
	if got := Views(); !slices.Equal(got, []Role{RolePublic, RoleCrew, RolePlanner}) {
		t.Fatalf("Views() = %v", got)
	}
	for role, want := range map[Role]Role{RolePublic: RolePublic, RoleCrew: RoleCrew, RolePlanner: RolePlanner,
		RoleAdmin: RolePlanner, "": RolePublic, "root": RolePublic} {
		if got := ViewOf(role); got != want {
			t.Errorf("ViewOf(%q) = %q, want %q", role, got, want)
		}
	}
	personal := map[string]Role{
		"waterlogging_points.duty_contact_name": RoleCrew, "waterlogging_points.duty_contact_phone": RoleCrew,
		"depots.keeper_name": RoleCrew, "depots.keeper_phone": RoleCrew,
		"relocation_sites.households": RolePlanner,
	}
	for _, sc := range Schemas() {
		for _, p := range sc.Properties {
			if want := personal[sc.ID+"."+p.Name]; p.ReadRole != want {
				t.Errorf("%s.%s: ReadRole %q, want %q", sc.ID, p.Name, p.ReadRole, want)
			}
			if p.ReadRole != "" && p.Filterable {
				t.Errorf("%s.%s: personal data must not be filterable", sc.ID, p.Name)
			}
		}
	}
	sc, _ := SchemaFor(Depots)
	f := &Feature{ID: "d", Properties: map[string]any{"name": "仓库", "keeper_name": "张三", "keeper_phone": "13800138000"}}
	if got := sc.Redact(f, RolePublic); got.Properties["keeper_name"] != nil || got.Properties["keeper_phone"] != nil || got.Properties["name"] != "仓库" {
		t.Errorf("public view: %v", got.Properties)
	}
	for _, role := range []Role{RoleCrew, RolePlanner, RoleAdmin} {
		if got := sc.Redact(f, role); got != f {
			t.Errorf("Redact(%s) of a depot changed it", role)
		}
	}
	if len(sc.Visible(RolePublic)) != len(sc.Properties)-2 || len(sc.Visible(RoleCrew)) != len(sc.Properties) {
		t.Errorf("Visible: public %d, crew %d of %d", len(sc.Visible(RolePublic)), len(sc.Visible(RoleCrew)), len(sc.Properties))
	}
}

func TestPhoneNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":          "13800138000",
		"138 0013 8000":        "13800138000",
		"138-0013-8000":        "13800138000",
		"+86 138 0013 8000":    "+8613800138000",
		"8613800138000":        "+8613800138000",
		"0086 13800138000":     "+8613800138000",
		"１３８００１３８０００":          "13800138000",
		"0371-86572555":        "037186572555",
		"(0371) 86572555":      "037186572555",
		"（0371）86572555":       "037186572555",
		"0371－86572555":        "037186572555",
		"010-62345678":         "01062345678",
		"021 2345678":          "0212345678",
		"0371-86572555-123":    "037186572555;ext=123",
		"0371-86572555转8001":   "037186572555;ext=8001",
		"0371-86572555 ext 12": "037186572555;ext=12",
		"+86 371 86572555":     "+8637186572555",
		"86572555":             "86572555",
		"8657255":              "8657255",
		"400-123-4567":         "4001234567",
	} {
		got, err := PhoneDigits(in)
		if err != nil || got != want {
			t.Errorf("PhoneDigits(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "1380013800", "138001380001", "12800138000", "37186572555", "0371-1234567",
		"0171-86572555", "06572555", "abc", "13800138000转1", "138 0013 8000 x", "0371-86572555转1234567", "++8613800138000",
		"110", "12345", "1e10", "13800138000\x00"} {
		if got, err := PhoneDigits(in); err == nil {
			t.Errorf("PhoneDigits(%q) = %q, want an error", in, got)
		}
	}
	sc, _ := SchemaFor(WaterloggingPoints)
	f := &Feature{Properties: map[string]any{"name": "x", "location_source": "x", "kind": "road_spot", "duty_contact_phone": "12345"}}
	err := sc.Validate(f)
	if e := AsError(err); e == nil || len(e.Fields) != 1 || e.Fields[0].Field != "properties.duty_contact_phone" {
		t.Errorf("Validate with a bad phone = %v", err)
	}
	f.Properties["duty_contact_phone"] = "0371-86572555"
	if err := sc.Validate(f); err != nil {
		t.Errorf("Validate with a landline = %v", err)
	}
}

func FuzzPhoneDigits(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 371 86572555", "0371-86572555转8001", "（0371）86572555", "400-123-4567", "x#转"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := PhoneDigits(s)
		if err != nil {
			return
		}
		// What it accepts, it accepts again in its own output form, unchanged.
		again, err := PhoneDigits(strings.Replace(d, ";ext=", "转", 1))
		if err != nil || again != d {
			t.Errorf("PhoneDigits(%q) = %q, but that gives %q, %v", s, d, again, err)
		}
	})
}

func TestValidateID(t *testing.T) {
	for id, ok := range map[string]bool{"d-1": true, "a.b": true, "...": true, "_": true, ".": false, "..": false, "": false,
		"a/b": false, "a b": false, "a\x00": false, "\xff": false, "荥阳": false, strings.Repeat("a", 101): false} {
		if err := ValidateID(id); (err == nil) != ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}
