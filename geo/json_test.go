package geo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name *string  `json:"name"`
		N    *float64 `json:"n"`
	}
	tests := []struct {
		raw    string
		detail string // "" for success
	}{
		{`{"name":"x","n":1}`, ""},
		{" {\"name\":\"x\"} \n", ""},
		{`{}`, ""},
		{`null`, ""},
		{`{"name":1}`, `member "name": want a string`},
		{`{"n":"1"}`, `member "n": want a number`},
		{`{"colour":"red"}`, `unknown member "colour"`},
		{`[]`, "want a JSON object"},
		{`{"name":"x"} {}`, "data after the JSON value"},
		{`{"name":"x"}]`, "data after the JSON value"},
		{`{"name":"x"}x`, "data after the JSON value"},
		{`{"name":`, "not valid JSON"},
		{``, "empty"},
	}
	for _, tt := range tests {
		var v body
		err := DecodeJSON("body", []byte(tt.raw), &v)
		if tt.detail == "" {
			if err != nil {
				t.Errorf("DecodeJSON(%q) = %v, want success", tt.raw, err)
			}
			continue
		}
		e := AsError(err)
		if e == nil || e.Kind != Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "body" || !strings.Contains(e.Fields[0].Detail, tt.detail) {
			t.Errorf("DecodeJSON(%q) = %v, want Invalid on body saying %q", tt.raw, err, tt.detail)
		}
		if e != nil && strings.Contains(e.Error(), "*string") {
			t.Errorf("DecodeJSON(%q) = %v: names a Go type", tt.raw, err)
		}
	}
}

// TestDecodeJSONText: what encoding/json would let through silently is a
// field-level Invalid error naming the member.
func TestDecodeJSONText(t *testing.T) {
	tests := []struct {
		raw   string
		field string // "" for success
		says  string
	}{
		{`{"name":"荥阳 ok \u00e9 \ud83d\ude00 \"q\" \\"}`, "", ""},
		{`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, "", ""},
		{"{\"name\":\"\xff\"}", "name", "UTF-8"},
		{"{\"name\":\"ok\xc3\"}", "name", "UTF-8"},
		{"{\"\xe2\x80\":1}", "body", "member name"},
		{`{"name":"a\u0000b"}`, "name", "NUL"},
		{`{"p":{"x":["a","\ud800"]}}`, "p.x[1]", "surrogate"},
		{`{"p":"\udc00"}`, "p", "surrogate"},
		{`{"p":"\ud800\u0041"}`, "p", "surrogate"},
		{`{"name":"a","name":"b"}`, "name", "more than once"},
		{`{"p":{"status":"a","x":1,"status":"b"}}`, "p.status", "more than once"},
		{`{"a":1,"\u0061":2}`, "a", "more than once"},
		{`[{"a":1},{"b":1,"c":[{"d":1,"d":2}]}]`, "[1].c[0].d", "more than once"},
	}
	for _, tt := range tests {
		var v any
		err := DecodeJSON("body", []byte(tt.raw), &v)
		if tt.field == "" {
			if err != nil {
				t.Errorf("DecodeJSON(%q) = %v, want success", tt.raw, err)
			}
			continue
		}
		e := AsError(err)
		if e == nil || e.Kind != Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tt.field || !strings.Contains(e.Fields[0].Detail, tt.says) {
			t.Errorf("DecodeJSON(%q) = %v, want Invalid on %s saying %q", tt.raw, err, tt.field, tt.says)
		}
	}
	// Under another root the path starts with it.
	var v any
	err := DecodeJSON("features[2]", []byte(`{"id":"a","id":"b"}`), &v)
	if e := AsError(err); e == nil || e.Fields[0].Field != "features[2].id" {
		t.Errorf("DecodeJSON(features[2], dup id) = %v, want field features[2].id", err)
	}
}

// FuzzDecodeJSONText: every document DecodeJSON accepts is valid UTF-8,
// and decodes to the same value with no U+FFFD it did not hold, no NUL
// and no member given twice.
func FuzzDecodeJSONText(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":1,"a":2}`, "\"\xff\"", `"\ud800"`, `"\u0000"`, `[{"x":[1,{"y":"\ud83d\ude00"}]}]`, `{"\u0061":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var v any
		if err := DecodeJSON("body", raw, &v); err != nil {
			if AsError(err) == nil || AsError(err).Kind != Invalid {
				t.Fatalf("DecodeJSON(%q) = %v, want Invalid", raw, err)
			}
			return
		}
		if !utf8.Valid(raw) {
			t.Fatalf("DecodeJSON(%q) accepted bytes that are not UTF-8", raw)
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		var keys []map[string]bool
		var inObject []bool
		expectKey := false
		for {
			tok, err := d.Token()
			if err != nil {
				break
			}
			switch x := tok.(type) {
			case json.Delim:
				switch x {
				case '{':
					keys = append(keys, map[string]bool{})
					inObject = append(inObject, true)
					expectKey = true
				case '[':
					inObject = append(inObject, false)
					expectKey = false
				default:
					if x == '}' {
						keys = keys[:len(keys)-1]
					}
					inObject = inObject[:len(inObject)-1]
					expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
				}
				continue
			case string:
				if strings.ContainsRune(x, 0) || (strings.ContainsRune(x, utf8.RuneError) && !bytes.Contains(raw, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`))) {
					t.Fatalf("DecodeJSON(%q) accepted a string that decodes to %q", raw, x)
				}
				if expectKey {
					m := keys[len(keys)-1]
					if m[x] {
						t.Fatalf("DecodeJSON(%q) accepted member %q twice", raw, x)
					}
					m[x] = true
					expectKey = false
					continue
				}
			}
			expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
		}
	})
}
