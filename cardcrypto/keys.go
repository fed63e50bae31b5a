package cardcrypto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// Key lengths.
const (
	sealKeyLen        = 32 // AES-256
	fingerprintKeyLen = 32 // HMAC-SHA-256 gains nothing from more
	cvkLen            = 16 // two single-DES keys, CVK A || CVK B
	maxKeyIDLen       = 32
)

// Keys is the key set a Soft HSM is built from. It prints and logs with the
// key material redacted.
type Keys struct {
	SealKeys       map[string][]byte // key id -> 32-byte AES-256 key
	ActiveSealKey  string            // which id seals new PANs; all loaded ids can open
	FingerprintKey []byte            // 32 bytes; keys Fingerprint and MAC
	CVK            []byte            // 16 bytes: a double-length DES key pair (CVK A || CVK B)
	PINKey         []byte            // 16 or 32 bytes
}

// GenerateKeys makes a fresh random key set with one seal key, "k1".
func GenerateKeys() (Keys, error) {
	k := Keys{
		SealKeys:       map[string][]byte{"k1": make([]byte, sealKeyLen)},
		ActiveSealKey:  "k1",
		FingerprintKey: make([]byte, fingerprintKeyLen),
		CVK:            make([]byte, cvkLen),
		PINKey:         make([]byte, 32),
	}
	for _, b := range [][]byte{k.SealKeys["k1"], k.FingerprintKey, k.PINKey} {
		if _, err := rand.Read(b); err != nil {
			return Keys{}, err
		}
	}
	if err := randomCVK(k.CVK); err != nil {
		return Keys{}, err
	}
	return k, k.Validate()
}

// randomCVK fills cvk with two distinct DES keys. It sets odd parity, which
// crypto/des ignores, so the keys could be loaded into a real HSM, which
// checks it.
func randomCVK(cvk []byte) error {
	for {
		if _, err := rand.Read(cvk); err != nil {
			return err
		}
		for i, b := range cvk {
			b &^= 1
			if bitsSet(b)%2 == 0 {
				b |= 1
			}
			cvk[i] = b
		}
		if !bytes.Equal(cvk[:8], cvk[8:]) {
			return nil
		}
	}
}

func bitsSet(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// RotateSealKey returns a copy of k with a fresh random seal key named id,
// made active. The old seal keys stay so that PANs they sealed still open;
// retire one only after every PAN it sealed has been resealed.
func (k Keys) RotateSealKey(id string) (Keys, error) {
	if !validKeyID(id) {
		return Keys{}, errBadKeyID
	}
	if _, ok := k.SealKeys[id]; ok {
		return Keys{}, fmt.Errorf("%w: seal key id %q is already in use", ErrInvalidKeys, id)
	}
	out := k.clone()
	key := make([]byte, sealKeyLen)
	if _, err := rand.Read(key); err != nil {
		return Keys{}, err
	}
	if out.SealKeys == nil {
		out.SealKeys = make(map[string][]byte)
	}
	out.SealKeys[id] = key
	out.ActiveSealKey = id
	return out, out.Validate()
}

// clone deep-copies k so that a Soft is not changed by a caller reusing or
// wiping the slices it was given.
func (k Keys) clone() Keys {
	out := Keys{
		ActiveSealKey:  k.ActiveSealKey,
		FingerprintKey: bytes.Clone(k.FingerprintKey),
		CVK:            bytes.Clone(k.CVK),
		PINKey:         bytes.Clone(k.PINKey),
	}
	if k.SealKeys != nil {
		out.SealKeys = make(map[string][]byte, len(k.SealKeys))
		for id, key := range k.SealKeys {
			out.SealKeys[id] = bytes.Clone(key)
		}
	}
	return out
}

var errBadKeyID = fmt.Errorf("%w: a seal key id must be 1 to %d letters, digits, '.', '_' or '-'", ErrInvalidKeys, maxKeyIDLen)

// validKeyID keeps ids short and printable: they are stored next to every
// sealed PAN and appear in error messages.
func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Validate reports the first reason k cannot be used, wrapped in
// ErrInvalidKeys. Messages name the key and its length, never its bytes.
func (k Keys) Validate() error {
	if len(k.SealKeys) == 0 {
		return fmt.Errorf("%w: no seal keys", ErrInvalidKeys)
	}
	for _, id := range slices.Sorted(maps.Keys(k.SealKeys)) {
		if !validKeyID(id) {
			return errBadKeyID
		}
		if err := checkKey(fmt.Sprintf("seal key %q", id), k.SealKeys[id], sealKeyLen); err != nil {
			return err
		}
	}
	if !validKeyID(k.ActiveSealKey) {
		return fmt.Errorf("%w: the active seal key id is missing or malformed", ErrInvalidKeys)
	}
	if _, ok := k.SealKeys[k.ActiveSealKey]; !ok {
		return fmt.Errorf("%w: active seal key %q is not among the seal keys", ErrInvalidKeys, k.ActiveSealKey)
	}
	if err := checkKey("fingerprint key", k.FingerprintKey, fingerprintKeyLen); err != nil {
		return err
	}
	if err := checkKey("CVK", k.CVK, cvkLen); err != nil {
		return err
	}
	// With A == B, two-key triple DES collapses to single DES.
	if bytes.Equal(k.CVK[:8], k.CVK[8:]) {
		return fmt.Errorf("%w: CVK A and CVK B must differ", ErrInvalidKeys)
	}
	switch len(k.PINKey) {
	case 16, 32:
		if err := checkKey("PIN key", k.PINKey, len(k.PINKey)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: PIN key must be 16 or 32 bytes, not %d", ErrInvalidKeys, len(k.PINKey))
	}
	// One key in two roles would let a value from one role stand in for the
	// other, and usually means a key was pasted twice.
	if bytes.Equal(k.FingerprintKey, k.PINKey) {
		return fmt.Errorf("%w: the fingerprint key and the PIN key must differ", ErrInvalidKeys)
	}
	for _, id := range slices.Sorted(maps.Keys(k.SealKeys)) {
		if bytes.Equal(k.SealKeys[id], k.FingerprintKey) || bytes.Equal(k.SealKeys[id], k.PINKey) {
			return fmt.Errorf("%w: seal key %q is also used as another kind of key", ErrInvalidKeys, id)
		}
	}
	return nil
}

func checkKey(name string, key []byte, want int) error {
	if len(key) != want {
		return fmt.Errorf("%w: %s must be %d bytes, not %d", ErrInvalidKeys, name, want, len(key))
	}
	// An all-zero key is what an unset or wiped key looks like.
	if !slices.ContainsFunc(key, func(b byte) bool { return b != 0 }) {
		return fmt.Errorf("%w: %s is all zero bytes", ErrInvalidKeys, name)
	}
	return nil
}

// redacted describes k without key material.
func (k Keys) redacted() string {
	return fmt.Sprintf("cardcrypto.Keys{ActiveSealKey: %q, SealKeys: %q, key material redacted}",
		k.ActiveSealKey, slices.Sorted(maps.Keys(k.SealKeys)))
}

// String describes k without key material.
func (k Keys) String() string { return k.redacted() }

// GoString describes k without key material.
func (k Keys) GoString() string { return k.redacted() }

// Format describes k without key material for every verb.
func (k Keys) Format(f fmt.State, verb rune) { formatRedacted(f, verb, k.redacted()) }

// LogValue gives the key ids only.
func (k Keys) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("active_seal_key", k.ActiveSealKey),
		slog.Any("seal_keys", slices.Sorted(maps.Keys(k.SealKeys))),
	)
}

