package api

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardportal/cardportal/account"
)

// postHistory adds card transactions to the fixture: alice's card 11 on account 1, a
// pending hold and a formula-like merchant among them, bob's card 12 on the same
// account, carol's card 13 on account 2.
func (e *env) postHistory() {
	e.t.Helper()
	day := func(d int) time.Time { return start.AddDate(0, 0, -d) }
	for _, en := range []account.Entry{
		{AccountID: 1, CardID: 11, Kind: account.Purchase, Amount: 4250, Merchant: "Cedar Street Grocers", MCC: "5411", City: "Portland", Country: "US", Channel: account.InPerson, PostedAt: day(4), IdempotencyKey: "t-1"},
		{AccountID: 1, CardID: 11, Kind: account.Purchase, Amount: 1999, Merchant: "=HYPERLINK(\"http://evil.example\")", MCC: "5999", City: "Seattle", Country: "US", Channel: account.Online, PostedAt: day(3), IdempotencyKey: "t-2"},
		{AccountID: 1, CardID: 11, Kind: account.Refund, Amount: -1999, Merchant: "=HYPERLINK(\"http://evil.example\")", MCC: "5999", City: "Seattle", Country: "US", Channel: account.Online, PostedAt: day(2), IdempotencyKey: "t-3"},
		{AccountID: 1, CardID: 12, Kind: account.Purchase, Amount: 89000, Merchant: "Skyline Air", MCC: "4511", City: "London", Country: "GB", Channel: account.Online, PostedAt: day(2).Add(time.Hour), IdempotencyKey: "t-4"},
		{AccountID: 1, CardID: 11, Kind: account.Purchase, Amount: 650, Merchant: "Blue Harbor Coffee", MCC: "5814", City: "Portland", Country: "US", Channel: account.InPerson, Status: account.Pending, PostedAt: day(0).Add(-time.Hour), IdempotencyKey: "t-5"},
		{AccountID: 2, CardID: 13, Kind: account.Purchase, Amount: 500, Merchant: "Harvest Moon Market", MCC: "5411", City: "Denver", Country: "US", Channel: account.InPerson, PostedAt: day(1), IdempotencyKey: "t-6"},
	} {
		en.Currency = "USD"
		en.Description = en.Merchant
		if _, err := e.store.Post(e.t.Context(), en); err != nil {
			e.t.Fatalf("Post %s: %v", en.IdempotencyKey, err)
		}
	}
}

