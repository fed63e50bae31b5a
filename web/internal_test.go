package web

import (
	"testing"

	"github.com/cardportal/cardportal/locale"
)

func TestReturnPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/account", "/account"},
		{"/register/credentials", "/register/credentials"},
		{"/", "/"},
		{"", "/"},
		{"account", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{`/\evil.example`, "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/account?x=1", "/"},
		{"/account#top", "/"},
		{"/acc\tount", "/"},
		{"/" + string(make([]byte, 300)), "/"},
	}
	for _, tt := range tests {
		if got := returnPath(tt.in); got != tt.want {
			t.Errorf("returnPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseUserAgent(t *testing.T) {
	tests := []struct {
		name, ua, browser, os string
	}{
		{"Chrome on Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Chrome", "Linux"},
		{"Chrome on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Chrome", "Windows"},
		{"Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.68", "Edge", "Windows"},
		{"Opera", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera", "macOS"},
		{"Firefox on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:132.0) Gecko/20100101 Firefox/132.0", "Firefox", "macOS"},
		{"Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari", "macOS"},
		{"Safari on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari", "iOS"},
		{"Chrome on iPad", "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/130.0.6723.90 Mobile/15E148 Safari/604.1", "Chrome", "iPadOS"},
		{"Samsung on Android", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet", "Android"},
		{"Firefox on Android", "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0", "Firefox", "Android"},
		{"ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Chrome", "ChromeOS"},
		{"curl", "curl/8.5.0", "curl", ""},
		{"empty", "", "", ""},
		{"Version without Safari", "SomeBot Version/2.0", "", ""},
		{"junk", "\x00\xff<script>", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, os := parseUserAgent(tt.ua)
			if b != tt.browser || os != tt.os {
				t.Errorf("parseUserAgent = %q, %q; want %q, %q", b, os, tt.browser, tt.os)
			}
		})
	}
}

func TestDescribeDevice(t *testing.T) {
	const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	tests := []struct {
		loc      locale.Locale
		ua, want string
	}{
		{locale.EnglishUS, chrome, "Chrome on Linux"},
		{locale.Spanish, chrome, "Chrome en Linux"},
		{locale.Swedish, chrome, "Chrome på Linux"},
		{locale.EnglishUS, "curl/8.5.0", "curl"},
		{locale.EnglishUS, "", "Unknown device"},
		{locale.Swedish, "???", "Okänd enhet"},
	}
	for _, tt := range tests {
		if got := describeDevice(tt.loc, tt.ua); got != tt.want {
			t.Errorf("describeDevice(%v, %q) = %q, want %q", tt.loc, tt.ua, got, tt.want)
		}
	}
}

// TestMessagesExist checks that every message ID the package uses is in the
// catalogue, so a typo shows up here rather than as an ID on a page.
func TestMessagesExist(t *testing.T) {
	ids := []string{
		"error.badrequest", "error.summary", "error.home", "error.field", "error.csrf", "error.toolarge",
		"error.notfound", "error.internal", "nav.label", "nav.language.change", "register.stepof",
		"register.choose", "register.pwrules", "register.answer.n", "pw.met", "pw.unmet", "pw.broken",
		"dashboard.mindue", "dashboard.cards", "dashboard.none", "security.col.started",
		"security.col.lastseen", "security.col.action", "security.signout.session",
		"security.signoutall.help", "security.none", "security.revoked", "security.revokedall",
		"security.device", "security.device.unknown", "outbox.title", "outbox.help", "outbox.channel",
		"outbox.to", "outbox.kind", "outbox.empty", "maintenance.notice",
	}
	for _, m := range cardStates {
		ids = append(ids, m)
	}
	for _, m := range shownEvents {
		ids = append(ids, m)
	}
	for _, m := range loginFlashes {
		ids = append(ids, m)
	}
	for _, m := range registerFlashes {
		ids = append(ids, m)
	}
	for _, m := range securityFlashes {
		ids = append(ids, m)
	}
	for _, id := range ids {
		if !locale.HasMessage(id) {
			t.Errorf("message %q is not in the catalogue", id)
		}
	}
}
