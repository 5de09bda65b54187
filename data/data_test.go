package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// The schema the Go service enforces on the seed collections: the property
// names each may use (any other is rejected), the required string
// properties, geometry types, enums and rectification results.
var (
	commonProps = []string{"name", "name_en", "township", "location_precision_m", "location_source", "findings", "note"}
	allowed     = map[string][]string{
		"waterlogging_points": append(slices.Clone(commonProps), "kind", "duty_unit", "duty_contact_name", "duty_contact_phone",
			"equipment", "measures", "status", "depth_cm", "status_updated_at"),
		"relocation_sites": append(slices.Clone(commonProps), "town", "village", "households_total", "households_relocated",
			"households_remaining", "resettlement_site", "status"),
		"depots": append(slices.Clone(commonProps), "level", "kind", "operator", "keeper_name", "keeper_phone", "floor", "has_lift", "entrance_ok", "manual_door",
			"backup_power", "damp", "stock_matches_books", "far_from_office", "categories", "item_kinds", "inventory",
			"team_size", "rectified"),
		"gauges": append(slices.Clone(commonProps), "kind", "river", "equipment", "datum", "flood_limits", "warning_level",
			"guaranteed_level", "level_min", "level_max", "report_interval_min", "max_rise_m_per_h"),
	}
	required = map[string][]string{
		"waterlogging_points": {"name", "location_source"},
		"relocation_sites":    {"name", "location_source", "town", "village"},
		"depots":              {"name", "location_source"},
		"gauges":              {"name", "location_source"},
	}
	geometryTypes = map[string][]string{
		"waterlogging_points": {"Point", "LineString"},
		"relocation_sites":    {"Point", "Polygon", "MultiPolygon"},
		"depots":              {"Point"},
		"gauges":              {"Point"},
	}
	enums = map[string][]enum{
		"waterlogging_points": {
			{"kind", false, []string{"railway_underpass", "road_spot"}},
			{"status", true, []string{"clear", "ponding", "closed"}},
		},
		"relocation_sites": {{"status", false, []string{"not_started", "in_progress", "completed"}}},
		"depots": {
			{"level", false, []string{"city", "township", "village", "facility"}},
			{"kind", false, []string{"store", "equipment"}},
		},
		"gauges": {{"kind", false, []string{"reservoir", "river_section", "other"}}},
	}
	results = []string{"完成", "基本完成", "长期坚持", "未完成"}
)

// enum is a string property with a closed set of values.
type enum struct {
	prop     string
	nullable bool
	values   []string
}

// collection is a decoded FeatureCollection; numbers stay json.Number so
// that their written decimals can be checked.
type collection struct {
	top      map[string]any
	features []feature
}

type feature struct {
	raw   map[string]any
	id    string
	geom  map[string]any // nil for a null geometry
	props map[string]any
}

func decode(t *testing.T, what string, b []byte) collection {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if top["type"] != "FeatureCollection" {
		t.Fatalf("%s: type %v, want FeatureCollection", what, top["type"])
	}
	list, ok := top["features"].([]any)
	if !ok {
		t.Fatalf("%s: features is %T, want an array", what, top["features"])
	}
	c := collection{top: top}
	for i, x := range list {
		raw, ok := x.(map[string]any)
		if !ok || raw["type"] != "Feature" {
			t.Fatalf("%s: feature %d is not a Feature", what, i)
		}
		id, _ := raw["id"].(string)
		props, ok := raw["properties"].(map[string]any)
		if !ok {
			t.Fatalf("%s: feature %d (%q) has properties %T, want an object", what, i, id, raw["properties"])
		}
		g, present := raw["geometry"]
		if !present {
			t.Fatalf("%s: feature %q has no geometry member (null is allowed, absence is not)", what, id)
		}
		geom, _ := g.(map[string]any)
		if g != nil && geom == nil {
			t.Fatalf("%s: feature %q geometry is %T", what, id, g)
		}
		c.features = append(c.features, feature{raw: raw, id: id, geom: geom, props: props})
	}
	return c
}

