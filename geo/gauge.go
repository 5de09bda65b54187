package geo

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// This file declares the gauges collection (water-level gauges of
// reservoirs and river sections) and reads a gauge's limits: the
// flood-limit windows, the warning and guaranteed levels, the expected
// reporting interval and the largest credible rise.

// The kinds of gauge.
const (
	GaugeReservoir    = "reservoir"     // a reservoir's level (库水位)
	GaugeRiverSection = "river_section" // a river section's stage (河道断面水位)
	GaugeOther        = "other"
)

// The periods of a flood-limit window, after the 汛期类别 (FSTP) of SL
// 323's flood-limit table (汛限水位表 ST_RSVRFSR_B): 1 主汛期, 2 后汛期,
// 3 过渡期.
const (
	PeriodMain       = "main"       // 主汛期
	PeriodPost       = "post"       // 后汛期
	PeriodTransition = "transition" // 过渡期
)

// ChinaTime is the time zone of the month-days of flood-limit windows:
// China Standard Time, UTC+8 all year (no daylight saving since 1991). A
// fixed zone, so that the binary needs no time-zone database.
var ChinaTime = time.FixedZone("CST", 8*60*60)

// Level bounds that hold for every gauge, whatever its datum: a level
// outside them is impossible (the highest point of the earth is under
// 9 000 m, and no datum used in China puts a river 500 m below zero).
// A gauge narrows them with level_min and level_max.
const (
	MinLevel = -500.0
	MaxLevel = 9000.0
)

// MaxRiseLimit bounds max_rise_m_per_h: a rise of 10 m an hour is beyond
// any flood of a river or reservoir; a larger limit would never fire.
const MaxRiseLimit = 10.0

// MaxReportIntervalMin bounds report_interval_min: a week.
const MaxReportIntervalMin = 7 * 24 * 60

func gaugeSchema() *Schema {
	return &Schema{
		ID:            Gauges,
		TitleZH:       "水位站",
		TitleEN:       "Water-level gauges",
		Description:   "Water-level gauges of reservoirs and river sections, with their flood-limit windows (汛限水位, by date as in SL 323's flood-limit table), warning (警戒水位) and guaranteed (保证水位) levels. The report names the rivers and reservoirs but gives no levels and no places: those are null until a planner enters them.",
		GeometryTypes: []string{"Point"},
		Properties: append(commonProperties(),
			Property{Name: "kind", Type: String, Required: true, Filterable: true, Enum: []string{GaugeReservoir, GaugeRiverSection, GaugeOther}, Title: "类型", Description: "reservoir (水库), river_section (河道断面) or other."},
			Property{Name: "river", Type: String, Nullable: true, Filterable: true, Title: "河流", Description: "The river the gauge is on, or the reservoir dams."},
			Property{Name: "equipment", Type: String, Nullable: true, Title: "监测设施", Description: "What measures the level, e.g. 简单水位计 (a simple staff gauge) or 人工观测."},
			Property{Name: "datum", Type: String, Nullable: true, Title: "水位基面", Description: "The datum of every level of this gauge (readings and limits), e.g. 1985国家高程基准 or a 假定基面."},
			Property{Name: "flood_limits", Type: ObjectList, Nullable: true, Title: "汛限水位",
				Description: "The flood-limit level by date, as SL 323's flood-limit table has it: windows from start to end (month-days in China time, both included; a window whose end is before its start runs across the new year), each with its level and period. Windows must not overlap. null: not known.",
				Fields: []Property{
					{Name: "start", Type: String, Required: true, Title: "开始月日", Description: "MM-DD, the first day of the window (SL 323 BGMD)."},
					{Name: "end", Type: String, Required: true, Title: "结束月日", Description: "MM-DD, the last day of the window (SL 323 EDMD)."},
					{Name: "level", Type: Number, Required: true, Title: "汛限水位(米)", Description: "The flood-limit level in metres, in the gauge's datum (SL 323 FSLTDZ)."},
					{Name: "period", Type: String, Required: true, Enum: []string{PeriodMain, PeriodPost, PeriodTransition}, Title: "汛期类别", Description: "main (主汛期), post (后汛期) or transition (过渡期) (SL 323 FSTP 1, 2, 3)."},
				}},
			Property{Name: "warning_level", Type: Number, Nullable: true, Title: "警戒水位(米)", Description: "Warning level in metres (SL 323 WRZ)."},
			Property{Name: "guaranteed_level", Type: Number, Nullable: true, Title: "保证水位(米)", Description: "Guaranteed (safe-discharge) level in metres (SL 323 GRZ); at or below it the river must be held."},
			Property{Name: "level_min", Type: Number, Nullable: true, Title: "最低可测水位(米)", Description: "The lowest level the gauge can read; a reading below it is refused as impossible."},
			Property{Name: "level_max", Type: Number, Nullable: true, Title: "最高可测水位(米)", Description: "The highest level the gauge can read; a reading above it is refused as impossible."},
			Property{Name: "report_interval_min", Type: Integer, Nullable: true, Title: "报汛间隔(分钟)", Description: "How often a reading is expected, in minutes; a gauge silent for twice as long raises an alert. null: no such expectation (manual gauges read when a patrol passes)."},
			Property{Name: "max_rise_m_per_h", Type: Number, Nullable: true, Title: "最大涨率(米/时)", Description: "A rise faster than this, in metres per hour between two readings, raises an alert."},
			Property{Name: "deadband_m", Type: Number, Nullable: true, Title: "解除回差(米)", Description: "Hysteresis of the level alerts: an alert over a limit resolves only once the level is at least this far below the limit, so that a level hovering at the limit does not open and resolve alert after alert. null: 0.05 m (DefaultDeadband); 0 to 1 m."},
		),
		Check: checkGauge,
	}
}

