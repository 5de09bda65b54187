package sheet

import (
	"slices"
	"strings"

	"hazardmap/geo"
)

// Keys of the columns that are not properties.
const (
	KeyID      = "id"
	KeyVersion = "version"
	KeyLon     = "lon"
	KeyLat     = "lat"
	KeyWKT     = "wkt"
)

// Column is one column of a sheet of a collection.
type Column struct {
	// Key is the property name, or one of the Key* constants.
	Key string
	// Title is the Chinese name, as error messages name the column.
	Title string
	// Prop is the property, nil for the Key* columns.
	Prop *geo.Property
}

// Header returns the column's header cell: "中文名 (key)".
func (c Column) Header() string { return c.Title + " (" + c.Key + ")" }

// Columns returns the columns of a sheet of sc for a reader of role: id,
// version, the properties role may see in schema order, lon and lat, and
// wkt when sc allows geometries other than Point.
func Columns(sc *geo.Schema, role geo.Role) []Column {
	cols := []Column{{Key: KeyID, Title: "编号"}, {Key: KeyVersion, Title: "版本"}}
	for _, p := range sc.Visible(role) {
		cols = append(cols, Column{Key: p.Name, Title: p.Title, Prop: &p})
	}
	cols = append(cols, Column{Key: KeyLon, Title: "经度 WGS-84"}, Column{Key: KeyLat, Title: "纬度 WGS-84"})
	if slices.ContainsFunc(sc.GeometryTypes, func(t string) bool { return t != "Point" }) {
		cols = append(cols, Column{Key: KeyWKT, Title: "几何 WKT WGS-84"})
	}
	for i := range cols {
		if cols[i].Title == "" {
			cols[i].Title = cols[i].Key
		}
	}
	return cols
}

// match returns the column of cols that header names: by the key in its
// last parentheses ("名称 (name)", full-width parentheses too), by the
// key, by the Chinese title or by the whole header.
func match(cols []Column, header string) (Column, bool) {
	h := strings.TrimSpace(strings.NewReplacer("（", "(", "）", ")").Replace(header))
	key := h
	if strings.HasSuffix(h, ")") {
		if i := strings.LastIndex(h, "("); i >= 0 {
			key = strings.TrimSpace(h[i+1 : len(h)-1])
		}
	}
	for _, c := range cols {
		if c.Key == key || c.Key == h || c.Title == h || c.Header() == h {
			return c, true
		}
	}
	return Column{}, false
}
