package card

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestLuhnValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"visa test number", "4111111111111111", true},
		{"amex test number", "378282246310005", true},
		{"wikipedia example", "79927398713", true},
		{"single zero", "0", true},
		{"all zeros", "0000000000000000", true},
		{"wrong check digit", "4111111111111112", false},
		{"wikipedia wrong", "79927398710", false},
		{"empty", "", false},
		{"space", "4111 1111 1111 1111", false},
		{"letter", "411111111111111a", false},
		{"non-ASCII", "٤١١١", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LuhnValid(tt.in); got != tt.want {
				t.Errorf("LuhnValid(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestLuhnCheckDigit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want byte
	}{
		{"visa", "411111111111111", '1'},
		{"amex", "37828224631000", '5'},
		{"wikipedia", "7992739871", '3'},
		{"zero check digit", "000000000000000", '0'},
		{"empty", "", 0},
		{"letter", "41111111111111a", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LuhnCheckDigit(tt.in); got != tt.want {
				t.Errorf("LuhnCheckDigit(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestLuhnCheckDigitMakesValidNumbers is the demo data generator's use: any
// partial number completed with its check digit must parse.
func TestLuhnCheckDigitMakesValidNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		partial := "4" + strconv.FormatUint(r.Uint64N(9e13)+1e13, 10)
		full := partial + string(LuhnCheckDigit(partial))
		if !LuhnValid(full) {
			t.Fatalf("LuhnValid(%q) = false after LuhnCheckDigit", full)
		}
		if _, err := ParsePAN(full); err != nil {
			t.Fatalf("ParsePAN of a generated number: %v", err)
		}
		// Every other final digit must fail: the check catches any single-digit error.
		for d := byte('0'); d <= '9'; d++ {
			if d != full[len(full)-1] && LuhnValid(partial+string(d)) {
				t.Fatalf("LuhnValid accepted a wrong check digit")
			}
		}
	}
}
