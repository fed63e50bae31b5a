// Package details is a card member's personal details online (SPEC AC11): the billing
// address the issuer holds for their card holder record, which the member views and
// changes after re-entering the password, with a notice to their contacts. Email and
// phone changes are identity's (identity/contact.go, re-confirmed by a code, SPEC
// ID4); the personal-details pages link to them.
package details

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// EventAddressChanged is the security-history entry of an address change. Its detail
// names the country only: the address itself is personal data the history does not
// need.
const EventAddressChanged identity.EventKind = "details.address.changed"

// Holder is what the member sees of their card holder record.
type Holder struct {
	CardholderID int64
	Name         string
	Address      issuer.Address // zero when none is on record
	UpdatedAt    time.Time      // when the address was last written; zero for none
	// The member's contacts, for the change notice.
	Email  string
	Phone  string
	Locale string
}

// Store is what personal details need from storage.
type Store interface {
	// MemberHolder returns the member's card holder record with its billing address.
	// Returns NotFound if there is no such member.
	MemberHolder(ctx context.Context, member identity.MemberID) (Holder, error)
	// SetMemberAddress replaces the billing address of the member's card holder
	// (creating it if none is on record). Returns NotFound if there is no such member.
	SetMemberAddress(ctx context.Context, member identity.MemberID, a issuer.Address, at time.Time) error
	identity.EventStore
}

// Reauthenticator checks a signed-in member's password again before a change
// (identity.Service.ConfirmPassword). Returns Invalid with a "password" field problem
// when it is wrong, TooManyRequests when re-entries are throttled.
type Reauthenticator interface {
	ConfirmPassword(ctx context.Context, id identity.MemberID, password string) error
}

// Service shows and changes personal details.
type Service struct {
	store    Store
	auth     Reauthenticator
	notifier notify.Notifier
	now      func() time.Time
	log      *slog.Logger
}

// New returns a Service. now is the clock.
func New(store Store, auth Reauthenticator, n notify.Notifier, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, auth: auth, notifier: n, now: now, log: log}
}

// Holder returns the member's card holder record and billing address.
func (s *Service) Holder(ctx context.Context, member identity.MemberID) (Holder, error) {
	h, err := s.store.MemberHolder(ctx, member)
	if err != nil {
		return Holder{}, cp.E("details.Holder", cp.ErrorKind(err), "", err)
	}
	return h, nil
}

// ChangeAddress replaces the member's billing address after checking the password
// again. The address is validated first (per-field problems, Invalid) so a typo does
// not cost a password try; then the password (Invalid on the "password" field when
// wrong). Nothing is written unless both pass. The member's email and phone get a
// notice that the address changed (not the address itself: whoever reads a stolen
// inbox learns nothing new), and the change is in the security history.
func (s *Service) ChangeAddress(ctx context.Context, member identity.MemberID, password string, a issuer.Address, src identity.Source) (issuer.Address, error) {
	const op = "details.ChangeAddress"
	a, err := Normalize(a)
	if err != nil {
		return issuer.Address{}, err
	}
	if password == "" {
		return issuer.Address{}, cp.InvalidFields(op, cp.FieldError{Field: "password", Msg: "error.field.required"})
	}
	if err := s.auth.ConfirmPassword(ctx, member, password); err != nil {
		return issuer.Address{}, err
	}
	h, err := s.store.MemberHolder(ctx, member)
	if err != nil {
		return issuer.Address{}, cp.E(op, cp.ErrorKind(err), "", err)
	}
	if h.Address == a {
		return a, nil // nothing to change, nothing to announce
	}
	now := s.now()
	if err := s.store.SetMemberAddress(ctx, member, a, now); err != nil {
		return issuer.Address{}, cp.E(op, cp.ErrorKind(err), "", err)
	}
	e := &identity.Event{MemberID: member, Kind: EventAddressChanged, At: now, IP: src.IP, UserAgent: truncate(src.UserAgent, 300), Detail: a.Country}
	if err := s.store.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "record address change", "err", err)
	}
	s.notice(ctx, member, h, now)
	return a, nil
}

// notice tells every contact of the member that the address changed. A notice that
// cannot be sent is logged; it never undoes the change.
func (s *Service) notice(ctx context.Context, member identity.MemberID, h Holder, at time.Time) {
	if s.notifier == nil {
		return
	}
	loc := locale.Negotiate(h.Locale, "")
	vars := []string{"time", loc.DateTime(at, time.UTC), "phone", loc.ContactPhone()}
	for _, c := range []struct {
		ch notify.Channel
		to string
	}{{notify.Email, h.Email}, {notify.SMS, h.Phone}} {
		if c.to == "" {
			continue
		}
		msg := notify.Message{MemberID: int64(member), Channel: c.ch, To: c.to, Kind: "details.address",
			Subject: loc.T("notice.details.address.subject", vars...), Body: loc.T("notice.details.address.body", vars...), CreatedAt: at}
		if c.ch == notify.SMS {
			msg.Subject, msg.Body = "", loc.T("notice.details.address.sms", vars...)
		}
		if err := s.notifier.Notify(ctx, msg); err != nil {
			s.log.ErrorContext(ctx, "address notice", "message", msg, "err", err)
		}
	}
}

