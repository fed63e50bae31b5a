package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// LoginResult is the outcome of a correct password: either a session (Token and
// Session set) or, when risk calls for a second factor, a challenge to complete with
// CompleteSignIn (StepUp set, no session yet).
type LoginResult struct {
	Member  Member
	Token   Token
	Session Session
	StepUp  *Challenge
}

// Challenge is a step-up waiting for its second factor.
type Challenge struct {
	FlowToken  Token // bound to the member and the device the password came from
	Factors    []Factor
	Reasons    []Reason
	QuestionID string // the security question asked, when FactorQuestion is offered
	Email      string // masked, to show where an email code goes
	Phone      string // masked
	ExpiresAt  time.Time
}

// Step-up errors. Every wrong answer, whatever the factor and whatever was wrong
// with it (a wrong code, a replayed TOTP code, a used recovery code, another device's
// flow), is the same "mfa.invalid", so an attacker learns nothing from the message.
const (
	msgInvalid   = "mfa.invalid"
	msgExpired   = "mfa.expired"
	msgThrottled = "mfa.throttled"
	msgCodeDead  = "mfa.code.dead"
)

// afterPassword finishes a sign-in whose password was right: it assesses the risk and
// either starts the session or a step-up flow.
func (s *Service) afterPassword(ctx context.Context, op string, m Member, src Source) (LoginResult, error) {
	risk, dev, err := s.risk(ctx, m, src)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	reasons := Assess(risk)
	if len(reasons) == 0 {
		tok, sess, err := s.startSession(ctx, m.ID, src, SessionStart{
			Events:        []*Event{s.event(m.ID, EventSignInOK, "", src)},
			Device:        s.device(m.ID, dev, src, false),
			ResetAttempts: true,
		})
		if err != nil {
			return LoginResult{}, cp.E(op, cp.Internal, "", err)
		}
		return LoginResult{Member: m, Token: tok, Session: sess}, nil
	}
	// The password was right even though a second factor is still due.
	if err := s.store.ResetPasswordAttempts(ctx, m.ID); err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	ch, err := s.startStepUp(ctx, m, reasons, src)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	return LoginResult{Member: m, StepUp: ch}, nil
}

// risk gathers what Assess decides on. dev is the member's record of the device, if
// any.
func (s *Service) risk(ctx context.Context, m Member, src Source) (Risk, *Device, error) {
	now := s.now()
	r := Risk{Network: NetworkOf(src.IP)}
	var dev *Device
	if h := deviceHash(src.DeviceID); h != nil {
		d, err := s.store.DeviceByHash(ctx, m.ID, h)
		switch {
		case err == nil:
			dev = &d
			r.KnownDevice = d.RevokedAt.IsZero()
			r.TrustedDevice = d.Trusted(now)
		case !cp.IsKind(err, cp.NotFound):
			return Risk{}, nil, err
		}
	}
	req, err := s.store.MFARequired(ctx, m.ID)
	if err != nil {
		return Risk{}, nil, err
	}
	r.Required = req
	// The networks of the last few sign-ins, and whether the account was locked or
	// its password reset since the newest of them: two short index reads, however
	// long the history.
	signIns, err := s.store.RecentEvents(ctx, m.ID, []EventKind{EventSignInOK, EventRegistered}, s.cfg.MFA.RecentSignIns)
	if err != nil {
		return Risk{}, nil, err
	}
	var last int64
	for i, e := range signIns { // newest first
		if i == 0 {
			last = e.ID
		}
		if n := NetworkOf(e.IP); n != "" {
			r.Recent = append(r.Recent, n)
		}
	}
	since, err := s.store.EventKindsSince(ctx, m.ID, last)
	if err != nil {
		return Risk{}, nil, err
	}
	r.LockedSince = slices.Contains(since, EventLocked)
	r.ResetSince = slices.Contains(since, EventPasswordReset)
	return r, dev, nil
}

// device is the record of a successful sign-in from the request's device, to save
// with its session (nil when the request names no device). dev is the stored record,
// if any: its trust carries over unless it was revoked; trust starts or renews the
// trust period.
func (s *Service) device(id MemberID, dev *Device, src Source, trust bool) *Device {
	h := deviceHash(src.DeviceID)
	if h == nil {
		return nil
	}
	now := s.now()
	d := &Device{MemberID: id, IDHash: h, Label: truncate(src.UserAgent, 200), FirstSeen: now, LastSeen: now}
	if dev != nil && dev.RevokedAt.IsZero() {
		d.TrustedUntil = dev.TrustedUntil
	}
	if trust {
		d.TrustedUntil = now.Add(s.cfg.MFA.TrustFor)
	}
	return d
}