func seed(t *testing.T, name string) collection {
	t.Helper()
	b, err := Seed(name)
	if err != nil {
		t.Fatalf("Seed(%q): %v", name, err)
	}
	return decode(t, fmt.Sprintf("Seed(%q)", name), b)
}

func contextLayer(t *testing.T, name string) collection {
	t.Helper()
	b, err := fs.ReadFile(Context(), name+".geojson")
	if err != nil {
		t.Fatalf("Context() %s: %v", name, err)
	}
	return decode(t, "context "+name, b)
}

func (f feature) str(k string) string { s, _ := f.props[k].(string); return s }

func (f feature) num(t *testing.T, k string) (float64, bool) {
	t.Helper()
	n, ok := f.props[k].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Float64()
	if err != nil {
		t.Fatalf("%s: %s = %v: %v", f.id, k, n, err)
	}
	return v, true
}

func byID(c collection) map[string]feature {
	m := make(map[string]feature, len(c.features))
	for _, f := range c.features {
		m[f.id] = f
	}
	return m
}

// positions returns every [lon, lat] of a GeoJSON geometry's coordinates.
func positions(t *testing.T, id string, coords any) [][2]json.Number {
	t.Helper()
	a, ok := coords.([]any)
	if !ok {
		t.Fatalf("%s: coordinates %T, want an array", id, coords)
	}
	if len(a) > 0 {
		if _, isNum := a[0].(json.Number); isNum {
			if len(a) != 2 {
				t.Fatalf("%s: position %v has %d values, want 2 (lon, lat)", id, a, len(a))
			}
			lon, ok1 := a[0].(json.Number)
			lat, ok2 := a[1].(json.Number)
			if !ok1 || !ok2 {
				t.Fatalf("%s: position %v is not two numbers", id, a)
			}
			return [][2]json.Number{{lon, lat}}
		}
	}
	var out [][2]json.Number
	for _, x := range a {
		out = append(out, positions(t, id, x)...)
	}
	return out
}

func float(t *testing.T, n json.Number) float64 {
	t.Helper()
	v, err := n.Float64()
	if err != nil {
		t.Fatalf("number %q: %v", n, err)
	}
	return v
}

// decimals returns how many decimal places n is written with.
func decimals(n json.Number) int {
	s := string(n)
	if strings.ContainsAny(s, "eE") {
		return 99 // exponent notation is not used in this data
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// countyRings returns the rings of the county outline context layer.
func countyRings(t *testing.T) [][][2]float64 {
	t.Helper()
	c := contextLayer(t, "county_boundary")
	if len(c.features) != 1 {
		t.Fatalf("county_boundary: %d features, want 1", len(c.features))
	}
	g := c.features[0].geom
	if g["type"] != "Polygon" {
		t.Fatalf("county_boundary: geometry %v, want Polygon", g["type"])
	}
	var rings [][][2]float64
	for _, r := range g["coordinates"].([]any) {
		var ring [][2]float64
		for _, p := range positions(t, "county_boundary", r) {
			ring = append(ring, [2]float64{float(t, p[0]), float(t, p[1])})
		}
		rings = append(rings, ring)
	}
	return rings
}

// inside reports whether p lies inside the polygon (even-odd rule over all
// rings, so holes count as outside).
func inside(p [2]float64, rings [][][2]float64) bool {
	in := false
	for _, r := range rings {
		for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
			a, b := r[i], r[j]
			if (a[1] > p[1]) != (b[1] > p[1]) &&
				p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
				in = !in
			}
		}
	}
	return in
}