// Countries are the countries an address may be in, in the order forms list them.
// Each has a postcode rule below and a name in the catalogue ("details.country.xx", lower case).
var Countries = []string{"US", "SE", "ES", "IN", "GB", "DE", "FR", "MX"}

// postcodeRule is one country's postcode format. norm rewrites an accepted postcode
// to the form the post office prints.
type postcodeRule struct {
	re   *regexp.Regexp
	norm func(string) string
}

var (
	keepAsIs = func(p string) string { return p }
	digits5  = postcodeRule{regexp.MustCompile(`^[0-9]{5}$`), keepAsIs}
)

// postcodeRules: US ZIP or ZIP+4; Swedish postnummer "NNN NN" (first digit 1-9);
// Spanish código postal, whose first two digits are the province 01-52; Indian PIN
// code, 6 digits not starting with 0; UK postcodes in their outward/inward shape;
// German, French and Mexican codes of 5 digits.
var postcodeRules = map[string]postcodeRule{
	"US": {regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`), keepAsIs},
	"SE": {regexp.MustCompile(`^[1-9][0-9]{2} ?[0-9]{2}$`), func(p string) string {
		p = strings.ReplaceAll(p, " ", "")
		return p[:3] + " " + p[3:]
	}},
	"ES": {regexp.MustCompile(`^(0[1-9]|[1-4][0-9]|5[0-2])[0-9]{3}$`), keepAsIs},
	"IN": {regexp.MustCompile(`^[1-9][0-9]{2} ?[0-9]{3}$`), func(p string) string { return strings.ReplaceAll(p, " ", "") }},
	"GB": {regexp.MustCompile(`^[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}$`), func(p string) string {
		p = strings.ReplaceAll(p, " ", "")
		return p[:len(p)-3] + " " + p[len(p)-3:]
	}},
	"DE": digits5,
	"FR": digits5,
	"MX": digits5,
}

// usStates are the two-letter codes a US address's Region may be: the states, DC and
// the territories and military "states" the USPS delivers to.
var usStates = strings.Fields(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI UM AA AE AP`)

// Limits on the address lines, from what postal systems and card carriers print.
const (
	MaxLine   = 70
	MaxCity   = 50
	MaxRegion = 50
)

// Normalize trims and checks an address and returns it in the form it is stored:
// country and US state upper case, postcode in its country's printed form. Problems
// are reported per field (Invalid), with a message naming the expected format.
func Normalize(a issuer.Address) (issuer.Address, error) {
	const op = "details.Normalize"
	a = issuer.Address{
		Line1: clean(a.Line1), Line2: clean(a.Line2), City: clean(a.City), Region: clean(a.Region),
		Postcode: strings.ToUpper(clean(a.Postcode)), Country: strings.ToUpper(clean(a.Country)),
	}
	var fs []cp.FieldError
	bad := func(field, msg string) { fs = append(fs, cp.FieldError{Field: field, Msg: msg}) }
	text := func(field, v string, max int, required bool) {
		switch {
		case v == "" && required:
			bad(field, "error.field.required")
		case utf8.RuneCountInString(v) > max:
			bad(field, "error.field.toolong")
		case !printable(v):
			bad(field, "error.invalid")
		}
	}
	text("line1", a.Line1, MaxLine, true)
	text("line2", a.Line2, MaxLine, false)
	text("city", a.City, MaxCity, true)
	text("region", a.Region, MaxRegion, false)
	rule, known := postcodeRules[a.Country]
	switch {
	case a.Country == "":
		bad("country", "error.field.required")
	case !known:
		bad("country", "details.country.unsupported")
	}
	if known {
		switch {
		case a.Postcode == "":
			bad("postcode", "error.field.required")
		case !rule.re.MatchString(a.Postcode):
			bad("postcode", "details.postcode."+strings.ToLower(a.Country))
		default:
			a.Postcode = rule.norm(a.Postcode)
		}
	}
	if a.Country == "US" {
		a.Region = strings.ToUpper(a.Region)
		switch {
		case a.Region == "":
			bad("region", "details.region.required")
		case !contains(usStates, a.Region):
			bad("region", "details.region.us")
		}
	}
	if a.Country == "IN" && a.Region == "" {
		bad("region", "details.region.required")
	}
	if len(fs) > 0 {
		return issuer.Address{}, cp.InvalidFields(op, fs...)
	}
	return a, nil
}

// clean trims the value and collapses runs of white space, so "  Main   St " and
// "Main St" are one line.
func clean(v string) string { return strings.Join(strings.Fields(v), " ") }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// printable refuses invalid UTF-8 and control characters, which would break a
// printed label or a CSV export.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
