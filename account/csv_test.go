package account

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/locale"
)

func TestSafeCell(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Blue Harbor Coffee", "Blue Harbor Coffee"},
		{"empty", "", ""},
		{"formula", "=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"},
		{"plus", "+1-555-0100", "'+1-555-0100"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"inner equals", "A=B", "A=B"},
		{"leading space kept", " =1", " =1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SafeCell(tc.in); got != tc.want {
				t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestCSVWriter checks the whole file: header, RFC 4180 quoting (commas, quotes, line
// breaks), CRLF line ends, plain amounts and the injection defence, and that a CSV
// reader gets back exactly the cells intended.
func TestCSVWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf, locale.EnglishUS, []string{"Date", "=Status", "Description", "Merchant", "Category", "City", "Country", "Channel", "Card", "Card member", "Amount", "Currency"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	rows := []Transaction{
		{Status: Posted, Description: `Joe's "Best", Pizza`, Merchant: "Joe's", MCC: "5812", City: "Portland", Country: "US",
			Channel: InPerson, CardLast: "12345", HolderName: "Åsa Öberg", Amount: 123456, Currency: "USD", PostedAt: at},
		{Status: Pending, Description: "=cmd|' /C calc'!A0", Merchant: "@evil", City: "line\nbreak", Channel: Online,
			Amount: -5, Currency: "USD", PostedAt: at},
		{Status: Posted, Description: "Yen", Amount: -1500, Currency: "JPY", PostedAt: at},
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\r\n") != 5 || !strings.HasSuffix(out, "\r\n") {
		t.Errorf("want CRLF line ends (4 records, one with a quoted CRLF inside):\n%q", out)
	}
	if !strings.Contains(out, `"Joe's ""Best"", Pizza"`) {
		t.Errorf("quotes and commas not quoted per RFC 4180:\n%s", out)
	}
	got, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Date", "'=Status", "Description", "Merchant", "Category", "City", "Country", "Channel", "Card", "Card member", "Amount", "Currency"},
		{"2026-03-01", "posted", `Joe's "Best", Pizza`, "Joe's", "5812", "Portland", "US", "in_person", "•••• 12345", "Åsa Öberg", "1234.56", "USD"},
		// encoding/csv reads a quoted CRLF as LF.
		{"2026-03-01", "pending", "'=cmd|' /C calc'!A0", "'@evil", "", "line\nbreak", "", "online", "", "", "-0.05", "USD"},
		{"2026-03-01", "posted", "Yen", "", "", "", "", "", "", "", "-1500", "JPY"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestPlainAmount(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{0, "USD", "0.00"}, {5, "USD", "0.05"}, {-5, "USD", "-0.05"}, {100, "USD", "1.00"},
		{123456, "SEK", "1234.56"}, {-1500, "JPY", "-1500"}, {-9223372036854775808, "USD", "-92233720368547758.08"},
	} {
		if got := PlainAmount(tc.minor, tc.currency); got != tc.want {
			t.Errorf("PlainAmount(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in       string
		currency string
		want     int64
		ok       bool
	}{
		{"12", "USD", 1200, true},
		{"12.5", "USD", 1250, true},
		{"12,50", "USD", 1250, true},
		{" 1 234.00 ", "SEK", 123400, true},
		{"1\u00a0234,00", "SEK", 123400, true},
		{"-3.20", "USD", -320, true},
		{"\u22123,20", "SEK", -320, true},
		{"0", "USD", 0, true},
		{"1500", "JPY", 1500, true},
		{"12.345", "USD", 0, false},
		{"15.5", "JPY", 0, false},
		{"12.", "USD", 0, false},
		{".5", "USD", 0, false},
		{"", "USD", 0, false},
		{"abc", "USD", 0, false},
		{"1e3", "USD", 0, false},
		{"--1", "USD", 0, false},
		{"+1", "USD", 0, false},
		{"99999999999999", "USD", 0, false},
	} {
		got, err := ParseAmount(tc.in, tc.currency)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d, ok %v", tc.in, tc.currency, got, err, tc.want, tc.ok)
		}
		if err != nil && !cp.IsKind(err, cp.Invalid) {
			t.Errorf("ParseAmount(%q): kind %v, want Invalid", tc.in, cp.ErrorKind(err))
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.50", "-3,2", "1 234", "", "9999999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseAmount(s, "USD")
		if err != nil {
			return
		}
		// What parses prints back to a value that parses to the same amount.
		again, err := ParseAmount(PlainAmount(n, "USD"), "USD")
		if err != nil || again != n {
			t.Errorf("%q -> %d -> %q -> %d, %v", s, n, PlainAmount(n, "USD"), again, err)
		}
	})
}