func (s *Service) startStepUp(ctx context.Context, m Member, reasons []Reason, src Source) (*Challenge, error) {
	factors, question, err := s.factorsFor(ctx, m)
	if err != nil {
		return nil, err
	}
	tok, err := newToken()
	if err != nil {
		return nil, err
	}
	now := s.now()
	f := StepUp{
		TokenHash: tok.hash(), MemberID: m.ID, Purpose: PurposeSignIn, DeviceHash: deviceHash(src.DeviceID), Reasons: reasons,
		QuestionID: question, CreatedAt: now, ExpiresAt: now.Add(s.cfg.MFA.FlowLife),
	}
	if err := s.store.CreateStepUp(ctx, f); err != nil {
		return nil, err
	}
	rs := make([]string, len(reasons))
	for i, r := range reasons {
		rs[i] = string(r)
	}
	s.record(ctx, &Event{MemberID: m.ID, Kind: EventStepUp, Detail: strings.Join(rs, ",")}, src)
	return &Challenge{
		FlowToken: tok, Factors: factors, Reasons: reasons, QuestionID: question,
		Email: maskContact(m.Email), Phone: maskContact(m.Phone), ExpiresAt: f.ExpiresAt,
	}, nil
}

func maskContact(v string) string {
	if v == "" {
		return ""
	}
	return notify.MaskAddress(v)
}

// factorsFor lists the factors the member can use now, strongest first, and picks the
// security question to ask if that fallback is offered.
func (s *Service) factorsFor(ctx context.Context, m Member) ([]Factor, string, error) {
	var out []Factor
	switch ok, err := s.hasPasskey(ctx, m.ID); { // passkey.go
	case err != nil:
		return nil, "", err
	case ok:
		out = append(out, FactorPasskey)
	}
	t, err := s.store.TOTP(ctx, m.ID)
	switch {
	case err == nil && !t.ConfirmedAt.IsZero():
		out = append(out, FactorTOTP)
	case err != nil && !cp.IsKind(err, cp.NotFound):
		return nil, "", err
	}
	if m.Phone != "" {
		out = append(out, FactorSMS)
	}
	if m.Email != "" {
		out = append(out, FactorEmail)
	}
	n, err := s.store.RecoveryCodesLeft(ctx, m.ID)
	if err != nil {
		return nil, "", err
	}
	if n > 0 {
		out = append(out, FactorRecovery)
	}
	var question string
	if !s.cfg.MFA.NoQuestionFallback {
		answers, err := s.store.SecurityAnswers(ctx, m.ID)
		if err != nil {
			return nil, "", err
		}
		if len(answers) > 0 {
			i, err := rand.Int(rand.Reader, big.NewInt(int64(len(answers))))
			if err != nil {
				return nil, "", err
			}
			question = answers[i.Int64()].QuestionID
			out = append(out, FactorQuestion)
		}
	}
	return out, question, nil
}

// PurposeSignIn is the purpose of a sign-in's step-up flow. Every other purpose is a
// re-identification of a signed-in member (reidentify.go).
const PurposeSignIn = "signin"

// stepUpFlow loads a live sign-in step-up flow and checks it belongs to the requesting
// device. A flow token used from another device (or with no device) is refused like a
// wrong code: the token alone is not enough. So is a re-identification flow: it was
// started by a signed-in member without a password, and finishing a sign-in with it
// would start a session on its second factor alone.
func (s *Service) stepUpFlow(ctx context.Context, op string, tok Token, src Source) (StepUp, Member, error) {
	f, m, err := s.loadFlow(ctx, op, tok, src, EventStepUpFail)
	if err != nil {
		return StepUp{}, Member{}, err
	}
	if f.Purpose != PurposeSignIn {
		s.record(ctx, &Event{MemberID: f.MemberID, Kind: EventStepUpFail, Detail: "not a sign-in flow"}, src)
		return StepUp{}, Member{}, cp.E(op, cp.Unauthenticated, msgInvalid, nil)
	}
	return f, m, nil
}

