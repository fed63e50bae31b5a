package cardcrypto

import (
	"bytes"
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/card"
)

// testKeys returns a fixed, valid key set so results are reproducible.
func testKeys(t *testing.T) Keys {
	t.Helper()
	return Keys{
		SealKeys:       map[string][]byte{"k1": bytes.Repeat([]byte{0x11}, 32)},
		ActiveSealKey:  "k1",
		FingerprintKey: bytes.Repeat([]byte{0x22}, 32),
		CVK:            mustHex(t, "0123456789ABCDEFFEDCBA9876543210"),
		PINKey:         bytes.Repeat([]byte{0x33}, 32),
	}
}

func newSoft(t *testing.T, k Keys) *Soft {
	t.Helper()
	s, err := NewSoft(k)
	if err != nil {
		t.Fatalf("NewSoft: %v", err)
	}
	return s
}

func mustPAN(t *testing.T, s string) card.PAN {
	t.Helper()
	p, err := card.ParsePAN(s)
	if err != nil {
		t.Fatalf("ParsePAN: %v", err)
	}
	return p
}

const (
	pan16 = "4123456789012349" // the Visa CVV example's PAN with a valid check digit
	pan15 = "378282246310005"
)

func TestSealOpenRoundTrip(t *testing.T) {
	s := newSoft(t, testKeys(t))
	for _, in := range []string{pan16, pan15} {
		t.Run(in[:2], func(t *testing.T) {
			pan := mustPAN(t, in)
			sealed, err := s.SealPAN(pan)
			if err != nil {
				t.Fatalf("SealPAN: %v", err)
			}
			if sealed.KeyID != "k1" {
				t.Errorf("KeyID = %q, want k1", sealed.KeyID)
			}
			if want := 12 + len(in) + 16; len(sealed.Blob) != want {
				t.Errorf("len(Blob) = %d, want nonce+ciphertext+tag = %d", len(sealed.Blob), want)
			}
			if bytes.Contains(sealed.Blob, []byte(in)) {
				t.Errorf("Blob contains the PAN in clear")
			}
			got, err := s.OpenPAN(sealed)
			if err != nil {
				t.Fatalf("OpenPAN: %v", err)
			}
			if got != pan {
				t.Errorf("OpenPAN gave a different PAN")
			}
			again, _ := s.SealPAN(pan)
			if bytes.Equal(again.Blob, sealed.Blob) {
				t.Errorf("two seals of one PAN are equal: nonces are not random")
			}
		})
	}
	if _, err := s.SealPAN(card.PAN{}); !errors.Is(err, ErrNoPAN) {
		t.Errorf("SealPAN(zero) err = %v, want ErrNoPAN", err)
	}
}

func TestSealKeyRotation(t *testing.T) {
	k1 := testKeys(t)
	old := newSoft(t, k1)
	pan := mustPAN(t, pan16)
	sealedOld, err := old.SealPAN(pan)
	if err != nil {
		t.Fatal(err)
	}

	k2, err := k1.RotateSealKey("k2")
	if err != nil {
		t.Fatalf("RotateSealKey: %v", err)
	}
	if len(k1.SealKeys) != 1 {
		t.Fatalf("RotateSealKey changed its receiver")
	}
	rotated := newSoft(t, k2)

	got, err := rotated.OpenPAN(sealedOld)
	if err != nil || got != pan {
		t.Fatalf("rotated HSM cannot open a PAN sealed under k1: %v", err)
	}
	sealedNew, err := rotated.SealPAN(pan)
	if err != nil {
		t.Fatal(err)
	}
	if sealedNew.KeyID != "k2" {
		t.Errorf("new seal KeyID = %q, want k2", sealedNew.KeyID)
	}
	if _, err := old.OpenPAN(sealedNew); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old HSM opening a k2 seal: err = %v, want ErrUnknownKey", err)
	}
	if !bytes.Equal(old.Fingerprint(pan), rotated.Fingerprint(pan)) {
		t.Errorf("fingerprint changed with the seal key")
	}
	if _, err := k2.RotateSealKey("k1"); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("RotateSealKey reusing an id: err = %v, want ErrInvalidKeys", err)
	}
	if _, err := k2.RotateSealKey("bad id"); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("RotateSealKey with a bad id: err = %v, want ErrInvalidKeys", err)
	}
}

