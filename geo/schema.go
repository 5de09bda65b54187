package geo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Type is the JSON type of a property.
type Type int

// Property types. StringList is an array of strings; ObjectList is an array
// of objects whose members are described by Property.Fields.
const (
	String Type = iota
	Integer
	Number
	Boolean
	DateTime
	StringList
	ObjectList
)

var typeNames = [...]string{"string", "integer", "number", "boolean", "date-time", "array of strings", "array of objects"}

// String returns the type's name as used in error messages.
func (t Type) String() string { return typeNames[t] }

// Property declares one property of a collection.
type Property struct {
	Name     string
	Type     Type
	Required bool // must be present (and, unless Nullable, not null)
	Nullable bool // null is allowed
	// Enum lists the allowed values of a String or StringList property.
	Enum []string
	// Filterable properties may be used in Query.Filters; the PostGIS
	// store keeps each as a typed column.
	Filterable bool
	// ReadRole is the least role that may see the property (Schema.Redact,
	// Property.VisibleTo); empty means everyone, the public included.
	// Personal data is never public: contacts on duty (names, phone
	// numbers) are RoleCrew, household-level detail is RolePlanner.
	ReadRole Role
	// Format further constrains a String property: FormatPhone.
	Format string
	// Fields describe the members of each object of an ObjectList.
	Fields []Property
	// Title is a short Chinese label for the map and the API.
	Title string
	// Description explains the property in English.
	Description string
}

// Schema declares a collection: its titles, the geometry types it holds
// and its properties.
type Schema struct {
	ID            string
	TitleZH       string
	TitleEN       string
	Description   string
	GeometryTypes []string
	Properties    []Property
	// Check, when set, checks rules that span properties or that the
	// property types cannot express (a gauge's flood-limit windows must
	// not overlap); Validate adds its field errors to its own.
	Check func(f *Feature) []FieldError
}

