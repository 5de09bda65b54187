package sheet

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"hazardmap/geo"
)

// How values look in a cell (FormatValue writes them, parseValue reads
// them back):
//
//	string, date-time   the text (date-times in RFC 3339)
//	integer, number     decimal digits, no grouping ("20", "113.40458")
//	boolean             true or false (是/否, TRUE/FALSE and 1/0 are read too)
//	null                an empty cell
//	array of strings    one item per line
//	array of objects    one object per line, its members in the schema's
//	                    order separated by " | " (trailing empty members
//	                    left out), e.g. "排水泵 | 2 | 台"
//
// In lists a backslash escapes a line break (\n), a bar (\|) and itself
// (\\), so any text survives the round trip.

// FormatValue returns the text of value v of property p as a sheet shows
// it.
func FormatValue(p geo.Property, v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case []any:
		lines := make([]string, 0, len(t))
		for _, x := range t {
			if obj, ok := x.(map[string]any); ok && p.Type == geo.ObjectList {
				lines = append(lines, formatObject(p.Fields, obj))
				continue
			}
			lines = append(lines, escape(FormatValue(geo.Property{Type: geo.String}, x), false))
		}
		return strings.Join(lines, "\n")
	}
	// Not a value encoding/json produces (the stores never hold one):
	// write it as JSON rather than lose it.
	b, _ := json.Marshal(v)
	return string(b)
}

// formatObject writes one object of a list on one line.
func formatObject(fields []geo.Property, obj map[string]any) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = escape(FormatValue(f, obj[f.Name]), true)
	}
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, " | ")
}

// escape makes s safe inside a list cell: backslashes, line breaks and,
// in objects, bars are escaped.
func escape(s string, bar bool) string {
	special := "\\\r\n"
	if bar {
		special += "|"
	}
	if !strings.ContainsAny(s, special) {
		return s // nearly every value: no copy
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '|' && bar:
			b.WriteString(`\|`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitEscaped splits s at unescaped sep bytes ('|' or '\n') and
// unescapes each part.
func splitEscaped(s string, sep byte) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
		case c == sep:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(parts, b.String())
}

// detail is what is wrong with a cell, in Chinese and English.
type detail struct{ zh, en string }

func bad(zh, en string, args ...any) *detail {
	return &detail{fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...)}
}

// parseValue reads raw (already trimmed) as a value of property p. An
// empty cell is null for a nullable or optional scalar and [] for a list;
// empty reports which.
func parseValue(p geo.Property, raw string) (v any, empty bool, d *detail) {
	if strings.ContainsRune(raw, 0) {
		return nil, false, bad("含有NUL字符", "contains the NUL character")
	}
	if raw == "" {
		if p.Type == geo.StringList || p.Type == geo.ObjectList {
			return []any{}, true, nil
		}
		return nil, true, nil
	}
	switch p.Type {
	case geo.String:
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, raw) {
			return nil, false, bad("“%s”不是允许的值（%s）", "%q is not one of %s", raw, strings.Join(p.Enum, ", "))
		}
		if p.Format == geo.FormatPhone {
			if err := geo.ValidatePhone(raw); err != nil {
				return nil, false, &detail{
					fmt.Sprintf("“%s”不是有效的电话号码：手机为1[3-9]开头的11位，座机为区号加7或8位号码（或只写7或8位号码），分机写在“转”之后；Excel可能删去了开头的0，请把该列设为文本", raw),
					fmt.Sprintf("%q is not a telephone number: %v", raw, err)}
			}
		}
		return raw, false, nil
	case geo.DateTime:
		if _, err := time.Parse(time.RFC3339, raw); err != nil {
			return nil, false, bad("“%s”不是RFC 3339时间（如2025-02-10T08:00:00+08:00）", "%q is not an RFC 3339 date-time (e.g. 2025-02-10T08:00:00+08:00)", raw)
		}
		return raw, false, nil
	case geo.Integer, geo.Number:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, false, bad("“%s”不是数字", "%q is not a number", raw)
		}
		if p.Type == geo.Integer && (n != math.Trunc(n) || math.Abs(n) > 1<<53) {
			return nil, false, bad("“%s”不是整数", "%q is not a whole number", raw)
		}
		return n, false, nil
	case geo.Boolean:
		switch strings.ToLower(raw) {
		case "true", "1", "是":
			return true, false, nil
		case "false", "0", "否":
			return false, false, nil
		}
		return nil, false, bad("“%s”应为true或false（是/否）", "%q is neither true nor false", raw)
	case geo.StringList:
		items := []any{}
		for _, line := range splitEscaped(strings.ReplaceAll(raw, "\r\n", "\n"), '\n') {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			if len(p.Enum) > 0 && !slices.Contains(p.Enum, line) {
				return nil, false, bad("“%s”不是允许的值（%s）", "%q is not one of %s", line, strings.Join(p.Enum, ", "))
			}
			items = append(items, line)
		}
		return items, false, nil
	case geo.ObjectList:
		return parseObjects(p, raw)
	}
	return nil, false, bad("无法读取此类值", "cannot read a value of this type")
}

// parseObjects reads an array of objects, one per line.
func parseObjects(p geo.Property, raw string) (any, bool, *detail) {
	items := []any{}
	n := 0
	for _, line := range strings.Split(strings.ReplaceAll(raw, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		n++
		parts := splitEscaped(line, '|')
		if len(parts) > len(p.Fields) {
			return nil, false, bad("第%d项有%d段，最多%d段（%s）", "item %d has %d parts, at most %d (%s)",
				n, len(parts), len(p.Fields), fieldList(p.Fields))
		}
		obj := make(map[string]any, len(p.Fields))
		for i, f := range p.Fields {
			text := ""
			if i < len(parts) {
				text = strings.TrimSpace(parts[i])
			}
			v, empty, d := parseValue(f, text)
			switch {
			case d != nil:
				return nil, false, &detail{fmt.Sprintf("第%d项“%s”：%s", n, f.Title, d.zh), fmt.Sprintf("item %d, %s: %s", n, f.Name, d.en)}
			case empty && f.Required:
				return nil, false, bad("第%d项缺少“%s”（%s）", "item %d lacks %s (%s)", n, f.Title, fieldList(p.Fields))
			}
			obj[f.Name] = v
		}
		items = append(items, obj)
	}
	return items, false, nil
}

// fieldList names the members of an object as a cell writes them.
func fieldList(fields []geo.Property) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Title
	}
	return strings.Join(names, " | ")
}

// FormatHint returns how a cell of p is written, in Chinese, for the
// explanation sheet and error messages: the allowed values, the members
// of an object, one item per line.
func FormatHint(p geo.Property) string {
	switch {
	case p.Type == geo.ObjectList:
		return "每行一项：" + fieldList(p.Fields)
	case p.Type == geo.StringList && len(p.Enum) > 0:
		return "每行一项，取值：" + strings.Join(p.Enum, "、")
	case p.Type == geo.StringList:
		return "每行一项"
	case len(p.Enum) > 0:
		return "取值：" + strings.Join(p.Enum, "、")
	case p.Type == geo.Boolean:
		return "true 或 false（是/否）"
	case p.Format == geo.FormatPhone:
		return "手机或座机号码，如 13800138000、0371-86572555"
	case p.Type == geo.DateTime:
		return "RFC 3339 时间，如 2025-02-10T08:00:00+08:00"
	case p.Type == geo.Integer:
		return "整数"
	case p.Type == geo.Number:
		return "数字"
	}
	return "文本"
}
