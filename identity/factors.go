package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	cp "github.com/cardportal/cardportal"
)

// FactorStatus is what the security page shows about a member's second factors.
type FactorStatus struct {
	TOTP         bool // an authenticator app is enrolled and confirmed
	RecoveryLeft int  // unused recovery codes
	Email        string
	Phone        string // masked; codes by SMS and email need no enrolment
	Required     bool   // the member asks for a second factor at every sign-in
}

// Factors returns the member's second-factor status.
func (s *Service) Factors(ctx context.Context, id MemberID) (FactorStatus, error) {
	const op = "identity.Factors"
	m, err := s.store.MemberByID(ctx, id)
	if err != nil {
		return FactorStatus{}, cp.E(op, cp.Internal, "", err)
	}
	st := FactorStatus{Email: maskContact(m.Email), Phone: maskContact(m.Phone)}
	t, err := s.store.TOTP(ctx, id)
	if err != nil && !cp.IsKind(err, cp.NotFound) {
		return FactorStatus{}, cp.E(op, cp.Internal, "", err)
	}
	st.TOTP = err == nil && !t.ConfirmedAt.IsZero()
	if st.RecoveryLeft, err = s.store.RecoveryCodesLeft(ctx, id); err != nil {
		return FactorStatus{}, cp.E(op, cp.Internal, "", err)
	}
	if st.Required, err = s.store.MFARequired(ctx, id); err != nil {
		return FactorStatus{}, cp.E(op, cp.Internal, "", err)
	}
	return st, nil
}

// reauthenticate checks the member's password before a change to their second
// factors. It has its own per-member throttle (reauthPer15Min checks, right or
// wrong, per 15 minutes) rather than the sign-in lockout: a signed-in member mistyping
// here should not lock themselves out of signing in, and someone at an unlocked
// session still cannot guess at speed.
func (s *Service) reauthenticate(ctx context.Context, op string, id MemberID, password string) (Member, error) {
	if err := s.throttle(ctx, op, fmt.Sprintf("mfa-reauth:%d", id), reauthPer15Min, 15*time.Minute, "mfa.reauth.throttled"); err != nil {
		return Member{}, err
	}
	m, err := s.store.MemberByID(ctx, id)
	if err != nil {
		return Member{}, cp.E(op, cp.Internal, "", err)
	}
	_, cred, err := s.store.MemberByUserID(ctx, m.UserID)
	if err != nil {
		return Member{}, cp.E(op, cp.Internal, "", err)
	}
	if len(password) > s.cfg.Password.MaxLength*4 {
		return Member{}, cp.InvalidFields(op, fieldErr("password", "mfa.password.wrong"))
	}
	ok, _, err := s.hasher.Verify(ctx, cred.PasswordHash, []byte(NormalizePassword(password)))
	if err != nil {
		return Member{}, cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return Member{}, cp.InvalidFields(op, fieldErr("password", "mfa.password.wrong"))
	}
	return m, nil
}

// reauthPer15Min bounds password re-entries (and TOTP confirmations) per member.
const reauthPer15Min = 10

// TOTPEnrolment is what the member needs to add the account to an authenticator app.
type TOTPEnrolment struct {
	Secret string // base32, for typing in
	URL    string // otpauth:// URL, the QR code's content
	QRPNG  []byte // the QR code as a PNG image
}

