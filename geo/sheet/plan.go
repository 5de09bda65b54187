package sheet

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"

	"hazardmap/geo"
)

// Action is what an import does with a row.
type Action string

// The actions of a plan.
const (
	// Create: a new feature (no id, or an id the store does not hold and
	// no version).
	Create Action = "create"
	// Update: the row changes the feature at the version it was exported.
	Update Action = "update"
	// Unchanged: the row says what the store holds.
	Unchanged Action = "unchanged"
	// Stale: the feature changed (or was deleted) since the export, and
	// the row differs from it: applying it would undo someone else's
	// write, so it is reported and left alone. Export again and redo it.
	Stale Action = "stale"
	// Invalid: a cell cannot be read or the feature would not be valid;
	// Problems say which.
	Invalid Action = "invalid"
)

// Label returns the action in Chinese and English, for reports.
func (a Action) Label() string {
	return map[Action]string{Create: "新建 created", Update: "更新 updated", Unchanged: "未变 unchanged",
		Stale: "过期 stale", Invalid: "错误 invalid"}[a]
}

// RowPlan is what an import would do with one row.
type RowPlan struct {
	// Line is the sheet row number.
	Line int
	// ID is the row's id ("" for a new feature without one).
	ID     string
	Action Action
	// FileVersion is the row's version column (0 when empty);
	// StoredVersion the feature's version now (0 when not stored).
	FileVersion, StoredVersion int64
	// Feature is what would be written (Create, Update): the stored
	// feature with the row's columns applied. Update carries the
	// FileVersion, as Store.Apply needs.
	Feature *geo.Feature
	// Changed lists the keys whose values the row changes (Update, and
	// Stale where it differs from what is stored now).
	Changed []string
	// Problems say what is wrong (Invalid) or why a row is stale.
	Problems []Problem
}

// Plan is what an import of a Table would do, row by row.
type Plan struct {
	Collection string
	Rows       []RowPlan
}

// Count returns how many rows have action a.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, r := range p.Rows {
		if r.Action == a {
			n++
		}
	}
	return n
}

// Problems returns the problems of the invalid rows, in row order.
func (p *Plan) Problems() []Problem {
	var out []Problem
	for _, r := range p.Rows {
		if r.Action == Invalid {
			out = append(out, r.Problems...)
		}
	}
	return out
}

// Batch returns the writes of the plan: the creates and updates. Unless
// goodOnly, a plan with any invalid row writes nothing (an empty batch
// and false). Stale and unchanged rows are never written.
func (p *Plan) Batch(goodOnly bool) (geo.Batch, bool) {
	if !goodOnly && p.Count(Invalid) > 0 {
		return geo.Batch{}, false
	}
	var b geo.Batch
	for _, r := range p.Rows {
		switch r.Action {
		case Create:
			b.Create = append(b.Create, r.Feature.Clone())
		case Update:
			b.Replace = append(b.Replace, r.Feature.Clone())
		}
	}
	return b, true
}

// MakePlan checks every row of t and compares it with current, the stored
// features of the ids in t (those the store holds; the others are
// absent), and returns what an import would do. It reads nothing else: the
// caller fetches current, and may call MakePlan again after a write
// failed because a feature changed in between.
//
// A row's cells replace the stored values of their columns; columns that
// are not in the file keep the stored values (and a new feature lacks
// them). An empty cell is null (or an empty list), except that it leaves a
// value that is already empty as it is. Geometry comes from lon and lat,
// or wkt; without those columns it is kept.
func MakePlan(t *Table, current map[string]*geo.Feature) *Plan {
	p := &Plan{Collection: t.Schema.ID, Rows: make([]RowPlan, 0, len(t.Rows))}
	firstLine := map[string]int{}
	for _, row := range t.Rows {
		rp := planRow(t, row, current)
		if rp.ID != "" {
			if l, dup := firstLine[rp.ID]; dup {
				rp.Action, rp.Feature = Invalid, nil
				rp.Problems = append(rp.Problems, Problem{Row: row.Line, Column: "编号", Key: KeyID,
					ZH: fmt.Sprintf("编号%s与第%d行重复", rp.ID, l), EN: fmt.Sprintf("id %s repeats row %d", rp.ID, l)})
			} else {
				firstLine[rp.ID] = row.Line
			}
		}
		p.Rows = append(p.Rows, rp)
	}
	return p
}

