package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// This file is account recovery (SPEC ID8, ID9): a forgotten User ID is emailed to the
// registered address, a forgotten password is reset by a single-use link or a one-time
// code. Both start from details only the cardholder should have and answer the same
// whether or not they matched, after the same work, so neither flow tells an attacker
// which cards are registered or which User IDs exist.

// ResetMethod is how a password reset proves control of the registered contact.
type ResetMethod string

// The reset methods: a link by email, or a 6-digit code by email or SMS.
const (
	ResetLink      ResetMethod = "link"
	ResetEmailCode ResetMethod = "email"
	ResetSMSCode   ResetMethod = "sms"
)

// ReasonAfterReset asks for a second factor at the first sign-in after a password
// reset: the reset proves the card and the inbox or phone, not the person.
const ReasonAfterReset Reason = "after_password_reset"

// Recovery events.
const (
	EventUserIDSent    EventKind = "recovery.userid"      // a User ID reminder was emailed
	EventResetStarted  EventKind = "recovery.reset.start" // a reset link or code was sent
	EventRecoveryFail  EventKind = "recovery.fail"        // details did not match (member unknown)
	EventPasswordReset EventKind = "recovery.reset"       // the password was reset
	EventResetFail     EventKind = "recovery.reset.fail"  // a wrong reset code
)

// Recovery messages. Every dead token, whether reused, expired, never issued or
// tampered with, is the same "recovery.invalid".
const (
	msgRecoveryInvalid   = "recovery.invalid"
	msgRecoveryCode      = "recovery.code.invalid"
	msgRecoveryThrottled = "recovery.throttled"
)

