package identity_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp/totp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
)

// signIn signs in expecting a session straight away (no step-up).
func signIn(svc *identity.Service, ctx context.Context, userID, pw string, s identity.Source) (identity.Token, identity.Session, error) {
	res, err := svc.Login(ctx, userID, pw, s)
	if err != nil {
		return "", identity.Session{}, err
	}
	if res.StepUp != nil {
		return "", identity.Session{}, errors.New("unexpected step-up")
	}
	return res.Token, res.Session, nil
}

func TestAssess(t *testing.T) {
	tests := []struct {
		name string
		risk identity.Risk
		want []identity.Reason
	}{
		{"known device, usual network", identity.Risk{KnownDevice: true, Network: "192.0.2.0/24", Recent: []string{"192.0.2.0/24"}}, nil},
		{"new device", identity.Risk{Network: "192.0.2.0/24", Recent: []string{"192.0.2.0/24"}}, []identity.Reason{identity.ReasonNewDevice}},
		{"after lockout", identity.Risk{KnownDevice: true, LockedSince: true, Network: "192.0.2.0/24", Recent: []string{"192.0.2.0/24"}}, []identity.Reason{identity.ReasonAfterLockout}},
		{"unusual network", identity.Risk{KnownDevice: true, Network: "198.51.100.0/24", Recent: []string{"192.0.2.0/24"}}, []identity.Reason{identity.ReasonUnusualNetwork}},
		{"unknown address is unusual", identity.Risk{KnownDevice: true, Recent: []string{"192.0.2.0/24"}}, []identity.Reason{identity.ReasonUnusualNetwork}},
		{"no history is not unusual", identity.Risk{KnownDevice: true, Network: "198.51.100.0/24"}, nil},
		{"member requires", identity.Risk{KnownDevice: true, Required: true}, []identity.Reason{identity.ReasonMemberRequires}},
		{"trusted device skips the rest", identity.Risk{KnownDevice: true, TrustedDevice: true, LockedSince: true, Network: "198.51.100.0/24", Recent: []string{"192.0.2.0/24"}}, nil},
		{"trusted device still meets the member's requirement", identity.Risk{KnownDevice: true, TrustedDevice: true, Required: true}, []identity.Reason{identity.ReasonMemberRequires}},
		{"everything", identity.Risk{LockedSince: true, Required: true, Network: "198.51.100.0/24", Recent: []string{"192.0.2.0/24"}},
			[]identity.Reason{identity.ReasonMemberRequires, identity.ReasonNewDevice, identity.ReasonAfterLockout, identity.ReasonUnusualNetwork}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, identity.Assess(tt.risk)); diff != "" {
				t.Errorf("Assess (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNetworkOf(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"192.0.2.10", "192.0.2.0/24"},
		{"192.0.2.250", "192.0.2.0/24"},
		{"::ffff:192.0.2.10", "192.0.2.0/24"},
		{"2001:db8:1:2::5", "2001:db8:1::/48"},
		{"not an ip", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := identity.NetworkOf(tt.ip); got != tt.want {
			t.Errorf("NetworkOf(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode reads the newest one-time code from the outbox, as the member would.
func (e *env) lastCode(t *testing.T) string {
	t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == "mfa.code" {
			return sixDigits.FindString(m.Body)
		}
	}
	t.Fatal("no code in the outbox")
	return ""
}

func device(id string) identity.Source {
	s := src
	s.DeviceID = id
	return s
}

func (e *env) stepUp(t *testing.T, userID string, s identity.Source) *identity.Challenge {
	t.Helper()
	res, err := e.svc.Login(context.Background(), userID, goodPassword, s)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if res.StepUp == nil {
		t.Fatal("Login did not step up")
	}
	return res.StepUp
}

func wantMsg(t *testing.T, what string, err error, kind cp.Kind, msg string) {
	t.Helper()
	if cp.ErrorKind(err) != kind || cp.ErrorMsg(err) != msg {
		t.Fatalf("%s: got %v, want %v %q", what, err, kind, msg)
	}
}

func TestStepUpByEmailCode(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.register(t, e.cards[0], "email.code")
	laptop := device("laptop-device-00000001")

	ch := e.stepUp(t, "email.code", laptop)
	if diff := cmp.Diff([]identity.Reason{identity.ReasonNewDevice}, ch.Reasons); diff != "" {
		t.Fatalf("reasons (-want +got):\n%s", diff)
	}
	if !slices.Contains(ch.Factors, identity.FactorEmail) || !slices.Contains(ch.Factors, identity.FactorQuestion) {
		t.Fatalf("factors %v lack email or question", ch.Factors)
	}
	if err := e.svc.SendCode(ctx, ch.FlowToken, identity.FactorEmail, laptop); err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	code := e.lastCode(t)
	// A resend within 30 seconds is refused, and nothing is sent.
	wantMsg(t, "quick resend", e.svc.SendCode(ctx, ch.FlowToken, identity.FactorEmail, laptop), cp.TooManyRequests, "mfa.send.throttled")

	// The flow token from another device is refused like a wrong code.
	_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, code, false, device("thief-device-000000001"))
	wantMsg(t, "other device", err, cp.Unauthenticated, "mfa.invalid")

	// Four wrong tries, then the right code still works...
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	for range 4 {
		_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, wrong, false, laptop)
		wantMsg(t, "wrong code", err, cp.Unauthenticated, "mfa.invalid")
	}
	res, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, code, true, laptop)
	if err != nil || res.Token == "" {
		t.Fatalf("right code: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, res.Token); err != nil {
		t.Fatalf("session from step-up: %v", err)
	}
	// ...once: the flow is consumed.
	_, err = e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, code, false, laptop)
	wantMsg(t, "reused flow", err, cp.Expired, "mfa.expired")

	// A new-device notice went out; the laptop is now trusted.
	msgs, _ := e.store.ListOutbox(ctx, 5)
	if !slices.ContainsFunc(msgs, func(m notify.Message) bool { return m.Kind == "newdevice" }) {
		t.Errorf("no new-device notice in %+v", msgs)
	}
	if _, _, err := signIn(e.svc, ctx, "email.code", goodPassword, laptop); err != nil {
		t.Fatalf("trusted device: %v", err)
	}
}

func TestOneTimeCodeDiesAfterFiveTries(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "five.tries")
	phone := device("phone-device-000000001")
	before, _ := e.svc.Sessions(ctx, m.ID)
	ch := e.stepUp(t, "five.tries", phone)
	if err := e.svc.SendCode(ctx, ch.FlowToken, identity.FactorEmail, phone); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(t)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	for range 5 {
		_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, wrong, false, phone)
		wantMsg(t, "wrong code", err, cp.Unauthenticated, "mfa.invalid")
	}
	_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, code, false, phone)
	wantMsg(t, "right code after 5 wrong", err, cp.Expired, "mfa.code.dead")
	// Nothing changed: no session, no device.
	if after, _ := e.svc.Sessions(ctx, m.ID); len(after) != len(before) {
		t.Fatalf("sessions %d -> %d after failed second factors", len(before), len(after))
	}
	if devs, _ := e.svc.Devices(ctx, m.ID); len(devs) != 1 {
		t.Fatalf("%d devices after failed second factors, want only the registration one", len(devs))
	}
	// A new code (after the resend wait) works.
	e.clock.Add(31 * time.Second)
	if err := e.svc.SendCode(ctx, ch.FlowToken, identity.FactorEmail, phone); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, e.lastCode(t), false, phone); err != nil {
		t.Fatalf("new code: %v", err)
	}
}