// planRow plans one row.
func planRow(t *Table, row Row, current map[string]*geo.Feature) RowPlan {
	rp := RowPlan{Line: row.Line}
	problem := func(c Column, d *detail) {
		rp.Problems = append(rp.Problems, Problem{Row: row.Line, Column: c.Title, Key: c.Key, ZH: d.zh, EN: d.en})
	}
	cols := map[string]string{}
	for i, c := range t.Columns {
		text := row.Cells[i]
		cols[c.Key] = text
		if n := utf8.RuneCountInString(text); n > MaxCellRunes {
			problem(c, bad("内容有%d个字符，超过%d的上限", "%d characters, over the limit of %d", n, MaxCellRunes))
		}
	}
	colOf := func(key string) Column {
		for _, c := range t.Columns {
			if c.Key == key {
				return c
			}
		}
		return Column{Key: key, Title: key}
	}

	rp.ID = cols[KeyID]
	if rp.ID != "" {
		if err := geo.ValidateID(rp.ID); err != nil {
			problem(colOf(KeyID), bad("编号“%s”只能由字母、数字和 - _ . 组成，最多100个字符", "id %q may hold only letters, digits, '-', '_' and '.', at most 100", rp.ID))
		}
	}
	if v := cols[KeyVersion]; v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 1 || n != math.Trunc(n) || n > 1<<53 {
			problem(colOf(KeyVersion), bad("“%s”不是版本号（正整数）", "%q is not a version (a positive whole number)", v))
		} else {
			rp.FileVersion = int64(n)
		}
	}
	stored := current[rp.ID]
	if rp.ID == "" {
		stored = nil
	}
	if stored != nil {
		rp.StoredVersion = stored.Version
	}

	// The feature the row describes: the stored one with the row's
	// columns applied, or a new one.
	f := &geo.Feature{ID: rp.ID, Properties: map[string]any{}}
	if stored != nil {
		f = stored.Clone()
	}
	for _, c := range t.Columns {
		if c.Prop == nil {
			continue
		}
		v, empty, d := parseValue(*c.Prop, cols[c.Key])
		if d != nil {
			problem(c, d)
			continue
		}
		if empty && emptyish(f.Properties[c.Key]) {
			continue // leave an empty value as it is (absent, null, "" or [])
		}
		if empty && stored == nil && c.Prop.Required {
			continue // reported as required by Prepare below
		}
		f.Properties[c.Key] = v
	}
	if g, set, d := rowGeometry(cols, stored); d != nil {
		problem(colOf(d.key), &d.detail)
	} else if set {
		f.Geometry = g
	}

	switch {
	case rp.ID == "" && rp.FileVersion != 0:
		problem(colOf(KeyVersion), bad("没有编号的行是新增，版本列应为空", "a row without id is new: its version must be empty"))
	case stored != nil && rp.FileVersion == 0 && len(rp.Problems) == 0:
		problem(colOf(KeyVersion), bad("编号%s已存在：请填写导出时的版本（或清空编号以新增）", "id %s exists: give the version you exported (or clear the id to add a new feature)", rp.ID))
	}
	prepared, err := t.Schema.Prepare(f)
	if err != nil {
		// Report what the schema finds too, in the columns not reported
		// already, so that one pass shows every bad cell.
		reported := map[string]bool{}
		for _, p := range rp.Problems {
			reported[p.Key] = true
		}
		for _, fe := range fieldErrors(err) {
			if key := fieldKey(fe.Field, cols); !reported[key] {
				problem(colOf(key), &detail{zh: translate(fe.Detail), en: fe.Detail})
			}
		}
	}
	if len(rp.Problems) > 0 {
		rp.Action = Invalid
		return rp
	}

	switch {
	case stored == nil && rp.FileVersion != 0:
		rp.Action = Stale
		rp.Problems = []Problem{{Row: row.Line, Column: "版本", Key: KeyVersion,
			ZH: fmt.Sprintf("导出（版本%d）后已被删除，未导入", rp.FileVersion),
			EN: fmt.Sprintf("deleted since the export (version %d): not applied", rp.FileVersion)}}
	case stored == nil:
		rp.Action, rp.Feature = Create, prepared
		rp.Changed = keysOf(t)
	default:
		rp.Changed = changes(t.Schema, stored, prepared)
		switch {
		case len(rp.Changed) == 0:
			rp.Action = Unchanged
		case rp.FileVersion != stored.Version:
			rp.Action = Stale
			rp.Problems = []Problem{{Row: row.Line, Column: "版本", Key: KeyVersion,
				ZH: fmt.Sprintf("导出（版本%d）后已被他人修改（现为版本%d），本行未导入：请重新导出后再改", rp.FileVersion, stored.Version),
				EN: fmt.Sprintf("changed by someone else since the export (version %d, now %d): not applied; export again and redo it", rp.FileVersion, stored.Version)}}
		default:
			prepared.Version = stored.Version
			rp.Action, rp.Feature = Update, prepared
		}
	}
	return rp
}

// geomDetail is a problem with the geometry columns.
type geomDetail struct {
	detail
	key string
}

