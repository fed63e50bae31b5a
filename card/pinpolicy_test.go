package card

import "testing"

func TestCheckPIN(t *testing.T) {
	tests := []struct {
		name  string
		pin   string
		years []int
		want  string
	}{
		{"fine", "2719", []int{1980}, ""},
		{"fine with leading zero", "0472", nil, ""},
		{"too short", "123", nil, PINFormat},
		{"too long", "12345", nil, PINFormat},
		{"letters", "12a4", nil, PINFormat},
		{"space", "1 34", nil, PINFormat},
		{"empty", "", nil, PINFormat},
		{"full-width digits", "１２３４", nil, PINFormat},
		{"all zeros", "0000", nil, PINSameDigit},
		{"all nines", "9999", nil, PINSameDigit},
		{"ascending", "1234", nil, PINSequence},
		{"ascending from zero", "0123", nil, PINSequence},
		{"ascending wraps", "8901", nil, PINSequence},
		{"descending", "4321", nil, PINSequence},
		{"descending high", "9876", nil, PINSequence},
		{"descending wraps", "1098", nil, PINSequence},
		{"pairs", "1212", nil, PINPairs},
		{"pairs with zero", "0909", nil, PINPairs},
		{"birth year", "1980", []int{1980}, PINBirthYear},
		{"second birth year", "2001", []int{1980, 2001}, PINBirthYear},
		{"other year is fine", "1981", []int{1980}, ""},
		{"no year known", "1980", []int{0}, ""},
		{"almost a run", "1235", nil, ""},
		{"palindrome is fine", "1221", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPIN(tt.pin, tt.years...); got != tt.want {
				t.Errorf("CheckPIN(%q, %v) = %q, want %q", tt.pin, tt.years, got, tt.want)
			}
		})
	}
}
