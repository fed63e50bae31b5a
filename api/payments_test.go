package api

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

type paymentOut struct {
	PaymentID     int64   `json:"payment_id"`
	Confirmation  string  `json:"confirmation"`
	Amount        int64   `json:"amount"`
	Currency      string  `json:"currency"`
	Date          string  `json:"date"`
	Status        string  `json:"status"`
	Kind          string  `json:"kind"`
	BankAccountID int64   `json:"bank_account_id"`
	BankLast4     string  `json:"bank_account_last4"`
	CreatedAt     string  `json:"created_at"`
	PostedAt      *string `json:"posted_at"`
}

type bankOut struct {
	BankAccountID int64  `json:"bank_account_id"`
	Nickname      string `json:"nickname"`
	RoutingNumber string `json:"routing_number"`
	Last4         string `json:"last4"`
}

func payPath(id int64, action string) string {
	p := "/api/v1/payments/" + strconv.FormatInt(id, 10)
	if action != "" {
		p += "/" + action
	}
	return p
}

func keyed(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }

// balanceOf reads the basic card member's account balance from the store, the same
// derivation /api/v1/accounts shows.
func (e *env) balanceOf(h holder) int64 {
	e.t.Helper()
	sums, err := e.store.Summaries(e.t.Context(), h.cardholderID)
	if err != nil || len(sums) == 0 {
		e.t.Fatalf("Summaries: %v, %v", sums, err)
	}
	return sums[0].Balance
}

