package issuer

import "strings"

// Address is a postal address: the card holder's billing address (SPEC AC11), where
// statements and plastics are sent. Country is an ISO 3166-1 alpha-2 code; Region is
// the state or province where the country uses one (a US state's two letters).
type Address struct {
	Line1    string
	Line2    string
	City     string
	Region   string
	Postcode string
	Country  string
}

// IsZero reports whether no address is set.
func (a Address) IsZero() bool { return a == Address{} }

// PostcodeKey folds a postcode for comparison: ASCII upper case with spaces and
// hyphens removed, so "123 45", "12345" and "12345 " are one postcode, as are
// "sw1a 1aa" and "SW1A1AA". It is what stores index and what the "Forgot User ID"
// check compares.
func PostcodeKey(p string) string {
	var b strings.Builder
	for i := range len(p) {
		c := p[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
