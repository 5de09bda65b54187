package geo

import (
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
