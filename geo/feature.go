package geo

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

// Feature is one record of a collection: an id, an optional geometry and
// properties that follow the collection's Schema.
type Feature struct {
	// ID is unique within the collection. Create assigns one when empty.
	ID string
	// Geometry is nil when the location is unknown (a null geometry).
	Geometry orb.Geometry
	// Properties hold JSON values as encoding/json decodes them into any:
	// string, float64, bool, nil, []any and map[string]any.
	Properties map[string]any
	// Version counts writes to this feature, starting at 1. Writes carry the
	// version they were based on; a mismatch is a Conflict.
	Version int64
	// Updated is when the feature was last written.
	Updated time.Time
}

// Clone returns a deep copy of f.
func (f *Feature) Clone() *Feature {
	c := *f
	if f.Geometry != nil {
		c.Geometry = orb.Clone(f.Geometry)
	}
	if f.Properties != nil {
		c.Properties = cloneValue(f.Properties).(map[string]any)
	}
	return &c
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = cloneValue(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = cloneValue(x)
		}
		return s
	default:
		return v
	}
}

// CanonicalProperties returns props as encoding/json would decode them, so
// that every backend holds the same Go values for the same document (ints
// become float64, typed slices become []any).
func CanonicalProperties(props map[string]any) (map[string]any, error) {
	if props == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(props)
	if err != nil {
		return nil, &Error{Kind: Invalid, Message: "properties are not JSON", Fields: []FieldError{{Field: "properties", Detail: err.Error()}}}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("geo: canonical properties: %w", err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// Patch is a partial update in the manner of JSON Merge Patch (RFC 7396)
// applied to one feature.
type Patch struct {
	// Properties are merged into the feature's properties; a nil value sets
	// the property to null.
	Properties map[string]any
	// SetGeometry says whether Geometry replaces the feature's geometry
	// (a nil Geometry then clears it to null).
	SetGeometry bool
	Geometry    orb.Geometry
}

// Apply returns a copy of f with p applied. It does not validate.
func (p Patch) Apply(f *Feature) *Feature {
	out := f.Clone()
	if out.Properties == nil {
		out.Properties = map[string]any{}
	}
	for k, v := range p.Properties {
		out.Properties[k] = cloneValue(v)
		if v == nil {
			out.Properties[k] = nil
		}
	}
	if p.SetGeometry {
		out.Geometry = p.Geometry
	}
	return out
}

// Batch is a set of writes to one collection that Store.Apply makes
// together or not at all: the new and the edited rows of a spreadsheet
// import.
type Batch struct {
	// Create holds new features (an empty ID gets a generated one).
	Create []*Feature
	// Replace holds edited features, each with the Version it was based on.
	Replace []*Feature
}

// Len returns the number of features in b.
func (b Batch) Len() int { return len(b.Create) + len(b.Replace) }

// Filter keeps the features whose Property equals Value. For a string-list
// property it keeps the features whose list contains Value.
type Filter struct {
	Property string
	// Value is canonical: string, float64 or bool.
	Value any
}

// Query selects features of one collection. The zero Query selects all.
type Query struct {
	// BBox, when set, keeps features whose geometry intersects the box,
	// edges included (as PostGIS ST_Intersects on geometry in degrees).
	// Features with a null geometry never match a bbox.
	BBox *orb.Bound
	// Filters are ANDed.
	Filters []Filter
	// Datetime, when set, keeps features last written (Feature.Updated)
	// within the interval: the OGC API datetime parameter. The collections
	// have no other temporal property; "what changed since the storm
	// began" is the question it answers.
	Datetime *Interval
	// Limit caps the number returned; 0 or less means no cap.
	Limit int
	// Offset skips that many matches, in id order.
	Offset int
}

// CollectionInfo describes a collection as stored now.
type CollectionInfo struct {
	ID string
	// Count is the number of features.
	Count int
	// Located is the number of features with a geometry.
	Located int
	// Extent bounds every geometry; nil when no feature is located.
	Extent *orb.Bound
	// Version increases on every write to the collection and never goes
	// back, so it identifies the collection's data for caches and ETags.
	Version int64
	// Updated is the time of the last write (zero if never written).
	Updated time.Time
}

// Stamp names the data of a collection as a View sees it: Version and
// Updated as CollectionInfo has them, without the counting.
type Stamp struct {
	Version int64
	Updated time.Time
}
