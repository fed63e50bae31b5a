package cardcrypto

import (
	"errors"
	"fmt"
	"log/slog"
)

// ErrPINFormat is returned by ParsePIN; it does not contain the input.
var ErrPINFormat = errors.New("cardcrypto: PIN must be 4 to 12 digits")

// maskedPIN is shown for every non-zero PIN whatever its length, so the mask
// says nothing about the PIN.
const maskedPIN = "••••"

// PIN is a personal identification number chosen for a card, 4 to 12 digits
// (the ISO 9564 range). It prints masked; the digits come out only through
// Digits. The zero value is no PIN.
type PIN struct{ digits string }

// ParsePIN parses 4 to 12 ASCII digits and nothing else: unlike card numbers,
// no spaces are trimmed, because a PIN field holding a space is a mistake to
// report, not tidy up. It does not judge how guessable a PIN is; that policy
// belongs to the caller.
func ParsePIN(s string) (PIN, error) {
	if len(s) < 4 || len(s) > 12 || !allDigits(s) {
		return PIN{}, ErrPINFormat
	}
	return PIN{digits: s}, nil
}

// Digits returns the PIN. Callers must not log or store it; only
// HSM.PINVerificationValue should see it.
func (p PIN) Digits() string { return p.digits }

// IsZero reports whether p is the zero PIN, holding no PIN.
func (p PIN) IsZero() bool { return p.digits == "" }

// Masked returns "••••" for any PIN and "" for the zero PIN.
func (p PIN) Masked() string {
	if p.digits == "" {
		return ""
	}
	return maskedPIN
}

// String returns the masked form.
func (p PIN) String() string { return p.Masked() }

// GoString returns the masked form, so %#v does not print the digits.
func (p PIN) GoString() string { return p.Masked() }

// Format prints the masked form for every verb; see formatRedacted.
func (p PIN) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.Masked()) }

// LogValue returns the masked form, so slog never records the digits.
func (p PIN) LogValue() slog.Value { return slog.StringValue(p.Masked()) }

// formatRedacted writes s for any verb, honouring width and flags. Every
// verb, %x and %d included, gets s: a Formatter that fell back to the default
// for some verb would print the struct and its secret.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb != 'q' {
		verb = 's'
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}
