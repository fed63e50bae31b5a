package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var contactCode = regexp.MustCompile(`(?s)<dd>sms</dd>.*?<dd>contact\.code</dd>.*?<p class="message-body">[^<]*?\b(\d{6})\b`)

// TestBrowserRegistrationConfirmsPhone is SPEC ID4's browser path: registration ends
// on the confirm-your-contacts page, a code goes to the phone by SMS (read here from
// the outbox, as the member reads their phone), and typing it confirms the number.
func TestBrowserRegistrationConfirmsPhone(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir(), "-dev-outbox")...)
	run1(t, ctx, "card details", cardDetails(in, in.cards[0]))
	run1(t, ctx, "credentials", credentials("contact.member"))
	if body := text(t, ctx, "main"); !strings.Contains(body, "Confirm your contact details") {
		t.Fatalf("registration did not end on the contact page:\n%s", body)
	}
	run1(t, ctx, "send the SMS code",
		chromedp.Click(chromedp.CSS("#send-sms")),
		chromedp.WaitVisible(chromedp.CSS("#code_sms")))

	// The code field is on the page before the send too, so wait for the SMS itself.
	var m [][]byte
	var b []byte
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(in.url + "/dev/outbox")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		m = contactCode.FindSubmatch(b)
	}
	if m == nil {
		t.Fatalf("no SMS contact code in the outbox:\n%.3000s", b)
	}
	run1(t, ctx, "confirm the phone",
		chromedp.Navigate(in.url+"/contact"),
		chromedp.WaitVisible(chromedp.CSS("#code_sms")),
		chromedp.SendKeys(chromedp.CSS("#code_sms"), string(m[1])),
		chromedp.Click(chromedp.CSS("#confirm-sms")),
		chromedp.WaitVisible(chromedp.CSS("#confirmed-sms")))
	run1(t, ctx, "dashboard", chromedp.Navigate(in.url+"/account"), chromedp.WaitVisible(chromedp.CSS("#contact-reminder")))
	if body := text(t, ctx, "#contact-reminder"); !strings.Contains(body, "Confirm your mobile number") {
		t.Fatalf("reminder: %q", body)
	}
}
