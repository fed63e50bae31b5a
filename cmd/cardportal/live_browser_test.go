package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLive is issue 5's live screens: with the dashboard open, then the
// transaction list, a purchase the network approves appears as pending without a
// reload.
func TestBrowserLive(t *testing.T) {
	ctx := browser(t)
	in := start(t, map[string]string{"CARDPORTAL_NETWORK_SECRET": testNetworkSecret}, append(fastArgs, "-data-dir", t.TempDir())...)
	c := in.cards[0]
	registerInBrowser(t, ctx, in, c, "browser.live")
	approve := func(id, merchant string) {
		t.Helper()
		msg := map[string]any{"message_id": id, "card_number": c.pan, "expiry": c.exp, "amount": 2718, "currency": "USD",
			"merchant": map[string]string{"name": merchant, "mcc": "5942", "city": "Portland", "country": "US"}, "channel": "in_person"}
		if st, r := sendNetwork(t, in.url, "/network/v1/authorisations", msg); st != 200 || !r.Approved {
			t.Fatalf("%s: %d %+v, want an approval", id, st, r)
		}
	}

	run1(t, ctx, "dashboard stream", chromedp.WaitVisible(chromedp.CSS(`section.account[data-live-state="open"]`)))
	if s := text(t, ctx, "main"); strings.Contains(s, "Live Bookshop") {
		t.Fatalf("the purchase is on the dashboard before it was made")
	}
	approve("live-1", "Live Bookshop")
	run1(t, ctx, "dashboard updated", chromedp.WaitVisible(chromedp.CSS(`section.account[data-live-refreshed]`)))
	if s := text(t, ctx, "section.account"); !strings.Contains(s, "Live Bookshop") || !strings.Contains(s, "$27.18") {
		t.Errorf("dashboard after the approval, without a reload:\n%s", s)
	}

	run1(t, ctx, "transactions", chromedp.Navigate(in.url+"/transactions"),
		chromedp.WaitVisible(chromedp.CSS(`#tx-list[data-live-state="open"]`)))
	approve("live-2", "Live Cinema")
	run1(t, ctx, "list updated", chromedp.WaitVisible(chromedp.CSS(`#tx-list[data-live-refreshed]`)))
	if s := text(t, ctx, "#tx-list"); !strings.Contains(s, "Live Cinema") || !strings.Contains(s, "Pending") {
		t.Errorf("transaction list after the approval, without a reload:\n%s", s)
	}
}
