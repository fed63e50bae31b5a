package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// Contact confirmation (SPEC ID4): registration ends by confirming the mobile number
// with a code sent by SMS, and the email address with a code by email. The account is
// usable before; the pages show a reminder until both are confirmed. Codes follow the
// step-up codes' rules (6 digits, MFAConfig.CodeLife, MFAConfig.CodeTries tries).

// Contact channels: the factors that send codes.
const (
	ContactPhone = FactorSMS
	ContactEmail = FactorEmail
)

// Contact events.
const (
	EventContactConfirmed EventKind = "contact.confirmed" // a phone number or email address proved
	EventContactChanged   EventKind = "contact.changed"   // replaced by a proved new one
)

// Messages of contact confirmation.
const (
	msgContactCode      = "contact.code.invalid"
	msgContactDead      = "contact.code.dead"
	msgContactNone      = "contact.none"
	msgContactThrottled = "contact.send.throttled"
)

// ContactCode is the code last sent to confirm one of a member's contacts.
type ContactCode struct {
	MemberID  MemberID
	Channel   Factor // ContactPhone or ContactEmail
	Address   string // where it was sent; confirming it confirms this address
	CodeMAC   []byte
	Tries     int
	Change    bool // Address is a new one that replaces the member's on confirmation
	ExpiresAt time.Time
}

// ContactState says which of a member's contacts are confirmed.
type ContactState struct {
	Phone, Email                 string // masked
	PhoneVerified, EmailVerified time.Time
	// PendingPhone and PendingEmail are new addresses (masked) waiting for their code.
	PendingPhone, PendingEmail string
}

// Confirmed reports whether every contact the member has is confirmed.
func (c ContactState) Confirmed() bool {
	return (c.Phone == "" || !c.PhoneVerified.IsZero()) && (c.Email == "" || !c.EmailVerified.IsZero())
}

// ContactStore keeps contact confirmation.
type ContactStore interface {
	// SaveContactCode stores c, replacing the member's earlier code for the channel
	// and resetting its tries.
	SaveContactCode(ctx context.Context, c ContactCode) error
	// ContactCode returns the member's code for the channel. Returns NotFound.
	ContactCode(ctx context.Context, member MemberID, channel Factor) (ContactCode, error)
	// ReserveContactTry atomically counts one try of the code if fewer than max were
	// made and reports whether it did. Returns NotFound if there is no code.
	ReserveContactTry(ctx context.Context, member MemberID, channel Factor, max int) (bool, error)
	// ConfirmContact, in one transaction, deletes the member's code for the channel
	// and records the contact as confirmed at now: for a change code its address
	// becomes the member's; otherwise the member's address is confirmed only if it is
	// still the one the code went to. Returns NotFound if the code is gone, so of two
	// concurrent confirmations only one succeeds.
	ConfirmContact(ctx context.Context, member MemberID, channel Factor, now time.Time) error
	// ContactVerified returns when the member's phone and email were confirmed (zero
	// for not). Returns NotFound.
	ContactVerified(ctx context.Context, member MemberID) (phone, email time.Time, err error)
}

func contactChannel(op, v string) (Factor, error) {
	switch f := Factor(strings.TrimSpace(v)); f {
	case ContactPhone, ContactEmail:
		return f, nil
	}
	return "", cp.InvalidFields(op, fieldErr("channel", "error.field.required"))
}

// ContactState returns which of the member's contacts are confirmed.
func (s *Service) ContactState(ctx context.Context, id MemberID) (ContactState, error) {
	const op = "identity.ContactState"
	m, err := s.store.MemberByID(ctx, id)
	if err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return ContactState{}, cp.E(op, cp.NotFound, "", err)
		}
		return ContactState{}, cp.E(op, cp.Internal, "", err)
	}
	ph, em, err := s.store.ContactVerified(ctx, id)
	if err != nil {
		return ContactState{}, cp.E(op, cp.Internal, "", err)
	}
	st := ContactState{Phone: maskContact(m.Phone), Email: maskContact(m.Email), PhoneVerified: ph, EmailVerified: em}
	for _, ch := range []Factor{ContactPhone, ContactEmail} {
		c, err := s.store.ContactCode(ctx, id, ch)
		if cp.IsKind(err, cp.NotFound) || (err == nil && (!c.Change || !s.now().Before(c.ExpiresAt))) {
			continue
		}
		if err != nil {
			return ContactState{}, cp.E(op, cp.Internal, "", err)
		}
		if ch == ContactPhone {
			st.PendingPhone = maskContact(c.Address)
		} else {
			st.PendingEmail = maskContact(c.Address)
		}
	}
	return st, nil
}

