// Package readingcsv reads water-level readings from a CSV file as
// planners keep them in Excel: UTF-8 (with or without the byte-order mark
// Excel's "CSV UTF-8" writes) or GBK/GB18030 (what "CSV" writes on a
// Chinese Windows), a header row naming the columns in English or
// Chinese, times as RFC 3339 or as Excel shows them in China time.
//
// Parse checks the shape of every row and reports every bad row (up to
// geo.MaxFieldErrors) by its line number, so that a planner can fix the
// file in one go; what the store checks against the gauges (levels,
// duplicates) comes back naming readings[i], which Result.Lines maps to
// lines too (Result.Locate).
package readingcsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"hazardmap/geo"
)

// MaxBytes caps the file: 250 000 rows (geo.MaxReadingsImport) of a
// gauge id, a time and a level fit in well under it.
const MaxBytes = 32 << 20

// Columns and the header names each is known by (compared without case
// and surrounding space).
var columns = map[string][]string{
	"gauge_id": {"gauge_id", "gauge", "station", "stcd", "站码", "测站编码", "水位站", "测站"},
	"at":       {"at", "time", "datetime", "tm", "时间", "观测时间", "日期时间"},
	"level":    {"level", "z", "rz", "water_level", "水位", "水位(米)", "水位（米）", "水位(m)", "水位（m）"},
	"note":     {"note", "备注"},
}

// Options says what the file cannot: the gauge of a file without a
// gauge_id column, and the source of its readings.
type Options struct {
	// Gauge is the gauge of every row when the file has no gauge_id
	// column; rows that name another gauge are errors.
	Gauge string
	// Source is the Reading.Source of every row; geo.ReadingImport when
	// empty.
	Source string
}

// Result is a parsed file.
type Result struct {
	// Readings are the rows, in file order.
	Readings []geo.Reading
	// Lines[i] is the line number (1-based, the header is line 1) of
	// Readings[i].
	Lines []int
	// Encoding is "UTF-8" or "GB18030" (GBK's superset), as detected.
	Encoding string
}

