package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"hazardmap/geo"
)

// bom is the UTF-8 byte-order mark that tells Excel a CSV file is UTF-8.
const bom = "\uFEFF"

// CSVEncoder writes a collection as CSV: UTF-8 with a byte-order mark
// (Excel then reads the Chinese text right), CRLF line ends, the header
// row first (Columns). Text that a spreadsheet would take for a formula
// (starting with = + - @) is written after an apostrophe, which the
// readers of this package drop again.
type CSVEncoder struct {
	w    *csv.Writer
	raw  io.Writer
	cols []Column
	sc   *geo.Schema
	role geo.Role
	head bool
}

// NewCSVEncoder returns an encoder of features of sc, as role may see
// them, to w.
func NewCSVEncoder(w io.Writer, sc *geo.Schema, role geo.Role) *CSVEncoder {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSVEncoder{w: cw, raw: w, cols: Columns(sc, role), sc: sc, role: role}
}

func (e *CSVEncoder) header() error {
	if e.head {
		return nil
	}
	e.head = true
	if _, err := io.WriteString(e.raw, bom); err != nil {
		return err
	}
	hs := make([]string, len(e.cols))
	for i, c := range e.cols {
		hs[i] = c.Header()
	}
	return e.w.Write(hs)
}

// Encode writes f as one row, without what the encoder's role may not see.
func (e *CSVEncoder) Encode(f *geo.Feature) error {
	if err := e.header(); err != nil {
		return err
	}
	cs := cells(e.cols, e.sc.Redact(f, e.role))
	rec := make([]string, len(cs))
	for i, c := range cs {
		rec[i] = c.text
		if c.kind != numberCell && c.kind != boolCell {
			rec[i] = defuse(c.text)
		}
	}
	return e.w.Write(rec)
}

// Close writes the header if no feature was encoded and flushes.
func (e *CSVEncoder) Close() error {
	if err := e.header(); err != nil {
		return err
	}
	e.w.Flush()
	return e.w.Error()
}

// formulaStart reports whether a spreadsheet would read text starting
// with c as a formula.
func formulaStart(c byte) bool { return c == '=' || c == '+' || c == '-' || c == '@' }

// defuse puts an apostrophe before text a spreadsheet would run as a
// formula (CSV injection).
func defuse(s string) string {
	if s != "" && formulaStart(s[0]) {
		return "'" + s
	}
	return s
}

// undefuse drops the apostrophe defuse added.
func undefuse(s string) string {
	if len(s) > 1 && s[0] == '\'' && formulaStart(s[1]) {
		return s[1:]
	}
	return s
}

// ReadCSV reads a CSV sheet of sc for role from r: UTF-8 (with or without
// a byte-order mark), UTF-16 with a byte-order mark, or GBK (GB 18030,
// what Excel on Chinese Windows writes as "CSV"), separated by commas,
// tabs or semicolons (whichever the header row holds most of). At most
// MaxBytes are read and MaxRows rows. A file that cannot be read as a
// sheet of sc is a *FileError.
func ReadCSV(r io.Reader, sc *geo.Schema, role geo.Role) (*Table, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBytes {
		return nil, fileError(0, "文件超过%d MiB的上限", "the file is over the limit of %d MiB", MaxBytes>>20)
	}
	text, enc, err := decode(b)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = sniffComma(text)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var t *Table
	// line counts rows as a spreadsheet shows the file: one per record,
	// and one per blank line, which encoding/csv skips.
	line, end := 0, 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fileError(line+1, "不是有效的CSV（文件第%d行附近）：%v", "not valid CSV (near line %d of the file): %v", pe.StartLine, pe.Err)
			}
			return nil, err
		}
		start, _ := cr.FieldPos(0)
		line += start - end
		last, _ := cr.FieldPos(len(rec) - 1)
		end = last + strings.Count(rec[len(rec)-1], "\n")
		for i := range rec {
			rec[i] = undefuse(strings.TrimSpace(rec[i]))
		}
		if line == 1 {
			if t, err = newTable(sc, role, rec); err != nil {
				return nil, err
			}
			t.Encoding = enc
			continue
		}
		if err := t.add(line, rec); err != nil {
			return nil, err
		}
	}
	if t == nil {
		return nil, fileError(0, "文件是空的：第1行应为表头", "the file is empty: row 1 must be the header")
	}
	return t, nil
}

// decode returns the text of a CSV file and the name of its encoding.
func decode(b []byte) (string, string, error) {
	switch {
	case bytes.HasPrefix(b, []byte(bom)):
		if !utf8.Valid(b[len(bom):]) {
			return "", "", fileError(0, "文件标明为UTF-8，但含有无效的UTF-8字节", "the file says it is UTF-8 but holds bytes that are not")
		}
		return string(b[len(bom):]), "UTF-8", nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		u, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(b)
		if err != nil || bytes.ContainsRune(u, utf8.RuneError) {
			return "", "", fileError(0, "文件标明为UTF-16，但无法解码", "the file says it is UTF-16 but cannot be decoded")
		}
		return string(u), "UTF-16", nil
	case utf8.Valid(b):
		return string(b), "UTF-8", nil
	}
	u, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil || bytes.ContainsRune(u, utf8.RuneError) || !utf8.Valid(u) {
		return "", "", fileError(0, "文件既不是UTF-8也不是GBK编码，无法读取（请在Excel中另存为“CSV UTF-8”）",
			"the file is neither UTF-8 nor GBK (in Excel, save it as \"CSV UTF-8\")")
	}
	return string(u), "GBK", nil
}

// sniffComma returns the separator the header row uses most: ',', '\t'
// or ';' (',' on a tie).
func sniffComma(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	best, n := ',', strings.Count(line, ",")
	for _, c := range []rune{'\t', ';'} {
		if k := strings.Count(line, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}
