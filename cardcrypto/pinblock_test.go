package cardcrypto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/cardportal/cardportal/card"
)

func panT(t testing.TB, s string) card.PAN {
	t.Helper()
	p, err := card.ParsePAN(s)
	if err != nil {
		t.Fatalf("ParsePAN: %v", err)
	}
	return p
}

func mustPIN(t testing.TB, s string) PIN {
	t.Helper()
	p, err := ParsePIN(s)
	if err != nil {
		t.Fatalf("ParsePIN: %v", err)
	}
	return p
}

// The clear format-0 block of the standard's worked example: PIN 1234, PAN
// 4111111111111111 gives 041234FFFFFFFFFF XOR 0000111111111111.
func TestClearPINBlock0KnownAnswer(t *testing.T) {
	tests := []struct{ pan, pin, want string }{
		{"4111111111111111", "1234", "041225eeeeeeeeee"},
		{"5555555555554444", "1234", "041261aaaaaaabbb"},
		{"378282246310005", "92389", "0592ba1ddb9cefff"},
	}
	for _, tt := range tests {
		got, err := ClearPINBlock0(panT(t, tt.pan), mustPIN(t, tt.pin))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got[:]) != tt.want {
			t.Errorf("ClearPINBlock0(%s) = %x, want %s", tt.pan, got, tt.want)
		}
	}
}

// Format 4's PAN field from the standard's layout: M = 16-12 = 4, the 16 digits, zero
// fill.
func TestPANField4(t *testing.T) {
	got, err := panField4("4111111111111111")
	if err != nil {
		t.Fatal(err)
	}
	if want := "44111111111111111000000000000000"; hex.EncodeToString(got[:]) != want {
		t.Errorf("panField4 = %x, want %s", got, want)
	}
	got, err = panField4("123456789")
	if err != nil {
		t.Fatal(err)
	}
	if want := "00001234567890000000000000000000"; hex.EncodeToString(got[:]) != want {
		t.Errorf("panField4(short) = %x, want %s", got, want)
	}
	pf, err := pinField4(mustPIN(t, "1234"), bytes.NewReader(make([]byte, 8)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "441234aaaaaaaaaa0000000000000000"; hex.EncodeToString(pf[:]) != want {
		t.Errorf("pinField4 = %x, want %s", pf, want)
	}
}

// A known-answer check of the encryption itself: format 0 under a fixed key is the
// triple-DES encryption of the clear block, computed independently here.
func TestPINBlockRoundTrip(t *testing.T) {
	z := ZoneKey{}
	copy(z.TDES[:], "0123456789abcdef")
	copy(z.AES[:], "fedcba9876543210")
	pan := panT(t, "4111111111111111")
	other := panT(t, "5555555555554444")
	for _, digits := range []string{"1234", "0000", "987654321012"} {
		pin := mustPIN(t, digits)
		b0, err := EncryptPINBlock0(z, pan, pin)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecryptPINBlock(z, PINBlockFormat0, pan, b0)
		if err != nil || got.Digits() != digits {
			t.Errorf("format 0 round trip of a %d-digit PIN failed: %v", len(digits), err)
		}
		b4, err := EncryptPINBlock4(z, pan, pin, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got, err = DecryptPINBlock(z, PINBlockFormat4, pan, b4)
		if err != nil || got.Digits() != digits {
			t.Errorf("format 4 round trip of a %d-digit PIN failed: %v", len(digits), err)
		}
		// The block is bound to its PAN: another card's number does not give the PIN.
		if got, err := DecryptPINBlock(z, PINBlockFormat4, other, b4); err == nil && got.Digits() == digits {
			t.Errorf("format 4 block decrypted to the PIN under another PAN")
		}
		// Random fill: two format-4 blocks of one PIN differ.
		b4b, _ := EncryptPINBlock4(z, pan, pin, rand.Reader)
		if bytes.Equal(b4, b4b) {
			t.Errorf("two format 4 blocks are equal")
		}
	}
	// Under another zone key the block does not decrypt.
	b0, _ := EncryptPINBlock0(z, pan, mustPIN(t, "1234"))
	z2 := z
	z2.TDES[0] ^= 0x80
	if _, err := DecryptPINBlock(z2, PINBlockFormat0, pan, b0); !errors.Is(err, ErrPINBlock) {
		t.Errorf("format 0 under the wrong key: err = %v, want ErrPINBlock", err)
	}
	if _, err := DecryptPINBlock(z, 3, pan, b0); !errors.Is(err, ErrPINBlock) {
		t.Errorf("unknown format: err = %v", err)
	}
}

func TestSoftPINBlockVerificationValue(t *testing.T) {
	keys, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	pan, pin := panT(t, "4111111111111111"), mustPIN(t, "4321")
	want, _ := s.PINVerificationValue(pan, pin)
	block, _ := EncryptPINBlock4(DeriveZoneKey(keys), pan, pin, rand.Reader)
	got, err := s.PINBlockVerificationValue(PINBlockFormat4, pan, block)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("PINBlockVerificationValue = %x, %v; want the PIN's value", got, err)
	}
	if z := DeriveZoneKey(keys); z.String() != "cardcrypto.ZoneKey{redacted}" {
		t.Errorf("ZoneKey prints %q", z.String())
	}
}

// FuzzDecryptPINBlock: any bytes under any format either fail with ErrPINBlock or
// give a 4-12 digit PIN that encrypts back (format 0, deterministic) to the block.
func FuzzDecryptPINBlock(f *testing.F) {
	z := ZoneKey{}
	copy(z.TDES[:], "0123456789abcdef")
	copy(z.AES[:], "fedcba9876543210")
	pan := panT(f, "4111111111111111")
	b0, _ := EncryptPINBlock0(z, pan, mustPIN(f, "1234"))
	b4, _ := EncryptPINBlock4(z, pan, mustPIN(f, "1234"), rand.Reader)
	f.Add(0, b0)
	f.Add(4, b4)
	f.Add(4, []byte{})
	f.Add(1, b0)
	f.Fuzz(func(t *testing.T, format int, block []byte) {
		pin, err := DecryptPINBlock(z, format, pan, block)
		if err != nil {
			if !errors.Is(err, ErrPINBlock) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if n := len(pin.Digits()); n < 4 || n > 12 {
			t.Fatalf("PIN of %d digits", n)
		}
		if format == PINBlockFormat0 {
			again, err := EncryptPINBlock0(z, pan, pin)
			if err != nil || !bytes.Equal(again, block) {
				t.Fatalf("format 0 block does not re-encrypt to itself")
			}
		}
	})
}