func TestTransactions(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	alice := e.register(e.alice, "alice.example", alicePassword).Token
	bob := e.register(e.bob, "bob-example", "Paper Boats 1985").Token
	carol := e.register(e.carol, "carol.other", carolPassword).Token

	list := func(token, query string) (int, transactionsResponse) {
		t.Helper()
		res := e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions" + query, token: token})
		var out transactionsResponse
		if res.status == http.StatusOK {
			res.decode(t, &out)
		}
		return res.status, out
	}
	merchants := func(r transactionsResponse) []string {
		out := []string{}
		for _, x := range r.Transactions {
			out = append(out, x.Merchant)
		}
		return out
	}
	const evil = "=HYPERLINK(\"http://evil.example\")"
	tests := []struct {
		name   string
		token  string
		query  string
		status int
		want   []string
	}{
		// The fixture's own three postings are account-level with no merchant.
		{"basic member sees all", alice, "", 200, []string{"Blue Harbor Coffee", "Skyline Air", evil, evil, "Cedar Street Grocers", "", "", ""}},
		{"additional member sees own card", bob, "", 200, []string{"Skyline Air"}},
		{"search", alice, "?q=SKYLINE", 200, []string{"Skyline Air"}},
		{"card filter", alice, "?card=11", 200, []string{"Blue Harbor Coffee", evil, evil, "Cedar Street Grocers"}},
		{"dates", alice, "?from=" + start.AddDate(0, 0, -3).Format(time.DateOnly) + "&to=" + start.AddDate(0, 0, -2).Format(time.DateOnly), 200, []string{"Skyline Air", evil, evil}},
		{"amounts", alice, "?min=1000&max=5000", 200, []string{evil, "Cedar Street Grocers"}},
		{"another member's account", carol, "", 404, nil},
		{"another member's card", alice, "?card=13", 404, nil},
		{"additional member, basic's card", bob, "?card=11", 404, nil},
		{"bad date", alice, "?from=2026-13-01", 422, nil},
		{"bad amount", alice, "?min=12.50", 422, nil},
		{"range upside down", alice, "?min=10&max=5", 422, nil},
		{"bad cursor", alice, "?cursor=abc", 422, nil},
		{"page too big", alice, "?limit=101", 422, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := list(tt.token, tt.query)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, merchants(got)); diff != "" {
					t.Errorf("merchants (-want +got):\n%s", diff)
				}
			}
		})
	}

	// Another member's account is not found on every endpoint, and so is one that
	// does not exist or is not a number.
	for _, path := range []string{"/api/v1/accounts/2/transactions", "/api/v1/accounts/2/transactions.csv",
		"/api/v1/accounts/999/transactions", "/api/v1/accounts/x/transactions.csv"} {
		if res := e.do(req{method: "GET", path: path, token: alice}); res.status != http.StatusNotFound {
			t.Errorf("%s as alice: %d, want 404", path, res.status)
		}
	}
	if res := e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions"}); res.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", res.status)
	}

	// What one transaction looks like: card-level with the card's last digits, and a
	// pending one.
	_, first := list(alice, "?limit=1")
	if len(first.Transactions) != 1 || first.NextCursor == nil {
		t.Fatalf("limit=1: %+v", first)
	}
	if x := first.Transactions[0]; x.Status != "pending" || x.CardLast == nil || *x.CardLast != e.alice.last || x.Amount != 650 {
		t.Errorf("first transaction: %+v", x)
	}
	// Paging joins up.
	var paged []string
	q := "?limit=3"
	for range 10 {
		_, page := list(alice, q)
		paged = append(paged, merchants(page)...)
		if page.NextCursor == nil {
			break
		}
		q = "?limit=3&cursor=" + *page.NextCursor
	}
	if diff := cmp.Diff(tests[0].want, paged); diff != "" {
		t.Errorf("pages joined (-want +got):\n%s", diff)
	}
}

func TestTransactionsCSV(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	alice := e.register(e.alice, "alice.example", alicePassword).Token

	res := e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions.csv?card=11", token: alice})
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="transactions-1.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	body := string(res.body)
	if !strings.HasSuffix(body, "\r\n") || strings.Count(body, "\r\n") != 5 {
		t.Errorf("want a header and 4 CRLF-terminated rows:\n%q", body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Date", "Status", "Description", "Merchant", "Category", "City", "Country", "Channel", "Card", "Card member", "Amount", "Currency"},
		{start.Format(time.DateOnly), "pending", "Blue Harbor Coffee", "Blue Harbor Coffee", "5814", "Portland", "US", "in_person", "•••• " + e.alice.last, "Alice Example", "6.50", "USD"},
		{start.AddDate(0, 0, -2).Format(time.DateOnly), "posted", `'=HYPERLINK("http://evil.example")`, `'=HYPERLINK("http://evil.example")`, "5999", "Seattle", "US", "online", "•••• " + e.alice.last, "Alice Example", "-19.99", "USD"},
		{start.AddDate(0, 0, -3).Format(time.DateOnly), "posted", `'=HYPERLINK("http://evil.example")`, `'=HYPERLINK("http://evil.example")`, "5999", "Seattle", "US", "online", "•••• " + e.alice.last, "Alice Example", "19.99", "USD"},
		{start.AddDate(0, 0, -4).Format(time.DateOnly), "posted", "Cedar Street Grocers", "Cedar Street Grocers", "5411", "Portland", "US", "in_person", "•••• " + e.alice.last, "Alice Example", "42.50", "USD"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}

	// The header row speaks the caller's language; paging parameters are refused.
	res = e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions.csv", token: alice, header: http.Header{"Accept-Language": {"sv"}}})
	if res.status != http.StatusOK || !strings.HasPrefix(string(res.body), "Datum,") {
		t.Errorf("sv: %d %.40q", res.status, res.body)
	}
	if res := e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions.csv?limit=5", token: alice}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("limit on a download: %d", res.status)
	}
}
