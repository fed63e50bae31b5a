package card

import (
	"strings"
	"testing"
)

// inputDigits returns the ASCII digits of s in order.
func inputDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// checkErrorQuiet fails if err's message could carry a card number from in.
func checkErrorQuiet(t *testing.T, in string, err error) {
	t.Helper()
	if d := inputDigits(in); len(d) >= 12 && strings.Contains(err.Error(), d) {
		t.Fatalf("error message contains the input's digits: %v", err)
	}
	// Sentinels never echo input, so any run of the input's digits in the
	// message beyond the few fixed ones ("15 or 16") would be a leak.
	for _, run := range strings.FieldsFunc(in, func(r rune) bool { return r < '0' || r > '9' }) {
		if len(run) >= 4 && strings.Contains(err.Error(), run) {
			t.Fatalf("error message contains a run of input digits: %v", err)
		}
	}
}

func FuzzParsePAN(f *testing.F) {
	for _, s := range []string{
		"4111 1111 1111 1111",
		"4111-1111-1111-1111",
		"378282246310005",
		"3782 822463 10005",
		" 5555555555554444 ",
		"4111111111111112",
		"7111111111111111",
		"4111  1111 1111 1111",
		"4111\x001111",
		"４１１１",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePAN(s)
		if err != nil {
			checkErrorQuiet(t, s, err)
			if !p.IsZero() {
				t.Fatalf("non-zero PAN with error")
			}
			return
		}
		d := p.Digits()
		if !LuhnValid(d) {
			t.Fatalf("accepted a number failing Luhn")
		}
		if d != inputDigits(s) {
			t.Fatalf("Digits() is not the input's digits")
		}
		switch p.Len() {
		case 15:
			if d[:2] != "34" && d[:2] != "37" || p.CodeLength() != 4 {
				t.Fatalf("bad 15-digit PAN accepted")
			}
		case 16:
			if d[0] < '2' || d[0] > '6' || p.CodeLength() != 3 {
				t.Fatalf("bad 16-digit PAN accepted")
			}
		default:
			t.Fatalf("accepted a PAN of length %d", p.Len())
		}
		again, err := ParsePAN(d)
		if err != nil || again != p {
			t.Fatalf("Digits() does not round-trip: %v", err)
		}
		if m := p.Masked(); strings.Contains(m, d[:p.Len()-4]) || p.String() != m {
			t.Fatalf("masked form shows more than the last four digits")
		}
	})
}

func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"08/27", "08/2027", "0827", "8/27", "12 / 30", "13/27", "00/00", "1/2100", "08-27", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpiry(s)
		if err != nil {
			checkErrorQuiet(t, s, err)
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted an invalid expiry %+v: %v", e, err)
		}
		again, err := ParseExpiry(e.String())
		if err != nil || again != e {
			t.Fatalf("String() %q does not round-trip to %+v: %v", e.String(), e, err)
		}
		again, err = ParseExpiry(e.YYMM()[2:] + e.YYMM()[:2])
		if err != nil || again != e {
			t.Fatalf("MMYY from YYMM() does not round-trip: %v", err)
		}
		if !e.End(nil).After(e.End(nil).AddDate(0, -1, 0)) || e.Expired(e.End(nil).Add(-1)) || !e.Expired(e.End(nil)) {
			t.Fatalf("Expired is wrong around End for %+v", e)
		}
	})
}

func FuzzParseCode(f *testing.F) {
	for _, c := range []struct {
		s string
		n int
	}{{"123", 3}, {"0123", 4}, {" 987 ", 3}, {"12", 3}, {"1234", 3}, {"12a", 3}, {"12345", 5}, {"", 0}} {
		f.Add(c.s, c.n)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		c, err := ParseCode(s, n)
		if err != nil {
			checkErrorQuiet(t, s, err)
			if !c.IsZero() {
				t.Fatalf("non-zero Code with error")
			}
			return
		}
		if c.Len() != n || !allDigits(c.Digits()) || c.Digits() != inputDigits(s) {
			t.Fatalf("accepted a malformed code")
		}
		again, err := ParseCode(c.Digits(), n)
		if err != nil || again != c {
			t.Fatalf("Digits() does not round-trip: %v", err)
		}
		if strings.ContainsAny(c.String(), "0123456789") {
			t.Fatalf("String() shows digits")
		}
	})
}
