package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/disputes"
)

func TestPersonalDetailsAPI(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.details", "Alice-Passw0rd!").Token

	res := e.do(req{method: http.MethodGet, path: "/api/v1/details", token: alice})
	if res.status != http.StatusOK {
		t.Fatalf("GET details: %d %s", res.status, res.body)
	}
	var d detailsJSON
	res.decode(t, &d)
	if d.Name != "Alice Example" || d.Address != nil || d.AddressUpdatedAt != nil || d.Email != "alice@example.com" {
		t.Errorf("details before any address = %+v", d)
	}

	body := map[string]string{"password": "Alice-Passw0rd!", "line1": "12 Pine St", "city": "Seattle", "region": "wa", "postcode": "98101-1234", "country": "US"}
	// A malformed postcode is named, per field, in the caller's language.
	bad := map[string]string{"password": "Alice-Passw0rd!", "line1": "Storgatan 1", "city": "Uppsala", "postcode": "0123", "country": "SE"}
	res = e.do(req{method: http.MethodPut, path: "/api/v1/details/address", token: alice, body: bad, header: http.Header{"Accept-Language": {"sv"}}})
	e.wantError(res, http.StatusUnprocessableEntity, "invalid", "")
	if !strings.Contains(string(res.body), "details.postcode.se") || !strings.Contains(string(res.body), "postnummer") {
		t.Errorf("postcode problem not explained: %s", res.body)
	}
	wrong := map[string]string{}
	for k, v := range body {
		wrong[k] = v
	}
	wrong["password"] = "not-my-password"
	res = e.do(req{method: http.MethodPut, path: "/api/v1/details/address", token: alice, body: wrong})
	e.wantError(res, http.StatusUnprocessableEntity, "invalid", "")
	if !strings.Contains(string(res.body), `"password"`) {
		t.Errorf("wrong password not reported on the password field: %s", res.body)
	}
	res = e.do(req{method: http.MethodPut, path: "/api/v1/details/address", token: alice, body: body})
	if res.status != http.StatusOK {
		t.Fatalf("PUT address: %d %s", res.status, res.body)
	}
	var a addressJSON
	res.decode(t, &a)
	if a != (addressJSON{Line1: "12 Pine St", City: "Seattle", Region: "WA", Postcode: "98101-1234", Country: "US"}) {
		t.Errorf("stored address = %+v", a)
	}
	res = e.do(req{method: http.MethodGet, path: "/api/v1/details", token: alice})
	res.decode(t, &d)
	if d.Address == nil || d.Address.City != "Seattle" || d.AddressUpdatedAt == nil {
		t.Errorf("details after the change = %+v", d)
	}
	// The notice went to the contacts and does not hold the address.
	msgs, err := e.store.ListOutbox(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	notices := 0
	for _, m := range msgs {
		if m.Kind == "details.address" {
			notices++
			if strings.Contains(m.Body, "Pine") {
				t.Errorf("notice names the address: %q", m.Body)
			}
		}
	}
	if notices != 2 {
		t.Errorf("%d address notices, want 2 (email and SMS)", notices)
	}
	res = e.do(req{method: http.MethodGet, path: "/api/v1/details"})
	e.wantError(res, http.StatusUnauthorized, "unauthenticated", "")

	// Forgot User ID by email, name and postcode: the same answer for a match and a
	// miss; only the match sends the User ID.
	before := len(msgs)
	for _, tt := range []struct {
		name, postcode string
	}{{"alice example", "98101"}, {"Alice Example", "98102"}} {
		res = e.do(req{method: http.MethodPost, path: "/api/v1/recovery/user-id/email", body: map[string]string{
			"email": "ALICE@example.com", "name": tt.name, "postcode": tt.postcode}})
		if res.status != http.StatusAccepted {
			t.Fatalf("forgot by email: %d %s", res.status, res.body)
		}
		if !strings.Contains(string(res.body), "If the details match") {
			t.Errorf("answer %s", res.body)
		}
	}
	if strings.Contains(string(res.body), "alice.details") {
		t.Errorf("the User ID is on screen")
	}
	msgs, _ = e.store.ListOutbox(context.Background(), 30)
	if len(msgs)-before != 1 || msgs[0].Kind != "userid.byemail" || !strings.Contains(msgs[0].Body, "alice.details") {
		t.Errorf("%d new messages, newest %+v; want the one reminder", len(msgs)-before, msgs[0])
	}
	res = e.do(req{method: http.MethodPost, path: "/api/v1/recovery/user-id/email", body: map[string]string{"email": "x", "name": "", "postcode": ""}})
	e.wantError(res, http.StatusUnprocessableEntity, "invalid", "")
}

func TestAlertPrefsAPI(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.alerts", "Alice-Passw0rd!").Token
	res := e.do(req{method: http.MethodGet, path: "/api/v1/alerts", token: alice})
	if res.status != http.StatusOK {
		t.Fatalf("GET alerts: %d %s", res.status, res.body)
	}
	var p alertPrefsJSON
	res.decode(t, &p)
	if len(p.Alerts) != 6 || !p.Alerts["payment_due"].Email || *p.Alerts["payment_due"].Days != 5 || p.Security != "always_on" {
		t.Errorf("defaults = %+v", p)
	}
	res = e.do(req{method: http.MethodPut, path: "/api/v1/alerts", token: alice, body: map[string]any{"alerts": map[string]any{
		"purchase_over": map[string]any{"email": false, "sms": true, "push": true, "amount": 2500},
		"payment_due":   map[string]any{"email": true, "sms": true, "push": false},
	}}})
	if res.status != http.StatusOK {
		t.Fatalf("PUT alerts: %d %s", res.status, res.body)
	}
	res.decode(t, &p)
	if po := p.Alerts["purchase_over"]; po.Email || !po.SMS || !po.Push || *po.Amount != 2500 {
		t.Errorf("purchase_over = %+v", po)
	}
	if pd := p.Alerts["payment_due"]; !pd.SMS || *pd.Days != 5 {
		t.Errorf("payment_due kept its days? %+v", pd)
	}
	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"security", map[string]any{"security": map[string]any{"email": false, "sms": false, "push": false}}},
		{"days out of range", map[string]any{"payment_due": map[string]any{"email": true, "sms": false, "push": false, "days": 45}}},
		{"negative amount", map[string]any{"balance_over": map[string]any{"email": true, "sms": false, "push": false, "amount": -5}}},
	} {
		res = e.do(req{method: http.MethodPut, path: "/api/v1/alerts", token: alice, body: map[string]any{"alerts": tt.body}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", tt.name, res.status, res.body)
		}
	}
	// Another member's preferences are their own.
	carol := e.register(e.carol, "carol.alerts", "Carol-Passw0rd!").Token
	res = e.do(req{method: http.MethodGet, path: "/api/v1/alerts", token: carol})
	res.decode(t, &p)
	if p.Alerts["purchase_over"].SMS {
		t.Errorf("carol sees alice's preferences")
	}
}

