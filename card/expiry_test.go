package card

import (
	"errors"
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Expiry
		err  error
	}{
		{name: "MM/YY", in: "08/27", want: Expiry{8, 2027}},
		{name: "MM/YYYY", in: "08/2027", want: Expiry{8, 2027}},
		{name: "MMYY", in: "0827", want: Expiry{8, 2027}},
		{name: "M/YY", in: "8/27", want: Expiry{8, 2027}},
		{name: "spaces around slash", in: "12 / 30", want: Expiry{12, 2030}},
		{name: "many spaces", in: "  12   /   2030  ", want: Expiry{12, 2030}},
		{name: "year 2000", in: "01/00", want: Expiry{1, 2000}},
		{name: "year 2099", in: "12/2099", want: Expiry{12, 2099}},

		{name: "empty", in: "", err: ErrExpiryFormat},
		{name: "slash only", in: "/", err: ErrExpiryFormat},
		{name: "no month", in: "/27", err: ErrExpiryFormat},
		{name: "three-digit month", in: "008/27", err: ErrExpiryFormat},
		{name: "three-digit year", in: "08/027", err: ErrExpiryFormat},
		{name: "one-digit year", in: "08/7", err: ErrExpiryFormat},
		{name: "two slashes", in: "08/27/01", err: ErrExpiryFormat},
		{name: "hyphen", in: "08-27", err: ErrExpiryFormat},
		{name: "MMYYYY", in: "082027", err: ErrExpiryFormat},
		{name: "MYY", in: "827", err: ErrExpiryFormat},
		{name: "sign", in: "+8/27", err: ErrExpiryFormat},
		{name: "letters", in: "AU/GU", err: ErrExpiryFormat},
		{name: "tab", in: "08\t/27", err: ErrExpiryFormat},
		{name: "invalid UTF-8", in: "08/2\xff", err: ErrExpiryFormat},
		{name: "too long", in: "08/27" + "                    ", err: ErrExpiryFormat},
		{name: "month 0", in: "00/27", err: ErrExpiryMonth},
		{name: "month 13", in: "13/27", err: ErrExpiryMonth},
		{name: "MMYY month 13", in: "1327", err: ErrExpiryMonth},
		{name: "year 1999", in: "12/1999", err: ErrExpiryYear},
		{name: "year 2100", in: "01/2100", err: ErrExpiryYear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExpiry(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseExpiry: err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExpiry: unexpected error %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseExpiry = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExpiryStrings(t *testing.T) {
	tests := []struct {
		name   string
		e      Expiry
		string string
		yymm   string
	}{
		{"single-digit month", Expiry{8, 2027}, "08/27", "2708"},
		{"december", Expiry{12, 2030}, "12/30", "3012"},
		{"year 2000", Expiry{1, 2000}, "01/00", "0001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.String(); got != tt.string {
				t.Errorf("String() = %q, want %q", got, tt.string)
			}
			if got := tt.e.YYMM(); got != tt.yymm {
				t.Errorf("YYMM() = %q, want %q", got, tt.yymm)
			}
		})
	}
}

func TestExpiryValidate(t *testing.T) {
	tests := []struct {
		name string
		e    Expiry
		err  error
	}{
		{"valid", Expiry{1, 2030}, nil},
		{"zero", Expiry{}, ErrExpiryMonth},
		{"two-digit year", Expiry{1, 30}, ErrExpiryYear},
		{"month 13", Expiry{13, 2030}, ErrExpiryMonth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.e.Validate(); !errors.Is(err, tt.err) {
				t.Errorf("Validate() = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	tokyo := time.FixedZone("UTC+9", 9*3600)
	tests := []struct {
		name string
		e    Expiry
		now  time.Time
		want bool
	}{
		{"month before", Expiry{12, 2027}, time.Date(2027, 11, 30, 12, 0, 0, 0, time.UTC), false},
		{"first day of expiry month", Expiry{12, 2027}, time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC), false},
		{"last instant of expiry month", Expiry{12, 2027}, time.Date(2027, 12, 31, 23, 59, 59, 999999999, time.UTC), false},
		{"first instant of next month", Expiry{12, 2027}, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"years later", Expiry{12, 2027}, time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"february leap year", Expiry{2, 2028}, time.Date(2028, 2, 29, 23, 0, 0, 0, time.UTC), false},
		{"february leap year over", Expiry{2, 2028}, time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), true},
		// 2028-01-01 00:30 in UTC+9 is still 2027-12-31 in UTC: the zone of now decides.
		{"next month in now's zone", Expiry{12, 2027}, time.Date(2028, 1, 1, 0, 30, 0, 0, tokyo), true},
		{"same instant in UTC", Expiry{12, 2027}, time.Date(2028, 1, 1, 0, 30, 0, 0, tokyo).UTC(), false},
		{"zero expiry", Expiry{}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Expired(tt.now); got != tt.want {
				t.Errorf("Expired(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestExpiryEnd(t *testing.T) {
	got := Expiry{12, 2027}.End(nil)
	want := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("End(nil) = %v, want %v", got, want)
	}
}
