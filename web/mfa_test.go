package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode reads the newest one-time code from the outbox, as the member would.
func (e *env) lastCode() string {
	e.t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 10)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == "mfa.code" {
			return sixDigits.FindString(m.Body)
		}
	}
	e.t.Fatal("no code in the outbox")
	return ""
}

// passStepUp completes a stepped-up sign-in with an email code, if r asks for one.
func (b *browser) passStepUp(r response, trust bool) response {
	b.e.t.Helper()
	if r.location() != "/login/verify" {
		return r
	}
	t := b.e.t
	page := b.get("/login/verify")
	wantStatus(t, "verify page", page, http.StatusOK)
	wantRedirect(t, "send code", b.post("/login/verify/send", url.Values{"channel": {"email"}}), "/login/verify?sent=email")
	f := url.Values{"factor": {"email"}, "email_code": {b.e.lastCode()}}
	if trust {
		f.Set("trust", "1")
	}
	return b.post("/login/verify", f)
}

// knownBrowser is a browser the member has signed in from before and trusted, so
// signing in from it again is not stepped up.
func (e *env) knownBrowser(ua string) *browser {
	e.t.Helper()
	b := e.browser(ua)
	wantRedirect(e.t, "first sign-in", b.passStepUp(b.login(userID, password, false), true), "/account")
	b.post("/logout", nil)
	return b
}

func TestStepUpOnNewBrowser(t *testing.T) {
	e := newEnv(t)
	home := e.browser(chromeUA)
	home.register(e.basic, userID)
	home.post("/logout", nil)
	// The registering browser is trusted.
	wantRedirect(t, "registering browser", home.login(userID, password, false), "/account")

	b := e.browser(iPhoneUA)
	r := b.login(userID, password, false)
	wantRedirect(t, "new browser", r, "/login/verify")
	if b.cookie("/", "session") != "" {
		t.Fatal("a session before the second factor")
	}
	var stepup string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "stepup=") {
			stepup = c
		}
	}
	for _, want := range []string{"HttpOnly", "Path=/login", "SameSite=Lax"} {
		if !strings.Contains(stepup, want) {
			t.Errorf("stepup cookie %q lacks %s", stepup, want)
		}
	}
	page := b.get("/login/verify")
	wantStatus(t, "verify page", page, http.StatusOK)
	wantContains(t, "verify page", page.body, "Confirm it&#39;s you", `action="/login/verify/send"`, "j***@example.com",
		"Security question", `name="trust"`, "Trust this device for 30 days")
	wantLacks(t, "verify page", page.body, "jo.doe@example.com")

	wantRedirect(t, "send", b.post("/login/verify/send", url.Values{"channel": {"email"}}), "/login/verify?sent=email")
	code := e.lastCode()
	wantStatus(t, "quick resend", b.post("/login/verify/send", url.Values{"channel": {"email"}}), http.StatusTooManyRequests)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r = b.post("/login/verify", url.Values{"factor": {"email"}, "email_code": {wrong}})
	wantStatus(t, "wrong code", r, http.StatusUnauthorized)
	wantContains(t, "wrong code", r.body, "That code or answer is not correct.")
	// The flow cookie in another browser does not work: it is bound to this device.
	thief := e.browser(chromeUA)
	u, _ := url.Parse(e.url + "/login")
	thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: "stepup", Value: b.cookie("/login", "stepup"), Path: "/login"}})
	thief.get("/login")
	wantRedirect(t, "thief", thief.post("/login/verify", url.Values{"factor": {"email"}, "email_code": {code}}), "/login?m=stepupexpired")
	if thief.cookie("/", "session") != "" {
		t.Fatal("the thief got a session")
	}

	wantRedirect(t, "right code", b.post("/login/verify", url.Values{"factor": {"email"}, "email_code": {code}, "trust": {"1"}}), "/account")
	wantStatus(t, "signed in", b.get("/account"), http.StatusOK)
	b.post("/logout", nil)
	wantRedirect(t, "trusted browser", b.login(userID, password, false), "/account")

	// The new-device notice is in the outbox.
	msgs, _ := e.store.ListOutbox(context.Background(), 20)
	found := false
	for _, m := range msgs {
		found = found || m.Kind == "newdevice"
	}
	if !found {
		t.Error("no new-device notice")
	}
	// Forgetting the browser on the security page makes it new again.
	page = b.get("/security/mfa")
	wantContains(t, "devices", page.body, "Safari on iOS", "Trusted until")
	ids := regexp.MustCompile(`action="/security/devices/(\d+)/forget"`).FindAllStringSubmatch(page.body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d devices listed, want 2", len(ids))
	}
	for _, id := range ids {
		wantRedirect(t, "forget", b.post("/security/devices/"+id[1]+"/forget", nil), "/security/mfa?done=device")
	}
	b.post("/logout", nil)
	wantRedirect(t, "forgotten browser", b.login(userID, password, false), "/login/verify")
}

