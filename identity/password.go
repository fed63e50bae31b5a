package identity

import (
	"context"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
)

// Password changes (SPEC ID11): a member changing their password while signed in, a
// sign-in whose password is older than the policy's maximum age ending in a session
// that may only change it, and SetPassword, the one place a new password is checked
// against the policy and the history and stored (account recovery uses it too).

// Security events of password changes.
const (
	EventPasswordChanged EventKind = "password.changed"
	// EventPasswordExpired is a sign-in that was held to a password change.
	EventPasswordExpired EventKind = "password.expired"
)

// Messages of password changes.
const (
	msgPasswordExpired = "password.expired"
	msgCurrentWrong    = "password.current.wrong"
	msgChangeThrottled = "password.change.throttled"
)

// PasswordStore keeps password changes.
type PasswordStore interface {
	// Credential returns the member's current password hash and when it was set.
	// Returns NotFound.
	Credential(ctx context.Context, id MemberID) (Credential, error)
	// PasswordHistory returns the hashes of the member's last n passwords, newest
	// first; the current one is among them.
	PasswordHistory(ctx context.Context, id MemberID, n int) ([]string, error)
	// ChangePassword replaces the hash, sets the change time to at, appends the hash to
	// the history and clears the lockout counter, in one transaction. Returns NotFound
	// for an unknown member, with nothing changed.
	ChangePassword(ctx context.Context, id MemberID, hash string, at time.Time) error
}

// passwordExpired reports whether the member's password is older than the policy
// allows. With no maximum age it costs nothing.
func (s *Service) passwordExpired(ctx context.Context, id MemberID) (bool, error) {
	if s.cfg.Password.MaxAge <= 0 {
		return false, nil
	}
	c, err := s.store.Credential(ctx, id)
	if err != nil {
		return false, err
	}
	return !s.now().Before(c.ChangedAt.Add(s.cfg.Password.MaxAge)), nil
}

// AuthenticateForPasswordChange is Authenticate that also accepts a session held to
// a password change: only the change-password page and endpoint (and sign-out) use it.
func (s *Service) AuthenticateForPasswordChange(ctx context.Context, tok Token) (Session, error) {
	return s.authenticate(ctx, tok)
}

// SetPassword checks pw (and its confirmation) against the policy and the member's
// last Policy.History passwords, stores it, records the change, notifies the member
// and ends every session of theirs except keep (0 ends them all): whoever knew the old
// password must not stay signed in. It returns Invalid with per-field problems on
// "password" (pw.rule.*) and "confirm" (pw.mismatch), with nothing changed, and
// NotFound for an unknown member.
func (s *Service) SetPassword(ctx context.Context, id MemberID, pw, confirm string, keep int64, src Source) error {
	const op = "identity.SetPassword"
	m, err := s.store.MemberByID(ctx, id)
	if cp.IsKind(err, cp.NotFound) {
		return cp.E(op, cp.NotFound, "", err)
	}
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	hash, err := s.newPasswordHash(ctx, op, m, pw, confirm)
	if err != nil {
		return err
	}
	if err := s.store.ChangePassword(ctx, id, hash, s.now()); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.NotFound, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventPasswordChanged}, src)
	if _, err := s.store.RevokeSessions(ctx, id, keep, s.now()); err != nil {
		// The password is changed; a session left behind is logged loudly rather than
		// reported as a failed change the member would retry.
		s.log.ErrorContext(ctx, "end sessions after password change", "member", id, "err", err)
	}
	s.send(ctx, m, "password.changed")
	return nil
}

// newPasswordHash checks a new password against the policy, its confirmation and the
// member's last passwords, and hashes it: the one rule set for every way a password
// is set (change, expiry, reset). Errors: Invalid with fields password and confirm.
func (s *Service) newPasswordHash(ctx context.Context, op string, m Member, pw, confirm string) (string, error) {
	var fields []cp.FieldError
	for _, r := range s.cfg.Password.Check(pw, m.UserID) {
		fields = append(fields, fieldErr("password", "pw.rule."+string(r)))
	}
	if pw != confirm {
		fields = append(fields, fieldErr("confirm", "pw.mismatch"))
	}
	if len(fields) > 0 {
		return "", cp.InvalidFields(op, fields...)
	}
	norm := []byte(NormalizePassword(pw))
	if n := s.cfg.Password.History; n > 0 {
		hist, err := s.store.PasswordHistory(ctx, m.ID, n)
		if err != nil {
			return "", cp.E(op, cp.Internal, "", err)
		}
		for _, h := range hist {
			ok, _, err := s.hasher.Verify(ctx, h, norm)
			if err != nil {
				return "", cp.E(op, cp.Internal, "", err)
			}
			if ok {
				return "", cp.InvalidFields(op, fieldErr("password", "pw.rule."+string(RuleHistory)))
			}
		}
	}
	hash, err := s.hasher.Hash(ctx, norm)
	if err != nil {
		return "", cp.E(op, cp.Internal, "", err)
	}
	return hash, nil
}

// PasswordChange is what a member types to change their password.
type PasswordChange struct {
	Current string
	New     string
	Confirm string
}

// ChangePassword changes the signed-in member's password after checking the current
// one. Other sessions end. A session that was held to a password change (an expired
// password) is replaced by a fresh, full one whose token is returned; otherwise the
// token is empty and sess stays valid. Wrong current passwords are throttled per
// member. Errors: Invalid with fields current_password (password.current.wrong),
// password, confirm; TooManyRequests.
func (s *Service) ChangePassword(ctx context.Context, sess Session, in PasswordChange, src Source) (Token, Session, error) {
	const op = "identity.ChangePassword"
	if in.Current == "" {
		return "", Session{}, cp.InvalidFields(op, fieldErr("current_password", "error.field.required"))
	}
	if len(in.Current) > s.cfg.Password.MaxLength*4 {
		return "", Session{}, cp.InvalidFields(op, fieldErr("current_password", msgCurrentWrong))
	}
	key := "pwchange:" + strconv.FormatInt(int64(sess.MemberID), 10)
	if err := s.throttle(ctx, op, key, s.cfg.MaxFailures+2, s.cfg.LockFor, msgChangeThrottled); err != nil {
		return "", Session{}, err
	}
	cred, err := s.store.Credential(ctx, sess.MemberID)
	if err != nil {
		return "", Session{}, cp.E(op, cp.Internal, "", err)
	}
	ok, _, err := s.hasher.Verify(ctx, cred.PasswordHash, []byte(NormalizePassword(in.Current)))
	if err != nil {
		return "", Session{}, cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return "", Session{}, cp.InvalidFields(op, fieldErr("current_password", msgCurrentWrong))
	}
	keep := sess.ID
	if sess.MustChangePassword {
		keep = 0
	}
	if err := s.SetPassword(ctx, sess.MemberID, in.New, in.Confirm, keep, src); err != nil {
		if e, ok := err.(*cp.Error); ok {
			e.Op = op
		}
		return "", Session{}, err
	}
	if !sess.MustChangePassword {
		return "", sess, nil
	}
	src.Client = sess.Client
	tok, fresh, err := s.startSession(ctx, sess.MemberID, src, SessionStart{
		Events: []*Event{s.event(sess.MemberID, EventSignInOK, "", src)},
	})
	if err != nil {
		return "", Session{}, cp.E(op, cp.Internal, "", err)
	}
	return tok, fresh, nil
}
