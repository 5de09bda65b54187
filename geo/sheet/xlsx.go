package sheet

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"hazardmap/geo"
)

// explainSheet is the name of the second sheet of an export: what each
// column holds and how to write it. Imports read only the data sheet.
const explainSheet = "说明"

// XLSXEncoder writes a collection as an Excel workbook: a sheet named
// after the collection with a frozen, bold header row and one row per
// feature (numbers as numbers, booleans as booleans, phone numbers as
// text so that a leading 0 survives editing, lists wrapped on several
// lines), then a sheet 说明 explaining every column. Rows stream through
// excelize's StreamWriter, which keeps them in a temporary file once
// they outgrow its buffer; Close writes the workbook to w.
type XLSXEncoder struct {
	w      io.Writer
	f      *excelize.File
	sw     *excelize.StreamWriter
	sc     *geo.Schema
	role   geo.Role
	cols   []Column
	row    int
	styles map[cellKind]int
}

// NewXLSXEncoder returns an encoder of features of sc, as role may see
// them, to w.
func NewXLSXEncoder(w io.Writer, sc *geo.Schema, role geo.Role) (*XLSXEncoder, error) {
	e := &XLSXEncoder{w: w, f: excelize.NewFile(), sc: sc, role: role, cols: Columns(sc, role), row: 1, styles: map[cellKind]int{}}
	if err := e.start(); err != nil {
		_ = e.f.Close()
		return nil, fmt.Errorf("sheet: start workbook: %w", err)
	}
	return e, nil
}

func (e *XLSXEncoder) start() error {
	if err := e.f.SetSheetName("Sheet1", e.sc.ID); err != nil {
		return err
	}
	top := &excelize.Alignment{Vertical: "top"}
	wrap := &excelize.Alignment{Vertical: "top", WrapText: true}
	// In a fixed order, so that the same features always give the same
	// bytes (the API's strong ETag says so).
	for _, ks := range []struct {
		kind  cellKind
		style *excelize.Style
	}{
		{textCell, &excelize.Style{Alignment: top}},
		{numberCell, &excelize.Style{Alignment: top}},
		{boolCell, &excelize.Style{Alignment: top}},
		{listCell, &excelize.Style{Alignment: wrap}},
		{phoneCell, &excelize.Style{Alignment: top, NumFmt: 49}}, // "@": text, keeps leading zeros
	} {
		id, err := e.f.NewStyle(ks.style)
		if err != nil {
			return err
		}
		e.styles[ks.kind] = id
	}
	header, err := e.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: wrap,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE5F0"}}})
	if err != nil {
		return err
	}
	// Printed (or rendered to PDF): landscape A3 at 60 %, so that a page
	// holds a dozen columns at a readable size.
	landscape, a3, scale := "landscape", 8, uint(60)
	if err := e.f.SetPageLayout(e.sc.ID, &excelize.PageLayoutOptions{Orientation: &landscape, Size: &a3, AdjustTo: &scale}); err != nil {
		return err
	}
	// The data sheet is the one a reader opens on. Said now, before its
	// rows stream: afterwards excelize would parse the whole streamed
	// sheet back into memory to mark it (two thirds of an export's
	// allocations at 10 000 rows).
	e.f.SetActiveSheet(0)
	if e.sw, err = e.f.NewStreamWriter(e.sc.ID); err != nil {
		return err
	}
	for i, c := range e.cols {
		width := 14.0
		switch {
		case kindOf(c) == listCell || c.Key == "location_source" || c.Key == "note":
			width = 48
		case c.Key == "name" || c.Key == KeyID || c.Key == KeyWKT:
			width = 26
		}
		if err := e.sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
		if kindOf(c) == phoneCell {
			if err := e.sw.SetColStyle(i+1, i+1, e.styles[phoneCell]); err != nil {
				return err
			}
		}
	}
	if err := e.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	hs := make([]any, len(e.cols))
	for i, c := range e.cols {
		hs[i] = excelize.Cell{StyleID: header, Value: c.Header()}
	}
	return e.sw.SetRow("A1", hs, excelize.RowOpts{Height: 30})
}

// Encode writes f as the next row, without what the role may not see.
func (e *XLSXEncoder) Encode(f *geo.Feature) error {
	cs := cells(e.cols, e.sc.Redact(f, e.role))
	vals := make([]any, len(cs))
	lines := 1
	for i, c := range cs {
		if c.kind == listCell {
			lines = max(lines, strings.Count(c.text, "\n")+1)
		}
		x := excelize.Cell{StyleID: e.styles[c.kind]}
		switch {
		case c.text == "":
		case c.kind == numberCell:
			x.Value = c.num
		case c.kind == boolCell:
			x.Value = c.b
		default:
			x.Value = c.text
		}
		vals[i] = x
	}
	e.row++
	cell, err := excelize.CoordinatesToCellName(1, e.row)
	if err == nil {
		// Rows as tall as their lists (up to 8 lines), so that wrapped
		// cells neither overlap nor hide everything but their first line.
		err = e.sw.SetRow(cell, vals, excelize.RowOpts{Height: float64(min(lines, 8)) * 15})
	}
	if err != nil {
		return fmt.Errorf("sheet: row %d (%s): %w", e.row, f.ID, err)
	}
	return nil
}

