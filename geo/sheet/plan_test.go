package sheet

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// sheetOf writes rows (the first is the header) as CSV.
func sheetOf(rows ...[]string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows)
	return b.String()
}

// TestPlan is the table of what an import does with each kind of row,
// against the stored points of points().
func TestPlan(t *testing.T) {
	sc := schema(t, geo.WaterloggingPoints)
	stored := byID(points(t))
	head := []string{"id", "version", "name", "duty_unit", "duty_contact_phone", "depth_cm", "equipment", "kind", "location_source", "lon", "lat"}
	// a is wp-a as exported (version 3), with the given columns changed.
	a := func(kv ...string) []string {
		r := []string{"wp-a", "3", "陇海路与京城路铁路桥涵", "市城建局", "0371-86572555", "45.5", "排水泵 | 2 | 台", "railway_underpass",
			"bus line | chord, \"quoted\"\nsecond line", "113.40458", "34.798322"}
		for i := 0; i < len(kv); i += 2 {
			r[slices.Index(head, kv[i])] = kv[i+1]
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		row     []string
		action  Action
		changed []string
		problem string // in the Chinese text of the first problem
		check   func(t *testing.T, f *geo.Feature)
	}{
		{"as exported", a(), Unchanged, nil, "", nil},
		{"edited", a("duty_unit", "荥阳市城建局排水所", "equipment", "排水泵 | 3 | 台\n反光锥 | 10 | 个"), Update, []string{"duty_unit", "equipment"}, "",
			func(t *testing.T, f *geo.Feature) {
				if f.Version != 3 || len(f.Properties["equipment"].([]any)) != 2 || f.Properties["duty_contact_name"] != "测试值守" {
					t.Errorf("update: v%d %v (columns not in the file must keep their values)", f.Version, f.Properties)
				}
			}},
		{"moved", a("lon", "113.405", "lat", "34.8"), Update, []string{"geometry"}, "", func(t *testing.T, f *geo.Feature) {
			if f.Geometry != (orb.Point{113.405, 34.8}) {
				t.Errorf("geometry %v", f.Geometry)
			}
		}},
		{"unlocated", a("lon", "", "lat", ""), Update, []string{"geometry"}, "", func(t *testing.T, f *geo.Feature) {
			if f.Geometry != nil {
				t.Errorf("geometry %v, want null", f.Geometry)
			}
		}},
		{"cleared", a("duty_unit", ""), Update, []string{"duty_unit"}, "", func(t *testing.T, f *geo.Feature) {
			if v, ok := f.Properties["duty_unit"]; !ok || v != nil {
				t.Errorf("duty_unit %v, want null", v)
			}
		}},
		{"stale and edited", a("version", "2", "duty_unit", "别人"), Stale, []string{"duty_unit"}, "已被他人修改（现为版本3）", nil},
		{"stale, not edited", a("version", "2"), Unchanged, nil, "", nil},
		{"deleted since", []string{"wp-gone", "4", "x", "", "", "", "", "road_spot", "s", "", ""}, Stale, nil, "已被删除", nil},
		{"new without id", []string{"", "", "新点", "城建局", "13800138000", "", "", "road_spot", "城建局定位", "113.4", "34.79"}, Create,
			[]string{"name", "duty_unit", "duty_contact_phone", "depth_cm", "equipment", "kind", "location_source"}, "", func(t *testing.T, f *geo.Feature) {
				if f.ID != "" || f.Properties["depth_cm"] != nil || f.Geometry != (orb.Point{113.4, 34.79}) {
					t.Errorf("create: %+v", f)
				}
			}},
		{"new with id", []string{"wp-new", "", "新点", "", "", "", "", "road_spot", "城建局定位", "", ""}, Create, nil, "", func(t *testing.T, f *geo.Feature) {
			if f.ID != "wp-new" || f.Geometry != nil {
				t.Errorf("create: %+v", f)
			}
		}},
		{"bad number", a("depth_cm", "深"), Invalid, nil, "第2行 积水深度(厘米)列：“深”不是数字", nil},
		{"bad phone", a("duty_contact_phone", "37186572555"), Invalid, nil, "值守联系电话列：“37186572555”不是有效的电话号码", nil},
		{"bad enum", a("kind", "tunnel"), Invalid, nil, "类型列：“tunnel”不是允许的值", nil},
		{"bad object", a("equipment", "| 2 | 台"), Invalid, nil, "预置装备列：第1项缺少“装备”", nil},
		{"too many parts", a("equipment", "泵 | 2 | 台 | 注 | 多"), Invalid, nil, "第1项有5段，最多4段", nil},
		{"name cleared", a("name", ""), Invalid, nil, "名称列：不能为空", nil},
		{"new without name", []string{"", "", "", "", "", "", "", "road_spot", "x", "", ""}, Invalid, nil, "名称列：必填", nil},
		{"lon without lat", a("lat", ""), Invalid, nil, "经度 WGS-84列：经度和纬度须同时填写", nil},
		{"lat out of range", a("lat", "95"), Invalid, nil, "不是纬度", nil},
		{"bad id", []string{"wp a", "", "x", "", "", "", "", "road_spot", "x", "", ""}, Invalid, nil, "编号列：编号“wp a”只能由", nil},
		{"bad version", a("version", "三"), Invalid, nil, "版本列：“三”不是版本号", nil},
		{"existing id, no version", a("version", ""), Invalid, nil, "编号wp-a已存在", nil},
		{"new with a version", []string{"", "2", "x", "", "", "", "", "road_spot", "x", "", ""}, Invalid, nil, "没有编号的行是新增", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ReadCSV(strings.NewReader(sheetOf(head, tc.row)), sc, geo.RolePlanner)
			if err != nil {
				t.Fatal(err)
			}
			p := MakePlan(tab, stored)
			r := p.Rows[0]
			if r.Action != tc.action {
				t.Fatalf("action %s, want %s; problems %v, changed %v", r.Action, tc.action, r.Problems, r.Changed)
			}
			if tc.changed != nil && !slices.Equal(r.Changed, tc.changed) {
				t.Errorf("changed %v, want %v", r.Changed, tc.changed)
			}
			if tc.problem != "" && (len(r.Problems) == 0 || !strings.Contains(r.Problems[0].String(), tc.problem)) {
				t.Errorf("problems %v, want one with %q", r.Problems, tc.problem)
			}
			if tc.problem == "" && len(r.Problems) > 0 {
				t.Errorf("problems %v", r.Problems)
			}
			for _, pr := range r.Problems {
				if pr.Row != 2 || pr.EN == "" || !strings.HasPrefix(pr.English(), "row 2") {
					t.Errorf("problem %+v: want row 2 in both languages", pr)
				}
			}
			if (r.Feature != nil) != (r.Action == Create || r.Action == Update) {
				t.Errorf("feature %v for %s", r.Feature, r.Action)
			}
			if tc.check != nil && r.Feature != nil {
				tc.check(t, r.Feature)
			}
			if r.Feature != nil {
				if err := sc.Validate(r.Feature); err != nil {
					t.Errorf("planned feature is invalid: %v", err)
				}
			}
		})
	}
}

