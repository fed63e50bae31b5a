package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
)

// rewardsEnv is the env with a programme for the fixture's gold product and a
// purchase that earns 9,000 points on Alice's account.
type rewardsEnv struct{ *env }

func newRewardsEnv(t *testing.T) *rewardsEnv {
	e := newEnv(t)
	re := &rewardsEnv{env: e}
	ctx := context.Background()
	err := e.store.LoadRewards(ctx, rewards.Programme{
		Rates: []rewards.ProgrammeRate{{ProductCode: "gold", PointsPer: 1}, {ProductCode: "gold", MCC: "5411", PointsPer: 3}},
		Items: []rewards.ProgrammeItem{
			{Code: "credit", Kind: rewards.StatementCredit, Points: 2500, Step: 500, Value: 100, Currency: "USD"},
			{Code: "travel_flight_100", Kind: rewards.Travel, Points: 100_000},
		},
		Offers: []offers.Offer{{Code: "grocers", MCC: "5411", MinSpend: 5000, Credit: 1000, Currency: "USD",
			StartsOn: start.AddDate(0, 0, -10), EndsOn: start.AddDate(0, 1, 0)}},
		Benefits: []offers.Benefit{{ProductCode: "gold", TextID: "benefit.lounge"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Post(ctx, account.Entry{AccountID: 1, CardID: e.alice.cardID, Kind: account.Purchase, Amount: 300_000,
		Currency: "USD", Description: "Cedar Street Grocers", Merchant: "Cedar Street Grocers", MCC: "5411",
		PostedAt: start.Add(-time.Hour), IdempotencyKey: "api-rewards-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := re.rewards.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	return re
}

type pointsResponse struct {
	AccountID   int64            `json:"account_id"`
	Balance     int64            `json:"points_balance"`
	CanRedeem   bool             `json:"can_redeem"`
	History     []map[string]any `json:"history"`
	Redemptions []redemptionJSON `json:"redemptions"`
}

func TestRewardsAPI(t *testing.T) {
	e := newRewardsEnv(t)
	alice := e.register(e.alice, "alice.rewards", "Alice-Passw0rd!").Token
	bob := e.register(e.bob, "bob.rewards", "Bob-Passw0rd!!").Token
	carol := e.register(e.carol, "carol.rewards", "Carol-Passw0rd!").Token
	// The fixture's purchases of 123.45 and 67.89 at the base rate and 3,000.00 at 3x.
	const earned = 123 + 67 + 9000

	balance := func(tok string, acct int64) pointsResponse {
		t.Helper()
		res := e.do(req{method: "GET", path: "/api/v1/accounts/" + strconv.FormatInt(acct, 10) + "/rewards", token: tok})
		if res.status != http.StatusOK {
			t.Fatalf("GET rewards: %d %s", res.status, res.body)
		}
		var p pointsResponse
		res.decode(t, &p)
		return p
	}
	if p := balance(alice, 1); p.Balance != earned || !p.CanRedeem || len(p.History) != 3 {
		t.Errorf("alice's points %+v; want %d, may redeem, 3 entries", p, earned)
	}
	if p := balance(bob, 1); p.Balance != earned || p.CanRedeem {
		t.Errorf("bob's view %+v; want the account's %d, may not redeem", p, earned)
	}

	res := e.do(req{method: "GET", path: "/api/v1/rewards/catalogue", token: alice})
	var cat struct {
		Items []catalogueItemJSON `json:"items"`
	}
	res.decode(t, &cat)
	if res.status != http.StatusOK || len(cat.Items) != 2 || cat.Items[0].Code != "credit" || cat.Items[0].Name != "Statement credit" {
		t.Fatalf("catalogue: %d %s", res.status, res.body)
	}
	credit, travel := cat.Items[0].ID, cat.Items[1].ID

	redeem := func(tok string, acct int64, key string, body any) response {
		return e.do(req{method: "POST", path: "/api/v1/accounts/" + strconv.FormatInt(acct, 10) + "/rewards/redemptions", token: tok,
			body: body, header: http.Header{"Idempotency-Key": {key}}})
	}
	res = redeem(alice, 1, "r-1", map[string]any{"item_id": credit, "points": 3000})
	var r redemptionJSON
	res.decode(t, &r)
	if res.status != http.StatusCreated || r.Points != 3000 || r.Credit != 3000 || r.PostingID == nil {
		t.Fatalf("redeem: %d %s", res.status, res.body)
	}
	again := redeem(alice, 1, "r-1", map[string]any{"item_id": credit, "points": 3000})
	var r2 redemptionJSON
	again.decode(t, &r2)
	if again.status != http.StatusCreated || r2.ID != r.ID {
		t.Errorf("retry: %d %s; want the first redemption %d", again.status, again.body, r.ID)
	}
	if p := balance(alice, 1); p.Balance != earned-3000 || len(p.Redemptions) != 1 {
		t.Errorf("after redeeming: %+v; want %d and one redemption", p, earned-3000)
	}
	// The credit is in the account's transactions.
	res = e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions?limit=100", token: alice})
	var page transactionsResponse
	res.decode(t, &page)
	found := false
	for _, tx := range page.Transactions {
		if tx.ID == *r.PostingID && tx.Kind == "credit" && tx.Amount == -3000 {
			found = true
		}
	}
	if !found {
		t.Errorf("credit posting %d not among the transactions: %s", *r.PostingID, res.body)
	}
	// The account list carries the same balance as the rewards endpoint.
	res = e.do(req{method: "GET", path: "/api/v1/accounts", token: alice})
	var accts struct {
		Accounts []accountJSON `json:"accounts"`
	}
	res.decode(t, &accts)
	if len(accts.Accounts) != 1 || accts.Accounts[0].PointsBalance == nil || *accts.Accounts[0].PointsBalance != earned-3000 {
		t.Errorf("accounts: %s; want points_balance %d", res.body, earned-3000)
	}

	e.wantError(redeem(alice, 1, "r-2", map[string]any{"item_id": travel}), http.StatusConflict, "conflict", "rewards.error.insufficient")
	e.wantError(redeem(alice, 1, "r-1", map[string]any{"item_id": credit, "points": 2500}), http.StatusConflict, "conflict", "rewards.error.keyreused")
	e.wantError(redeem(alice, 1, "r-3", map[string]any{"item_id": credit, "points": 2600}), http.StatusUnprocessableEntity, "invalid", "")
	e.wantError(redeem(alice, 1, "", map[string]any{"item_id": credit}), http.StatusUnprocessableEntity, "invalid", "")
	e.wantError(redeem(bob, 1, "r-4", map[string]any{"item_id": credit}), http.StatusForbidden, "forbidden", "rewards.error.basiconly")
	e.wantError(redeem(alice, 1, "r-5", map[string]any{"item_id": 4242}), http.StatusNotFound, "not_found", "")

	res = e.do(req{method: "GET", path: "/api/v1/accounts/1/rewards/redemptions/" + strconv.FormatInt(r.ID, 10), token: alice})
	if res.status != http.StatusOK {
		t.Errorf("GET redemption: %d %s", res.status, res.body)
	}

	// Offers and benefits.
	res = e.do(req{method: "GET", path: "/api/v1/accounts/1/offers", token: alice})
	var ol struct {
		Offers []offerJSON `json:"offers"`
	}
	res.decode(t, &ol)
	if res.status != http.StatusOK || len(ol.Offers) != 1 || ol.Offers[0].Title != "Spend $50.00 or more at grocery stores, get $10.00 back" {
		t.Fatalf("offers: %d %s", res.status, res.body)
	}
	offer := ol.Offers[0].ID
	enrol := func(tok string, acct, offer, card int64) response {
		return e.do(req{method: "POST", path: "/api/v1/accounts/" + strconv.FormatInt(acct, 10) + "/offers/" + strconv.FormatInt(offer, 10) + "/enrol",
			token: tok, body: map[string]any{"card_id": card}})
	}
	if res := enrol(alice, 1, offer, e.alice.cardID); res.status != http.StatusOK {
		t.Fatalf("enrol: %d %s", res.status, res.body)
	}
	e.wantError(enrol(bob, 1, offer, e.alice.cardID), http.StatusNotFound, "not_found", "")
	e.wantError(enrol(alice, 1, 4242, e.alice.cardID), http.StatusNotFound, "not_found", "")
	if _, err := e.store.Post(context.Background(), account.Entry{AccountID: 1, CardID: e.alice.cardID, Kind: account.Purchase, Amount: 6_000,
		Currency: "USD", Description: "Harvest Moon Market", Merchant: "Harvest Moon Market", MCC: "5411",
		PostedAt: start.Add(time.Minute), IdempotencyKey: "api-offer-1"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	if n, err := e.offers.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("offer sweep = %d, %v; want 1 credit", n, err)
	}
	res = e.do(req{method: "GET", path: "/api/v1/accounts/1/offers", token: alice})
	res.decode(t, &ol)
	if len(ol.Offers[0].Enrolments) != 1 || !ol.Offers[0].Enrolments[0].Credited {
		t.Errorf("after the sweep: %s; want the enrolment credited", res.body)
	}
	res = e.do(req{method: "GET", path: "/api/v1/accounts/1/benefits", token: bob, header: http.Header{"Accept-Language": {"sv"}}})
	if res.status != http.StatusOK || !jsonHas(res, "Tillgång till flygplatslounger") {
		t.Errorf("benefits: %d %s", res.status, res.body)
	}

	// Another member's account, redemption or offer is not found on every endpoint.
	rid := strconv.FormatInt(r.ID, 10)
	for _, rq := range []req{
		{method: "GET", path: "/api/v1/accounts/1/rewards", token: carol},
		{method: "GET", path: "/api/v1/accounts/1/rewards/redemptions/" + rid, token: carol},
		{method: "GET", path: "/api/v1/accounts/2/rewards/redemptions/" + rid, token: carol},
		{method: "POST", path: "/api/v1/accounts/1/rewards/redemptions", token: carol, body: map[string]any{"item_id": credit}, header: http.Header{"Idempotency-Key": {"c-1"}}},
		{method: "GET", path: "/api/v1/accounts/1/offers", token: carol},
		{method: "POST", path: "/api/v1/accounts/1/offers/" + strconv.FormatInt(offer, 10) + "/enrol", token: carol, body: map[string]any{"card_id": e.alice.cardID}},
		{method: "POST", path: "/api/v1/accounts/2/offers/" + strconv.FormatInt(offer, 10) + "/enrol", token: carol, body: map[string]any{"card_id": e.alice.cardID}},
		{method: "GET", path: "/api/v1/accounts/1/benefits", token: carol},
		{method: "GET", path: "/api/v1/accounts/x/benefits", token: carol},
	} {
		e.wantError(e.do(rq), http.StatusNotFound, "not_found", "")
	}
	if p := balance(carol, 2); p.Balance != 0 || len(p.Redemptions) != 0 {
		t.Errorf("carol's own points %+v, want none", p)
	}
	if p := balance(alice, 1); p.Balance != earned-3000 {
		t.Errorf("refused requests changed alice's balance to %d", p.Balance)
	}
}

func jsonHas(res response, s string) bool { return strings.Contains(string(res.body), s) }
