package identity_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/sqlstore"
)

// outbox returns every message sent so far, newest first.
func (e *env) outbox(t *testing.T) []notify.Message {
	t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func (e *env) lastOf(t *testing.T, kind string) (notify.Message, bool) {
	t.Helper()
	for _, m := range e.outbox(t) {
		if m.Kind == kind {
			return m, true
		}
	}
	return notify.Message{}, false
}

// noPad turns the minimum answer time off where a test does not measure it.
var noPad = identity.Config{Recovery: identity.RecoveryConfig{MinDuration: -1}}

var resetLinkRE = regexp.MustCompile(`https?://\S+/reset\?t=(\S+)`)

// resetToken reads the token out of the newest reset link, as the member's click would.
func (e *env) resetToken(t *testing.T) identity.Token {
	t.Helper()
	m, ok := e.lastOf(t, "recovery.reset")
	if !ok {
		t.Fatal("no reset email")
	}
	sm := resetLinkRE.FindStringSubmatch(m.Body)
	if sm == nil {
		t.Fatalf("no link in %q", m.Body)
	}
	v, err := url.QueryUnescape(sm[1])
	if err != nil {
		t.Fatal(err)
	}
	return identity.Token(v)
}

func TestForgotUserIDSameAnswerWhateverMatched(t *testing.T) {
	e := newEnv(t, noPad)
	ctx := context.Background()
	reg, other := e.cards[0], e.cards[1]
	m := e.register(t, reg, "forgot.me")
	req := func(c string) identity.ForgotUserIDRequest {
		r := identity.ForgotUserIDRequest{CardNumber: reg.PAN.Digits(), Code: reg.Code.Digits(), BirthDate: reg.BirthDate.Format("2006-01-02")}
		switch c {
		case "wrong cid":
			r.Code = wrongCode(r.Code)
		case "wrong birth":
			r.BirthDate = reg.BirthDate.AddDate(0, 0, 1).Format("2006-01-02")
		case "unregistered card":
			r = identity.ForgotUserIDRequest{CardNumber: other.PAN.Digits(), Code: other.Code.Digits(), BirthDate: other.BirthDate.Format("2006-01-02")}
		}
		return r
	}
	tests := []struct {
		name string
		sent bool
	}{
		{"wrong cid", false},
		{"wrong birth", false},
		{"unregistered card", false},
		{"match", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.outbox(t))
			if err := e.svc.ForgotUserID(ctx, req(tt.name), src); err != nil {
				t.Fatalf("ForgotUserID: %v, want nil whatever matched", err)
			}
			msgs := e.outbox(t)
			if got := len(msgs) - before; (got == 1) != tt.sent || got > 1 {
				t.Fatalf("%d messages sent, want sent=%v", got, tt.sent)
			}
			if tt.sent {
				if msgs[0].Kind != "userid" || msgs[0].To != m.Email || !strings.Contains(msgs[0].Body, "forgot.me") {
					t.Errorf("reminder: %+v", msgs[0])
				}
			}
		})
	}
	// Malformed input is the only error, per field.
	err := e.svc.ForgotUserID(ctx, identity.ForgotUserIDRequest{CardNumber: "123", Code: "x", BirthDate: "yesterday"}, src)
	var fields []string
	for _, f := range cp.ErrorFields(err) {
		fields = append(fields, f.Field)
	}
	if !cp.IsKind(err, cp.Invalid) || !slices.Equal(fields, []string{"card_number", "cid", "birth_date"}) {
		t.Errorf("malformed: %v fields %v", err, fields)
	}
}

