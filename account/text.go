package account

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cardportal/cardportal/locale"
)

// Texts the system writes itself (a payment received, interest, a statement credit)
// are stored twice: in English as Description, which search matches and which is all
// older postings and merchant postings have, and as a catalogue message, TextID with
// named TextArgs, which Text renders in the reader's language. A merchant's name is
// never translated, so merchant postings leave TextID empty.
//
// Arguments are plain strings inserted as written (a confirmation number, a merchant
// name), except that an argument whose name ends in NumberSuffix holds a plain decimal
// number written with a full stop ("1500", "24.99") and is shown in the reader's
// number format ("1 500", "24,99"). Stored arguments are therefore independent of any
// locale.

// NumberSuffix marks a text argument that is a number; see Text.
const NumberSuffix = "_num"

// Limits on a text message, far above what the catalogue's messages need.
const (
	maxTextArgs   = 8
	maxArgNameLen = 32
)

// Text returns the transaction's description for a reader in loc: its message in
// loc's language when it has one the catalogue knows, and otherwise Description as
// stored.
func (t Transaction) Text(loc locale.Locale) string {
	return Text(loc, t.TextID, t.TextArgs, t.Description)
}

// Text renders message id with args in loc (see Transaction.Text), or returns
// fallback when id is empty or not in the catalogue, so a text written by a newer
// version, or a message later removed, still shows its English original rather than
// a bare ID.
func Text(loc locale.Locale, id string, args map[string]string, fallback string) string {
	if id == "" || !locale.HasMessage(id) {
		return fallback
	}
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	slices.Sort(names)
	kv := make([]string, 0, 2*len(names))
	for _, k := range names {
		v := args[k]
		if strings.HasSuffix(k, NumberSuffix) {
			if units, digits, ok := parseDecimal(v); ok {
				v = loc.Decimal(units, digits)
			}
		}
		kv = append(kv, k, v)
	}
	return loc.T(id, kv...)
}

// SearchText is what a transaction search matches for a posting: the merchant, the
// stored description and, for a text the system wrote, its rendering in every
// supported language, so a member finds "Betalning" or "Pago" in their own words.
// Lower-cased, as searches are.
func SearchText(merchant, description, id string, args map[string]string) string {
	parts := []string{merchant, description}
	if id != "" {
		for _, loc := range locale.Supported() {
			if t := Text(loc, id, args, ""); t != "" && !slices.Contains(parts, t) {
				parts = append(parts, t)
			}
		}
	}
	return strings.ToLower(strings.Join(parts, "\n"))
}

// parseDecimal reads "-12.5" as units -125 and 1 digit.
func parseDecimal(s string) (units int64, digits int, ok bool) {
	whole, frac, _ := strings.Cut(s, ".")
	body := strings.TrimPrefix(whole, "-")
	if body == "" || len(body)+len(frac) > 18 || !allDigits(body) || !allDigits(frac) {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return n, len(frac), true
}

// validText checks a text message before it is stored: an ID of lower-case letters,
// digits, '.' and '_', argument names as the catalogue's placeholders are written,
// printable values of statement length, numbers where NumberSuffix says so, and no
// arguments without an ID.
func validText(id string, args map[string]string) bool {
	if id == "" {
		return len(args) == 0
	}
	if len(id) > MaxKeyLen || !messageName(id, true) || len(args) > maxTextArgs {
		return false
	}
	for k, v := range args {
		if len(k) > maxArgNameLen || !messageName(k, false) || utf8.RuneCountInString(v) > MaxTextLen || !printable(v) {
			return false
		}
		if strings.HasSuffix(k, NumberSuffix) {
			if _, _, ok := parseDecimal(v); !ok {
				return false
			}
		}
	}
	return true
}

func messageName(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || dots && c == '.') {
			return false
		}
	}
	return true
}