func TestNewSoftCopiesKeys(t *testing.T) {
	k := testKeys(t)
	s := newSoft(t, k)
	pan := mustPAN(t, pan16)
	fp := s.Fingerprint(pan)
	sealed, _ := s.SealPAN(pan)
	clear(k.FingerprintKey)
	clear(k.SealKeys["k1"])
	if !bytes.Equal(s.Fingerprint(pan), fp) {
		t.Errorf("wiping the caller's Keys changed the HSM")
	}
	if _, err := s.OpenPAN(sealed); err != nil {
		t.Errorf("wiping the caller's Keys changed the HSM: %v", err)
	}
}

func TestOpenPANTampered(t *testing.T) {
	k := testKeys(t)
	k.SealKeys["k2"] = bytes.Repeat([]byte{0x44}, 32)
	s := newSoft(t, k)
	pan := mustPAN(t, pan16)
	sealed, err := s.SealPAN(pan)
	if err != nil {
		t.Fatal(err)
	}

	for i := range sealed.Blob {
		for _, bit := range []byte{0x01, 0x80} {
			blob := bytes.Clone(sealed.Blob)
			blob[i] ^= bit
			if _, err := s.OpenPAN(Sealed{KeyID: "k1", Blob: blob}); !errors.Is(err, ErrTampered) {
				t.Fatalf("flipped bit %#x of byte %d: err = %v, want ErrTampered", bit, i, err)
			}
		}
	}

	other := testKeys(t)
	other.SealKeys["k1"] = bytes.Repeat([]byte{0x55}, 32)
	sameIDOtherKey, _ := newSoft(t, other).SealPAN(pan)

	tests := []struct {
		name   string
		sealed Sealed
		err    error
	}{
		{"relabelled to another loaded key", Sealed{KeyID: "k2", Blob: sealed.Blob}, ErrTampered},
		{"same id, different key", sameIDOtherKey, ErrTampered},
		{"truncated", Sealed{KeyID: "k1", Blob: sealed.Blob[:len(sealed.Blob)-1]}, ErrTampered},
		{"extended", Sealed{KeyID: "k1", Blob: append(bytes.Clone(sealed.Blob), 0)}, ErrTampered},
		{"nonce only", Sealed{KeyID: "k1", Blob: sealed.Blob[:12]}, ErrTampered},
		{"empty blob", Sealed{KeyID: "k1"}, ErrTampered},
		{"unknown key id", Sealed{KeyID: "k9", Blob: sealed.Blob}, ErrUnknownKey},
		{"empty key id", Sealed{Blob: sealed.Blob}, ErrUnknownKey},
		{"garbage key id", Sealed{KeyID: "k1\x00\n" + pan16, Blob: sealed.Blob}, ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.OpenPAN(tt.sealed)
			if !errors.Is(err, tt.err) {
				t.Fatalf("OpenPAN: err = %v, want %v", err, tt.err)
			}
			if !got.IsZero() {
				t.Errorf("OpenPAN returned a PAN with an error")
			}
			if strings.Contains(err.Error(), pan16) {
				t.Errorf("error quotes a PAN: %v", err)
			}
		})
	}
}

// TestOpenPANNotAPAN covers a blob that authenticates but does not hold a
// PAN, as if something else had been sealed under the key.
func TestOpenPANNotAPAN(t *testing.T) {
	s := newSoft(t, testKeys(t))
	blob := s.seal["k1"].Seal(nil, nil, []byte("not a card number"), []byte("k1"))
	if _, err := s.OpenPAN(Sealed{KeyID: "k1", Blob: blob}); !errors.Is(err, ErrTampered) {
		t.Errorf("err = %v, want ErrTampered", err)
	}
}

func TestFingerprint(t *testing.T) {
	k := testKeys(t)
	s := newSoft(t, k)
	a, b := mustPAN(t, pan16), mustPAN(t, pan15)

	fa := s.Fingerprint(a)
	if len(fa) != 32 {
		t.Fatalf("len(Fingerprint) = %d, want 32", len(fa))
	}
	if !bytes.Equal(fa, s.Fingerprint(a)) {
		t.Errorf("Fingerprint is not deterministic")
	}
	if bytes.Equal(fa, s.Fingerprint(b)) {
		t.Errorf("two PANs have one fingerprint")
	}
	k2 := testKeys(t)
	k2.FingerprintKey = bytes.Repeat([]byte{0x66}, 32)
	if bytes.Equal(fa, newSoft(t, k2).Fingerprint(a)) {
		t.Errorf("Fingerprint does not depend on the fingerprint key")
	}
	if s.Fingerprint(card.PAN{}) != nil {
		t.Errorf("Fingerprint(zero) is not nil")
	}
	if bytes.Equal(fa, s.MAC(domainFingerprint, []byte(a.Digits()))) || bytes.Equal(fa, s.MAC("pan", []byte(a.Digits()))) {
		t.Errorf("a MAC equals a fingerprint")
	}
}

