package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeJSON decodes raw, which must hold exactly one JSON value, into v.
// It is the one strict JSON decoder of the service, for every body and
// file that comes from outside: members that v (a struct) does not
// declare are refused, and so is anything after the value; so are text
// that is not UTF-8, the escapes of NUL and of lone UTF-16 surrogates,
// and a member given twice in one object (jsontext.go), each naming the
// member ("properties.name"). The error is Invalid, names field (or the
// member below it), and says what was wrong without Go type names.
func DecodeJSON(field string, raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return InvalidField(field, "%s", jsonProblem(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return InvalidField(field, "data after the JSON value")
	}
	return checkJSONText(field, raw)
}

// jsonProblem describes a decoding error without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("member %q: want a %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return "want a JSON " + jsonKind(te.Type.Kind().String())
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown member " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	if errors.Is(err, io.EOF) {
		return "empty; want a JSON value"
	}
	return "not valid JSON: " + strings.TrimPrefix(msg, "json: ")
}

// jsonKind names a Go kind as the JSON type it decodes from.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "float64", "float32", "int", "int64", "int32", "uint", "uint64":
		return "number"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "value of the documented type"
}
