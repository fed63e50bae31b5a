package identity_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/passhash"
	"github.com/cardportal/cardportal/sqlite"
)

const passkeyOrigin = "http://localhost:8080"

func newPasskeyEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, identity.Config{})
	if err := e.svc.EnablePasskeys(identity.PasskeyConfig{RPID: "localhost", Origins: []string{passkeyOrigin}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// enrolPasskey adds a passkey from a new software authenticator.
func (e *env) enrolPasskey(t *testing.T, m identity.Member) *cardportaltest.Authenticator {
	t.Helper()
	ctx := context.Background()
	a := cardportaltest.NewAuthenticator(passkeyOrigin)
	c, err := e.svc.BeginPasskeyEnrolment(ctx, m.ID, goodPassword, src)
	if err != nil {
		t.Fatalf("BeginPasskeyEnrolment: %v", err)
	}
	resp, err := a.Create(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FinishPasskeyEnrolment(ctx, m.ID, c.Token, "My phone", resp, src); err != nil {
		t.Fatalf("FinishPasskeyEnrolment: %v", err)
	}
	return a
}

func (e *env) passkeySignIn(t *testing.T, a *cardportaltest.Authenticator, s identity.Source) (identity.LoginResult, error) {
	t.Helper()
	ctx := context.Background()
	c, err := e.svc.BeginPasskeySignIn(ctx, s)
	if err != nil {
		t.Fatalf("BeginPasskeySignIn: %v", err)
	}
	resp, err := a.Get(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	return e.svc.PasskeySignIn(ctx, c.Token, resp, s)
}

func TestPasskeyEnrolAndPasswordlessSignIn(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	m := e.register(t, e.cards[0], "passkey.member")

	// Enrolment needs the password again, and a wrong one starts nothing.
	if _, err := e.svc.BeginPasskeyEnrolment(ctx, m.ID, "wrong password", src); cp.ErrorKind(err) != cp.Invalid {
		t.Fatalf("BeginPasskeyEnrolment with a wrong password: %v, want Invalid", err)
	}
	c, err := e.svc.BeginPasskeyEnrolment(ctx, m.ID, goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	// The options ask for a discoverable platform credential with user verification.
	var opts struct {
		PublicKey struct {
			AuthenticatorSelection struct {
				Attachment       string `json:"authenticatorAttachment"`
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			RP struct{ ID string } `json:"rp"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(c.Options, &opts); err != nil {
		t.Fatal(err)
	}
	sel := opts.PublicKey.AuthenticatorSelection
	if sel.Attachment != "platform" || sel.ResidentKey != "required" || sel.UserVerification != "required" || opts.PublicKey.RP.ID != "localhost" {
		t.Fatalf("creation options %s", c.Options)
	}
	a := cardportaltest.NewAuthenticator(passkeyOrigin)
	resp, err := a.Create(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.FinishPasskeyEnrolment(ctx, m.ID, c.Token, "My phone", resp, src)
	if err != nil {
		t.Fatalf("FinishPasskeyEnrolment: %v", err)
	}
	if p.Name != "My phone" || p.ID == 0 {
		t.Fatalf("passkey %+v", p)
	}
	// The same answer again finds its ceremony used up.
	if _, err := e.svc.FinishPasskeyEnrolment(ctx, m.ID, c.Token, "Again", resp, src); cp.ErrorKind(err) != cp.Expired {
		t.Fatalf("replayed enrolment: %v, want Expired", err)
	}
	if pks, _ := e.svc.Passkeys(ctx, m.ID); len(pks) != 1 {
		t.Fatalf("%d passkeys, want 1", len(pks))
	}
	if msg, ok := e.lastOf(t, "passkeyadded"); !ok || !strings.Contains(msg.Body, "My phone") {
		t.Fatalf("no \"new passkey\" notice naming it: %+v", msg)
	}

	// Passwordless sign-in from a device never seen: no step-up, a session at once.
	phone := device("phone-device-000000001")
	res, err := e.passkeySignIn(t, a, phone)
	if err != nil {
		t.Fatalf("PasskeySignIn: %v", err)
	}
	if res.StepUp != nil || res.Member.ID != m.ID {
		t.Fatalf("PasskeySignIn = %+v", res)
	}
	if _, err := e.svc.Authenticate(ctx, res.Token); err != nil {
		t.Fatalf("session: %v", err)
	}
	ev, _ := e.svc.Events(ctx, m.ID, 5)
	if !slices.ContainsFunc(ev, func(x identity.Event) bool { return x.Kind == identity.EventSignInOK && x.Detail == "passkey" }) {
		t.Fatalf("no passkey sign-in event in %+v", ev)
	}
	if _, ok := e.lastOf(t, "newdevice"); !ok {
		t.Fatal("a passkey sign-in from a new device sent no notice")
	}
}

func TestPasskeySignInReplayAndClone(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	m := e.register(t, e.cards[0], "passkey.replay")
	a := e.enrolPasskey(t, m)

	c, err := e.svc.BeginPasskeySignIn(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := a.Get(c.Options)
	if _, err := e.svc.PasskeySignIn(ctx, c.Token, resp, src); err != nil {
		t.Fatal(err)
	}
	// A captured assertion cannot be replayed: its challenge is gone.
	if _, err := e.svc.PasskeySignIn(ctx, c.Token, resp, src); cp.ErrorKind(err) != cp.Expired {
		t.Fatalf("replayed assertion: %v, want Expired", err)
	}
	// An assertion made for another challenge does not verify.
	c1, _ := e.svc.BeginPasskeySignIn(ctx, src)
	c2, _ := e.svc.BeginPasskeySignIn(ctx, src)
	resp1, _ := a.Get(c1.Options)
	wantMsg(t, "assertion for another challenge", func() error { _, err := e.svc.PasskeySignIn(ctx, c2.Token, resp1, src); return err }(),
		cp.Unauthenticated, "passkey.invalid")

	// Without user verification a passkey is only something the member has: refused.
	a.NoUV = true
	_, err = e.passkeySignIn(t, a, src)
	wantMsg(t, "no user verification", err, cp.Unauthenticated, "passkey.invalid")
	a.NoUV = false

	// A counter that goes back means a cloned key: refused, recorded.
	a.Counter = 0
	_, err = e.passkeySignIn(t, a, src)
	wantMsg(t, "cloned authenticator", err, cp.Unauthenticated, "passkey.invalid")
	ev, _ := e.svc.Events(ctx, m.ID, 5)
	if !slices.ContainsFunc(ev, func(x identity.Event) bool { return x.Kind == identity.EventPasskeyClone }) {
		t.Fatalf("no clone event in %+v", ev)
	}
}

// TestPasskeyBadPayloads: oversized or malformed WebAuthn payloads get the same
// non-revealing error, and nothing changes — the ceremony is still there for the
// genuine answer, and no passkey or session appears.
func TestPasskeyBadPayloads(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	m := e.register(t, e.cards[0], "passkey.bad")
	bad := []struct {
		name    string
		payload string
	}{
		{"empty", ""},
		{"oversized", `{"id":"` + strings.Repeat("A", identity.MaxWebAuthnPayload) + `"}`},
		{"not json", "not json at all"},
		{"wrong shape", `{"id": 5, "response": []}`},
		{"bad base64", `{"id":"!!","rawId":"!!","type":"public-key","response":{"clientDataJSON":"%%","attestationObject":"%%","authenticatorData":"%%","signature":"%%"}}`},
		{"garbage cbor", `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"_____w","authenticatorData":"AAAA","signature":"AAAA"}}`},
		{"deeply nested", strings.Repeat("[", 5000) + strings.Repeat("]", 5000)},
	}

	c, err := e.svc.BeginPasskeyEnrolment(ctx, m.ID, goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range bad {
		_, err := e.svc.FinishPasskeyEnrolment(ctx, m.ID, c.Token, "x", []byte(tt.payload), src)
		fs := cp.ErrorFields(err)
		if cp.ErrorKind(err) != cp.Invalid || len(fs) != 1 || fs[0].Field != "credential" || fs[0].Msg != "passkey.invalid" {
			t.Errorf("enrolment, %s: %v, want Invalid credential passkey.invalid", tt.name, err)
		}
	}
	if pks, _ := e.svc.Passkeys(ctx, m.ID); len(pks) != 0 {
		t.Fatalf("%d passkeys after bad payloads", len(pks))
	}
	a := cardportaltest.NewAuthenticator(passkeyOrigin)
	resp, _ := a.Create(c.Options)
	if _, err := e.svc.FinishPasskeyEnrolment(ctx, m.ID, c.Token, "Phone", resp, src); err != nil {
		t.Fatalf("genuine answer after bad ones: %v", err)
	}

	s, err := e.svc.BeginPasskeySignIn(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range bad {
		_, err := e.svc.PasskeySignIn(ctx, s.Token, []byte(tt.payload), src)
		wantMsg(t, "sign-in, "+tt.name, err, cp.Unauthenticated, "passkey.invalid")
	}
	resp, _ = a.Get(s.Options)
	if _, err := e.svc.PasskeySignIn(ctx, s.Token, resp, src); err != nil {
		t.Fatalf("genuine assertion after bad ones: %v", err)
	}

	// In step-up a bad payload is a wrong answer like any other.
	laptop := device("laptop-device-00000009")
	ch := e.stepUp(t, "passkey.bad", laptop)
	if _, err := e.svc.BeginStepUpPasskey(ctx, ch.FlowToken, laptop); err != nil {
		t.Fatal(err)
	}
	for _, tt := range bad {
		_, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorPasskey, tt.payload, false, laptop)
		if tt.payload == "" {
			continue // an empty answer is the web form's "required" check
		}
		wantMsg(t, "step-up, "+tt.name, err, cp.Unauthenticated, "mfa.invalid")
	}
}

func TestPasskeySignInLocked(t *testing.T) {
	e := newPasskeyEnv(t)
	m := e.register(t, e.cards[0], "passkey.locked")
	a := e.enrolPasskey(t, m)
	for range 3 {
		_, _ = e.svc.Login(context.Background(), "passkey.locked", "wrong password", src)
	}
	_, err := e.passkeySignIn(t, a, src)
	wantMsg(t, "passkey on a locked account", err, cp.Locked, "signin.locked")
	if cp.ErrorUntil(err).IsZero() {
		t.Error("locked without an end time")
	}
}

func TestPasskeyStepUp(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	m := e.register(t, e.cards[0], "passkey.stepup")
	a := e.enrolPasskey(t, m)

	laptop := device("laptop-device-00000002")
	ch := e.stepUp(t, "passkey.stepup", laptop)
	if len(ch.Factors) == 0 || ch.Factors[0] != identity.FactorPasskey {
		t.Fatalf("factors %v, want passkey first", ch.Factors)
	}
	opts, err := e.svc.BeginStepUpPasskey(ctx, ch.FlowToken, laptop)
	if err != nil {
		t.Fatal(err)
	}
	// The flow is bound to its device: another cannot begin its ceremony.
	if _, err := e.svc.BeginStepUpPasskey(ctx, ch.FlowToken, device("other-device-000000001")); cp.ErrorKind(err) != cp.Unauthenticated {
		t.Fatalf("step-up ceremony from another device: %v", err)
	}
	resp, _ := a.Get(opts)
	res, err := e.svc.CompleteSignIn(ctx, ch.FlowToken, identity.FactorPasskey, string(resp), false, laptop)
	if err != nil {
		t.Fatalf("CompleteSignIn with a passkey: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, res.Token); err != nil {
		t.Fatal(err)
	}
}

func TestRemovePasskey(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := context.Background()
	m := e.register(t, e.cards[0], "passkey.remove")
	other := e.register(t, e.cards[2], "passkey.other")
	a := e.enrolPasskey(t, m)
	pks, _ := e.svc.Passkeys(ctx, m.ID)

	if err := e.svc.RemovePasskey(ctx, m.ID, pks[0].ID, "wrong password", src); cp.ErrorKind(err) != cp.Invalid {
		t.Fatalf("RemovePasskey with a wrong password: %v", err)
	}
	if err := e.svc.RemovePasskey(ctx, other.ID, pks[0].ID, goodPassword, src); cp.ErrorKind(err) != cp.NotFound {
		t.Fatalf("removing another member's passkey: %v, want NotFound", err)
	}
	if err := e.svc.RemovePasskey(ctx, m.ID, pks[0].ID, goodPassword, src); err != nil {
		t.Fatal(err)
	}
	_, err := e.passkeySignIn(t, a, src)
	wantMsg(t, "removed passkey", err, cp.Unauthenticated, "passkey.invalid")
}

func TestPasskeysDisabled(t *testing.T) {
	e := newEnv(t, identity.Config{})
	if _, err := e.svc.BeginPasskeySignIn(context.Background(), src); cp.ErrorKind(err) != cp.Forbidden {
		t.Fatalf("BeginPasskeySignIn without passkeys: %v, want Forbidden", err)
	}
}

// BenchmarkPasskeySignIn measures one whole passwordless sign-in on SQLite: the
// challenge stored, the assertion parsed and its ES256 signature checked, the
// challenge taken, the counter compare-and-set, the lockout check, the session and
// the event.
func BenchmarkPasskeySignIn(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	keys, _ := cardcrypto.GenerateKeys()
	hsm, _ := cardcrypto.NewSoft(keys)
	clk := cardportaltest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	cards, _, err := demo.Seed(ctx, store, hsm, 7, clk.Now(), 6)
	if err != nil {
		b.Fatal(err)
	}
	hasher, _ := passhash.NewHasher(testParams, 4)
	log := slog.New(slog.DiscardHandler)
	svc := identity.NewService(store, hsm, hasher, &notify.Outbox{Store: store, Log: log, Now: clk.Now},
		identity.Config{SignInPerSource: 1 << 30}, clk.Now, log)
	if err := svc.EnablePasskeys(identity.PasskeyConfig{RPID: "localhost", Origins: []string{passkeyOrigin}}); err != nil {
		b.Fatal(err)
	}
	flow, err := svc.VerifyCard(ctx, details(cards[0]), src)
	if err != nil {
		b.Fatal(err)
	}
	m, _, _, err := svc.Register(ctx, flow, creds("bench.passkey"), src)
	if err != nil {
		b.Fatal(err)
	}
	a := cardportaltest.NewAuthenticator(passkeyOrigin)
	c, err := svc.BeginPasskeyEnrolment(ctx, m.ID, goodPassword, src)
	if err != nil {
		b.Fatal(err)
	}
	resp, _ := a.Create(c.Options)
	if _, err := svc.FinishPasskeyEnrolment(ctx, m.ID, c.Token, "Bench", resp, src); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		c, err := svc.BeginPasskeySignIn(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := a.Get(c.Options)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.PasskeySignIn(ctx, c.Token, resp, src); err != nil {
			b.Fatal(err)
		}
	}
}
