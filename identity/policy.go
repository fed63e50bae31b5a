package identity

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// PasswordPolicy is the issuer's password rule set. It is configuration; the defaults
// follow the seeds (SPEC ID2).
type PasswordPolicy struct {
	MinLength int // in characters (runes), after NFC normalisation
	MaxLength int // bounds hashing input; long passphrases stay well inside it
	// PassphraseLength is the length from which the composition rules (upper, lower,
	// digit-or-symbol) are waived: a 64-character passphrase is strong without them.
	PassphraseLength   int
	RequireUpper       bool
	RequireLower       bool
	RequireDigitSymbol bool
	NoLeadingSymbol    bool
	NoUserID           bool
	History            int // how many previous passwords may not be reused
	// MaxAge is how long a password may be used before sign-in asks for a new one
	// (SPEC ID11); 0 means passwords do not expire.
	MaxAge time.Duration
}

// DefaultPasswordPolicy is the policy of SPEC ID2.
var DefaultPasswordPolicy = PasswordPolicy{
	MinLength:          12,
	MaxLength:          256,
	PassphraseLength:   64,
	RequireUpper:       true,
	RequireLower:       true,
	RequireDigitSymbol: true,
	NoLeadingSymbol:    true,
	NoUserID:           true,
	History:            4,
}

// Rule names one password rule; the web pages show each as a live check and the locale
// catalogue has a message "pw.rule.<rule>" for it.
type Rule string

// The password rules.
const (
	RuleLength      Rule = "length"
	RuleMaxLength   Rule = "maxlength"
	RuleUpper       Rule = "upper"
	RuleLower       Rule = "lower"
	RuleDigitSymbol Rule = "digitsymbol"
	RuleFirstChar   Rule = "firstchar"
	RuleUserID      Rule = "userid"
	RuleHistory     Rule = "history"
)

// NormalizePassword returns the form a password is hashed in: NFC, so the same
// passphrase typed on different keyboards (composed or decomposed accents) matches.
func NormalizePassword(pw string) string { return norm.NFC.String(pw) }

// Check returns the rules pw breaks, in a stable order; none means it is acceptable.
// History is checked separately because it needs the stored hashes.
func (p PasswordPolicy) Check(pw, userID string) []Rule {
	pw = NormalizePassword(pw)
	var broken []Rule
	n := utf8.RuneCountInString(pw)
	if n < p.MinLength {
		broken = append(broken, RuleLength)
	}
	if p.MaxLength > 0 && n > p.MaxLength {
		broken = append(broken, RuleMaxLength)
	}
	var upper, lower, digitSymbol bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r) || isSymbol(r):
			digitSymbol = true
		}
	}
	composition := p.PassphraseLength == 0 || n < p.PassphraseLength
	if composition && p.RequireUpper && !upper {
		broken = append(broken, RuleUpper)
	}
	if composition && p.RequireLower && !lower {
		broken = append(broken, RuleLower)
	}
	if composition && p.RequireDigitSymbol && !digitSymbol {
		broken = append(broken, RuleDigitSymbol)
	}
	if first, _ := utf8.DecodeRuneInString(pw); p.NoLeadingSymbol && pw != "" && isSymbol(first) {
		broken = append(broken, RuleFirstChar)
	}
	if p.NoUserID && userID != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(userID)) {
		broken = append(broken, RuleUserID)
	}
	return broken
}

// isSymbol counts punctuation, symbols and spaces as "special characters", which is how
// a member reads the rule "must not start with a special character".
func isSymbol(r rune) bool {
	return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// User IDs are ASCII so that two different-looking IDs can never be the same person
// through look-alike letters, and compared without regard to case.
const (
	UserIDMin = 6
	UserIDMax = 32
)

// ValidUserID reports whether id is an acceptable User ID.
func ValidUserID(id string) bool {
	if len(id) < UserIDMin || len(id) > UserIDMax {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == '-' || c == '@':
		default:
			return false
		}
	}
	return true
}

// UserIDKey is the case-insensitive form User IDs are unique and looked up by.
func UserIDKey(id string) string { return strings.ToLower(id) }

// MaskUserID shows enough of a remembered User ID for its owner to recognise it and
// little enough that a shared screen does not give it away.
func MaskUserID(id string) string {
	switch n := len(id); {
	case n == 0:
		return ""
	case n <= 4:
		return id[:1] + strings.Repeat("•", n-1)
	default:
		return id[:2] + strings.Repeat("•", n-4) + id[n-2:]
	}
}

// NormalizeAnswer is the form a security answer is hashed in: compatibility-normalised,
// case-folded, with runs of spaces collapsed, so "  New  York" matches "new york".
func NormalizeAnswer(a string) string {
	a = norm.NFKC.String(a)
	return strings.Join(strings.Fields(strings.ToLower(a)), " ")
}

// QuestionIDs are the security questions a member chooses from; each has a locale
// message "q.<id>".
var QuestionIDs = []string{
	"first_pet", "birth_city", "first_school", "mother_maiden", "first_car",
	"childhood_friend", "first_job", "favourite_teacher", "street", "honeymoon",
}

// QuestionsRequired is how many security questions registration asks for.
const QuestionsRequired = 3

func validQuestion(id string) bool {
	for _, q := range QuestionIDs {
		if q == id {
			return true
		}
	}
	return false
}