// loadFlow loads a live flow of any purpose and checks it belongs to the requesting
// device, recording failKind if not.
func (s *Service) loadFlow(ctx context.Context, op string, tok Token, src Source, failKind EventKind) (StepUp, Member, error) {
	if !tok.valid() {
		return StepUp{}, Member{}, cp.E(op, cp.Expired, msgExpired, nil)
	}
	f, err := s.store.StepUpByTokenHash(ctx, tok.hash())
	if cp.IsKind(err, cp.NotFound) || (err == nil && !s.now().Before(f.ExpiresAt)) {
		return StepUp{}, Member{}, cp.E(op, cp.Expired, msgExpired, err)
	}
	if err != nil {
		return StepUp{}, Member{}, cp.E(op, cp.Internal, "", err)
	}
	if subtle.ConstantTimeCompare(f.DeviceHash, deviceHash(src.DeviceID)) != 1 {
		s.record(ctx, &Event{MemberID: f.MemberID, Kind: failKind, Detail: "other device"}, src)
		return StepUp{}, Member{}, cp.E(op, cp.Unauthenticated, msgInvalid, nil)
	}
	m, err := s.store.MemberByID(ctx, f.MemberID)
	if err != nil {
		return StepUp{}, Member{}, cp.E(op, cp.Internal, "", err)
	}
	return f, m, nil
}

// SendCode sends a one-time code for a step-up flow by email or SMS. Codes are 6
// digits from crypto/rand, valid for MFAConfig.CodeLife, and stored only as a keyed
// MAC (HSM key, bound to the flow): a copy of the database does not let anyone try
// the million candidates offline. Sending is throttled per flow and per member.
func (s *Service) SendCode(ctx context.Context, tok Token, channel Factor, src Source) error {
	const op = "identity.SendCode"
	if err := s.throttle(ctx, op, "mfa-ip:"+src.IP, s.cfg.MFA.SourceAttempts, 10*time.Minute, msgThrottled); err != nil {
		return err
	}
	f, m, err := s.stepUpFlow(ctx, op, tok, src)
	if err != nil {
		return err
	}
	return s.sendFlowCode(ctx, op, f, m, channel, src)
}