// TestPayments links a bank account, pays now and later, changes and cancels, sets
// autopay, and tries every payment endpoint with another member's ids.
func TestPayments(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.pay", "Alice-Passw0rd!").Token
	bob := e.register(e.bob, "bob.pay", "Bob-Passw0rd!!").Token
	carol := e.register(e.carol, "carol.pay", "Carol-Passw0rd!").Token
	e.remember("123456789", "987654321")

	link := func(tok, routing, number string) response {
		return e.do(req{method: "POST", path: "/api/v1/bank-accounts", token: tok,
			body: map[string]string{"nickname": "Checking", "routing_number": routing, "account_number": number}})
	}
	res := link(alice, "011000015", "123456789")
	var bank bankOut
	res.decode(t, &bank)
	if res.status != http.StatusCreated || bank.Last4 != "6789" || bank.RoutingNumber != "011000015" {
		t.Fatalf("link: %d %s", res.status, res.body)
	}
	if res := link(alice, "011000015", "123456789"); res.status != http.StatusOK {
		t.Errorf("second link: %d %s", res.status, res.body)
	}
	e.wantError(link(alice, "011000016", "123456789"), http.StatusUnprocessableEntity, "invalid", "")
	e.wantError(link(bob, "011000015", "987654321"), http.StatusForbidden, "forbidden", "payment.error.basiconly")
	var carolBank bankOut
	link(carol, "021000021", "987654321").decode(t, &carolBank)
	var banks struct {
		BankAccounts []bankOut `json:"bank_accounts"`
	}
	e.do(req{method: "GET", path: "/api/v1/bank-accounts", token: alice}).decode(t, &banks)
	if len(banks.BankAccounts) != 1 || banks.BankAccounts[0].BankAccountID != bank.BankAccountID {
		t.Errorf("bank accounts: %+v", banks)
	}

	before := e.balanceOf(e.alice)
	pay := func(key string, body map[string]any) response {
		return e.do(req{method: "POST", path: "/api/v1/payments", token: alice, header: keyed(key), body: body})
	}
	now := map[string]any{"bank_account_id": bank.BankAccountID, "amount": 2500}
	var paid paymentOut
	res = pay("key-now", now)
	res.decode(t, &paid)
	if res.status != http.StatusCreated || paid.Status != "posted" || paid.PostedAt == nil || paid.Amount != 2500 || paid.BankLast4 != "6789" {
		t.Fatalf("pay now: %d %s", res.status, res.body)
	}
	var again paymentOut
	pay("key-now", now).decode(t, &again)
	if again.PaymentID != paid.PaymentID || again.Confirmation != paid.Confirmation {
		t.Errorf("retry made another payment: %+v", again)
	}
	if got := e.balanceOf(e.alice); got != before-2500 {
		t.Errorf("balance %d, want %d", got, before-2500)
	}
	e.wantError(pay("key-now", map[string]any{"bank_account_id": bank.BankAccountID, "amount": 2600}), http.StatusConflict, "conflict", "payment.error.keyreused")
	e.wantError(e.do(req{method: "POST", path: "/api/v1/payments", token: alice, body: now}), http.StatusUnprocessableEntity, "invalid", "error.invalid")
	e.wantError(pay("key-over", map[string]any{"bank_account_id": bank.BankAccountID, "amount": 99999999}), http.StatusUnprocessableEntity, "invalid", "")
	e.wantError(pay("key-carols-bank", map[string]any{"bank_account_id": carolBank.BankAccountID, "amount": 100}), http.StatusUnprocessableEntity, "invalid", "")

	later := start.AddDate(0, 0, 7).Format(time.DateOnly)
	var sched paymentOut
	res = pay("key-later", map[string]any{"bank_account_id": bank.BankAccountID, "amount": 1000, "date": later})
	res.decode(t, &sched)
	if res.status != http.StatusCreated || sched.Status != "scheduled" || sched.Date != later || sched.PostedAt != nil {
		t.Fatalf("schedule: %d %s", res.status, res.body)
	}

	// Another member's ids are not found on every endpoint; the additional member is
	// refused outright.
	other := []req{
		{method: "GET", path: payPath(sched.PaymentID, "")},
		{method: "POST", path: payPath(sched.PaymentID, "change"), body: map[string]any{"bank_account_id": carolBank.BankAccountID, "amount": 1, "date": later}},
		{method: "POST", path: payPath(sched.PaymentID, "cancel")},
		{method: "DELETE", path: "/api/v1/bank-accounts/" + strconv.FormatInt(bank.BankAccountID, 10)},
	}
	for _, r := range other {
		r.token = carol
		e.wantError(e.do(r), http.StatusNotFound, "not_found", "")
		r.token = bob
		e.wantError(e.do(r), http.StatusForbidden, "forbidden", "payment.error.basiconly")
	}
	e.wantError(e.do(req{method: "GET", path: payPath(999999, ""), token: alice}), http.StatusNotFound, "not_found", "")
	e.wantError(e.do(req{method: "GET", path: "/api/v1/payments/x", token: alice}), http.StatusNotFound, "not_found", "")

	var got paymentOut
	e.do(req{method: "GET", path: payPath(sched.PaymentID, ""), token: alice}).decode(t, &got)
	if got.Confirmation != sched.Confirmation {
		t.Errorf("get: %+v", got)
	}
	later2 := start.AddDate(0, 0, 9).Format(time.DateOnly)
	res = e.do(req{method: "POST", path: payPath(sched.PaymentID, "change"), token: alice,
		body: map[string]any{"bank_account_id": bank.BankAccountID, "amount": 1200, "date": later2}})
	res.decode(t, &got)
	if res.status != http.StatusOK || got.Amount != 1200 || got.Date != later2 {
		t.Errorf("change: %d %s", res.status, res.body)
	}
	e.wantError(e.do(req{method: "POST", path: payPath(sched.PaymentID, "change"), token: alice,
		body: map[string]any{"bank_account_id": bank.BankAccountID, "amount": 1200, "date": "2020-01-01"}}), http.StatusUnprocessableEntity, "invalid", "")

	// Autopay, and the bank account it holds.
	e.wantError(e.do(req{method: "GET", path: "/api/v1/autopay", token: alice}), http.StatusNotFound, "not_found", "")
	res = e.do(req{method: "PUT", path: "/api/v1/autopay", token: alice, body: map[string]any{"rule": "minimum", "bank_account_id": bank.BankAccountID}})
	if res.status != http.StatusOK {
		t.Fatalf("set autopay: %d %s", res.status, res.body)
	}
	e.wantError(e.do(req{method: "PUT", path: "/api/v1/autopay", token: alice, body: map[string]any{"rule": "all", "bank_account_id": bank.BankAccountID}}),
		http.StatusUnprocessableEntity, "invalid", "")
	if res := e.do(req{method: "GET", path: "/api/v1/autopay", token: alice}); res.status != http.StatusOK {
		t.Errorf("get autopay: %d %s", res.status, res.body)
	}
	e.wantError(e.do(req{method: "GET", path: "/api/v1/autopay", token: carol}), http.StatusNotFound, "not_found", "")
	bankPath := "/api/v1/bank-accounts/" + strconv.FormatInt(bank.BankAccountID, 10)
	e.wantError(e.do(req{method: "DELETE", path: bankPath, token: alice}), http.StatusConflict, "conflict", "payment.bank.inuse")
	if res := e.do(req{method: "DELETE", path: "/api/v1/autopay", token: alice}); res.status != http.StatusNoContent {
		t.Errorf("stop autopay: %d %s", res.status, res.body)
	}
	e.wantError(e.do(req{method: "DELETE", path: "/api/v1/autopay", token: alice}), http.StatusNotFound, "not_found", "")

	for range 2 { // cancelling twice is no error
		res = e.do(req{method: "POST", path: payPath(sched.PaymentID, "cancel"), token: alice})
		res.decode(t, &got)
		if res.status != http.StatusOK || got.Status != "cancelled" {
			t.Errorf("cancel: %d %s", res.status, res.body)
		}
	}
	e.wantError(e.do(req{method: "POST", path: payPath(paid.PaymentID, "cancel"), token: alice}), http.StatusConflict, "conflict", "payment.error.started")
	var list struct {
		Payments []paymentOut `json:"payments"`
	}
	e.do(req{method: "GET", path: "/api/v1/payments", token: alice}).decode(t, &list)
	if len(list.Payments) != 2 {
		t.Errorf("list: %+v", list)
	}
	if res := e.do(req{method: "DELETE", path: bankPath, token: alice}); res.status != http.StatusNoContent {
		t.Errorf("remove bank: %d %s", res.status, res.body)
	}
}

// TestPaymentDoubleSubmit sends one payment many times at once through HTTP.
func TestPaymentDoubleSubmit(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.double", "Alice-Passw0rd!").Token
	var bank bankOut
	e.do(req{method: "POST", path: "/api/v1/bank-accounts", token: alice,
		body: map[string]string{"routing_number": "011000015", "account_number": "12345678"}}).decode(t, &bank)
	before := e.balanceOf(e.alice)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[int64]bool{}
	)
	for range 10 {
		wg.Go(func() {
			res := e.do(req{method: "POST", path: "/api/v1/payments", token: alice, header: keyed("same"),
				body: map[string]any{"bank_account_id": bank.BankAccountID, "amount": 700}})
			var p paymentOut
			res.decode(t, &p)
			mu.Lock()
			defer mu.Unlock()
			if res.status != http.StatusCreated {
				t.Errorf("%d %s", res.status, res.body)
			}
			ids[p.PaymentID] = true
		})
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Errorf("payments made: %v", ids)
	}
	if got := e.balanceOf(e.alice); got != before-700 {
		t.Errorf("balance %d, want %d", got, before-700)
	}
}