func TestStepUpMemberLimit(t *testing.T) {
	e := newEnv(t, identity.Config{MFA: identity.MFAConfig{MemberAttempts: 3}})
	ctx := context.Background()
	e.register(t, e.cards[0], "many.tries")
	d := device("limit-device-00000001")
	for range 3 {
		ch := e.stepUp(t, "many.tries", d)
		_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, "123456", false, d)
		wantMsg(t, "attempt", err, cp.Unauthenticated, "mfa.invalid") // no code was sent
	}
	ch := e.stepUp(t, "many.tries", d)
	_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, "123456", false, d)
	wantMsg(t, "fourth attempt in the hour", err, cp.TooManyRequests, "mfa.throttled")
}

func TestTOTPEnrolAndReplay(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "totp.user")

	_, err := e.svc.StartTOTP(ctx, m.ID, "Wrong-Password-1", src)
	if fs := cp.ErrorFields(err); len(fs) != 1 || fs[0].Msg != "mfa.password.wrong" {
		t.Fatalf("StartTOTP with a wrong password: %v", err)
	}
	en, err := e.svc.StartTOTP(ctx, m.ID, goodPassword, src)
	if err != nil {
		t.Fatalf("StartTOTP: %v", err)
	}
	if len(en.QRPNG) == 0 || en.Secret == "" {
		t.Fatal("no QR code or secret")
	}
	code := func() string {
		c, err := totp.GenerateCode(en.Secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := e.svc.ConfirmTOTP(ctx, m.ID, "000000", src); cp.ErrorKind(err) != cp.Invalid && code() != "000000" {
		t.Fatalf("ConfirmTOTP with a wrong code: %v", err)
	}
	if err := e.svc.ConfirmTOTP(ctx, m.ID, code(), src); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	if st, _ := e.svc.Factors(ctx, m.ID); !st.TOTP {
		t.Fatal("TOTP not shown as enrolled")
	}
	// The enrolment code cannot sign in: its step is used.
	d := device("totp-device-000000001")
	ch := e.stepUp(t, "totp.user", d)
	if !slices.Contains(ch.Factors, identity.FactorTOTP) {
		t.Fatalf("factors %v lack totp", ch.Factors)
	}
	_, err = e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorTOTP, code(), false, d)
	wantMsg(t, "enrolment code reused", err, cp.Unauthenticated, "mfa.invalid")

	e.clock.Add(30 * time.Second)
	c := code()
	if _, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorTOTP, c, false, d); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
	// The same code on a new flow (a replay, even within its 30 seconds) is refused.
	d2 := device("totp-device-000000002") // d is known now; another new device steps up
	ch = e.stepUp(t, "totp.user", d2)
	_, err = e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorTOTP, c, false, d2)
	wantMsg(t, "replayed code", err, cp.Unauthenticated, "mfa.invalid")

	if err := e.svc.RemoveTOTP(ctx, m.ID, goodPassword, src); err != nil {
		t.Fatalf("RemoveTOTP: %v", err)
	}
	if st, _ := e.svc.Factors(ctx, m.ID); st.TOTP {
		t.Fatal("TOTP still enrolled after removal")
	}
}