func TestStepUpExpires(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	b := e.browser(chromeUA)
	wantRedirect(t, "new browser", b.login(userID, password, false), "/login/verify")
	e.clock.Add(11 * time.Minute)
	wantRedirect(t, "late", b.get("/login/verify"), "/login?m=stepupexpired")
	page := b.get("/login?m=stepupexpired")
	wantContains(t, "login", page.body, "Your sign-in took too long.")
	wantRedirect(t, "no flow", e.browser(chromeUA).get("/login/verify"), "/login?m=stepupexpired")
}

func TestStolenDeviceCookie(t *testing.T) {
	e := newEnv(t)
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)
	sam := e.browser(chromeUA)
	registerExtra(sam)
	sam.post("/logout", nil)
	// Jo's trusted device cookie, copied into Sam's browser, means nothing for Sam...
	joDevice := jo.cookie("/", "device")
	u, _ := url.Parse(e.url + "/")
	thief := e.browser(chromeUA)
	thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: "device", Value: joDevice, Path: "/"}})
	wantRedirect(t, "Jo's cookie on Sam's account", thief.login("sam.doe2026", password, false), "/login/verify")
	// ...and Sam's own browser is still trusted for Sam.
	wantRedirect(t, "Sam's browser", sam.login("sam.doe2026", password, false), "/account")
}

func TestTOTPEnrolmentAndRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	page := b.get("/security")
	wantContains(t, "security", page.body, `href="/security/mfa"`)
	page = b.get("/security/mfa")
	wantStatus(t, "mfa page", page, http.StatusOK)
	wantContains(t, "mfa page", page.body, "Set up an authenticator app", "Unused recovery codes: 0")

	r := b.post("/security/mfa/totp", url.Values{"totp_password": {"Wrong-password-1"}})
	wantStatus(t, "wrong password", r, http.StatusUnprocessableEntity)
	wantContains(t, "wrong password", r.body, "The password is incorrect.")

	r = b.post("/security/mfa/totp", url.Values{"totp_password": {password}})
	wantStatus(t, "start", r, http.StatusOK)
	wantContains(t, "start", r.body, `src="data:image/png;base64,`, `id="totp-secret"`)
	m := regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", r.body)
	}
	code, err := totp.GenerateCode(m[1], e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, "confirm", b.post("/security/mfa/totp/confirm", url.Values{"code": {code}}), "/security/mfa?done=totp")
	page = b.get("/security/mfa?done=totp")
	wantContains(t, "enrolled", page.body, "Your authenticator app is set up.", "Remove authenticator app")

	// Recovery codes: shown once, each works once.
	r = b.post("/security/mfa/recovery", url.Values{"recovery_password": {password}})
	wantStatus(t, "recovery", r, http.StatusOK)
	codes := regexp.MustCompile(`<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>`).FindAllStringSubmatch(r.body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	other := e.browser(iPhoneUA)
	wantRedirect(t, "new browser", other.login(userID, password, false), "/login/verify")
	page = other.get("/login/verify")
	wantContains(t, "verify", page.body, "Authenticator app", "Recovery code")
	wantRedirect(t, "recovery code", other.post("/login/verify", url.Values{"factor": {"recovery"}, "recovery_code": {codes[0][1]}}), "/account")
	third := e.browser("curl/8.5.0")
	third.login(userID, password, false)
	wantStatus(t, "used code", third.post("/login/verify", url.Values{"factor": {"recovery"}, "recovery_code": {codes[0][1]}}), http.StatusUnauthorized)

	// TOTP at sign-in, then the same code again is refused.
	e.clock.Add(30 * time.Second)
	code, _ = totp.GenerateCode(m[1], e.clock.Now())
	wantRedirect(t, "totp", third.post("/login/verify", url.Values{"factor": {"totp"}, "totp_code": {code}}), "/account")
	fourth := e.browser("Wget/1.21")
	fourth.login(userID, password, false)
	wantStatus(t, "replayed totp", fourth.post("/login/verify", url.Values{"factor": {"totp"}, "totp_code": {code}}), http.StatusUnauthorized)

	wantRedirect(t, "remove", b.post("/security/mfa/totp/remove", url.Values{"totp_password": {password}}), "/security/mfa?done=totpremoved")
}

