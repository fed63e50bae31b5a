package locale

import (
	"math"
	"testing"
	"time"
)

func TestMoney(t *testing.T) {
	tests := []struct {
		l        Locale
		minor    int64
		currency string
		want     string
	}{
		// en-US
		{EnglishUS, 123456, "USD", "$1,234.56"},
		{EnglishUS, -123456, "USD", "-$1,234.56"},
		{EnglishUS, 0, "USD", "$0.00"},
		{EnglishUS, 5, "USD", "$0.05"},
		{EnglishUS, -5, "USD", "-$0.05"},
		{EnglishUS, 99, "usd", "$0.99"},
		{EnglishUS, 100000, "USD", "$1,000.00"},
		{EnglishUS, 123456789012, "USD", "$1,234,567,890.12"},
		{EnglishUS, 123456, "EUR", "€1,234.56"},
		{EnglishUS, 123456, "GBP", "£1,234.56"},
		{EnglishUS, 123456, "INR", "₹1,234.56"},
		{EnglishUS, 123456, "SEK", "SEK\u00a01,234.56"},
		{EnglishUS, -123456, "SEK", "-SEK\u00a01,234.56"},
		{EnglishUS, 1234, "JPY", "¥1,234"},
		{EnglishUS, -1234, "JPY", "-¥1,234"},
		{EnglishUS, 0, "JPY", "¥0"},
		{EnglishUS, math.MaxInt64, "USD", "$92,233,720,368,547,758.07"},
		{EnglishUS, math.MinInt64, "USD", "-$92,233,720,368,547,758.08"},
		{EnglishUS, 123456, "CHF", "CHF\u00a01,234.56"},
		{EnglishUS, 123456, "<b>", "¤1,234.56"},
		{EnglishUS, 123456, "", "¤1,234.56"},
		// en-IN
		{EnglishIndia, 12345678, "INR", "₹1,23,456.78"},
		{EnglishIndia, -12345678, "INR", "-₹1,23,456.78"},
		{EnglishIndia, 1234567890, "INR", "₹1,23,45,678.90"},
		{EnglishIndia, 99999, "INR", "₹999.99"},
		{EnglishIndia, 100000, "INR", "₹1,000.00"},
		{EnglishIndia, 0, "INR", "₹0.00"},
		{EnglishIndia, 123456, "USD", "$1,234.56"},
		{EnglishIndia, 12345678, "USD", "$1,23,456.78"},
		{EnglishIndia, math.MaxInt64, "INR", "₹92,23,37,20,36,85,47,758.07"},
		// es
		{Spanish, 123456, "USD", "1.234,56\u00a0US$"},
		{Spanish, 123456, "EUR", "1.234,56\u00a0€"},
		{Spanish, -123456, "EUR", "-1.234,56\u00a0€"},
		{Spanish, 0, "EUR", "0,00\u00a0€"},
		{Spanish, 123456789012, "EUR", "1.234.567.890,12\u00a0€"},
		{Spanish, 123456, "GBP", "1.234,56\u00a0GBP"},
		{Spanish, 123456, "SEK", "1.234,56\u00a0SEK"},
		{Spanish, 1234, "JPY", "1.234\u00a0JPY"},
		// sv
		{Swedish, 123456, "SEK", "1\u00a0234,56\u00a0kr"},
		{Swedish, -123456, "SEK", "\u22121\u00a0234,56\u00a0kr"},
		{Swedish, 0, "SEK", "0,00\u00a0kr"},
		{Swedish, 123456, "USD", "1\u00a0234,56\u00a0US$"},
		{Swedish, 123456, "EUR", "1\u00a0234,56\u00a0€"},
		{Swedish, 123456789012, "SEK", "1\u00a0234\u00a0567\u00a0890,12\u00a0kr"},
		{Swedish, 12345678, "INR", "123\u00a0456,78\u00a0INR"},
		{Swedish, -1234, "JPY", "\u22121\u00a0234\u00a0JPY"},
	}
	for _, tt := range tests {
		if got := tt.l.Money(tt.minor, tt.currency); got != tt.want {
			t.Errorf("%v.Money(%d, %q) = %q, want %q", tt.l, tt.minor, tt.currency, got, tt.want)
		}
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		l    Locale
		n    int64
		want string
	}{
		{EnglishUS, 0, "0"},
		{EnglishUS, 999, "999"},
		{EnglishUS, 1000, "1,000"},
		{EnglishUS, -1234567, "-1,234,567"},
		{EnglishIndia, 1234567, "12,34,567"},
		{EnglishIndia, 12345, "12,345"},
		{EnglishIndia, 123456, "1,23,456"},
		{EnglishIndia, -100000, "-1,00,000"},
		{Spanish, 1234567, "1.234.567"},
		{Spanish, -42, "-42"},
		{Swedish, 1234567, "1\u00a0234\u00a0567"},
		{Swedish, -1234, "\u22121\u00a0234"},
		{Swedish, math.MinInt64, "\u22129\u00a0223\u00a0372\u00a0036\u00a0854\u00a0775\u00a0808"},
	}
	for _, tt := range tests {
		if got := tt.l.Number(tt.n); got != tt.want {
			t.Errorf("%v.Number(%d) = %q, want %q", tt.l, tt.n, got, tt.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		l      Locale
		units  int64
		digits int
		want   string
	}{
		{EnglishUS, 2499, 2, "24.99"},
		{EnglishUS, 5, 2, "0.05"},
		{EnglishUS, 123456789, 2, "1,234,567.89"},
		{EnglishUS, 1500, 0, "1,500"},
		{EnglishIndia, 1234567, 1, "1,23,456.7"},
		{Spanish, 2499, 2, "24,99"},
		{Spanish, -123456, 2, "-1.234,56"},
		{Swedish, 2499, 2, "24,99"},
		{Swedish, -123456, 1, "\u221212\u00a0345,6"},
		{Swedish, math.MinInt64, 2, "\u221292\u00a0233\u00a0720\u00a0368\u00a0547\u00a0758,08"},
	}
	for _, tt := range tests {
		if got := tt.l.Decimal(tt.units, tt.digits); got != tt.want {
			t.Errorf("%v.Decimal(%d, %d) = %q, want %q", tt.l, tt.units, tt.digits, got, tt.want)
		}
	}
}

func TestDate(t *testing.T) {
	nov := time.Date(2026, time.November, 22, 15, 4, 5, 0, time.UTC)
	sep := time.Date(2026, time.September, 3, 0, 0, 0, 0, time.UTC)
	may := time.Date(2027, time.May, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		l    Locale
		t    time.Time
		want string
	}{
		{EnglishUS, nov, "Nov 22, 2026"},
		{EnglishIndia, nov, "22 Nov 2026"},
		{Spanish, nov, "22 nov 2026"},
		{Swedish, nov, "22 nov. 2026"},
		{EnglishUS, sep, "Sep 3, 2026"},
		{Spanish, sep, "3 sept 2026"},
		{Swedish, sep, "3 sep. 2026"},
		{Swedish, may, "1 maj 2027"},
		{Spanish, may, "1 may 2027"},
	}
	for _, tt := range tests {
		if got := tt.l.Date(tt.t); got != tt.want {
			t.Errorf("%v.Date(%v) = %q, want %q", tt.l, tt.t, got, tt.want)
		}
	}
	// Every month has a name in every locale.
	for _, l := range Supported() {
		for m := time.January; m <= time.December; m++ {
			if l.info().months[m-1] == "" {
				t.Errorf("%v: no name for %v", l, m)
			}
		}
	}
}

func TestDateTime(t *testing.T) {
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	pm := time.Date(2026, time.November, 22, 15, 4, 0, 0, time.UTC)
	am := time.Date(2026, time.November, 22, 9, 5, 0, 0, time.UTC)
	midnight := time.Date(2026, time.November, 22, 0, 30, 0, 0, time.UTC)
	noon := time.Date(2026, time.November, 22, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		l    Locale
		t    time.Time
		loc  *time.Location
		want string
	}{
		{EnglishUS, pm, time.UTC, "Nov 22, 2026, 3:04 PM"},
		{EnglishUS, am, time.UTC, "Nov 22, 2026, 9:05 AM"},
		{EnglishUS, midnight, time.UTC, "Nov 22, 2026, 12:30 AM"},
		{EnglishUS, noon, nil, "Nov 22, 2026, 12:00 PM"},
		{EnglishIndia, pm, time.UTC, "22 Nov 2026, 15:04"},
		{EnglishIndia, am, time.UTC, "22 Nov 2026, 09:05"},
		{Spanish, pm, time.UTC, "22 nov 2026, 15:04"},
		{Spanish, am, time.UTC, "22 nov 2026, 9:05"},
		{Swedish, pm, time.UTC, "22 nov. 2026 15:04"},
		{Swedish, am, time.UTC, "22 nov. 2026 09:05"},
		// Conversion happens before formatting, date included.
		{Swedish, time.Date(2026, time.November, 22, 23, 30, 0, 0, time.UTC), stockholm, "23 nov. 2026 00:30"},
		{EnglishUS, pm, time.FixedZone("EST", -5*3600), "Nov 22, 2026, 10:04 AM"},
	}
	for _, tt := range tests {
		if got := tt.l.DateTime(tt.t, tt.loc); got != tt.want {
			t.Errorf("%v.DateTime(%v, %v) = %q, want %q", tt.l, tt.t, tt.loc, got, tt.want)
		}
	}
}