func TestPlanWholeFile(t *testing.T) {
	sc := schema(t, geo.WaterloggingPoints)
	stored := byID(points(t))
	head := []string{"id", "version", "duty_unit"}
	in := sheetOf(head, []string{"wp-a", "3", "新单位"}, []string{"wp-b", "1", ""}, []string{"wp-c", "1", "别人改过"},
		[]string{}, []string{"wp-a", "3", "又一次"}, []string{"wp-x", "", "建"})
	tab, err := ReadCSV(strings.NewReader(in), sc, geo.RolePlanner)
	if err != nil {
		t.Fatal(err)
	}
	p := MakePlan(tab, stored)
	var got []string
	for _, r := range p.Rows {
		got = append(got, r.ID+":"+string(r.Action))
	}
	// wp-c is a line: a file without wkt keeps it; the repeated wp-a is
	// invalid; wp-x lacks its required properties.
	want := []string{"wp-a:update", "wp-b:unchanged", "wp-c:stale", "wp-a:invalid", "wp-x:invalid"}
	if !slices.Equal(got, want) {
		t.Fatalf("plan %v, want %v", got, want)
	}
	if p.Rows[3].Line != 6 || !strings.Contains(p.Rows[3].Problems[0].String(), "与第2行重复") {
		t.Errorf("duplicate: line %d %v", p.Rows[3].Line, p.Rows[3].Problems)
	}
	if p.Count(Invalid) != 2 || p.Count(Update) != 1 || len(p.Problems()) < 2 {
		t.Errorf("counts: %d invalid, %d updates, problems %v", p.Count(Invalid), p.Count(Update), p.Problems())
	}
	if b, ok := p.Batch(false); ok || b.Len() != 0 {
		t.Errorf("Batch(false) with invalid rows = %+v, %v", b, ok)
	}
	b, ok := p.Batch(true)
	if !ok || len(b.Replace) != 1 || len(b.Create) != 0 || b.Replace[0].Properties["duty_unit"] != "新单位" || b.Replace[0].Version != 3 {
		t.Errorf("Batch(true) = %+v, %v", b, ok)
	}
	// A hidden property survives an update by a role that cannot see it.
	tab, err = ReadCSV(strings.NewReader(sheetOf([]string{"id", "version", "duty_unit"}, []string{"wp-a", "3", "公开单位"})), sc, geo.RolePublic)
	if err != nil {
		t.Fatal(err)
	}
	if r := MakePlan(tab, stored).Rows[0]; r.Action != Update || r.Feature.Properties["duty_contact_phone"] != "0371-86572555" {
		t.Errorf("public update: %s %v", r.Action, r.Feature)
	}
	// WKT replaces a line; lon and lat must then be empty.
	tab, _ = ReadCSV(strings.NewReader(sheetOf([]string{"id", "version", "lon", "lat", "wkt"},
		[]string{"wp-c", "2", "", "", "LINESTRING(113.35 34.78,113.37 34.79)"}, []string{"wp-a", "3", "113.4", "34.8", "POINT(113.4 34.8)"},
		[]string{"wp-b", "1", "", "", "POLYGON((0 0,1 0,1 1,0 0))"}, []string{"wp-x", "", "", "", "LINESTRING(zz)"})), sc, geo.RolePlanner)
	p = MakePlan(tab, stored)
	if r := p.Rows[0]; r.Action != Update || !slices.Equal(r.Changed, []string{"geometry"}) {
		t.Errorf("wkt line: %+v", r)
	}
	for i, want := range map[int]string{1: "已填WKT几何时经纬度应为空", 2: "几何 WKT WGS-84列：不符合要求", 3: "不是WKT几何"} {
		if r := p.Rows[i]; r.Action != Invalid || !strings.Contains(r.Problems[0].String(), want) {
			t.Errorf("row %d: %s %v, want %q", r.Line, r.Action, r.Problems, want)
		}
	}
}

