package web

import (
	"strings"

	"github.com/cardportal/cardportal/locale"
)

// The security page names devices the way a member recognises them ("Chrome on
// Linux"), not by the raw User-Agent string. A small table is enough: it only has to
// tell a member's own devices apart, and an unknown agent just reads "Unknown
// device". Order matters because agents name their ancestors: Edge and Opera say
// "Chrome", Chrome says "Safari", Android says "Linux" and iOS says "Mac OS X".
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Version/", "Safari"}, // Safari is the WebKit agent that names only its version
	{"curl/", "curl"}, {"Go-http-client/", "Go HTTP client"},
}

var systems = []struct{ token, name string }{
	{"Windows", "Windows"},
	{"Android", "Android"},
	{"iPhone", "iOS"}, {"iPod", "iOS"}, {"iPad", "iPadOS"},
	{"CrOS", "ChromeOS"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"},
	{"FreeBSD", "FreeBSD"},
}

// maxUALen bounds the work: real agents are a few hundred bytes.
const maxUALen = 512

// parseUserAgent returns the browser and operating system names in ua, each empty
// when not recognised.
func parseUserAgent(ua string) (browser, os string) {
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	for _, b := range browsers {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	if browser == "Safari" && !strings.Contains(ua, "Safari/") {
		browser = "" // "Version/" alone is some other program
	}
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			os = s.name
			break
		}
	}
	return browser, os
}

// describeDevice is the short description shown for a session or an event.
func describeDevice(loc locale.Locale, ua string) string {
	switch b, os := parseUserAgent(ua); {
	case b != "" && os != "":
		return loc.T("security.device", "browser", b, "os", os)
	case b != "":
		return b
	case os != "":
		return os
	default:
		return loc.T("security.device.unknown")
	}
}
