package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserServicing is personal details, alerts and disputes in a real browser
// (SPEC AC11-AC13, ID8): change the billing address, recover the User ID with the
// email address, name and new postcode, choose alerts, and report a purchase as
// suspicious, then freeze the card from the report.
func TestBrowserServicing(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	c := in.cards[0]
	if c.postcode == "" {
		t.Fatal("the banner prints no billing postcode")
	}
	const userID = "browser.details"
	registerInBrowser(t, ctx, in, c, userID)

	run1(t, ctx, "personal details",
		chromedp.Navigate(in.url+"/details"),
		chromedp.WaitVisible(chromedp.CSS("#billing-address")),
	)
	if s := text(t, ctx, "#billing-address"); !strings.Contains(s, c.postcode) {
		t.Errorf("the demo address %q lacks the printed postcode %q", s, c.postcode)
	}
	email := eval[string](t, ctx, `document.querySelector('#contact-heading').parentElement.querySelector('dd').textContent`)
	run1(t, ctx, "change the address",
		chromedp.Click(chromedp.CSS("#change-address")),
		chromedp.WaitVisible(chromedp.CSS("#line1")),
		chromedp.SetValue(chromedp.CSS("#line1"), "Storgatan 9"),
		chromedp.Clear(chromedp.CSS("#line2")),
		chromedp.SetValue(chromedp.CSS("#city"), "Uppsala"),
		chromedp.Clear(chromedp.CSS("#region")),
		chromedp.SetValue(chromedp.CSS("#postcode"), "75320"),
		chromedp.SetValue(chromedp.CSS("#country"), "SE"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#line1")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	)
	if s := text(t, ctx, "#billing-address"); !strings.Contains(s, "Storgatan 9") || !strings.Contains(s, "753 20 Uppsala") {
		t.Errorf("address after the change: %q", s)
	}

	other := browser(t)
	run1(t, other, "forgot user id by email",
		chromedp.Navigate(in.url+"/forgot/userid"),
		chromedp.WaitVisible(chromedp.CSS("#forgot-userid-email")),
		chromedp.Click(chromedp.CSS("#forgot-userid-email")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#name"), strings.ToLower(c.name)),
		chromedp.SendKeys(chromedp.CSS("#postcode"), "753 20"),
		chromedp.Submit(chromedp.CSS("#email")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	)
	if body := text(t, other, "main"); strings.Contains(body, userID) {
		t.Fatalf("the User ID is on screen:\n%s", body)
	}
	if !strings.Contains(outboxPage(t, in), userID) {
		t.Fatal("the User ID email is not in the outbox")
	}

	run1(t, ctx, "alerts",
		chromedp.Navigate(in.url+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS("#purchase_over-sms")),
		chromedp.Click(chromedp.CSS("#purchase_over-sms")),
		chromedp.SetValue(chromedp.CSS(`[id="purchase_over.amount"]`), "75.00"),
		chromedp.Click(chromedp.CSS("#alerts-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
	)
	if on := eval[bool](t, ctx, `document.querySelector('#purchase_over-sms').checked`); !on {
		t.Error("the SMS alert did not stay on")
	}

	run1(t, ctx, "transactions", chromedp.Navigate(in.url+"/transactions"), chromedp.WaitVisible(chromedp.CSS("tr.tx")))
	href := eval[string](t, ctx, `(document.querySelector('tr.tx:not(.pending) a[href$="/dispute"]') || {href: ""}).href`)
	if href == "" {
		t.Fatal("no posted purchase links to a dispute page")
	}
	run1(t, ctx, "report suspicious activity",
		chromedp.Navigate(href),
		chromedp.WaitVisible(chromedp.CSS("#reason")),
		chromedp.SetValue(chromedp.CSS("#reason"), "unrecognised"),
		chromedp.SendKeys(chromedp.CSS("#detail"), "I was at home"),
		chromedp.Click(chromedp.CSS("#dispute-submit")),
		chromedp.WaitVisible(chromedp.CSS(".dispute-status")),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "Open") || !strings.Contains(s, "suspicious activity") || !strings.Contains(s, "credited provisionally") {
		t.Errorf("dispute page:\n%s", s)
	}
	run1(t, ctx, "freeze from the report",
		chromedp.Click(chromedp.CSS(".freeze-link")),
		chromedp.WaitVisible(chromedp.CSS("#freeze")),
		chromedp.Click(chromedp.CSS("#freeze")),
		chromedp.WaitVisible(chromedp.CSS("#unfreeze")),
	)
	run1(t, ctx, "disputes list", chromedp.Navigate(in.url+"/disputes"), chromedp.WaitVisible(chromedp.CSS(".dispute")))
	if s := text(t, ctx, "main"); !strings.Contains(s, "don't recognise") {
		t.Errorf("disputes list:\n%s", s)
	}
}
