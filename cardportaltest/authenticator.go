package cardportaltest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Authenticator is a software WebAuthn platform authenticator for tests: one ES256
// discoverable credential, "none" attestation, user presence and verification always
// given. It answers the options a relying party sends (the JSON form of WebAuthn
// Level 3, {"publicKey": {...}}) with the JSON a browser's credential.toJSON() gives,
// so tests below the browser can run whole ceremonies.
type Authenticator struct {
	Origin       string // the page's origin, written into the client data
	Counter      uint32 // the signature counter; each assertion adds one first
	CredentialID []byte
	UserHandle   []byte // set by Create
	// NoUV leaves the user-verified flag out of assertions: the member only touched
	// the authenticator, without fingerprint, face or PIN.
	NoUV bool
	key  *ecdsa.PrivateKey
}

// NewAuthenticator returns an authenticator with a fresh key, for pages at origin.
func NewAuthenticator(origin string) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{Origin: origin, CredentialID: id, key: key}
}

var b64 = base64.RawURLEncoding

type publicKeyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// Create answers creation options: it takes the user handle and returns the
// registration response.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o publicKeyOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	uh, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("user.id: %w", err)
	}
	a.UserHandle = uh
	pub, err := a.key.PublicKey.ECDH()
	if err != nil {
		return nil, err
	}
	xy := pub.Bytes()[1:] // X || Y after the uncompressed-point tag
	// COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
	cose := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21}
	cose = append(append(cose, cborHead(2, 32)...), xy[:32]...)
	cose = append(cose, 0x22)
	cose = append(append(cose, cborHead(2, 32)...), xy[32:]...)

	rp := sha256.Sum256([]byte(o.PublicKey.RP.ID))
	auth := append([]byte{}, rp[:]...)
	auth = append(auth, 0x01|0x04|0x40) // UP, UV, AT
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.CredentialID)))
	auth = append(auth, a.CredentialID...)
	auth = append(auth, cose...)

	att := []byte{0xa3}
	att = append(att, cborText("fmt")...)
	att = append(att, cborText("none")...)
	att = append(att, cborText("attStmt")...)
	att = append(att, 0xa0)
	att = append(att, cborText("authData")...)
	att = append(att, cborHead(2, uint64(len(auth)))...)
	att = append(att, auth...)

	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredentialID), "rawId": b64.EncodeToString(a.CredentialID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
}

// Get answers request options with an assertion signed by the credential.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o publicKeyOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, err
	}
	a.Counter++
	rp := sha256.Sum256([]byte(o.PublicKey.RPID))
	auth := append([]byte{}, rp[:]...)
	flags := byte(0x01 | 0x04) // UP, UV
	if a.NoUV {
		flags = 0x01
	}
	auth = append(auth, flags)
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	cd := a.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredentialID), "rawId": b64.EncodeToString(a.CredentialID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.UserHandle),
		},
	})
}

// cborHead is a CBOR item head of major type major and argument n.
func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n < 1<<8:
		return []byte{m | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	default:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
}

func cborText(s string) []byte { return append(cborHead(3, uint64(len(s))), s...) }