// sendFlowCode sends a one-time code for flow f of member m (see SendCode).
func (s *Service) sendFlowCode(ctx context.Context, op string, f StepUp, m Member, channel Factor, src Source) error {
	to := m.Email
	nch := notify.Email
	if channel == FactorSMS {
		to, nch = m.Phone, notify.SMS
	}
	if (channel != FactorEmail && channel != FactorSMS) || to == "" {
		return cp.InvalidFields(op, fieldErr("channel", "mfa.factor.unavailable"))
	}
	if err := s.throttle(ctx, op, "mfa-send:"+hashHex(f.TokenHash), 1, s.cfg.MFA.ResendEvery, "mfa.send.throttled"); err != nil {
		return err
	}
	if err := s.throttle(ctx, op, fmt.Sprintf("mfa-send-member:%d", m.ID), s.cfg.MFA.SendsPerHour, time.Hour, "mfa.send.throttled"); err != nil {
		return err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	now := s.now()
	if err := s.store.SetStepUpCode(ctx, f.TokenHash, s.codeMAC(f.TokenHash, code), channel, now.Add(s.cfg.MFA.CodeLife)); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.Expired, msgExpired, err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	loc := locale.Negotiate(m.Locale, src.Locale)
	minutes := fmt.Sprint(int(s.cfg.MFA.CodeLife / time.Minute))
	msg := notify.Message{
		MemberID: int64(m.ID), Channel: nch, To: to, Kind: "mfa.code",
		Subject: loc.T("notice.mfacode.subject"), Body: loc.T("notice.mfacode.body", "code", code, "minutes", minutes),
		CreatedAt: now,
	}
	if s.notifier == nil {
		return cp.E(op, cp.Internal, "", fmt.Errorf("no notifier"))
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

func (s *Service) codeMAC(flowHash []byte, code string) []byte {
	return s.hsm.MAC("stepup-code", append(append([]byte{}, flowHash...), code...))
}

// recoveryMAC binds a recovery code to its member, so equal codes of two members do
// not collide and a code only ever works on its own account.
func (s *Service) recoveryMAC(id MemberID, code string) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	return s.hsm.MAC("recovery-code", append(b[:], code...))
}

// CompleteSignIn finishes a step-up flow with a second factor and starts the session.
// trust marks the device trusted for MFAConfig.TrustFor. Every wrong answer returns
// Unauthenticated "mfa.invalid" and changes nothing but the attempt counters: per code
// (MFAConfig.CodeTries, then the code is dead and a new one must be sent), per member
// across flows (MemberAttempts an hour) and per source address (SourceAttempts per 10
// minutes).
func (s *Service) CompleteSignIn(ctx context.Context, tok Token, factor Factor, answer string, trust bool, src Source) (LoginResult, error) {
	const op = "identity.CompleteSignIn"
	if err := s.throttle(ctx, op, "mfa-ip:"+src.IP, s.cfg.MFA.SourceAttempts, 10*time.Minute, msgThrottled); err != nil {
		return LoginResult{}, err
	}
	f, m, err := s.stepUpFlow(ctx, op, tok, src)
	if err != nil {
		return LoginResult{}, err
	}
	factors, _, err := s.factorsFor(ctx, m)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	if err := s.answerFlow(ctx, op, f, m, factors, factor, answer, src, EventStepUpFail); err != nil {
		return LoginResult{}, err
	}
	var dev *Device
	if h := deviceHash(src.DeviceID); h != nil {
		if d, err := s.store.DeviceByHash(ctx, m.ID, h); err == nil {
			dev = &d
		}
	}
	tok2, sess, err := s.startSession(ctx, m.ID, src, SessionStart{
		Events: []*Event{s.event(m.ID, EventSignInOK, "factor:"+string(factor), src)},
		Device: s.device(m.ID, dev, src, trust),
	})
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	for _, r := range f.Reasons {
		if r == ReasonNewDevice {
			loc := locale.Negotiate(m.Locale, "")
			s.send(ctx, m, "newdevice", "device", truncate(src.UserAgent, 120), "ip", src.IP,
				"time", loc.DateTime(s.now(), time.UTC))
		}
	}
	return LoginResult{Member: m, Token: tok2, Session: sess}, nil
}

// answerFlow checks the answer to flow f with one of factors and, if it is right,
// consumes the flow, so it serves once. A wrong answer records failKind. The member's
// attempts are counted across flows of every purpose: re-identifying does not open a
// second budget of guesses beside signing in.
func (s *Service) answerFlow(ctx context.Context, op string, f StepUp, m Member, factors []Factor, factor Factor, answer string, src Source, failKind EventKind) error {
	// Attempts, not failures, are counted, and before the check: like the password
	// lockout, a reservation cannot be raced past by concurrent guesses.
	if err := s.throttle(ctx, op, fmt.Sprintf("mfa-member:%d", m.ID), s.cfg.MFA.MemberAttempts, time.Hour, msgThrottled); err != nil {
		return err
	}
	if !containsFactor(factors, factor) {
		return cp.InvalidFields(op, fieldErr("factor", "mfa.factor.unavailable"))
	}
	fail := func() error {
		s.record(ctx, &Event{MemberID: m.ID, Kind: failKind, Detail: "factor:" + string(factor)}, src)
		return cp.E(op, cp.Unauthenticated, msgInvalid, nil)
	}
	answer = strings.TrimSpace(answer)
	if (len(answer) > maxField && factor != FactorPasskey) || len(answer) > MaxWebAuthnPayload {
		return fail()
	}
	ok, err := s.checkFactor(ctx, op, f, m, factor, answer, src)
	if err != nil {
		return err
	}
	if !ok {
		return fail()
	}
	if err := s.store.ConsumeStepUp(ctx, f.TokenHash); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.Expired, msgExpired, err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

func containsFactor(fs []Factor, f Factor) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// checkFactor verifies answer for factor. It returns an error only for what is not a
// plain wrong answer: a dead code, or the store failing.
func (s *Service) checkFactor(ctx context.Context, op string, f StepUp, m Member, factor Factor, answer string, src Source) (bool, error) {
	now := s.now()
	switch factor {
	case FactorPasskey:
		return s.checkPasskey(ctx, op, f, m, answer, src) // passkey.go
	case FactorEmail, FactorSMS:
		if len(f.CodeMAC) == 0 || f.CodeChannel != factor || !now.Before(f.CodeExpiresAt) {
			return false, nil
		}
		allowed, err := s.store.ReserveCodeTry(ctx, f.TokenHash, s.cfg.MFA.CodeTries)
		if err != nil {
			return false, cp.E(op, cp.Internal, "", err)
		}
		if !allowed {
			return false, cp.E(op, cp.Expired, msgCodeDead, nil)
		}
		return subtle.ConstantTimeCompare(s.codeMAC(f.TokenHash, answer), f.CodeMAC) == 1, nil
	case FactorTOTP:
		t, err := s.store.TOTP(ctx, m.ID)
		if err != nil {
			return false, cp.E(op, cp.Internal, "", err)
		}
		step, ok, err := s.matchTOTP(t, answer)
		if err != nil {
			return false, cp.E(op, cp.Internal, "", err)
		}
		if !ok {
			return false, nil
		}
		err = s.store.AdvanceTOTP(ctx, m.ID, step, now)
		if cp.IsKind(err, cp.Conflict) {
			return false, nil // a replayed code
		}
		if err != nil {
			return false, cp.E(op, cp.Internal, "", err)
		}
		return true, nil
	case FactorRecovery:
		err := s.store.UseRecoveryCode(ctx, m.ID, s.recoveryMAC(m.ID, NormalizeRecoveryCode(answer)), now)
		if cp.IsKind(err, cp.NotFound) {
			return false, nil
		}
		if err != nil {
			return false, cp.E(op, cp.Internal, "", err)
		}
		return true, nil
	case FactorQuestion:
		answers, err := s.store.SecurityAnswers(ctx, m.ID)
		if err != nil {
			return false, cp.E(op, cp.Internal, "", err)
		}
		for _, a := range answers {
			if a.QuestionID == f.QuestionID {
				ok, _, err := s.hasher.Verify(ctx, a.AnswerHash, []byte(NormalizeAnswer(answer)))
				if err != nil {
					return false, cp.E(op, cp.Internal, "", err)
				}
				return ok, nil
			}
		}
		return false, nil
	}
	return false, nil
}

// totpOpts are RFC 6238's defaults, which every authenticator app supports.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// matchTOTP finds the time step, within one step either side of now (the skew
// totp.ValidateCustom allows), whose code is answer. It does what ValidateCustom does
// but also says which step matched, which replay protection needs.
func (s *Service) matchTOTP(t TOTPFactor, answer string) (int64, bool, error) {
	if len(answer) != 6 || strings.Trim(answer, "0123456789") != "" {
		return 0, false, nil
	}
	secret, err := s.hsm.OpenSecret("totp", cardcrypto.Sealed{KeyID: t.SecretKeyID, Blob: t.Secret})
	if err != nil {
		return 0, false, err
	}
	cur := s.now().Unix() / 30
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix(step*30, 0), totpOpts)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(answer)) == 1 {
			return step, true, nil
		}
	}
	return 0, false, nil
}

