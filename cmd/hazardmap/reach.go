package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"hazardmap/geo"
)

// reachConfig is what `hazardmap reach` is told besides the store flags.
type reachConfig struct {
	maxDistanceM float64
	collections  string
	ready        string
	category     string
	csv          bool
}

// reachSettings are the flags of `hazardmap reach` (settings() lists them
// with the others, so `hazardmap help` documents them).
func reachSettings() []setting {
	cmd := []string{"reach"}
	return []setting{
		{"max-distance-m", "", "3000", "the threshold in metres (ellipsoidal distance) a hazard's depot must be within", cmd,
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				d, err := strconv.ParseFloat(def, 64)
				if err != nil {
					return fmt.Errorf("--%s default %q: %w", name, def, err)
				}
				fs.Float64Var(&c.reach.maxDistanceM, name, d, help)
				return nil
			}},
		{"collections", "", strings.Join(geo.HazardCollections(), ","), "the hazard collections to check, comma-separated", cmd,
			str(func(c *config) *string { return &c.reach.collections })},
		{"ready", "", "true", "true counts only depots the readiness rules find ready; false only unready ones; any every depot", cmd,
			str(func(c *config) *string { return &c.reach.ready })},
		{"category", "", "", "only depots stocking this category (flood, fire, relief, other); empty for any", cmd,
			str(func(c *config) *string { return &c.reach.category })},
		{"csv", "", "false", "write CSV (UTF-8 with BOM, for Excel) instead of a table", cmd,
			func(fs *flag.FlagSet, c *config, name, def, help string) error {
				fs.BoolVar(&c.reach.csv, name, false, help)
				return nil
			}},
	}
}

// query turns the flags into a reach query, with the API's checks.
func (rc reachConfig) query() (geo.ReachQuery, error) {
	q := geo.ReachQuery{MaxDistanceM: rc.maxDistanceM, Filter: geo.DepotFilter{Category: rc.category}}
	var err error
	if q.Collections, err = geo.ParseHazardCollections(rc.collections); err != nil {
		return q, err
	}
	if q.Filter.Ready, err = geo.ParseReady(rc.ready); err != nil {
		return q, err
	}
	return q, q.Check()
}

// reachCmd prints the reach report: for every hazard, the nearest depot
// that the flags' filter keeps, its distance, within or beyond the
// threshold, and the nearer depots passed over and why. Like serve, it
// migrates a PostGIS database and seeds collections never seeded before
// (--seed), so that it works on a fresh store.
func reachCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, rest, err := parse("reach", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		fmt.Fprintln(stderr, "usage: hazardmap reach [--max-distance-m 3000] [--collections ...] [--ready true|false|any] [--category C] [--csv]")
		return errUsage
	}
	q, err := c.reach.query()
	if err != nil {
		return fmt.Errorf("reach: %w", err)
	}
	store, log, err := openMigrated(ctx, c, stderr)
	if err != nil {
		return fmt.Errorf("reach: %w", err)
	}
	defer store.Close()
	if c.seed {
		if err := seed(ctx, store, log); err != nil {
			return fmt.Errorf("reach: %w", err)
		}
	}
	var rep *geo.ReachReport
	err = store.Read(ctx, func(v geo.View) (err error) {
		rep, err = geo.ReadReach(ctx, v, q)
		return err
	})
	if err != nil {
		return fmt.Errorf("reach: %w", err)
	}
	if c.reach.csv {
		return writeReachCSV(stdout, rep)
	}
	return writeReachTable(stdout, rep)
}

// Chinese labels of the report.
var (
	resultZH = map[string]string{geo.ReachWithin: "范围内", geo.ReachBeyond: "超出范围", geo.ReachUnlocated: "无位置", geo.ReachNoDepot: "无合格仓库"}
	kindZH   = map[string]string{geo.WaterloggingPoints: "积水点", geo.RelocationSites: "河道搬迁点"}
	whyZH    = map[string]string{geo.WhyNotReady: "未就绪", geo.WhyWrongCategory: "类别不符"}
)

