package card

import (
	"fmt"
	"log/slog"
)

// maxCodeInput bounds the input before any work is done.
const maxCodeInput = 16

// maskedCode is shown for every non-zero code, whatever its length, so the
// mask says nothing about the code.
const maskedCode = mask + mask + mask

// Code is a card security code (the CID on the front of a 15-digit card, the
// CVC on the back of a 16-digit one) that has passed ParseCode. PCI DSS forbids
// storing it after authorisation, so it is a secret type like PAN: it prints
// masked and its digits come out only through Digits. The zero value is no
// code.
type Code struct{ digits string }

// ParseCode parses a security code of exactly length digits, with spaces at
// either end ignored. length is normally PAN.CodeLength() and must be 3 or 4,
// else ParseCode returns ErrCodeLength. Malformed input gives ErrCodeFormat,
// which does not contain the input.
func ParseCode(s string, length int) (Code, error) {
	if length != 3 && length != 4 {
		return Code{}, ErrCodeLength
	}
	if len(s) > maxCodeInput {
		return Code{}, ErrCodeFormat
	}
	s = trimSpaces(s)
	if len(s) != length || !allDigits(s) {
		return Code{}, ErrCodeFormat
	}
	return Code{digits: s}, nil
}

// Digits returns the code as ASCII digits. Callers must not log or store it;
// codes are compared in constant time (see cardcrypto) and then dropped.
func (c Code) Digits() string { return c.digits }

// IsZero reports whether c is the zero Code, holding no code.
func (c Code) IsZero() bool { return c.digits == "" }

// Len returns the number of digits: 3, 4, or 0 for the zero Code.
func (c Code) Len() int { return len(c.digits) }

// Masked returns "•••" for any code and "" for the zero Code.
func (c Code) Masked() string {
	if c.digits == "" {
		return ""
	}
	return maskedCode
}

// String returns the masked form.
func (c Code) String() string { return c.Masked() }

// GoString returns the masked form, so %#v does not print the digits.
func (c Code) GoString() string { return c.Masked() }

// Format prints the masked form for every verb.
func (c Code) Format(f fmt.State, verb rune) { formatMasked(f, verb, c.Masked()) }

// LogValue returns the masked form, so slog never records the digits.
func (c Code) LogValue() slog.Value { return slog.StringValue(c.Masked()) }
