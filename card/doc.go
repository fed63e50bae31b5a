// Package card holds the card issuer's own vocabulary for what is printed on
// a card: the card number (PAN), its expiry date and its security code.
//
// The types parse what a cardholder types and refuse everything else, so the
// rest of the system never has to re-check a number it was handed. The PAN and
// the security code are secrets under PCI DSS: their String, Format, GoString
// and LogValue methods all print a masked form, and the digits come out only
// through an explicit Digits call, which is easy to find in review.
//
// Nothing here does I/O or cryptography; sealing, fingerprinting and
// computing security codes live in package cardcrypto.
package card

import "errors"

// Parse errors. They are plain sentinels, compared with errors.Is, and their
// messages never quote the input: the input is a card number or security code,
// and errors end up in logs.
var (
	ErrPANFormat    = errors.New("card: card number may contain only digits, with single spaces or hyphens between groups")
	ErrPANLength    = errors.New("card: card number must have 15 or 16 digits")
	ErrPANPrefix    = errors.New("card: card number is not in a range this issuer uses")
	ErrPANLuhn      = errors.New("card: card number check digit is wrong")
	ErrExpiryFormat = errors.New("card: expiry date must look like MM/YY, MM/YYYY or MMYY")
	ErrExpiryMonth  = errors.New("card: expiry month must be 01 to 12")
	ErrExpiryYear   = errors.New("card: expiry year must be 2000 to 2099")
	ErrCodeFormat   = errors.New("card: security code has the wrong number of digits or a character that is not a digit")
	ErrCodeLength   = errors.New("card: security code length must be 3 or 4")
)
