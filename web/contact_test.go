package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
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

func TestRegistrationEndsByConfirmingContacts(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	b.register(e.basic, userID) // ends on /contact?m=welcome
	page := b.get("/contact?m=welcome")
	wantStatus(t, "contact page", page, http.StatusOK)
	wantContains(t, "contact page", page.body, "Mobile number", "Email address", `id="send-sms"`, `id="send-email"`)
	wantLacks(t, "contact page", page.body, "+15555550100", "jo.doe@example.com")
	wantContains(t, "dashboard", b.get("/account").body, `id="contact-reminder"`)

	wantRedirect(t, "send sms", b.post("/contact/send", url.Values{"channel": {"sms"}}), "/contact?m=sent")
	code := e.lastContactCode("sms")
	e.secrets = append(e.secrets, code)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"wrong code", url.Values{"channel": {"sms"}, "code_sms": {wrong}}, http.StatusUnprocessableEntity, "That code is not correct."},
		{"letters", url.Values{"channel": {"sms"}, "code_sms": {"abcdef"}}, http.StatusUnprocessableEntity, "That code is not correct."},
		{"email code never sent", url.Values{"channel": {"email"}, "code_email": {code}}, http.StatusGone, "This code can no longer be used."},
		{"resend too soon", nil, http.StatusTooManyRequests, "A code was sent a moment ago."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.form == nil {
				r = b.post("/contact/send", url.Values{"channel": {"sms"}})
			} else {
				r = b.post("/contact/confirm", tt.form)
			}
			wantStatus(t, tt.name, r, tt.status)
			wantContains(t, tt.name, r.body, tt.want)
		})
	}
	wantRedirect(t, "confirm sms", b.post("/contact/confirm", url.Values{"channel": {"sms"}, "code_sms": {code}}), "/contact")
	wantContains(t, "phone confirmed", b.get("/contact").body, `id="confirmed-sms"`, `id="send-email"`)
	wantContains(t, "still reminded", b.get("/account").body, `id="contact-reminder"`)

	wantRedirect(t, "send email", b.post("/contact/send", url.Values{"channel": {"email"}}), "/contact?m=sent")
	wantRedirect(t, "confirm email", b.post("/contact/confirm", url.Values{"channel": {"email"}, "code_email": {e.lastContactCode("email")}}), "/contact")
	wantContains(t, "all confirmed", b.get("/contact").body, "Your contact details are confirmed.", `id="confirmed-email"`)
	wantLacks(t, "no reminder", b.get("/account").body, `id="contact-reminder"`)
	wantContains(t, "history", b.get("/security").body, "Contact detail confirmed")
}

func TestChangeEmailOnContactPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	const newEmail = "jo.new@example.org"
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"wrong password", url.Values{"channel": {"email"}, "address_email": {newEmail}, "password_email": {"Wrong-Horse-1x"}}, http.StatusUnprocessableEntity, "The current password is not correct."},
		{"not an address", url.Values{"channel": {"email"}, "address_email": {"jo at example"}, "password_email": {password}}, http.StatusUnprocessableEntity, "Enter a valid address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post("/contact/change", tt.form)
			wantStatus(t, tt.name, r, tt.status)
			wantContains(t, tt.name, r.body, tt.want, "<details open>")
			wantLacks(t, tt.name, r.body, password)
		})
	}
	wantRedirect(t, "change", b.post("/contact/change", url.Values{"channel": {"email"}, "address_email": {newEmail}, "password_email": {password}}), "/contact?m=sent")
	page := b.get("/contact?m=sent")
	wantContains(t, "pending", page.body, `id="pending-email"`, "A code was sent to")
	wantLacks(t, "pending", page.body, newEmail)
	wantRedirect(t, "confirm", b.post("/contact/confirm", url.Values{"channel": {"email"}, "code_email": {e.lastContactCode("email")}}), "/contact")
	page = b.get("/contact")
	wantContains(t, "changed", page.body, `id="confirmed-email"`, "j***@example.org")
	wantLacks(t, "changed", page.body, `id="pending-email"`)
	msgs, _ := e.store.ListOutbox(context.Background(), 5)
	if msgs[0].Kind != "contact.changed" || msgs[0].To != "jo.doe@example.com" {
		t.Fatalf("newest notice %s to %s, want contact.changed to the old address", msgs[0].Kind, msgs[0].To)
	}
}