func TestInside(t *testing.T) {
	square := [][][2]float64{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}, {{0.5, 0.5}, {0.5, 1}, {1, 1}, {1, 0.5}, {0.5, 0.5}}}
	for _, tc := range []struct {
		p    [2]float64
		want bool
	}{
		{[2]float64{1.5, 1.5}, true},
		{[2]float64{0.75, 0.75}, false}, // in the hole
		{[2]float64{3, 1}, false},
		{[2]float64{-1, 1}, false},
	} {
		if got := inside(tc.p, square); got != tc.want {
			t.Errorf("inside(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestSeedCollections(t *testing.T) {
	want := []string{"waterlogging_points", "relocation_sites", "depots", "gauges"}
	if got := SeedCollections(); !slices.Equal(got, want) {
		t.Fatalf("SeedCollections() = %v, want %v", got, want)
	}
	SeedCollections()[0] = "changed"
	if got := SeedCollections(); !slices.Equal(got, want) {
		t.Errorf("SeedCollections() after the caller changed a result = %v, want %v", got, want)
	}
	for _, name := range []string{"", "depot", "Depots", "../context/county_boundary", "seed/depots"} {
		if b, err := Seed(name); err == nil {
			t.Errorf("Seed(%q) = %d bytes, nil error; want an error", name, len(b))
		}
	}
}

func TestContextLayers(t *testing.T) {
	want := []string{"county_boundary", "longhai_railway_approx", "townships_2000_approx"}
	if got := ContextLayers(); !slices.Equal(got, want) {
		t.Fatalf("ContextLayers() = %v, want %v", got, want)
	}
	for _, name := range want {
		c := contextLayer(t, name)
		if s, _ := c.top["name"].(string); s == "" {
			t.Errorf("context %s: no top-level name", name)
		}
		if len(c.features) == 0 {
			t.Errorf("context %s: no features", name)
		}
		for _, f := range c.features {
			for _, k := range []string{"name", "source", "licence", "attribution", "precision_note"} {
				if f.str(k) == "" {
					t.Errorf("context %s: feature %q has no %s", name, f.id, k)
				}
			}
		}
	}
	if n := contextLayer(t, "townships_2000_approx").features[0].str("name"); !strings.Contains(n, "粗略") {
		t.Errorf("townships_2000_approx: name %q does not say the outline is rough (粗略)", n)
	}
}

func TestWaterloggingCounts(t *testing.T) {
	c := seed(t, "waterlogging_points")
	if n := len(c.features); n != 19 {
		t.Fatalf("Seed(%q): %d points, want 19", "waterlogging_points", n)
	}
	count := map[string]int{}
	unnamed := 0
	for _, f := range c.features {
		count[f.str("kind")]++
		if strings.Contains(f.str("name"), "报告未列名") {
			unnamed++
			if f.geom != nil {
				t.Errorf("%s: unnamed road spot has a geometry; the report gives no place", f.id)
			}
			if f.str("kind") != "road_spot" {
				t.Errorf("%s: unnamed spot kind %q, want road_spot", f.id, f.str("kind"))
			}
			if !strings.Contains(f.str("note"), "城建局") {
				t.Errorf("%s: note %q does not say 城建局 must locate it", f.id, f.str("note"))
			}
		}
		for _, k := range []string{"status", "depth_cm", "status_updated_at", "duty_unit", "duty_contact_name", "duty_contact_phone"} {
			if v, ok := f.props[k]; !ok || v != nil {
				t.Errorf("%s: %s = %v, want null in the seed (nothing reported or published)", f.id, k, f.props[k])
			}
		}
		if e, ok := f.props["equipment"].([]any); !ok || len(e) != 0 {
			t.Errorf("%s: equipment = %v, want [] (the report names none at any point)", f.id, f.props["equipment"])
		}
		// 陇海 in the report's "陇海路与…铁路桥涵" is the Longhai railway: an
		// English "Longhai Rd" sends a crew to look for a road.
		if strings.Contains(f.str("name_en"), "Longhai Rd") {
			t.Errorf("%s: name_en %q reads the Longhai railway as a road", f.id, f.str("name_en"))
		}
		// The located underpasses take their latitude from a chord between
		// stations that may be several hundred metres off the track.
		if f.str("kind") == "railway_underpass" && f.geom != nil {
			if p, _ := f.num(t, "location_precision_m"); p < 500 {
				t.Errorf("%s: precision %v m, but the railway's latitude is only known to several hundred metres", f.id, p)
			}
		}
		if m, _ := f.props["measures"].([]any); len(m) == 0 {
			t.Errorf("%s: no measures", f.id)
		}
	}
	for _, tc := range []struct {
		kind string
		want int
	}{{"railway_underpass", 5}, {"road_spot", 14}} {
		if count[tc.kind] != tc.want {
			t.Errorf("Seed(%q): %d %s, want %d", "waterlogging_points", count[tc.kind], tc.kind, tc.want)
		}
	}
	if unnamed != 11 {
		t.Errorf("Seed(%q): %d unnamed road spots, want 11", "waterlogging_points", unnamed)
	}

	ids := byID(c)
	for _, tc := range []struct {
		id, name string
		located  bool
	}{
		{"wp-underpass-xinghua", "兴华路", true},
		{"wp-underpass-guangwu", "广武路", true},
		{"wp-underpass-jingcheng", "京城路", true},
		{"wp-underpass-youyi", "友谊路", false},
		{"wp-underpass-xingze", "荥泽大道", true},
		{"wp-road-zhongyuan-taojia", "桃贾路", true},
		{"wp-road-zhengshang-guangwu", "郑上路", true},
		{"wp-road-suohe-heyin", "河阴路", true},
	} {
		f, ok := ids[tc.id]
		if !ok {
			t.Errorf("Seed(%q): no feature %q", "waterlogging_points", tc.id)
			continue
		}
		if !strings.Contains(f.str("name"), tc.name) {
			t.Errorf("%s: name %q does not contain %q", tc.id, f.str("name"), tc.name)
		}
		if tc.located && f.geom == nil {
			t.Errorf("%s: unlocated, want the researched point", tc.id)
		}
	}
	// "中原路桃贾路向西路段" is a section of unstated length, not a spot.
	if p, _ := ids["wp-road-zhongyuan-taojia"].num(t, "location_precision_m"); p < 1000 {
		t.Errorf("wp-road-zhongyuan-taojia: precision %v m for a road section that may reach 飞龙路, 1 km west", p)
	}
	// 友谊路 has no researched place: unlocated, or only a rough estimate.
	if f := ids["wp-underpass-youyi"]; f.geom != nil {
		if p, _ := f.num(t, "location_precision_m"); p < 500 {
			t.Errorf("wp-underpass-youyi: located with precision %v m, want ≥ 500 m or no geometry", p)
		}
	}
}

func TestRelocationArithmetic(t *testing.T) {
	c := seed(t, "relocation_sites")
	ids := byID(c)
	for _, tc := range []struct {
		id                          string
		total, relocated, remaining any // float64 or nil
	}{
		{"rs-laojuntang", 26.0, 4.0, 22.0},
		{"rs-wangzongdian", nil, nil, nil}, // the report publishes no count
	} {
		f, ok := ids[tc.id]
		if !ok {
			t.Errorf("Seed(%q): no feature %q", "relocation_sites", tc.id)
			continue
		}
		for k, want := range map[string]any{"households_total": tc.total, "households_relocated": tc.relocated, "households_remaining": tc.remaining} {
			got, ok := f.num(t, k)
			switch {
			case want == nil && f.props[k] != nil:
				t.Errorf("%s: %s = %v, want null", tc.id, k, f.props[k])
			case want != nil && (!ok || got != want.(float64)):
				t.Errorf("%s: %s = %v, want %v", tc.id, k, f.props[k], want)
			}
		}
	}
	for _, f := range c.features {
		tot, ok1 := f.num(t, "households_total")
		rel, ok2 := f.num(t, "households_relocated")
		rem, ok3 := f.num(t, "households_remaining")
		if ok1 && ok2 && ok3 && tot != rel+rem {
			t.Errorf("%s: households %v total ≠ %v relocated + %v remaining", f.id, tot, rel, rem)
		}
		if f.props["status"] == "completed" && ok3 && rem > 0 {
			t.Errorf("%s: status completed with %v households remaining", f.id, rem)
		}
	}
}

// TestDepotFacts checks the depot attributes: they describe the depot's
// current state (the report's 整改情况 applied, see README.md "Depot
// attributes: current state"), and the as-found facts they replaced stay
// in the findings.
func TestDepotFacts(t *testing.T) {
	c := seed(t, "depots")
	ids := byID(c)
	for _, tc := range []struct {
		id   string
		prop string
		want any // float64, bool, string or nil
	}{
		{"depot-city", "level", "city"},
		{"depot-city", "item_kinds", 66.0},
		{"depot-city", "rectified", false},
		{"depot-yulong-4f", "floor", 4.0},               // not said to be out of use
		{"depot-sishui", "far_from_office", true},       // not said to have moved
		{"depot-jiayu", "far_from_office", true},        // not said to have moved
		{"depot-suohe", "entrance_ok", nil},             // 确保出入口畅通: nothing said of width, or trucks
		{"depot-qiaolou", "entrance_ok", nil},           // 已对应急物资仓库进行调换
		{"depot-qiaolou", "stock_matches_books", nil},   // same
		{"depot-cuimiao", "damp", false},                // 已及时维修仓库漏水部位
		{"depot-gaocun", "damp", nil},                   // 已更换应急仓库地点
		{"depot-gaocun", "manual_door", nil},            // same
		{"depot-chulou-reservoir", "manual_door", true}, // 加装链条及手摇把手
		{"depot-chulou-reservoir", "level", "facility"},
		{"depot-zhuchuan", "stock_matches_books", nil}, // 高山镇's 清点建立台账 is about the town as a whole
		{"depot-sanguanmiao", "team_size", nil},        // 调整应急队员名单
		{"depot-sanguanmiao", "level", "village"},
	} {
		f, ok := ids[tc.id]
		if !ok {
			t.Errorf("Seed(%q): no feature %q", "depots", tc.id)
			continue
		}
		got := f.props[tc.prop]
		if n, isNum := got.(json.Number); isNum {
			got = float(t, n)
		}
		if got != tc.want {
			t.Errorf("%s: %s = %v, want %v", tc.id, tc.prop, got, tc.want)
		}
	}
	// 三官庙村 bought kit for every member after the inspection but
	// published no numbers: the as-found counts are in the item notes.
	want := map[string]string{"铁锨": "巡察时20把", "胶鞋": "巡察时31双", "应急手电": "巡察时6个"}
	for _, x := range ids["depot-sanguanmiao"].props["inventory"].([]any) {
		it := x.(map[string]any)
		if q, ok := want[it["item"].(string)]; ok {
			if it["quantity"] != nil || !strings.HasPrefix(it["note"].(string), q) {
				t.Errorf("depot-sanguanmiao: %s quantity %v note %q, want null and a note starting %q", it["item"], it["quantity"], it["note"], q)
			}
			delete(want, it["item"].(string))
		}
	}
	if len(want) > 0 {
		t.Errorf("depot-sanguanmiao: inventory lacks %v", want)
	}
	// The as-found facts that the current attributes replaced are still
	// quoted in the findings, and each note says what was updated.
	for _, tc := range []struct{ id, finding, note string }{
		{"depot-qiaolou", "出入口狭窄", "乔楼镇已对应急物资仓库进行调换"},
		{"depot-suohe", "出入口狭窄", "确保出入口畅通"},
		{"depot-qiaolou", "底数不清", "乔楼镇已建立物资登记台账"},
		{"depot-cuimiao", "防潮不到位", "崔庙镇已及时维修仓库漏水部位"},
		{"depot-gaocun", "防潮不到位", "高村乡已更换应急仓库地点"},
		{"depot-gaocun", "没有手动开启方式", "高村乡已更换应急仓库地点"},
		{"depot-chulou-reservoir", "没有手动开启方式", "加装链条及手摇把手"},
		{"depot-zhuchuan", "物资登记清单与现有库存不符", "清点建立台账"},
		{"depot-sanguanmiao", "铁锨只有20把，胶鞋31双，应急手电6个", "保证至少每人一套"},
		{"depot-sanguanmiao", "有79名应急队员", "调整三官庙村应急队员名单"},
	} {
		f := ids[tc.id]
		found := false
		for _, x := range f.props["findings"].([]any) {
			found = found || strings.Contains(x.(map[string]any)["finding"].(string), tc.finding)
		}
		if !found {
			t.Errorf("%s: no finding quotes %q", tc.id, tc.finding)
		}
		if note := f.str("note"); !strings.Contains(note, "整改后更新") || !strings.Contains(note, tc.note) {
			t.Errorf("%s: note does not say it was updated from %q", tc.id, tc.note)
		}
	}
	// Where the report names only equipment (extinguishers, torches, a
	// team's kit), the record says so and does not call itself a store.
	equipment := []string{"depot-wangzongdian", "depot-kouzi", "depot-sanguanmiao", "depot-jinzhai", "depot-wangcun"}
	for _, f := range c.features {
		want := "store"
		if slices.Contains(equipment, f.id) {
			want = "equipment"
			if strings.Contains(f.str("name"), "储备") || !strings.Contains(f.str("name"), "应急装备") {
				t.Errorf("%s: name %q asserts a store, or does not say equipment", f.id, f.str("name"))
			}
			if !strings.Contains(f.str("note"), "名称原为") {
				t.Errorf("%s: note does not give the old name", f.id)
			}
		}
		if f.props["kind"] != want {
			t.Errorf("%s: kind %v, want %s", f.id, f.props["kind"], want)
		}
		for _, k := range []string{"keeper_name", "keeper_phone"} {
			if v, ok := f.props[k]; !ok || v != nil {
				t.Errorf("%s: %s = %v, want null (the report names no keeper)", f.id, k, v)
			}
		}
	}
	// 王宗店村 moved as a whole; its equipment is somewhere in 崔庙镇.
	if p, _ := ids["depot-wangzongdian"].num(t, "location_precision_m"); p < 5000 {
		t.Errorf("depot-wangzongdian: precision %v m, but the village was relocated to an unpublished place", p)
	}
	// The seat is not where a depot "far from the town office" is: either no
	// geometry or a radius that covers the township.
	for _, f := range c.features {
		if f.props["far_from_office"] == true && f.geom != nil {
			if p, _ := f.num(t, "location_precision_m"); p < 5000 {
				t.Errorf("%s: far from the town office but located with precision %v m", f.id, p)
			}
		}
	}
}

// TestShape checks every seed feature against the schema the service
// enforces and RFC 7946, and every feature of every file for unique ids
// and coordinates inside the county.
func TestShape(t *testing.T) {
	county := countyRings(t)
	seen := map[string]string{}
	checkCoords := func(file string, f feature) {
		if f.geom == nil {
			return
		}
		ps := positions(t, file+" "+f.id, f.geom["coordinates"])
		if len(ps) == 0 {
			t.Errorf("%s %s: empty coordinates", file, f.id)
		}
		for _, p := range ps {
			lon, lat := float(t, p[0]), float(t, p[1])
			if lon < 113 || lon > 114 || lat < 34 || lat > 35 {
				t.Errorf("%s %s: position [%v, %v] outside lon [113,114] lat [34,35]; is the order lon, lat?", file, f.id, lon, lat)
			}
			if d := max(decimals(p[0]), decimals(p[1])); d > 7 {
				t.Errorf("%s %s: position [%v, %v] has %d decimals, want ≤ 7", file, f.id, p[0], p[1], d)
			}
			if strings.HasPrefix(file, "seed/") && !inside([2]float64{lon, lat}, county) {
				t.Errorf("%s %s: position [%v, %v] is outside the county outline", file, f.id, lon, lat)
			}
		}
	}
	checkID := func(file string, f feature) {
		if f.id == "" {
			t.Errorf("%s: feature %v has no string id", file, f.props["name"])
			return
		}
		for _, r := range f.id {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Errorf("%s: id %q is not a lower-case ascii slug", file, f.id)
				break
			}
		}
		if prev, dup := seen[f.id]; dup {
			t.Errorf("%s: id %q already used in %s", file, f.id, prev)
		}
		seen[f.id] = file
	}
	noCRS := func(file string, m map[string]any) {
		if _, ok := m["crs"]; ok {
			t.Errorf("%s: has a crs member; RFC 7946 GeoJSON is WGS-84 lon/lat and has none", file)
		}
	}

	for _, name := range SeedCollections() {
		file := "seed/" + name
		c := seed(t, name)
		noCRS(file, c.top)
		allowedSet := allowed[name]
		for _, f := range c.features {
			checkID(file, f)
			noCRS(file+" "+f.id, f.raw)
			checkCoords(file, f)
			if f.geom != nil && !slices.Contains(geometryTypes[name], f.geom["type"].(string)) {
				t.Errorf("%s %s: geometry %v, want one of %v", file, f.id, f.geom["type"], geometryTypes[name])
			}
			for k := range f.props {
				if !slices.Contains(allowedSet, k) {
					t.Errorf("%s %s: property %q is not in the %s schema", file, f.id, k, name)
				}
			}
			for _, k := range required[name] {
				if strings.TrimSpace(f.str(k)) == "" {
					t.Errorf("%s %s: %s is empty", file, f.id, k)
				}
			}
			prec, hasPrec := f.num(t, "location_precision_m")
			switch {
			case f.geom != nil && !hasPrec:
				t.Errorf("%s %s: located but location_precision_m = %v", file, f.id, f.props["location_precision_m"])
			case f.geom != nil && prec <= 0:
				t.Errorf("%s %s: location_precision_m = %v, want > 0", file, f.id, prec)
			case f.geom == nil && f.props["location_precision_m"] != nil:
				t.Errorf("%s %s: unlocated but location_precision_m = %v", file, f.id, f.props["location_precision_m"])
			}
			for _, e := range enums[name] {
				v := f.props[e.prop]
				if v == nil && e.nullable {
					continue
				}
				if s, _ := v.(string); !slices.Contains(e.values, s) {
					t.Errorf("%s %s: %s = %v, want one of %v", file, f.id, e.prop, v, e.values)
				}
			}
			checkFindings(t, file+" "+f.id, f.props["findings"])
			if name == "depots" {
				checkDepot(t, file+" "+f.id, f.props)
			}
		}
	}
	for _, name := range ContextLayers() {
		file := "context/" + name
		c := contextLayer(t, name)
		noCRS(file, c.top)
		for _, f := range c.features {
			checkID(file, f)
			noCRS(file+" "+f.id, f.raw)
			checkCoords(file, f)
		}
	}
}

func checkFindings(t *testing.T, where string, v any) {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Errorf("%s: findings is %T, want an array", where, v)
		return
	}
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			t.Errorf("%s: findings[%d] is %T, want an object", where, i, x)
			continue
		}
		for k := range m {
			if !slices.Contains([]string{"finding", "measure", "result", "ref"}, k) {
				t.Errorf("%s: findings[%d] has unknown member %q", where, i, k)
			}
		}
		if s, _ := m["finding"].(string); s == "" {
			t.Errorf("%s: findings[%d] has no finding", where, i)
		}
		if r := m["result"]; r != nil {
			if s, _ := r.(string); !slices.Contains(results, s) {
				t.Errorf("%s: findings[%d] result %v, want one of %v or null", where, i, r, results)
			}
		}
		if s, _ := m["ref"].(string); s == "" {
			t.Errorf("%s: findings[%d] has no ref to the report section", where, i)
		}
	}
}

