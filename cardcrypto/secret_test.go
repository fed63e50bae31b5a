package cardcrypto

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealSecret(t *testing.T) {
	keys, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("JBSWY3DPEHPK3PXP")
	sealed, err := s.SealSecret("totp", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed.Blob, secret) {
		t.Fatal("sealed blob holds the secret in clear")
	}
	got, err := s.OpenSecret("totp", sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("OpenSecret = %q, %v", got, err)
	}
	tests := []struct {
		name    string
		purpose string
		sealed  Sealed
		want    error
	}{
		{"other purpose", "recovery", sealed, ErrTampered},
		{"unknown key", "totp", Sealed{KeyID: "nope", Blob: sealed.Blob}, ErrUnknownKey},
		{"flipped bit", "totp", Sealed{KeyID: sealed.KeyID, Blob: append([]byte{sealed.Blob[0] ^ 1}, sealed.Blob[1:]...)}, ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.OpenSecret(tt.purpose, tt.sealed); !errors.Is(err, tt.want) {
				t.Errorf("OpenSecret = %v, want %v", err, tt.want)
			}
		})
	}
	pan, err := s.SealPAN(mustPAN(t, pan16))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenSecret("totp", pan); !errors.Is(err, ErrTampered) {
		t.Errorf("a sealed PAN opened as a secret: %v", err)
	}
}