// Property returns the declared property called name.
func (s *Schema) Property(name string) (Property, bool) {
	for _, p := range s.Properties {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

// Filterable returns the names of the properties that Query.Filters accept.
func (s *Schema) Filterable() []string {
	var names []string
	for _, p := range s.Properties {
		if p.Filterable {
			names = append(names, p.Name)
		}
	}
	return names
}

// Formats of String properties (Property.Format).
const (
	// FormatPhone is a Chinese telephone number (ValidatePhone).
	FormatPhone = "phone"
)

// VisibleTo reports whether a client of role may see the property: it has
// no ReadRole, or role is at least its ReadRole. An unknown role sees only
// what the public sees.
func (p Property) VisibleTo(role Role) bool {
	return p.ReadRole == "" || role.AtLeast(p.ReadRole)
}

// Visible returns the properties a client of role may see, in schema
// order.
func (s *Schema) Visible(role Role) []Property {
	out := make([]Property, 0, len(s.Properties))
	for _, p := range s.Properties {
		if p.VisibleTo(role) {
			out = append(out, p)
		}
	}
	return out
}

// Redact returns a copy of f without the properties role may not see
// (Property.VisibleTo), or f itself when role sees them all (nil for nil).
// The API calls it on every feature it sends, audit entries excepted
// (planners only); every export format calls it on every feature.
func (s *Schema) Redact(f *Feature, role Role) *Feature {
	if f == nil || !slices.ContainsFunc(s.Properties, func(p Property) bool { return !p.VisibleTo(role) }) {
		return f
	}
	out := f.Clone()
	for _, p := range s.Properties {
		if !p.VisibleTo(role) {
			delete(out.Properties, p.Name)
		}
	}
	return out
}

// CanFilter reports whether a client of role may filter on the property
// called name: it is Filterable and visible to role (a filter on a hidden
// value would reveal it by which features match).
func (s *Schema) CanFilter(name string, role Role) bool {
	p, ok := s.Property(name)
	return ok && p.Filterable && p.VisibleTo(role)
}

// Views returns the distinct views of the data, from least to most
// shown: the roles at which what a client may see changes (RolePublic,
// then every ReadRole of any schema, in role order). Responses built for
// one view must never be served, nor validated, for another.
func Views() []Role { return slices.Clone(views()) }

var views = sync.OnceValue(func() []Role {
	seen := map[Role]bool{RolePublic: true}
	for _, sc := range Schemas() {
		for _, p := range sc.Properties {
			seen[p.ReadRole] = true
		}
	}
	var out []Role
	for _, r := range Roles() {
		if seen[r] {
			out = append(out, r)
		}
	}
	return out
})

// ViewIndex returns the position in Views of ViewOf(role).
func ViewIndex(role Role) int {
	i := 0
	for j, v := range views() {
		if role.AtLeast(v) {
			i = j
		}
	}
	return i
}

// ViewOf returns the view (one of Views) that a client of role gets: the
// most-shown view whose role it has. An unknown role gets RolePublic.
func ViewOf(role Role) Role {
	view := RolePublic
	for _, v := range views() {
		if role.AtLeast(v) {
			view = v
		}
	}
	return view
}

// Validate checks f against the schema: the geometry type and coordinates,
// every property's presence, type and enum. It returns an Invalid *Error
// listing every offending field, or nil. It does not change f.
func (s *Schema) Validate(f *Feature) error {
	var errs []FieldError
	if f.ID != "" {
		if err := ValidateID(f.ID); err != nil {
			errs = append(errs, err.(*Error).Fields...)
		}
	}
	if err := ValidateGeometry(f.Geometry, s.GeometryTypes); err != nil {
		errs = append(errs, FieldError{Field: "geometry", Detail: err.Error()})
	}
	for name, v := range f.Properties {
		p, ok := s.Property(name)
		if !ok {
			errs = append(errs, FieldError{Field: "properties." + name, Detail: fmt.Sprintf("unknown property of %s", s.ID)})
			continue
		}
		errs = append(errs, checkValue("properties."+name, p, v)...)
	}
	for _, p := range s.Properties {
		if _, ok := f.Properties[p.Name]; p.Required && !ok {
			errs = append(errs, FieldError{Field: "properties." + p.Name, Detail: "required"})
		}
	}
	if s.Check != nil && len(errs) == 0 {
		errs = s.Check(f)
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return &Error{Kind: Invalid, Message: "invalid feature for " + s.ID, Fields: errs}
}

// Lengths of text properties. A filterable property is indexed (PostGIS
// keeps a B-tree of it, whose entries hold at most 2 704 bytes: 200
// characters of Chinese take 600); the longest text of the report's data
// (a location_source) has 739 characters.
const (
	MaxTextRunes       = 4000
	MaxFilterableRunes = 200
)

// checkString returns what is wrong with the string value s of p, or "".
func checkString(p Property, s string) string {
	limit := MaxTextRunes
	if p.Filterable {
		limit = MaxFilterableRunes
	}
	switch {
	case !ValidText(s):
		return "must be valid UTF-8 without the NUL character (U+0000)"
	case utf8.RuneCountInString(s) > limit:
		return fmt.Sprintf("must be at most %d characters", limit)
	}
	return ""
}

func checkValue(path string, p Property, v any) []FieldError {
	bad := func(format string, args ...any) []FieldError {
		return []FieldError{{Field: path, Detail: fmt.Sprintf(format, args...)}}
	}
	if v == nil {
		if p.Nullable {
			return nil
		}
		return bad("must not be null")
	}
	switch p.Type {
	case String:
		s, ok := v.(string)
		if !ok {
			return bad("want a string, got %s", jsonType(v))
		}
		if err := checkString(p, s); err != "" {
			return bad("%s", err)
		}
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, s) {
			return bad("%q is not one of %s", s, strings.Join(p.Enum, ", "))
		}
		if p.Format == FormatPhone {
			if err := ValidatePhone(s); err != nil {
				return bad("%v", err)
			}
		}
	case Integer:
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return bad("want an integer, got %s", jsonType(v))
		}
	case Number:
		n, ok := v.(float64)
		if !ok || math.IsInf(n, 0) || math.IsNaN(n) {
			return bad("want a number, got %s", jsonType(v))
		}
	case Boolean:
		if _, ok := v.(bool); !ok {
			return bad("want true or false, got %s", jsonType(v))
		}
	case DateTime:
		s, ok := v.(string)
		if !ok {
			return bad("want an RFC 3339 date-time string, got %s", jsonType(v))
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return bad("want an RFC 3339 date-time, got %q", s)
		}
	case StringList:
		list, ok := v.([]any)
		if !ok {
			return bad("want an array of strings, got %s", jsonType(v))
		}
		var errs []FieldError
		for i, x := range list {
			s, ok := x.(string)
			item := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case !ok:
				errs = append(errs, FieldError{Field: item, Detail: "want a string, got " + jsonType(x)})
			case checkString(p, s) != "":
				errs = append(errs, FieldError{Field: item, Detail: checkString(p, s)})
			case len(p.Enum) > 0 && !slices.Contains(p.Enum, s):
				errs = append(errs, FieldError{Field: item, Detail: fmt.Sprintf("%q is not one of %s", s, strings.Join(p.Enum, ", "))})
			}
		}
		return errs
	case ObjectList:
		list, ok := v.([]any)
		if !ok {
			return bad("want an array of objects, got %s", jsonType(v))
		}
		var errs []FieldError
		for i, x := range list {
			item := fmt.Sprintf("%s[%d]", path, i)
			obj, ok := x.(map[string]any)
			if !ok {
				errs = append(errs, FieldError{Field: item, Detail: "want an object, got " + jsonType(x)})
				continue
			}
			for name, fv := range obj {
				fp, ok := fieldOf(p.Fields, name)
				if !ok {
					errs = append(errs, FieldError{Field: item + "." + name, Detail: "unknown member"})
					continue
				}
				errs = append(errs, checkValue(item+"."+name, fp, fv)...)
			}
			for _, fp := range p.Fields {
				if _, ok := obj[fp.Name]; fp.Required && !ok {
					errs = append(errs, FieldError{Field: item + "." + fp.Name, Detail: "required"})
				}
			}
		}
		return errs
	}
	return nil
}