// filterText describes the depot filter of a report.
func filterText(f geo.DepotFilter) string {
	ready := "任何状态 any readiness"
	if f.Ready != nil && *f.Ready {
		ready = "已就绪 ready"
	} else if f.Ready != nil {
		ready = "未就绪 not ready"
	}
	cat := "任何类别 any category"
	if f.Category != "" {
		cat = "类别 category " + f.Category
	}
	return ready + ", " + cat
}

// Column widths of the table, in terminal columns.
const (
	colResult = 10
	colKind   = 10
	colID     = 28
	colName   = 34
	colDepot  = 34
)

// writeReachTable writes rep as an aligned table: one line per hazard,
// then one indented line per depot passed over, then the summary. Names
// are padded by display width (CJK characters take two columns) and cut
// with "…" where they would break the alignment.
func writeReachTable(w io.Writer, rep *geo.ReachReport) error {
	ew := &errWriter{w: w}
	ew.printf("荥阳市 隐患点最近合格应急仓库  Reach of every hazard to its nearest qualifying depot\n")
	ew.printf("阈值 threshold %s m；仓库条件 depots: %s；距离为WGS-84椭球面距离 ellipsoidal distance\n\n",
		formatMetres(rep.Query.MaxDistanceM), filterText(rep.Query.Filter))
	ew.line("%s %s %s %s %s %s %s", padRight("结果", colResult), padRight("类别", colKind), padRight("编号 id", colID),
		padRight("名称 name", colName), padRight("最近合格仓库 depot", colDepot), padLeft("距离(米)", 12), padLeft("误差±(米)", 12))
	ew.line("%s", strings.Repeat("-", colResult+colKind+colID+colName+colDepot+12+12+6))
	for _, h := range rep.Hazards {
		depot, dist, margin, result := "—", "", "", resultZH[h.Result]
		if h.Depot != nil {
			depot, dist, margin = h.Depot.Name, formatMetres(h.Depot.DistanceM), marginText(h)
		}
		if h.Uncertain {
			result += "*"
		}
		ew.line("%s %s %s %s %s %s %s", padRight(result, colResult), padRight(kindZH[h.Collection], colKind),
			padRight(h.ID, colID), padRight(h.Name, colName), padRight(depot, colDepot), padLeft(dist, 12), padLeft(margin, 12))
		for _, s := range h.Skipped {
			var reasons []string
			for _, r := range s.Reasons {
				reasons = append(reasons, r.DetailZH)
			}
			ew.line("%s↳ 跳过 %s（%s）%s 米，%s：%s", strings.Repeat(" ", colResult+1), s.Name, s.ID,
				formatMetres(s.DistanceM), whyZH[s.Why], strings.Join(reasons, "；"))
		}
	}
	sm := rep.Summary
	ew.line("")
	ew.line("共 %d 处 hazards：范围内 within %d，超出范围 beyond %d，无位置 unlocated %d，无合格仓库 no depot %d",
		sm.Hazards, sm.Within, sm.Beyond, sm.Unlocated, sm.NoDepot)
	if sm.Uncertain > 0 {
		ew.line("* %d 处结果不确定 uncertain：隐患点与仓库的定位误差之和（误差±列）足以使结果翻转，或误差不明。", sm.Uncertain)
		ew.line("  多数仓库只知所在乡镇，点位为乡镇驻地替代点，误差覆盖全乡；请应急局或乡镇提供实测地址。")
		ew.line("  The stated location precision of hazard + depot could turn the result round (most depots stand on")
		ew.line("  their township seat with a radius covering the township until their addresses are surveyed).")
	}
	return ew.err
}

// marginText is the combined location precision of a hazard and its depot,
// "?" when either is unknown.
func marginText(h geo.HazardReach) string {
	if h.PrecisionM == nil || h.Depot == nil || h.Depot.PrecisionM == nil {
		return "?"
	}
	return formatMetres(*h.PrecisionM + *h.Depot.PrecisionM)
}

