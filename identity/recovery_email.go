package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/issuer"
)

// This file is the second way to recover a forgotten User ID (SPEC ID8, issue 3 item
// 4): email address + name + billing postcode instead of card details, for a member
// without the card at hand. It answers exactly like ForgotUserID: nil whether or not
// anything matched, after the same lookups and no sooner than MinDuration, throttled
// per source address and per email address; the User ID goes to the registered email
// only.

// UserIDCandidate is a registered member whose email address is the one asked about,
// with what the request must also match.
type UserIDCandidate struct {
	Member      Member
	HolderName  string // the card holder's name, as the issuer holds it
	PostcodeKey string // issuer.PostcodeKey of the billing postcode; "" when none
}

// EmailRecoveryStore finds members by email address.
type EmailRecoveryStore interface {
	// MembersByEmail returns at most limit members whose email address equals email
	// regardless of ASCII case, oldest first, with their card holder's name and
	// billing postcode. None is an empty slice, not an error.
	MembersByEmail(ctx context.Context, email string, limit int) ([]UserIDCandidate, error)
}

// ForgotUserIDByEmailRequest proves a member by details they know without the card.
type ForgotUserIDByEmailRequest struct {
	Email    string
	Name     string // as on the card
	Postcode string // of the billing address
}

// Input limits: an address may be 254 bytes (RFC 5321 path limit less the brackets).
const (
	maxEmail    = 254
	maxName     = 100
	maxPostcode = 16
	// emailCandidates bounds the members one email address can stand for (a shared
	// family address); all of them are checked, so the work does not depend on which
	// matched.
	emailCandidates = 5
)

// ForgotUserIDByEmail emails the member's User ID to the registered address when the
// email address, the card holder's name and the billing postcode all belong to one
// registered member. Like ForgotUserID it never returns the User ID and answers nil
// whether or not anything matched; only malformed input and throttling fail.
func (s *Service) ForgotUserIDByEmail(ctx context.Context, in ForgotUserIDByEmailRequest, src Source) error {
	const op = "identity.ForgotUserIDByEmail"
	if err := s.throttle(ctx, op, "recovery-ip:"+src.IP, s.cfg.Recovery.PerSource, s.cfg.Recovery.Window, msgRecoveryThrottled); err != nil {
		return err
	}
	email := asciiLower(strings.TrimSpace(in.Email))
	name := foldName(in.Name)
	postcode := issuer.PostcodeKey(strings.TrimSpace(in.Postcode))
	var fields []cp.FieldError
	if !plausibleEmail(email) {
		fields = append(fields, fieldErr("email", "recovery.email.invalid"))
	}
	switch {
	case name == "":
		fields = append(fields, fieldErr("name", "error.field.required"))
	case utf8.RuneCountInString(name) > maxName:
		fields = append(fields, fieldErr("name", "error.field.toolong"))
	}
	switch {
	case postcode == "":
		fields = append(fields, fieldErr("postcode", "error.field.required"))
	case len(postcode) > maxPostcode:
		fields = append(fields, fieldErr("postcode", "error.field.toolong"))
	}
	if len(fields) > 0 {
		return cp.InvalidFields(op, fields...)
	}
	defer s.pad(ctx, time.Now())
	// Per address, like per card on the card path: guessing the postcode of a known
	// address is bounded however many source addresses the guesser has. The key is
	// a hash: throttle keys never hold personal data.
	sum := sha256.Sum256([]byte("recovery-email:" + email))
	if err := s.throttle(ctx, op, "recovery-email:"+hashHex(sum[:]), s.cfg.Recovery.PerCard, s.cfg.Recovery.Window, msgRecoveryThrottled); err != nil {
		return err
	}
	cands, err := s.store.MembersByEmail(ctx, email, emailCandidates)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	// With no candidate, one made-up one is compared, so that a miss costs what a hit
	// does.
	if len(cands) == 0 {
		cands = []UserIDCandidate{{HolderName: "\x00", PostcodeKey: "\x00"}}
	}
	var match *UserIDCandidate
	for i := range cands {
		c := &cands[i]
		nameOK := subtle.ConstantTimeCompare([]byte(foldName(c.HolderName)), []byte(name)) == 1
		postOK := postcodeMatch(c.PostcodeKey, postcode)
		if nameOK && postOK && c.Member.ID != 0 && match == nil {
			match = c
		}
	}
	if match == nil || match.Member.Email == "" {
		var id MemberID
		if len(cands) == 1 {
			id = cands[0].Member.ID
		}
		s.record(ctx, &Event{MemberID: id, Kind: EventRecoveryFail, Detail: "userid by email"}, src)
		return nil
	}
	m := match.Member
	s.record(ctx, &Event{MemberID: m.ID, Kind: EventUserIDSent, Detail: "by email"}, src)
	s.send(ctx, m, "userid.byemail", "userid", m.UserID)
	return nil
}

// ConfirmPassword checks a signed-in member's password again before a sensitive
// change outside identity (the billing address, SPEC AC11). It shares the throttle of
// the other re-entries. A wrong password is Invalid on the "password" field.
func (s *Service) ConfirmPassword(ctx context.Context, id MemberID, password string) error {
	_, err := s.reauthenticate(ctx, "identity.ConfirmPassword", id, password)
	return err
}

// postcodeMatch compares folded postcodes. A US ZIP+4 on record also matches its
// 5-digit ZIP, which is what most people remember.
func postcodeMatch(stored, typed string) bool {
	if stored == "" {
		return false
	}
	full := subtle.ConstantTimeCompare([]byte(stored), []byte(typed)) == 1
	zip5 := len(stored) == 9 && len(typed) == 5 && subtle.ConstantTimeCompare([]byte(stored[:5]), []byte(typed)) == 1
	return full || zip5
}

// foldName makes two spellings of one name compare equal: Unicode NFC (a typed "é"
// may be one code point or two), lower case, single spaces.
func foldName(v string) string {
	return strings.Join(strings.Fields(strings.ToLower(norm.NFC.String(v))), " ")
}

// asciiLower lower-cases ASCII letters only, which is what the stores' lower() does
// on both engines for the addresses they index.
func asciiLower(v string) string {
	b := []byte(v)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// plausibleEmail is a shape check only: something@something.tld within the length
// limit. Whether it is anyone's is what the lookup finds out, silently.
func plausibleEmail(v string) bool {
	if len(v) > maxEmail || strings.ContainsAny(v, " \t\r\n<>\"") {
		return false
	}
	local, domain, ok := strings.Cut(v, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.Contains(domain, "@")
}
