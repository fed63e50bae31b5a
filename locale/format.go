package locale

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// currency describes an ISO 4217 currency: its minor-unit exponent and its
// symbol in each locale (from CLDR). Where CLDR has no local symbol it
// uses the ISO code, and so do we.
type currency struct {
	digits int
	symbol [numLocales]string
}

var currencies = map[string]currency{
	//            en-US  en-IN  es     sv
	"USD": {2, [numLocales]string{"$", "$", "US$", "US$"}},
	"EUR": {2, [numLocales]string{"€", "€", "€", "€"}},
	"GBP": {2, [numLocales]string{"£", "£", "GBP", "GBP"}},
	"INR": {2, [numLocales]string{"₹", "₹", "INR", "INR"}},
	"SEK": {2, [numLocales]string{"SEK", "SEK", "SEK", "kr"}},
	"JPY": {0, [numLocales]string{"¥", "¥", "JPY", "JPY"}},
}

// Money formats an amount given in minor units of an ISO 4217 currency
// (cents for USD, öre for SEK, whole yen for JPY), e.g. en-US
// Money(-123456, "USD") = "-$1,234.56", sv Money(123456, "SEK") =
// "1 234,56 kr". Amounts are integers throughout so no binary floating
// point rounding can creep into balances.
//
// currency is case-insensitive. A code missing from the built-in table is
// shown as its upper-cased ISO code with 2 minor digits, the most common
// exponent; an argument that is not three ASCII letters is shown as the
// generic currency sign "¤" rather than echoing arbitrary input.
func (l Locale) Money(minor int64, currency string) string {
	in := l.info()
	code := strings.ToUpper(currency)
	digits, symbol := 2, code
	if c, ok := currencies[code]; ok {
		digits, symbol = c.digits, c.symbol[l.id]
	} else if !isISOCode(code) {
		symbol = "¤"
	}

	neg, u := split(minor)
	var b strings.Builder
	if neg {
		b.WriteString(in.minus)
	}
	if !in.currencyAfter {
		b.WriteString(symbol)
		// CLDR currency spacing: a letter symbol ("SEK") must not touch
		// the digits, a sign-like one ("$") does.
		if r, _ := utf8.DecodeLastRuneInString(symbol); unicode.IsLetter(r) {
			b.WriteString(nbsp)
		}
	}
	pow := uint64(1)
	for range digits {
		pow *= 10
	}
	b.WriteString(group(u/pow, in))
	if digits > 0 {
		b.WriteString(in.decimal)
		frac := strconv.FormatUint(u%pow, 10)
		b.WriteString(strings.Repeat("0", digits-len(frac)))
		b.WriteString(frac)
	}
	if in.currencyAfter {
		b.WriteString(nbsp)
		b.WriteString(symbol)
	}
	return b.String()
}

// Number formats an integer with the locale's grouping and minus sign:
// en-US "1,234,567", en-IN "12,34,567", es "1.234.567", sv "1 234 567"
// (U+00A0 between groups).
func (l Locale) Number(n int64) string {
	in := l.info()
	neg, u := split(n)
	if neg {
		return in.minus + group(u, in)
	}
	return group(u, in)
}

// Decimal formats units / 10^digits with the locale's grouping, decimal separator
// and minus sign, keeping every digit: en-US Decimal(2499, 2) = "24.99", es
// "24,99", sv Decimal(-123456, 1) = "−12 345,6". It is for rates and other
// non-money figures computed in integers; digits outside 0..18 is taken as 0.
func (l Locale) Decimal(units int64, digits int) string {
	if digits <= 0 || digits > 18 {
		return l.Number(units)
	}
	in := l.info()
	neg, u := split(units)
	pow := uint64(1)
	for range digits {
		pow *= 10
	}
	frac := strconv.FormatUint(u%pow, 10)
	s := group(u/pow, in) + in.decimal + strings.Repeat("0", digits-len(frac)) + frac
	if neg {
		return in.minus + s
	}
	return s
}

// split returns the sign and magnitude of n. The magnitude is unsigned so
// that math.MinInt64, whose negation overflows int64, still formats.
func split(n int64) (neg bool, mag uint64) {
	if n < 0 {
		return true, uint64(-(n + 1)) + 1
	}
	return false, uint64(n)
}

// group writes u in decimal with the locale's grouping separator: groups
// of three, or for Indian grouping three then twos (1,23,45,678).
func group(u uint64, in *info) string {
	s := strconv.FormatUint(u, 10)
	if len(s) <= 3 {
		return s
	}
	// Walk from the right to find where each group starts.
	var starts []int
	size := 3
	for i := len(s) - 3; i > 0; i -= size {
		starts = append(starts, i)
		if in.indian {
			size = 2
		}
	}
	var b strings.Builder
	b.Grow(len(s) + len(starts)*len(in.group))
	prev := 0
	for k := len(starts) - 1; k >= 0; k-- {
		b.WriteString(s[prev:starts[k]])
		b.WriteString(in.group)
		prev = starts[k]
	}
	b.WriteString(s[prev:])
	return b.String()
}

func isISOCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Date formats the calendar date of t, in t's own location, in the
// locale's medium style: en-US "Nov 22, 2026", en-IN "22 Nov 2026",
// es "22 nov 2026", sv "22 nov. 2026".
func (l Locale) Date(t time.Time) string {
	in := l.info()
	y, m, d := t.Date()
	month := in.months[m-1]
	if in.monthFirst {
		return month + " " + strconv.Itoa(d) + ", " + strconv.Itoa(y)
	}
	return strconv.Itoa(d) + " " + month + " " + strconv.Itoa(y)
}

// DateTime formats t converted to loc as a medium date and a short time:
// en-US "Nov 22, 2026, 3:04 PM", en-IN "22 Nov 2026, 15:04",
// es "22 nov 2026, 15:04", sv "22 nov. 2026 15:04". The location is
// explicit because the server's zone is rarely the customer's. A nil loc
// keeps t's own location.
//
// en-US separates "PM" with an ordinary space, not the U+202F that recent
// CLDR versions use, because that character breaks copy-paste and search
// in many user agents.
func (l Locale) DateTime(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	in := l.info()
	h, m := t.Hour(), t.Minute()
	var clock string
	switch {
	case in.clock12:
		suffix := " AM"
		if h >= 12 {
			suffix = " PM"
		}
		if h = h % 12; h == 0 {
			h = 12
		}
		clock = strconv.Itoa(h) + ":" + two(m) + suffix
	case in.padHour:
		clock = two(h) + ":" + two(m)
	default:
		clock = strconv.Itoa(h) + ":" + two(m)
	}
	return l.Date(t) + in.dtSep + clock
}

// two formats 0–99 with a leading zero.
func two(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}