func TestMAC(t *testing.T) {
	s := newSoft(t, testKeys(t))
	m := s.MAC("national-id-last4", []byte("1234"))
	if len(m) != 32 || !bytes.Equal(m, s.MAC("national-id-last4", []byte("1234"))) {
		t.Fatalf("MAC is not a deterministic 32-byte value")
	}
	distinct := map[string][]byte{
		"other data":    s.MAC("national-id-last4", []byte("1235")),
		"other purpose": s.MAC("phone-last4", []byte("1234")),
		"shifted split": s.MAC("national-id-last41", []byte("234")),
		"empty purpose": s.MAC("", []byte("national-id-last41234")),
	}
	for name, other := range distinct {
		if bytes.Equal(m, other) {
			t.Errorf("%s gives the same MAC", name)
		}
	}
}

func TestCardCode(t *testing.T) {
	s := newSoft(t, testKeys(t))
	exp := card.Expiry{Month: 1, Year: 2087}
	tests := []struct {
		name string
		pan  string
		want string // computed once by this implementation: a regression check, not a published vector
	}{
		{"16 digits is CVV2", pan16, cvvPrefix(t, pan16, "8701", 3)},
		{"15 digits is 4-digit variant", pan15, cvvPrefix(t, pan15, "8701", 4)},
		{"regression 16", pan16, "210"},
		{"regression 15", pan15, "3649"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pan := mustPAN(t, tt.pan)
			code, err := s.CardCode(pan, exp)
			if err != nil {
				t.Fatalf("CardCode: %v", err)
			}
			if code.Len() != pan.CodeLength() {
				t.Fatalf("code has %d digits, want %d", code.Len(), pan.CodeLength())
			}
			if code.Digits() != tt.want {
				t.Errorf("CardCode = %s, want %s", code.Digits(), tt.want)
			}
		})
	}
	if _, err := s.CardCode(card.PAN{}, exp); !errors.Is(err, ErrNoPAN) {
		t.Errorf("CardCode(zero PAN) err = %v", err)
	}
	if _, err := s.CardCode(mustPAN(t, pan16), card.Expiry{Month: 13, Year: 2030}); !errors.Is(err, card.ErrExpiryMonth) {
		t.Errorf("CardCode(bad expiry) err = %v", err)
	}
}

// cvvPrefix is CVV with the test CVK and service code 000.
func cvvPrefix(t *testing.T, pan, yymm string, n int) string {
	t.Helper()
	k := testKeys(t)
	d, err := CVV(k.CVK[:8], k.CVK[8:], pan, yymm, "000")
	if err != nil {
		t.Fatal(err)
	}
	return d[:n]
}

func TestVerifyCardCode(t *testing.T) {
	s := newSoft(t, testKeys(t))
	exp := card.Expiry{Month: 8, Year: 2029}
	for _, in := range []string{pan16, pan15} {
		t.Run(in[:2], func(t *testing.T) {
			pan := mustPAN(t, in)
			n := pan.CodeLength()
			right, err := s.CardCode(pan, exp)
			if err != nil {
				t.Fatal(err)
			}
			accepted := 0
			limit := 1000
			if n == 4 {
				limit = 10000
			}
			for i := range limit {
				c, err := card.ParseCode(fmt.Sprintf("%0*d", n, i), n)
				if err != nil {
					t.Fatal(err)
				}
				if s.VerifyCardCode(pan, exp, c) {
					accepted++
					if c != right {
						t.Errorf("accepted a wrong code")
					}
				}
			}
			if accepted != 1 {
				t.Errorf("accepted %d codes, want exactly 1", accepted)
			}
			if s.VerifyCardCode(pan, card.Expiry{Month: 9, Year: 2029}, right) {
				t.Errorf("accepted the code with another expiry")
			}
			if s.VerifyCardCode(pan, card.Expiry{}, right) {
				t.Errorf("accepted the code with an invalid expiry")
			}
			if s.VerifyCardCode(pan, exp, card.Code{}) {
				t.Errorf("accepted the zero code")
			}
		})
	}
	// A 3-digit code never verifies for a card with a 4-digit code.
	p15 := mustPAN(t, pan15)
	full, _ := s.CardCode(p15, exp)
	short, _ := card.ParseCode(full.Digits()[:3], 3)
	if s.VerifyCardCode(p15, exp, short) {
		t.Errorf("accepted a prefix of the right code")
	}
}