func TestRecoveryCodesSingleUse(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "recovery.user")
	other := e.register(t, e.cards[1], "recovery.other")
	codes, err := e.svc.NewRecoveryCodes(ctx, m.ID, goodPassword, src)
	if err != nil || len(codes) != identity.RecoveryCodeCount {
		t.Fatalf("NewRecoveryCodes: %d codes, %v", len(codes), err)
	}
	d := device("recovery-device-000001")
	ch := e.stepUp(t, "recovery.user", d)
	// Lower case and without the hyphen is the same code.
	typed := identity.NormalizeRecoveryCode(codes[0])
	if _, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorRecovery, " "+typed[:3]+" "+typed[3:]+" ", false, d); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	d2 := device("recovery-device-000002") // d is known now; another new device steps up
	ch = e.stepUp(t, "recovery.user", d2)
	_, err = e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorRecovery, codes[0], false, d2)
	wantMsg(t, "used code", err, cp.Unauthenticated, "mfa.invalid")
	if st, _ := e.svc.Factors(ctx, m.ID); st.RecoveryLeft != identity.RecoveryCodeCount-1 {
		t.Fatalf("RecoveryLeft = %d", st.RecoveryLeft)
	}
	// One member's code does not work on another's account.
	if _, err := e.svc.NewRecoveryCodes(ctx, other.ID, goodPassword, src); err != nil {
		t.Fatal(err)
	}
	ch = e.stepUp(t, "recovery.other", d)
	_, err = e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorRecovery, codes[1], false, d)
	wantMsg(t, "another member's code", err, cp.Unauthenticated, "mfa.invalid")
}

