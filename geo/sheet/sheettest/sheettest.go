// Package sheettest edits exported spreadsheets in tests as a planner
// would in Excel: the round-trip tests of the command line and of the API
// share it.
package sheettest

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Edit returns the xlsx export b with cells of its sheet c changed:
// edits maps {id, key} to a value, where id is the row's 编号 and key the
// column's key (the text in the last parentheses of its header); the id
// "" adds a row after the last. Values are written as Excel would store
// them (a number as a number).
func Edit(t testing.TB, b []byte, c string, edits map[[2]string]any) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(c)
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h[strings.LastIndex(h, "(")+1:len(h)-1]] = i + 1
	}
	for k, v := range edits {
		row := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == k[0] })
		if k[0] == "" {
			row = len(rows) // a new row after the last
		}
		if row < 0 || col[k[1]] == 0 {
			t.Fatalf("no row %q or column %q", k[0], k[1])
		}
		cell, _ := excelize.CoordinatesToCellName(col[k[1]], row+1)
		if err := f.SetCellValue(c, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