// FloodLimit is one window of a gauge's flood-limit table: from Start to
// End (month-days in ChinaTime, both included; End before Start runs
// across the new year), the level must stay at or below Level.
type FloodLimit struct {
	Start, End MonthDay
	Level      float64
	Period     string
}

// MonthDay is a day of the year as a month and a day of the month; 02-29
// is a day only in leap years.
type MonthDay struct {
	Month time.Month
	Day   int
}

// ParseMonthDay reads "MM-DD" (two digits each; 02-29 allowed).
func ParseMonthDay(s string) (MonthDay, error) {
	if len(s) != 5 || s[2] != '-' {
		return MonthDay{}, fmt.Errorf("want MM-DD, got %q", s)
	}
	m, err1 := strconv.Atoi(s[:2])
	d, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[3] == '+' || m < 1 || m > 12 || d < 1 {
		return MonthDay{}, fmt.Errorf("want MM-DD, got %q", s)
	}
	// 2024 is a leap year: every month-day that exists in some year
	// exists in it.
	if d > time.Date(2024, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return MonthDay{}, fmt.Errorf("%q is not a day of the year", s)
	}
	return MonthDay{time.Month(m), d}, nil
}

// String returns md as MM-DD.
func (md MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(md.Month), md.Day) }

// ordinal returns md's day of a leap year, 1 to 366.
func (md MonthDay) ordinal() int {
	return time.Date(2024, md.Month, md.Day, 0, 0, 0, 0, time.UTC).YearDay()
}

// MonthDayOf returns the month-day of t in ChinaTime.
func MonthDayOf(t time.Time) MonthDay {
	c := t.In(ChinaTime)
	return MonthDay{c.Month(), c.Day()}
}

// Contains reports whether md lies in the window, ends included.
func (w FloodLimit) Contains(md MonthDay) bool {
	s, e, x := w.Start.ordinal(), w.End.ordinal(), md.ordinal()
	if s <= e {
		return s <= x && x <= e
	}
	return x >= s || x <= e // across the new year
}

// Gauge is the typed view of a gauge feature that the alert rules read.
// A nil pointer, a zero ReportInterval and no FloodLimits mean "not
// known": no rule fires on an unknown limit.
type Gauge struct {
	ID, Name, Kind, River, Township, Datum string
	FloodLimits                            []FloodLimit
	WarningLevel, GuaranteedLevel          *float64
	LevelMin, LevelMax                     *float64
	// ReportInterval is how often a reading is expected; 0 when not.
	ReportInterval time.Duration
	// MaxRise is the largest credible rise in metres per hour.
	MaxRise *float64
	// Deadband is the hysteresis of the level alerts in metres
	// (deadband_m, DefaultDeadband when not set).
	Deadband float64
}

// FloodLimitAt returns the window of g's flood-limit table that holds the
// date of t (in ChinaTime), and false when none does.
func (g Gauge) FloodLimitAt(t time.Time) (FloodLimit, bool) {
	md := MonthDayOf(t)
	for _, w := range g.FloodLimits {
		if w.Contains(md) {
			return w, true
		}
	}
	return FloodLimit{}, false
}

// GaugeOf returns the typed view of f, a feature of the gauges
// collection as its Schema validated it. A feature that does not pass
// (not a gauge) is an Invalid error.
func GaugeOf(f *Feature) (Gauge, error) {
	sc := gaugeSchema()
	if err := sc.Validate(f); err != nil {
		return Gauge{}, err
	}
	p := f.Properties
	str := func(k string) string { s, _ := p[k].(string); return s }
	num := func(k string) *float64 {
		if x, ok := p[k].(float64); ok {
			return &x
		}
		return nil
	}
	g := Gauge{ID: f.ID, Name: str("name"), Kind: str("kind"), River: str("river"), Township: str("township"), Datum: str("datum"),
		WarningLevel: num("warning_level"), GuaranteedLevel: num("guaranteed_level"),
		LevelMin: num("level_min"), LevelMax: num("level_max"), MaxRise: num("max_rise_m_per_h")}
	if n := num("report_interval_min"); n != nil {
		g.ReportInterval = time.Duration(*n) * time.Minute
	}
	g.FloodLimits, _ = floodLimits(p["flood_limits"])
	g.Deadband = DefaultDeadband
	if d := num("deadband_m"); d != nil {
		g.Deadband = *d
	}
	return g, nil
}

