package geo

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file checks the text of a JSON document that encoding/json has
// already accepted, for what encoding/json lets through silently:
//   - bytes that are not UTF-8 (encoding/json replaces them with U+FFFD,
//     so a name would be stored other than it was sent);
//   - escapes of U+0000 ("\u0000": PostgreSQL stores no NUL in text or
//     jsonb, and a NUL would end a key of the embedded store early) and of
//     lone UTF-16 surrogates ("\ud800", again replaced with U+FFFD);
//   - a member name given twice in one object (encoding/json keeps the
//     last, so what a client meant is a guess).
//
// Each is a field-level Invalid error naming the member, as the API's
// problem bodies name fields: "properties.name", "features[3].id".

// checkJSONText walks raw, one JSON value that json.Valid accepts, and
// returns an Invalid error naming the first offending member, under
// field ("body" is the root: its members are named alone), or nil.
func checkJSONText(field string, raw []byte) error {
	s := jsonText{raw: raw}
	s.space()
	if !s.value() {
		return InvalidField(s.path(field), "%s", s.problem)
	}
	return nil
}

// jsonText is the state of checkJSONText: the document, the position,
// the path to the value being read and, once found, the problem.
type jsonText struct {
	raw     []byte
	i       int
	stack   []jsonStep
	problem string
}

// jsonStep is one step of a path: a member, or an element of an array.
type jsonStep struct {
	name  string // the member name as decoded; "" with index >= 0
	index int    // the array index; -1 for a member
}

// path returns where the problem is, below field.
func (s *jsonText) path(field string) string {
	var b strings.Builder
	if field != "body" || len(s.stack) == 0 {
		b.WriteString(field)
	}
	for _, st := range s.stack {
		if st.index >= 0 {
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(st.name)
	}
	return b.String()
}

func (s *jsonText) space() {
	for s.i < len(s.raw) {
		switch s.raw[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads one value; false when it found a problem.
func (s *jsonText) value() bool {
	if s.i >= len(s.raw) {
		return true // json.Valid accepted it: nothing is missing
	}
	switch s.raw[s.i] {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		_, ok := s.str("")
		return ok
	default: // a number, true, false or null
		for s.i < len(s.raw) && !strings.ContainsRune(",]} \t\n\r", rune(s.raw[s.i])) {
			s.i++
		}
		return true
	}
}

func (s *jsonText) object() bool {
	s.i++ // {
	var seen map[string]struct{}
	var first string
	for n := 0; ; n++ {
		s.space()
		if s.i >= len(s.raw) || s.raw[s.i] == '}' {
			s.i++
			return true
		}
		if s.raw[s.i] == ',' {
			s.i++
			s.space()
		}
		name, ok := s.str("a member name")
		if !ok {
			return false
		}
		s.stack = append(s.stack, jsonStep{name: name, index: -1})
		switch {
		case n == 0:
			first = name
		case seen == nil && name != first:
			seen = map[string]struct{}{first: {}, name: {}}
		default:
			if _, dup := seen[name]; dup || name == first {
				s.problem = "this member is given more than once in one object; give it once"
				return false
			}
			seen[name] = struct{}{}
		}
		s.space()
		s.i++ // :
		s.space()
		if !s.value() {
			return false
		}
		s.stack = s.stack[:len(s.stack)-1]
	}
}

func (s *jsonText) array() bool {
	s.i++ // [
	for n := 0; ; n++ {
		s.space()
		if s.i >= len(s.raw) || s.raw[s.i] == ']' {
			s.i++
			return true
		}
		if s.raw[s.i] == ',' {
			s.i++
			s.space()
		}
		s.stack = append(s.stack, jsonStep{index: n})
		if !s.value() {
			return false
		}
		s.stack = s.stack[:len(s.stack)-1]
	}
}

// str reads a string at s.i (its opening quote) and returns it decoded
// when it is a member name (what is "a member name", for messages; "" for
// a value, which is not decoded).
func (s *jsonText) str(what string) (string, bool) {
	start := s.i
	s.i++ // "
	escaped := false
	bad := func(detail string) (string, bool) {
		if what != "" {
			detail = what + ": " + detail
		}
		s.problem = detail
		return "", false
	}
	for s.i < len(s.raw) {
		c := s.raw[s.i]
		switch {
		case c == '"':
			s.i++
			if what == "" {
				return "", true
			}
			if !escaped {
				return string(s.raw[start+1 : s.i-1]), true
			}
			var name string
			_ = json.Unmarshal(s.raw[start:s.i], &name) // json.Valid accepted it
			return name, true
		case c == '\\':
			escaped = true
			if s.i+1 < len(s.raw) && s.raw[s.i+1] == 'u' {
				r := hex4(s.raw, s.i+2)
				switch {
				case r == 0:
					return bad(`holds the escape \u0000 (NUL), which cannot be stored`)
				case r >= 0xd800 && r < 0xdc00:
					if s.i+7 < len(s.raw) && s.raw[s.i+6] == '\\' && s.raw[s.i+7] == 'u' {
						if lo := hex4(s.raw, s.i+8); lo >= 0xdc00 && lo < 0xe000 {
							s.i += 12
							continue
						}
					}
					return bad(`holds a lone UTF-16 surrogate escape (\ud800–\udbff without its pair), which is no character`)
				case r >= 0xdc00 && r < 0xe000:
					return bad(`holds a lone UTF-16 surrogate escape (\udc00–\udfff), which is no character`)
				}
				s.i += 6
				continue
			}
			s.i += 2
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.raw[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return bad("is not valid UTF-8 (send text as UTF-8)")
			}
			s.i += size
		}
	}
	return "", true
}

// hex4 returns the value of the four hex digits at raw[i:], or -1.
func hex4(raw []byte, i int) rune {
	if i+4 > len(raw) {
		return -1
	}
	n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 16)
	if err != nil {
		return -1
	}
	return rune(n)
}
