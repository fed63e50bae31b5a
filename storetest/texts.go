package storetest

import (
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
)

// testLedgerTexts checks that a posting's text message (TextID and TextArgs, the
// catalogue message a surface shows in the member's language) is stored and read back
// by Post, Transactions and LoadIssuer, and takes part in idempotency.
func testLedgerTexts(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	d := Fixture()
	d.Postings[1].TextID = "ledger.fee.annual"
	d.Postings[2].TextID, d.Postings[2].TextArgs = "ledger.payment.received", map[string]string{"confirmation": "PAY-LOADED"}
	if err := s.LoadIssuer(ctx, d); err != nil {
		t.Fatalf("LoadIssuer: %v", err)
	}

	pay := account.Entry{
		AccountID: 10, Kind: account.Payment, Amount: -2500, Currency: "USD", Description: "Payment received PAY-1",
		TextID: "ledger.payment.received", TextArgs: map[string]string{"confirmation": "PAY-1", "rate_num": "24.99"},
		PostedAt: Base, IdempotencyKey: "text-pay",
	}
	first := mustPost(t, s, pay)
	if first.TextID != pay.TextID || !cmp.Equal(first.TextArgs, pay.TextArgs) {
		t.Errorf("Post returned text %q %v, want %q %v", first.TextID, first.TextArgs, pay.TextID, pay.TextArgs)
	}
	plain := mustPost(t, s, entry("text-plain", 700, Base))
	if plain.TextID != "" || plain.TextArgs != nil {
		t.Errorf("merchant posting has text %q %v, want none", plain.TextID, plain.TextArgs)
	}

	with := func(f func(*account.Entry)) account.Entry {
		e := pay
		e.TextArgs = map[string]string{"confirmation": "PAY-1", "rate_num": "24.99"}
		f(&e)
		return e
	}
	checkPosts(t, s, first, []postCase{
		{"retry returns the first", with(func(*account.Entry) {}), cp.Internal},
		{"key reused, other message", with(func(e *account.Entry) { e.TextID = "ledger.payment.thanks" }), cp.Conflict},
		{"key reused, other argument", with(func(e *account.Entry) { e.TextArgs["confirmation"] = "PAY-2" }), cp.Conflict},
		{"key reused, no arguments", with(func(e *account.Entry) { e.TextArgs = nil }), cp.Conflict},
		{"message ID with capitals", with(func(e *account.Entry) { e.IdempotencyKey, e.TextID = "text-bad", "Ledger.Pay" }), cp.Invalid},
		{"arguments without a message", with(func(e *account.Entry) { e.IdempotencyKey, e.TextID = "text-bad", "" }), cp.Invalid},
		{"number argument not a number", with(func(e *account.Entry) { e.IdempotencyKey, e.TextArgs["rate_num"] = "text-bad", "lots" }), cp.Invalid},
		{"control character in an argument", with(func(e *account.Entry) { e.IdempotencyKey, e.TextArgs["confirmation"] = "text-bad", "a\nb" }), cp.Invalid},
	})

	// A posting stored before postings had texts is found again by a retry that now
	// carries one (a job retried across the upgrade), as long as the rest is the same.
	legacy := account.Entry{AccountID: 10, Kind: account.Interest, Amount: 321, Currency: "USD",
		Description: "Interest charge at 24.99% APR", PostedAt: Base, IdempotencyKey: "text-legacy"}
	old := mustPost(t, s, legacy)
	legacy.TextID, legacy.TextArgs = "ledger.interest", map[string]string{"apr_num": "24.99"}
	if got, err := s.Post(ctx, legacy); err != nil || got.ID != old.ID {
		t.Errorf("retry with a text of a posting without one: %+v, %v; want posting %d", got, err, old.ID)
	}

	type text struct {
		ID   string
		Args map[string]string
	}
	page, err := s.Transactions(ctx, 100, 10, account.Filter{Limit: account.MaxPageSize})
	if err != nil {
		t.Fatalf("Transactions: %v", err)
	}
	got := map[string]text{}
	for _, tx := range page.Transactions {
		got[tx.Description] = text{tx.TextID, tx.TextArgs}
	}
	want := map[string]text{
		"Books":                         {},
		"Annual fee":                    {ID: "ledger.fee.annual"},
		"Thank you":                     {ID: "ledger.payment.received", Args: map[string]string{"confirmation": "PAY-LOADED"}},
		"Payment received PAY-1":        {ID: pay.TextID, Args: pay.TextArgs},
		"Blue Harbor Coffee":            {},
		"Interest charge at 24.99% APR": {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("texts listed (-want +got):\n%s", diff)
	}

	// Search still matches the English description.
	page, err = s.Transactions(ctx, 100, 10, account.Filter{Query: "pay-1"})
	if err != nil || len(page.Transactions) != 1 || page.Transactions[0].ID != first.ID {
		t.Errorf("search for the confirmation: %+v, %v; want posting %d", page.Transactions, err, first.ID)
	}
	// And the text in every language: a member searches in their own words, both for
	// what was posted and for what was loaded.
	for _, q := range []string{"betalning mottagen pay-1", "Pago recibido PAY-1"} {
		page, err = s.Transactions(ctx, 100, 10, account.Filter{Query: q})
		if err != nil || len(page.Transactions) != 1 || page.Transactions[0].ID != first.ID {
			t.Errorf("search for %q: %+v, %v; want posting %d", q, page.Transactions, err, first.ID)
		}
	}
	page, err = s.Transactions(ctx, 100, 10, account.Filter{Query: "årsavgift"})
	if err != nil || len(page.Transactions) != 1 || page.Transactions[0].Description != "Annual fee" {
		t.Errorf("search for the loaded fee in Swedish: %+v, %v; want the annual fee", page.Transactions, err)
	}
}
