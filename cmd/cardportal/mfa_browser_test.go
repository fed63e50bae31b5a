package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// TestBrowserTOTP is issue 3's browser path: enrol an authenticator app (the test
// computes the codes, as the app would), sign in from a new browser profile with a
// TOTP code, and see the same code refused the second time.
func TestBrowserTOTP(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	c := in.cards[0]
	if c.basicBorn != "" {
		t.Skip("the first demo card is an additional member's")
	}
	const userID = "totp.member"
	registerInBrowser(t, ctx, in, c, userID)

	run1(t, ctx, "security page",
		chromedp.Navigate(in.url+"/security"),
		chromedp.WaitVisible(chromedp.CSS("#mfa-link")),
		chromedp.Click(chromedp.CSS("#mfa-link")),
		chromedp.WaitVisible(chromedp.CSS("#totp_password")),
		chromedp.SetValue(chromedp.CSS("#totp_password"), testPassword),
		chromedp.Submit(chromedp.CSS("#totp_password")),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
	)
	if n := eval[int](t, ctx, `document.querySelector('img.qr').naturalWidth`); n == 0 {
		t.Error("the QR code image did not load (CSP or encoding)")
	}
	secret := strings.TrimSpace(text(t, ctx, "#totp-secret"))
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	run1(t, ctx, "confirm",
		chromedp.SetValue(chromedp.CSS("#code"), code),
		chromedp.Submit(chromedp.CSS("#code")),
		chromedp.WaitVisible(chromedp.CSS("#totp-remove")),
	)
	run1(t, ctx, "log out",
		chromedp.Submit(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)

	// A new browser profile is a new device: the password leads to the second factor.
	// The enrolment code's time step is used up, so the member's app would show the
	// next one; the server accepts a step of clock skew, so that code works now.
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	other := browser(t)
	run1(t, other, "sign in on a new device",
		chromedp.Navigate(in.url+"/login"),
		signIn(userID, testPassword),
		chromedp.WaitVisible(chromedp.CSS("#totp_code")),
		chromedp.SetValue(chromedp.CSS("#totp_code"), next),
		chromedp.Submit(chromedp.CSS("#totp_code")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
	)
	if body := text(t, other, "main"); !strings.Contains(body, c.pan[len(c.pan)-5:]) {
		t.Fatalf("not on the dashboard after the TOTP code:\n%s", body)
	}

	// The same code a second time, from yet another new device, is refused.
	third := browser(t)
	run1(t, third, "replay",
		chromedp.Navigate(in.url+"/login"),
		signIn(userID, testPassword),
		chromedp.WaitVisible(chromedp.CSS("#totp_code")),
		chromedp.SetValue(chromedp.CSS("#totp_code"), next),
		chromedp.Submit(chromedp.CSS("#totp_code")),
		chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)),
	)
	if alert := text(t, third, `[role="alert"]`); !strings.Contains(alert, "not correct") {
		t.Fatalf("a replayed code should be refused, got %q", alert)
	}
	if n := eval[int](t, third, `document.querySelectorAll('form[action="/logout"]').length`); n != 0 {
		t.Fatal("signed in with a replayed code")
	}
}