func fieldOf(fields []Property, name string) (Property, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f, true
		}
	}
	return Property{}, false
}

func jsonType(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		if t == math.Trunc(t) {
			return "the number " + strconv.FormatFloat(t, 'f', -1, 64)
		}
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// ParseFilter turns a query-string value for the property called name into
// a Filter with a canonical value. Unknown or non-filterable properties and
// values of the wrong type are Invalid errors naming the property.
func (s *Schema) ParseFilter(name, raw string) (Filter, error) {
	p, ok := s.Property(name)
	if !ok || !p.Filterable {
		return Filter{}, InvalidField(name, "not a filterable property of %s (filterable: %s)", s.ID, strings.Join(s.Filterable(), ", "))
	}
	switch p.Type {
	case String, StringList:
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, raw) {
			return Filter{}, InvalidField(name, "%q is not one of %s", raw, strings.Join(p.Enum, ", "))
		}
		return Filter{Property: name, Value: raw}, nil
	case Integer:
		n, err := strconv.ParseInt(raw, 10, 54)
		if err != nil {
			return Filter{}, InvalidField(name, "want an integer, got %q", raw)
		}
		return Filter{Property: name, Value: float64(n)}, nil
	case Number:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return Filter{}, InvalidField(name, "want a number, got %q", raw)
		}
		return Filter{Property: name, Value: n}, nil
	case Boolean:
		b, err := strconv.ParseBool(raw)
		if err != nil || (raw != "true" && raw != "false") {
			return Filter{}, InvalidField(name, "want true or false, got %q", raw)
		}
		return Filter{Property: name, Value: b}, nil
	}
	return Filter{}, InvalidField(name, "cannot filter on a %s", p.Type)
}

