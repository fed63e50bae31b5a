package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
)

// postHistory adds card transactions to the fixture account: Jo's card 1 and Sam's
// card 2, with a pending hold, a formula-like merchant and one full of markup.
func (e *env) postHistory() {
	e.t.Helper()
	day := func(d int) time.Time { return start.AddDate(0, 0, -d) }
	for _, en := range []account.Entry{
		{CardID: 1, Kind: account.Purchase, Amount: 4250, Merchant: "Cedar Street Grocers", MCC: "5411", City: "Portland", Country: "US", Channel: account.InPerson, PostedAt: day(4), IdempotencyKey: "w-1"},
		{CardID: 1, Kind: account.Purchase, Amount: 1999, Merchant: "=HYPERLINK(\"http://evil.example\")", MCC: "5999", City: "Seattle", Country: "US", Channel: account.Online, PostedAt: day(3), IdempotencyKey: "w-2"},
		{CardID: 2, Kind: account.Purchase, Amount: 89000, Merchant: "Skyline Air", MCC: "4511", City: "London", Country: "GB", Channel: account.Online, PostedAt: day(2), IdempotencyKey: "w-3"},
		{CardID: 1, Kind: account.Purchase, Amount: 700, Merchant: "<b>Bold</b> Bistro", MCC: "5812", City: "Portland", Country: "US", Channel: account.InPerson, PostedAt: day(1), IdempotencyKey: "w-4"},
		{CardID: 1, Kind: account.Purchase, Amount: 650, Merchant: "Blue Harbor Coffee", MCC: "5814", City: "Portland", Country: "US", Channel: account.InPerson, Status: account.Pending, PostedAt: day(0).Add(-time.Hour), IdempotencyKey: "w-5"},
	} {
		en.AccountID, en.Currency, en.Description = 1, "USD", en.Merchant
		if _, err := e.store.Post(e.t.Context(), en); err != nil {
			e.t.Fatalf("Post %s: %v", en.IdempotencyKey, err)
		}
	}
}

func TestDashboardRecentTransactions(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	dash := b.get("/account")
	wantStatus(t, "dashboard", dash, http.StatusOK)
	wantContains(t, "dashboard", dash.body, "Recent transactions", "Blue Harbor Coffee", "Pending", "Skyline Air",
		"&lt;b&gt;Bold&lt;/b&gt; Bistro", `href="/accounts/1/transactions"`, "All transactions",
		"Pending authorisations", "$6.50", // the hold, outside the balance
		"$1,994.05", // balance: fixture 1,034.56 + 42.50 + 19.99 + 890.00 + 7.00
	)
	// The five newest only: the fixture's own older postings are left out.
	wantLacks(t, "dashboard", dash.body, "Groceries", "-$200.00", "<b>Bold</b>")
}

func TestTransactionsPage(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	wantRedirect(t, "GET /transactions", b.get("/transactions"), "/accounts/1/transactions")

	tests := []struct {
		name   string
		query  string
		status int
		want   []string
		lacks  []string
	}{
		{"everything", "", 200,
			[]string{"Cedar Street Grocers", "Skyline Air", "Groceries", "Payment", "$42.50", "-$200.00", "London, GB · Online",
				"Pending", "•••• " + e.extra.last + " · Sam Doe", `href="/accounts/1/transactions.csv"`, "Download CSV"},
			nil},
		{"search", "?q=SKYLINE", 200, []string{"Skyline Air", `value="SKYLINE"`, `href="/accounts/1/transactions.csv?q=SKYLINE"`, "Clear filters"},
			[]string{"Cedar Street Grocers"}},
		{"amounts in major units", "?min=10&max=50,00", 200, []string{"Cedar Street Grocers", "$19.99"}, []string{"Skyline Air", "Blue Harbor"}},
		{"dates", "?from=" + start.AddDate(0, 0, -3).Format(time.DateOnly) + "&to=" + start.AddDate(0, 0, -2).Format(time.DateOnly), 200,
			[]string{"Skyline Air", "HYPERLINK"}, []string{"Cedar Street Grocers", "Blue Harbor"}},
		{"card", "?card=2", 200, []string{"Skyline Air", `<option value="2" selected>`}, []string{"Cedar Street Grocers"}},
		{"nothing matches", "?q=nowhere", 200, []string{"No transactions match these filters."}, nil},
		{"bad amount", "?min=ten", 422, []string{"Enter an amount such as 12.50.", `href="#min"`, `aria-invalid="true"`, `value="ten"`},
			[]string{"Download CSV", "No transactions match"}},
		{"range reversed", "?min=50&max=10", 422, []string{"The end of the range cannot be before its start.", `href="#max"`}, nil},
		{"bad date", "?from=yesterday", 422, []string{"Enter a date as YYYY-MM-DD."}, nil},
		{"another member's card", "?card=99", 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get("/accounts/1/transactions" + tt.query)
			wantStatus(t, tt.name, r, tt.status)
			wantContains(t, tt.name, r.body, tt.want...)
			wantLacks(t, tt.name, r.body, tt.lacks...)
		})
	}
	for _, path := range []string{"/accounts/2/transactions", "/accounts/2/transactions.csv", "/accounts/x/transactions"} {
		wantStatus(t, path, b.get(path), http.StatusNotFound)
	}

	// Spanish: the page and its formats follow the language.
	req, _ := http.NewRequest(http.MethodGet, e.url+"/accounts/1/transactions", nil)
	req.Header.Set("Accept-Language", "es")
	es := b.do(req)
	wantContains(t, "es", es.body, "Movimientos", "Descargar CSV", "Pendiente", "42,50")
}

func TestTransactionsPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		_, err := e.store.Post(t.Context(), account.Entry{AccountID: 1, CardID: 1, Kind: account.Purchase, Amount: int64(100 + i),
			Currency: "USD", Description: fmt.Sprintf("Shop %02d", i), PostedAt: start.Add(-time.Duration(i) * time.Hour), IdempotencyKey: fmt.Sprintf("p-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	seen := map[string]bool{}
	path := "/accounts/1/transactions?q=shop"
	for pages := 1; ; pages++ {
		r := b.get(path)
		wantStatus(t, path, r, http.StatusOK)
		for i := range 30 {
			if s := fmt.Sprintf("Shop %02d", i); strings.Contains(r.body, s) {
				if seen[s] {
					t.Errorf("%s on two pages", s)
				}
				seen[s] = true
			}
		}
		i := strings.Index(r.body, `id="tx-next" rel="next"`)
		if i < 0 {
			if pages != 2 {
				t.Errorf("%d pages of 25, want 2", pages)
			}
			wantContains(t, "last page", r.body, `id="tx-first"`)
			break
		}
		href := r.body[strings.LastIndex(r.body[:i], `href="`)+6:]
		href = strings.ReplaceAll(href[:strings.Index(href, `"`)], "&amp;", "&")
		if !strings.Contains(href, "q=shop") || !strings.Contains(href, "cursor=") {
			t.Fatalf("next link %q does not keep the filter", href)
		}
		path = href
		if pages > 3 {
			t.Fatal("too many pages")
		}
	}
	if len(seen) != 30 {
		t.Errorf("saw %d of 30 transactions", len(seen))
	}
}

func TestTransactionsCSV(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	r := b.get("/accounts/1/transactions.csv?card=1&" + url.Values{"q": {"h"}}.Encode())
	wantStatus(t, "csv", r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8; header=present" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="transactions-1.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Card 1's entries whose text has an "h": coffee (pending), the HYPERLINK one.
	if len(rows) != 3 || rows[0][0] != "Date" || rows[1][3] != "Blue Harbor Coffee" || rows[1][1] != "pending" ||
		rows[2][3] != `'=HYPERLINK("http://evil.example")` || rows[2][10] != "19.99" {
		t.Errorf("rows: %q", rows)
	}
	if !strings.Contains(r.body, "\r\n") {
		t.Error("CSV lines do not end in CRLF")
	}
	wantStatus(t, "csv with a bad filter", b.get("/accounts/1/transactions.csv?min=x"), http.StatusBadRequest)
}

// The additional member sees their own card's transactions and nothing else.
func TestTransactionsAdditionalMember(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	b := e.browser(chromeUA)
	f := cardForm(e.extra)
	f.Set("additional", "1")
	f.Set("basic_birth_date", e.basic.birth)
	wantRedirect(t, "register", b.post("/register", f), "/register/credentials")
	wantRedirect(t, "credentials", b.post("/register/credentials", credentialsForm("sam.doe", password)), "/contact?m=welcome")
	r := b.get("/accounts/1/transactions")
	wantStatus(t, "list", r, http.StatusOK)
	wantContains(t, "list", r.body, "Skyline Air")
	wantLacks(t, "list", r.body, "Cedar Street Grocers", "Groceries", "Payment", "Blue Harbor")
	wantStatus(t, "basic's card", b.get("/accounts/1/transactions?card=1"), http.StatusNotFound)
	wantStatus(t, "basic's card as CSV", b.get("/accounts/1/transactions.csv?card=1"), http.StatusNotFound)
}
