package cardcrypto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// keyMaterial lists every key in k as raw bytes and as hex in both cases, the
// forms an error or log line could leak it in.
func keyMaterial(k Keys) []string {
	var out []string
	add := func(b []byte) {
		if len(b) < 4 {
			return
		}
		out = append(out, string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)))
		// A 4-byte window is enough to recognise a leak of part of a key.
		out = append(out, hex.EncodeToString(b[:4]), hex.EncodeToString(b[len(b)-4:]))
	}
	for _, key := range k.SealKeys {
		add(key)
	}
	add(k.FingerprintKey)
	add(k.CVK)
	add(k.PINKey)
	return out
}

func checkNoKeyMaterial(t *testing.T, what, s string, k Keys) {
	t.Helper()
	for _, m := range keyMaterial(k) {
		if strings.Contains(s, m) {
			t.Errorf("%s contains key material: %q", what, s)
			return
		}
	}
}

// distinctKeys returns a valid key set whose every key is recognisable.
func distinctKeys(t *testing.T) Keys {
	t.Helper()
	return Keys{
		SealKeys:       map[string][]byte{"k1": bytes.Repeat([]byte{0xa1, 0xb2, 0xc3, 0xd4}, 8)},
		ActiveSealKey:  "k1",
		FingerprintKey: bytes.Repeat([]byte{0xe5, 0xf6, 0x17, 0x28}, 8),
		CVK:            mustHex(t, "0123456789ABCDEFFEDCBA9876543210"),
		PINKey:         bytes.Repeat([]byte{0x39, 0x4a, 0x5b, 0x6c}, 8),
	}
}

func TestKeysValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(k *Keys)
		want   string // part of the error message; "" for valid
	}{
		{"valid", func(k *Keys) {}, ""},
		{"16-byte PIN key", func(k *Keys) { k.PINKey = k.PINKey[:16] }, ""},
		{"two seal keys", func(k *Keys) { k.SealKeys["k2"] = bytes.Repeat([]byte{9}, 32) }, ""},
		{"no seal keys", func(k *Keys) { k.SealKeys = nil }, "no seal keys"},
		{"short seal key", func(k *Keys) { k.SealKeys["k1"] = k.SealKeys["k1"][:16] }, `seal key "k1" must be 32 bytes, not 16`},
		{"zero seal key", func(k *Keys) { k.SealKeys["k1"] = make([]byte, 32) }, `seal key "k1" is all zero bytes`},
		{"empty seal key id", func(k *Keys) { k.SealKeys[""] = k.SealKeys["k1"] }, "seal key id must be"},
		{"seal key id with space", func(k *Keys) { k.SealKeys["k 2"] = k.SealKeys["k1"] }, "seal key id must be"},
		{"long seal key id", func(k *Keys) { k.SealKeys[strings.Repeat("k", 33)] = k.SealKeys["k1"] }, "seal key id must be"},
		{"no active key", func(k *Keys) { k.ActiveSealKey = "" }, "active seal key id is missing"},
		{"active key not loaded", func(k *Keys) { k.ActiveSealKey = "k2" }, `active seal key "k2" is not among`},
		{"long fingerprint key", func(k *Keys) { k.FingerprintKey = append(k.FingerprintKey, 1) }, "fingerprint key must be 32 bytes, not 33"},
		{"no fingerprint key", func(k *Keys) { k.FingerprintKey = nil }, "fingerprint key must be 32 bytes, not 0"},
		{"short CVK", func(k *Keys) { k.CVK = k.CVK[:8] }, "CVK must be 16 bytes, not 8"},
		{"triple-length CVK", func(k *Keys) { k.CVK = append(k.CVK, k.CVK[:8]...) }, "CVK must be 16 bytes, not 24"},
		{"CVK A equals B", func(k *Keys) { copy(k.CVK[8:], k.CVK[:8]) }, "CVK A and CVK B must differ"},
		{"zero CVK", func(k *Keys) { k.CVK = make([]byte, 16) }, "CVK is all zero bytes"},
		{"24-byte PIN key", func(k *Keys) { k.PINKey = k.PINKey[:24] }, "PIN key must be 16 or 32 bytes, not 24"},
		{"zero PIN key", func(k *Keys) { k.PINKey = make([]byte, 32) }, "PIN key is all zero bytes"},
		{"PIN key is fingerprint key", func(k *Keys) { k.PINKey = k.FingerprintKey }, "fingerprint key and the PIN key must differ"},
		{"seal key is fingerprint key", func(k *Keys) { k.SealKeys["k1"] = k.FingerprintKey }, `seal key "k1" is also used`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := distinctKeys(t)
			tt.modify(&k)
			err := k.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := NewSoft(k); err != nil {
					t.Fatalf("NewSoft: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidKeys) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want ErrInvalidKeys with %q", err, tt.want)
			}
			checkNoKeyMaterial(t, "error", err.Error(), k)
			checkNoKeyMaterial(t, "error", err.Error(), distinctKeys(t))
			if _, err := NewSoft(k); !errors.Is(err, ErrInvalidKeys) {
				t.Errorf("NewSoft accepted the keys Validate refused")
			}
		})
	}
}

