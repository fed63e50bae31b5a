package locale

import (
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name, cookie, accept string
		want                 Locale
	}{
		{"nothing", "", "", EnglishUS},
		{"cookie wins", "sv", "es-ES,es;q=0.9", Swedish},
		{"cookie case and space", " EN-in ", "sv", EnglishIndia},
		{"bad cookie ignored", "fr", "es", Spanish},
		{"cookie must be exact code", "es-ES", "sv", Swedish},
		{"garbage cookie", "\xff\x00<script>", "", EnglishUS},
		{"es-MX", "", "es-MX", Spanish},
		{"sv-FI", "", "sv-FI", Swedish},
		{"en-GB", "", "en-GB", EnglishUS},
		{"en-IN", "", "en-IN", EnglishIndia},
		{"en with script and region IN", "", "en-Latn-IN", EnglishIndia},
		{"plain en", "", "en", EnglishUS},
		{"case-insensitive", "", "SV-se", Swedish},
		{"es-419", "", "es-419", Spanish},
		{"unsupported then supported", "", "fr-CA,fr;q=0.9,es;q=0.5", Spanish},
		{"q-values reorder", "", "en-US;q=0.5, sv;q=0.8, es;q=0.7", Swedish},
		{"q=1 default beats lower", "", "es;q=0.9, en-IN", EnglishIndia},
		{"tie keeps first", "", "sv;q=0.7, es;q=0.7", Swedish},
		{"q=0 excludes", "", "sv;q=0, es;q=0.1", Spanish},
		{"q=0.000 excludes", "", "sv;q=0.000", EnglishUS},
		{"q=1.000", "", "es;q=0.9, sv;q=1.000", Swedish},
		{"upper-case Q and spaces", "", "es ; Q = 0.2 , sv ; q=0.3", Swedish},
		{"q above 1 skipped", "", "sv;q=1.5, es;q=0.1", Spanish},
		{"q NaN skipped", "", "sv;q=NaN, es;q=0.1", Spanish},
		{"q exponent skipped", "", "sv;q=1e-1, es;q=0.05", Spanish},
		{"q too many decimals skipped", "", "sv;q=0.1234, es;q=0.05", Spanish},
		{"q empty skipped", "", "sv;q=, es;q=0.05", Spanish},
		{"other params ignored", "", "sv;foo=bar;q=0.5", Swedish},
		{"wildcard is default", "", "fr, *;q=0.5", EnglishUS},
		{"wildcard loses to better", "", "*;q=0.1, sv;q=0.2", Swedish},
		{"unsupported only", "", "fr-FR, de;q=0.8", EnglishUS},
		{"empty elements", "", ",,, ,sv", Swedish},
		{"garbage", "", "\x00\xff;;;q==,=,-,--,en-", EnglishUS},
		{"bad subtag chars", "", "sv_SE, es", Spanish},
		{"overlong subtag", "", "sv-abcdefghi, es;q=0.1", Spanish},
		{"primary must be letters", "", "12, sv;q=0.1", Swedish},
		{"extension ignored", "", "en-u-ca-in", EnglishUS},
		{"non-ASCII", "", "své, es;q=0.3", Spanish},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(tt.cookie, tt.accept); got != tt.want {
				t.Errorf("Negotiate(%q, %q) = %v, want %v", tt.cookie, tt.accept, got, tt.want)
			}
		})
	}
}

func TestNegotiateLongHeaders(t *testing.T) {
	// Entries past the byte cap are never seen.
	long := strings.Repeat("fr;q=0.5,", 200) + "sv"
	if got := Negotiate("", long); got != EnglishUS {
		t.Errorf("match beyond the byte cap: got %v", got)
	}
	// Entries past the item cap are never seen.
	many := strings.Repeat("x,", maxAcceptLanguageItems) + "sv"
	if got := Negotiate("", many); got != EnglishUS {
		t.Errorf("match beyond the item cap: got %v", got)
	}
	// Within the caps, a match still works.
	few := strings.Repeat("x,", maxAcceptLanguageItems-1) + "sv"
	if got := Negotiate("", few); got != Swedish {
		t.Errorf("match within the item cap: got %v", got)
	}
	// An entry cut by the byte cap must not be read as a truncated
	// version of itself: "sv;q=0.1" cut to "sv" would claim q=1.
	// Sized so that the cap falls right after "sv".
	tail := ",sv;q=0.1"
	filler := strings.Repeat("x", maxAcceptLanguageBytes+len(";q=0.1")-len("es;q=0.5,")-len(tail))
	cut := "es;q=0.5," + filler + tail
	if cut[:maxAcceptLanguageBytes][maxAcceptLanguageBytes-3:] != ",sv" {
		t.Fatalf("test header mis-sized")
	}
	if got := Negotiate("", cut); got != Spanish {
		t.Errorf("truncated entry: got %v, want es", got)
	}
	// One giant token with no comma.
	if got := Negotiate(strings.Repeat("a", 1<<20), strings.Repeat("s", 1<<20)); got != EnglishUS {
		t.Errorf("giant token: got %v", got)
	}
	// A giant tag is rejected, not matched on its prefix.
	if got := Negotiate("", "sv-"+strings.Repeat("a-", 40)+"x"); got != EnglishUS {
		t.Errorf("overlong tag: got %v", got)
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add("", "")
	f.Add("sv", "es-MX,es;q=0.9")
	f.Add("", "en-IN;q=0.8, *;q=0.1")
	f.Add("\xff", ";q=1.000,,,-,")
	f.Add("en-us", strings.Repeat("en-GB;q=0.5,", 100))
	f.Fuzz(func(t *testing.T, cookie, accept string) {
		l := Negotiate(cookie, accept)
		for _, s := range Supported() {
			if l == s {
				return
			}
		}
		t.Fatalf("Negotiate(%q, %q) = unsupported locale %#v", cookie, accept, l)
	})
}

func BenchmarkNegotiate(b *testing.B) {
	h := "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"
	for b.Loop() {
		Negotiate("", h)
	}
}
