package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cardportal/cardportal/identity"
)

const newPassword = "Fresh-Lantern-77-orbit"

func changeForm(current, next, confirm string) url.Values {
	return url.Values{"current_password": {current}, "password": {next}, "confirm": {confirm}}
}

func TestChangePasswordPage(t *testing.T) {
	e := newEnv(t)
	e.secrets = append(e.secrets, newPassword)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)

	page := b.get("/security")
	wantContains(t, "security page", page.body, `href="/security/password"`)
	page = b.get("/security/password")
	wantStatus(t, "change page", page, http.StatusOK)
	wantContains(t, "change page", page.body, "Current password", `autocomplete="new-password"`, "Not one of your last 4 passwords")

	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"wrong current password", changeForm("Wrong-Lantern-1x", newPassword, newPassword), "The current password is not correct."},
		{"reuses the current password", changeForm(password, password, password), "Not one of your last 4 passwords"},
		{"confirmation differs", changeForm(password, newPassword, newPassword+"x"), "The passwords do not match."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post("/security/password", tt.form)
			wantStatus(t, tt.name, r, http.StatusUnprocessableEntity)
			wantContains(t, tt.name, r.body, tt.want)
			wantLacks(t, tt.name, r.body, newPassword, password)
		})
	}
	r := b.post("/security/password", changeForm(password, newPassword, newPassword))
	wantRedirect(t, "change", r, "/security/password?done=1")
	wantContains(t, "after change", b.get("/security/password?done=1").body, "Your password has been changed.")
	wantStatus(t, "this session still works", b.get("/account"), http.StatusOK)
	// Other sessions ending is tested in identity and api, where no step-up is in the way.
	wantContains(t, "history", b.get("/security").body, "Password changed")
}

func TestExpiredPasswordIsHeldToAChange(t *testing.T) {
	e := newEnv(t, envOptions{identity: func(c *identity.Config) {
		c.Password = identity.DefaultPasswordPolicy
		c.Password.MaxAge = 90 * 24 * time.Hour
		c.MFA.TrustFor = 400 * 24 * time.Hour
	}})
	e.secrets = append(e.secrets, newPassword)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	wantStatus(t, "logout", b.post("/logout", nil), http.StatusSeeOther)
	e.clock.Add(91 * 24 * time.Hour)
	wantRedirect(t, "login", b.login(userID, password, false), "/account")
	for _, path := range []string{"/account", "/security", "/transactions"} {
		wantRedirect(t, "held "+path, b.get(path), "/security/password")
	}
	page := b.get("/security/password")
	wantStatus(t, "held page", page, http.StatusOK)
	wantContains(t, "held page", page.body, "Your password has expired.", `action="/security/password/logout"`)
	wantLacks(t, "held page", page.body, `href="/account"`)

	wantStatus(t, "wrong current", b.post("/security/password", changeForm("Wrong-Lantern-1x", newPassword, newPassword)), http.StatusUnprocessableEntity)
	wantRedirect(t, "still held", b.get("/account"), "/security/password")
	wantRedirect(t, "change", b.post("/security/password", changeForm(password, newPassword, newPassword)), "/account")
	wantStatus(t, "full session", b.get("/account"), http.StatusOK)
}

func TestHeldSessionCanSignOut(t *testing.T) {
	e := newEnv(t, envOptions{identity: func(c *identity.Config) {
		c.Password = identity.DefaultPasswordPolicy
		c.Password.MaxAge = time.Hour
		c.MFA.TrustFor = 400 * 24 * time.Hour
	}})
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	b.post("/logout", nil)
	e.clock.Add(2 * time.Hour)
	b.login(userID, password, false)
	wantRedirect(t, "sign out", b.post("/security/password/logout", nil), "/login?m=loggedout")
	wantRedirect(t, "signed out", b.get("/security/password"), "/login")
}
