package card

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"testing/iotest"
)

func TestNewPANLike(t *testing.T) {
	for _, s := range []string{"378282246310005", "4111111111111111", "5555555555554444"} {
		like, err := ParsePAN(s)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for range 200 {
			p, err := NewPANLike(like, rand.Reader)
			if err != nil {
				t.Fatalf("NewPANLike: %v", err)
			}
			d := p.Digits()
			if len(d) != len(s) || d[:6] != s[:6] || !LuhnValid(d) || d == s {
				t.Fatalf("NewPANLike(%s) = %s: want same BIN and length, Luhn-valid, different", like, p.Last(4))
			}
			seen[d] = true
		}
		if len(seen) < 190 {
			t.Errorf("only %d distinct numbers in 200 draws", len(seen))
		}
	}
}

func TestNewPANLikeErrors(t *testing.T) {
	if _, err := NewPANLike(PAN{}, rand.Reader); !errors.Is(err, ErrGenerate) {
		t.Errorf("zero PAN: %v", err)
	}
	like, _ := ParsePAN("378282246310005")
	if _, err := NewPANLike(like, iotest.ErrReader(errors.New("no entropy"))); !errors.Is(err, ErrGenerate) {
		t.Errorf("failing reader: %v", err)
	}
	// A source that only yields bytes the generator must reject never produces a number.
	if _, err := NewPANLike(like, bytes.NewReader(bytes.Repeat([]byte{255}, 1000))); !errors.Is(err, ErrGenerate) {
		t.Errorf("biased source: %v", err)
	}
}
