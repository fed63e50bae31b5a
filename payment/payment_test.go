package payment

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestParseRoutingNumber(t *testing.T) {
	tests := []struct {
		in   string
		want RoutingNumber
		ok   bool
	}{
		{"011000015", "011000015", true}, // Federal Reserve Bank of Boston
		{"021000021", "021000021", true}, // JPMorgan Chase, New York
		{"122105278", "122105278", true}, // Wells Fargo, California
		{"011-000-015", "011000015", true},
		{" 0110 00015 ", "011000015", true},
		{"011000016", "", false}, // check digit off by one
		{"021000012", "", false}, // two digits swapped
		{"000000000", "", false},
		{"991000019", "", false}, // check digit fits, no such district
		{"01100001", "", false},
		{"0110000150", "", false},
		{"01100001a", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseRoutingNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRoutingNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseRoutingNumber checks that whatever is accepted is nine digits whose 3-7-1
// weighted sum is a multiple of ten.
func FuzzParseRoutingNumber(f *testing.F) {
	for _, s := range []string{"011000015", "011-000-015", "abc", "999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := ParseRoutingNumber(s)
		if !ok {
			return
		}
		if len(r) != 9 {
			t.Fatalf("%q accepted as %q", s, r)
		}
		sum := 0
		for i := range 9 {
			sum += int(r[i]-'0') * []int{3, 7, 1}[i%3]
		}
		if sum%10 != 0 {
			t.Fatalf("%q accepted with a bad check digit", s)
		}
	})
}

func TestAccountNumberNeverPrinted(t *testing.T) {
	n, ok := ParseAccountNumber("1234 5678 9012")
	if !ok || n.Digits() != "123456789012" || n.Last4() != "9012" {
		t.Fatalf("ParseAccountNumber = %q, %v", n.Last4(), ok)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "number", n)
	out := fmt.Sprintf("%v %+v %#v %s %q %x %d", n, n, n, n, n, n, n) + n.String() + logs.String()
	if strings.Contains(out, "12345678") || strings.Contains(out, "3132333435") {
		t.Errorf("the number leaked: %s", out)
	}
	for _, bad := range []string{"123", "123456789012345678", "12a4", "0000", ""} {
		if _, ok := ParseAccountNumber(bad); ok {
			t.Errorf("ParseAccountNumber(%q) accepted", bad)
		}
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		from Status
		e    Event
		to   Status
		ok   bool
	}{
		{Scheduled, Execute, Processing, true},
		{Scheduled, Cancel, Cancelled, true},
		{Scheduled, Change, Scheduled, true},
		{Processing, Post, Posted, true},
		{Processing, Fail, Failed, true},
		{Processing, Cancel, "", false},
		{Processing, Change, "", false},
		{Posted, Cancel, "", false},
		{Posted, Execute, "", false},
		{Cancelled, Execute, "", false},
		{Failed, Post, "", false},
	}
	for _, tt := range tests {
		to, ok := Next(tt.from, tt.e)
		if to != tt.to || ok != tt.ok {
			t.Errorf("Next(%s, %s) = %s, %v; want %s, %v", tt.from, tt.e, to, ok, tt.to, tt.ok)
		}
	}
}

func TestAutopayAmount(t *testing.T) {
	st := Statement{ClosingBalance: 60000, MinimumDue: 2500}
	tests := []struct {
		name string
		rule Rule
		fix  int64
		paid int64
		owed int64
		want int64
	}{
		{"minimum", MinimumDue, 0, 0, 70000, 2500},
		{"minimum, partly paid", MinimumDue, 0, 1000, 70000, 1500},
		{"minimum, paid in full", MinimumDue, 0, 3000, 70000, -500},
		{"statement balance", StatementBalance, 0, 0, 70000, 60000},
		{"statement, capped at what is owed now", StatementBalance, 0, 0, 40000, 40000},
		{"fixed", FixedAmount, 10000, 0, 70000, 10000},
		{"fixed above the statement", FixedAmount, 99999, 0, 70000, 60000},
		{"fixed, partly paid", FixedAmount, 10000, 4000, 70000, 6000},
	}
	for _, tt := range tests {
		got := AutopayAmount(AutopayDue{Autopay: Autopay{Rule: tt.rule, Amount: tt.fix}, Statement: st, PaidSince: tt.paid, Owed: tt.owed})
		if got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestConfirmation(t *testing.T) {
	s := New(nil, nil, nil, nil, Config{}, nil, nil)
	re := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)
	seen := map[string]bool{}
	for range 1000 {
		c, err := s.confirmation()
		if err != nil || !re.MatchString(c) || seen[c] {
			t.Fatalf("confirmation %q, %v (seen before: %v)", c, err, seen[c])
		}
		seen[c] = true
	}
}

func TestValidKey(t *testing.T) {
	for k, want := range map[string]bool{
		"3f1c2f8e-8a4e-4f7c-9a55-0c1f3a2b4d6e": true, "a": true, "": false, " a": false,
		strings.Repeat("k", MaxKeyLen+1): false, "a\nb": false,
	} {
		if ValidKey(k) != want {
			t.Errorf("ValidKey(%q) = %v", k, !want)
		}
	}
}