func TestResetByLinkUnlocksEndsSessionsAndStepsUp(t *testing.T) {
	e := newEnv(t, noPad)
	ctx := context.Background()
	c := e.cards[0]
	e.register(t, c, "reset.link")
	tok, _, err := signIn(e.svc, ctx, "reset.link", goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.svc.Login(ctx, "reset.link", "Wrong-password-99", src)
	}
	if _, err := e.svc.Login(ctx, "reset.link", goodPassword, src); !cp.IsKind(err, cp.Locked) {
		t.Fatalf("not locked: %v", err)
	}

	got, err := e.svc.StartPasswordReset(ctx, identity.ResetRequest{UserID: "RESET.LINK", CardNumber: c.PAN.Digits(), Code: c.Code.Digits(), Method: identity.ResetLink}, src)
	if err != nil || got != "" {
		t.Fatalf("StartPasswordReset(link): %q, %v; want no token on screen", got, err)
	}
	link := e.resetToken(t)
	if mt, err := e.svc.CheckResetToken(ctx, link); err != nil || mt != identity.ResetLink {
		t.Fatalf("CheckResetToken: %v %v", mt, err)
	}

	// The current password is in the history; a policy breach is per field; nothing
	// is used up by either.
	for _, pw := range []string{goodPassword, "short"} {
		err := e.svc.ResetPassword(ctx, link, identity.NewPassword{Password: pw, Confirm: pw}, src)
		if !cp.IsKind(err, cp.Invalid) || cp.ErrorFields(err)[0].Field != "password" {
			t.Fatalf("ResetPassword(%q): %v, want a password field error", pw, err)
		}
	}
	if err := e.svc.ResetPassword(ctx, link, identity.NewPassword{Password: goodPassword + "x", Confirm: "other"}, src); cp.ErrorFields(err)[0].Msg != "pw.mismatch" {
		t.Fatalf("mismatch: %v", err)
	}
	const newPW = "Brand-New-Secret-77"
	if err := e.svc.ResetPassword(ctx, link, identity.NewPassword{Password: newPW, Confirm: newPW}, src); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, tok); err == nil {
		t.Error("a session survived the reset")
	}
	if n, ok := e.lastOf(t, "reset.done"); !ok || !strings.Contains(n.Subject, "changed") {
		t.Errorf("no 'password changed' notice: %+v", n)
	}
	// Reused and tampered links: the same clear error, nothing changed.
	tampered := []byte(link)
	tampered[5] ^= 1
	for name, tk := range map[string]identity.Token{"reused": link, "tampered": identity.Token(tampered), "garbage": "abc"} {
		err := e.svc.ResetPassword(ctx, tk, identity.NewPassword{Password: "Another-Secret-88", Confirm: "Another-Secret-88"}, src)
		wantMsg(t, name, err, cp.Expired, "recovery.invalid")
	}
	// Unlocked, with the new password only; and the first sign-in asks for a second
	// factor even on the trusted device.
	if _, err := e.svc.Login(ctx, "reset.link", goodPassword, src); !cp.IsKind(err, cp.Unauthenticated) {
		t.Fatalf("old password after reset: %v", err)
	}
	res, err := e.svc.Login(ctx, "reset.link", newPW, src)
	if err != nil {
		t.Fatalf("Login with the new password: %v", err)
	}
	if res.StepUp == nil || !slices.Contains(res.StepUp.Reasons, identity.ReasonAfterReset) {
		t.Fatalf("first sign-in after reset: %+v, want step-up after_password_reset", res.StepUp)
	}
}

func TestResetLinkExpiresAfterAnHour(t *testing.T) {
	e := newEnv(t, noPad)
	ctx := context.Background()
	c := e.cards[0]
	e.register(t, c, "reset.late")
	if _, err := e.svc.StartPasswordReset(ctx, identity.ResetRequest{UserID: "reset.late", CardNumber: c.PAN.Digits(), Code: c.Code.Digits(), Method: identity.ResetLink}, src); err != nil {
		t.Fatal(err)
	}
	link := e.resetToken(t)
	e.clock.Add(time.Hour)
	const pw = "Brand-New-Secret-77"
	wantMsg(t, "expired link", e.svc.ResetPassword(ctx, link, identity.NewPassword{Password: pw, Confirm: pw}, src), cp.Expired, "recovery.invalid")
	if _, _, err := signIn(e.svc, ctx, "reset.late", goodPassword, src); err != nil {
		t.Errorf("old password no longer works after a failed reset: %v", err)
	}
}

// TestResetEnumeration: unknown User IDs, wrong codes and other members' cards get the
// same answer as a match, and the token they get back fails like a wrong code.
func TestResetEnumeration(t *testing.T) {
	e := newEnv(t, noPad)
	ctx := context.Background()
	a, b := e.cards[0], e.cards[1]
	e.register(t, a, "enum.alice")
	e.register(t, b, "enum.bob")
	good := identity.ResetRequest{UserID: "enum.alice", CardNumber: a.PAN.Digits(), Code: a.Code.Digits(), Method: identity.ResetEmailCode}
	tests := []struct {
		name  string
		edit  func(r *identity.ResetRequest)
		match bool
	}{
		{"unknown user id", func(r *identity.ResetRequest) { r.UserID = "nobody.here" }, false},
		{"wrong cid", func(r *identity.ResetRequest) { r.Code = wrongCode(r.Code) }, false},
		{"another member's user id", func(r *identity.ResetRequest) { r.UserID = "enum.bob" }, false},
		{"unregistered card", func(r *identity.ResetRequest) {
			r.CardNumber, r.Code = e.cards[2].PAN.Digits(), e.cards[2].Code.Digits()
		}, false},
		{"match", func(*identity.ResetRequest) {}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			before := len(e.outbox(t))
			tok, err := e.svc.StartPasswordReset(ctx, r, src)
			if err != nil || len(tok) != 43 {
				t.Fatalf("StartPasswordReset: %d-char token, %v; want a token and no error", len(tok), err)
			}
			if sent := len(e.outbox(t)) > before; sent != tt.match {
				t.Fatalf("code sent: %v, want %v", sent, tt.match)
			}
			const pw = "Brand-New-Secret-77"
			err = e.svc.ResetPassword(ctx, tok, identity.NewPassword{Code: "000000", Password: pw, Confirm: pw}, src)
			if !cp.IsKind(err, cp.Invalid) || cp.ErrorFields(err)[0].Msg != "recovery.code.invalid" {
				t.Fatalf("wrong code: %v, want recovery.code.invalid", err)
			}
		})
	}
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

