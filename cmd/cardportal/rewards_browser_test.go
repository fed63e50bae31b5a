package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// pointsIn reads the number out of "12,345 points".
func pointsIn(t *testing.T, s string) int {
	t.Helper()
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	n, err := strconv.Atoi(digits)
	if err != nil {
		t.Fatalf("no points in %q", s)
	}
	return n
}

// TestBrowserRewards redeems points for a statement credit in a real browser (SPEC
// AC5): the demo's year of history has earned points, the redemption takes them off
// the balance on the rewards page and the dashboard, and the credit is in the
// transaction list.
func TestBrowserRewards(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	registerInBrowser(t, ctx, in, in.cards[0], "browser.rewards")
	run1(t, ctx, "dashboard", chromedp.WaitVisible(chromedp.CSS("#dashboard-points")))
	onDashboard := pointsIn(t, text(t, ctx, "#dashboard-points dd"))
	run1(t, ctx, "rewards page", chromedp.Click(chromedp.CSS("a.rewards-link")), chromedp.WaitVisible(chromedp.CSS("#points-balance")))
	before := pointsIn(t, text(t, ctx, "#points-balance"))
	if before != onDashboard || before < 2500 {
		t.Fatalf("points: %d on the rewards page, %d on the dashboard; want the same, at least the 2,500 a credit needs", before, onDashboard)
	}
	if s := text(t, ctx, "#points-history"); !strings.Contains(s, "Earned") {
		t.Errorf("points history without earnings:\n%s", s)
	}
	// The statement credit comes first in the catalogue; its form defaults to the minimum.
	run1(t, ctx, "redeem",
		chromedp.SetValue(chromedp.CSS(`.catalogue-item input[name="points"]`), "3000"),
		chromedp.Click(chromedp.CSS(`.catalogue-item button[id^="redeem-"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice-success")),
	)
	if s := text(t, ctx, ".notice-success"); !strings.Contains(s, "3,000 points") || !strings.Contains(s, "Statement credit") {
		t.Errorf("confirmation: %q", s)
	}
	if after := pointsIn(t, text(t, ctx, "#points-balance")); after != before-3000 {
		t.Errorf("balance after redeeming 3,000: %d, want %d", after, before-3000)
	}
	if s := text(t, ctx, "#redemptions"); !strings.Contains(s, "$30.00") {
		t.Errorf("redemptions list:\n%s", s)
	}
	run1(t, ctx, "transactions", chromedp.Click(chromedp.CSS(`a[href="/transactions"]`)), chromedp.WaitVisible(chromedp.CSS("main table")))
	if s := text(t, ctx, "main table"); !strings.Contains(s, "Rewards: 3,000 points redeemed") || !strings.Contains(s, "30.00") {
		t.Errorf("the credit is not in the transactions:\n%s", s)
	}
	run1(t, ctx, "dashboard again", chromedp.Click(chromedp.CSS(`a[href="/account"]`)), chromedp.WaitVisible(chromedp.CSS("#dashboard-points")))
	if got := pointsIn(t, text(t, ctx, "#dashboard-points dd")); got != before-3000 {
		t.Errorf("dashboard points after redeeming: %d, want %d", got, before-3000)
	}
}
