package sheet

import (
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"

	"hazardmap/geo"
)

// cellKind says how a typed format (xlsx) stores a cell.
type cellKind int

const (
	textCell cellKind = iota
	numberCell
	boolCell
	// listCell is text on several lines (wrapped).
	listCell
	// phoneCell is text that must stay text (leading zeros).
	phoneCell
)

// cell is one cell of a row: its text, and for numbers and booleans the
// value a typed format stores.
type cell struct {
	text string
	kind cellKind
	num  float64
	b    bool
}

// kindOf returns how column c is stored.
func kindOf(c Column) cellKind {
	switch {
	case c.Key == KeyVersion || c.Key == KeyLon || c.Key == KeyLat:
		return numberCell
	case c.Prop == nil:
		return textCell
	case c.Prop.Type == geo.Integer || c.Prop.Type == geo.Number:
		return numberCell
	case c.Prop.Type == geo.Boolean:
		return boolCell
	case c.Prop.Type == geo.StringList || c.Prop.Type == geo.ObjectList:
		return listCell
	case c.Prop.Format == geo.FormatPhone:
		return phoneCell
	}
	return textCell
}

// cells returns the row of feature f (already redacted for the reader)
// in the columns cols.
func cells(cols []Column, f *geo.Feature) []cell {
	out := make([]cell, len(cols))
	var lon, lat, shape string
	var x, y float64
	if pt, ok := f.Geometry.(orb.Point); ok {
		x, y = pt[0], pt[1]
		lon, lat = strconv.FormatFloat(x, 'f', -1, 64), strconv.FormatFloat(y, 'f', -1, 64)
	} else if f.Geometry != nil {
		shape = wkt.MarshalString(f.Geometry)
	}
	for i, c := range cols {
		k := kindOf(c)
		switch c.Key {
		case KeyID:
			out[i] = cell{text: f.ID}
		case KeyVersion:
			out[i] = cell{text: strconv.FormatInt(f.Version, 10), kind: k, num: float64(f.Version)}
		case KeyLon:
			out[i] = cell{text: lon, kind: k, num: x}
		case KeyLat:
			out[i] = cell{text: lat, kind: k, num: y}
		case KeyWKT:
			out[i] = cell{text: shape}
		default:
			v := f.Properties[c.Key]
			out[i] = cell{text: FormatValue(*c.Prop, v), kind: k}
			switch t := v.(type) {
			case float64:
				out[i].num = t
			case bool:
				out[i].b = t
			default:
				if k == numberCell || k == boolCell {
					out[i].kind = textCell // null, or not the declared type
				}
			}
		}
		if out[i].text == "" && out[i].kind != listCell && out[i].kind != phoneCell {
			out[i].kind = textCell
		}
	}
	return out
}