func TestStolenDeviceCookie(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	aliceDevice := device("alice-device-000000001")
	alice := aliceDevice
	flow, err := e.svc.VerifyCard(ctx, details(e.cards[0]), alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.svc.Register(ctx, flow, creds("alice.device"), alice); err != nil {
		t.Fatal(err)
	}
	e.register(t, e.cards[1], "bob.device")
	// Alice's device is trusted for Alice...
	if _, _, err := signIn(e.svc, ctx, "alice.device", goodPassword, aliceDevice); err != nil {
		t.Fatalf("Alice on her device: %v", err)
	}
	// ...and means nothing on Bob's account.
	ch := e.stepUp(t, "bob.device", aliceDevice)
	if !slices.Contains(ch.Reasons, identity.ReasonNewDevice) {
		t.Fatalf("reasons %v lack new_device", ch.Reasons)
	}
}

func TestAfterLockoutAndUnusualNetwork(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "risky.user")
	d := device("known-device-000000001")
	// Make d known but not trusted: a step-up completed without "trust".
	ch := e.stepUp(t, "risky.user", d)
	codes, err := e.svc.NewRecoveryCodes(ctx, m.ID, goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorRecovery, codes[0], false, d); err != nil {
		t.Fatal(err)
	}
	if _, _, err := signIn(e.svc, ctx, "risky.user", goodPassword, d); err != nil {
		t.Fatalf("known device: %v", err)
	}
	// A sign-in from far away on the known device.
	far := d
	far.IP = "198.51.100.7"
	ch = e.stepUp(t, "risky.user", far)
	if diff := cmp.Diff([]identity.Reason{identity.ReasonUnusualNetwork}, ch.Reasons); diff != "" {
		t.Errorf("far away (-want +got):\n%s", diff)
	}
	// A lock, then the right password on the known device.
	for i := range 3 {
		e.svc.Login(ctx, "risky.user", "Wrong-Password-"+string(rune('a'+i)), d)
	}
	e.clock.Add(31 * time.Minute)
	ch = e.stepUp(t, "risky.user", d)
	if diff := cmp.Diff([]identity.Reason{identity.ReasonAfterLockout}, ch.Reasons); diff != "" {
		t.Errorf("after lockout (-want +got):\n%s", diff)
	}
}

func TestSecurityQuestionFallback(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.register(t, e.cards[0], "question.user")
	d := device("question-device-000001")
	answers := map[string]string{"first_pet": "Rex", "birth_city": "Malmö", "first_job": "Bakery"}
	ch := e.stepUp(t, "question.user", d)
	if answers[ch.QuestionID] == "" {
		t.Fatalf("asked unknown question %q", ch.QuestionID)
	}
	_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorQuestion, "wrong answer", false, d)
	wantMsg(t, "wrong answer", err, cp.Unauthenticated, "mfa.invalid")
	if _, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorQuestion, "  "+answers[ch.QuestionID]+" ", false, d); err != nil {
		t.Fatalf("right answer: %v", err)
	}

	off := newEnv(t, identity.Config{MFA: identity.MFAConfig{NoQuestionFallback: true}})
	off.register(t, off.cards[0], "question.off")
	if ch := off.stepUp(t, "question.off", d); slices.Contains(ch.Factors, identity.FactorQuestion) {
		t.Errorf("question offered although policy forbids it: %v", ch.Factors)
	}
}

