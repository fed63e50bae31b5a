package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	keyField    = regexp.MustCompile(`name="idempotency_key" value="([0-9a-f]+)"`)
	paymentLink = regexp.MustCompile(`^/payments/([0-9]+)\?done=made$`)
)

// TestPaymentPages links a bank account, pays now (submitting the form twice), schedules,
// changes and cancels a payment, and sets autopay, as a member in a browser would.
func TestPaymentPages(t *testing.T) {
	e := newEnv(t)
	e.secrets = append(e.secrets, "123456789")
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)

	page := jo.get("/payments")
	wantStatus(t, "payments", page, http.StatusOK)
	wantContains(t, "payments without a bank", page.body, "Link a bank account to make payments.", "$1,034.56", "Autopay is off.")
	wantContains(t, "dashboard", jo.get("/account").body, `href="/payments"`)

	res := jo.post("/payments/banks", url.Values{"nickname": {"Checking"}, "routing_number": {"011000016"}, "account_number": {"123456789"}})
	wantStatus(t, "bad routing number", res, http.StatusUnprocessableEntity)
	wantContains(t, "bad routing number", res.body, "this one is not valid", "Checking")
	wantRedirect(t, "link", jo.post("/payments/banks", url.Values{"nickname": {"Checking"}, "routing_number": {"011000015"}, "account_number": {"123456789"}}),
		"/payments/banks?done=linked")
	wantContains(t, "bank list", jo.get("/payments/banks?done=linked").body, "Checking ••••6789", "011000015", "Your bank account is linked.")

	page = jo.get("/payments")
	m := keyField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no idempotency key in the payment form:\n%s", page.body)
	}
	form := url.Values{"idempotency_key": {m[1]}, "bank_account_id": {"1"}, "amount": {"25.00"}, "date": {""}}
	// A double click: two submissions of the same form make one payment.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		locs = map[string]bool{}
	)
	for range 2 {
		wg.Go(func() {
			r := jo.post("/payments", form)
			mu.Lock()
			locs[r.location()] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(locs) != 1 {
		t.Fatalf("two submissions went to %v", locs)
	}
	var loc string
	for l := range locs {
		loc = l
	}
	if paymentLink.FindStringSubmatch(loc) == nil {
		t.Fatalf("pay now redirected to %q", loc)
	}
	page = jo.get(loc)
	wantContains(t, "paid", page.body, "Your payment of $25.00 has been received", "Received")
	wantContains(t, "dashboard after paying", jo.get("/account").body, "$1,009.56")

	// Schedule, change, cancel.
	m = keyField.FindStringSubmatch(jo.get("/payments").body)
	later := start.AddDate(0, 0, 10).Format(time.DateOnly)
	res = jo.post("/payments", url.Values{"idempotency_key": {m[1]}, "bank_account_id": {"1"}, "amount": {"99999"}, "date": {later}})
	wantStatus(t, "overpay", res, http.StatusUnprocessableEntity)
	wantContains(t, "overpay", res.body, "more than you owe")
	res = jo.post("/payments", url.Values{"idempotency_key": {m[1]}, "bank_account_id": {"1"}, "amount": {"10"}, "date": {later}})
	sm := paymentLink.FindStringSubmatch(res.location())
	if sm == nil {
		t.Fatalf("schedule: %d %s", res.status, res.location())
	}
	path := "/payments/" + sm[1]
	page = jo.get(path + "?done=made")
	wantContains(t, "scheduled", page.body, "is scheduled for", "Scheduled", `action="`+path+`/change"`, `action="`+path+`/cancel"`)
	res = jo.post(path+"/change", url.Values{"bank_account_id": {"1"}, "amount": {"12,50"}, "date": {start.Format(time.DateOnly)}})
	wantStatus(t, "change to today", res, http.StatusUnprocessableEntity)
	wantRedirect(t, "change", jo.post(path+"/change", url.Values{"bank_account_id": {"1"}, "amount": {"12.50"}, "date": {later}}), path+"?done=changed")
	wantContains(t, "changed", jo.get(path).body, "$12.50")
	wantRedirect(t, "cancel", jo.post(path+"/cancel", nil), path+"?done=cancelled")
	page = jo.get(path + "?done=cancelled")
	wantContains(t, "cancelled", page.body, "Your payment was cancelled.", "Cancelled")
	wantLacks(t, "cancelled", page.body, `action="`+path+`/cancel"`)
	res = jo.post(strings.Replace(loc, "?done=made", "", 1)+"/cancel", nil)
	wantStatus(t, "cancel a posted payment", res, http.StatusConflict)

	// Autopay.
	wantRedirect(t, "autopay", jo.post("/payments/autopay", url.Values{"rule": {"statement"}, "bank_account_id": {"1"}}), "/payments/autopay?done=autopay")
	wantContains(t, "autopay on", jo.get("/payments").body, "Autopay is on: Statement balance from ••••6789.")
	res = jo.post("/payments/banks/1/remove", nil)
	wantStatus(t, "remove the autopay bank", res, http.StatusConflict)
	wantRedirect(t, "autopay off", jo.post("/payments/autopay/stop", nil), "/payments/autopay?done=autopayoff")
	wantRedirect(t, "remove", jo.post("/payments/banks/1/remove", nil), "/payments/banks?done=removed")

	// Nothing of another account, or of no account, is found; the additional member is
	// refused everything.
	for _, p := range []string{"/payments/999", "/payments/abc"} {
		wantStatus(t, p, jo.get(p), http.StatusNotFound)
	}
	wantStatus(t, "cancel no payment", jo.post("/payments/999/cancel", nil), http.StatusNotFound)
	sam := e.browser(chromeUA)
	f := cardForm(e.extra)
	f.Set("additional", "1")
	f.Set("basic_birth_date", e.basic.birth)
	wantRedirect(t, "Sam: verify card", sam.post("/register", f), "/register/credentials")
	wantRedirect(t, "Sam: credentials", sam.post("/register/credentials", credentialsForm("sam.doe2026", password)), "/contact?m=welcome")
	for _, r := range []struct{ method, path string }{
		{"GET", "/payments"}, {"GET", path}, {"POST", path + "/cancel"}, {"GET", "/payments/banks"}, {"GET", "/payments/autopay"},
		{"POST", "/payments"},
	} {
		var res response
		if r.method == "GET" {
			res = sam.get(r.path)
		} else {
			res = sam.post(r.path, url.Values{"bank_account_id": {"1"}, "amount": {"1"}})
		}
		wantStatus(t, "Sam "+r.method+" "+r.path, res, http.StatusForbidden)
	}
}
