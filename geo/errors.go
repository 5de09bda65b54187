package geo

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so that the HTTP layer can choose a status code
// without looking at backend-specific error types. The set is closed.
type Kind int

// The kinds of error a Store or a domain rule may return.
const (
	Internal     Kind = iota // a bug or an unexpected backend failure
	Invalid                  // the input breaks a rule; Fields says where
	NotFound                 // no such collection or feature
	Conflict                 // stale version or duplicate id
	Unauthorized             // no or bad credentials
	Forbidden                // credentials lack the needed role
	Unavailable              // the backend cannot be reached right now
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "unauthorized", "forbidden", "unavailable"}

// String returns the kind's name.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// FieldError names one input field and what is wrong with it. Field uses
// the input's own path, e.g. "properties.status" or "bbox".
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error is the error type of the domain. Message is safe to show to a
// client; Err (the cause) is for logs only.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error
}

// Error returns the message, the field errors and the cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Detail)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k with a formatted, client-safe message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns an Invalid error about one field.
func InvalidField(field, format string, args ...any) *Error {
	d := fmt.Sprintf(format, args...)
	return &Error{Kind: Invalid, Message: "invalid " + field, Fields: []FieldError{{Field: field, Detail: d}}}
}

// Wrap returns an *Error of kind k with message msg and cause err.
func Wrap(k Kind, err error, msg string) *Error {
	return &Error{Kind: k, Message: msg, Err: err}
}

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