// keyFileFormat names the layout of the key file so a later layout can be
// told apart.
const keyFileFormat = "cardportal-keys/v1"

// maxKeyFile bounds what DecodeKeys reads; a real key file is under 1 KiB.
const maxKeyFile = 64 << 10

type keyFile struct {
	Format         string            `json:"format"`
	ActiveSealKey  string            `json:"active_seal_key"`
	SealKeys       map[string]string `json:"seal_keys"`
	FingerprintKey string            `json:"fingerprint_key"`
	CVK            string            `json:"cvk"`
	PINKey         string            `json:"pin_key"`
}

// EncodeKeys writes k as a small JSON document with hex keys, for a
// development key file. The file holds every secret the system has: keep it
// outside the database and its backups, readable by the owner only (mode
// 0600).
func EncodeKeys(k Keys) ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	f := keyFile{
		Format:         keyFileFormat,
		ActiveSealKey:  k.ActiveSealKey,
		SealKeys:       make(map[string]string, len(k.SealKeys)),
		FingerprintKey: hex.EncodeToString(k.FingerprintKey),
		CVK:            hex.EncodeToString(k.CVK),
		PINKey:         hex.EncodeToString(k.PINKey),
	}
	for id, key := range k.SealKeys {
		f.SealKeys[id] = hex.EncodeToString(key)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeKeys reads a document written by EncodeKeys and validates it. Its
// errors wrap ErrInvalidKeys and quote nothing from the document but key ids,
// since a malformed key file may still hold real keys.
func DecodeKeys(data []byte) (Keys, error) {
	if len(data) > maxKeyFile {
		return Keys{}, fmt.Errorf("%w: key file is larger than %d bytes", ErrInvalidKeys, maxKeyFile)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f keyFile
	if err := dec.Decode(&f); err != nil {
		return Keys{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Keys{}, fmt.Errorf("%w: key file has data after the JSON object", ErrInvalidKeys)
	}
	if f.Format != keyFileFormat {
		return Keys{}, fmt.Errorf("%w: key file format must be %q", ErrInvalidKeys, keyFileFormat)
	}
	k := Keys{ActiveSealKey: f.ActiveSealKey, SealKeys: make(map[string][]byte, len(f.SealKeys))}
	var err error
	for _, id := range slices.Sorted(maps.Keys(f.SealKeys)) {
		if !validKeyID(id) {
			return Keys{}, errBadKeyID
		}
		if k.SealKeys[id], err = decodeHex(fmt.Sprintf("seal key %q", id), f.SealKeys[id]); err != nil {
			return Keys{}, err
		}
	}
	if k.FingerprintKey, err = decodeHex("fingerprint_key", f.FingerprintKey); err != nil {
		return Keys{}, err
	}
	if k.CVK, err = decodeHex("cvk", f.CVK); err != nil {
		return Keys{}, err
	}
	if k.PINKey, err = decodeHex("pin_key", f.PINKey); err != nil {
		return Keys{}, err
	}
	return k, k.Validate()
}

// decodeHex replaces encoding/hex's error, which quotes the offending
// character of what may be a key.
func decodeHex(name, s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not an even number of hex digits", ErrInvalidKeys, name)
	}
	return b, nil
}

// jsonError replaces encoding/json's errors, which can quote a character or a
// field name taken from the document.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: key file is not valid JSON (at byte %d)", ErrInvalidKeys, syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("%w: key file has a value of the wrong type (at byte %d)", ErrInvalidKeys, typ.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: key file is empty or cut short", ErrInvalidKeys)
	default:
		return fmt.Errorf("%w: key file has an unknown field or is not a JSON object", ErrInvalidKeys)
	}
}
