package cardcrypto

import (
	"errors"
	"fmt"
)

// domainSecret separates member secrets from sealed PANs in the additional data, so
// neither kind of blob can be passed off as the other.
const domainSecret = "cardportal/secret/v1\x00"

func secretAD(purpose, keyID string) []byte {
	return []byte(domainSecret + purpose + "\x00" + keyID)
}

// SealSecret encrypts secret with AES-256-GCM under the active seal key, with the
// purpose and key id authenticated as additional data.
func (s *Soft) SealSecret(purpose string, secret []byte) (Sealed, error) {
	if purpose == "" || len(secret) == 0 {
		return Sealed{}, errors.New("cardcrypto: empty secret or purpose")
	}
	blob := s.seal[s.active].Seal(nil, nil, secret, secretAD(purpose, s.active))
	return Sealed{KeyID: s.active, Blob: blob}, nil
}

// OpenSecret decrypts a Sealed made by SealSecret for the same purpose under any
// loaded seal key.
func (s *Soft) OpenSecret(purpose string, sealed Sealed) ([]byte, error) {
	aead, ok := s.seal[sealed.KeyID]
	if !ok {
		if validKeyID(sealed.KeyID) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownKey, sealed.KeyID)
		}
		return nil, ErrUnknownKey
	}
	plain, err := aead.Open(nil, nil, sealed.Blob, secretAD(purpose, sealed.KeyID))
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}
