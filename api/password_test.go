package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/cardportal/cardportal/identity"
)

const nextPassword = "Fresh-Lantern-77-orbit"

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.example", alicePassword)
	carol := e.register(e.carol, "carol.other", carolPassword)
	other := e.signIn("alice.example", alicePassword, "app")
	e.remember(nextPassword)
	change := func(tok string, body map[string]string) response {
		return e.do(req{method: "POST", path: "/api/v1/password/change", token: tok, body: body})
	}
	tests := []struct {
		name        string
		body        map[string]string
		status      int
		code, msgID string
	}{
		{"wrong current password", map[string]string{"current_password": "Wrong-Lantern-1", "new_password": nextPassword, "confirm": nextPassword},
			http.StatusUnprocessableEntity, "invalid", ""},
		{"reuse of the current password", map[string]string{"current_password": alicePassword, "new_password": alicePassword, "confirm": alicePassword},
			http.StatusUnprocessableEntity, "invalid", ""},
		{"confirmation differs", map[string]string{"current_password": alicePassword, "new_password": nextPassword, "confirm": "x"},
			http.StatusUnprocessableEntity, "invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.name, change(alice.Token, tt.body), tt.status, tt.code, tt.msgID)
		})
	}
	res := change(alice.Token, map[string]string{"current_password": alicePassword, "new_password": nextPassword, "confirm": nextPassword})
	if res.status != http.StatusNoContent {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	if res := e.do(req{method: "GET", path: "/api/v1/me", token: alice.Token}); res.status != http.StatusOK {
		t.Fatalf("the changing session ended: %d", res.status)
	}
	if res := e.do(req{method: "GET", path: "/api/v1/me", token: other.Token}); res.status != http.StatusUnauthorized {
		t.Fatalf("another session survived: %d", res.status)
	}
	if res := e.do(req{method: "GET", path: "/api/v1/me", token: carol.Token}); res.status != http.StatusOK {
		t.Fatalf("another member's session ended: %d", res.status)
	}
	e.signIn("alice.example", nextPassword, "app")
}

func TestExpiredPasswordHoldsTheSession(t *testing.T) {
	e := newEnv(t, withIdentity(func(c *identity.Config) {
		c.Password = identity.DefaultPasswordPolicy
		c.Password.MaxAge = 90 * 24 * time.Hour
		c.MFA.TrustFor = 400 * 24 * time.Hour
	}))
	e.register(e.alice, "alice.example", alicePassword)
	e.clock.Add(91 * 24 * time.Hour)
	held := e.signIn("alice.example", alicePassword, "app")
	if !held.Session.MustChangePassword {
		t.Fatalf("session not held: %+v", held.Session)
	}
	wantError(t, "a held session elsewhere", e.do(req{method: "GET", path: "/api/v1/me", token: held.Token}),
		http.StatusForbidden, "forbidden", "password.expired")
	e.remember(nextPassword)
	res := e.do(req{method: "POST", path: "/api/v1/password/change", token: held.Token,
		body: map[string]string{"current_password": alicePassword, "new_password": nextPassword, "confirm": nextPassword}})
	if res.status != http.StatusCreated {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	var fresh sessionCreated
	res.decode(t, &fresh)
	e.rememberToken(fresh.Token)
	if fresh.Session.MustChangePassword || fresh.Token == held.Token {
		t.Fatalf("fresh session: %+v", fresh.Session)
	}
	if res := e.do(req{method: "GET", path: "/api/v1/me", token: fresh.Token}); res.status != http.StatusOK {
		t.Fatalf("fresh session refused: %d %s", res.status, res.body)
	}
	if res := e.do(req{method: "GET", path: "/api/v1/me", token: held.Token}); res.status != http.StatusUnauthorized {
		t.Fatalf("held token outlived the change: %d", res.status)
	}
	// A held session can still sign out.
	e.clock.Add(91 * 24 * time.Hour)
	again := e.signIn("alice.example", nextPassword, "app")
	if !again.Session.MustChangePassword {
		t.Fatal("the new password did not expire in turn")
	}
	if res := e.do(req{method: "DELETE", path: "/api/v1/sessions/current", token: again.Token}); res.status != http.StatusNoContent {
		t.Fatalf("sign-out of a held session: %d %s", res.status, res.body)
	}
}
