package demo

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
)

// TestHistory checks the year of postings account by account: every posting is a
// well-formed ledger entry in the past year, the balance plus holds stays under the
// limit at every step, and what is due follows from the last statement.
func TestHistory(t *testing.T) {
	ds, _ := generateT(t, newHSM(t), testSeed, testNow, 300)
	today := time.Date(2026, time.March, 15, 0, 0, 0, 0, time.UTC)
	accounts := byID(ds.Accounts, func(a issuer.Account) int64 { return a.ID })
	cards := byID(ds.Cards, func(c issuer.Card) int64 { return c.ID })
	byAccount := map[int64][]issuer.Posting{}
	kinds := map[account.Kind]int{}
	var pending, abroad, online, recurring int
	for _, p := range ds.Postings {
		byAccount[p.AccountID] = append(byAccount[p.AccountID], p)
		k := account.Kind(p.Kind)
		kinds[k]++
		if !k.Valid() || p.Amount == 0 || (p.Amount > 0) != k.Debit() {
			t.Errorf("posting %d: kind %q with amount %d", p.ID, p.Kind, p.Amount)
		}
		if !p.PostedAt.Before(testNow) || p.PostedAt.Before(today.AddDate(-1, 0, -16)) {
			t.Errorf("posting %d: posted at %v, not in the last year", p.ID, p.PostedAt)
		}
		if p.Status != "" && p.Status != string(account.Pending) {
			t.Errorf("posting %d: status %q", p.ID, p.Status)
		}
		if p.Status == string(account.Pending) {
			pending++
			if p.Kind != string(account.Purchase) || testNow.Sub(p.PostedAt) > 48*time.Hour {
				t.Errorf("posting %d: a %s pending since %v", p.ID, p.Kind, p.PostedAt)
			}
		}
		switch k {
		case account.Purchase, account.Refund:
			c, ok := cards[p.CardID]
			if !ok || c.AccountID != p.AccountID || c.State == issuer.StateInactive {
				t.Errorf("posting %d: card %d is not a used card of account %d", p.ID, p.CardID, p.AccountID)
			}
			if p.Merchant == "" || len(p.MCC) != 4 || p.City == "" || len(p.Country) != 2 || p.Channel == "" {
				t.Errorf("posting %d: merchant data incomplete: %+v", p.ID, p)
			}
			if p.Country != "US" {
				abroad++
			}
			switch account.Channel(p.Channel) {
			case account.Online:
				online++
			case account.Recurring:
				recurring++
			}
		default:
			if p.CardID != 0 || p.Merchant != "" {
				t.Errorf("posting %d: account-level %s with card %d, merchant %q", p.ID, p.Kind, p.CardID, p.Merchant)
			}
		}
	}
	for _, k := range account.Kinds {
		if k == account.Adjustment {
			continue // only a dispute resolved for the merchant makes one
		}
		if kinds[k] == 0 {
			t.Errorf("no %s postings in the whole demo", k)
		}
	}
	if pending == 0 || abroad == 0 || online == 0 || recurring == 0 {
		t.Errorf("pending %d, abroad %d, online %d, recurring %d: want some of each", pending, abroad, online, recurring)
	}

	var owing, clear, revolving, monthly int
	for id, ps := range byAccount {
		a := accounts[id]
		if !slices.IsSortedFunc(ps, func(x, y issuer.Posting) int { return x.PostedAt.Compare(y.PostedAt) }) {
			t.Errorf("account %d: postings not in time order", id)
		}
		var used, payments, interest int64
		for _, p := range ps {
			used += p.Amount
			if used >= a.CreditLimit {
				t.Errorf("account %d: balance and holds %d reach the limit %d at %v", id, used, a.CreditLimit, p.PostedAt)
			}
			switch account.Kind(p.Kind) {
			case account.Payment:
				payments++
			case account.Interest:
				interest++
			}
		}
		if payments >= historyMonths-1 {
			monthly++
		}
		if interest > 0 {
			revolving++
		}
		if a.MinimumDue == 0 {
			clear++
			if !a.PaymentDue.IsZero() {
				t.Errorf("account %d: due %v with no minimum", id, a.PaymentDue)
			}
			continue
		}
		owing++
		if d := a.PaymentDue; d != civil(d) || d.Before(today.AddDate(0, 0, 10)) || d.After(today.AddDate(0, 0, 25)) {
			t.Errorf("account %d: payment due %v, not a civil date 10-25 days after %v", id, d, today)
		}
	}
	// An account whose only card is still to be activated has no history.
	if len(byAccount) < len(ds.Accounts)*95/100 {
		t.Errorf("%d of %d accounts have history", len(byAccount), len(ds.Accounts))
	}
	// Accounts whose cards came later, or sat unused, have fewer statements to pay.
	if monthly < len(ds.Accounts)*85/100 {
		t.Errorf("%d of %d accounts paid every month", monthly, len(ds.Accounts))
	}
	if owing == 0 || clear == 0 || revolving == 0 || revolving == len(ds.Accounts) {
		t.Errorf("%d accounts owe, %d do not, %d revolve: want some of each", owing, clear, revolving)
	}
}

// An account's history must not depend on how many accounts are generated: tests and
// a resized demo rely on account 1 looking the same.
func TestHistoryIndependentOfSize(t *testing.T) {
	hsm := newHSM(t)
	small, _ := generateT(t, hsm, testSeed, testNow, 20)
	large, _ := generateT(t, hsm, testSeed, testNow, 300)
	if !reflect.DeepEqual(small.Postings, large.Postings[:len(small.Postings)]) {
		t.Error("the first accounts' postings differ between sizes 20 and 300")
	}
	if !reflect.DeepEqual(small.Accounts, large.Accounts[:len(small.Accounts)]) {
		t.Error("the first accounts differ between sizes 20 and 300")
	}
}

func TestInterest(t *testing.T) {
	for _, tc := range []struct{ unpaid, want int64 }{
		{24, 0},         // 0.4998 cents
		{48, 1},         // 0.99960 cents rounds up
		{10_000, 208},   // 100.00 at 24.99% / 12 = 2.0825
		{100_000, 2083}, // 20.825 rounds half up
		{0, 0},
	} {
		if got := interest(tc.unpaid); got != tc.want {
			t.Errorf("interest(%d) = %d, want %d", tc.unpaid, got, tc.want)
		}
	}
}
