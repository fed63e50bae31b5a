package card

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePAN(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // digits; "" when an error is expected
		err  error
	}{
		{name: "16 plain", in: "4111111111111111", want: "4111111111111111"},
		{name: "16 spaces", in: "4111 1111 1111 1111", want: "4111111111111111"},
		{name: "16 hyphens", in: "5555-5555-5555-4444", want: "5555555555554444"},
		{name: "16 mixed separators", in: "5555 5555-5555 4444", want: "5555555555554444"},
		{name: "16 2-series", in: "2223 0000 4840 0011", want: "2223000048400011"},
		{name: "16 leading 6", in: "6011111111111117", want: "6011111111111117"},
		{name: "15 prefix 37", in: "3782 822463 10005", want: "378282246310005"},
		{name: "15 prefix 34", in: "343434343434343", want: "343434343434343"},
		{name: "surrounding spaces", in: "  4111111111111111 ", want: "4111111111111111"},
		{name: "odd grouping", in: "41 11111 111111 111", want: "4111111111111111"},

		{name: "empty", in: "", err: ErrPANFormat},
		{name: "only spaces", in: "   ", err: ErrPANFormat},
		{name: "only hyphen", in: "-", err: ErrPANFormat},
		{name: "double space", in: "4111  1111 1111 1111", err: ErrPANFormat},
		{name: "space hyphen", in: "4111 -1111 1111 1111", err: ErrPANFormat},
		{name: "leading hyphen", in: "-4111111111111111", err: ErrPANFormat},
		{name: "trailing hyphen", in: "4111111111111111-", err: ErrPANFormat},
		{name: "tab", in: "4111\t1111 1111 1111", err: ErrPANFormat},
		{name: "newline", in: "4111111111111111\n", err: ErrPANFormat},
		{name: "NUL", in: "4111111111111111\x00", err: ErrPANFormat},
		{name: "letter", in: "4111 1111 1111 111a", err: ErrPANFormat},
		{name: "dot", in: "4111.1111.1111.1111", err: ErrPANFormat},
		{name: "fullwidth digits", in: "４１１１１１１１１１１１１１１１", err: ErrPANFormat},
		{name: "invalid UTF-8", in: "4111111111111111\xff", err: ErrPANFormat},
		{name: "no-break space", in: "4111\u00a01111 1111 1111", err: ErrPANFormat},
		{name: "too long input", in: strings.Repeat(" ", 30) + "4111111111111111", err: ErrPANFormat},

		{name: "14 digits", in: "30569309025904", err: ErrPANLength},
		{name: "17 digits", in: "41111111111111113", err: ErrPANLength},
		{name: "19 digits", in: "4111111111111111110", err: ErrPANLength},
		{name: "1 digit", in: "4", err: ErrPANLength},
		{name: "15 prefix 36", in: "361111111111111", err: ErrPANPrefix},
		{name: "15 prefix 4", in: "411111111111111", err: ErrPANPrefix},
		{name: "16 prefix 1", in: "1111111111111117", err: ErrPANPrefix},
		{name: "16 prefix 7", in: "7111111111111111", err: ErrPANPrefix},
		{name: "16 prefix 0", in: "0111111111111111", err: ErrPANPrefix},
		{name: "16 bad check digit", in: "4111111111111112", err: ErrPANLuhn},
		{name: "15 bad check digit", in: "378282246310006", err: ErrPANLuhn},
		{name: "transposed digits", in: "4111111111111121", err: ErrPANLuhn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePAN(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParsePAN: err = %v, want %v", err, tt.err)
				}
				if !p.IsZero() {
					t.Errorf("ParsePAN returned a non-zero PAN with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePAN: unexpected error %v", err)
			}
			if got := p.Digits(); got != tt.want {
				t.Errorf("Digits() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPANErrorsDoNotQuoteInput(t *testing.T) {
	for _, in := range []string{
		"4111111111111112",
		"7111111111111111",
		"41111111111111113",
		"4111 1111 1111 111x",
		"4111111111111111" + strings.Repeat("1", 30),
	} {
		_, err := ParsePAN(in)
		if err == nil {
			t.Fatalf("ParsePAN accepted a bad number")
		}
		if strings.Contains(err.Error(), "111111") {
			t.Errorf("error %q quotes the input", err)
		}
	}
}

func TestPANMethods(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		len        int
		masked     string
		codeLength int
	}{
		{"16 digits", "4012 8888 8888 1881", 16, "•••• 1881", 3},
		{"15 digits", "3714 496353 98431", 15, "•••• 8431", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePAN(tt.in)
			if err != nil {
				t.Fatalf("ParsePAN: %v", err)
			}
			if got := p.Len(); got != tt.len {
				t.Errorf("Len() = %d, want %d", got, tt.len)
			}
			if got := p.Masked(); got != tt.masked {
				t.Errorf("Masked() = %q, want %q", got, tt.masked)
			}
			if got := p.CodeLength(); got != tt.codeLength {
				t.Errorf("CodeLength() = %d, want %d", got, tt.codeLength)
			}
			digits := p.Digits()
			for n, want := range map[int]string{
				-1: "", 0: "", 1: digits[len(digits)-1:], 4: digits[len(digits)-4:],
				// Last must not become a second way to read the whole number.
				5: digits[len(digits)-4:], 16: digits[len(digits)-4:], 100: digits[len(digits)-4:],
			} {
				if got := p.Last(n); got != want {
					t.Errorf("Last(%d) = %q, want %q", n, got, want)
				}
			}
		})
	}
}

func TestZeroPAN(t *testing.T) {
	var p PAN
	if !p.IsZero() || p.Len() != 0 || p.Last(4) != "" || p.Masked() != "" || p.CodeLength() != 0 || p.String() != "" {
		t.Errorf("zero PAN methods are not all empty")
	}
}

func TestScreenDigits(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"378282246310005", "10005"},
		{"5555555555554444", "4444"},
	} {
		p, err := ParsePAN(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := ScreenDigits(p); got != c.want {
			t.Errorf("ScreenDigits(%s) = %q, want %q", p, got, c.want)
		}
	}
}