// Parse reads the CSV r (at most MaxBytes). Every error is a *geo.Error:
// Invalid with one field error per bad cell, named "lines[N].column"
// (N the line number) or "file" / "header" for the whole file.
func Parse(r io.Reader, opt Options) (Result, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return Result{}, &geo.Error{Kind: geo.Invalid, Message: "cannot read the file", Err: err,
			Fields: []geo.FieldError{{Field: "file", Detail: "could not be read completely"}}}
	}
	if len(raw) > MaxBytes {
		return Result{}, geo.InvalidField("file", "larger than %d MiB: split it (one gauge's season per file)", MaxBytes>>20)
	}
	res := Result{Encoding: "UTF-8"}
	raw = bytes.TrimPrefix(raw, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(raw) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(raw)
		if err != nil || !utf8.Valid(dec) {
			return Result{}, geo.InvalidField("file", "neither UTF-8 nor GBK/GB18030 text")
		}
		raw, res.Encoding = dec, "GB18030"
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return Result{}, geo.InvalidField("file", "contains the NUL character: not a text file")
	}
	source := opt.Source
	if source == "" {
		source = geo.ReadingImport
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return Result{}, geo.InvalidField("header", "want a header row naming the columns gauge_id (站码), at (时间), level (水位) and note (备注): %s", csvDetail(err))
	}
	idx, err := header(head, opt.Gauge)
	if err != nil {
		return Result{}, err
	}
	var errs []geo.FieldError
	bad := func(line int, col, format string, args ...any) {
		errs = append(errs, geo.FieldError{Field: fmt.Sprintf("lines[%d].%s", line, col), Detail: fmt.Sprintf(format, args...)})
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A broken quote: the rest of the file cannot be trusted.
			var pe *csv.ParseError
			line := 0
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			bad(line, "row", "%s", csvDetail(err))
			break
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(res.Readings) == geo.MaxReadingsImport {
			return Result{}, geo.InvalidField("file", "more than %d readings: split it", geo.MaxReadingsImport)
		}
		cell := func(col string) string {
			if i, ok := idx[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		r := geo.Reading{GaugeID: opt.Gauge, Source: source, Note: cell("note")}
		if _, ok := idx["gauge_id"]; ok {
			g := cell("gauge_id")
			switch {
			case g == "":
				bad(line, "gauge_id", "empty")
			case opt.Gauge != "" && g != opt.Gauge:
				bad(line, "gauge_id", "%q, but this file is for gauge %q", g, opt.Gauge)
			}
			r.GaugeID = g
		}
		at, err := ParseTime(cell("at"))
		if err != nil {
			bad(line, "at", "%s", err)
		}
		r.At = at
		lv, err := parseLevel(cell("level"))
		if err != nil {
			bad(line, "level", "%s", err)
		}
		r.Level = lv
		res.Readings = append(res.Readings, r)
		res.Lines = append(res.Lines, line)
		if len(errs) >= geo.MaxFieldErrors {
			errs = append(errs, geo.FieldError{Field: "file", Detail: fmt.Sprintf("more errors after line %d not listed", line)})
			break
		}
	}
	if len(errs) > 0 {
		return Result{}, &geo.Error{Kind: geo.Invalid, Message: "invalid CSV of readings", Fields: errs}
	}
	return res, nil
}

// header maps the columns to their indexes: at and level are required,
// and gauge_id unless gauge is given.
func header(head []string, gauge string) (map[string]int, error) {
	idx := map[string]int{}
	var errs []geo.FieldError
	for i, h := range head {
		name := strings.ToLower(strings.TrimSpace(h))
		for col, names := range columns {
			for _, n := range names {
				if name == strings.ToLower(n) {
					if _, dup := idx[col]; dup {
						errs = append(errs, geo.FieldError{Field: "header", Detail: fmt.Sprintf("two %s columns", col)})
					}
					idx[col] = i
				}
			}
		}
	}
	need := []string{"at", "level"}
	if gauge == "" {
		need = append(need, "gauge_id")
	}
	for _, col := range need {
		if _, ok := idx[col]; !ok {
			errs = append(errs, geo.FieldError{Field: "header", Detail: fmt.Sprintf("no %s column (call it one of %s)", col, strings.Join(columns[col], ", "))})
		}
	}
	if len(errs) > 0 {
		return nil, &geo.Error{Kind: geo.Invalid, Message: "invalid CSV header", Fields: errs}
	}
	return idx, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// csvDetail returns what encoding/csv found, without the line (the field
// name has it).
func csvDetail(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// localLayouts are the ways Excel and people write a time without a zone;
// it is China time.
var localLayouts = []string{
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006/1/2 15:04:05", "2006/1/2 15:04", "2006-1-2 15:04:05", "2006-1-2 15:04",
}

var fractional = regexp.MustCompile(`^(.*:\d\d)(\.\d{1,9})$`)

// ParseTime reads a reading's time: RFC 3339 (with its offset), or one of
// the layouts Excel shows ("2024-08-18 09:00", "2024/8/18 9:00:00"), taken
// as China time (UTC+8), with optional fractional seconds.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty: want a time such as 2024-08-18 09:00 (China time) or 2024-08-18T09:00:00+08:00")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	base, frac := s, ""
	if strings.Contains(s, ".") {
		m := fractional.FindStringSubmatch(s)
		if m == nil {
			return time.Time{}, notTime(s)
		}
		base, frac = m[1], m[2]
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, base, geo.ChinaTime); err == nil {
			if frac != "" {
				f, _ := strconv.ParseFloat("0"+frac, 64)
				t = t.Add(time.Duration(math.Round(f * 1e9)))
			}
			return t, nil
		}
	}
	return time.Time{}, notTime(s)
}

func notTime(s string) error {
	return fmt.Errorf("%q is not a time: want 2024-08-18 09:00 (China time) or 2024-08-18T09:00:00+08:00", s)
}

// parseLevel reads a level in metres: a decimal number (a "m" or "米"
// after it is allowed).
func parseLevel(s string) (float64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "米"), "m"))
	if t == "" {
		return 0, errors.New("empty: want the level in metres, e.g. 149.65")
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%q is not a number of metres", s)
	}
	return x, nil
}

var readingsField = regexp.MustCompile(`^readings\[(\d+)\]`)

// Locate returns err with every field "readings[i]…" (as the stores name
// the readings of an import) renamed "lines[N]…" after the line of
// Readings[i], so that the report speaks of the file.
func (res Result) Locate(err error) error {
	e := geo.AsError(err)
	if e == nil {
		return err
	}
	out := *e
	out.Fields = make([]geo.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if m := readingsField.FindStringSubmatch(f.Field); m != nil {
			if j, _ := strconv.Atoi(m[1]); j < len(res.Lines) {
				f.Field = fmt.Sprintf("lines[%d]", res.Lines[j]) + f.Field[len(m[0]):]
			}
		}
		out.Fields[i] = f
	}
	return &out
}