// Matches reports whether props satisfies filter f.
func (f Filter) Matches(props map[string]any) bool {
	return f.MatchesValue(props[f.Property])
}

// MatchesValue reports whether v, the value of f.Property (nil when it is
// absent or null), satisfies filter f: it equals f.Value or, as a list,
// contains it.
func (f Filter) MatchesValue(v any) bool {
	if v == nil {
		return false
	}
	if list, ok := v.([]any); ok {
		return slices.Contains(list, f.Value)
	}
	return v == f.Value
}

// ValidateID checks a client-chosen feature id: 1 to 100 characters of
// letters, digits, '-', '_' and '.', so that ids are safe in URLs; not
// "." nor "..", which a URL path cannot hold as a segment (clients and
// servers remove them: …/items/.. is the collection).
func ValidateID(id string) error {
	if id == "" || len(id) > 100 {
		return InvalidField("id", "must be 1 to 100 characters")
	}
	if id == "." || id == ".." {
		return InvalidField("id", "%q cannot be a feature id: a URL path cannot hold it as a segment", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return InvalidField("id", "may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// Prepare returns the copy of f that a store writes: properties in their
// canonical JSON form, geometry normalized, everything validated. f itself
// is not changed. Every Store calls it before every write.
func (s *Schema) Prepare(f *Feature) (*Feature, error) {
	if err := CheckPropertiesText(f.Properties); err != nil {
		return nil, err
	}
	props, err := CanonicalProperties(f.Properties)
	if err != nil {
		return nil, err
	}
	out := &Feature{ID: f.ID, Geometry: f.Geometry, Properties: props, Version: f.Version}
	// Validate before normalizing, so that NaN or out-of-range input is
	// reported as given rather than after rounding.
	if err := s.Validate(out); err != nil {
		return nil, err
	}
	out.Geometry = Normalize(f.Geometry)
	return out, nil
}

// NewID returns a random feature id of 20 lower-case hex digits.
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// CheckQuery checks q against the schema: a finite bbox inside WGS-84
// with min ≤ max, filters only on filterable properties with values of the
// property's canonical type, no negative limit or offset. Every Store
// calls it first, so that both answer a bad query alike (Invalid).
func (s *Schema) CheckQuery(q Query) error {
	if b := q.BBox; b != nil {
		finite := !slices.ContainsFunc([]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}, func(x float64) bool {
			return math.IsNaN(x) || math.IsInf(x, 0)
		})
		switch {
		case !finite:
			return InvalidField("bbox", "coordinates must be finite numbers")
		case b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1]:
			return InvalidField("bbox", "minimum must not exceed maximum (boxes across the antimeridian are not supported)")
		case b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90:
			return InvalidField("bbox", "must lie within longitude -180..180 and latitude -90..90")
		}
	}
	for _, f := range q.Filters {
		p, ok := s.Property(f.Property)
		if !ok || !p.Filterable {
			return InvalidField(f.Property, "not a filterable property of %s (filterable: %s)", s.ID, strings.Join(s.Filterable(), ", "))
		}
		var typed bool
		switch p.Type {
		case String, StringList:
			var v string
			if v, typed = f.Value.(string); typed && !ValidText(v) {
				return CheckText(f.Property, v)
			}
		case Integer:
			n, ok := f.Value.(float64)
			typed = ok && n == math.Trunc(n) && math.Abs(n) <= 1<<53
		case Number:
			n, ok := f.Value.(float64)
			typed = ok && !math.IsNaN(n) && !math.IsInf(n, 0)
		case Boolean:
			_, typed = f.Value.(bool)
		}
		if !typed {
			return InvalidField(f.Property, "want a %s value, got %s", p.Type, jsonType(f.Value))
		}
	}
	if q.Datetime != nil {
		if err := q.Datetime.Check("datetime"); err != nil {
			return err
		}
	}
	if q.Limit < 0 {
		return InvalidField("limit", "must not be negative")
	}
	if q.Offset < 0 {
		return InvalidField("offset", "must not be negative")
	}
	return nil
}