// SendContactCode sends a code to the member's phone (by SMS) or email address to
// confirm it. Sends are throttled per member with the step-up codes' limits. Errors:
// Invalid on "channel" (unknown channel, or no such contact: contact.none);
// TooManyRequests.
func (s *Service) SendContactCode(ctx context.Context, id MemberID, channel string, src Source) error {
	const op = "identity.SendContactCode"
	ch, err := contactChannel(op, channel)
	if err != nil {
		return err
	}
	m, err := s.store.MemberByID(ctx, id)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	to := m.Email
	if ch == ContactPhone {
		to = m.Phone
	}
	if to == "" {
		return cp.InvalidFields(op, fieldErr("channel", msgContactNone))
	}
	return s.sendContactCode(ctx, op, m, ch, to, false, src)
}

// sendContactCode sends a code for ch to the address to; change says to is a new
// address for the member.
func (s *Service) sendContactCode(ctx context.Context, op string, m Member, ch Factor, to string, change bool, src Source) error {
	id := m.ID
	nch := notify.Email
	if ch == ContactPhone {
		nch = notify.SMS
	}
	if err := s.throttle(ctx, op, fmt.Sprintf("contact-send:%d:%s", id, ch), 1, s.cfg.MFA.ResendEvery, msgContactThrottled); err != nil {
		return err
	}
	if err := s.throttle(ctx, op, fmt.Sprintf("contact-send-member:%d", id), s.cfg.MFA.SendsPerHour, time.Hour, msgContactThrottled); err != nil {
		return err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	now := s.now()
	c := ContactCode{MemberID: id, Channel: ch, Address: to, CodeMAC: s.contactMAC(id, ch, to, code), Change: change, ExpiresAt: now.Add(s.cfg.MFA.CodeLife)}
	if err := s.store.SaveContactCode(ctx, c); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if s.notifier == nil {
		return cp.E(op, cp.Internal, "", fmt.Errorf("no notifier"))
	}
	loc := locale.Negotiate(m.Locale, src.Locale)
	minutes := fmt.Sprint(int(s.cfg.MFA.CodeLife / time.Minute))
	msg := notify.Message{
		MemberID: int64(id), Channel: nch, To: to, Kind: "contact.code",
		Subject: loc.T("notice.contactcode.subject"), Body: loc.T("notice.contactcode.body", "code", code, "minutes", minutes),
		CreatedAt: now,
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// contactMAC binds a code to the member, the channel and the address it went to, so
// a code confirms nothing else.
func (s *Service) contactMAC(id MemberID, ch Factor, to, code string) []byte {
	return s.hsm.MAC("contact-code", fmt.Appendf(nil, "%d\x00%s\x00%s\x00%s", id, ch, to, code))
}

// ConfirmContact checks a code sent by SendContactCode and marks the contact
// confirmed. Errors: Invalid on "code" (contact.code.invalid); Expired
// (contact.code.dead) when there is no live code or its tries are used up.
func (s *Service) ConfirmContact(ctx context.Context, id MemberID, channel, code string, src Source) error {
	const op = "identity.ConfirmContact"
	ch, err := contactChannel(op, channel)
	if err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return cp.InvalidFields(op, fieldErr("code", msgContactCode))
	}
	c, err := s.store.ContactCode(ctx, id, ch)
	if cp.IsKind(err, cp.NotFound) || (err == nil && !s.now().Before(c.ExpiresAt)) {
		return cp.E(op, cp.Expired, msgContactDead, err)
	}
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	ok, err := s.store.ReserveContactTry(ctx, id, ch, s.cfg.MFA.CodeTries)
	if cp.IsKind(err, cp.NotFound) {
		return cp.E(op, cp.Expired, msgContactDead, err)
	}
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return cp.E(op, cp.Expired, msgContactDead, nil)
	}
	if subtle.ConstantTimeCompare(s.contactMAC(id, ch, c.Address, code), c.CodeMAC) != 1 {
		return cp.InvalidFields(op, fieldErr("code", msgContactCode))
	}
	old, err := s.store.MemberByID(ctx, id)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if err := s.store.ConfirmContact(ctx, id, ch, s.now()); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.Expired, msgContactDead, err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	if !c.Change {
		s.record(ctx, &Event{MemberID: id, Kind: EventContactConfirmed, Detail: string(ch)}, src)
		return nil
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventContactChanged, Detail: string(ch)}, src)
	s.notifyOldContact(ctx, old, ch, c.Address)
	return nil
}

