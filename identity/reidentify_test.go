package identity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp/totp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

var questionAnswers = map[string]string{"first_pet": "Rex", "birth_city": "Malmö", "first_job": "Bakery"}

// TestReidentify: a signed-in member answers a re-identification challenge once, with
// the factors offered for it, and only for the purpose it was started for.
func TestReidentify(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "reid.user")
	if _, err := e.svc.NewRecoveryCodes(ctx, m.ID, goodPassword, src); err != nil {
		t.Fatal(err)
	}
	const purpose = "card-pin:1"

	ch, err := e.svc.StartReidentify(ctx, m.ID, purpose, src)
	if err != nil {
		t.Fatalf("StartReidentify: %v", err)
	}
	// No recovery code (nor passkey) for re-identification.
	if diff := cmp.Diff([]identity.Factor{identity.FactorSMS, identity.FactorEmail, identity.FactorQuestion}, ch.Factors); diff != "" {
		t.Fatalf("factors (-want +got):\n%s", diff)
	}
	answer := questionAnswers[ch.QuestionID]
	if answer == "" || ch.FlowToken == "" {
		t.Fatalf("challenge %+v", ch)
	}
	err = e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorRecovery, "aaaa-bbbb", src)
	if fs := cp.ErrorFields(err); len(fs) != 1 || fs[0].Msg != "mfa.factor.unavailable" {
		t.Fatalf("recovery code: %v", err)
	}
	err = e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorQuestion, "wrong answer", src)
	wantMsg(t, "wrong answer", err, cp.Unauthenticated, "mfa.invalid")
	err = e.svc.Reidentify(ctx, m.ID, "card-pin:2", ch.FlowToken, identity.FactorQuestion, answer, src)
	wantMsg(t, "another purpose", err, cp.Unauthenticated, "mfa.invalid")
	err = e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorQuestion, answer, device("other-device-000000001"))
	wantMsg(t, "another device", err, cp.Unauthenticated, "mfa.invalid")
	if err := e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorQuestion, answer, src); err != nil {
		t.Fatalf("right answer: %v", err)
	}
	err = e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorQuestion, answer, src)
	wantMsg(t, "used flow", err, cp.Expired, "mfa.expired")

	// A code by email.
	ch, err = e.svc.StartReidentify(ctx, m.ID, purpose, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SendReidentifyCode(ctx, m.ID, purpose, ch.FlowToken, identity.FactorEmail, src); err != nil {
		t.Fatalf("SendReidentifyCode: %v", err)
	}
	code := e.lastCode(t)
	if p, sent, err := e.svc.PendingReidentify(ctx, m.ID, purpose, ch.FlowToken, src); err != nil || sent != identity.FactorEmail || p.QuestionID != ch.QuestionID {
		t.Fatalf("PendingReidentify: %+v %q %v", p, sent, err)
	}
	err = e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorEmail, wrongCode(code), src)
	wantMsg(t, "wrong code", err, cp.Unauthenticated, "mfa.invalid")
	if err := e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorEmail, code, src); err != nil {
		t.Fatalf("right code: %v", err)
	}

	// Wrong answers are in the member's history.
	evs, err := e.svc.Events(ctx, m.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Kind == identity.EventReidentifyFail {
			n++
		}
	}
	if n != 4 { // wrong answer, another purpose, another device, wrong code
		t.Errorf("%d re-identification failures recorded, want 4", n)
	}

	// Sign-in is not a re-identification purpose.
	if _, err := e.svc.StartReidentify(ctx, m.ID, identity.PurposeSignIn, src); !cp.IsKind(err, cp.Internal) {
		t.Errorf("StartReidentify for sign-in: %v", err)
	}
}