func TestResetByCode(t *testing.T) {
	e := newEnv(t, noPad)
	ctx := context.Background()
	c := e.cards[0]
	m := e.register(t, c, "reset.code")
	const pw = "Brand-New-Secret-77"
	for _, tt := range []struct {
		method  identity.ResetMethod
		channel notify.Channel
		to      string
	}{
		{identity.ResetSMSCode, notify.SMS, m.Phone},
		{identity.ResetEmailCode, notify.Email, m.Email},
	} {
		t.Run(string(tt.method), func(t *testing.T) {
			tok, err := e.svc.StartPasswordReset(ctx, identity.ResetRequest{UserID: "reset.code", CardNumber: c.PAN.Digits(), Code: c.Code.Digits(), Method: tt.method}, src)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := e.lastOf(t, "recovery.reset")
			code := codeRE.FindString(msg.Body)
			if msg.Channel != tt.channel || msg.To != tt.to || code == "" {
				t.Fatalf("code message: %+v", msg)
			}
			next := string(pw + tt.method)
			if err := e.svc.ResetPassword(ctx, tok, identity.NewPassword{Code: code, Password: next, Confirm: next}, src); err != nil {
				t.Fatalf("ResetPassword: %v", err)
			}
			// The code is single use.
			err = e.svc.ResetPassword(ctx, tok, identity.NewPassword{Code: code, Password: next + "2", Confirm: next + "2"}, src)
			if cp.ErrorFields(err)[0].Msg != "recovery.code.invalid" {
				t.Fatalf("reused code: %v", err)
			}
		})
	}
	// Five wrong tries kill the code: the right one then fails too.
	tok, err := e.svc.StartPasswordReset(ctx, identity.ResetRequest{UserID: "reset.code", CardNumber: c.PAN.Digits(), Code: c.Code.Digits(), Method: identity.ResetEmailCode}, src)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := e.lastOf(t, "recovery.reset")
	code := codeRE.FindString(msg.Body)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		e.svc.ResetPassword(ctx, tok, identity.NewPassword{Code: wrong, Password: pw + "9", Confirm: pw + "9"}, src)
	}
	if err := e.svc.ResetPassword(ctx, tok, identity.NewPassword{Code: code, Password: pw + "9", Confirm: pw + "9"}, src); cp.ErrorFields(err)[0].Msg != "recovery.code.invalid" {
		t.Fatalf("right code after 5 wrong tries: %v", err)
	}
}

func TestResetRefusesTheLastFourPasswords(t *testing.T) {
	e := newEnv(t, identity.Config{Recovery: identity.RecoveryConfig{PerCard: 20, MinDuration: -1}})
	ctx := context.Background()
	c := e.cards[0]
	e.register(t, c, "reset.history")
	reset := func(pw string) error {
		if _, err := e.svc.StartPasswordReset(ctx, identity.ResetRequest{UserID: "reset.history", CardNumber: c.PAN.Digits(), Code: c.Code.Digits(), Method: identity.ResetLink}, src); err != nil {
			t.Fatal(err)
		}
		return e.svc.ResetPassword(ctx, e.resetToken(t), identity.NewPassword{Password: pw, Confirm: pw}, src)
	}
	pws := []string{"History-Secret-01", "History-Secret-02", "History-Secret-03", "History-Secret-04"}
	for _, pw := range pws {
		if err := reset(pw); err != nil {
			t.Fatalf("reset to %s: %v", pw, err)
		}
	}
	for _, pw := range pws {
		if err := reset(pw); !cp.IsKind(err, cp.Invalid) || cp.ErrorFields(err)[0].Msg != "pw.rule.history" {
			t.Errorf("reuse of %s: %v, want pw.rule.history", pw, err)
		}
	}
	// The registration password is now fifth from last, so it is allowed again.
	if err := reset(goodPassword); err != nil {
		t.Errorf("fifth-last password: %v", err)
	}
}