// rowGeometry reads the geometry of a row from cols, the texts of the
// file's columns by key: lon and lat (a Point), or wkt. set is false when
// the file has no geometry columns, or when they cannot say what the
// stored geometry is (a line or polygon in a file without a wkt column):
// then the stored geometry stays.
func rowGeometry(cols map[string]string, stored *geo.Feature) (g orb.Geometry, set bool, d *geomDetail) {
	lon, hasLon := cols[KeyLon]
	lat, hasLat := cols[KeyLat]
	w, hasWKT := cols[KeyWKT]
	gd := func(key, zh, en string, args ...any) *geomDetail {
		return &geomDetail{detail: detail{fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...)}, key: key}
	}
	if hasLon != hasLat {
		return nil, false, gd(KeyLon, "经度和纬度两列须同时存在", "the lon and lat columns go together")
	}
	if w != "" {
		if lon != "" || lat != "" {
			return nil, false, gd(KeyWKT, "已填WKT几何时经纬度应为空", "lon and lat must be empty when wkt is given")
		}
		g, err := wkt.Unmarshal(w)
		if err != nil {
			return nil, false, gd(KeyWKT, "不是WKT几何：%v", "not a WKT geometry: %v", err)
		}
		return g, true, nil
	}
	if !hasLon {
		return nil, false, nil
	}
	if lon == "" && lat == "" {
		if stored != nil && stored.Geometry != nil && stored.Geometry.GeoJSONType() != "Point" && !hasWKT {
			return nil, false, nil // a line or polygon this file cannot show
		}
		return nil, true, nil // no location (a null geometry)
	}
	x, errX := strconv.ParseFloat(lon, 64)
	y, errY := strconv.ParseFloat(lat, 64)
	switch {
	case lon == "" || lat == "":
		return nil, false, gd(KeyLon, "经度和纬度须同时填写或同时为空", "give both lon and lat, or neither")
	case errX != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < -180 || x > 180:
		return nil, false, gd(KeyLon, "“%s”不是经度（-180到180的数字，WGS-84）", "%q is not a longitude (-180 to 180, WGS-84)", lon)
	case errY != nil || math.IsNaN(y) || math.IsInf(y, 0) || y < -90 || y > 90:
		return nil, false, gd(KeyLat, "“%s”不是纬度（-90到90的数字，WGS-84）", "%q is not a latitude (-90 to 90, WGS-84)", lat)
	}
	return orb.Point{x, y}, true, nil
}

// emptyish reports whether a stored value shows as an empty cell.
func emptyish(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	}
	return false
}

// equivalent reports whether two values are the same data: as
// reflect.DeepEqual, except that a member set to null and a member left
// out are the same, and so are all empty values at the top.
func equivalent(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range x {
			if !equivalent(v, y[k]) {
				return false
			}
		}
		for k, v := range y {
			if _, ok := x[k]; !ok && v != nil {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equivalent(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// changes returns the keys whose values differ between the stored
// feature and the planned one, in schema order, then "geometry".
func changes(sc *geo.Schema, stored, next *geo.Feature) []string {
	var out []string
	for _, p := range sc.Properties {
		a, b := stored.Properties[p.Name], next.Properties[p.Name]
		if !(emptyish(a) && emptyish(b)) && !equivalent(a, b) {
			out = append(out, p.Name)
		}
	}
	if !sameGeometry(stored.Geometry, next.Geometry) {
		out = append(out, "geometry")
	}
	return out
}

func sameGeometry(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return orb.Equal(a, b)
}

// keysOf returns the keys of the file's property columns.
func keysOf(t *Table) []string {
	var out []string
	for _, c := range t.Columns {
		if c.Prop != nil {
			out = append(out, c.Key)
		}
	}
	return out
}

// fieldErrors returns the field errors of a validation error.
func fieldErrors(err error) []geo.FieldError {
	if e := geo.AsError(err); e != nil && len(e.Fields) > 0 {
		return e.Fields
	}
	return []geo.FieldError{{Field: "", Detail: err.Error()}}
}

// fieldKey returns the column key a field error of geo.Schema.Validate
// is about: "properties.findings[0].finding" is findings, "geometry" is
// lon (or wkt when the file has no lon column).
func fieldKey(field string, cols map[string]string) string {
	switch {
	case field == "geometry":
		if _, ok := cols[KeyLon]; ok && cols[KeyWKT] == "" {
			return KeyLon
		}
		return KeyWKT
	case field == "id":
		return KeyID
	}
	key := strings.TrimPrefix(field, "properties.")
	if i := strings.IndexAny(key, ".["); i >= 0 {
		key = key[:i]
	}
	return key
}

// translate gives the Chinese of the details geo's validation writes.
func translate(en string) string {
	switch {
	case en == "required":
		return "必填，不能为空"
	case en == "must not be null":
		return "不能为空"
	case strings.HasPrefix(en, "unknown"):
		return "未知的属性"
	}
	return "不符合要求：" + en
}
