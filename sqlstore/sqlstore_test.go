package sqlstore

import (
	"testing"
	"time"
)

// The behaviour of Store is checked by the storetest suite, which the sqlite and
// postgres packages run; these are the conversions underneath it.

func TestMicros(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want int64
	}{
		{"zero time is 0", time.Time{}, 0},
		{"epoch", time.Unix(0, 0), 0},
		{"microseconds kept", time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC), 1772366400123456},
		{"nanoseconds dropped", time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC), 1772366400123456},
		{"zone does not matter", time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600)), 1772366400000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := micros(tt.in); got != tt.want {
				t.Errorf("micros(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	if got := fromMicros(0); !got.IsZero() {
		t.Errorf("fromMicros(0) = %v, want the zero time", got)
	}
	in := time.Date(2026, 3, 1, 13, 0, 0, 5000, time.FixedZone("CET", 3600))
	got := fromMicros(micros(in))
	if !got.Equal(in) || got.Location() != time.UTC {
		t.Errorf("round trip of %v = %v, want the same instant in UTC", in, got)
	}
}

func TestCivilDate(t *testing.T) {
	if got := civilDate(time.Time{}); got != "" {
		t.Errorf("civilDate(zero) = %q, want empty", got)
	}
	d := time.Date(1980, 4, 2, 0, 0, 0, 0, time.UTC)
	if got := civilDate(d); got != "1980-04-02" {
		t.Errorf("civilDate = %q, want 1980-04-02", got)
	}
	back, err := fromCivilDate("1980-04-02")
	if err != nil || back != d {
		t.Errorf("fromCivilDate = %v, %v; want %v", back, err, d)
	}
	if back, err := fromCivilDate(""); err != nil || !back.IsZero() {
		t.Errorf("fromCivilDate(\"\") = %v, %v; want the zero time", back, err)
	}
	if _, err := fromCivilDate("02/04/1980"); err == nil {
		t.Error("fromCivilDate accepted a malformed date")
	}
}

func TestFloorDiv(t *testing.T) {
	tests := []struct{ a, b, want int64 }{
		{7, 2, 3},
		{6, 2, 3},
		{0, 5, 0},
		{-1, 60, -1},
		{-60, 60, -1},
		{-61, 60, -2},
	}
	for _, tt := range tests {
		if got := floorDiv(tt.a, tt.b); got != tt.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
