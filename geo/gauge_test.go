package geo

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func gaugeFeature(props map[string]any) *Feature {
	p := map[string]any{"name": "测试水库", "kind": "reservoir", "location_source": "test"}
	for k, v := range props {
		p[k] = v
	}
	return &Feature{ID: "g1", Properties: p}
}

func window(start, end string, level float64, period string) map[string]any {
	return map[string]any{"start": start, "end": end, "level": level, "period": period}
}

func TestGaugeValidate(t *testing.T) {
	sc, err := SchemaFor(Gauges)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		props map[string]any
		field string // "" = valid
	}{
		{"minimal", nil, ""},
		{"null limits", map[string]any{"flood_limits": nil, "warning_level": nil}, ""},
		{"seasonal windows", map[string]any{"flood_limits": []any{
			window("06-01", "07-15", 120.5, "transition"), window("07-16", "08-31", 119.8, "main"), window("09-01", "09-30", 120.5, "post")}}, ""},
		{"window across new year", map[string]any{"flood_limits": []any{window("11-01", "02-28", 121, "post"), window("06-01", "08-31", 119, "main")}}, ""},
		{"overlap", map[string]any{"flood_limits": []any{window("06-01", "07-31", 120, "main"), window("07-31", "08-31", 119, "main")}}, "properties.flood_limits[1]"},
		{"overlap across new year", map[string]any{"flood_limits": []any{window("12-01", "01-31", 120, "post"), window("01-15", "02-01", 119, "post")}}, "properties.flood_limits[1]"},
		{"bad month-day", map[string]any{"flood_limits": []any{window("6-1", "07-31", 120, "main")}}, "properties.flood_limits[0].start"},
		{"no such day", map[string]any{"flood_limits": []any{window("06-01", "06-31", 120, "main")}}, "properties.flood_limits[0].end"},
		{"Feb 29 is a day", map[string]any{"flood_limits": []any{window("02-29", "02-29", 120, "main")}}, ""},
		{"bad period", map[string]any{"flood_limits": []any{window("06-01", "06-30", 120, "pre")}}, "properties.flood_limits[0].period"},
		{"impossible level", map[string]any{"warning_level": 12000.0}, "properties.warning_level"},
		{"limit outside range", map[string]any{"level_min": 100.0, "level_max": 130.0, "guaranteed_level": 131.0}, "properties.guaranteed_level"},
		{"min above max", map[string]any{"level_min": 130.0, "level_max": 100.0}, "properties.level_min"},
		{"zero interval", map[string]any{"report_interval_min": 0.0}, "properties.report_interval_min"},
		{"negative rise", map[string]any{"max_rise_m_per_h": -0.5}, "properties.max_rise_m_per_h"},
		{"negative deadband", map[string]any{"deadband_m": -0.01}, "properties.deadband_m"},
		{"deadband over a metre", map[string]any{"deadband_m": 1.5}, "properties.deadband_m"},
		{"bad kind", map[string]any{"kind": "lake"}, "properties.kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sc.Validate(gaugeFeature(tt.props))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			e := AsError(err)
			if e == nil || e.Kind != Invalid || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Fatalf("Validate = %v, want Invalid naming %s", err, tt.field)
			}
		})
	}
}

func TestFloodLimitAt(t *testing.T) {
	f := gaugeFeature(map[string]any{"flood_limits": []any{
		window("06-01", "07-15", 120.5, "transition"), window("07-16", "08-31", 119.8, "main"), window("11-01", "01-31", 121, "post")}})
	g, err := GaugeOf(f)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at    time.Time
		level float64
		ok    bool
	}{
		{time.Date(2024, 8, 18, 10, 0, 0, 0, ChinaTime), 119.8, true},
		{time.Date(2024, 7, 15, 23, 59, 0, 0, ChinaTime), 120.5, true},
		// 16:30 UTC on 15 July is 00:30 on the 16th in China.
		{time.Date(2024, 7, 15, 16, 30, 0, 0, time.UTC), 119.8, true},
		{time.Date(2024, 9, 1, 0, 0, 0, 0, ChinaTime), 0, false},
		{time.Date(2025, 1, 10, 0, 0, 0, 0, ChinaTime), 121, true},
		{time.Date(2024, 12, 31, 12, 0, 0, 0, ChinaTime), 121, true},
	}
	for _, tt := range tests {
		w, ok := g.FloodLimitAt(tt.at)
		if ok != tt.ok || w.Level != tt.level {
			t.Errorf("FloodLimitAt(%v) = %v, %v, want level %v, %v", tt.at, w, ok, tt.level, tt.ok)
		}
	}
}

func FuzzParseMonthDay(f *testing.F) {
	for _, s := range []string{"06-01", "02-29", "12-31", "13-01", "+1-01", "00-00", "1-1", "06-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		md, err := ParseMonthDay(s)
		if err != nil {
			return
		}
		if md.String() != s {
			t.Fatalf("ParseMonthDay(%q) = %v, which prints as %q", s, md, md.String())
		}
		if n := md.ordinal(); n < 1 || n > 366 || dayOfLeapYear(n) != md {
			t.Fatalf("ParseMonthDay(%q): ordinal %d does not round-trip", s, n)
		}
	})
}

func ExampleGauge_FloodLimitAt() {
	f := &Feature{ID: "yinmakeng", Properties: map[string]any{
		"name": "饮马坑水库", "kind": "reservoir", "location_source": "example",
		"flood_limits": []any{
			map[string]any{"start": "06-01", "end": "07-15", "level": 150.0, "period": "transition"},
			map[string]any{"start": "07-16", "end": "08-31", "level": 149.5, "period": "main"},
		},
	}}
	g, _ := GaugeOf(f)
	w, _ := g.FloodLimitAt(time.Date(2024, 8, 18, 9, 0, 0, 0, ChinaTime))
	fmt.Println(w.Start, w.End, w.Level, PeriodTitleZH(w.Period))
	// Output: 07-16 08-31 149.5 主汛期
}

func TestGaugeOfRejectsOtherFeatures(t *testing.T) {
	_, err := GaugeOf(&Feature{ID: "x", Properties: map[string]any{"name": "x"}})
	if KindOf(err) != Invalid || !strings.Contains(err.Error(), "kind") {
		t.Fatalf("GaugeOf(not a gauge) = %v, want Invalid naming kind", err)
	}
}
