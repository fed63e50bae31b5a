package locale

import "testing"

func TestSupported(t *testing.T) {
	want := []struct{ code, name, html string }{
		{"en-US", "English (US)", "en-US"},
		{"en-IN", "English (India)", "en-IN"},
		{"es", "Español", "es"},
		{"sv", "Svenska", "sv"},
	}
	got := Supported()
	if len(got) != len(want) {
		t.Fatalf("Supported() has %d locales, want %d", len(got), len(want))
	}
	for i, w := range want {
		l := got[i]
		if l.Code() != w.code || l.Name() != w.name || l.HTMLLang() != w.html {
			t.Errorf("Supported()[%d] = %q %q %q, want %q %q %q",
				i, l.Code(), l.Name(), l.HTMLLang(), w.code, w.name, w.html)
		}
		if p, ok := Parse(l.Code()); !ok || p != l {
			t.Errorf("Parse(%q) = %v, %v; want round trip", l.Code(), p, ok)
		}
	}
	if got[0] != Default() || Default() != EnglishUS {
		t.Errorf("default locale must be en-US and listed first")
	}
	var zero Locale
	if zero != EnglishUS {
		t.Errorf("zero Locale = %v, want en-US", zero)
	}
	// The slice is the caller's own.
	got[0] = Swedish
	if Supported()[0] != EnglishUS {
		t.Errorf("Supported() shares its backing array")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Locale
		ok   bool
	}{
		{"en-US", EnglishUS, true},
		{"EN-in", EnglishIndia, true},
		{"es", Spanish, true},
		{"SV", Swedish, true},
		{"", EnglishUS, false},
		{"en", EnglishUS, false},
		{"es-ES", EnglishUS, false},
		{"fr", EnglishUS, false},
		{"sv\x00", EnglishUS, false},
		{"en_US", EnglishUS, false},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRegional(t *testing.T) {
	tests := []struct {
		l            Locale
		phone, natID string
	}{
		{EnglishUS, "1-800-555-0199", "register.ssn4"},
		{EnglishIndia, "1800-555-0199", "register.pan4"},
		{Spanish, "+34 900 555 019", "register.dni4"},
		{Swedish, "+46 20 555 019", "register.pnr4"},
	}
	for _, tt := range tests {
		if got := tt.l.ContactPhone(); got != tt.phone {
			t.Errorf("%v.ContactPhone() = %q, want %q", tt.l, got, tt.phone)
		}
		id := tt.l.NationalIDLabelID()
		if id != tt.natID {
			t.Errorf("%v.NationalIDLabelID() = %q, want %q", tt.l, id, tt.natID)
		}
		for _, c := range catalogs {
			if _, ok := c[id]; !ok {
				t.Errorf("national-ID label %q missing from a catalogue", id)
			}
		}
	}
}