func TestParseValue(t *testing.T) {
	sc := schema(t, geo.Depots)
	prop := func(name string) geo.Property { p, _ := sc.Property(name); return p }
	for _, tc := range []struct {
		prop, in string
		want     any
		bad      bool
	}{
		{"damp", "TRUE", true, false}, {"damp", "否", false, false}, {"damp", "1", true, false}, {"damp", "maybe", nil, true},
		{"floor", "4", 4.0, false}, {"floor", "4.0", 4.0, false}, {"floor", "4.5", nil, true}, {"floor", "NaN", nil, true},
		{"categories", "flood\nfire\n\n", []any{"flood", "fire"}, false}, {"categories", "food", nil, true},
		{"kind", "equipment", "equipment", false}, {"kind", "shop", nil, true},
		{"keeper_phone", "138 0013 8000", "138 0013 8000", false}, {"keeper_phone", "12345", nil, true},
		{"inventory", `铁锨 | 20 | 把 | 巡察时\|旧数`, []any{map[string]any{"item": "铁锨", "quantity": 20.0, "unit": "把", "note": "巡察时|旧数"}}, false},
		{"inventory", "铁锨 | 二十", nil, true},
		{"name", "a\x00b", nil, true},
	} {
		v, _, d := parseValue(prop(tc.prop), tc.in)
		if (d != nil) != tc.bad || (!tc.bad && !equivalent(v, tc.want)) {
			t.Errorf("parseValue(%s, %q) = %v, %v; want %v (bad %v)", tc.prop, tc.in, v, d, tc.want, tc.bad)
		}
	}
}