func TestDisputesAPI(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.disputes", "Alice-Passw0rd!").Token
	bob := e.register(e.bob, "bob.disputes", "Bob-Passw0rd!!").Token
	carol := e.register(e.carol, "carol.disputes", "Carol-Passw0rd!").Token

	res := e.do(req{method: http.MethodGet, path: "/api/v1/transactions/1/disputes", token: alice})
	if res.status != http.StatusOK {
		t.Fatalf("GET transaction disputes: %d %s", res.status, res.body)
	}
	var td transactionDisputesJSON
	res.decode(t, &td)
	if td.Transaction.ID != 1 || !td.Disputable || len(td.Disputes) != 0 {
		t.Errorf("before = %+v", td)
	}
	res = e.do(req{method: http.MethodPost, path: "/api/v1/transactions/1/disputes", token: alice, body: map[string]string{"reason": "unrecognised", "detail": "not me"}})
	if res.status != http.StatusCreated {
		t.Fatalf("open: %d %s", res.status, res.body)
	}
	var d disputeJSON
	res.decode(t, &d)
	if d.Status != "open" || d.Amount != 12345 || !d.ProvisionalCredit || d.Transaction.ID != 1 {
		t.Errorf("opened %+v", d)
	}
	res = e.do(req{method: http.MethodPost, path: "/api/v1/transactions/1/disputes", token: alice, body: map[string]string{"reason": "duplicate"}})
	e.wantError(res, http.StatusConflict, "conflict", "dispute.exists")
	res = e.do(req{method: http.MethodPost, path: "/api/v1/transactions/3/disputes", token: alice, body: map[string]string{"reason": "duplicate"}})
	e.wantError(res, http.StatusUnprocessableEntity, "invalid", "dispute.error.kind")
	res = e.do(req{method: http.MethodPost, path: "/api/v1/transactions/2/disputes", token: alice, body: map[string]string{"reason": "sideways"}})
	e.wantError(res, http.StatusUnprocessableEntity, "invalid", "")

	res = e.do(req{method: http.MethodGet, path: "/api/v1/disputes", token: alice})
	var list disputeListJSON
	res.decode(t, &list)
	if len(list.Disputes) != 1 || list.Disputes[0].ID != d.ID {
		t.Errorf("list = %+v", list)
	}
	res = e.do(req{method: http.MethodGet, path: "/api/v1/disputes/" + strconv.FormatInt(d.ID, 10), token: alice})
	if res.status != http.StatusOK {
		t.Errorf("GET dispute: %d %s", res.status, res.body)
	}
	// Resolved for the merchant by the issuer: the app sees the reversal.
	if _, err := disputes.New(e.store, e.store, e.store, e.ident, nil, e.clock.Now, nil).Resolve(context.Background(), d.ID, disputes.ResolveMerchant); err != nil {
		t.Fatal(err)
	}
	res = e.do(req{method: http.MethodGet, path: "/api/v1/disputes/" + strconv.FormatInt(d.ID, 10), token: alice})
	res.decode(t, &d)
	if d.Status != "resolved_merchant" || !d.CreditReversed {
		t.Errorf("after resolution %+v", d)
	}

	// Another member's transaction or dispute is not found, on every endpoint; so is
	// the account-level purchase for the additional member, who sees own cards only.
	id := strconv.FormatInt(d.ID, 10)
	for _, tok := range []string{carol, bob} {
		for _, r := range []req{
			{method: http.MethodGet, path: "/api/v1/disputes/" + id},
			{method: http.MethodGet, path: "/api/v1/transactions/1/disputes"},
			{method: http.MethodPost, path: "/api/v1/transactions/1/disputes", body: map[string]string{"reason": "duplicate"}},
			{method: http.MethodGet, path: "/api/v1/transactions/999999/disputes"},
			{method: http.MethodGet, path: "/api/v1/disputes/abc"},
		} {
			r.token = tok
			res := e.do(r)
			e.wantError(res, http.StatusNotFound, "not_found", "")
		}
		res = e.do(req{method: http.MethodGet, path: "/api/v1/disputes", token: tok})
		res.decode(t, &list)
		if len(list.Disputes) != 0 {
			t.Errorf("another member lists %+v", list.Disputes)
		}
	}
}