func checkDepot(t *testing.T, where string, p map[string]any) {
	t.Helper()
	cats, ok := p["categories"].([]any)
	if !ok {
		t.Errorf("%s: categories is %T, want an array", where, p["categories"])
	}
	for _, c := range cats {
		if s, _ := c.(string); !slices.Contains([]string{"flood", "fire", "relief", "other"}, s) {
			t.Errorf("%s: category %v is not flood, fire, relief or other", where, c)
		}
	}
	inv, ok := p["inventory"].([]any)
	if !ok {
		t.Errorf("%s: inventory is %T, want an array", where, p["inventory"])
	}
	for i, x := range inv {
		m, _ := x.(map[string]any)
		if s, _ := m["item"].(string); s == "" {
			t.Errorf("%s: inventory[%d] has no item", where, i)
		}
		for k := range m {
			if !slices.Contains([]string{"item", "quantity", "unit", "note"}, k) {
				t.Errorf("%s: inventory[%d] has unknown member %q", where, i, k)
			}
		}
	}
	for _, k := range []string{"has_lift", "entrance_ok", "manual_door", "backup_power", "damp", "stock_matches_books", "far_from_office", "rectified"} {
		if _, isBool := p[k].(bool); p[k] != nil && !isBool {
			t.Errorf("%s: %s = %v, want a boolean or null", where, k, p[k])
		}
	}
	for _, k := range []string{"floor", "item_kinds", "team_size"} {
		if n, isNum := p[k].(json.Number); p[k] != nil && (!isNum || strings.ContainsAny(string(n), ".eE")) {
			t.Errorf("%s: %s = %v, want an integer or null", where, k, p[k])
		}
	}
}