func TestMemberRequiresMFAAndForgetDevice(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "strict.user")
	other := e.register(t, e.cards[1], "strict.other")
	if err := e.svc.SetMFARequired(ctx, m.ID, goodPassword, true, src); err != nil {
		t.Fatal(err)
	}
	ch := e.stepUp(t, "strict.user", src) // even on the trusted registration device
	if diff := cmp.Diff([]identity.Reason{identity.ReasonMemberRequires}, ch.Reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if err := e.svc.SetMFARequired(ctx, m.ID, goodPassword, false, src); err != nil {
		t.Fatal(err)
	}
	devs, err := e.svc.Devices(ctx, m.ID)
	if err != nil || len(devs) != 1 || !devs[0].Trusted(e.clock.Now()) {
		t.Fatalf("devices after registration: %+v, %v", devs, err)
	}
	if err := e.svc.ForgetDevice(ctx, other.ID, devs[0].ID, src); cp.ErrorKind(err) != cp.NotFound {
		t.Fatalf("forgetting another member's device: %v", err)
	}
	if err := e.svc.ForgetDevice(ctx, m.ID, devs[0].ID, src); err != nil {
		t.Fatal(err)
	}
	if ch := e.stepUp(t, "strict.user", src); !slices.Contains(ch.Reasons, identity.ReasonNewDevice) {
		t.Errorf("a forgotten device is not new again: %v", ch.Reasons)
	}
}

func TestCodeBySMS(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "sms.user")
	d := device("sms-device-0000000001")
	ch := e.stepUp(t, "sms.user", d)
	if !slices.Contains(ch.Factors, identity.FactorSMS) || ch.Phone == "" || ch.Phone == m.Phone {
		t.Fatalf("factors %v, phone %q: want sms offered with a masked number", ch.Factors, ch.Phone)
	}
	if err := e.svc.SendCode(ctx, ch.FlowToken, identity.FactorSMS, d); err != nil {
		t.Fatal(err)
	}
	msgs, _ := e.store.ListOutbox(ctx, 1)
	if len(msgs) != 1 || msgs[0].Channel != notify.SMS || msgs[0].To != m.Phone {
		t.Fatalf("SMS code went to %+v", msgs)
	}
	code := e.lastCode(t)
	// A code sent by SMS is not accepted as an email code.
	_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, code, false, d)
	wantMsg(t, "wrong channel", err, cp.Unauthenticated, "mfa.invalid")
	if _, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorSMS, code, false, d); err != nil {
		t.Fatalf("SMS code: %v", err)
	}
}

func TestCodeExpires(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.register(t, e.cards[0], "slow.user")
	d := device("slow-device-000000001")
	ch := e.stepUp(t, "slow.user", d)
	if err := e.svc.SendCode(ctx, ch.FlowToken, identity.FactorEmail, d); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(t)
	e.clock.Add(10 * time.Minute)
	_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, code, false, d)
	wantMsg(t, "expired flow", err, cp.Expired, "mfa.expired")
}

func TestStepUpSourceLimit(t *testing.T) {
	e := newEnv(t, identity.Config{MFA: identity.MFAConfig{SourceAttempts: 2}})
	ctx := context.Background()
	e.register(t, e.cards[0], "source.one")
	e.register(t, e.cards[1], "source.two")
	d := device("source-device-0000001")
	// Guesses spread over two accounts from one address are still counted together.
	for _, u := range []string{"source.one", "source.two"} {
		ch := e.stepUp(t, u, d)
		_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, "123456", false, d)
		wantMsg(t, "guess", err, cp.Unauthenticated, "mfa.invalid")
	}
	ch := e.stepUp(t, "source.one", d)
	_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, "123456", false, d)
	wantMsg(t, "third guess from the address", err, cp.TooManyRequests, "mfa.throttled")
	other := d
	other.IP = "198.51.100.20"
	_, err = e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorEmail, "123456", false, other)
	wantMsg(t, "another address", err, cp.Unauthenticated, "mfa.invalid")
}
