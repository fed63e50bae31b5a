package cardcrypto

import (
	"crypto/aes"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"

	"github.com/cardportal/cardportal/card"
)

// PIN blocks (ISO 9564-1): how a PIN entered at a terminal travels to the issuer,
// encrypted under a zone PIN key (ZPK) shared between the network and the issuer.
// Two formats are supported:
//
//   - Format 0 (ANSI X9.8): an 8-byte block. The PIN field is 0, the PIN length, the
//     PIN digits and F fill; the PAN field is four 0 nibbles and the 12 rightmost PAN
//     digits without the check digit. Their XOR is encrypted with two-key triple DES.
//   - Format 4: a 16-byte block for AES. The PIN field is 4, the length, the digits,
//     A fill to 16 nibbles and 8 random bytes; the PAN field is the PAN length less
//     12 (0 for shorter PANs), at least 12 PAN digits and 0 fill. The block is
//     AES(ZPK, AES(ZPK, PIN field) XOR PAN field).
//
// Errors never contain a PIN, a block or a key.

// PIN block formats.
const (
	PINBlockFormat0 = 0
	PINBlockFormat4 = 4
)

// ErrPINBlock is returned for a block that does not decrypt to a well-formed PIN
// field for the PAN; it deliberately does not say why.
var ErrPINBlock = errors.New("cardcrypto: malformed PIN block")

// ZoneKey is a zone PIN key pair: a double-length triple-DES key for format 0 and an
// AES-128 key for format 4. Separate keys, because one key must never serve two
// algorithms.
type ZoneKey struct {
	TDES [16]byte
	AES  [16]byte
}

// DeriveZoneKey derives a development zone PIN key from the key set's PIN key, so a
// development key file needs no new field. A production ZPK is exchanged with the
// network under a key-encryption key and lives only in the HSM.
func DeriveZoneKey(k Keys) ZoneKey {
	h := hmac.New(sha256.New, k.PINKey)
	writeField(h, "cardportal/cardcrypto/zone-pin-key/v1")
	sum := h.Sum(nil)
	var z ZoneKey
	copy(z.TDES[:], sum[:16])
	copy(z.AES[:], sum[16:])
	if subtle.ConstantTimeCompare(z.TDES[:8], z.TDES[8:]) == 1 {
		z.TDES[15] ^= 0xff // never collapse to single DES
	}
	return z
}

// String and the other printers keep the key material out of logs.
func (z ZoneKey) String() string { return "cardcrypto.ZoneKey{redacted}" }

// GoString describes z without key material.
func (z ZoneKey) GoString() string { return z.String() }

// pinField0 is the format-0 PIN field: 0, length, digits, F fill.
func pinField0(pin PIN) ([8]byte, error) {
	var f [8]byte
	d := pin.Digits()
	if len(d) < 4 || len(d) > 12 {
		return f, ErrPINFormat
	}
	nib := make([]byte, 16)
	nib[0], nib[1] = 0, byte(len(d))
	for i := 2; i < 16; i++ {
		nib[i] = 0xF
	}
	for i := 0; i < len(d); i++ {
		nib[2+i] = d[i] - '0'
	}
	for i := range f {
		f[i] = nib[2*i]<<4 | nib[2*i+1]
	}
	return f, nil
}

// panField0 is the format-0 PAN field: 0000 and the 12 rightmost digits excluding
// the check digit.
func panField0(pan string) ([8]byte, error) {
	var f [8]byte
	if len(pan) < 13 || !allDigits(pan) {
		return f, errors.New("cardcrypto: PIN block: PAN must be at least 13 digits")
	}
	twelve := pan[len(pan)-13 : len(pan)-1]
	if _, err := hex.Decode(f[2:], []byte(twelve)); err != nil {
		return f, err
	}
	return f, nil
}

// ClearPINBlock0 returns the unencrypted format-0 block (PIN field XOR PAN field),
// the value the standard's examples show; EncryptPINBlock0 encrypts it.
func ClearPINBlock0(pan card.PAN, pin PIN) ([8]byte, error) {
	pf, err := pinField0(pin)
	if err != nil {
		return pf, err
	}
	af, err := panField0(pan.Digits())
	if err != nil {
		return pf, err
	}
	var out [8]byte
	subtle.XORBytes(out[:], pf[:], af[:])
	return out, nil
}

func tdes(z ZoneKey) (interface {
	Encrypt(dst, src []byte)
	Decrypt(dst, src []byte)
}, error) {
	var k [24]byte
	copy(k[:], z.TDES[:])
	copy(k[16:], z.TDES[:8])
	c, err := des.NewTripleDESCipher(k[:])
	clear(k[:])
	return c, err
}

// EncryptPINBlock0 makes a format-0 PIN block under z.
func EncryptPINBlock0(z ZoneKey, pan card.PAN, pin PIN) ([]byte, error) {
	clearBlock, err := ClearPINBlock0(pan, pin)
	if err != nil {
		return nil, err
	}
	c, err := tdes(z)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 8)
	c.Encrypt(out, clearBlock[:])
	clear(clearBlock[:])
	return out, nil
}