// PasswordReset is a pending reset. Its token is kept only as a hash and its code,
// for the code methods, only as a keyed MAC.
type PasswordReset struct {
	TokenHash []byte
	MemberID  MemberID
	Method    ResetMethod
	CodeMAC   []byte // empty for ResetLink
	CodeTries int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// RecoveryStore keeps password resets. The password history is PasswordStore's.
type RecoveryStore interface {
	// CreatePasswordReset stores r.
	CreatePasswordReset(ctx context.Context, r PasswordReset) error
	// PasswordResetByTokenHash returns the reset, used or expired or not. Returns
	// NotFound.
	PasswordResetByTokenHash(ctx context.Context, hash []byte) (PasswordReset, error)
	// ReserveResetTry atomically counts one code try if fewer than max were made and
	// reports whether it did. Returns NotFound if there is no such reset.
	ReserveResetTry(ctx context.Context, hash []byte, max int) (bool, error)
	// CompletePasswordReset, in one transaction, marks the reset used (Expired if it
	// was already used or is past its expiry at now, NotFound if there is none), sets
	// the member's password hash and change time, adds the hash to the history,
	// clears the lockout counter and any lock, and deletes the member's other pending
	// resets. Of two concurrent completions only one succeeds.
	CompletePasswordReset(ctx context.Context, hash []byte, member MemberID, newHash string, now time.Time) error
}

// RecoveryConfig is the recovery policy. Zero fields take DefaultRecoveryConfig's.
type RecoveryConfig struct {
	ResetLife   time.Duration // how long a reset link or code stays valid
	CodeTries   int           // wrong tries per reset code
	PerSource   int           // recovery requests per source address per window
	PerCard     int           // recovery requests per card per window
	Window      time.Duration
	SendsPerDay int // reset links or codes sent per member per day
	// MinDuration is the least time ForgotUserID and StartPasswordReset take when the
	// input is well formed. A match does more work than a mismatch (it writes the
	// reset and queues the message); answering no sooner than this hides that
	// difference from someone timing the responses.
	MinDuration time.Duration
	// PublicURL is the base of links in emails (scheme://host[:port]); it is
	// configured, never taken from a request's Host header, so a forged Host cannot
	// make the email link to an attacker's site.
	PublicURL string
}

// DefaultRecoveryConfig is SPEC ID9: a link lives one hour.
var DefaultRecoveryConfig = RecoveryConfig{
	ResetLife:   time.Hour,
	CodeTries:   5,
	PerSource:   20,
	PerCard:     5,
	Window:      time.Hour,
	SendsPerDay: 10,
	MinDuration: 250 * time.Millisecond,
	PublicURL:   "http://127.0.0.1:8080",
}

func (c RecoveryConfig) withDefaults() RecoveryConfig {
	d := DefaultRecoveryConfig
	if c.ResetLife == 0 {
		c.ResetLife = d.ResetLife
	}
	if c.CodeTries == 0 {
		c.CodeTries = d.CodeTries
	}
	if c.PerSource == 0 {
		c.PerSource = d.PerSource
	}
	if c.PerCard == 0 {
		c.PerCard = d.PerCard
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.SendsPerDay == 0 {
		c.SendsPerDay = d.SendsPerDay
	}
	if c.MinDuration == 0 {
		c.MinDuration = d.MinDuration
	}
	if c.PublicURL == "" {
		c.PublicURL = d.PublicURL
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c
}

// ForgotUserIDRequest proves a card for a User ID reminder (SPEC ID8).
type ForgotUserIDRequest struct {
	CardNumber string
	Code       string // CID / CVC
	BirthDate  string // YYYY-MM-DD
}

// ResetRequest starts a password reset (SPEC ID9).
type ResetRequest struct {
	UserID     string
	CardNumber string
	Code       string // CID / CVC
	Method     ResetMethod
}

// recoveryCard parses a card number and code; both flows validate them alike.
func recoveryCard(in, code string) (card.PAN, string, []cp.FieldError) {
	var fields []cp.FieldError
	pan, err := card.ParsePAN(in)
	if err != nil {
		fields = append(fields, fieldErr("card_number", "error.cardnumber"))
	}
	code = strings.TrimSpace(code)
	if !(len(code) == 3 || len(code) == 4) || strings.Trim(code, "0123456789") != "" {
		fields = append(fields, fieldErr("cid", "error.cid"))
	}
	return pan, code, fields
}

// lookupCard finds the card and checks its code. The code is verified whether or not
// the card exists (against a dummy expiry when it does not), so the two cost the same.
func (s *Service) lookupCard(ctx context.Context, op string, pan card.PAN, code string) (CardHolder, bool, error) {
	fp := s.hsm.Fingerprint(pan)
	if err := s.throttle(ctx, op, "recovery-card:"+hashHex(fp), s.cfg.Recovery.PerCard, s.cfg.Recovery.Window, msgRecoveryThrottled); err != nil {
		return CardHolder{}, false, err
	}
	ch, err := s.store.CardHolderByFingerprint(ctx, fp)
	found := err == nil
	if err != nil && !cp.IsKind(err, cp.NotFound) {
		return CardHolder{}, false, cp.E(op, cp.Internal, "", err)
	}
	exp := ch.Expiry
	if !found {
		exp = card.Expiry{Year: 2099, Month: 12}
	}
	c, err := card.ParseCode(code, pan.CodeLength())
	codeOK := err == nil && s.hsm.VerifyCardCode(pan, exp, c)
	return ch, found && ch.Active && codeOK, nil
}

// memberOf loads the card holder's member; the lookup runs on every path.
func (s *Service) memberOf(ctx context.Context, op string, id MemberID) (Member, bool, error) {
	m, err := s.store.MemberByID(ctx, id) // id 0 matches no one
	if cp.IsKind(err, cp.NotFound) {
		return Member{}, false, nil
	}
	if err != nil {
		return Member{}, false, cp.E(op, cp.Internal, "", err)
	}
	return m, true, nil
}

// ForgotUserID emails the member's User ID to the registered address when the card
// number, code and date of birth match a registered card. The User ID is never
// returned: the answer is nil whether or not anything matched, and the same lookups
// run either way. Only malformed input (per-field errors) and throttling fail.
func (s *Service) ForgotUserID(ctx context.Context, in ForgotUserIDRequest, src Source) error {
	const op = "identity.ForgotUserID"
	if err := s.throttle(ctx, op, "recovery-ip:"+src.IP, s.cfg.Recovery.PerSource, s.cfg.Recovery.Window, msgRecoveryThrottled); err != nil {
		return err
	}
	pan, code, fields := recoveryCard(in.CardNumber, in.Code)
	birth, ok := parseDate(in.BirthDate)
	if !ok {
		fields = append(fields, fieldErr("birth_date", "error.date"))
	}
	if len(fields) > 0 {
		return cp.InvalidFields(op, fields...)
	}
	defer s.pad(ctx, time.Now())
	ch, cardOK, err := s.lookupCard(ctx, op, pan, code)
	if err != nil {
		return err
	}
	m, found, err := s.memberOf(ctx, op, ch.MemberID)
	if err != nil {
		return err
	}
	if !cardOK || !sameDay(birth, ch.DateOfBirth) || !found || m.Email == "" {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventRecoveryFail, Detail: "userid"}, src)
		return nil
	}
	s.record(ctx, &Event{MemberID: m.ID, Kind: EventUserIDSent}, src)
	s.send(ctx, m, "userid", "userid", m.UserID, "last", ch.CardLast)
	return nil
}

// StartPasswordReset checks a User ID, card number and code and, when they belong
// together, sends a reset link (ResetLink) or a 6-digit code (ResetEmailCode,
// ResetSMSCode). For the code methods it returns the reset's token, which the caller
// keeps (a cookie, the app) and presents with the code; for a link the token is only
// in the email and the returned token is empty. A mismatch returns the same: an
// unstored random token for the code methods, so the answer does not say whether
// anything matched.
func (s *Service) StartPasswordReset(ctx context.Context, in ResetRequest, src Source) (Token, error) {
	const op = "identity.StartPasswordReset"
	if err := s.throttle(ctx, op, "recovery-ip:"+src.IP, s.cfg.Recovery.PerSource, s.cfg.Recovery.Window, msgRecoveryThrottled); err != nil {
		return "", err
	}
	pan, code, fields := recoveryCard(in.CardNumber, in.Code)
	if m := fieldText(in.UserID, true); m != "" || len(in.UserID) > UserIDMax*4 {
		if m == "" {
			m = "error.field.toolong"
		}
		fields = append(fields, fieldErr("user_id", m))
	}
	if in.Method != ResetLink && in.Method != ResetEmailCode && in.Method != ResetSMSCode {
		fields = append(fields, fieldErr("method", "recovery.method.invalid"))
	}
	if len(fields) > 0 {
		return "", cp.InvalidFields(op, fields...)
	}
	defer s.pad(ctx, time.Now())
	ch, cardOK, err := s.lookupCard(ctx, op, pan, code)
	if err != nil {
		return "", err
	}
	m, found, err := s.memberOf(ctx, op, ch.MemberID)
	if err != nil {
		return "", err
	}
	tok, err := newToken()
	if err != nil {
		return "", cp.E(op, cp.Internal, "", err)
	}
	out := tok
	if in.Method == ResetLink {
		out = ""
	}
	to, channel := m.Email, notify.Email
	if in.Method == ResetSMSCode {
		to, channel = m.Phone, notify.SMS
	}
	userOK := found && subtle.ConstantTimeCompare([]byte(UserIDKey(in.UserID)), []byte(UserIDKey(m.UserID))) == 1
	if !cardOK || !userOK || to == "" {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventRecoveryFail, Detail: "reset"}, src)
		return out, nil
	}
	// Past the member's daily budget the answer stays the same: a limit reached
	// must not confirm that the details were right.
	if n, _, err := s.store.Hit(ctx, fmt.Sprintf("recovery-send:%d", m.ID), 24*time.Hour, s.now()); err != nil {
		return "", cp.E(op, cp.Internal, "", err)
	} else if n > s.cfg.Recovery.SendsPerDay {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventRecoveryFail, Detail: "reset: daily limit"}, src)
		return out, nil
	}
	now := s.now()
	r := PasswordReset{TokenHash: tok.hash(), MemberID: m.ID, Method: in.Method, CreatedAt: now, ExpiresAt: now.Add(s.cfg.Recovery.ResetLife)}
	loc := locale.Negotiate(m.Locale, src.Locale)
	minutes := fmt.Sprint(int(s.cfg.Recovery.ResetLife / time.Minute))
	var body string
	if in.Method == ResetLink {
		link := s.cfg.Recovery.PublicURL + "/reset?t=" + url.QueryEscape(string(tok))
		body = loc.T("notice.reset.link.body", "link", link, "minutes", minutes, "phone", loc.ContactPhone())
	} else {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return "", cp.E(op, cp.Internal, "", err)
		}
		c := fmt.Sprintf("%06d", n.Int64())
		r.CodeMAC = s.resetCodeMAC(r.TokenHash, c)
		body = loc.T("notice.reset.code.body", "code", c, "minutes", minutes, "phone", loc.ContactPhone())
	}
	if err := s.store.CreatePasswordReset(ctx, r); err != nil {
		return "", cp.E(op, cp.Internal, "", err)
	}
	if s.notifier == nil {
		return "", cp.E(op, cp.Internal, "", fmt.Errorf("no notifier"))
	}
	msg := notify.Message{
		MemberID: int64(m.ID), Channel: channel, To: to, Kind: "recovery.reset",
		Subject: loc.T("notice.reset.subject"), Body: body, CreatedAt: now,
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		return "", cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: m.ID, Kind: EventResetStarted, Detail: string(in.Method)}, src)
	return out, nil
}

