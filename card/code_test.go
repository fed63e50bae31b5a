package card

import (
	"errors"
	"testing"
)

func TestParseCode(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		length int
		want   string
		err    error
	}{
		{name: "3 digits", in: "123", length: 3, want: "123"},
		{name: "4 digits", in: "0123", length: 4, want: "0123"},
		{name: "leading zeros kept", in: "000", length: 3, want: "000"},
		{name: "surrounding spaces", in: " 987 ", length: 3, want: "987"},

		{name: "too short", in: "12", length: 3, err: ErrCodeFormat},
		{name: "too long", in: "1234", length: 3, err: ErrCodeFormat},
		{name: "3 for 4", in: "123", length: 4, err: ErrCodeFormat},
		{name: "empty", in: "", length: 3, err: ErrCodeFormat},
		{name: "letter", in: "12a", length: 3, err: ErrCodeFormat},
		{name: "inner space", in: "1 23", length: 4, err: ErrCodeFormat},
		{name: "sign", in: "+12", length: 3, err: ErrCodeFormat},
		{name: "non-ASCII digit", in: "١٢٣", length: 3, err: ErrCodeFormat},
		{name: "long input", in: "123                 ", length: 3, err: ErrCodeFormat},
		{name: "length 2", in: "12", length: 2, err: ErrCodeLength},
		{name: "length 5", in: "12345", length: 5, err: ErrCodeLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCode(tt.in, tt.length)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseCode: err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCode: unexpected error %v", err)
			}
			if got.Digits() != tt.want || got.Len() != len(tt.want) {
				t.Errorf("ParseCode = %q (len %d), want %q", got.Digits(), got.Len(), tt.want)
			}
			if got.Masked() != "•••" {
				t.Errorf("Masked() = %q, want •••", got.Masked())
			}
		})
	}
}

func TestZeroCode(t *testing.T) {
	var c Code
	if !c.IsZero() || c.Len() != 0 || c.Masked() != "" || c.String() != "" {
		t.Errorf("zero Code methods are not all empty")
	}
}