// floodLimits reads the flood_limits property, which has passed the
// schema's type checks, and returns the field errors of its month-days.
func floodLimits(v any) ([]FloodLimit, []FieldError) {
	list, _ := v.([]any)
	var (
		out  []FloodLimit
		errs []FieldError
	)
	for i, x := range list {
		obj, _ := x.(map[string]any)
		path := fmt.Sprintf("properties.flood_limits[%d]", i)
		start, err := ParseMonthDay(fmt.Sprint(obj["start"]))
		if err != nil {
			errs = append(errs, FieldError{Field: path + ".start", Detail: err.Error()})
		}
		end, err := ParseMonthDay(fmt.Sprint(obj["end"]))
		if err != nil {
			errs = append(errs, FieldError{Field: path + ".end", Detail: err.Error()})
		}
		level, _ := obj["level"].(float64)
		period, _ := obj["period"].(string)
		out = append(out, FloodLimit{Start: start, End: end, Level: level, Period: period})
	}
	return out, errs
}

// checkGauge is the gauges schema's Check: month-days that exist, windows
// that do not overlap, levels within MinLevel..MaxLevel and the gauge's
// own range, level_min below level_max, a positive reporting interval of
// at most MaxReportIntervalMin, and a rise limit above 0 and at most
// MaxRiseLimit.
func checkGauge(f *Feature) []FieldError {
	p := f.Properties
	windows, errs := floodLimits(p["flood_limits"])
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: "properties." + field, Detail: fmt.Sprintf(format, args...)})
	}
	if len(errs) == 0 {
		var days [367]int // leap-year day → 1 + index of the window holding it
		for i, w := range windows {
			for d := range 366 {
				md := dayOfLeapYear(d + 1)
				if !w.Contains(md) {
					continue
				}
				if j := days[d+1]; j != 0 {
					bad(fmt.Sprintf("flood_limits[%d]", i), "overlaps flood_limits[%d] on %s: windows must not overlap", j-1, md)
					break
				}
				days[d+1] = i + 1
			}
		}
	}
	lo, hi := MinLevel, MaxLevel
	if x, ok := p["level_min"].(float64); ok {
		lo = x
	}
	if x, ok := p["level_max"].(float64); ok {
		hi = x
	}
	inRange := func(field string, x float64) {
		if x < MinLevel || x > MaxLevel {
			bad(field, "%g m is not a possible level (%g to %g m)", x, MinLevel, MaxLevel)
		} else if x < lo || x > hi {
			bad(field, "%g m is outside the gauge's range level_min..level_max (%g to %g m)", x, lo, hi)
		}
	}
	if x, ok := p["level_min"].(float64); ok && (x < MinLevel || x > MaxLevel) {
		bad("level_min", "%g m is not a possible level (%g to %g m)", x, MinLevel, MaxLevel)
	}
	if x, ok := p["level_max"].(float64); ok && (x < MinLevel || x > MaxLevel) {
		bad("level_max", "%g m is not a possible level (%g to %g m)", x, MinLevel, MaxLevel)
	}
	if lo >= hi {
		bad("level_min", "must be below level_max")
	}
	for i, w := range windows {
		inRange(fmt.Sprintf("flood_limits[%d].level", i), w.Level)
	}
	for _, k := range []string{"warning_level", "guaranteed_level"} {
		if x, ok := p[k].(float64); ok {
			inRange(k, x)
		}
	}
	if n, ok := p["report_interval_min"].(float64); ok && (n < 1 || n > MaxReportIntervalMin) {
		bad("report_interval_min", "must be 1 to %d minutes", MaxReportIntervalMin)
	}
	if x, ok := p["max_rise_m_per_h"].(float64); ok && (x <= 0 || x > MaxRiseLimit) {
		bad("max_rise_m_per_h", "must be above 0 and at most %g m/h", MaxRiseLimit)
	}
	if x, ok := p["deadband_m"].(float64); ok && (x < 0 || x > MaxDeadband) {
		bad("deadband_m", "must be 0 to %g m", MaxDeadband)
	}
	slices.SortFunc(errs, func(a, b FieldError) int {
		if a.Field < b.Field {
			return -1
		}
		if a.Field > b.Field {
			return 1
		}
		return 0
	})
	return errs
}

// dayOfLeapYear returns the month-day of day n (1 to 366) of a leap year.
func dayOfLeapYear(n int) MonthDay {
	t := time.Date(2024, 1, n, 0, 0, 0, 0, time.UTC)
	return MonthDay{t.Month(), t.Day()}
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
