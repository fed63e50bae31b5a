package identity

import (
	"context"
	"fmt"
	"slices"
	"time"

	cp "github.com/cardportal/cardportal"
)

// Re-identification: a member who is already signed in proves again that it is them
// before something sensitive (choosing a card's PIN, SPEC AC8). It is a step-up flow
// (stepup.go) with its own purpose, such as "card-pin:11": the same stored flow with a
// hashed token bound to the device, the same expiry, code MAC, code tries and member
// and source throttles, but answered with Reidentify instead of CompleteSignIn. The
// purpose keeps the two apart both ways: a re-identification flow, started without a
// password, never finishes a sign-in, and a sign-in flow (or another member's flow, or
// a flow for another purpose) never stands in for a re-identification.

// EventReidentifyFail is a wrong answer (or a foreign flow) in a re-identification.
const EventReidentifyFail EventKind = "reidentify.fail"

// reidentifyStarts bounds the flows a member may start in an hour: each is a stored
// row, and a page that starts one per view must not let a script fill the table.
const reidentifyStarts = 30

// ReidentifyFactors lists the factors a signed-in member can re-identify with now:
// TOTP, a code by SMS or email, and the security question. Passkeys and recovery
// codes are left out on purpose. A passkey assertion is bound to the sign-in step-up
// ceremony (BeginStepUpPasskey), and a second ceremony kind is not worth it while the
// other factors cover every member; a recovery code is the member's last way back in
// when a device is lost, and spending one on a PIN would leave fewer for that.
// Empty means the member has none, and the caller identifies them another way.
func (s *Service) ReidentifyFactors(ctx context.Context, member MemberID) ([]Factor, error) {
	const op = "identity.ReidentifyFactors"
	m, err := s.store.MemberByID(ctx, member)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	factors, _, err := s.reidentifyFactors(ctx, m)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return factors, nil
}

func (s *Service) reidentifyFactors(ctx context.Context, m Member) ([]Factor, string, error) {
	factors, question, err := s.factorsFor(ctx, m)
	if err != nil {
		return nil, "", err
	}
	factors = slices.DeleteFunc(factors, func(f Factor) bool { return f == FactorPasskey || f == FactorRecovery })
	return factors, question, nil
}

func validPurpose(purpose string) bool {
	return purpose != "" && purpose != PurposeSignIn && len(purpose) <= 100
}

// StartReidentify starts re-identifying the signed-in member for purpose (anything but
// PurposeSignIn). The challenge's flow token is bound to member, purpose and the
// device of src, and serves once. If the member has no factor to re-identify with
// (ReidentifyFactors), nothing is stored and the challenge has no token and no
// factors: the caller then falls back to its own identification.
func (s *Service) StartReidentify(ctx context.Context, member MemberID, purpose string, src Source) (*Challenge, error) {
	const op = "identity.StartReidentify"
	if !validPurpose(purpose) {
		return nil, cp.E(op, cp.Internal, "", fmt.Errorf("re-identification purpose %q", purpose))
	}
	m, err := s.store.MemberByID(ctx, member)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	factors, question, err := s.reidentifyFactors(ctx, m)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	if len(factors) == 0 {
		return &Challenge{}, nil
	}
	if err := s.throttle(ctx, op, fmt.Sprintf("reidentify-start:%d", m.ID), reidentifyStarts, time.Hour, msgThrottled); err != nil {
		return nil, err
	}
	if !slices.Contains(factors, FactorQuestion) {
		question = ""
	}
	tok, err := newToken()
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	now := s.now()
	f := StepUp{
		TokenHash: tok.hash(), MemberID: m.ID, Purpose: purpose, DeviceHash: deviceHash(src.DeviceID),
		QuestionID: question, CreatedAt: now, ExpiresAt: now.Add(s.cfg.MFA.FlowLife),
	}
	if err := s.store.CreateStepUp(ctx, f); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return &Challenge{
		FlowToken: tok, Factors: factors, QuestionID: question,
		Email: maskContact(m.Email), Phone: maskContact(m.Phone), ExpiresAt: f.ExpiresAt,
	}, nil
}

// reidentifyFlow loads a live re-identification flow and checks it is member's, for
// purpose, from src's device. Anything else is the same "mfa.invalid" as a wrong
// answer.
func (s *Service) reidentifyFlow(ctx context.Context, op string, member MemberID, purpose string, tok Token, src Source) (StepUp, Member, error) {
	f, m, err := s.loadFlow(ctx, op, tok, src, EventReidentifyFail)
	if err != nil {
		return StepUp{}, Member{}, err
	}
	if !validPurpose(purpose) || f.Purpose != purpose || f.MemberID != member {
		s.record(ctx, &Event{MemberID: f.MemberID, Kind: EventReidentifyFail, Detail: "foreign flow"}, src)
		return StepUp{}, Member{}, cp.E(op, cp.Unauthenticated, msgInvalid, nil)
	}
	return f, m, nil
}

// PendingReidentify describes a live re-identification flow again, for a page shown
// after a wrong answer or a code sent. The Factor is the channel of a code that is
// still valid, if any. Errors as Reidentify's, without counting an attempt.
func (s *Service) PendingReidentify(ctx context.Context, member MemberID, purpose string, tok Token, src Source) (*Challenge, Factor, error) {
	const op = "identity.PendingReidentify"
	f, m, err := s.reidentifyFlow(ctx, op, member, purpose, tok, src)
	if err != nil {
		return nil, "", err
	}
	factors, _, err := s.reidentifyFactors(ctx, m)
	if err != nil {
		return nil, "", cp.E(op, cp.Internal, "", err)
	}
	ch, sent := s.pending(tok, f, m, factors)
	return ch, sent, nil
}

// SendReidentifyCode sends a one-time code for a re-identification flow by email or
// SMS, as SendCode does for a sign-in, with the same throttles.
func (s *Service) SendReidentifyCode(ctx context.Context, member MemberID, purpose string, tok Token, channel Factor, src Source) error {
	const op = "identity.SendReidentifyCode"
	if err := s.throttle(ctx, op, "mfa-ip:"+src.IP, s.cfg.MFA.SourceAttempts, 10*time.Minute, msgThrottled); err != nil {
		return err
	}
	f, m, err := s.reidentifyFlow(ctx, op, member, purpose, tok, src)
	if err != nil {
		return err
	}
	return s.sendFlowCode(ctx, op, f, m, channel, src)
}

// Reidentify checks the signed-in member's answer to a re-identification flow and,
// if it is right, consumes the flow: it serves once. Every wrong answer, and a flow
// that is a sign-in's, another member's, for another purpose or from another device,
// is Unauthenticated "mfa.invalid"; an expired or used flow is Expired "mfa.expired";
// a code past its tries is Expired "mfa.code.dead". Attempts count against the same
// per-member, per-source and per-code limits as CompleteSignIn.
func (s *Service) Reidentify(ctx context.Context, member MemberID, purpose string, tok Token, factor Factor, answer string, src Source) error {
	const op = "identity.Reidentify"
	if err := s.throttle(ctx, op, "mfa-ip:"+src.IP, s.cfg.MFA.SourceAttempts, 10*time.Minute, msgThrottled); err != nil {
		return err
	}
	f, m, err := s.reidentifyFlow(ctx, op, member, purpose, tok, src)
	if err != nil {
		return err
	}
	factors, _, err := s.reidentifyFactors(ctx, m)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return s.answerFlow(ctx, op, f, m, factors, factor, answer, src, EventReidentifyFail)
}
