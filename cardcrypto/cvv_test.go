package cardcrypto

import (
	"encoding/hex"
	"strings"
	"testing"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCVVKnownAnswers checks CVV against values published with independent
// implementations of the Visa method; if one fails, CVV is wrong.
func TestCVVKnownAnswers(t *testing.T) {
	tests := []struct {
		name           string
		cvkA, cvkB     string
		pan, yymm, svc string
		digits         int
		want           string
	}{
		{
			// The example long used in descriptions of the Visa CVV method.
			name: "Visa CVV example",
			cvkA: "0123456789ABCDEF", cvkB: "FEDCBA9876543210",
			pan: "4123456789012345", yymm: "8701", svc: "101",
			digits: 3, want: "561",
		},
		{
			// Worked example with intermediate values (3DES result
			// 24E1A05574051BBF) in a public course exercise.
			name: "worked example, all digits",
			cvkA: "D676DCF3AFB73505", cvkB: "32EAF00EA253D875",
			pan: "4123450990122129", yymm: "0721", svc: "202",
			digits: 16, want: "2410557405140115",
		},
		{
			// From the test suite of the psec Python library.
			name: "psec",
			cvkA: "9999999999999999", cvkB: "8888888888888888",
			pan: "2222222222222222", yymm: "3333", svc: "111",
			digits: 3, want: "361",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CVV(mustHex(t, tt.cvkA), mustHex(t, tt.cvkB), tt.pan, tt.yymm, tt.svc)
			if err != nil {
				t.Fatalf("CVV: %v", err)
			}
			if len(got) != 16 {
				t.Fatalf("CVV returned %d digits, want 16", len(got))
			}
			if got[:tt.digits] != tt.want {
				t.Errorf("CVV = %s, want %s", got[:tt.digits], tt.want)
			}
		})
	}
}

func TestCVVInputErrors(t *testing.T) {
	a, b := mustHex(t, "0123456789ABCDEF"), mustHex(t, "FEDCBA9876543210")
	const pan = "4123456789012345"
	tests := []struct {
		name           string
		a, b           []byte
		pan, yymm, svc string
	}{
		{"short CVK A", a[:7], b, pan, "8701", "101"},
		{"long CVK B", a, append(b, 0), pan, "8701", "101"},
		{"short PAN", a, b, "41234567890", "8701", "101"},
		{"long PAN", a, b, pan + "0123", "8701", "101"},
		{"PAN with letter", a, b, "412345678901234A", "8701", "101"},
		{"expiry 3 digits", a, b, pan, "870", "101"},
		{"expiry letter", a, b, pan, "87O1", "101"},
		{"service code 4 digits", a, b, pan, "8701", "1010"},
		{"service code empty", a, b, pan, "8701", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CVV(tt.a, tt.b, tt.pan, tt.yymm, tt.svc)
			if err == nil {
				t.Fatal("CVV accepted malformed input")
			}
			if strings.Contains(err.Error(), "123456789") {
				t.Errorf("error quotes the PAN: %v", err)
			}
		})
	}
}

func TestCVVMaximumPAN(t *testing.T) {
	// 19 + 4 + 3 = 26 digits must still fit the 32-digit block.
	a, b := mustHex(t, "0123456789ABCDEF"), mustHex(t, "FEDCBA9876543210")
	got, err := CVV(a, b, "4123456789012345678", "8701", "101")
	if err != nil || len(got) != 16 {
		t.Fatalf("CVV with a 19-digit PAN = %q, %v", got, err)
	}
}
