package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardportal/cardportal/locale"
)

// TestBrowserPayments schedules a payment in a real browser (SPEC AC4): link a bank
// account, schedule a payment for tomorrow, run the payment job for that date with the
// CLI against the same database (as a second instance would), and see the payment
// posted and the balance lower on the dashboard.
func TestBrowserPayments(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	args := append(fastArgs, "-data-dir", dir)
	in := start(t, nil, args...)
	c := in.cards[0]
	const userID = "browser.payments"
	registerInBrowser(t, ctx, in, c, userID)

	run1(t, ctx, "link a bank account",
		chromedp.Navigate(in.url+"/payments"),
		chromedp.WaitVisible(chromedp.CSS("#banks-link")),
		chromedp.Click(chromedp.CSS("#banks-link")),
		chromedp.WaitVisible(chromedp.CSS("#routing_number")),
		chromedp.SendKeys(chromedp.CSS("#nickname"), "Checking"),
		chromedp.SendKeys(chromedp.CSS("#routing_number"), "011000015"),
		chromedp.SendKeys(chromedp.CSS("#account_number"), "123456789"),
		chromedp.Submit(chromedp.CSS("#account_number")),
		chromedp.WaitVisible(chromedp.CSS("#banks")),
	)
	if s := text(t, ctx, "#banks"); !strings.Contains(s, "••••6789") || strings.Contains(s, "123456789") {
		t.Errorf("bank list should show the number masked: %q", s)
	}

	_, out := login(t, in, userID, testPassword)
	tok, _ := out["token"].(string)
	balance := func() (int64, string) {
		t.Helper()
		st, accts := apiCall(t, "GET", in.url+"/api/v1/accounts", tok, nil)
		if st != http.StatusOK {
			t.Fatalf("accounts: %d %v", st, accts)
		}
		a := accts["accounts"].([]any)[0].(map[string]any)
		return int64(a["balance"].(float64)), a["currency"].(string)
	}
	before, cur := balance()
	if before < 100 {
		t.Fatalf("the demo account owes %d, too little to pay 1.00", before)
	}

	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	run1(t, ctx, "schedule a payment",
		chromedp.Navigate(in.url+"/payments"),
		chromedp.WaitVisible(chromedp.CSS("#amount")),
		chromedp.SendKeys(chromedp.CSS("#amount"), "1.00"),
		chromedp.SetValue(chromedp.CSS("#date"), tomorrow),
		chromedp.Click(chromedp.CSS("#pay-submit")),
		chromedp.WaitVisible(chromedp.CSS("#payment-status")),
	)
	if s := text(t, ctx, "#payment-status"); s != "Scheduled" {
		t.Fatalf("status after scheduling: %q\n%s", s, text(t, ctx, "main"))
	}
	confirmation := text(t, ctx, "#payment-confirmation")
	if !strings.Contains(text(t, ctx, "main"), "is scheduled for") {
		t.Errorf("no confirmation message:\n%s", text(t, ctx, "main"))
	}
	if after, _ := balance(); after != before {
		t.Errorf("a scheduled payment changed the balance: %d -> %d", before, after)
	}

	// The job, for tomorrow, from the CLI: a second process on the same database.
	var stdout bytes.Buffer
	jobArgs := append([]string{"cardportal", "payments", "run", "-date", tomorrow}, args...)
	if err := run(context.Background(), jobArgs, func(string) string { return "" }, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("payments run: %v", err)
	}
	if !strings.Contains(stdout.String(), "1 posted") {
		t.Errorf("payments run said %q", stdout.String())
	}

	run1(t, ctx, "payment posted", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#payment-status")))
	if s := text(t, ctx, "#payment-status"); s != "Received" {
		t.Errorf("status after the job: %q", s)
	}
	after, _ := balance()
	if after != before-100 {
		t.Fatalf("balance %d after paying 1.00 from %d", after, before)
	}
	run1(t, ctx, "list", chromedp.Navigate(in.url+"/payments"), chromedp.WaitVisible(chromedp.CSS("#payments")))
	if s := text(t, ctx, "#payments"); !strings.Contains(s, confirmation) || !strings.Contains(s, "Received") {
		t.Errorf("payment list: %q", s)
	}
	run1(t, ctx, "dashboard", chromedp.Navigate(in.url+"/account"), chromedp.WaitVisible(chromedp.CSS("main")))
	if dash, want := text(t, ctx, "main"), locale.EnglishUS.Money(after, cur); !strings.Contains(dash, want) {
		t.Errorf("dashboard lacks the new balance %s:\n%s", want, dash)
	}
	if strings.Contains(in.log.String(), "123456789") {
		t.Errorf("the bank account number reached the logs")
	}
}