// countingHSM and countingStore count the work a recovery request does, so a test can
// check that a match and every kind of mismatch do the same.
type countingHSM struct {
	cardcrypto.HSM
	codes atomic.Int32
}

func (h *countingHSM) VerifyCardCode(p card.PAN, e card.Expiry, c card.Code) bool {
	h.codes.Add(1)
	return h.HSM.VerifyCardCode(p, e, c)
}

type countingStore struct {
	*sqlstore.Store
	cards, members atomic.Int32
}

func (s *countingStore) CardHolderByFingerprint(ctx context.Context, fp []byte) (identity.CardHolder, error) {
	s.cards.Add(1)
	return s.Store.CardHolderByFingerprint(ctx, fp)
}

func (s *countingStore) MemberByID(ctx context.Context, id identity.MemberID) (identity.Member, error) {
	s.members.Add(1)
	return s.Store.MemberByID(ctx, id)
}

// TestRecoverySameWorkAndTime: whatever matched, a recovery request checks one card
// code, looks up one card and one member, and takes at least MinDuration.
func TestRecoverySameWorkAndTime(t *testing.T) {
	e := newEnv(t, noPad)
	reg, other := e.cards[0], e.cards[1]
	e.register(t, reg, "same.work")
	hsm := &countingHSM{HSM: e.hsm}
	st := &countingStore{Store: e.store}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const floor = 40 * time.Millisecond
	svc := identity.NewService(st, hsm, e.hasher, &notify.Outbox{Store: e.store, Log: log, Now: e.clock.Now},
		identity.Config{Recovery: identity.RecoveryConfig{MinDuration: floor, PerCard: 100}}, e.clock.Now, log)

	partial := []byte(reg.PAN.Digits()[:len(reg.PAN.Digits())-1])
	partial[8] = '0' + (partial[8]-'0'+5)%10
	unknownPAN := string(partial) + string(card.LuhnCheckDigit(string(partial)))
	type card3 struct{ pan, code, birth string }
	cases := []struct {
		name string
		c    card3
	}{
		{"unknown card", card3{unknownPAN, reg.Code.Digits(), reg.BirthDate.Format("2006-01-02")}},
		{"wrong cid", card3{reg.PAN.Digits(), wrongCode(reg.Code.Digits()), reg.BirthDate.Format("2006-01-02")}},
		{"unregistered card", card3{other.PAN.Digits(), other.Code.Digits(), other.BirthDate.Format("2006-01-02")}},
		{"match", card3{reg.PAN.Digits(), reg.Code.Digits(), reg.BirthDate.Format("2006-01-02")}},
	}
	ops := map[string]func(card3) error{
		"ForgotUserID": func(c card3) error {
			return svc.ForgotUserID(context.Background(), identity.ForgotUserIDRequest{CardNumber: c.pan, Code: c.code, BirthDate: c.birth}, src)
		},
		"StartPasswordReset": func(c card3) error {
			_, err := svc.StartPasswordReset(context.Background(), identity.ResetRequest{UserID: "same.work", CardNumber: c.pan, Code: c.code, Method: identity.ResetLink}, src)
			return err
		},
	}
	for opName, op := range ops {
		for _, tt := range cases {
			t.Run(opName+"/"+tt.name, func(t *testing.T) {
				hsm.codes.Store(0)
				st.cards.Store(0)
				st.members.Store(0)
				began := time.Now()
				if err := op(tt.c); err != nil {
					t.Fatalf("%v, want nil whatever matched", err)
				}
				if took := time.Since(began); took < floor {
					t.Errorf("answered in %v, sooner than %v", took, floor)
				}
				if c, k, m := hsm.codes.Load(), st.cards.Load(), st.members.Load(); c != 1 || k != 1 || m != 1 {
					t.Errorf("work: %d code checks, %d card lookups, %d member lookups; want 1 each", c, k, m)
				}
			})
		}
	}
}

func TestAssessAfterReset(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    identity.Risk
	}{
		{"trusted device", identity.Risk{ResetSince: true, KnownDevice: true, TrustedDevice: true}},
		{"known device", identity.Risk{ResetSince: true, KnownDevice: true}},
	} {
		if got := identity.Assess(tt.r); !slices.Contains(got, identity.ReasonAfterReset) {
			t.Errorf("%s: %v, want after_password_reset", tt.name, got)
		}
	}
}
