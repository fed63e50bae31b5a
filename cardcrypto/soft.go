package cardcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"log/slog"
	"maps"
	"slices"

	"github.com/cardportal/cardportal/card"
)

var _ HSM = (*Soft)(nil)

// Domain separators. Every HMAC input starts with one of these as its first
// length-prefixed field, so values made for one purpose can never equal
// values made for another, even where two purposes share a key.
const (
	domainFingerprint = "cardportal/cardcrypto/pan-fingerprint/v1"
	domainMAC         = "cardportal/cardcrypto/mac/v1"
	domainPIN         = "cardportal/cardcrypto/pin-verification/v1"
)

// cvv2ServiceCode is the service code the published scheme uses for the code
// printed on a card (CVV2) rather than encoded on its stripe.
const cvv2ServiceCode = "000"

// Soft is a software HSM for development and tests. It is immutable after
// NewSoft and safe for concurrent use. It prints and logs with its keys
// redacted.
type Soft struct {
	active     string
	seal       map[string]cipher.AEAD
	fpKey      []byte
	cvkA, cvkB []byte
	pinKey     []byte
	zone       ZoneKey // the development zone PIN key, see DeriveZoneKey
}

// NewSoft builds a Soft from keys, which it validates and copies.
func NewSoft(keys Keys) (*Soft, error) {
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	k := keys.clone()
	s := &Soft{
		active: k.ActiveSealKey,
		seal:   make(map[string]cipher.AEAD, len(k.SealKeys)),
		fpKey:  k.FingerprintKey,
		cvkA:   k.CVK[:8],
		cvkB:   k.CVK[8:],
		pinKey: k.PINKey,
		zone:   DeriveZoneKey(k),
	}
	for id, key := range k.SealKeys {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		// Random 96-bit nonces, prepended to the ciphertext by the AEAD
		// itself, so no caller can reuse a nonce.
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, err
		}
		s.seal[id] = aead
	}
	return s, nil
}

// SealPAN encrypts pan with AES-256-GCM under the active seal key. Blob is
// nonce || ciphertext || tag, and the key id is authenticated as additional
// data, so a blob relabelled with another id fails to open.
func (s *Soft) SealPAN(pan card.PAN) (Sealed, error) {
	if pan.IsZero() {
		return Sealed{}, ErrNoPAN
	}
	blob := s.seal[s.active].Seal(nil, nil, []byte(pan.Digits()), []byte(s.active))
	return Sealed{KeyID: s.active, Blob: blob}, nil
}

// OpenPAN decrypts a Sealed made by SealPAN under any loaded seal key.
func (s *Soft) OpenPAN(sealed Sealed) (card.PAN, error) {
	aead, ok := s.seal[sealed.KeyID]
	if !ok {
		if validKeyID(sealed.KeyID) {
			return card.PAN{}, fmt.Errorf("%w: %q", ErrUnknownKey, sealed.KeyID)
		}
		return card.PAN{}, ErrUnknownKey
	}
	plain, err := aead.Open(nil, nil, sealed.Blob, []byte(sealed.KeyID))
	if err != nil {
		return card.PAN{}, ErrTampered
	}
	pan, err := card.ParsePAN(string(plain))
	clear(plain)
	if err != nil {
		// Authentic but not a PAN: sealed by something else under our key.
		return card.PAN{}, ErrTampered
	}
	return pan, nil
}

// Fingerprint returns HMAC-SHA-256 under the fingerprint key of the PAN's
// digits. It does not depend on the seal keys, so it survives their rotation.
// The zero PAN gives nil, which matches nothing.
func (s *Soft) Fingerprint(pan card.PAN) []byte {
	if pan.IsZero() {
		return nil
	}
	h := hmac.New(sha256.New, s.fpKey)
	writeField(h, domainFingerprint)
	writeField(h, pan.Digits())
	return h.Sum(nil)
}

// MAC returns HMAC-SHA-256 under the fingerprint key of purpose and data.
// purpose should be a constant naming what data is (e.g.
// "national-id-last4"), so equal data for different purposes gives unrelated
// MACs.
func (s *Soft) MAC(purpose string, data []byte) []byte {
	h := hmac.New(sha256.New, s.fpKey)
	writeField(h, domainMAC)
	writeField(h, purpose)
	writeField(h, data)
	return h.Sum(nil)
}

// CardCode computes the security code with CVV (see there) using service
// code "000", the published CVV2 construction. A 16-digit PAN gets the first
// 3 digits, which is a standard CVV2. A 15-digit PAN gets the first 4: the
// real CID algorithm of 15-digit issuers is not public, so this is the
// portal's own deterministic variant of the same construction.
func (s *Soft) CardCode(pan card.PAN, exp card.Expiry) (card.Code, error) {
	if pan.IsZero() {
		return card.Code{}, ErrNoPAN
	}
	if err := exp.Validate(); err != nil {
		return card.Code{}, err
	}
	digits, err := CVV(s.cvkA, s.cvkB, pan.Digits(), exp.YYMM(), cvv2ServiceCode)
	if err != nil {
		return card.Code{}, err
	}
	n := pan.CodeLength()
	return card.ParseCode(digits[:n], n)
}

// VerifyCardCode recomputes the code and compares it in constant time. It is
// false for a zero PAN or Code and for an invalid expiry.
func (s *Soft) VerifyCardCode(pan card.PAN, exp card.Expiry, code card.Code) bool {
	want, err := s.CardCode(pan, exp)
	if err != nil || code.IsZero() {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want.Digits()), []byte(code.Digits())) == 1
}

// PINVerificationValue returns HMAC-SHA-256 under the PIN key of the PAN and
// PIN. It stands in for the IBM 3624 offset or Visa PVV that a real HSM
// computes: like them it is keyed, so a database dump does not let anyone try
// the 10^4 four-digit PINs without also having the key. Binding the PAN makes
// equal PINs on different cards give unrelated values.
func (s *Soft) PINVerificationValue(pan card.PAN, pin PIN) ([]byte, error) {
	if pan.IsZero() {
		return nil, ErrNoPAN
	}
	if pin.IsZero() {
		return nil, ErrPINFormat
	}
	h := hmac.New(sha256.New, s.pinKey)
	writeField(h, domainPIN)
	writeField(h, pan.Digits())
	writeField(h, pin.Digits())
	return h.Sum(nil), nil
}

// writeField writes b prefixed by its length, so that no two different
// sequences of fields produce the same HMAC input.
func writeField[T string | []byte](h hash.Hash, b T) {
	h.Write(binary.AppendUvarint(nil, uint64(len(b))))
	h.Write([]byte(b))
}

func (s Soft) redacted() string {
	return fmt.Sprintf("cardcrypto.Soft{ActiveSealKey: %q, SealKeys: %q, key material redacted}",
		s.active, slices.Sorted(maps.Keys(s.seal)))
}

// String describes s without key material.
func (s Soft) String() string { return s.redacted() }

// GoString describes s without key material.
func (s Soft) GoString() string { return s.redacted() }

// Format describes s without key material for every verb: without it, %v of
// a *Soft would print its key fields.
func (s Soft) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.redacted()) }

// LogValue gives the key ids only.
func (s Soft) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("active_seal_key", s.active),
		slog.Any("seal_keys", slices.Sorted(maps.Keys(s.seal))),
	)
}
