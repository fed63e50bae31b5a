package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// outboxPage returns the text of the development outbox, where every email lands.
func outboxPage(t *testing.T, in *instance) string {
	t.Helper()
	resp, err := http.Get(in.url + "/dev/outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return html.UnescapeString(string(b))
}

var resetLinkRE = regexp.MustCompile(`/reset\?t=([A-Za-z0-9_%-]+)`)

// TestBrowserForgotPasswordByLink is issue 3's reset path: lock the account with wrong
// passwords, reset it by the emailed link, and sign in with the new password (which
// asks for a second factor once). The token leaves the address bar at once and the
// same link does not work twice.
func TestBrowserForgotPasswordByLink(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	c := in.cards[0]
	const userID = "reset.member"
	const newPassword = "Brand-New-Secret-77"
	registerInBrowser(t, ctx, in, c, userID)
	run1(t, ctx, "log out",
		chromedp.Submit(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	for i := range 3 {
		run1(t, ctx, "wrong password", signIn(userID, fmt.Sprintf("Wrong-Password-%d!", i)))
	}
	if body := text(t, ctx, "main"); !strings.Contains(body, "locked") {
		t.Fatalf("not locked:\n%s", body)
	}

	run1(t, ctx, "forgot password",
		chromedp.Navigate(in.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#forgot")),
		chromedp.Click(chromedp.CSS("#forgot")),
		chromedp.WaitVisible(chromedp.CSS("#forgot-password")),
		chromedp.Click(chromedp.CSS("#forgot-password")),
		chromedp.WaitVisible(chromedp.CSS("#user_id")),
		chromedp.SendKeys(chromedp.CSS("#user_id"), userID),
		chromedp.SendKeys(chromedp.CSS("#card_number"), c.pan),
		chromedp.SendKeys(chromedp.CSS("#cid"), c.code),
		chromedp.Click(chromedp.CSS("#method-link")),
		chromedp.Submit(chromedp.CSS("#user_id")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	)
	if s := text(t, ctx, `[role="status"]`); !strings.Contains(s, "If the details match") {
		t.Fatalf("after asking for a link: %q", s)
	}
	m := resetLinkRE.FindStringSubmatch(outboxPage(t, in))
	if m == nil {
		t.Fatal("no reset link in the outbox")
	}
	tok, _ := url.QueryUnescape(m[1])
	link := in.url + "/reset?t=" + url.QueryEscape(tok)

	run1(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	if loc := eval[string](t, ctx, `location.href`); strings.Contains(loc, tok) || !strings.HasSuffix(loc, "/reset") {
		t.Fatalf("the token stayed in the address bar: %s", loc)
	}
	run1(t, ctx, "new password",
		chromedp.SetValue(chromedp.CSS("#password"), newPassword),
		chromedp.SetValue(chromedp.CSS("#confirm"), newPassword),
		chromedp.Submit(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	)
	if s := text(t, ctx, `[role="status"]`); !strings.Contains(s, "password has been changed") {
		t.Fatalf("after the reset: %q", s)
	}
	if strings.Contains(in.log.String(), tok) {
		t.Fatal("the reset token reached the log")
	}
	if !strings.Contains(outboxPage(t, in), "Your password was changed") {
		t.Error("no 'password changed' notice")
	}
	// Unlocked: the new password is accepted and, after a reset, a second factor is
	// asked even on this trusted browser.
	run1(t, ctx, "sign in", signIn(userID, newPassword),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login/verify"]`)))

	// The link a second time: a clear error, and the way to start again.
	other := browser(t)
	run1(t, other, "reused link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#recovery-start")))
	if s := text(t, other, `[role="alert"]`); !strings.Contains(s, "no longer valid") {
		t.Fatalf("reused link: %q", s)
	}
}

// TestBrowserForgotUserID: the User ID goes to the registered email, never the screen.
func TestBrowserForgotUserID(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	c := in.cards[0]
	const userID = "userid.member"
	registerInBrowser(t, ctx, in, c, userID)

	other := browser(t)
	run1(t, other, "forgot user id",
		chromedp.Navigate(in.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#forgot")),
		chromedp.Click(chromedp.CSS("#forgot")),
		chromedp.WaitVisible(chromedp.CSS("#forgot-userid")),
		chromedp.Click(chromedp.CSS("#forgot-userid")),
		chromedp.WaitVisible(chromedp.CSS("#card_number")),
		chromedp.SendKeys(chromedp.CSS("#card_number"), c.pan),
		chromedp.SendKeys(chromedp.CSS("#cid"), c.code),
		chromedp.SetValue(chromedp.CSS("#birth_date"), c.born),
		chromedp.Submit(chromedp.CSS("#card_number")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	)
	if body := text(t, other, "main"); strings.Contains(body, userID) || !strings.Contains(body, "emailed the User ID") {
		t.Fatalf("the page after asking:\n%s", body)
	}
	if !strings.Contains(outboxPage(t, in), userID) {
		t.Fatal("the User ID email is not in the outbox")
	}
}