func TestCardCodeDependsOnCVK(t *testing.T) {
	k := testKeys(t)
	k2 := testKeys(t)
	k2.CVK = mustHex(t, "FEDCBA98765432100123456789ABCDEF")
	pan, exp := mustPAN(t, pan16), card.Expiry{Month: 1, Year: 2087}
	a, _ := newSoft(t, k).CardCode(pan, exp)
	b, _ := newSoft(t, k2).CardCode(pan, exp)
	if a == b {
		t.Errorf("swapping CVK A and B gave the same code (possible by chance, 1 in 1000; check the vector)")
	}
}

func TestPINVerificationValue(t *testing.T) {
	s := newSoft(t, testKeys(t))
	p1, p2 := mustPAN(t, pan16), mustPAN(t, pan15)
	pinA, _ := ParsePIN("1234")
	pinB, _ := ParsePIN("1235")
	pinLong, _ := ParsePIN("12341")

	v, err := s.PINVerificationValue(p1, pinA)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 32 {
		t.Fatalf("len = %d, want 32", len(v))
	}
	same, _ := s.PINVerificationValue(p1, pinA)
	if !hmac.Equal(v, same) {
		t.Errorf("not deterministic")
	}
	k2 := testKeys(t)
	k2.PINKey = bytes.Repeat([]byte{0x77}, 16)
	others := map[string]func() ([]byte, error){
		"other PIN":      func() ([]byte, error) { return s.PINVerificationValue(p1, pinB) },
		"longer PIN":     func() ([]byte, error) { return s.PINVerificationValue(p1, pinLong) },
		"other PAN":      func() ([]byte, error) { return s.PINVerificationValue(p2, pinA) },
		"other PIN key":  func() ([]byte, error) { return newSoft(t, k2).PINVerificationValue(p1, pinA) },
		"MAC of the PIN": func() ([]byte, error) { return s.MAC(domainPIN, []byte(p1.Digits()+pinA.Digits())), nil },
	}
	for name, f := range others {
		o, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if hmac.Equal(v, o) {
			t.Errorf("%s gives the same value", name)
		}
	}
	if bytes.Contains(v, []byte("1234")) {
		t.Errorf("value contains the PIN")
	}
	if _, err := s.PINVerificationValue(card.PAN{}, pinA); !errors.Is(err, ErrNoPAN) {
		t.Errorf("zero PAN: err = %v", err)
	}
	if _, err := s.PINVerificationValue(p1, PIN{}); !errors.Is(err, ErrPINFormat) {
		t.Errorf("zero PIN: err = %v", err)
	}
}

func TestParsePIN(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"4 digits", "0000", true},
		{"6 digits", "123456", true},
		{"12 digits", "123456789012", true},
		{"3 digits", "123", false},
		{"13 digits", "1234567890123", false},
		{"empty", "", false},
		{"space", " 1234", false},
		{"letter", "12a4", false},
		{"non-ASCII digits", "١٢٣٤", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePIN(tt.in)
			if !tt.ok {
				if !errors.Is(err, ErrPINFormat) || !p.IsZero() {
					t.Fatalf("ParsePIN = %v, want ErrPINFormat", err)
				}
				return
			}
			if err != nil || p.Digits() != tt.in || p.Masked() != "••••" {
				t.Fatalf("ParsePIN: %v", err)
			}
		})
	}
}

func TestSoftConcurrentUse(t *testing.T) {
	s := newSoft(t, testKeys(t))
	pan := mustPAN(t, pan16)
	exp := card.Expiry{Month: 1, Year: 2030}
	done := make(chan error)
	for range 8 {
		go func() {
			for range 100 {
				sealed, err := s.SealPAN(pan)
				if err == nil {
					_, err = s.OpenPAN(sealed)
				}
				if err == nil {
					_, err = s.CardCode(pan, exp)
				}
				s.Fingerprint(pan)
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
