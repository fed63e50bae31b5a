package api

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func (e *env) lastContactCode(channel string) string {
	e.t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 10)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == "contact.code" && string(m.Channel) == channel {
			return sixDigits.FindString(m.Body)
		}
	}
	e.t.Fatalf("no %s contact code in the outbox", channel)
	return ""
}

func TestConfirmContacts(t *testing.T) {
	e := newEnv(t)
	s := e.register(e.alice, "alice.example", alicePassword)
	carol := e.register(e.carol, "carol.other", carolPassword)
	state := func(tok string) (st struct {
		Phone, Email    string
		PhoneVerifiedAt *string `json:"phone_verified_at"`
		EmailVerifiedAt *string `json:"email_verified_at"`
		Confirmed       bool
		PendingPhone    string `json:"pending_phone"`
		PendingEmail    string `json:"pending_email"`
	}) {
		t.Helper()
		res := e.do(req{method: "GET", path: "/api/v1/contact", token: tok})
		if res.status != http.StatusOK {
			t.Fatalf("contact: %d %s", res.status, res.body)
		}
		res.decode(t, &st)
		return st
	}
	if st := state(s.Token); st.Confirmed || st.PhoneVerifiedAt != nil || st.Phone == "" {
		t.Fatalf("after registration: %+v", st)
	}
	post := func(path string, body map[string]string) response {
		return e.do(req{method: "POST", path: path, token: s.Token, body: body})
	}
	for _, ch := range []string{"sms", "email"} {
		if res := post("/api/v1/contact/send", map[string]string{"channel": ch}); res.status != http.StatusNoContent {
			t.Fatalf("send %s: %d %s", ch, res.status, res.body)
		}
	}
	sms, email := e.lastContactCode("sms"), e.lastContactCode("email")
	wrong := "000000"
	if sms == wrong {
		wrong = "111111"
	}
	tests := []struct {
		name   string
		body   map[string]string
		status int
		code   string
	}{
		{"wrong code", map[string]string{"channel": "sms", "code": wrong}, http.StatusUnprocessableEntity, "invalid"},
		{"bad channel", map[string]string{"channel": "fax", "code": sms}, http.StatusUnprocessableEntity, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.name, post("/api/v1/contact/confirm", tt.body), tt.status, tt.code, "")
		})
	}
	// Alice's code does nothing on Carol's account.
	wantError(t, "another member's code", e.do(req{method: "POST", path: "/api/v1/contact/confirm", token: carol.Token,
		body: map[string]string{"channel": "sms", "code": sms}}), http.StatusGone, "expired", "contact.code.dead")
	for ch, code := range map[string]string{"sms": sms, "email": email} {
		if res := post("/api/v1/contact/confirm", map[string]string{"channel": ch, "code": code}); res.status != http.StatusNoContent {
			t.Fatalf("confirm %s: %d %s", ch, res.status, res.body)
		}
	}
	if st := state(s.Token); !st.Confirmed || st.PhoneVerifiedAt == nil || st.EmailVerifiedAt == nil {
		t.Fatalf("after confirming: %+v", st)
	}
	if st := state(carol.Token); st.Confirmed {
		t.Fatalf("carol confirmed by alice: %+v", st)
	}
	// Changing the email: the code goes to the new address, the old one is told.
	e.clock.Add(time.Minute) // past the resend interval of the first codes
	wantError(t, "change with a wrong password", post("/api/v1/contact/change", map[string]string{"channel": "email", "address": "alice.new@example.org", "password": "Wrong-1"}),
		http.StatusUnprocessableEntity, "invalid", "")
	if res := post("/api/v1/contact/change", map[string]string{"channel": "email", "address": "alice.new@example.org", "password": alicePassword}); res.status != http.StatusNoContent {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	pending := state(s.Token)
	if pending.PendingEmail == "" || pending.PendingEmail == "alice.new@example.org" {
		t.Fatalf("pending email: %q", pending.PendingEmail)
	}
	if res := post("/api/v1/contact/confirm", map[string]string{"channel": "email", "code": e.lastContactCode("email")}); res.status != http.StatusNoContent {
		t.Fatalf("confirm the change: %d %s", res.status, res.body)
	}
	msgs, _ := e.store.ListOutbox(context.Background(), 10)
	if msgs[0].Kind != "contact.changed" || msgs[0].To == "alice.new@example.org" {
		t.Fatalf("newest notice: %s to %s, want contact.changed to the old address", msgs[0].Kind, msgs[0].To)
	}
	if res := post("/api/v1/contact/send", map[string]string{"channel": "sms"}); res.status != http.StatusNoContent {
		t.Fatalf("send again after a minute: %d %s", res.status, res.body)
	}
	wantError(t, "resend too soon", post("/api/v1/contact/send", map[string]string{"channel": "sms"}), http.StatusTooManyRequests, "too_many_requests", "contact.send.throttled")
}
