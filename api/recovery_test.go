package api

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

var resetLink = regexp.MustCompile(`/reset\?t=(\S+)`)

// lastRecovery reads the newest recovery message's body from the outbox.
func (e *env) lastRecovery(kind string) string {
	e.t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 20)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == kind {
			return m.Body
		}
	}
	e.t.Fatalf("no %s message in the outbox", kind)
	return ""
}

func TestForgotUserIDAnswersAlike(t *testing.T) {
	e := newEnv(t)
	e.register(e.alice, "alice.example", alicePassword)
	ask := func(pan, cid, birth string) response {
		return e.do(req{method: "POST", path: "/api/v1/recovery/user-id", body: map[string]string{"card_number": pan, "cid": cid, "birth_date": birth}})
	}
	match := ask(e.alice.pan, e.alice.cid, e.alice.birth)
	if match.status != http.StatusAccepted {
		t.Fatalf("match: %d %s", match.status, match.body)
	}
	if bytes.Contains(match.body, []byte("alice.example")) {
		t.Fatal("the User ID was shown")
	}
	for name, res := range map[string]response{
		"wrong birth":       ask(e.alice.pan, e.alice.cid, "1980-04-03"),
		"unregistered card": ask(e.bob.pan, e.bob.cid, e.bob.birth),
	} {
		if res.status != match.status || !bytes.Equal(res.body, match.body) {
			t.Errorf("%s: %d %s, want the same as a match: %s", name, res.status, res.body, match.body)
		}
	}
	if body := e.lastRecovery("userid"); !bytes.Contains([]byte(body), []byte("alice.example")) {
		t.Errorf("reminder email: %q", body)
	}
	wantError(t, "malformed", ask("12", "x", "no"), http.StatusUnprocessableEntity, "invalid", "")
}

func TestPasswordResetAPI(t *testing.T) {
	e := newEnv(t)
	s := e.register(e.alice, "alice.example", alicePassword)
	start := func(userID, method string) response {
		return e.do(req{method: "POST", path: "/api/v1/recovery/password", body: map[string]string{
			"user_id": userID, "card_number": e.alice.pan, "cid": e.alice.cid, "method": method}})
	}
	reset := func(tok, code, pw string) response {
		e.remember(pw)
		return e.do(req{method: "POST", path: "/api/v1/recovery/password/reset", body: map[string]string{
			"reset_token": tok, "code": code, "password": pw, "confirm": pw}})
	}

	// By code: an unknown User ID gets a token too, which fails like a wrong code.
	var unknown, real recoveryStarted
	r := start("nobody.here", "email")
	r.decode(t, &unknown)
	r2 := start("alice.example", "email")
	r2.decode(t, &real)
	if r.status != http.StatusAccepted || r2.status != r.status || unknown.ResetToken == "" || real.ResetToken == "" || unknown.Message != real.Message {
		t.Fatalf("start by code: %d %s / %d %s", r.status, r.body, r2.status, r2.body)
	}
	e.rememberToken(unknown.ResetToken)
	e.rememberToken(real.ResetToken)
	code := sixDigits.FindString(e.lastRecovery("recovery.reset"))
	wantError(t, "unknown user's token", reset(unknown.ResetToken, code, "Brand-New-Secret-77"), http.StatusUnprocessableEntity, "invalid", "")
	if res := reset(real.ResetToken, code, "Brand-New-Secret-77"); res.status != http.StatusNoContent {
		t.Fatalf("reset by code: %d %s", res.status, res.body)
	}
	// Every session ended.
	if res := e.do(req{method: "GET", path: "/api/v1/me", token: s.Token}); res.status != http.StatusUnauthorized {
		t.Errorf("session after reset: %d", res.status)
	}

	// By link: no token on screen; the emailed link works once.
	r = start("alice.example", "link")
	var linkStarted recoveryStarted
	r.decode(t, &linkStarted)
	if r.status != http.StatusAccepted || linkStarted.ResetToken != "" {
		t.Fatalf("start by link: %d %s", r.status, r.body)
	}
	m := resetLink.FindStringSubmatch(e.lastRecovery("recovery.reset"))
	if m == nil {
		t.Fatal("no link in the email")
	}
	tok, _ := url.QueryUnescape(m[1])
	e.rememberToken(tok)
	wantError(t, "history", reset(tok, "", "Brand-New-Secret-77"), http.StatusUnprocessableEntity, "invalid", "")
	if res := reset(tok, "", "Another-Secret-88"); res.status != http.StatusNoContent {
		t.Fatalf("reset by link: %d %s", res.status, res.body)
	}
	wantError(t, "reused link", reset(tok, "", "Third-Secret-99x"), http.StatusGone, "expired", "recovery.invalid")
	wantError(t, "bad method", start("alice.example", "pigeon"), http.StatusUnprocessableEntity, "invalid", "")
	// The new password works; the first sign-in after a reset asks for a second factor.
	su := e.stepUp("alice.example", "Another-Secret-88", testDevice)
	if len(su.Reasons) != 1 || su.Reasons[0] != "after_password_reset" {
		t.Errorf("step-up reasons %v, want after_password_reset", su.Reasons)
	}
}
