// Package cardcrypto is the boundary between the card portal and the issuer's
// hardware security module (HSM). The rest of the system never holds a key: it
// asks an HSM to seal and open card numbers, to make lookup fingerprints and
// MACs, to compute and check card security codes and to derive PIN
// verification values.
//
// Soft is a software HSM for development and tests. It keeps its keys in
// process memory and its key file on disk, which a production issuer would
// never accept; a real deployment implements HSM over its HSM's API.
package cardcrypto

import (
	"errors"

	"github.com/cardportal/cardportal/card"
)

// HSM is what the system asks of the issuer's hardware security module.
// Implementations must be safe for concurrent use.
type HSM interface {
	// SealPAN encrypts a card number for storage. The result names the key
	// that sealed it so keys can rotate.
	SealPAN(pan card.PAN) (Sealed, error)
	// OpenPAN decrypts a sealed PAN; it fails with ErrUnknownKey if the key
	// id is not loaded, or ErrTampered.
	OpenPAN(s Sealed) (card.PAN, error)
	// Fingerprint is a keyed, deterministic digest of a PAN for lookups
	// (HMAC-SHA-256; 32 bytes). Same PAN, same fingerprint across key
	// rotations of the sealing key.
	Fingerprint(pan card.PAN) []byte
	// MAC is a keyed digest of other identifying data (e.g. the last 4 of a
	// national id), separated by purpose.
	MAC(purpose string, data []byte) []byte
	// CardCode computes the card security code (CID for 15-digit PANs: 4
	// digits; CVC for 16-digit: 3 digits) from PAN and expiry with the
	// issuer's card-verification key. Codes are never stored; they are
	// recomputed and compared.
	CardCode(pan card.PAN, exp card.Expiry) (card.Code, error)
	// VerifyCardCode compares in constant time.
	VerifyCardCode(pan card.PAN, exp card.Expiry, code card.Code) bool
	// PINVerificationValue returns a keyed verification value for a PIN
	// chosen for a card (never the PIN, never a plain hash). Compare values
	// with hmac.Equal.
	PINVerificationValue(pan card.PAN, pin PIN) ([]byte, error)
	// SealSecret encrypts a member secret that must be read back (a TOTP seed)
	// under the active seal key, bound to purpose: a blob sealed for one
	// purpose, or a sealed PAN, does not open as another.
	SealSecret(purpose string, secret []byte) (Sealed, error)
	// OpenSecret decrypts what SealSecret sealed for the same purpose; it fails
	// with ErrUnknownKey or ErrTampered like OpenPAN.
	OpenSecret(purpose string, s Sealed) ([]byte, error)
}

// Sealed is a card number encrypted for storage, with the id of the key that
// sealed it. Both fields are stored; neither is secret.
type Sealed struct {
	KeyID string
	Blob  []byte
}

// Errors from HSM methods. None of them carries key material, a card number
// or a PIN.
var (
	// ErrUnknownKey means a Sealed names a key that is not loaded: the key
	// was retired too early, or the wrong key file was loaded.
	ErrUnknownKey = errors.New("cardcrypto: sealing key is not loaded")
	// ErrTampered means a Sealed failed authentication: its blob or key id
	// was changed, or it was sealed under a different key with the same id.
	ErrTampered = errors.New("cardcrypto: sealed card number failed authentication")
	// ErrNoPAN is returned for the zero card.PAN.
	ErrNoPAN = errors.New("cardcrypto: no card number")
	// ErrInvalidKeys wraps every reason a key set is refused.
	ErrInvalidKeys = errors.New("cardcrypto: invalid keys")
)
