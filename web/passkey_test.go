package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/cardportaltest"
)

var (
	dataOptions = regexp.MustCompile(`data-options="([^"]*)"`)
	tokenField  = regexp.MustCompile(`name="token" value="([^"]+)"`)
)

// ceremony reads a passkey page's options and ceremony token, as passkey.js and the
// form would.
func ceremony(t *testing.T, r response) (options []byte, token string) {
	t.Helper()
	wantStatus(t, "ceremony page", r, http.StatusOK)
	wantContains(t, "ceremony page", r.body, `src="/static/passkey.js?v=`)
	m := dataOptions.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no options on the page:\n%s", r.body)
	}
	if tm := tokenField.FindStringSubmatch(r.body); tm != nil {
		token = tm[1]
	}
	return []byte(html.UnescapeString(m[1])), token
}

// TestPasskeyPages enrols a passkey from the security page, refuses a malformed one
// without changing anything, signs in with it and no password from a new browser, and
// uses it as the second factor of a stepped-up sign-in.
func TestPasskeyPages(t *testing.T) {
	e := newEnv(t, envOptions{passkeys: true})
	home := e.browser(chromeUA)
	home.register(e.basic, userID)

	page := home.get("/security/mfa")
	wantContains(t, "security page", page.body, `action="/security/passkeys"`, "No passkeys yet.")
	r := home.post("/security/passkeys", url.Values{"passkey_password": {"Not-The-Password-1"}, "passkey_name": {"Laptop"}})
	wantStatus(t, "wrong password", r, http.StatusUnprocessableEntity)
	wantContains(t, "wrong password", r.body, "The password is incorrect.")

	opts, tok := ceremony(t, home.post("/security/passkeys", url.Values{"passkey_password": {password}, "passkey_name": {"Laptop"}}))
	a := cardportaltest.NewAuthenticator(strings.Replace(e.url, "127.0.0.1", "localhost", 1))
	cred, err := a.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"malformed": `{"id":"x","response":{}}`,
		"not json":  "credential",
		"oversized": strings.Repeat("A", 5<<10),
	} {
		r := home.post("/security/passkeys/finish", url.Values{"token": {tok}, "name": {"Laptop"}, "credential": {bad}})
		if name == "oversized" {
			wantStatus(t, name, r, http.StatusBadRequest) // past the form's field limit
			continue
		}
		wantStatus(t, name, r, http.StatusUnprocessableEntity)
		wantContains(t, name, r.body, "That passkey could not be verified.")
	}
	wantContains(t, "after bad credentials", home.get("/security/mfa").body, "No passkeys yet.")
	wantRedirect(t, "finish", home.post("/security/passkeys/finish", url.Values{"token": {tok}, "name": {"Laptop"}, "credential": {string(cred)}}),
		"/security/mfa?done=passkey")
	page = home.get("/security/mfa?done=passkey")
	wantContains(t, "after enrolment", page.body, "Your passkey has been added.", "Laptop", `id="passkey-list"`)
	home.post("/logout", nil)

	// Passwordless, from a browser never seen before.
	phone := e.browser(iPhoneUA)
	wantContains(t, "login page", phone.get("/login").body, `id="passkey-signin"`)
	_, tok = ceremony(t, phone.post("/login/passkey", nil))
	r = phone.post("/login/passkey/finish", url.Values{"token": {tok}, "credential": {`{"id":"AAAA"}`}})
	wantStatus(t, "bad assertion", r, http.StatusUnauthorized)
	wantContains(t, "bad assertion", r.body, "That passkey could not be verified.")
	if phone.cookie("/", "session") != "" {
		t.Fatal("a session after a bad assertion")
	}
	opts, tok = ceremony(t, phone.post("/login/passkey", nil))
	assertion, _ := a.Get(opts)
	wantRedirect(t, "passkey sign-in", phone.post("/login/passkey/finish", url.Values{"token": {tok}, "credential": {string(assertion)}}), "/account")
	wantStatus(t, "dashboard", phone.get("/account"), http.StatusOK)

	// As the second factor: the password from yet another new browser steps up, and
	// the passkey completes it.
	other := e.browser("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/140.0")
	wantRedirect(t, "password", other.login(userID, password, false), "/login/verify")
	verify := other.get("/login/verify")
	wantContains(t, "verify page", verify.body, `id="stepup-passkey"`)
	opts, _ = ceremony(t, verify)
	assertion, _ = a.Get(opts)
	wantRedirect(t, "passkey factor", other.post("/login/verify", url.Values{"factor": {"passkey"}, "passkey_code": {string(assertion)}}), "/account")

	// Removal needs the password.
	page = other.get("/security/mfa")
	m := regexp.MustCompile(`formaction="(/security/passkeys/\d+/remove)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no remove button:\n%s", page.body)
	}
	wantStatus(t, "remove, wrong password", other.post(m[1], url.Values{"passkey_remove_password": {"Not-The-Password-1"}}), http.StatusUnprocessableEntity)
	wantRedirect(t, "remove", other.post(m[1], url.Values{"passkey_remove_password": {password}}), "/security/mfa?done=passkeyremoved")
	wantContains(t, "after removal", other.get("/security/mfa").body, "No passkeys yet.")
}
