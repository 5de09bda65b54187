package geo

import (
	"strings"
	"testing"
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
