package main

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestBrowserPasskey is issue 3's passkey path in a real browser, with Chromium's
// virtual authenticator (the DevTools WebAuthn domain) standing in for the phone's
// fingerprint reader: enrol a passkey from the security page after the password,
// sign out, sign in with the passkey and no password at all, and remove it again.
func TestBrowserPasskey(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	// Browsers refuse WebAuthn on an IP address; the server's default relying party
	// is localhost on its port.
	lh := *in
	lh.url = strings.Replace(in.url, "://127.0.0.1:", "://localhost:", 1)
	c := in.cards[0]
	if c.basicBorn != "" {
		t.Skip("the first demo card is an additional member's")
	}

	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	auth, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}

	const userID = "passkey.member"
	registerInBrowser(t, ctx, &lh, c, userID)
	run1(t, ctx, "add a passkey",
		chromedp.Navigate(lh.url+"/security/mfa"),
		chromedp.WaitVisible(chromedp.CSS("#passkey_password")),
		chromedp.SetValue(chromedp.CSS("#passkey_name"), "Test phone"),
		chromedp.SetValue(chromedp.CSS("#passkey_password"), testPassword),
		chromedp.Submit(chromedp.CSS("#passkey_password")),
		chromedp.WaitVisible(chromedp.CSS("#passkey-start")),
		chromedp.Click(chromedp.CSS("#passkey-start")),
		chromedp.WaitVisible(chromedp.CSS("#passkey-list")),
	)
	if list := text(t, ctx, "#passkey-list"); !strings.Contains(list, "Test phone") {
		t.Fatalf("passkey list lacks the new passkey:\n%s", list)
	}
	//lint:ignore S1016 the two cdproto types only happen to match; a literal says which field is meant
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential || creds.Credentials[0].RpID != "localhost" {
		t.Fatalf("authenticator holds %+v, want one discoverable credential for localhost", creds.Credentials)
	}

	run1(t, ctx, "log out",
		chromedp.Submit(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	// Passwordless: no User ID, no password typed.
	run1(t, ctx, "sign in with the passkey",
		chromedp.Navigate(lh.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
		chromedp.Click(chromedp.CSS("#passkey-signin")),
		chromedp.WaitVisible(chromedp.CSS("#passkey-start")),
		chromedp.Click(chromedp.CSS("#passkey-start")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
	)
	if body := text(t, ctx, "main"); !strings.Contains(body, c.pan[len(c.pan)-5:]) {
		t.Fatalf("not on the dashboard after the passkey:\n%s", body)
	}
	run1(t, ctx, "outbox", chromedp.Navigate(lh.url+"/dev/outbox"), chromedp.WaitVisible(chromedp.CSS("main")))
	if box := text(t, ctx, "main"); !strings.Contains(box, "new passkey") {
		t.Errorf("no \"new passkey\" notice in the outbox:\n%.2000s", box)
	}

	// As the second factor: with "always ask" on, the password leads to the step-up
	// page, where the passkey completes the sign-in.
	run1(t, ctx, "always ask for a second factor",
		chromedp.Navigate(lh.url+"/security/mfa"),
		chromedp.WaitVisible(chromedp.CSS("#required_password")),
		chromedp.Click(chromedp.CSS("#required")),
		chromedp.SetValue(chromedp.CSS("#required_password"), testPassword),
		chromedp.Submit(chromedp.CSS("#required_password")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
		chromedp.Submit(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	run1(t, ctx, "password, then the passkey",
		signIn(userID, testPassword),
		chromedp.WaitVisible(chromedp.CSS("#stepup-passkey-start")),
		chromedp.Click(chromedp.CSS("#stepup-passkey-start")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
	)

	run1(t, ctx, "remove the passkey",
		chromedp.Navigate(lh.url+"/security/mfa"),
		chromedp.WaitVisible(chromedp.CSS("#passkey_remove_password")),
		chromedp.SetValue(chromedp.CSS("#passkey_remove_password"), testPassword),
		chromedp.Click(chromedp.CSS(`#passkey-remove-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('#passkey-list').length`); n != 0 {
		t.Fatal("the passkey is still listed after removal")
	}
}
