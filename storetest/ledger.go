package storetest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
)

// The ledger contract (account.Ledger) on Fixture: account 10 has the basic holder 100
// (cards 1000, 1002), the additional holders 101 (card 1001) and 102 (card 1003);
// account 20 has holder 200 (card 2000). Fixture's own postings on account 10 are
// account-level (no card) and sum to 6500.

// entry is a valid purchase on card 1000 of account 10, to be varied by the tests.
func entry(key string, amount int64, at time.Time) account.Entry {
	return account.Entry{
		AccountID: 10, CardID: 1000, Kind: account.Purchase, Amount: amount, Currency: "USD",
		Description: "Blue Harbor Coffee", Merchant: "Blue Harbor Coffee", MCC: "5814", City: "Portland", Country: "US",
		Channel: account.InPerson, PostedAt: at, IdempotencyKey: key,
	}
}

func mustPost(t *testing.T, s Store, e account.Entry) account.Transaction {
	t.Helper()
	tx, err := s.Post(t.Context(), e)
	if err != nil {
		t.Fatalf("Post(%s): %v", e.IdempotencyKey, err)
	}
	return tx
}

// postCase is an entry to post and what Post must answer: Internal stands for no
// error, with the first posting returned (a retry).
type postCase struct {
	name string
	e    account.Entry
	kind cp.Kind
}

// checkPosts posts each case's entry and checks the answer against the case.
func checkPosts(t *testing.T, s Store, first account.Transaction, cases []postCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Post(t.Context(), tt.e)
			if tt.kind == cp.Internal {
				if err != nil {
					t.Fatalf("Post: %v", err)
				}
				if diff := cmp.Diff(first, got); diff != "" {
					t.Errorf("retry (-first +retry):\n%s", diff)
				}
				return
			}
			if !cp.IsKind(err, tt.kind) {
				t.Errorf("Post: err = %v, want %v", err, tt.kind)
			}
		})
	}
}

func testLedgerPost(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	first := mustPost(t, s, entry("k-1", 1234, Base))
	want := account.Transaction{
		ID: first.ID, AccountID: 10, CardID: 1000, CardLast: "1234", HolderName: "Ada Lovelace", Kind: account.Purchase,
		Amount: 1234, Currency: "USD", Description: "Blue Harbor Coffee", Merchant: "Blue Harbor Coffee", MCC: "5814",
		City: "Portland", Country: "US", Channel: account.InPerson, Status: account.Posted, PostedAt: Base,
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("Post (-want +got):\n%s", diff)
	}
	if first.ID <= 3 {
		t.Errorf("new posting has ID %d, colliding with the fixture's", first.ID)
	}

	with := func(f func(*account.Entry)) account.Entry {
		e := entry("k-new", 500, Base)
		f(&e)
		return e
	}
	checkPosts(t, s, first, []postCase{
		{"retry returns the first", entry("k-1", 1234, Base), cp.Internal},
		{"key reused, other amount", entry("k-1", 999, Base), cp.Conflict},
		{"key reused, other card", with(func(e *account.Entry) { e.IdempotencyKey, e.Amount, e.CardID = "k-1", 1234, 1001 }), cp.Conflict},
		{"fixture key reused", with(func(e *account.Entry) { e.IdempotencyKey = "purchase-1" }), cp.Conflict},
		{"unknown account", with(func(e *account.Entry) { e.AccountID, e.CardID = 99, 0 }), cp.NotFound},
		{"card of another account", with(func(e *account.Entry) { e.CardID = 2000 }), cp.NotFound},
		{"unknown card", with(func(e *account.Entry) { e.CardID = 4242 }), cp.NotFound},
		{"currency not the account's", with(func(e *account.Entry) { e.Currency = "EUR" }), cp.Invalid},
		{"purchase with a credit amount", with(func(e *account.Entry) { e.Amount = -500 }), cp.Invalid},
		{"payment that adds debt", with(func(e *account.Entry) { e.Kind, e.CardID = account.Payment, 0 }), cp.Invalid},
		{"zero amount", with(func(e *account.Entry) { e.Amount = 0 }), cp.Invalid},
		{"no key", with(func(e *account.Entry) { e.IdempotencyKey = "" }), cp.Invalid},
		{"unknown kind", with(func(e *account.Entry) { e.Kind = "gift" }), cp.Invalid},
		{"bad MCC", with(func(e *account.Entry) { e.MCC = "58a4" }), cp.Invalid},
		{"control character", with(func(e *account.Entry) { e.Merchant = "Evil\r\nCorp" }), cp.Invalid},
	})
	// Nothing but the first post changed the balance.
	if sums, err := s.Summaries(ctx, 100); err != nil || sums[0].Balance != 6500+1234 {
		t.Errorf("balance after the posts: %+v, %v; want %d", sums, err, 6500+1234)
	}
}

