package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPersonalDetailsPages(t *testing.T) {
	e := newEnv(t)
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)

	page := jo.get("/details")
	wantStatus(t, "details", page, http.StatusOK)
	wantContains(t, "details", page.body, "Personal details", "We have no address on record", `href="/details/address"`,
		`href="/contact"`, "jo.doe@example.com")

	addr := url.Values{"line1": {"Storgatan 1"}, "city": {"Uppsala"}, "region": {""}, "postcode": {"7532"}, "country": {"SE"}, "password": {password}}
	page = jo.post("/details/address", addr)
	wantStatus(t, "bad postcode", page, http.StatusUnprocessableEntity)
	wantContains(t, "bad postcode", page.body, "Swedish postnummer of 5 digits", `value="Storgatan 1"`)
	wantLacks(t, "bad postcode", page.body, password)

	addr.Set("postcode", "75320")
	addr.Set("password", "not-the-password")
	page = jo.post("/details/address", addr)
	wantStatus(t, "wrong password", page, http.StatusUnprocessableEntity)
	wantLacks(t, "wrong password", page.body, "not-the-password")

	addr.Set("password", password)
	wantRedirect(t, "change address", jo.post("/details/address", addr), "/details?done=address")
	page = jo.get("/details?done=address")
	wantContains(t, "after the change", page.body, "Storgatan 1", "753 20 Uppsala", "Sweden", "has been changed")
	wantContains(t, "security history", jo.get("/security").body, "Billing address changed")
	if body := e.lastMessage("details.address"); strings.Contains(body, "Storgatan") {
		t.Errorf("the notice names the new address: %q", body)
	}

	// In Swedish, with the country names and the rule in Swedish too.
	page = jo.do(func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, e.url+"/details/address", nil)
		r.Header.Set("Accept-Language", "sv")
		return r
	}())
	wantContains(t, "in Swedish", page.body, "Ändra faktureringsadress", "Sverige", "Postnummer")
	anon := e.browser(chromeUA)
	wantRedirect(t, "signed out", anon.get("/details"), "/login")
	wantRedirect(t, "signed out POST", anon.post("/details/address", addr), "/login")

	// Forgot User ID by email, name and billing postcode: the same page whatever
	// matched; the User ID goes by email only.
	before := e.outboxLen()
	for _, f := range []url.Values{
		{"email": {"jo.doe@example.com"}, "name": {"jo doe"}, "postcode": {"11111"}},
		{"email": {"JO.DOE@example.com"}, "name": {"Jo Doe"}, "postcode": {"753 20"}},
	} {
		page = anon.post("/forgot/userid/email", f)
		wantStatus(t, "forgot by email", page, http.StatusOK)
		wantContains(t, "forgot by email", page.body, "If the details match")
		wantLacks(t, "forgot by email", page.body, userID)
	}
	if n := e.outboxLen() - before; n != 1 {
		t.Errorf("%d messages, want the one reminder", n)
	}
	if body := e.lastMessage("userid.byemail"); !strings.Contains(body, userID) {
		t.Errorf("reminder %q lacks the User ID", body)
	}
	page = anon.post("/forgot/userid/email", url.Values{"email": {"nope"}, "name": {"Jo"}, "postcode": {"1"}})
	wantStatus(t, "malformed", page, http.StatusUnprocessableEntity)
	wantContains(t, "malformed", page.body, "Enter an email address")
	wantContains(t, "card path links here", anon.get("/forgot/userid").body, `href="/forgot/userid/email"`)
}

func TestAlertsPage(t *testing.T) {
	e := newEnv(t)
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)
	page := jo.get("/alerts")
	wantStatus(t, "alerts", page, http.StatusOK)
	wantContains(t, "alerts", page.body, "Purchases over an amount", `name="payment_due.email" type="checkbox" value="on" checked`,
		`value="500.00"`, "always sent and cannot be switched off")
	f := url.Values{
		"purchase_over.sms": {"on"}, "purchase_over.amount": {"25.50"},
		"payment_due.push": {"on"}, "payment_due.days": {"3"},
		"balance_over.amount": {"1000"},
	}
	wantRedirect(t, "save", jo.post("/alerts", f), "/alerts?done=1")
	p, err := e.alertsPrefs(userID)
	if err != nil {
		t.Fatal(err)
	}
	if s := p["purchase_over"]; !s.SMS || s.Email || s.Amount != 2550 {
		t.Errorf("purchase_over = %+v", s)
	}
	if s := p["payment_due"]; s.Email || !s.Push || s.Days != 3 {
		t.Errorf("payment_due = %+v: unticked email must switch it off", s)
	}
	if s := p["statement_ready"]; s.Email {
		t.Errorf("statement_ready = %+v: unticked is off", s)
	}
	f.Set("payment_due.days", "99")
	f.Set("purchase_over.amount", "abc")
	page = jo.post("/alerts", f)
	wantStatus(t, "bad values", page, http.StatusUnprocessableEntity)
	wantContains(t, "bad values", page.body, "from 1 to 30", "from 0 to 1,000,000", `value="abc"`)
}