// DecryptPINBlock0 recovers the PIN from a format-0 block for pan.
func DecryptPINBlock0(z ZoneKey, pan card.PAN, block []byte) (PIN, error) {
	if len(block) != 8 {
		return PIN{}, ErrPINBlock
	}
	af, err := panField0(pan.Digits())
	if err != nil {
		return PIN{}, ErrPINBlock
	}
	c, err := tdes(z)
	if err != nil {
		return PIN{}, err
	}
	var pf [8]byte
	c.Decrypt(pf[:], block)
	subtle.XORBytes(pf[:], pf[:], af[:])
	defer clear(pf[:])
	return parsePINField(pf[:], 0, 0xF)
}

// parsePINField reads control nibble ctl, the length, the digits and checks the fill
// nibbles of the first 8 bytes.
func parsePINField(f []byte, ctl, fill byte) (PIN, error) {
	nib := func(i int) byte {
		b := f[i/2]
		if i%2 == 0 {
			return b >> 4
		}
		return b & 0xF
	}
	if nib(0) != ctl {
		return PIN{}, ErrPINBlock
	}
	n := int(nib(1))
	if n < 4 || n > 12 {
		return PIN{}, ErrPINBlock
	}
	digits := make([]byte, n)
	for i := range n {
		d := nib(2 + i)
		if d > 9 {
			return PIN{}, ErrPINBlock
		}
		digits[i] = '0' + d
	}
	for i := 2 + n; i < 16; i++ {
		if nib(i) != fill {
			return PIN{}, ErrPINBlock
		}
	}
	return PIN{digits: string(digits)}, nil
}

// pinField4 is the format-4 plain PIN field: 4, length, digits, A fill, then 8
// random bytes from r.
func pinField4(pin PIN, r io.Reader) ([16]byte, error) {
	var f [16]byte
	d := pin.Digits()
	if len(d) < 4 || len(d) > 12 {
		return f, ErrPINFormat
	}
	nib := make([]byte, 16)
	nib[0], nib[1] = 4, byte(len(d))
	for i := 2; i < 16; i++ {
		nib[i] = 0xA
	}
	for i := 0; i < len(d); i++ {
		nib[2+i] = d[i] - '0'
	}
	for i := range 8 {
		f[i] = nib[2*i]<<4 | nib[2*i+1]
	}
	if _, err := io.ReadFull(r, f[8:]); err != nil {
		return f, err
	}
	return f, nil
}

// panField4 is the format-4 PAN field: M (PAN length - 12, 0 below 12 digits), the PAN
// left-padded with zeros to 12 digits, right-filled with zeros to 32 nibbles.
func panField4(pan string) ([16]byte, error) {
	var f [16]byte
	if len(pan) < 1 || len(pan) > 19 || !allDigits(pan) {
		return f, errors.New("cardcrypto: PIN block: PAN must be 1 to 19 digits")
	}
	m := 0
	if len(pan) > 12 {
		m = len(pan) - 12
	}
	for len(pan) < 12 {
		pan = "0" + pan
	}
	s := []byte{byte('0' + m)}
	s = append(s, pan...)
	for len(s) < 32 {
		s = append(s, '0')
	}
	if _, err := hex.Decode(f[:], s); err != nil {
		return f, err
	}
	return f, nil
}

// EncryptPINBlock4 makes a format-4 PIN block under z; r supplies the random fill.
func EncryptPINBlock4(z ZoneKey, pan card.PAN, pin PIN, r io.Reader) ([]byte, error) {
	pf, err := pinField4(pin, r)
	if err != nil {
		return nil, err
	}
	defer clear(pf[:])
	af, err := panField4(pan.Digits())
	if err != nil {
		return nil, err
	}
	c, err := aes.NewCipher(z.AES[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 16)
	c.Encrypt(out, pf[:])
	subtle.XORBytes(out, out, af[:])
	c.Encrypt(out, out)
	return out, nil
}

// DecryptPINBlock4 recovers the PIN from a format-4 block for pan.
func DecryptPINBlock4(z ZoneKey, pan card.PAN, block []byte) (PIN, error) {
	if len(block) != 16 {
		return PIN{}, ErrPINBlock
	}
	af, err := panField4(pan.Digits())
	if err != nil {
		return PIN{}, ErrPINBlock
	}
	c, err := aes.NewCipher(z.AES[:])
	if err != nil {
		return PIN{}, err
	}
	var b [16]byte
	defer clear(b[:])
	c.Decrypt(b[:], block)
	subtle.XORBytes(b[:], b[:], af[:])
	c.Decrypt(b[:], b[:])
	return parsePINField(b[:8], 4, 0xA)
}

// DecryptPINBlock dispatches on the format.
func DecryptPINBlock(z ZoneKey, format int, pan card.PAN, block []byte) (PIN, error) {
	switch format {
	case PINBlockFormat0:
		return DecryptPINBlock0(z, pan, block)
	case PINBlockFormat4:
		return DecryptPINBlock4(z, pan, block)
	}
	return PIN{}, ErrPINBlock
}

// PINBlockVerificationValue decrypts a PIN block under the soft HSM's zone key and
// returns the PIN verification value of the PIN in it, to compare with the stored
// one: the PIN itself never leaves the HSM boundary.
func (s *Soft) PINBlockVerificationValue(format int, pan card.PAN, block []byte) ([]byte, error) {
	pin, err := DecryptPINBlock(s.zone, format, pan, block)
	if err != nil {
		return nil, err
	}
	return s.PINVerificationValue(pan, pin)
}