// Close finishes the data sheet, adds the explanation sheet and writes
// the workbook to w.
func (e *XLSXEncoder) Close() error {
	defer e.f.Close()
	if err := e.sw.Flush(); err != nil {
		return fmt.Errorf("sheet: flush rows: %w", err)
	}
	if err := e.explain(); err != nil {
		return fmt.Errorf("sheet: explanation sheet: %w", err)
	}
	if err := e.f.Write(e.w); err != nil {
		return fmt.Errorf("sheet: write workbook: %w", err)
	}
	return nil
}

// explain writes the 说明 sheet.
func (e *XLSXEncoder) explain() error {
	if _, err := e.f.NewSheet(explainSheet); err != nil {
		return err
	}
	rows := [][]any{
		{e.sc.TitleZH + " " + e.sc.TitleEN},
		{"每行一个要素。编号和版本用于导入时核对：导出后若有人改过该要素（版本变了），导入时该行报告为“过期”且不会覆盖他人的修改。"},
		{"One row per feature. id and version let an import check each row: a row whose feature changed since the export is reported stale and not applied."},
		{"空单元格表示空值（null）；列表每行一项；对象列表每行一项、各字段以“ | ”分隔；经纬度为WGS-84。删去的列在导入时保持原值。"},
		{"An empty cell is null; lists hold one item per line; object lists one object per line, members separated by \" | \"; lon/lat are WGS-84. Columns left out keep their values on import."},
		{},
		{"列 column", "键 key", "格式 format", "说明 description"},
	}
	for _, c := range e.cols {
		hint, desc := "", ""
		switch c.Key {
		case KeyID:
			hint, desc = "文本", "Feature id: keep it to update the feature; leave empty to add a new one."
		case KeyVersion:
			hint, desc = "整数", "The feature's version when exported; do not edit. Empty for new rows."
		case KeyLon, KeyLat:
			hint, desc = "数字（度）", "WGS-84 degrees (as GPS; not GCJ-02). Both empty: no location."
		case KeyWKT:
			hint, desc = "WKT", "A line or polygon in WGS-84 Well-Known Text; empty for points."
		default:
			hint, desc = FormatHint(*c.Prop), c.Prop.Description
			if c.Prop.ReadRole != "" {
				desc += " [" + string(c.Prop.ReadRole) + "+]"
			}
		}
		rows = append(rows, []any{c.Header(), c.Key, hint, desc})
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := e.f.SetSheetRow(explainSheet, cell, &r); err != nil {
			return err
		}
	}
	if err := e.f.SetColWidth(explainSheet, "A", "A", 30); err != nil {
		return err
	}
	return e.f.SetColWidth(explainSheet, "D", "D", 80)
}

// ReadXLSX reads an xlsx sheet of sc for role from r: the sheet named
// after the collection, or else the first sheet. At most MaxBytes are
// read, at most MaxUnzippedBytes unzipped and MaxRows rows. A file that
// cannot be read as a sheet of sc is a *FileError.
func ReadXLSX(r io.Reader, sc *geo.Schema, role geo.Role) (*Table, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBytes {
		return nil, fileError(0, "文件超过%d MiB的上限", "the file is over the limit of %d MiB", MaxBytes>>20)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: MaxUnzippedBytes, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return nil, fileError(0, "不是可读取的xlsx文件：%v", "not a readable xlsx file: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fileError(0, "工作簿中没有工作表", "the workbook has no sheet")
	}
	name := sheets[0]
	if slices.Contains(sheets, sc.ID) {
		name = sc.ID
	}
	rows, err := f.Rows(name)
	if err != nil {
		return nil, fileError(0, "无法读取工作表%s：%v", "cannot read sheet %s: %v", name, err)
	}
	defer rows.Close()
	var t *Table
	for line := 1; rows.Next(); line++ {
		if line > MaxRows {
			return nil, fileError(line, "超过%d行的上限（含表头）", "over the limit of %d rows (header included)", MaxRows)
		}
		rec, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fileError(line, "无法读取：%v", "cannot be read: %v", err)
		}
		for i := range rec {
			rec[i] = undefuse(rec[i])
		}
		if line == 1 {
			if t, err = newTable(sc, role, rec); err != nil {
				return nil, err
			}
			continue
		}
		if err := t.add(line, rec); err != nil {
			return nil, err
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fileError(0, "无法读取工作表%s：%v", "cannot read sheet %s: %v", name, err)
	}
	if t == nil {
		return nil, fileError(0, "工作表%s是空的：第1行应为表头", "sheet %s is empty: row 1 must be the header", name)
	}
	return t, nil
}