// precisionClasses are the rows of README.md's precision table; a located
// feature falls in the first class whose bound (metres) its precision does
// not exceed.
var precisionClasses = []struct {
	name string
	max  float64
}{
	{"≤ 50 m", 50}, {"51–250 m", 250}, {"251 m–1 km", 1000}, {"1–5 km", 5000}, {"> 5 km", math.Inf(1)},
}

// TestREADMEPrecisionTable recomputes README.md's precision-class table
// from the data, so the documented numbers cannot drift from the files.
func TestREADMEPrecisionTable(t *testing.T) {
	names := []string{}
	for _, c := range precisionClasses {
		names = append(names, c.name)
	}
	names = append(names, "unlocated", "total")
	cols := len(SeedCollections()) + 1 // one per collection, then all
	counts := make([][]int, len(names))
	for i := range counts {
		counts[i] = make([]int, cols)
	}
	for j, name := range SeedCollections() {
		for _, f := range seed(t, name).features {
			row := len(precisionClasses) // unlocated
			if f.geom != nil {
				p, _ := f.num(t, "location_precision_m")
				for i, c := range precisionClasses {
					if p <= c.max {
						row = i
						break
					}
				}
			}
			for _, r := range []int{row, len(names) - 1} {
				counts[r][j]++
				counts[r][cols-1]++
			}
		}
	}
	var want strings.Builder
	for i, r := range counts {
		fmt.Fprintf(&want, "| %s |", names[i])
		for _, n := range r {
			fmt.Fprintf(&want, " %d |", n)
		}
		want.WriteString("\n")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), want.String()) {
		t.Errorf("README.md precision table is out of date; the data give:\n%s", want.String())
	}
}

