// Package locale holds everything cardportal needs to speak to a customer
// in their own language: the list of supported locales, Accept-Language /
// cookie negotiation, the message catalogue for web pages, JSON errors and
// notices, and locale-aware formatting of money, numbers and dates.
//
// # Locales
//
// Four locales are supported: English (US) "en-US" (the default), English
// (India) "en-IN", Spanish "es" (formatted as in Spain) and Swedish "sv"
// (formatted as in Sweden). en-IN shares the English texts and differs only
// in formatting (Indian digit grouping, day-month-year dates, 24-hour
// clock) and regional details such as the contact phone number.
//
// Locale is a small comparable value; its zero value is EnglishUS, so an
// uninitialised Locale still renders sensibly.
//
// # Messages and placeholders
//
// Texts live in embedded JSON files, messages/en.json, es.json and sv.json,
// each a flat object {"message.id": "text"} kept sorted by id. A text may
// contain named placeholders written {name}, where name is one or more of
// a-z, 0-9 and '_'. T substitutes them from key/value pairs:
//
//	l.T("signin.locked", "time", l.DateTime(until, tz), "phone", l.ContactPhone())
//
// Substitution is a single pass over the catalogue text: substituted values
// are never re-scanned, so user-controlled values containing braces cannot
// inject further placeholders. A placeholder with no matching argument is
// left in place verbatim (visible in review, never a panic), and a '{' that
// does not start a well-formed placeholder is ordinary text. Results are
// plain text: HTML escaping is the job of html/template at the call site.
//
// Lookup falls back from the locale's language to English, and from English
// to the id itself, so a missing translation degrades instead of failing.
// The package tests require every catalogue to have exactly the English ids
// with the same placeholders, so a missing translation fails CI first.
//
// # Formatting conventions
//
// Formatting is hand-rolled after CLDR data for the four locales (no
// dependency, and the exact output is pinned by tests):
//
//   - en-US: 1,234.56, "-$1,234.56", "Nov 22, 2026", "Nov 22, 2026, 3:04 PM".
//   - en-IN: Indian grouping 1,23,456.78, "₹1,23,456.78", "22 Nov 2026",
//     24-hour "22 Nov 2026, 15:04".
//   - es: 1.234,56, "1.234,56 US$", "-1.234,56 €", "22 nov 2026",
//     "22 nov 2026, 15:04". Four-digit integers are grouped ("1.234") as
//     the portal specification asks, although CLDR es (minimum grouping
//     digits 2) would write "1234"; see group in format.go to change it.
//   - sv: group separator U+00A0 NO-BREAK SPACE (CLDR), minus sign U+2212
//     MINUS SIGN (CLDR), "1 234,56 kr", "−1 234,56 kr", "22 nov. 2026",
//     "22 nov. 2026 15:04".
//
// Where a currency symbol follows the number (es, sv), or is alphabetic and
// precedes it (en "SEK 1,234.56"), the two are joined by U+00A0 so that a
// line break can never separate an amount from its currency.
package locale

import "strings"

// Locale is one of the supported locales. The zero value is EnglishUS.
// Locales are comparable with ==.
type Locale struct {
	// id indexes the locales table. Keeping it unexported means no caller
	// can build an out-of-range Locale, so methods never need to check.
	id uint8
}

const (
	idEnUS uint8 = iota
	idEnIN
	idES
	idSV
	numLocales
)

// The supported locales. Treat these as constants.
var (
	EnglishUS    = Locale{idEnUS}
	EnglishIndia = Locale{idEnIN}
	Spanish      = Locale{idES}
	Swedish      = Locale{idSV}
)

// lang identifies a message catalogue. Regional variants share a catalogue.
type lang uint8

const (
	langEN lang = iota
	langES
	langSV
	numLangs
)

// langFiles maps each catalogue to its embedded file's base name.
var langFiles = [numLangs]string{langEN: "en", langES: "es", langSV: "sv"}

// info is the static description of one locale.
type info struct {
	code     string // our identifier: cookie value, Code()
	name     string // endonym shown in the language picker
	htmlLang string // BCP 47 tag for <html lang>
	lang     lang

	// Number formatting.
	group   string // grouping separator
	decimal string // decimal separator
	minus   string // sign placed before negative numbers
	indian  bool   // 3-then-2 grouping: 1,23,45,678

	// currencyAfter places the symbol after the number ("1 234,56 kr")
	// instead of before it ("$1,234.56").
	currencyAfter bool

	months     [12]string // abbreviated month names, CLDR "format" context
	monthFirst bool       // "Nov 22, 2026" rather than "22 Nov 2026"
	clock12    bool       // "3:04 PM" rather than "15:04"
	padHour    bool       // "09:05" rather than "9:05" (24-hour clocks)
	dtSep      string     // between date and time in DateTime

	phone      string // fictional customer-service number
	nationalID string // message id labelling the national-ID field
}