// TestReidentifyFlowsStayApart: a re-identification flow (started without a password)
// never finishes a sign-in, and a sign-in flow or another member's flow never serves as
// a re-identification.
func TestReidentifyFlowsStayApart(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "apart.one")
	other := e.register(t, e.cards[1], "apart.two")
	const purpose = "card-pin:1"

	// A re-identification flow refused by every sign-in step.
	ch, err := e.svc.StartReidentify(ctx, m.ID, purpose, src)
	if err != nil {
		t.Fatal(err)
	}
	answer := questionAnswers[ch.QuestionID]
	_, err = e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorQuestion, answer, true, src)
	wantMsg(t, "CompleteSignIn with a re-identification flow", err, cp.Unauthenticated, "mfa.invalid")
	err = e.svc.SendCode(ctx, ch.FlowToken, identity.FactorEmail, src)
	wantMsg(t, "SendCode with a re-identification flow", err, cp.Unauthenticated, "mfa.invalid")
	_, _, err = e.svc.PendingStepUp(ctx, ch.FlowToken, src)
	wantMsg(t, "PendingStepUp with a re-identification flow", err, cp.Unauthenticated, "mfa.invalid")
	// Another member cannot use it.
	err = e.svc.Reidentify(ctx, other.ID, purpose, ch.FlowToken, identity.FactorQuestion, answer, src)
	wantMsg(t, "another member's flow", err, cp.Unauthenticated, "mfa.invalid")
	err = e.svc.SendReidentifyCode(ctx, other.ID, purpose, ch.FlowToken, identity.FactorEmail, src)
	wantMsg(t, "a code for another member's flow", err, cp.Unauthenticated, "mfa.invalid")
	_, _, err = e.svc.PendingReidentify(ctx, other.ID, purpose, ch.FlowToken, src)
	wantMsg(t, "another member's pending flow", err, cp.Unauthenticated, "mfa.invalid")
	// None of that spent it.
	if err := e.svc.Reidentify(ctx, m.ID, purpose, ch.FlowToken, identity.FactorQuestion, answer, src); err != nil {
		t.Fatalf("own flow after the refusals: %v", err)
	}
	if ss, _ := e.svc.Sessions(ctx, m.ID); len(ss) != 1 {
		t.Errorf("%d sessions, want only the registration's", len(ss))
	}

	// A sign-in flow refused by every re-identification step.
	laptop := device("laptop-device-00000002")
	st := e.stepUp(t, "apart.one", laptop)
	answer = questionAnswers[st.QuestionID]
	for _, p := range []string{purpose, identity.PurposeSignIn, ""} {
		err = e.svc.Reidentify(ctx, m.ID, p, st.FlowToken, identity.FactorQuestion, answer, laptop)
		wantMsg(t, "Reidentify with a sign-in flow, purpose "+p, err, cp.Unauthenticated, "mfa.invalid")
	}
	err = e.svc.SendReidentifyCode(ctx, m.ID, purpose, st.FlowToken, identity.FactorEmail, laptop)
	wantMsg(t, "SendReidentifyCode with a sign-in flow", err, cp.Unauthenticated, "mfa.invalid")
	_, _, err = e.svc.PendingReidentify(ctx, m.ID, identity.PurposeSignIn, st.FlowToken, laptop)
	wantMsg(t, "PendingReidentify with a sign-in flow", err, cp.Unauthenticated, "mfa.invalid")
	if _, err := e.svc.CompleteSignIn(ctx, st.FlowToken, identity.FactorQuestion, answer, false, laptop); err != nil {
		t.Fatalf("the sign-in flow after the refusals: %v", err)
	}
}

// TestReidentifySharesTheMemberLimit: answering re-identification challenges counts
// against the same hourly budget as second factors at sign-in.
func TestReidentifySharesTheMemberLimit(t *testing.T) {
	e := newEnv(t, identity.Config{MFA: identity.MFAConfig{MemberAttempts: 3}})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "budget.user")
	for range 3 {
		ch, err := e.svc.StartReidentify(ctx, m.ID, "card-pin:1", src)
		if err != nil {
			t.Fatal(err)
		}
		err = e.svc.Reidentify(ctx, m.ID, "card-pin:1", ch.FlowToken, identity.FactorQuestion, "wrong", src)
		wantMsg(t, "wrong answer", err, cp.Unauthenticated, "mfa.invalid")
	}
	d := device("budget-device-0000001")
	st := e.stepUp(t, "budget.user", d)
	_, err := e.svc.CompleteSignIn(ctx, st.FlowToken, identity.FactorQuestion, questionAnswers[st.QuestionID], false, d)
	wantMsg(t, "sign-in after three wrong re-identifications", err, cp.TooManyRequests, "mfa.throttled")
	if !slices.Contains(st.Factors, identity.FactorQuestion) {
		t.Errorf("factors %v", st.Factors)
	}
}

// TestReidentifyByTOTP: an authenticator code re-identifies, once per time step.
func TestReidentifyByTOTP(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "reid.totp")
	en, err := e.svc.StartTOTP(ctx, m.ID, goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		c, err := totp.GenerateCode(en.Secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := e.svc.ConfirmTOTP(ctx, m.ID, code(), src); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(30 * time.Second)
	ch, err := e.svc.StartReidentify(ctx, m.ID, "card-pin:1", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Factors) == 0 || ch.Factors[0] != identity.FactorTOTP {
		t.Fatalf("factors %v: totp should come first", ch.Factors)
	}
	c := code()
	if err := e.svc.Reidentify(ctx, m.ID, "card-pin:1", ch.FlowToken, identity.FactorTOTP, c, src); err != nil {
		t.Fatalf("TOTP code: %v", err)
	}
	// The same code again, on a new challenge, is a replay.
	ch, err = e.svc.StartReidentify(ctx, m.ID, "card-pin:1", src)
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.Reidentify(ctx, m.ID, "card-pin:1", ch.FlowToken, identity.FactorTOTP, c, src)
	wantMsg(t, "replayed TOTP code", err, cp.Unauthenticated, "mfa.invalid")
}
