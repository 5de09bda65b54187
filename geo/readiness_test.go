package geo

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// inspected returns depot properties with every inspection attribute known
// and good, overridden by kv (name, value pairs).
func inspected(kv ...any) map[string]any {
	p := map[string]any{
		"name": "测试仓库", "floor": 1.0, "entrance_ok": true, "manual_door": true, "damp": false,
		"stock_matches_books": true, "categories": []any{"flood"}, "inventory": []any{},
	}
	for i := 0; i < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	return p
}

func codes(rs []Reason) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

func TestDepotReadinessRules(t *testing.T) {
	kit := func(item string, q any) []any {
		return []any{map[string]any{"item": item, "quantity": q, "unit": "个"}}
	}
	for _, tc := range []struct {
		name     string
		props    map[string]any
		ready    bool
		blocking []string
		warnings []string
	}{
		{"all known and good", inspected(), true, nil, nil},
		{"4th floor, lift unknown", inspected("floor", 4.0), false, []string{ReasonUpperFloorNoLift}, nil},
		{"4th floor, no lift", inspected("floor", 4.0, "has_lift", false), false, []string{ReasonUpperFloorNoLift}, nil},
		{"4th floor with a lift", inspected("floor", 4.0, "has_lift", true), true, nil, nil},
		{"2nd floor, no lift", inspected("floor", 2.0, "has_lift", false), false, []string{ReasonUpperFloorNoLift}, nil},
		{"basement", inspected("floor", -1.0), false, []string{ReasonBelowGround}, nil},
		{"narrow entrance", inspected("entrance_ok", false), false, []string{ReasonEntranceNarrow}, nil},
		{"no manual door", inspected("manual_door", false), false, []string{ReasonNoManualDoor}, nil},
		{"damp", inspected("damp", true), false, []string{ReasonDamp}, nil},
		{"stock mismatch", inspected("stock_matches_books", false), false, []string{ReasonStockMismatch}, nil},
		{"everything wrong", inspected("floor", 4.0, "entrance_ok", false, "manual_door", false, "damp", true, "stock_matches_books", false),
			false, []string{ReasonUpperFloorNoLift, ReasonEntranceNarrow, ReasonNoManualDoor, ReasonDamp, ReasonStockMismatch}, nil},
		{"floor unknown", inspected("floor", nil), true, nil, []string{ReasonFloorUnknown}},
		{"door and damp unknown", inspected("manual_door", nil, "damp", nil), true, nil, []string{ReasonManualDoorUnknown, ReasonDampUnknown}},
		{"absent is unknown", map[string]any{"floor": 1.0}, true, nil,
			[]string{ReasonEntranceUnknown, ReasonManualDoorUnknown, ReasonDampUnknown, ReasonStockUnknown}},
		{"nothing known", map[string]any{"name": "x"}, true, nil, []string{ReasonNotInspected}},
		{"nil properties", nil, true, nil, []string{ReasonNotInspected}},
		{"wrong types are unknown", inspected("floor", "4", "damp", "yes"), true, nil, []string{ReasonFloorUnknown, ReasonDampUnknown}},
		{"fractional floor is unknown", inspected("floor", 1.5), true, nil, []string{ReasonFloorUnknown}},
		{"known bad plus unknowns", inspected("floor", nil, "damp", true), false, []string{ReasonDamp}, []string{ReasonFloorUnknown}},
		// 三官庙村 as the inspection found it: 79 members, 20 shovels, 31 pairs of boots, 6 torches.
		{"三官庙村 as found", inspected("team_size", 79.0, "inventory", []any{
			map[string]any{"item": "铁锨", "quantity": 20.0}, map[string]any{"item": "胶鞋", "quantity": 31.0},
			map[string]any{"item": "应急手电", "quantity": 6.0}, map[string]any{"item": "语音广播", "quantity": 5.0}}),
			false, []string{ReasonKitShort, ReasonKitShort, ReasonKitShort}, nil},
		{"kit enough", inspected("team_size", 10.0, "inventory", kit("铁锹", 10.0)), true, nil, nil},
		{"kit summed over names", inspected("team_size", 10.0, "inventory", []any{
			map[string]any{"item": "铁锨", "quantity": 6.0}, map[string]any{"item": "铁锹", "quantity": 4.0}}), true, nil, nil},
		{"kit short by one", inspected("team_size", 10.0, "inventory", kit("救生衣", 9.0)), false, []string{ReasonKitShort}, nil},
		{"kit quantity unknown", inspected("team_size", 10.0, "inventory", kit("雨靴", nil)), true, nil, []string{ReasonKitQuantityUnknown}},
		{"kit with team unknown", inspected("inventory", kit("手电筒", 3.0)), true, nil, []string{ReasonTeamSizeUnknown}},
		{"no kit, team known", inspected("team_size", 79.0, "inventory", kit("灭火器", 1.0)), true, nil, nil},
		{"a lamp is not a torch", inspected("team_size", 79.0, "inventory", kit("应急灯", 1.0)), true, nil, nil},
		{"team size 0 checks nothing", inspected("team_size", 0.0, "inventory", kit("铁锹", 0.0)), true, nil, nil},
		{"far from the office warns", inspected("far_from_office", true), true, nil, []string{ReasonFarFromOffice}},
		{"far and not inspected", map[string]any{"far_from_office": true}, true, nil, []string{ReasonNotInspected, ReasonFarFromOffice}},
		{"equipment only blocks", map[string]any{"kind": "equipment"}, false, []string{ReasonNoStoreNamed}, []string{ReasonNotInspected}},
		{"equipment after kit", inspected("kind", "equipment", "team_size", 79.0, "inventory", kit("铁锨", 20.0)), false, []string{ReasonKitShort, ReasonNoStoreNamed}, nil},
		{"a store does not warn", inspected("kind", "store"), true, nil, nil},
		{"kind unknown does not warn", inspected("kind", nil), true, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := DepotReadiness(tc.props)
			if r.Ready != tc.ready {
				t.Errorf("Ready = %v, want %v (reasons %v)", r.Ready, tc.ready, codes(r.Reasons))
			}
			if r.Reasons == nil {
				t.Fatal("Reasons is nil, want a non-nil slice")
			}
			var blocking, warnings []string
			for _, x := range r.Reasons {
				if x.DetailZH == "" || x.DetailEN == "" {
					t.Errorf("reason %s has an empty detail: %+v", x.Code, x)
				}
				if x.Blocking {
					if len(warnings) > 0 {
						t.Errorf("blocking reason %s after a warning: %v", x.Code, codes(r.Reasons))
					}
					blocking = append(blocking, x.Code)
				} else {
					warnings = append(warnings, x.Code)
				}
			}
			if !slices.Equal(blocking, tc.blocking) || !slices.Equal(warnings, tc.warnings) {
				t.Errorf("blocking %v, warnings %v; want %v, %v", blocking, warnings, tc.blocking, tc.warnings)
			}
		})
	}
}

