package card

import (
	"errors"
	"io"
)

// binLength is how many leading digits name the issuer and product (the BIN). A
// replacement keeps them, so it is the same product from the same issuer.
const binLength = 6

// ErrGenerate is returned when no new number could be drawn.
var ErrGenerate = errors.New("card: could not generate a card number")

// NewPANLike draws a new card number for the same product as like: the same BIN and
// length, random account digits from rnd (crypto/rand.Reader in production), and a
// valid Luhn check digit. It never returns like itself. Uniqueness against every other
// card is the store's to enforce (fingerprints are unique); callers retry on a clash.
func NewPANLike(like PAN, rnd io.Reader) (PAN, error) {
	n := like.Len()
	if n == 0 {
		return PAN{}, ErrGenerate
	}
	buf := make([]byte, n-1-binLength)
	for tries := 0; tries < 16; tries++ {
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return PAN{}, errors.Join(ErrGenerate, err)
		}
		digits := make([]byte, 0, n)
		digits = append(digits, like.digits[:binLength]...)
		for _, b := range buf {
			// 250 is the largest multiple of 10 below 256: rejecting the rest keeps
			// every digit equally likely.
			if b >= 250 {
				digits = nil
				break
			}
			digits = append(digits, '0'+b%10)
		}
		if digits == nil {
			continue
		}
		digits = append(digits, LuhnCheckDigit(string(digits)))
		p, err := ParsePAN(string(digits))
		if err != nil || p.digits == like.digits {
			continue
		}
		return p, nil
	}
	return PAN{}, ErrGenerate
}
