package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOtherMembersIDs is issue 4's rule for every endpoint that names a resource: a
// member who sends another member's account, card, transaction, statement, payment,
// bank account, dispute, redemption, session or device id gets not-found, exactly as
// for an id that does not exist, and nothing changes. Alice (account 1) makes one of
// each; Carol (account 2) tries them all. Every route with an id must be listed here,
// so a new one cannot be added without this check.
func TestOtherMembersIDs(t *testing.T) {
	e := newRewardsEnv(t)
	signup := e.register(e.alice, "alice.owner", "Alice-Passw0rd!")
	alice := signup.Token
	carol := e.register(e.carol, "carol.other", "Carol-Passw0rd!").Token
	e.closeStatements()
	id := func(v int64) string { return strconv.FormatInt(v, 10) }
	ok := func(r response, what string) response {
		t.Helper()
		if r.status >= 300 {
			t.Fatalf("%s for Alice: %d %s", what, r.status, r.body)
		}
		return r
	}

	// Alice's resources.
	var sts struct {
		Statements []statementJSON `json:"statements"`
	}
	ok(e.do(req{method: "GET", path: "/api/v1/statements", token: alice}), "statements").decode(t, &sts)
	if len(sts.Statements) == 0 || sts.Statements[0].ID == 0 {
		t.Fatalf("Alice has no statement: %+v", sts)
	}
	e.remember("123456789")
	var bank bankOut
	ok(e.do(req{method: "POST", path: "/api/v1/bank-accounts", token: alice,
		body: map[string]string{"nickname": "Checking", "routing_number": "011000015", "account_number": "123456789"}}), "link").decode(t, &bank)
	tomorrow := start.AddDate(0, 0, 1).Format(time.DateOnly)
	var pay paymentOut
	ok(e.do(req{method: "POST", path: "/api/v1/payments", token: alice, header: keyed("owner-pay"),
		body: map[string]any{"bank_account_id": bank.BankAccountID, "amount": 1000, "date": tomorrow}}), "pay").decode(t, &pay)
	var d disputeJSON
	ok(e.do(req{method: "POST", path: "/api/v1/transactions/1/disputes", token: alice, body: map[string]string{"reason": "unrecognised"}}), "dispute").decode(t, &d)
	var cat struct {
		Items []catalogueItemJSON `json:"items"`
	}
	ok(e.do(req{method: "GET", path: "/api/v1/rewards/catalogue", token: alice}), "catalogue").decode(t, &cat)
	var red redemptionJSON
	ok(e.do(req{method: "POST", path: "/api/v1/accounts/1/rewards/redemptions", token: alice, header: keyed("owner-redeem"),
		body: map[string]any{"item_id": cat.Items[0].ID, "points": 3000}}), "redeem").decode(t, &red)
	var offers struct {
		Offers []offerJSON `json:"offers"`
	}
	ok(e.do(req{method: "GET", path: "/api/v1/accounts/1/offers", token: alice}), "offers").decode(t, &offers)
	var devices struct {
		Devices []deviceJSON `json:"devices"`
	}
	e.signIn("alice.owner", "Alice-Passw0rd!", "app") // from the test device, which the list then holds
	ok(e.do(req{method: "GET", path: "/api/v1/devices", token: alice}), "devices").decode(t, &devices)
	if red.ID == 0 || len(offers.Offers) == 0 || len(devices.Devices) == 0 || pay.PaymentID == 0 || d.ID == 0 {
		t.Fatalf("fixture incomplete: redemption %d, offers %d, devices %d, payment %d, dispute %d",
			red.ID, len(offers.Offers), len(devices.Devices), pay.PaymentID, d.ID)
	}

	// What Carol sends to each route, with Alice's ids in the path.
	type try struct {
		path   string
		body   any
		header http.Header
	}
	card := id(e.alice.cardID)
	tries := map[string]try{
		"DELETE /api/v1/sessions/{id}":                      {path: id(signup.Session.ID)},
		"DELETE /api/v1/devices/{id}":                       {path: id(devices.Devices[0].ID)},
		"GET /api/v1/accounts/{id}/transactions":            {path: "1"},
		"GET /api/v1/accounts/{id}/transactions.csv":        {path: "1"},
		"GET /api/v1/statements/{id}":                       {path: id(sts.Statements[0].ID)},
		"GET /api/v1/statements/{id}/statement.pdf":         {path: id(sts.Statements[0].ID)},
		"GET /api/v1/statements/{id}/statement.csv":         {path: id(sts.Statements[0].ID)},
		"POST /api/v1/cards/{id}/freeze":                    {path: card},
		"POST /api/v1/cards/{id}/unfreeze":                  {path: card},
		"POST /api/v1/cards/{id}/report-lost":               {path: card},
		"POST /api/v1/cards/{id}/pin":                       {path: card, body: map[string]string{"birth_date": e.alice.birth, "cid": e.alice.cid, "pin": "5082", "pin_confirm": "5082"}},
		"POST /api/v1/cards/{id}/pin/challenge":             {path: card},
		"POST /api/v1/cards/{id}/pin/send":                  {path: card, body: map[string]string{"flow_token": "carol-has-no-flow", "channel": "email"}},
		"GET /api/v1/disputes/{id}":                         {path: id(d.ID)},
		"GET /api/v1/transactions/{id}/disputes":            {path: "2"},
		"POST /api/v1/transactions/{id}/disputes":           {path: "2", body: map[string]string{"reason": "unrecognised"}},
		"GET /api/v1/payments/{id}":                         {path: id(pay.PaymentID)},
		"POST /api/v1/payments/{id}/change":                 {path: id(pay.PaymentID), body: map[string]any{"bank_account_id": bank.BankAccountID, "amount": 900, "date": tomorrow}},
		"POST /api/v1/payments/{id}/cancel":                 {path: id(pay.PaymentID)},
		"DELETE /api/v1/bank-accounts/{id}":                 {path: id(bank.BankAccountID)},
		"GET /api/v1/accounts/{id}/rewards":                 {path: "1"},
		"POST /api/v1/accounts/{id}/rewards/redemptions":    {path: "1", body: map[string]any{"item_id": cat.Items[0].ID, "points": 3000}, header: keyed("carol-redeem")},
		"GET /api/v1/accounts/{id}/rewards/redemptions/{x}": {path: "1|" + id(red.ID)},
		"GET /api/v1/accounts/{id}/offers":                  {path: "1"},
		"POST /api/v1/accounts/{id}/offers/{x}/enrol":       {path: "1|" + id(offers.Offers[0].ID), body: map[string]any{"card_id": e.alice.cardID}},
		"GET /api/v1/accounts/{id}/benefits":                {path: "1"},
	}
	// Routes whose ids are checked elsewhere, and why.
	elsewhere := map[string]string{
		"POST /api/v1/passkeys/{id}/remove": "a passkey needs an authenticator ceremony; passkey_test.go removes another member's",
	}

	for _, rt := range routes {
		if !rt.auth || !strings.Contains(rt.path, "{") {
			continue
		}
		// One spelling per route: every parameter but the first is {x} here.
		key := rt.method + " " + rt.path
		if i := strings.Index(rt.path, "}/"); i >= 0 && strings.Contains(rt.path[i:], "{") {
			j := strings.LastIndex(rt.path, "{")
			k := strings.Index(rt.path[j:], "}")
			key = rt.method + " " + rt.path[:j] + "{x}" + rt.path[j+k+1:]
		}
		if _, ok := elsewhere[key]; ok {
			continue
		}
		tr, ok := tries[key]
		if !ok {
			t.Errorf("%s names a resource but is not in this test: add it with another member's id", key)
			continue
		}
		ids := strings.Split(tr.path, "|")
		path := strings.Replace(rt.path, "{id}", ids[0], 1)
		if len(ids) > 1 {
			j := strings.LastIndex(path, "{")
			k := strings.Index(path[j:], "}")
			path = path[:j] + ids[1] + path[j+k+1:]
		}
		res := e.do(req{method: rt.method, path: path, token: carol, body: tr.body, header: tr.header})
		if res.status != http.StatusNotFound {
			t.Errorf("Carol: %s %s = %d %s, want 404", rt.method, path, res.status, res.body)
		}
	}

	// Nothing of Alice's changed: her payment is still scheduled, her card active,
	// her dispute open and her session alive.
	var p paymentOut
	ok(e.do(req{method: "GET", path: "/api/v1/payments/" + id(pay.PaymentID), token: alice}), "payment").decode(t, &p)
	if p.Status != "scheduled" || p.Amount != 1000 {
		t.Errorf("Alice's payment after Carol's tries: %+v", p)
	}
	res := ok(e.do(req{method: "GET", path: "/api/v1/accounts", token: alice}), "accounts")
	if !strings.Contains(string(res.body), `"state":"active"`) {
		t.Errorf("Alice's card after Carol's tries: %s", res.body)
	}
}