func TestDisputePages(t *testing.T) {
	e := newEnv(t)
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)
	sam := e.browser(chromeUA)
	f := cardForm(e.extra)
	f.Set("additional", "1")
	f.Set("basic_birth_date", e.basic.birth)
	wantRedirect(t, "Sam: verify card", sam.post("/register", f), "/register/credentials")
	wantRedirect(t, "Sam: credentials", sam.post("/register/credentials", credentialsForm("sam.doe2026", password)), "/contact?m=welcome")

	wantContains(t, "transactions link to the dispute page", jo.get("/accounts/1/transactions").body, `href="/transactions/1/dispute"`)
	page := jo.get("/transactions/1/dispute")
	wantStatus(t, "dispute page", page, http.StatusOK)
	wantContains(t, "dispute page", page.body, "Groceries", `action="/transactions/1/dispute"`, "I don&#39;t recognise this transaction")
	page = jo.get("/transactions/2/dispute")
	wantContains(t, "a payment", page.body, "Only purchases can be disputed")
	wantLacks(t, "a payment", page.body, `action="/transactions/2/dispute"`)

	page = jo.post("/transactions/1/dispute", url.Values{"reason": {"other"}, "detail": {""}})
	wantStatus(t, "other without detail", page, http.StatusUnprocessableEntity)
	wantContains(t, "other without detail", page.body, "Tell us what is wrong")

	res := jo.post("/transactions/1/dispute", url.Values{"reason": {"unrecognised"}, "detail": {"Never shopped there"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/disputes/") {
		t.Fatalf("open: %d %s", res.status, res.header.Get("Location"))
	}
	loc := res.header.Get("Location")
	page = jo.get(loc)
	wantContains(t, "dispute", page.body, "suspicious activity", "Open", "Never shopped there", "credited provisionally")
	page = jo.get("/disputes")
	wantContains(t, "list", page.body, "Groceries", "Open")
	page = jo.get("/transactions/1/dispute")
	wantContains(t, "the transaction shows its dispute", page.body, "already has a dispute", "Open")
	wantLacks(t, "no second form", page.body, `action="/transactions/1/dispute"`)
	wantContains(t, "security history", jo.get("/security").body, "Suspicious activity reported")

	// Sam, an additional member, sees his own card's transactions only: not this one.
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/disputes/")
	for _, r := range []struct{ method, path string }{
		{"GET", "/transactions/1/dispute"}, {"POST", "/transactions/1/dispute"}, {"GET", "/disputes/" + id},
		{"GET", "/transactions/999/dispute"}, {"GET", "/disputes/abc"},
	} {
		var res response
		if r.method == "GET" {
			res = sam.get(r.path)
		} else {
			res = sam.post(r.path, url.Values{"reason": {"duplicate"}})
		}
		wantStatus(t, "Sam: "+r.method+" "+r.path, res, http.StatusNotFound)
	}
	wantContains(t, "Sam's list", sam.get("/disputes").body, "You have not disputed")
}

// alertsPrefs reads a member's stored alert settings.
func (e *env) alertsPrefs(uid string) (map[string]struct {
	Email, SMS, Push bool
	Amount           int64
	Days             int
}, error) {
	p, err := e.store.AlertPrefs(context.Background(), e.memberID(uid))
	out := map[string]struct {
		Email, SMS, Push bool
		Amount           int64
		Days             int
	}{}
	for k, v := range p.Settings {
		out[string(k)] = struct {
			Email, SMS, Push bool
			Amount           int64
			Days             int
		}{v.Email, v.SMS, v.Push, v.Amount, v.Days}
	}
	return out, err
}
