package geo

import (
	"fmt"
	"math"
	"strings"
)

// Depot readiness: whether a depot can be used in a flood, decided by
// explicit rules over its attributes (the depots schema in collections.go).
// This file is the only place the rules live; the API, the command line,
// both stores' nearest-depot filters and the reach analysis all call
// DepotReadiness.
//
// Only a KNOWN-bad attribute blocks. An attribute the data does not know
// (null or absent) never blocks: it is a warning, so that planners see what
// nobody has checked rather than a depot silently ruled out or in.
//
//	code                  blocks  when
//	upper_floor_no_lift   yes     floor > 1 and has_lift is not true (false or unknown)
//	below_ground          yes     floor < 1 (1 = ground floor): a basement floods first
//	entrance_narrow       yes     entrance_ok = false (出入口狭窄: the entrance hinders taking supplies
//	                              out and people going in and out; nothing is said of trucks)
//	no_manual_door        yes     manual_door = false (the door cannot be opened by hand in a power cut)
//	damp                  yes     damp = true
//	stock_mismatch        yes     stock_matches_books = false
//	kit_short             yes     a personal-kit item (shovels 铁锨/铁锹, boots 胶鞋/雨靴/雨鞋,
//	                              torches 手电…, life jackets 救生衣) counts fewer than team_size:
//	                              less than one set per team member (one reason per kind)
//	no_store_named        yes     kind = "equipment": the report names only equipment kept here
//	                              (extinguishers, torches, a team's kit), not a store of supplies;
//	                              a planner asking which hazards no ready depot reaches must not be
//	                              told an unnamed equipment cache is a supply depot
//	floor_unknown         no      floor is null
//	entrance_unknown      no      entrance_ok is null
//	manual_door_unknown   no      manual_door is null
//	damp_unknown          no      damp is null
//	stock_unknown         no      stock_matches_books is null
//	not_inspected         no      all five above are null: replaces the five *_unknown warnings
//	kit_quantity_unknown  no      team_size is known and a personal-kit item has no quantity
//	team_size_unknown     no      personal-kit items are listed but team_size is null
//	far_from_office       no      far_from_office = true (the inspection found the depot far from
//	                              the town office; the distance analysis measures reach itself)
//
// A value of the wrong JSON type counts as unknown. Reasons list the
// blocking ones first, then the warnings, each group in the order above.

// Reason codes of DepotReadiness, as the table above describes them.
const (
	ReasonUpperFloorNoLift   = "upper_floor_no_lift"
	ReasonBelowGround        = "below_ground"
	ReasonEntranceNarrow     = "entrance_narrow"
	ReasonNoManualDoor       = "no_manual_door"
	ReasonDamp               = "damp"
	ReasonStockMismatch      = "stock_mismatch"
	ReasonKitShort           = "kit_short"
	ReasonFloorUnknown       = "floor_unknown"
	ReasonEntranceUnknown    = "entrance_unknown"
	ReasonManualDoorUnknown  = "manual_door_unknown"
	ReasonDampUnknown        = "damp_unknown"
	ReasonStockUnknown       = "stock_unknown"
	ReasonNotInspected       = "not_inspected"
	ReasonKitQuantityUnknown = "kit_quantity_unknown"
	ReasonTeamSizeUnknown    = "team_size_unknown"
	ReasonFarFromOffice      = "far_from_office"
	ReasonNoStoreNamed       = "no_store_named"
)

// Reason is one finding of DepotReadiness about a depot.
type Reason struct {
	// Code is one of the Reason* constants.
	Code string `json:"code"`
	// Blocking reasons make the depot not ready; the others are warnings
	// about what is not known.
	Blocking bool `json:"blocking"`
	// DetailZH and DetailEN say the same in Chinese and English, with the
	// depot's own values.
	DetailZH string `json:"detail_zh"`
	DetailEN string `json:"detail_en"`
}

// Readiness is the verdict of DepotReadiness.
type Readiness struct {
	// Ready is true when no reason blocks.
	Ready bool `json:"ready"`
	// Reasons are the blocking reasons, then the warnings; never nil.
	Reasons []Reason `json:"reasons"`
}

// kitKind is one kind of personal kit that each team member needs one of.
type kitKind struct {
	zh, en string
	// names are substrings of inventory item names that mean this kind.
	names []string
}

// personalKit lists the personal-kit kinds of rule kit_short, in the order
// their reasons are listed.
var personalKit = []kitKind{
	{"铁锨", "shovels", []string{"铁锨", "铁锹"}},
	{"胶鞋", "rubber boots", []string{"胶鞋", "雨靴", "雨鞋"}},
	{"手电", "torches", []string{"手电"}},
	{"救生衣", "life jackets", []string{"救生衣"}},
}

