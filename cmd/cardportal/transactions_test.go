package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDemoLedgerEndToEnd runs the real program on its demo issuer and reads a demo
// account's year of history through the API: the dashboard's balance is exactly the
// sum of the posted transactions, the available credit is the limit minus the balance
// minus the pending ones, and the CSV download holds the same transactions.
func TestDemoLedgerEndToEnd(t *testing.T) {
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	tok := register(t, in, in.cards[0], "ledger.member")
	st, out := apiCall(t, "GET", in.url+"/api/v1/accounts", tok, nil)
	if st != http.StatusOK {
		t.Fatalf("accounts: %d %v", st, out)
	}
	acct := out["accounts"].([]any)[0].(map[string]any)
	id := int64(acct["account_id"].(float64))
	num := func(m map[string]any, k string) int64 { return int64(m[k].(float64)) }

	var (
		posted, pending int64
		n               int
		kinds           = map[string]int{}
	)
	base := fmt.Sprintf("%s/api/v1/accounts/%d/transactions", in.url, id)
	next := base + "?limit=100"
	for pages := 0; next != ""; pages++ {
		if pages > 20 {
			t.Fatal("more than 20 pages of 100")
		}
		st, page := apiCall(t, "GET", next, tok, nil)
		if st != http.StatusOK {
			t.Fatalf("transactions: %d %v", st, page)
		}
		for _, x := range page["transactions"].([]any) {
			tx := x.(map[string]any)
			n++
			kinds[tx["kind"].(string)]++
			if tx["status"] == "pending" {
				pending += num(tx, "amount")
			} else {
				posted += num(tx, "amount")
			}
		}
		next = ""
		if c, ok := page["next_cursor"].(string); ok {
			next = base + "?limit=100&cursor=" + url.QueryEscape(c)
		}
	}
	// A year of purchases and monthly payments: dozens of transactions at least.
	if n < 40 || kinds["purchase"] == 0 || kinds["payment"] < 6 {
		t.Errorf("%d transactions (%v); want a year's worth", n, kinds)
	}
	if b := num(acct, "balance"); b != posted {
		t.Errorf("balance %d, but the posted transactions sum to %d", b, posted)
	}
	if p := num(acct, "pending"); p != pending {
		t.Errorf("pending %d, but the pending transactions sum to %d", p, pending)
	}
	if a, want := num(acct, "available_credit"), num(acct, "credit_limit")-posted-pending; a != want {
		t.Errorf("available credit %d, want limit - balance - pending = %d", a, want)
	}

	req, _ := http.NewRequest(http.MethodGet, base+".csv", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Errorf("CSV has %d rows, want a header and %d transactions", len(rows), n)
	}
	// Another account's history is not found, here as on every endpoint.
	if st, _ := apiCall(t, "GET", fmt.Sprintf("%s/api/v1/accounts/%d/transactions", in.url, id+1), tok, nil); st != http.StatusNotFound {
		t.Errorf("another account's transactions: %d, want 404", st)
	}
}

// TestBrowserTransactions registers a demo card in a real browser, then uses the
// dashboard's recent transactions, the transaction list's filter form and its pages
// (SPEC AC1, AC2) on a phone-sized window.
func TestBrowserTransactions(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	c := in.cards[0]
	registerInBrowser(t, ctx, in, c, "browser.ledger")
	if rows := eval[int](t, ctx, `document.querySelectorAll('.account .tx-table tbody tr').length`); rows != 5 {
		t.Fatalf("dashboard shows %d recent transactions, want 5:\n%s", rows, text(t, ctx, "main"))
	}
	run1(t, ctx, "all transactions",
		chromedp.Click(chromedp.CSS("a.tx-all")),
		chromedp.WaitVisible(chromedp.CSS("form.tx-filter")),
	)
	if rows := eval[int](t, ctx, `document.querySelectorAll('.tx-table tbody tr').length`); rows != 25 {
		t.Fatalf("first page has %d rows, want 25", rows)
	}
	run1(t, ctx, "next page",
		chromedp.Click(chromedp.CSS("#tx-next")),
		chromedp.WaitVisible(chromedp.CSS("#tx-first")),
	)
	// Filter by merchant: every row then names it, and the CSV link carries the filter.
	run1(t, ctx, "search",
		chromedp.SetValue(chromedp.CSS("#q"), "payment"),
		chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS("#tx-csv")),
	)
	rows := eval[int](t, ctx, `document.querySelectorAll('.tx-table tbody tr').length`)
	matching := eval[int](t, ctx, `[...document.querySelectorAll('.tx-table tbody tr')].filter(r => /Payment/.test(r.textContent)).length`)
	if rows == 0 || rows != matching {
		t.Errorf("search for payments: %d rows, %d of them payments", rows, matching)
	}
	if href := eval[string](t, ctx, `document.querySelector('#tx-csv').getAttribute('href')`); !strings.HasSuffix(href, ".csv?q=payment") {
		t.Errorf("CSV link %q does not carry the filter", href)
	}
	// A bad amount is reported on its field, in the page's language.
	run1(t, ctx, "bad amount",
		chromedp.SetValue(chromedp.CSS("#min"), "lots"),
		chromedp.Submit(chromedp.CSS("#min")),
		chromedp.WaitVisible(chromedp.CSS("#min-error")),
	)
	if msg := text(t, ctx, "#min-error"); !strings.Contains(msg, "12.50") {
		t.Errorf("amount error %q", msg)
	}
}
