package card

import "strconv"

// PINLength is the length of the PIN a member chooses online (SPEC AC8). The card
// network accepts 4 to 12 digits; the issuer's cards use 4.
const PINLength = 4

// PIN problems: message ids for the member, also used as field errors.
const (
	PINFormat    = "pin.format"            // not exactly PINLength digits
	PINSameDigit = "pin.trivial.same"      // 1111
	PINSequence  = "pin.trivial.sequence"  // 1234, 4321, 9012 (wrapping), 0987
	PINBirthYear = "pin.trivial.birthyear" // 1980, the holder's year of birth
	PINPairs     = "pin.trivial.pairs"     // 1212, 2121: two digits repeated
)

// CheckPIN returns the message id of the first reason pin is not acceptable, or "".
// It refuses what a thief tries first: all one digit, straight runs up or down
// (including those that wrap past 9, like 8901), a repeated pair (1212) and the year
// of birth of anyone in birthYears (the card holder's, the member's), which is printed
// on documents a stolen wallet also holds. pin is raw input: the digits are compared,
// never logged.
func CheckPIN(pin string, birthYears ...int) string {
	if len(pin) != PINLength || !allDigits(pin) {
		return PINFormat
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		prev, d := int(pin[i-1]-'0'), int(pin[i]-'0')
		same = same && d == prev
		up = up && d == (prev+1)%10
		down = down && d == (prev+9)%10
	}
	switch {
	case same:
		return PINSameDigit
	case up || down:
		return PINSequence
	case pin[0] == pin[2] && pin[1] == pin[3]:
		return PINPairs
	}
	for _, y := range birthYears {
		if y > 0 && strconv.Itoa(y) == pin {
			return PINBirthYear
		}
	}
	return ""
}
