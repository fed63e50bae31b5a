package card

import "fmt"

// mask is the character shown in place of a hidden digit. A bullet, not an
// asterisk or an X, so a masked value can never be mistaken for input that a
// parser would accept.
const mask = "•"

// formatMasked writes masked for any verb, honouring width, precision and
// flags so masked values still line up in tables. Every verb, %x and %d
// included, gets the masked text: a Formatter that fell back to the default
// for some verb would print the struct and its digits.
func formatMasked(f fmt.State, verb rune, masked string) {
	if verb != 'q' {
		verb = 's'
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), masked)
}

// trimSpaces strips ASCII spaces only; strings.TrimSpace would also strip tabs,
// newlines and Unicode spaces, which the parsers mean to reject.
func trimSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
