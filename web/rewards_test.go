package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
)

// loadRewards gives the fixture's gold product a programme and Jo a purchase that
// earns 3,000 points (1,000.00 at grocers, 3x), on top of the 1,234 points of the
// fixture's 1,234.56 of groceries at the base rate.
func (e *env) loadRewards() {
	e.t.Helper()
	ctx := context.Background()
	err := e.store.LoadRewards(ctx, rewards.Programme{
		Rates: []rewards.ProgrammeRate{{ProductCode: "gold", PointsPer: 1}, {ProductCode: "gold", MCC: "5411", PointsPer: 3}},
		Items: []rewards.ProgrammeItem{
			{Code: "credit", Kind: rewards.StatementCredit, Points: 2500, Step: 500, Value: 100, Currency: "USD"},
			{Code: "travel_hotel_night", Kind: rewards.Travel, Points: 16_000},
		},
		Offers: []offers.Offer{{Code: "coffee", Merchant: "Blue Harbor Coffee", MinSpend: 1000, Credit: 300, Currency: "USD",
			StartsOn: start.AddDate(0, 0, -1), EndsOn: start.AddDate(0, 1, 0)}},
		Benefits: []offers.Benefit{{ProductCode: "gold", TextID: "benefit.dining"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Post(ctx, account.Entry{AccountID: 1, CardID: 1, Kind: account.Purchase, Amount: 100_000, Currency: "USD",
		Description: "Cedar Street Grocers", Merchant: "Cedar Street Grocers", MCC: "5411", PostedAt: start.Add(-time.Hour),
		IdempotencyKey: "web-rewards-1"}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := rewards.New(e.store, e.clock.Now, nil).Sweep(ctx); err != nil {
		e.t.Fatal(err)
	}
}

var hiddenKey = regexp.MustCompile(`name="idempotency_key" value="([0-9a-f]+-[0-9]+)"`)

func TestRewardsPages(t *testing.T) {
	e := newEnv(t)
	e.loadRewards()
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)

	wantContains(t, "dashboard", jo.get("/account").body, "Points balance", "4,234 points", `href="/accounts/1/rewards"`)
	wantRedirect(t, "rewards home", jo.get("/rewards"), "/accounts/1/rewards")
	page := jo.get("/accounts/1/rewards")
	wantStatus(t, "rewards page", page, http.StatusOK)
	wantContains(t, "rewards page", page.body, `id="points-balance">4,234 points`, "Statement credit", "From 2,500 points, in steps of 500",
		"2,500 points = $25.00", "One night at Harbor View Hotel", "Earned: Cedar Street Grocers", "&#43;3,000")
	m := hiddenKey.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no idempotency key in the redeem form: %s", page.body)
	}

	// A redemption the balance does not cover is refused on the page.
	res := jo.post("/accounts/1/rewards/redeem", url.Values{"item": {"2"}, "idempotency_key": {"k-hotel"}})
	wantStatus(t, "hotel night", res, http.StatusConflict)
	wantContains(t, "hotel night", res.body, "You don&#39;t have enough points")
	res = jo.post("/accounts/1/rewards/redeem", url.Values{"item": {"1"}, "points": {"2600"}, "idempotency_key": {"k-step"}})
	wantStatus(t, "off the step", res, http.StatusUnprocessableEntity)
	wantContains(t, "off the step", res.body, "in the steps shown")

	form := url.Values{"item": {"1"}, "points": {"3,000"}, "idempotency_key": {m[1]}}
	res = jo.post("/accounts/1/rewards/redeem", form)
	if res.status != http.StatusSeeOther {
		t.Fatalf("redeem: %d %s", res.status, res.body)
	}
	done := res.location()
	// The same form sent again (a double click) redeems nothing more.
	wantRedirect(t, "resubmitted", jo.post("/accounts/1/rewards/redeem", form), done)
	page = jo.get(done)
	wantContains(t, "after redeeming", page.body, "You redeemed 3,000 points for Statement credit.", `id="points-balance">1,234 points`, "$30.00")
	wantContains(t, "transactions", jo.get("/accounts/1/transactions").body, "Rewards: 3,000 points redeemed")
	wantContains(t, "dashboard after", jo.get("/account").body, "1,234 points")

	// Offers and benefits.
	page = jo.get("/accounts/1/offers")
	wantStatus(t, "offers", page, http.StatusOK)
	wantContains(t, "offers", page.body, "Triple points at restaurants and cafés", "Spend $10.00 or more at Blue Harbor Coffee, get $3.00 back", `name="card"`)
	wantRedirect(t, "enrol", jo.post("/accounts/1/offers/1/enrol", url.Values{"card": {"1"}}), "/accounts/1/offers?done=enrolled")
	wantContains(t, "enrolled", jo.get("/accounts/1/offers?done=enrolled").body, "The offer is on your card.", "Added to: •••• "+e.basic.last)

	// Sam, the additional member, sees the account's points but may not redeem them, nor
	// add an offer to Jo's card. Other accounts, offers and cards are not found.
	sam := e.browser(chromeUA)
	f := cardForm(e.extra)
	f.Set("additional", "1")
	f.Set("basic_birth_date", e.basic.birth)
	wantRedirect(t, "Sam: verify card", sam.post("/register", f), "/register/credentials")
	wantRedirect(t, "Sam: credentials", sam.post("/register/credentials", credentialsForm("sam.doe2026", password)), "/contact?m=welcome")
	page = sam.get("/accounts/1/rewards")
	wantContains(t, "Sam's rewards", page.body, "1,234 points", "Only the basic card member can redeem")
	wantLacks(t, "Sam's rewards", page.body, `action="/accounts/1/rewards/redeem"`)
	res = sam.post("/accounts/1/rewards/redeem", url.Values{"item": {"1"}, "idempotency_key": {"k-sam"}})
	wantStatus(t, "Sam redeems", res, http.StatusForbidden)
	for _, r := range []struct{ method, path string }{
		{"GET", "/accounts/2/rewards"}, {"POST", "/accounts/2/rewards/redeem"}, {"GET", "/accounts/2/offers"},
		{"POST", "/accounts/2/offers/1/enrol"}, {"POST", "/accounts/1/offers/1/enrol"}, {"POST", "/accounts/1/offers/99/enrol"},
		{"GET", "/accounts/x/rewards"},
	} {
		var res response
		if r.method == "GET" {
			res = sam.get(r.path)
		} else {
			res = sam.post(r.path, url.Values{"card": {"1"}, "item": {"1"}, "idempotency_key": {"k-sam-2"}})
		}
		wantStatus(t, "Sam: "+r.method+" "+r.path, res, http.StatusNotFound)
	}
}