// writeReachCSV writes rep as CSV, one row per hazard, UTF-8 with a byte
// order mark so that Excel reads the Chinese correctly.
func writeReachCSV(w io.Writer, rep *geo.ReachReport) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("reach: %w", err)
	}
	cw := csv.NewWriter(w)
	rows := [][]string{{"collection", "id", "name", "kind", "located", "result", "depot_id", "depot_name", "distance_m", "depot_ready",
		"skipped", "skipped_reasons_zh", "max_distance_m", "uncertain", "hazard_precision_m", "depot_precision_m"}}
	precision := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, h := range rep.Hazards {
		row := []string{h.Collection, h.ID, h.Name, h.Kind, strconv.FormatBool(h.Located), h.Result, "", "", "", "", "", "",
			strconv.FormatFloat(rep.Query.MaxDistanceM, 'f', -1, 64), strconv.FormatBool(h.Uncertain), precision(h.PrecisionM), ""}
		if h.Depot != nil {
			row[6], row[7] = h.Depot.ID, h.Depot.Name
			row[8], row[9] = strconv.FormatFloat(round2(h.Depot.DistanceM), 'f', 2, 64), strconv.FormatBool(h.Depot.Ready)
			row[15] = precision(h.Depot.PrecisionM)
		}
		var skipped, reasons []string
		for _, s := range h.Skipped {
			skipped = append(skipped, fmt.Sprintf("%s (%.2f m, %s)", s.ID, round2(s.DistanceM), s.Why))
			var zh []string
			for _, r := range s.Reasons {
				zh = append(zh, r.DetailZH)
			}
			reasons = append(reasons, s.Name+"："+strings.Join(zh, "，"))
		}
		row[10], row[11] = strings.Join(skipped, "; "), strings.Join(reasons, "；")
		rows = append(rows, row)
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// round2 rounds to the centimetre, as the API does.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// formatMetres writes a distance with 2 decimals and thousands separators.
func formatMetres(x float64) string {
	s := strconv.FormatFloat(round2(x), 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
		if e.err != nil {
			e.err = fmt.Errorf("reach: %w", e.err)
		}
	}
}

// line writes one line without trailing spaces.
func (e *errWriter) line(format string, args ...any) {
	e.printf("%s\n", strings.TrimRight(fmt.Sprintf(format, args...), " "))
}

// runeWidth returns how many terminal columns r takes: 2 for East Asian
// wide and fullwidth characters (CJK ideographs, kana, hangul, fullwidth
// forms such as （）and ，), 0 for combining marks, else 1.
func runeWidth(r rune) int {
	switch {
	case r == 0 || r < 32 || (r >= 0x7f && r < 0xa0):
		return 0
	case r >= 0x300 && r <= 0x36f: // combining diacritics
		return 0
	case r >= 0x1100 && r <= 0x115f, // hangul jamo
		r >= 0x2e80 && r <= 0x303e, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33ff, // kana, CJK symbols
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified ideographs
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xac00 && r <= 0xd7a3, // hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // fullwidth forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x20000 && r <= 0x3fffd: // CJK extensions B and beyond
		return 2
	}
	return 1
}

// displayWidth returns how many terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// fit cuts s to at most w columns, ending it with "…" when cut.
func fit(s string, w int) string {
	if displayWidth(s) <= w {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := runeWidth(r)
		if used+rw > w-1 {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	return b.String() + "…"
}

// padRight fits s into w columns and pads it with spaces on the right.
func padRight(s string, w int) string {
	s = fit(s, w)
	return s + strings.Repeat(" ", w-displayWidth(s))
}

// padLeft fits s into w columns and pads it with spaces on the left.
func padLeft(s string, w int) string {
	s = fit(s, w)
	return strings.Repeat(" ", w-displayWidth(s)) + s
}
