package card

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxExpiryInput bounds the input before any work is done.
const maxExpiryInput = 24

// Expiry is the expiry date printed on a card: a month and a four-digit year.
// A card is valid through the last day of its expiry month and expired from
// the first moment of the month after.
//
// Years are limited to 2000-2099 so that the printed two-digit year, the
// "MM/YY" String and the YYMM used in security codes are never ambiguous.
type Expiry struct {
	Month int // 1-12
	Year  int // four digits, 2000-2099
}

// ParseExpiry parses an expiry date as a person types it: "MM/YY", "MM/YYYY"
// (a one-digit month is accepted too), with any number of spaces around the
// slash and at either end, or "MMYY" with no separator. Two-digit years are
// 20YY. Errors are ErrExpiryFormat, ErrExpiryMonth or ErrExpiryYear.
func ParseExpiry(s string) (Expiry, error) {
	if len(s) > maxExpiryInput {
		return Expiry{}, ErrExpiryFormat
	}
	s = trimSpaces(s)
	var mm, yy string
	if m, y, ok := strings.Cut(s, "/"); ok {
		mm, yy = trimSpaces(m), trimSpaces(y)
		if len(mm) < 1 || len(mm) > 2 || (len(yy) != 2 && len(yy) != 4) {
			return Expiry{}, ErrExpiryFormat
		}
	} else {
		if len(s) != 4 {
			return Expiry{}, ErrExpiryFormat
		}
		mm, yy = s[:2], s[2:]
	}
	// allDigits first: Atoi alone would accept a sign.
	if !allDigits(mm) || !allDigits(yy) {
		return Expiry{}, ErrExpiryFormat
	}
	month, _ := strconv.Atoi(mm)
	year, _ := strconv.Atoi(yy)
	if len(yy) == 2 {
		year += 2000
	}
	e := Expiry{Month: month, Year: year}
	if err := e.Validate(); err != nil {
		return Expiry{}, err
	}
	return e, nil
}

// Validate reports whether e could have come from ParseExpiry, for an Expiry
// built by hand: nil, ErrExpiryMonth or ErrExpiryYear.
func (e Expiry) Validate() error {
	if e.Month < 1 || e.Month > 12 {
		return ErrExpiryMonth
	}
	if e.Year < 2000 || e.Year > 2099 {
		return ErrExpiryYear
	}
	return nil
}

// String returns the date as printed on the card, "MM/YY".
func (e Expiry) String() string {
	return fmt.Sprintf("%02d/%02d", e.Month, e.Year%100)
}

// YYMM returns the date as the four digits YYMM that card security codes are
// computed over.
func (e Expiry) YYMM() string {
	return fmt.Sprintf("%02d%02d", e.Year%100, e.Month)
}

// End returns the first instant at which the card is expired: midnight at the
// start of the first day of the month after the expiry month, in loc. A nil
// loc means UTC.
func (e Expiry) End(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	// time.Date normalises month 13 to January of the next year.
	return time.Date(e.Year, time.Month(e.Month)+1, 1, 0, 0, 0, 0, loc)
}

// Expired reports whether the card has expired at now. A card is valid
// through the last day of its expiry month, judged in now's location: pass
// now.In(issuerZone) to judge by the issuer's calendar rather than the
// server's.
func (e Expiry) Expired(now time.Time) bool {
	return !now.Before(e.End(now.Location()))
}
