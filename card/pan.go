package card

import (
	"fmt"
	"log/slog"
)

// maxPANInput bounds the input before any work is done. 40 bytes is room for
// 16 digits with a separator between every one of them and spaces around.
const maxPANInput = 40

// maskedPANDigits is how many trailing digits Masked and Last reveal. Four for
// both 15- and 16-digit cards: PCI DSS allows at most the last four next to
// the BIN, and "ending in 1234" is what cardholders recognise.
const maskedPANDigits = 4

// PAN is a primary account number (the card number) that has passed ParsePAN.
// The zero value is no card number.
//
// The digits sit in an unexported field so that fmt and log/slog print only
// the masked form. One gap remains that no method can close: fmt cannot call
// methods on a value it reaches through an unexported struct field, so a
// struct holding a PAN in an unexported field and printed with %v shows the
// digits. Do not embed a PAN in a struct that is printed or logged.
//
// PAN deliberately has no MarshalText or MarshalJSON: store a PAN sealed
// (package cardcrypto), never as JSON.
type PAN struct{ digits string }

// ParsePAN parses a card number as a person types it: digits, optionally in
// groups separated by a single space or hyphen, with spaces at either end
// ignored. The number must have 15 digits starting 34 or 37, or 16 digits
// starting 2 to 6, and pass the Luhn check.
//
// Errors are ErrPANFormat, ErrPANLength, ErrPANPrefix or ErrPANLuhn, in that
// order of checking; none contains the input.
func ParsePAN(s string) (PAN, error) {
	if len(s) > maxPANInput {
		return PAN{}, ErrPANFormat
	}
	s = trimSpaces(s)
	var buf [maxPANInput]byte
	n := 0
	// Starting as if after a separator rejects a leading hyphen.
	afterSep := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			buf[n] = c
			n++
			afterSep = false
		case c == ' ' || c == '-':
			if afterSep {
				return PAN{}, ErrPANFormat
			}
			afterSep = true
		default:
			// Every byte of a multi-byte or invalid UTF-8 sequence is >= 0x80
			// and lands here, so no decoding is needed.
			return PAN{}, ErrPANFormat
		}
	}
	if n == 0 || afterSep {
		return PAN{}, ErrPANFormat
	}
	d := buf[:n]
	switch n {
	case 15:
		if d[0] != '3' || (d[1] != '4' && d[1] != '7') {
			return PAN{}, ErrPANPrefix
		}
	case 16:
		if d[0] < '2' || d[0] > '6' {
			return PAN{}, ErrPANPrefix
		}
	default:
		return PAN{}, ErrPANLength
	}
	digits := string(d)
	if !LuhnValid(digits) {
		return PAN{}, ErrPANLuhn
	}
	return PAN{digits: digits}, nil
}

// Digits returns the full card number as ASCII digits with no separators. It
// is the only way to get the number out of a PAN. Callers must not log it,
// put it in an error, or store it unsealed.
func (p PAN) Digits() string { return p.digits }

// IsZero reports whether p is the zero PAN, holding no number.
func (p PAN) IsZero() bool { return p.digits == "" }

// Len returns the number of digits: 15, 16, or 0 for the zero PAN.
func (p PAN) Len() int { return len(p.digits) }

// Last returns the last n digits, for display. n is capped at 4, the most
// PCI DSS allows to be shown, so Last cannot be used to read the whole number;
// n <= 0 gives "".
func (p PAN) Last(n int) string {
	n = min(n, maskedPANDigits, len(p.digits))
	if n <= 0 {
		return ""
	}
	return p.digits[len(p.digits)-n:]
}

// Masked returns the form safe to show and log: four bullets, a space and the
// last four digits, e.g. "•••• 1234", for both 15- and 16-digit numbers. The
// zero PAN gives "".
func (p PAN) Masked() string {
	if p.digits == "" {
		return ""
	}
	return mask + mask + mask + mask + " " + p.Last(maskedPANDigits)
}

// CodeLength returns the length of the security code printed on the card: 4
// for 15-digit numbers (a CID on the front), 3 for 16-digit ones (a CVC on the
// back), 0 for the zero PAN.
func (p PAN) CodeLength() int {
	switch len(p.digits) {
	case 15:
		return 4
	case 16:
		return 3
	}
	return 0
}

// String returns the masked form.
func (p PAN) String() string { return p.Masked() }

// GoString returns the masked form, so %#v does not print the digits.
func (p PAN) GoString() string { return p.Masked() }

// Format prints the masked form for every verb.
func (p PAN) Format(f fmt.State, verb rune) { formatMasked(f, verb, p.Masked()) }

// LogValue returns the masked form, so slog never records the digits.
func (p PAN) LogValue() slog.Value { return slog.StringValue(p.Masked()) }

// ScreenDigits returns the trailing digits a member's own screens show to tell cards
// apart: 5 for a 15-digit number, as these cards are known ("ending 12345"), and 4 for
// a 16-digit one. They are stored in clear beside the sealed number for that purpose.
func ScreenDigits(p PAN) string {
	n := 4
	if p.Len() == 15 {
		n = 5
	}
	return p.digits[len(p.digits)-n:]
}
