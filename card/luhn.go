package card

// LuhnValid reports whether digits, a string of ASCII digits ending in a check
// digit, passes the Luhn (mod 10) check. It is false for an empty string and
// for any string with a non-digit.
func LuhnValid(digits string) bool {
	if digits == "" {
		return false
	}
	sum, ok := luhnSum(digits, false)
	return ok && sum%10 == 0
}

// LuhnCheckDigit returns the ASCII digit that, appended to partial, makes a
// Luhn-valid number. It returns 0 (not '0') if partial is empty or has a
// non-digit, so a generator that forgets to check fails visibly.
func LuhnCheckDigit(partial string) byte {
	if partial == "" {
		return 0
	}
	// The check digit will be the rightmost digit, so the rightmost digit of
	// partial is the first one doubled.
	sum, ok := luhnSum(partial, true)
	if !ok {
		return 0
	}
	return '0' + byte((10-sum%10)%10)
}

// luhnSum adds the digits of s from the right, doubling every second one,
// starting with the rightmost if doubleFirst.
func luhnSum(s string, doubleFirst bool) (sum int, ok bool) {
	double := doubleFirst
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum, true
}
