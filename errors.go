// Package cardportal holds what every part of the system shares: the error model.
//
// Domain packages (identity, card, account, ...) return *Error values; the web and API
// surfaces turn the Kind into a status and the Msg into translated text, and log
// everything else. A Msg is a message ID from the locale catalogue, never free text, so
// nothing an attacker could use (which card field was wrong, whether an account exists)
// can leak by accident through an error string.
package cardportal

import (
	"errors"
	"strings"
	"time"
)

// Kind classifies an error by what the caller can do about it.
type Kind uint8

// The kinds of error. Internal is the zero value so an unclassified error is never
// mistaken for the caller's fault.
const (
	Internal        Kind = iota // our fault; the user sees a generic message
	Invalid                     // the input is malformed; Fields says where
	NotFound                    // no such thing, or not the caller's to see
	Conflict                    // already exists / already done
	Unauthenticated             // credentials or session missing or wrong
	Forbidden                   // authenticated but not allowed
	Locked                      // temporarily refused until Error.Until
	TooManyRequests             // throttled until Error.Until
	Expired                     // a flow, link or code is past its time
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "unauthenticated", "forbidden", "locked", "too_many_requests", "expired"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// FieldError is a problem with one input field, for forms and JSON clients alike.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message_id"` // locale message ID
}

// Error is the one error type of the system.
type Error struct {
	Op     string       // operation, e.g. "identity.Login"
	Kind   Kind         // what the caller can do
	Msg    string       // user-safe locale message ID; empty means the kind's default
	Fields []FieldError // per-field problems when Kind is Invalid
	Until  time.Time    // when a Locked or TooManyRequests condition ends
	Err    error        // the cause, for logs only
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Msg != "" {
		b.WriteString(" (")
		b.WriteString(e.Msg)
		b.WriteString(")")
	}
	for _, f := range e.Fields {
		b.WriteString(" ")
		b.WriteString(f.Field)
		b.WriteString("=")
		b.WriteString(f.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error.
func E(op string, kind Kind, msg string, err error) *Error {
	return &Error{Op: op, Kind: kind, Msg: msg, Err: err}
}

// InvalidFields returns an Invalid error listing field problems.
func InvalidFields(op string, fields ...FieldError) *Error {
	return &Error{Op: op, Kind: Invalid, Msg: "error.invalid", Fields: fields}
}

// ErrorKind returns the Kind of the outermost *Error in err's chain, or Internal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// IsKind reports whether err carries the given kind.
func IsKind(err error, k Kind) bool { return err != nil && ErrorKind(err) == k }

// ErrorMsg returns the user-safe message ID for err. Internal errors always map to the
// generic message, even if someone attached a Msg, because their details are ours.
func ErrorMsg(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Kind == Internal {
		return "error.internal"
	}
	if e.Msg != "" {
		return e.Msg
	}
	return defaultMsg[e.Kind]
}

var defaultMsg = map[Kind]string{
	Invalid:         "error.invalid",
	NotFound:        "error.notfound",
	Conflict:        "error.invalid",
	Unauthenticated: "error.unauthorized",
	Forbidden:       "error.unauthorized",
	Locked:          "signin.locked",
	TooManyRequests: "signin.throttled",
	Expired:         "signin.expired",
}

// ErrorFields returns the field problems carried by err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// ErrorUntil returns when a Locked or TooManyRequests condition ends, or the zero time.
func ErrorUntil(err error) time.Time {
	var e *Error
	if errors.As(err, &e) {
		return e.Until
	}
	return time.Time{}
}