// PendingStepUp describes a live step-up flow again, for a page that shows it after a
// redirect. CodeSent is the channel of a code that is still valid, if any.
func (s *Service) PendingStepUp(ctx context.Context, tok Token, src Source) (*Challenge, Factor, error) {
	const op = "identity.PendingStepUp"
	f, m, err := s.stepUpFlow(ctx, op, tok, src)
	if err != nil {
		return nil, "", err
	}
	factors, _, err := s.factorsFor(ctx, m)
	if err != nil {
		return nil, "", cp.E(op, cp.Internal, "", err)
	}
	ch, sent := s.pending(tok, f, m, factors)
	return ch, sent, nil
}

// pending describes live flow f again with the factors still offered, and the channel
// of a code that is still valid, if any.
func (s *Service) pending(tok Token, f StepUp, m Member, factors []Factor) (*Challenge, Factor) {
	if f.QuestionID == "" {
		factors = slices.DeleteFunc(factors, func(x Factor) bool { return x == FactorQuestion })
	}
	var sent Factor
	if len(f.CodeMAC) > 0 && s.now().Before(f.CodeExpiresAt) && f.CodeTries < s.cfg.MFA.CodeTries {
		sent = f.CodeChannel
	}
	return &Challenge{
		FlowToken: tok, Factors: factors, Reasons: f.Reasons, QuestionID: f.QuestionID,
		Email: maskContact(m.Email), Phone: maskContact(m.Phone), ExpiresAt: f.ExpiresAt,
	}, sent
}
