package sheet

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong in a file: where, and what in Chinese and
// English.
type Problem struct {
	// Row is the sheet row (1 = the header row) as Excel numbers it; 0
	// when the problem is the file's as a whole.
	Row int
	// Column is the column's Chinese title, "" when the problem is not
	// about one column.
	Column string
	// Key is the column's key ("duty_unit"), "" as Column.
	Key string
	// ZH and EN say what is wrong.
	ZH, EN string
}

// String returns the problem in Chinese: "第12行 责任单位列：…".
func (p Problem) String() string {
	var b strings.Builder
	if p.Row > 0 {
		fmt.Fprintf(&b, "第%d行 ", p.Row)
	}
	if p.Column != "" {
		fmt.Fprintf(&b, "%s列", p.Column)
	}
	if b.Len() > 0 {
		return strings.TrimSpace(b.String()) + "：" + p.ZH
	}
	return p.ZH
}

// English returns the problem in English: "row 12, column 责任单位
// (duty_unit): …".
func (p Problem) English() string {
	var where []string
	if p.Row > 0 {
		where = append(where, fmt.Sprintf("row %d", p.Row))
	}
	if p.Column != "" {
		c := "column " + p.Column
		if p.Key != "" && p.Key != p.Column {
			c += " (" + p.Key + ")"
		}
		where = append(where, c)
	}
	if len(where) > 0 {
		return strings.Join(where, ", ") + ": " + p.EN
	}
	return p.EN
}

// FileError is a file that cannot be read as a sheet of the collection at
// all: undecodable, over a limit, or with headers that are not its
// columns. Nothing of it is planned.
type FileError struct {
	Problems []Problem
}

func (e *FileError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		lines = append(lines, p.String()+" / "+p.English())
	}
	return "sheet: " + strings.Join(lines, "; ")
}

func fileError(row int, zh, en string, args ...any) *FileError {
	return &FileError{Problems: []Problem{{Row: row, ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)}}}
}