// DepotReadiness applies the readiness rules (see the table above) to the
// properties of a depot and returns whether it is ready and why not.
func DepotReadiness(props map[string]any) Readiness {
	var blocking, warnings []Reason
	block := func(code, zh, en string) {
		blocking = append(blocking, Reason{Code: code, Blocking: true, DetailZH: zh, DetailEN: en})
	}
	warn := func(code, zh, en string) {
		warnings = append(warnings, Reason{Code: code, DetailZH: zh, DetailEN: en})
	}

	floor, floorKnown := intProp(props, "floor")
	lift, liftKnown := boolProp(props, "has_lift")
	entrance, entranceKnown := boolProp(props, "entrance_ok")
	door, doorKnown := boolProp(props, "manual_door")
	damp, dampKnown := boolProp(props, "damp")
	stock, stockKnown := boolProp(props, "stock_matches_books")

	switch {
	case floorKnown && floor > 1 && !(liftKnown && lift):
		liftZH, liftEN := "无电梯", "no lift"
		if !liftKnown {
			liftZH, liftEN = "是否有电梯不明", "lift unknown"
		}
		block(ReasonUpperFloorNoLift, fmt.Sprintf("位于%d楼，%s，物资需人工搬运下楼", floor, liftZH),
			fmt.Sprintf("on floor %d, %s: supplies must be carried down by hand", floor, liftEN))
	case floorKnown && floor < 1:
		block(ReasonBelowGround, fmt.Sprintf("位于地下（%d层），易先被淹", floor),
			fmt.Sprintf("below ground (floor %d): floods first", floor))
	}
	if entranceKnown && !entrance {
		block(ReasonEntranceNarrow, "出入口狭窄，物资取用、人员出入不便", "narrow entrance: hard to take supplies out and for people to get in and out")
	}
	if doorKnown && !door {
		block(ReasonNoManualDoor, "仓库门停电时无法手动开启", "door cannot be opened by hand in a power cut")
	}
	if dampKnown && damp {
		block(ReasonDamp, "仓库潮湿（防潮不到位）", "damp store: supplies may be spoilt")
	}
	if stockKnown && !stock {
		block(ReasonStockMismatch, "账实不符，库存底数不清", "stock does not match the books")
	}

	team, teamKnown := intProp(props, "team_size")
	counts, listed := kitCounts(props)
	for i, k := range personalKit {
		if !listed[i] || !teamKnown || team <= 0 {
			continue
		}
		n, ok := counts[i]
		if !ok {
			warn(ReasonKitQuantityUnknown, fmt.Sprintf("%s数量不明，无法核对是否每人一套（队员%d人）", k.zh, team),
				fmt.Sprintf("number of %s unknown: cannot check one per team member (%d)", k.en, team))
			continue
		}
		if n < float64(team) {
			block(ReasonKitShort, fmt.Sprintf("%s仅%s，少于队员人数%d", k.zh, formatCount(n), team),
				fmt.Sprintf("only %s %s for %d team members", formatCount(n), k.en, team))
		}
	}
	if kind, _ := props["kind"].(string); kind == "equipment" {
		block(ReasonNoStoreNamed, "报告只提到此处的装备（如灭火器、手电、队员装备），未提到物资储备库（点），不能当作可取用物资的储备点",
			"the report names only equipment here (extinguishers, torches, a team's kit), not a store of supplies: not counted as a depot supplies can be drawn from")
	}
	if !teamKnown && anyTrue(listed) {
		warn(ReasonTeamSizeUnknown, "队员人数不明，无法核对个人装备是否每人一套",
			"team size unknown: cannot check one set of personal kit per member")
	}

	if !floorKnown && !entranceKnown && !doorKnown && !dampKnown && !stockKnown {
		warn(ReasonNotInspected, "楼层、出入口、手动开门、防潮、账实情况均无记录",
			"no record of floor, entrance, manual door, damp or stock")
	} else {
		if !floorKnown {
			warn(ReasonFloorUnknown, "楼层不明", "floor unknown")
		}
		if !entranceKnown {
			warn(ReasonEntranceUnknown, "出入口是否便于物资取用、人员出入不明", "whether the entrance hinders taking supplies out is unknown")
		}
		if !doorKnown {
			warn(ReasonManualDoorUnknown, "停电时能否手动开门不明", "whether the door opens by hand in a power cut is unknown")
		}
		if !dampKnown {
			warn(ReasonDampUnknown, "是否潮湿不明", "whether the store is damp is unknown")
		}
		if !stockKnown {
			warn(ReasonStockUnknown, "账实是否相符不明", "whether the stock matches the books is unknown")
		}
	}
	// The rest of the warnings, sorted into the table's order.
	var tail []Reason
	if far, ok := boolProp(props, "far_from_office"); ok && far {
		tail = append(tail, Reason{Code: ReasonFarFromOffice,
			DetailZH: "距乡镇驻地较远（巡察发现）", DetailEN: "far from the town office (inspection finding)"})
	}
	warnings = orderWarnings(warnings, tail)

	reasons := make([]Reason, 0, len(blocking)+len(warnings))
	reasons = append(reasons, blocking...)
	reasons = append(reasons, warnings...)
	return Readiness{Ready: len(blocking) == 0, Reasons: reasons}
}