// StartTOTP begins authenticator enrolment after the password is re-entered: a new
// secret is sealed and stored unconfirmed until ConfirmTOTP sees a first code. It
// replaces an unconfirmed enrolment; a confirmed one must be removed first (Conflict
// "mfa.totp.exists").
func (s *Service) StartTOTP(ctx context.Context, id MemberID, password string, src Source) (TOTPEnrolment, error) {
	const op = "identity.StartTOTP"
	m, err := s.reauthenticate(ctx, op, id, password)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if t, err := s.store.TOTP(ctx, id); err == nil && !t.ConfirmedAt.IsZero() {
		return TOTPEnrolment{}, cp.E(op, cp.Conflict, "mfa.totp.exists", nil)
	} else if err != nil && !cp.IsKind(err, cp.NotFound) {
		return TOTPEnrolment{}, cp.E(op, cp.Internal, "", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.MFA.Issuer, AccountName: m.UserID, Rand: rand.Reader})
	if err != nil {
		return TOTPEnrolment{}, cp.E(op, cp.Internal, "", err)
	}
	sealed, err := s.hsm.SealSecret("totp", []byte(key.Secret()))
	if err != nil {
		return TOTPEnrolment{}, cp.E(op, cp.Internal, "", err)
	}
	if err := s.store.SaveTOTP(ctx, TOTPFactor{MemberID: id, SecretKeyID: sealed.KeyID, Secret: sealed.Blob, CreatedAt: s.now()}); err != nil {
		return TOTPEnrolment{}, cp.E(op, cp.Internal, "", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPEnrolment{}, cp.E(op, cp.Internal, "", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPEnrolment{}, cp.E(op, cp.Internal, "", err)
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// ConfirmTOTP completes enrolment with the first code from the app. The code's step
// becomes the last accepted one, so it cannot be used again to sign in.
func (s *Service) ConfirmTOTP(ctx context.Context, id MemberID, code string, src Source) error {
	const op = "identity.ConfirmTOTP"
	if err := s.throttle(ctx, op, fmt.Sprintf("mfa-confirm:%d", id), reauthPer15Min, 15*time.Minute, "mfa.reauth.throttled"); err != nil {
		return err
	}
	t, err := s.store.TOTP(ctx, id)
	if cp.IsKind(err, cp.NotFound) || (err == nil && !t.ConfirmedAt.IsZero()) {
		return cp.E(op, cp.Expired, "mfa.totp.nopending", err)
	}
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	step, ok, err := s.matchTOTP(t, strings.TrimSpace(code))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return cp.InvalidFields(op, fieldErr("code", msgInvalid))
	}
	if err := s.store.AdvanceTOTP(ctx, id, step, s.now()); err != nil {
		if cp.IsKind(err, cp.Conflict) {
			return cp.InvalidFields(op, fieldErr("code", msgInvalid))
		}
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventFactorAdded, Detail: string(FactorTOTP)}, src)
	return nil
}

// RemoveTOTP removes the authenticator app after the password is re-entered. Returns
// NotFound if none is enrolled.
func (s *Service) RemoveTOTP(ctx context.Context, id MemberID, password string, src Source) error {
	const op = "identity.RemoveTOTP"
	if _, err := s.reauthenticate(ctx, op, id, password); err != nil {
		return err
	}
	if _, err := s.store.TOTP(ctx, id); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.NotFound, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	if err := s.store.DeleteTOTP(ctx, id); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventFactorRemoved, Detail: string(FactorTOTP)}, src)
	return nil
}

// recoveryAlphabet leaves out look-alikes (0/O, 1/I/L) so a code copied from paper is
// typed right; 31 symbols, 10 of them make a code of about 49 bits.
const recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// RecoveryCodeCount is how many recovery codes a set has.
const RecoveryCodeCount = 10

// NormalizeRecoveryCode is the form a recovery code is checked in: upper case, with
// the spaces and hyphens people add when copying dropped.
func NormalizeRecoveryCode(c string) string {
	c = strings.ToUpper(c)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, c)
}

// NewRecoveryCodes replaces the member's recovery codes with 10 new single-use ones,
// after the password is re-entered, and returns them: this is the only time they are
// shown. They are stored as keyed MACs (the HSM's key is not in the database), which
// is enough for 50-bit random codes and keeps sign-in free of a slow hash per try.
func (s *Service) NewRecoveryCodes(ctx context.Context, id MemberID, password string, src Source) ([]string, error) {
	const op = "identity.NewRecoveryCodes"
	if _, err := s.reauthenticate(ctx, op, id, password); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodeCount)
	macs := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		for j := range b {
			b[j] = recoveryAlphabet[int(b[j])%len(recoveryAlphabet)]
		}
		// 256 is not a multiple of 31, so the modulo above is slightly biased; at 10
		// symbols the loss is a fraction of a bit.
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		macs[i] = s.recoveryMAC(id, NormalizeRecoveryCode(codes[i]))
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, id, macs, s.now()); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventRecoveryNew}, src)
	return codes, nil
}

// SetMFARequired records whether the member wants a second factor at every sign-in,
// after the password is re-entered.
func (s *Service) SetMFARequired(ctx context.Context, id MemberID, password string, required bool, src Source) error {
	const op = "identity.SetMFARequired"
	if _, err := s.reauthenticate(ctx, op, id, password); err != nil {
		return err
	}
	if err := s.store.SetMFARequired(ctx, id, required); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// Devices lists the member's devices (trusted or merely seen).
func (s *Service) Devices(ctx context.Context, id MemberID) ([]Device, error) {
	ds, err := s.store.ListDevices(ctx, id)
	if err != nil {
		return nil, cp.E("identity.Devices", cp.Internal, "", err)
	}
	return ds, nil
}

// ForgetDevice revokes one of the member's devices: its trust ends and the next
// sign-in from it is a new device again. Returns NotFound if it is not theirs.
func (s *Service) ForgetDevice(ctx context.Context, id MemberID, deviceID int64, src Source) error {
	const op = "identity.ForgetDevice"
	if err := s.store.RevokeDevice(ctx, id, deviceID, s.now()); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.NotFound, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventDeviceForgotten}, src)
	return nil
}