// Non-ASCII characters, named so the data below is readable.
const (
	nbsp      = "\u00a0" // NO-BREAK SPACE
	minusSign = "\u2212" // MINUS SIGN
)

var enMonths = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

var locales = [numLocales]info{
	idEnUS: {
		code: "en-US", name: "English (US)", htmlLang: "en-US", lang: langEN,
		group: ",", decimal: ".", minus: "-",
		months: enMonths, monthFirst: true, clock12: true, dtSep: ", ",
		phone:      "1-800-555-0199",
		nationalID: "register.ssn4",
	},
	idEnIN: {
		code: "en-IN", name: "English (India)", htmlLang: "en-IN", lang: langEN,
		group: ",", decimal: ".", minus: "-", indian: true,
		// CLDR en-IN defaults to a 12-hour clock; we use 24-hour as
		// specified for the portal, which is also common in India.
		months: enMonths, padHour: true, dtSep: ", ",
		phone:      "1800-555-0199",
		nationalID: "register.pan4",
	},
	idES: {
		code: "es", name: "Español", htmlLang: "es", lang: langES,
		group: ".", decimal: ",", minus: "-", currencyAfter: true,
		// CLDR es abbreviates September as "sept" (not "sep").
		months: [12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
		// CLDR es writes hours unpadded ("H:mm"): "9:05".
		dtSep:      ", ",
		phone:      "+34 900 555 019",
		nationalID: "register.dni4",
	},
	idSV: {
		code: "sv", name: "Svenska", htmlLang: "sv", lang: langSV,
		group: nbsp, decimal: ",", minus: minusSign, currencyAfter: true,
		// CLDR sv: short months (maj, juni, juli, mars) are written out,
		// the others are abbreviated with a full stop.
		months:  [12]string{"jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec."},
		padHour: true, dtSep: " ",
		phone:      "+46 20 555 019",
		nationalID: "register.pnr4",
	},
}

func (l Locale) info() *info { return &locales[l.id] }

// Default returns the locale used when nothing better is known: EnglishUS.
func Default() Locale { return EnglishUS }

// Supported returns all supported locales in display order, default first.
// The slice is freshly allocated; callers may modify it.
func Supported() []Locale {
	out := make([]Locale, numLocales)
	for i := range out {
		out[i] = Locale{uint8(i)}
	}
	return out
}

// Parse returns the locale whose Code equals code, ignoring ASCII case.
// It is strict on purpose: it validates values we issued ourselves (such as
// the language cookie), so anything else is rejected rather than guessed at.
// Use Negotiate for browser-supplied language preferences.
func Parse(code string) (Locale, bool) {
	if len(code) > 8 { // longest code is 5 bytes; skip folding junk
		return EnglishUS, false
	}
	for i := range locales {
		if strings.EqualFold(code, locales[i].code) {
			return Locale{uint8(i)}, true
		}
	}
	return EnglishUS, false
}

// Code returns the locale's identifier: "en-US", "en-IN", "es" or "sv".
// It is the value to store in a language cookie and round-trips via Parse.
func (l Locale) Code() string { return l.info().code }

// String returns Code, so a Locale prints usefully in logs and %v.
func (l Locale) String() string { return l.Code() }

// Name returns the locale's name in its own language, for the language
// picker: "English (US)", "English (India)", "Español", "Svenska".
func (l Locale) Name() string { return l.info().name }

// HTMLLang returns the BCP 47 tag for the lang attribute of <html>, which
// screen readers and hyphenation rely on.
func (l Locale) HTMLLang() string { return l.info().htmlLang }

// ContactPhone returns the (fictional) customer-service number for the
// locale's region, formatted as dialled there.
func (l Locale) ContactPhone() string { return l.info().phone }

// NationalIDLabelID returns the message id labelling the national-ID
// field on the registration form, which differs by region: the last 4
// digits of the US Social Security number (en-US), of the Indian PAN
// (en-IN), of the Spanish DNI/NIE (es) or of the Swedish personnummer (sv).
func (l Locale) NationalIDLabelID() string { return l.info().nationalID }