// pad sleeps until MinDuration has passed since start (wall time, not the injected
// clock: it is about what an observer measures). A negative MinDuration turns it off.
func (s *Service) pad(ctx context.Context, start time.Time) {
	d := s.cfg.Recovery.MinDuration - time.Since(start)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (s *Service) resetCodeMAC(tokenHash []byte, code string) []byte {
	return s.hsm.MAC("reset-code", append(append([]byte{}, tokenHash...), code...))
}

// resetFlow loads a live, unused reset. Whatever is wrong with the token, the error is
// the same Expired "recovery.invalid".
func (s *Service) resetFlow(ctx context.Context, op string, tok Token) (PasswordReset, error) {
	if !tok.valid() {
		return PasswordReset{}, cp.E(op, cp.Expired, msgRecoveryInvalid, nil)
	}
	r, err := s.store.PasswordResetByTokenHash(ctx, tok.hash())
	if cp.IsKind(err, cp.NotFound) || (err == nil && (!r.UsedAt.IsZero() || !s.now().Before(r.ExpiresAt))) {
		return PasswordReset{}, cp.E(op, cp.Expired, msgRecoveryInvalid, err)
	}
	if err != nil {
		return PasswordReset{}, cp.E(op, cp.Internal, "", err)
	}
	return r, nil
}

// CheckResetToken reports whether a reset token can still be used, so a page can say
// so before the member types a new password. It reports the method (a code reset
// needs its code with the new password).
func (s *Service) CheckResetToken(ctx context.Context, tok Token) (ResetMethod, error) {
	r, err := s.resetFlow(ctx, "identity.CheckResetToken", tok)
	return r.Method, err
}

// NewPassword is the last step of a reset.
type NewPassword struct {
	Code     string // the one-time code, for the code methods
	Password string
	Confirm  string
}

// ResetPassword sets a new password with a reset token (and code). The password must
// meet the policy and not be one of the last PasswordPolicy.History passwords. On
// success the reset is used up, any lock is lifted, every session ends, the next
// sign-in asks for a second factor, and a "password changed" notice goes out. A wrong
// code or a refused password changes nothing but the code's try counter.
func (s *Service) ResetPassword(ctx context.Context, tok Token, in NewPassword, src Source) error {
	const op = "identity.ResetPassword"
	if err := s.throttle(ctx, op, "recovery-ip:"+src.IP, s.cfg.Recovery.PerSource*3, s.cfg.Recovery.Window, msgRecoveryThrottled); err != nil {
		return err
	}
	code := strings.TrimSpace(in.Code)
	// A code reset's token came back to whoever asked, even when nothing matched (an
	// unstored token). So with a code, every failure, an unknown token included, is
	// the same wrong-or-dead-code answer: otherwise "invalid link" against "wrong
	// code" would tell which details matched.
	codeWrong := cp.InvalidFields(op, fieldErr("code", msgRecoveryCode))
	r, err := s.resetFlow(ctx, op, tok)
	if err != nil {
		if code != "" && cp.IsKind(err, cp.Expired) {
			return codeWrong
		}
		return err
	}
	m, err := s.store.MemberByID(ctx, r.MemberID)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if r.Method != ResetLink {
		allowed, err := s.store.ReserveResetTry(ctx, r.TokenHash, s.cfg.Recovery.CodeTries)
		if cp.IsKind(err, cp.NotFound) {
			return codeWrong
		}
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if !allowed || len(code) > maxField || subtle.ConstantTimeCompare(s.resetCodeMAC(r.TokenHash, code), r.CodeMAC) != 1 {
			s.record(ctx, &Event{MemberID: m.ID, Kind: EventResetFail}, src)
			return codeWrong
		}
	}
	hash, err := s.newPasswordHash(ctx, op, m, in.Password, in.Confirm)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.store.CompletePasswordReset(ctx, r.TokenHash, m.ID, hash, now); err != nil {
		if cp.IsKind(err, cp.NotFound) || cp.IsKind(err, cp.Expired) {
			if r.Method != ResetLink {
				return codeWrong
			}
			return cp.E(op, cp.Expired, msgRecoveryInvalid, err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	if _, err := s.store.RevokeSessions(ctx, m.ID, 0, now); err != nil {
		// The password is already changed; a session left alive is logged loudly
		// rather than reported as a failed reset the member would then retry.
		s.log.ErrorContext(ctx, "revoke sessions after reset", "member", m.ID, "err", err)
	}
	s.record(ctx, &Event{MemberID: m.ID, Kind: EventPasswordReset, Detail: string(r.Method)}, src)
	loc := locale.Negotiate(m.Locale, "")
	s.send(ctx, m, "reset.done", "time", loc.DateTime(now, time.UTC))
	return nil
}
