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

// hexStringsIn returns the strings of 8 or more hex digits in a JSON
// document: whatever might be a key, or part of one.
func hexStringsIn(data []byte) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if len(v) >= 8 {
				if _, err := hex.DecodeString(v[:len(v)&^1]); err == nil {
					out = append(out, v)
				}
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	var v any
	if json.Unmarshal(data, &v) == nil {
		walk(v)
	}
	return out
}

func FuzzDecodeKeys(f *testing.F) {
	k := Keys{
		SealKeys:       map[string][]byte{"k1": bytes.Repeat([]byte{0x11}, 32), "k2": bytes.Repeat([]byte{0x12}, 32)},
		ActiveSealKey:  "k2",
		FingerprintKey: bytes.Repeat([]byte{0x22}, 32),
		CVK:            []byte("ABCDEFGHIJKLMNOP"),
		PINKey:         bytes.Repeat([]byte{0x33}, 16),
	}
	good, err := EncodeKeys(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(""))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"format":"cardportal-keys/v1","seal_keys":{"k1":"zz"}}`))
	f.Add(append(good, good...))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeKeys(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidKeys) {
				t.Fatalf("error does not wrap ErrInvalidKeys: %v", err)
			}
			for _, s := range hexStringsIn(data) {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error quotes a value from the document: %v", err)
				}
			}
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("decoded keys do not validate: %v", err)
		}
		enc, err := EncodeKeys(got)
		if err != nil {
			t.Fatalf("EncodeKeys of decoded keys: %v", err)
		}
		again, err := DecodeKeys(enc)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("keys do not round-trip: %v", err)
		}
		if _, err := NewSoft(got); err != nil {
			t.Fatalf("NewSoft of decoded keys: %v", err)
		}
	})
}
