package cardcrypto

import (
	"crypto/des"
	"crypto/subtle"
	"encoding/hex"
	"errors"
)

// CVV computes a card verification value by the published Visa CVV method
// and returns all 16 decimalised digits; a CVV or CVV2 is the first three of
// them (and this package's 4-digit CID the first four).
//
// cvkA and cvkB are the two halves of the double-length card verification key,
// 8 bytes each (DES parity bits are ignored). pan is 12 to 19 digits, yymm the
// expiry as YYMM, and serviceCode 3 digits: "000" for the CVV2 printed on a
// card, the magnetic-stripe service code (e.g. "101") for CVV1.
//
// The method: pan || yymm || serviceCode, right-padded with zeros to 32 hex
// digits, is split into two 8-byte blocks; the first is encrypted with single
// DES under CVK A, XORed with the second, and the result encrypted with
// two-key triple DES (EDE, A then B then A). Decimalisation then takes the
// decimal digits of the hex result in order, followed by its letters A-F
// mapped to 0-5 in order.
//
// Errors say which argument is malformed and never contain it.
func CVV(cvkA, cvkB []byte, pan, yymm, serviceCode string) (string, error) {
	switch {
	case len(cvkA) != 8 || len(cvkB) != 8:
		return "", errors.New("cardcrypto: CVV: CVK A and CVK B must be 8 bytes each")
	case len(pan) < 12 || len(pan) > 19 || !allDigits(pan):
		return "", errors.New("cardcrypto: CVV: PAN must be 12 to 19 digits")
	case len(yymm) != 4 || !allDigits(yymm):
		return "", errors.New("cardcrypto: CVV: expiry must be 4 digits, YYMM")
	case len(serviceCode) != 3 || !allDigits(serviceCode):
		return "", errors.New("cardcrypto: CVV: service code must be 3 digits")
	}

	// At most 19+4+3 = 26 digits, so the padding always fits.
	var hexData [32]byte
	for i := range hexData {
		hexData[i] = '0'
	}
	n := copy(hexData[:], pan)
	n += copy(hexData[n:], yymm)
	copy(hexData[n:], serviceCode)
	var data [16]byte
	if _, err := hex.Decode(data[:], hexData[:]); err != nil {
		return "", err // unreachable: digits are hex
	}

	a, err := des.NewCipher(cvkA)
	if err != nil {
		return "", err
	}
	var ede [24]byte
	copy(ede[0:], cvkA)
	copy(ede[8:], cvkB)
	copy(ede[16:], cvkA)
	tdes, err := des.NewTripleDESCipher(ede[:])
	clear(ede[:])
	if err != nil {
		return "", err
	}

	var block [8]byte
	a.Encrypt(block[:], data[:8])
	subtle.XORBytes(block[:], block[:], data[8:])
	tdes.Encrypt(block[:], block[:])

	var h [16]byte
	hex.Encode(h[:], block[:])
	out := make([]byte, 0, len(h))
	for _, c := range h {
		if c <= '9' {
			out = append(out, c)
		}
	}
	for _, c := range h {
		if c >= 'a' {
			out = append(out, '0'+c-'a')
		}
	}
	return string(out), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
