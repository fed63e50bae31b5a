package locale

import "strings"

// Limits on Accept-Language parsing. The header is attacker-controlled and
// is parsed on every request, so the work done must be bounded regardless
// of its size. Real browsers send a handful of entries well under 200 bytes.
const (
	maxAcceptLanguageBytes = 1024
	maxAcceptLanguageItems = 32
	maxTagBytes            = 35 // RFC 5646 recommends supporting at least 35
)

// Negotiate picks the locale for a request. A cookie value that is a
// supported Code (see Parse) wins, because it records an explicit choice
// the user made in our language picker. Otherwise the Accept-Language
// header is consulted; otherwise the result is EnglishUS.
//
// Accept-Language entries are ranked by q-value (RFC 9110 §12.5.4), ties
// going to the earlier entry. Each entry maps to a locale by its primary
// language: "es-MX" → Spanish, "sv-FI" → Swedish, "en-GB" → EnglishUS,
// while English with region IN ("en-IN") → EnglishIndia. "*" stands for the
// default. Entries with q=0, malformed tags or malformed q-values are
// skipped; only the first 1024 bytes and 32 entries are examined.
func Negotiate(cookieValue, acceptLanguage string) Locale {
	if l, ok := Parse(strings.TrimSpace(cookieValue)); ok {
		return l
	}
	if l, ok := matchAcceptLanguage(acceptLanguage); ok {
		return l
	}
	return EnglishUS
}

// matchAcceptLanguage returns the best supported locale for the header and
// whether any entry matched at all.
func matchAcceptLanguage(header string) (Locale, bool) {
	if len(header) > maxAcceptLanguageBytes {
		header = header[:maxAcceptLanguageBytes]
		// Drop the entry the cut landed in: a truncated "en-IN;q=0.1"
		// could otherwise read as "en-IN" with q=1.
		if i := strings.LastIndexByte(header, ','); i >= 0 {
			header = header[:i]
		} else {
			return EnglishUS, false
		}
	}

	best, bestQ, found := EnglishUS, -1, false
	for n := 0; header != "" && n < maxAcceptLanguageItems; n++ {
		var item string
		item, header, _ = strings.Cut(header, ",")
		tag, params, _ := strings.Cut(item, ";")
		tag = strings.TrimSpace(tag)
		if tag == "" {
			n-- // empty list elements are allowed by the grammar; don't count them
			continue
		}
		q, ok := parseParams(params)
		if !ok || q == 0 {
			continue
		}
		l, ok := matchTag(tag)
		if !ok {
			continue
		}
		if q > bestQ { // strictly greater: ties keep the earlier entry
			best, bestQ, found = l, q, true
		}
	}
	return best, found
}

// parseParams extracts the q-value, in thousandths, from the parameters
// following a language range. A missing q means 1000. Other parameters are
// not defined for Accept-Language and are ignored.
func parseParams(params string) (int, bool) {
	q := 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			var ok bool
			if q, ok = parseQ(strings.TrimSpace(v)); !ok {
				return 0, false
			}
		}
	}
	return q, true
}

// parseQ parses an RFC 9110 qvalue ("0", "0.5", "1", "1.000", …) into
// thousandths. It is deliberately strict rather than using
// strconv.ParseFloat, which would also accept "NaN", "1e-3" or hex floats.
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	whole := int(s[0] - '0')
	frac := s[1:]
	if frac == "" {
		return whole * 1000, true
	}
	if frac[0] != '.' {
		return 0, false
	}
	frac = frac[1:]
	v, scale := 0, 100
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v += int(c-'0') * scale
		scale /= 10
	}
	if whole == 1 && v != 0 {
		return 0, false // q cannot exceed 1
	}
	return whole*1000 + v, true
}

// matchTag maps one language range to a supported locale.
func matchTag(tag string) (Locale, bool) {
	if tag == "*" {
		return EnglishUS, true
	}
	if len(tag) > maxTagBytes {
		return EnglishUS, false
	}
	primary, rest, _ := strings.Cut(tag, "-")
	if !validSubtag(primary) || !isAlpha(primary) {
		return EnglishUS, false
	}
	indian := false
	for rest != "" {
		var sub string
		sub, rest, _ = strings.Cut(rest, "-")
		if !validSubtag(sub) {
			return EnglishUS, false
		}
		// A two-letter subtag after the primary one is a region
		// ("en-IN", "en-Latn-IN"); single letters start extensions.
		if len(sub) == 2 && strings.EqualFold(sub, "in") {
			indian = true
		}
		if len(sub) == 1 { // extension or private use: nothing more of interest
			break
		}
	}
	switch {
	case strings.EqualFold(primary, "en"):
		if indian {
			return EnglishIndia, true
		}
		return EnglishUS, true
	case strings.EqualFold(primary, "es"):
		return Spanish, true
	case strings.EqualFold(primary, "sv"):
		return Swedish, true
	}
	return EnglishUS, false
}

// validSubtag reports whether s is 1–8 ASCII letters or digits (RFC 5646).
func validSubtag(s string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // ASCII lower-case; digits are unaffected
		if (c < 'a' || c > 'z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
