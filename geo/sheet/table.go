package sheet

import (
	"fmt"
	"strings"

	"hazardmap/geo"
)

// Table is a sheet as read, before it is checked against the schema and
// the store (Plan does that).
type Table struct {
	Schema *geo.Schema
	// Role is whose sheet it is: only the columns it may see are accepted.
	Role geo.Role
	// Columns are the file's named columns, in file order.
	Columns []Column
	// Rows are the rows after the header that hold any text.
	Rows []Row
	// Encoding names how a CSV file was decoded: "UTF-8", "GBK" (read as
	// GB 18030, its superset) or "UTF-16"; "" for xlsx.
	Encoding string

	// index maps a file column to Columns (-1: a column without header).
	index    []int
	problems []Problem
	rows     int
}

// Row is one row of a Table.
type Row struct {
	// Line is the sheet row number, as Excel shows it (the header is 1).
	Line int
	// Cells are the row's texts by Table.Columns index, trimmed.
	Cells []string
}

// maxFileProblems caps the problems a FileError lists.
const maxFileProblems = 50

// newTable reads the header row of a sheet of sc for role.
func newTable(sc *geo.Schema, role geo.Role, header []string) (*Table, error) {
	t := &Table{Schema: sc, Role: role, rows: 1}
	all := Columns(sc, role)
	seen := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			t.index = append(t.index, -1)
			continue
		}
		c, ok := match(all, h)
		switch {
		case !ok:
			keys := make([]string, len(all))
			for i, c := range all {
				keys[i] = c.Header()
			}
			t.problem(1, h, "", "不是%s的列（可用的列：%s）", "is not a column of %s (columns: %s)", sc.ID, strings.Join(keys, "，"))
		case seen[c.Key] > 0:
			t.problem(1, c.Title, c.Key, "与第%s列重复", "repeats column %s", columnName(seen[c.Key]-1))
		}
		seen[c.Key] = i + 1
		t.index = append(t.index, len(t.Columns))
		t.Columns = append(t.Columns, c)
	}
	for _, k := range []Column{all[0], all[1]} {
		if seen[k.Key] == 0 {
			t.problem(1, "", "", "缺少%s列：导入按编号和导出时的版本核对每一行", "no %s column: rows are matched by id and checked against the version exported", k.Header())
		}
	}
	return t, t.err()
}

// add appends the cells of sheet row line.
func (t *Table) add(line int, cells []string) error {
	t.rows = line
	if line > MaxRows {
		return fileError(line, "超过%d行的上限（含表头）", "over the limit of %d rows (header included)", MaxRows)
	}
	row := Row{Line: line, Cells: make([]string, len(t.Columns))}
	blank := true
	for i, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		blank = false
		if i >= len(t.index) || t.index[i] < 0 {
			t.problem(line, columnName(i), "", "有内容但没有表头", "has text but no header")
			continue
		}
		row.Cells[t.index[i]] = c
	}
	if !blank {
		t.Rows = append(t.Rows, row)
	}
	return t.err()
}

func (t *Table) problem(row int, column, key, zh, en string, args ...any) {
	if len(t.problems) < maxFileProblems {
		t.problems = append(t.problems, Problem{Row: row, Column: column, Key: key, ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)})
	}
}

func (t *Table) err() error {
	if len(t.problems) > 0 {
		return &FileError{Problems: t.problems}
	}
	return nil
}

// Cell returns the text of row r in the column keyed key, and whether
// the file has that column.
func (t *Table) Cell(r Row, key string) (string, bool) {
	for i, c := range t.Columns {
		if c.Key == key {
			return r.Cells[i], true
		}
	}
	return "", false
}

// columnName returns the spreadsheet letter name of 0-based column i
// (A, B, …, Z, AA, …).
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}