// TestGauges checks the gauges against the report (三（五）3): the four
// rivers and 饮马坑水库 of 贾峪镇, no place and no level anywhere (the
// report gives neither), and a simple staff gauge only where the report
// says there is one (汜河).
func TestGauges(t *testing.T) {
	c := seed(t, "gauges")
	got := map[string]feature{}
	for _, f := range c.features {
		got[f.str("name")] = f
		if f.geom != nil {
			t.Errorf("gauge %s is located; the report and geodata give no gauge site", f.id)
		}
		for _, k := range []string{"datum", "flood_limits", "warning_level", "guaranteed_level", "level_min", "level_max", "report_interval_min", "max_rise_m_per_h"} {
			if v, ok := f.props[k]; !ok || v != nil {
				t.Errorf("gauge %s: %s = %v, want null (the report gives no levels)", f.id, k, v)
			}
		}
		if f.str("kind") == "river_section" && f.str("river") != f.str("name") {
			t.Errorf("gauge %s: river %q, want its name %q", f.id, f.str("river"), f.str("name"))
		}
	}
	for _, river := range []string{"汜河", "枯河", "索河", "须水河"} {
		if f, ok := got[river]; !ok || f.str("kind") != "river_section" {
			t.Errorf("no river_section gauge record for %s", river)
		}
	}
	if f := got["饮马坑水库"]; f.str("kind") != "reservoir" || f.str("township") != "贾峪镇" {
		t.Errorf("饮马坑水库 = kind %q township %q, want reservoir in 贾峪镇", f.str("kind"), f.str("township"))
	}
	for name, f := range got {
		want := ""
		if name == "汜河" {
			want = "简单水位计"
		}
		if f.str("equipment") != want {
			t.Errorf("%s: equipment %q, want %q", name, f.str("equipment"), want)
		}
	}
	if len(c.features) != 5 {
		t.Errorf("%d gauges, want 5 (4 rivers, 饮马坑水库)", len(c.features))
	}
}