// testLedgerPostConcurrent sends the same entry from many goroutines at once: every
// caller gets the same transaction and the balance moves once.
func testLedgerPostConcurrent(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	const callers = 20
	for round := range 5 {
		e := entry(fmt.Sprintf("dup-%d", round), 1000, Base.Add(time.Duration(round)*time.Minute))
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			mu    sync.Mutex
			ids   []int64
			errs  []error
		)
		for range callers {
			wg.Go(func() {
				<-start
				tx, err := s.Post(t.Context(), e)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				ids = append(ids, tx.ID)
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if uniq := slices.Compact(slices.Sorted(slices.Values(ids))); len(uniq) != 1 || len(ids) != callers {
			t.Errorf("round %d: callers got different transactions: %v", round, ids)
		}
	}
	sums, err := s.Summaries(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(6500 + 5*1000); sums[0].Balance != want {
		t.Errorf("balance %d, want %d: a duplicate posted twice", sums[0].Balance, want)
	}
}

// testLedgerBalance posts a random sequence of entries, retries and pending holds, and
// checks after every step that the balance and pending figures equal the sums a model
// of the ledger gives: the store derives them from the postings, and must never drift.
func testLedgerBalance(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	r := rand.New(rand.NewPCG(1, 2))
	var (
		balance, pending int64 = 6500, 0
		posted           []account.Entry
	)
	kinds := []account.Kind{account.Purchase, account.Refund, account.Payment, account.Fee, account.Interest, account.Credit, account.Adjustment}
	for i := range 60 {
		var e account.Entry
		if len(posted) > 0 && r.IntN(5) == 0 {
			e = posted[r.IntN(len(posted))] // a retry: must change nothing
		} else {
			k := kinds[r.IntN(len(kinds))]
			amount := 1 + r.Int64N(50_000)
			if !k.Debit() {
				amount = -amount
			}
			e = entry(fmt.Sprintf("bal-%d", i), amount, Base.Add(time.Duration(i)*time.Hour))
			e.Kind = k
			if k == account.Payment || k == account.Interest {
				e.CardID, e.Merchant, e.MCC, e.City, e.Country, e.Channel = 0, "", "", "", "", account.NoChannel
			}
			if k == account.Purchase && r.IntN(3) == 0 {
				e.Status = account.Pending
			}
			if e.Status == account.Pending {
				pending += amount
			} else {
				balance += amount
			}
			posted = append(posted, e)
		}
		if _, err := s.Post(ctx, e); err != nil {
			t.Fatalf("step %d: Post: %v", i, err)
		}
		sums, err := s.Summaries(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		got := sums[0]
		if got.Balance != balance || got.Pending != pending || got.Available() != got.CreditLimit-balance-pending {
			t.Fatalf("step %d: balance %d pending %d available %d; want %d, %d, %d",
				i, got.Balance, got.Pending, got.Available(), balance, pending, got.CreditLimit-balance-pending)
		}
	}
	// The additional member sees the same account figures.
	if sums, err := s.Summaries(ctx, 101); err != nil || sums[0].Balance != balance {
		t.Errorf("additional member's summary: %+v, %v", sums, err)
	}
}

// ledgerFixture posts a small history on account 10 and returns the transactions by
// key.
func ledgerFixture(t *testing.T, s Store) map[string]account.Transaction {
	day := func(d int) time.Time { return date(2026, 1, d).Add(10 * time.Hour) }
	es := []account.Entry{
		entry("coffee", 450, day(2)),
		entry("pct", 2000, day(3)),
		entry("under", 3000, day(4)),
		entry("bakery", 1800, day(5)),
		entry("byron", 7000, day(6)),
		entry("refund", -2000, day(7)),
		entry("pay", -10000, day(8)),
		entry("hold", 999, day(9)),
	}
	es[1].Merchant, es[1].Description = "100% Pure Juice", "100% PURE JUICE"
	es[2].Merchant, es[2].Description = "Under_Score Books", "UNDER_SCORE BOOKS"
	es[3].Merchant, es[3].Description, es[3].CardID, es[3].Channel = "Åberg Bageri", "ÅBERG BAGERI", 1002, account.Online
	es[4].Merchant, es[4].Description, es[4].CardID = "Skyline Air", "SKYLINE AIR", 1001
	es[5].Kind, es[5].Merchant, es[5].Description = account.Refund, "100% Pure Juice", "Refund: 100% Pure Juice"
	es[6] = account.Entry{AccountID: 10, Kind: account.Payment, Amount: -10000, Currency: "USD", Description: "Payment received",
		PostedAt: day(8), IdempotencyKey: "pay"}
	es[7].CardID, es[7].Status = 1001, account.Pending
	out := map[string]account.Transaction{}
	for _, e := range es {
		out[e.IdempotencyKey] = mustPost(t, s, e)
	}
	return out
}

func testTransactions(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	tx := ledgerFixture(t, s)
	amt := func(v int64) *int64 { return &v }
	// The fixture's own postings (February) are after January's, newest first.
	fixture := []string{"fixture-3", "fixture-2", "fixture-1"}
	all := append(slices.Clone(fixture), "hold", "pay", "refund", "byron", "bakery", "under", "pct", "coffee")
	tests := []struct {
		name   string
		holder int64
		acct   int64
		f      account.Filter
		want   []string
		kind   cp.Kind // Internal = no error
	}{
		{name: "basic sees everything", holder: 100, acct: 10, want: all},
		{name: "additional sees own card only", holder: 101, acct: 10, want: []string{"hold", "byron"}},
		{name: "additional with nothing", holder: 102, acct: 10, want: []string{}},
		{name: "card filter", holder: 100, acct: 10, f: account.Filter{CardID: 1002}, want: []string{"bakery"}},
		{name: "own card filter", holder: 101, acct: 10, f: account.Filter{CardID: 1001}, want: []string{"hold", "byron"}},
		{name: "another member's card", holder: 101, acct: 10, f: account.Filter{CardID: 1000}, kind: cp.NotFound},
		{name: "another account's card", holder: 100, acct: 10, f: account.Filter{CardID: 2000}, kind: cp.NotFound},
		{name: "another member's account", holder: 200, acct: 10, kind: cp.NotFound},
		{name: "unknown account", holder: 100, acct: 99, kind: cp.NotFound},
		{name: "date range inclusive", holder: 100, acct: 10, f: account.Filter{From: date(2026, 1, 3), To: date(2026, 1, 5)},
			want: []string{"bakery", "under", "pct"}},
		{name: "from only", holder: 100, acct: 10, f: account.Filter{From: date(2026, 1, 9)}, want: append(slices.Clone(fixture), "hold")},
		{name: "amount range", holder: 100, acct: 10, f: account.Filter{Min: amt(1800), Max: amt(3000)},
			want: []string{"fixture-2", "bakery", "under", "pct"}},
		{name: "credits only", holder: 100, acct: 10, f: account.Filter{Max: amt(-1)}, want: []string{"fixture-3", "pay", "refund"}},
		{name: "search ignores case", holder: 100, acct: 10, f: account.Filter{Query: "sKyLiNe"}, want: []string{"byron"}},
		{name: "search folds non-ASCII", holder: 100, acct: 10, f: account.Filter{Query: "åBERG"}, want: []string{"bakery"}},
		{name: "percent is literal", holder: 100, acct: 10, f: account.Filter{Query: "0%"}, want: []string{"refund", "pct"}},
		{name: "underscore is literal", holder: 100, acct: 10, f: account.Filter{Query: "_"}, want: []string{"under"}},
		{name: "lone percent", holder: 100, acct: 10, f: account.Filter{Query: "%"}, want: []string{"refund", "pct"}},
		{name: "search in description", holder: 100, acct: 10, f: account.Filter{Query: "refund:"}, want: []string{"refund"}},
		{name: "search and card scope", holder: 101, acct: 10, f: account.Filter{Query: "juice"}, want: []string{}},
		{name: "to before from", holder: 100, acct: 10, f: account.Filter{From: date(2026, 1, 5), To: date(2026, 1, 3)}, kind: cp.Invalid},
		{name: "max below min", holder: 100, acct: 10, f: account.Filter{Min: amt(5), Max: amt(4)}, kind: cp.Invalid},
		{name: "page too large", holder: 100, acct: 10, f: account.Filter{Limit: account.MaxPageSize + 1}, kind: cp.Invalid},
	}
	keyOf := map[int64]string{1: "fixture-1", 2: "fixture-2", 3: "fixture-3"}
	for k, v := range tx {
		keyOf[v.ID] = k
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.Transactions(ctx, tt.holder, tt.acct, tt.f)
			if tt.kind != cp.Internal {
				if !cp.IsKind(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, x := range page.Transactions {
				got = append(got, keyOf[x.ID])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if page.Next != nil {
				t.Errorf("a next page after %d results", len(got))
			}
		})
	}
	// What the list shows of a card entry and of an account-level one.
	page, err := s.Transactions(ctx, 100, 10, account.Filter{Query: "skyline"})
	if err != nil || len(page.Transactions) != 1 {
		t.Fatalf("Transactions: %v, %v", page, err)
	}
	if diff := cmp.Diff(tx["byron"], page.Transactions[0]); diff != "" || tx["byron"].HolderName != "Byron Lovelace" || tx["byron"].CardLast != "5678" {
		t.Errorf("listed transaction differs from the posted one (-posted +listed):\n%s", diff)
	}
	if p := tx["pay"]; p.CardID != 0 || p.CardLast != "" || p.HolderName != "" || p.Status != account.Posted {
		t.Errorf("payment: %+v", p)
	}
	if h := tx["hold"]; h.Status != account.Pending {
		t.Errorf("hold: status %q", h.Status)
	}
}

// testTransactionsPaging walks every page and checks the pages join up into the whole
// list, in order, with ties on the time broken by ID.
func testTransactionsPaging(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	for i := range 23 {
		// Pairs share an instant, so the keyset must break ties.
		mustPost(t, s, entry(fmt.Sprintf("p-%02d", i), int64(100+i), Base.Add(time.Duration(i/2)*time.Hour)))
	}
	full, err := s.Transactions(ctx, 100, 10, account.Filter{Limit: account.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Transactions) != 26 || full.Next != nil {
		t.Fatalf("one big page: %d transactions, next %v", len(full.Transactions), full.Next)
	}
	for i := 1; i < len(full.Transactions); i++ {
		a, b := full.Transactions[i-1], full.Transactions[i]
		if a.PostedAt.Before(b.PostedAt) || (a.PostedAt.Equal(b.PostedAt) && a.ID < b.ID) {
			t.Fatalf("not newest first at %d: %v/%d then %v/%d", i, a.PostedAt, a.ID, b.PostedAt, b.ID)
		}
	}
	for _, size := range []int{1, 5, 7, 26} {
		var (
			got   []account.Transaction
			f     = account.Filter{Limit: size}
			pages int
		)
		for {
			page, err := s.Transactions(ctx, 100, 10, f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(page.Transactions) > size {
				t.Fatalf("size %d: page of %d", size, len(page.Transactions))
			}
			got = append(got, page.Transactions...)
			if page.Next == nil {
				break
			}
			// Cursors survive their text form, as a URL carries them.
			c, err := account.ParseCursor(page.Next.String())
			if err != nil {
				t.Fatal(err)
			}
			f.After = &c
		}
		if diff := cmp.Diff(full.Transactions, got); diff != "" {
			t.Errorf("size %d: pages joined (-one page +pages):\n%s", size, diff)
		}
		if want := (26 + size - 1) / size; pages != want {
			t.Errorf("size %d: %d pages, want %d", size, pages, want)
		}
	}
}