func TestGenerateKeys(t *testing.T) {
	a, err := GenerateKeys()
	if err != nil {
		t.Fatalf("GenerateKeys: %v", err)
	}
	b, err := GenerateKeys()
	if err != nil {
		t.Fatalf("GenerateKeys: %v", err)
	}
	if a.ActiveSealKey != "k1" || len(a.SealKeys) != 1 {
		t.Errorf("GenerateKeys did not make a single active key k1: %v", a)
	}
	if bytes.Equal(a.SealKeys["k1"], b.SealKeys["k1"]) || bytes.Equal(a.FingerprintKey, b.FingerprintKey) ||
		bytes.Equal(a.CVK, b.CVK) || bytes.Equal(a.PINKey, b.PINKey) {
		t.Errorf("two calls gave a shared key")
	}
	for i, c := range a.CVK {
		if bitsSet(c)%2 != 1 {
			t.Errorf("CVK byte %d has even parity", i)
		}
	}
	if _, err := NewSoft(a); err != nil {
		t.Errorf("NewSoft(GenerateKeys()): %v", err)
	}
}

func TestEncodeDecodeKeys(t *testing.T) {
	k := distinctKeys(t)
	k.SealKeys["k2"] = bytes.Repeat([]byte{0x0f}, 32)
	k.ActiveSealKey = "k2"
	k.PINKey = k.PINKey[:16]
	data, err := EncodeKeys(k)
	if err != nil {
		t.Fatalf("EncodeKeys: %v", err)
	}
	got, err := DecodeKeys(data)
	if err != nil {
		t.Fatalf("DecodeKeys: %v", err)
	}
	if !reflect.DeepEqual(got, k) {
		t.Errorf("round trip changed the keys")
	}
	again, _ := EncodeKeys(got)
	if !bytes.Equal(again, data) {
		t.Errorf("encoding is not stable:\n%s\n%s", data, again)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || doc["format"] != keyFileFormat {
		t.Errorf("encoded keys are not the documented JSON: %v", err)
	}

	bad := distinctKeys(t)
	bad.CVK = bad.CVK[:8]
	if _, err := EncodeKeys(bad); !errors.Is(err, ErrInvalidKeys) {
		t.Errorf("EncodeKeys accepted invalid keys: %v", err)
	}
}

func TestDecodeKeysErrors(t *testing.T) {
	k := distinctKeys(t)
	good, err := EncodeKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	fp := hex.EncodeToString(k.FingerprintKey)
	replace := func(old, new string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("test file lacks %q", old)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "empty or cut short"},
		{"cut short", string(good[:len(good)/2]), "cut short"},
		{"not JSON", "seal_keys=" + fp, "not valid JSON"},
		{"array", "[\"" + fp + "\"]", "wrong type"},
		{"key not hex", replace(fp, "zz"+fp[2:]), "fingerprint_key is not an even number of hex digits"},
		{"key odd length", replace(fp, fp[1:]), "fingerprint_key is not an even number of hex digits"},
		{"key short", replace(fp, fp[:32]), "fingerprint key must be 32 bytes, not 16"},
		{"key as number", replace(`"`+fp+`"`, "12345"), "wrong type"},
		{"unknown field", replace(`"cvk"`, `"`+fp+`": "", "cvk"`), "unknown field"},
		{"misspelt field", replace(`"pin_key"`, `"pin_keys"`), "unknown field"},
		{"trailing data", string(good) + fp, "data after the JSON object"},
		{"two objects", string(good) + string(good), "data after the JSON object"},
		{"wrong format", replace(keyFileFormat, "cardportal-keys/v2"), "format must be"},
		{"no format", replace(`"format": "`+keyFileFormat+`",`, ""), "format must be"},
		{"bad key id", replace(`"k1": "`, `"k 1": "`), "seal key id must be"},
		{"too large", string(good) + strings.Repeat(" ", maxKeyFile), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeKeys([]byte(tt.in))
			if !errors.Is(err, ErrInvalidKeys) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeKeys = %v, want ErrInvalidKeys with %q", err, tt.want)
			}
			checkNoKeyMaterial(t, "error", err.Error(), k)
			if strings.Contains(err.Error(), "zz") {
				t.Errorf("error quotes the document: %v", err)
			}
		})
	}
}