// FuzzFormatParse checks that every value a cell can hold reads back as
// itself: strings with any bytes in lists and objects.
func FuzzFormatParse(f *testing.F) {
	for _, s := range []string{"a|b", `a\|b`, "a\\", "x\ny", "\\n", " | ", "'=1"} {
		f.Add(s, s+"2")
	}
	sc, _ := geo.SchemaFor(geo.Depots)
	inv, _ := sc.Property("inventory")
	f.Fuzz(func(t *testing.T, a, b string) {
		a, b = strings.TrimSpace(strings.ToValidUTF8(a, "")), strings.TrimSpace(strings.ToValidUTF8(b, ""))
		if a == "" || strings.ContainsRune(a+b, 0) || strings.ContainsAny(a+b, "\r") {
			return
		}
		v := []any{map[string]any{"item": a, "quantity": nil, "unit": nil, "note": b}}
		text := FormatValue(inv, v)
		got, _, d := parseValue(inv, text)
		if d != nil || !equivalent(got, v) && !trimmed(v, got) {
			t.Errorf("FormatValue(%q) = %q reads back as %v, %v", v, text, got, d)
		}
	})
}

// trimmed reports whether got is want with the members' surrounding
// spaces (line breaks included) trimmed, which a cell does not keep.
func trimmed(want, got any) bool {
	w, g := want.([]any)[0].(map[string]any), got.([]any)
	if len(g) != 1 {
		return false
	}
	for k, v := range w {
		s, _ := v.(string)
		if gv, _ := g[0].(map[string]any)[k].(string); strings.TrimSpace(s) != gv {
			return false
		}
	}
	return true
}

// FuzzReadCSV feeds any bytes to the CSV reader and the planner: they
// must not panic, must stay within their limits, and every planned
// feature must be valid.
func FuzzReadCSV(f *testing.F) {
	stored := byID(points(f))
	f.Add(csvOf(f, geo.WaterloggingPoints, geo.RolePlanner, points(f)))
	f.Add([]byte(sheetOf([]string{"id", "version", "name", "kind", "location_source", "lon", "lat"}, []string{"", "", "n", "road_spot", "s", "1", "2"})))
	f.Add([]byte("\xff\xfeid\x00,\x00"))
	f.Add([]byte("编号,版本\n\"a\"\"\",1\n"))
	sc, _ := geo.SchemaFor(geo.WaterloggingPoints)
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := ReadCSV(strings.NewReader(string(b)), sc, geo.RolePlanner)
		if err != nil {
			return
		}
		checkPlan(t, sc, MakePlan(tab, stored))
	})
}

// FuzzReadXLSX feeds any bytes (seeded with real exports) to the xlsx
// reader and the planner.
func FuzzReadXLSX(f *testing.F) {
	stored := byID(points(f))
	f.Add(xlsxOf(f, geo.WaterloggingPoints, geo.RolePlanner, points(f)))
	f.Add(xlsxOf(f, geo.WaterloggingPoints, geo.RolePublic, nil))
	f.Add([]byte("PK\x03\x04"))
	sc, _ := geo.SchemaFor(geo.WaterloggingPoints)
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := ReadXLSX(strings.NewReader(string(b)), sc, geo.RolePlanner)
		if err != nil {
			return
		}
		checkPlan(t, sc, MakePlan(tab, stored))
	})
}

func checkPlan(t *testing.T, sc *geo.Schema, p *Plan) {
	t.Helper()
	if len(p.Rows) > MaxRows {
		t.Fatalf("%d rows", len(p.Rows))
	}
	for _, r := range p.Rows {
		switch r.Action {
		case Create, Update:
			if err := sc.Validate(r.Feature); err != nil {
				t.Errorf("row %d: planned %s of an invalid feature: %v", r.Line, r.Action, err)
			}
		case Invalid:
			if len(r.Problems) == 0 {
				t.Errorf("row %d invalid without a problem", r.Line)
			}
		}
	}
}
