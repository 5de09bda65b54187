package geo

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidText reports whether s is text that every store can keep: valid
// UTF-8 without NUL (U+0000). PostgreSQL refuses both in text and jsonb
// (SQLSTATE 22021, 22P05), and the embedded store ends keys at a 0 byte.
// Every string from outside — ids, filter values, path segments, query
// parameters, JSON strings (DecodeJSON) — is checked against it before it
// reaches a store.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// CheckText returns an Invalid error naming field unless ValidText(s).
func CheckText(field, s string) error {
	if ValidText(s) {
		return nil
	}
	return InvalidField(field, "is not valid UTF-8 or holds NUL (U+0000); send text as UTF-8")
}

// CheckPropertiesText returns an Invalid error naming the first property
// path (by name order) whose member name or string value is not
// ValidText, or nil. Schema.Prepare calls it before anything else, as
// encoding properties as JSON would turn bytes that are not UTF-8 into
// U+FFFD without a word.
func CheckPropertiesText(props map[string]any) error {
	var walk func(path string, v any) error
	walk = func(path string, v any) error {
		switch t := v.(type) {
		case string:
			return CheckText(path, t)
		case []any:
			for i, x := range t {
				if err := walk(path+"["+strconv.Itoa(i)+"]", x); err != nil {
					return err
				}
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(t)) {
				if !ValidText(k) {
					return InvalidField(path, "a member name is not valid UTF-8 or holds NUL (U+0000)")
				}
				if err := walk(path+"."+k, t[k]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("properties", props)
}