func TestDepotReadinessDetails(t *testing.T) {
	r := DepotReadiness(inspected("floor", 4.0, "team_size", 79.0, "inventory", []any{map[string]any{"item": "铁锨", "quantity": 20.0}}))
	want := []Reason{
		{Code: ReasonUpperFloorNoLift, Blocking: true, DetailZH: "位于4楼，是否有电梯不明，物资需人工搬运下楼",
			DetailEN: "on floor 4, lift unknown: supplies must be carried down by hand"},
		{Code: ReasonKitShort, Blocking: true, DetailZH: "铁锨仅20，少于队员人数79", DetailEN: "only 20 shovels for 79 team members"},
	}
	if !reflect.DeepEqual(r.Reasons, want) {
		t.Errorf("DepotReadiness reasons\n got %+v\nwant %+v", r.Reasons, want)
	}
}

func TestDepotFilter(t *testing.T) {
	yes, no := true, false
	good := inspected("categories", []any{"flood", "relief"})
	bad := inspected("damp", true, "categories", []any{"fire"})
	for _, tc := range []struct {
		f         DepotFilter
		props     map[string]any
		keep      bool
		why       string
		checkFail bool
	}{
		{DepotFilter{}, bad, true, "", false},
		{DepotFilter{Ready: &yes}, good, true, "", false},
		{DepotFilter{Ready: &yes}, bad, false, WhyNotReady, false},
		{DepotFilter{Ready: &no}, bad, true, "", false},
		{DepotFilter{Ready: &no}, good, false, WhyNotReady, false},
		{DepotFilter{Category: "relief"}, good, true, "", false},
		{DepotFilter{Category: "relief"}, bad, false, WhyWrongCategory, false},
		{DepotFilter{Ready: &yes, Category: "relief"}, bad, false, WhyNotReady, false}, // not ready is said first
		{DepotFilter{Category: "other"}, map[string]any{}, false, WhyWrongCategory, false},
		{DepotFilter{Category: "food"}, good, false, WhyWrongCategory, true},
	} {
		why, keep := tc.f.Why(tc.props)
		if keep != tc.keep || why != tc.why || tc.f.Keep(tc.props) != tc.keep {
			t.Errorf("%+v.Why(%v) = %q, %v; want %q, %v", tc.f, tc.props["categories"], why, keep, tc.why, tc.keep)
		}
		if err := tc.f.Check(); (err != nil) != tc.checkFail {
			t.Errorf("%+v.Check() = %v", tc.f, err)
		} else if err != nil && KindOf(err) != Invalid {
			t.Errorf("%+v.Check() kind %v, want Invalid", tc.f, KindOf(err))
		}
	}
	if !(DepotFilter{}).IsZero() || (DepotFilter{Ready: &no}).IsZero() || (DepotFilter{Category: "fire"}).IsZero() {
		t.Error("IsZero is wrong")
	}
	if got := DepotCategories(); !slices.Equal(got, []string{"flood", "fire", "relief", "other"}) {
		t.Errorf("DepotCategories() = %v", got)
	}
}

func ExampleDepotReadiness() {
	// 豫龙街道's store on the 4th floor of the subdistrict office, as the
	// 2024 inspection found it: the report says nothing of a lift.
	r := DepotReadiness(map[string]any{"floor": 4.0, "has_lift": nil, "damp": nil})
	fmt.Println("ready:", r.Ready)
	for _, x := range r.Reasons {
		fmt.Printf("%s blocking=%v %s\n", x.Code, x.Blocking, x.DetailEN)
	}
	// Output:
	// ready: false
	// upper_floor_no_lift blocking=true on floor 4, lift unknown: supplies must be carried down by hand
	// entrance_unknown blocking=false whether the entrance hinders taking supplies out is unknown
	// manual_door_unknown blocking=false whether the door opens by hand in a power cut is unknown
	// damp_unknown blocking=false whether the store is damp is unknown
	// stock_unknown blocking=false whether the stock matches the books is unknown
}