// warningOrder is the table's order of the non-blocking codes.
var warningOrder = []string{ReasonFloorUnknown, ReasonEntranceUnknown, ReasonManualDoorUnknown, ReasonDampUnknown,
	ReasonStockUnknown, ReasonNotInspected, ReasonKitQuantityUnknown, ReasonTeamSizeUnknown, ReasonFarFromOffice}

// orderWarnings returns the warnings of both lists in warningOrder, keeping
// the relative order of equal codes.
func orderWarnings(a, b []Reason) []Reason {
	all := append(a, b...)
	out := make([]Reason, 0, len(all))
	for _, code := range warningOrder {
		for _, r := range all {
			if r.Code == code {
				out = append(out, r)
			}
		}
	}
	return out
}

// kitCounts sums the inventory quantities of each personal-kit kind:
// listed[i] says whether any item of kind i is listed, and counts[i] is
// present only when every listed item of the kind has a quantity.
func kitCounts(props map[string]any) (counts map[int]float64, listed []bool) {
	counts = map[int]float64{}
	listed = make([]bool, len(personalKit))
	unknown := make([]bool, len(personalKit))
	inv, _ := props["inventory"].([]any)
	for _, x := range inv {
		it, ok := x.(map[string]any)
		if !ok {
			continue
		}
		name, _ := it["item"].(string)
		for i, k := range personalKit {
			if !containsAny(name, k.names) {
				continue
			}
			listed[i] = true
			q, ok := it["quantity"].(float64)
			if !ok || math.IsNaN(q) || math.IsInf(q, 0) {
				unknown[i] = true
				continue
			}
			counts[i] += q
			break
		}
	}
	for i := range personalKit {
		if unknown[i] {
			delete(counts, i)
		}
	}
	return counts, listed
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// formatCount writes a quantity without a needless fraction.
func formatCount(n float64) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e15 {
		return fmt.Sprintf("%d", int64(n))
	}
	return fmt.Sprintf("%g", n)
}

// boolProp returns props[name] when it is a boolean.
func boolProp(props map[string]any, name string) (v, ok bool) {
	v, ok = props[name].(bool)
	return v, ok
}

// intProp returns props[name] when it is a whole number (as encoding/json
// decodes numbers: float64; int is accepted too).
func intProp(props map[string]any, name string) (int, bool) {
	switch v := props[name].(type) {
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<31 {
			return 0, false
		}
		return int(v), true
	case int:
		return v, true
	}
	return 0, false
}

// DepotCategories returns the categories a DepotFilter may ask for: the
// enum of the depots' categories property.
func DepotCategories() []string {
	for _, sc := range Schemas() {
		if p, ok := sc.Property("categories"); ok && sc.ID == Depots {
			return p.Enum
		}
	}
	return nil
}

// DepotFilter selects the depots a nearest-depot search may return. The
// zero value keeps every depot.
type DepotFilter struct {
	// Ready, when not nil, keeps the depots whose DepotReadiness(…).Ready
	// equals *Ready.
	Ready *bool
	// Category, when not empty, keeps the depots whose categories list
	// contains it (one of DepotCategories).
	Category string
}

// ParseReady reads a readiness filter as the ready parameter and the
// --ready flag give it: "true" or "false" (DepotFilter.Ready), or "any"
// (nil: no readiness filter). Errors are Invalid and name "ready".
func ParseReady(raw string) (*bool, error) {
	switch raw {
	case "true", "false":
		b := raw == "true"
		return &b, nil
	case "any":
		return nil, nil
	}
	return nil, InvalidField("ready", "want true, false or any, got %q", raw)
}

// Why values of DepotFilter.Why: the reason a depot was passed over.
const (
	WhyNotReady      = "not_ready"
	WhyWrongCategory = "wrong_category"
)

// IsZero reports whether f keeps every depot.
func (f DepotFilter) IsZero() bool { return f.Ready == nil && f.Category == "" }

// Check returns an Invalid error naming the field ("category") when f
// cannot be applied.
func (f DepotFilter) Check() error {
	if cats := DepotCategories(); f.Category != "" && !containsString(cats, f.Category) {
		return InvalidField("category", "%q is not one of %s", f.Category, strings.Join(cats, ", "))
	}
	return nil
}

// Keep reports whether f keeps the depot with properties props.
func (f DepotFilter) Keep(props map[string]any) bool {
	_, ok := f.Why(props)
	return ok
}

// Why reports whether f keeps the depot with properties props and, when it
// does not, why: WhyNotReady (checked first) or WhyWrongCategory.
func (f DepotFilter) Why(props map[string]any) (why string, keep bool) {
	if f.Ready != nil && DepotReadiness(props).Ready != *f.Ready {
		return WhyNotReady, false
	}
	if f.Category != "" && !HasCategory(props, f.Category) {
		return WhyWrongCategory, false
	}
	return "", true
}

// HasCategory reports whether the depot's categories list contains c.
func HasCategory(props map[string]any, c string) bool {
	list, _ := props["categories"].([]any)
	for _, x := range list {
		if s, ok := x.(string); ok && s == c {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
