package identity_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
)

// expiryConfig expires passwords after maxAge and trusts devices long enough that
// sign-ins in these tests are never stepped up.
func expiryConfig(maxAge time.Duration) identity.Config {
	cfg := identity.Config{Password: identity.DefaultPasswordPolicy}
	cfg.Password.MaxAge = maxAge
	cfg.MFA.TrustFor = 400 * 24 * time.Hour
	return cfg
}

func fieldMsgs(err error, field string) []string {
	var out []string
	for _, f := range cp.ErrorFields(err) {
		if f.Field == field {
			out = append(out, f.Msg)
		}
	}
	return out
}

func TestPasswordExpiryHoldsSessionToAChange(t *testing.T) {
	tests := []struct {
		name   string
		maxAge time.Duration
		age    time.Duration
		held   bool
	}{
		{"no maximum age never expires", 0, 10 * 365 * 24 * time.Hour, false},
		{"younger than the maximum", 90 * 24 * time.Hour, 89 * 24 * time.Hour, false},
		{"exactly the maximum", 90 * 24 * time.Hour, 90 * 24 * time.Hour, true},
		{"older than the maximum", 90 * 24 * time.Hour, 91 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, expiryConfig(tt.maxAge))
			e.register(t, e.cards[0], "expiry.member")
			e.clock.Add(tt.age)
			tok, sess, err := signIn(e.svc, ctx, "expiry.member", goodPassword, src)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if sess.MustChangePassword != tt.held {
				t.Fatalf("MustChangePassword = %v, want %v", sess.MustChangePassword, tt.held)
			}
			_, err = e.svc.Authenticate(ctx, tok)
			if tt.held {
				wantMsg(t, "Authenticate of a held session", err, cp.Forbidden, "password.expired")
			} else if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if got, err := e.svc.AuthenticateForPasswordChange(ctx, tok); err != nil || got.ID != sess.ID {
				t.Fatalf("AuthenticateForPasswordChange: %+v %v", got, err)
			}
		})
	}
}

func TestExpiredPasswordChangeGivesAFullSession(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, expiryConfig(90*24*time.Hour))
	e.register(t, e.cards[0], "expiry.member")
	e.clock.Add(100 * 24 * time.Hour)
	held, sess, err := signIn(e.svc, ctx, "expiry.member", goodPassword, src)
	if err != nil || !sess.MustChangePassword {
		t.Fatalf("Login: %+v %v", sess, err)
	}
	const next = "Another-Horse-43-stapler"
	tests := []struct {
		name  string
		in    identity.PasswordChange
		field string
		msg   string
	}{
		{"current missing", identity.PasswordChange{New: next, Confirm: next}, "current_password", "error.field.required"},
		{"current wrong", identity.PasswordChange{Current: "Wrong-Horse-42-battery", New: next, Confirm: next}, "current_password", "password.current.wrong"},
		{"same as the current", identity.PasswordChange{Current: goodPassword, New: goodPassword, Confirm: goodPassword}, "password", "pw.rule.history"},
		{"too short", identity.PasswordChange{Current: goodPassword, New: "Short-1", Confirm: "Short-1"}, "password", "pw.rule.length"},
		{"confirmation differs", identity.PasswordChange{Current: goodPassword, New: next, Confirm: next + "x"}, "confirm", "pw.mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.ChangePassword(ctx, sess, tt.in, src)
			if cp.ErrorKind(err) != cp.Invalid || !slices.Contains(fieldMsgs(err, tt.field), tt.msg) {
				t.Fatalf("got %v (%v), want %s on %s", err, cp.ErrorFields(err), tt.msg, tt.field)
			}
			// Nothing changed: still held, the old password still the one.
			if _, err := e.svc.AuthenticateForPasswordChange(ctx, held); err != nil {
				t.Fatalf("held session ended by a refused change: %v", err)
			}
		})
	}
	tok, fresh, err := e.svc.ChangePassword(ctx, sess, identity.PasswordChange{Current: goodPassword, New: next, Confirm: next}, src)
	if err != nil || tok == "" || fresh.MustChangePassword {
		t.Fatalf("ChangePassword: %q %+v %v", tok, fresh, err)
	}
	if _, err := e.svc.AuthenticateForPasswordChange(ctx, held); !cp.IsKind(err, cp.Unauthenticated) {
		t.Fatalf("the held session outlived the change: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, tok); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	if _, _, err := signIn(e.svc, ctx, "expiry.member", goodPassword, src); !cp.IsKind(err, cp.Unauthenticated) {
		t.Fatalf("old password still signs in: %v", err)
	}
	if _, s2, err := signIn(e.svc, ctx, "expiry.member", next, src); err != nil || s2.MustChangePassword {
		t.Fatalf("new password: %+v %v", s2, err)
	}
}

func TestChangePasswordEndsOtherSessionsAndNotifies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, expiryConfig(0))
	m := e.register(t, e.cards[0], "change.member")
	tokA, sessA, err := signIn(e.svc, ctx, "change.member", goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	tokB, _, err := signIn(e.svc, ctx, "change.member", goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	const next = "Another-Horse-43-stapler"
	tok, kept, err := e.svc.ChangePassword(ctx, sessA, identity.PasswordChange{Current: goodPassword, New: next, Confirm: next}, src)
	if err != nil || tok != "" || kept.ID != sessA.ID {
		t.Fatalf("ChangePassword: %q %+v %v", tok, kept, err)
	}
	if _, err := e.svc.Authenticate(ctx, tokA); err != nil {
		t.Fatalf("the session that changed the password ended: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, tokB); !cp.IsKind(err, cp.Unauthenticated) {
		t.Fatalf("another session survived the change: %v", err)
	}
	ev, err := e.svc.Events(ctx, m.ID, 5)
	if err != nil || !slices.ContainsFunc(ev, func(x identity.Event) bool { return x.Kind == identity.EventPasswordChanged }) {
		t.Fatalf("no password.changed event: %v %v", ev, err)
	}
	msgs, err := e.store.ListOutbox(ctx, 5)
	if err != nil || !slices.ContainsFunc(msgs, func(x notify.Message) bool { return x.Kind == "password.changed" && x.To == m.Email }) {
		t.Fatalf("no password-changed notice: %v", err)
	}
	for _, x := range msgs {
		if x.Kind == "password.changed" && (strings.Contains(x.Body, next) || strings.Contains(x.Body, goodPassword)) {
			t.Fatal("a password in the notice")
		}
	}
}

func TestSetPasswordHistory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, expiryConfig(0))
	m := e.register(t, e.cards[0], "history.member")
	seq := []string{"History-Pass-0001", "History-Pass-0002", "History-Pass-0003", "History-Pass-0004"}
	for _, pw := range seq {
		if err := e.svc.SetPassword(ctx, m.ID, pw, pw, 0, src); err != nil {
			t.Fatalf("SetPassword %d: %v", len(pw), err)
		}
	}
	tests := []struct {
		name  string
		pw    string
		taken bool
	}{
		{"the current password", seq[3], true},
		{"the oldest of the last four", seq[0], true},
		{"the fifth most recent", goodPassword, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.SetPassword(ctx, m.ID, tt.pw, tt.pw, 0, src)
			if tt.taken {
				if !slices.Contains(fieldMsgs(err, "password"), "pw.rule.history") {
					t.Fatalf("reuse allowed: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetPassword: %v", err)
			}
		})
	}
	if err := e.svc.SetPassword(ctx, 999999, seq[0]+"x", seq[0]+"x", 0, src); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("unknown member: %v", err)
	}
}