// notifyOldContact tells the address that was just replaced, so a takeover that
// changed it does not go unnoticed ("notice.contact.changed"). A failure is logged.
func (s *Service) notifyOldContact(ctx context.Context, old Member, ch Factor, now string) {
	to, nch, what := old.Email, notify.Email, "contact.what.email"
	if ch == ContactPhone {
		to, nch, what = old.Phone, notify.SMS, "contact.what.phone"
	}
	if to == "" || s.notifier == nil {
		return
	}
	loc := locale.Negotiate(old.Locale, "")
	vars := []string{"what", loc.T(what), "new", maskContact(now), "phone", loc.ContactPhone()}
	msg := notify.Message{
		MemberID: int64(old.ID), Channel: nch, To: to, Kind: "contact.changed",
		Subject: loc.T("notice.contact.changed.subject", vars...), Body: loc.T("notice.contact.changed.body", vars...),
		CreatedAt: s.now(),
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "notify old contact", "member", old.ID, "err", err)
	}
}

// ContactChange is a new phone number or email address, with the password.
type ContactChange struct {
	Channel  string // sms or email
	Address  string
	Password string
}

// ChangeContact starts replacing the member's phone number or email address: after
// the password, a code goes to the NEW address; ConfirmContact with it makes the
// address the member's and notifies the old one. Errors: Invalid on "channel",
// "address" (contact.address.invalid, contact.address.same) or "password"
// (password.current.wrong); TooManyRequests.
func (s *Service) ChangeContact(ctx context.Context, id MemberID, in ContactChange, src Source) error {
	const op = "identity.ChangeContact"
	ch, err := contactChannel(op, in.Channel)
	if err != nil {
		return err
	}
	addr, ok := normalizeContact(ch, in.Address)
	if !ok {
		return cp.InvalidFields(op, fieldErr("address", "contact.address.invalid"))
	}
	if in.Password == "" || len(in.Password) > s.cfg.Password.MaxLength*4 {
		return cp.InvalidFields(op, fieldErr("password", msgCurrentWrong))
	}
	if err := s.throttle(ctx, op, fmt.Sprintf("contact-change:%d", id), s.cfg.MaxFailures+2, s.cfg.LockFor, msgChangeThrottled); err != nil {
		return err
	}
	m, err := s.store.MemberByID(ctx, id)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	cred, err := s.store.Credential(ctx, id)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	pwOK, _, err := s.hasher.Verify(ctx, cred.PasswordHash, []byte(NormalizePassword(in.Password)))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if !pwOK {
		return cp.InvalidFields(op, fieldErr("password", msgCurrentWrong))
	}
	cur := m.Email
	if ch == ContactPhone {
		cur = m.Phone
	}
	if strings.EqualFold(cur, addr) {
		return cp.InvalidFields(op, fieldErr("address", "contact.address.same"))
	}
	return s.sendContactCode(ctx, op, m, ch, addr, true, src)
}

// normalizeContact checks a new address: an email address with one @ and a dot in the
// domain, or a phone number in international form (+ and 8 to 15 digits; spaces,
// dots, dashes and brackets are dropped).
func normalizeContact(ch Factor, v string) (string, bool) {
	v = strings.TrimSpace(v)
	if fieldText(v, true) != "" {
		return "", false
	}
	if ch == ContactEmail {
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || len(v) > 254 || strings.ContainsAny(v, " ,;<>()[]\\\"") || strings.Contains(domain, "@") ||
			!strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
			return "", false
		}
		return v, true
	}
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	p := b.String()
	if len(p) < 9 || len(p) > 16 || p[0] != '+' || p[1] == '0' {
		return "", false
	}
	return p, true
}