func TestForgetAnotherMembersDevice(t *testing.T) {
	e := newEnv(t)
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)
	sam := e.browser(chromeUA)
	registerExtra(sam)
	ids := regexp.MustCompile(`action="/security/devices/(\d+)/forget"`).FindStringSubmatch(jo.get("/security/mfa").body)
	if ids == nil {
		t.Fatal("no device listed")
	}
	wantStatus(t, "Sam forgetting Jo's device", sam.post("/security/devices/"+ids[1]+"/forget", nil), http.StatusNotFound)
	wantStatus(t, "bad id", sam.post("/security/devices/x/forget", nil), http.StatusNotFound)
	wantRedirect(t, "Jo forgetting it", jo.post("/security/devices/"+ids[1]+"/forget", nil), "/security/mfa?done=device")
}

// registerExtra registers the additional card member, Sam, in b.
func registerExtra(b *browser) {
	b.e.t.Helper()
	f := cardForm(b.e.extra)
	f.Set("additional", "1")
	f.Set("basic_birth_date", b.e.basic.birth)
	wantRedirect(b.e.t, "verify card", b.post("/register", f), "/register/credentials")
	wantRedirect(b.e.t, "credentials", b.post("/register/credentials", credentialsForm("sam.doe2026", password)), "/contact?m=welcome")
}

func TestAlwaysAsk(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	r := b.post("/security/mfa/required", url.Values{"required": {"1"}, "required_password": {"Wrong-password-1"}})
	wantStatus(t, "wrong password", r, http.StatusUnprocessableEntity)
	wantRedirect(t, "always ask", b.post("/security/mfa/required", url.Values{"required": {"1"}, "required_password": {password}}), "/security/mfa?done=required")
	page := b.get("/security/mfa?done=required")
	wantContains(t, "saved", page.body, "Your sign-in setting has been saved.", `id="required" name="required" type="checkbox" value="1" aria-describedby="required-hint" checked`)
	b.post("/logout", nil)
	// Even the trusted registration browser is asked now.
	wantRedirect(t, "trusted browser", b.login(userID, password, false), "/login/verify")
	wantRedirect(t, "second factor", b.passStepUp(response{header: http.Header{"Location": {"/login/verify"}}}, true), "/account")
	wantRedirect(t, "unset", b.post("/security/mfa/required", url.Values{"required_password": {password}}), "/security/mfa?done=required")
	b.post("/logout", nil)
	wantRedirect(t, "trusted again", b.login(userID, password, false), "/account")
}
