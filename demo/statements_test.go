package demo

import (
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/statement"
)

// TestStatements checks the demo's closed cycles against its postings: about a year
// of monthly statements per account, each opening with the last one's balance, adding
// up, and ending at the ledger's balance on its closing day; the account's closing
// day is where the close job takes over.
func TestStatements(t *testing.T) {
	ds, _ := generateT(t, newHSM(t), testSeed, testNow, 300)
	byAccount := map[int64][]issuer.Statement{}
	for _, st := range ds.Statements {
		byAccount[st.AccountID] = append(byAccount[st.AccountID], st)
	}
	postings := map[int64][]issuer.Posting{}
	for _, p := range ds.Postings {
		postings[p.AccountID] = append(postings[p.AccountID], p)
	}
	for i, st := range ds.Statements {
		if st.ID != int64(i+1) {
			t.Fatalf("statement %d has ID %d", i, st.ID)
		}
	}
	if n := len(ds.Statements); n < 11*len(ds.Accounts) {
		t.Errorf("%d statements for %d accounts, want about a year's each", n, len(ds.Accounts))
	}
	for _, a := range ds.Accounts {
		sts := byAccount[a.ID]
		if len(sts) > 12 {
			t.Errorf("account %d: %d statements, more than a year's", a.ID, len(sts))
		}
		if len(sts) == 0 {
			// An account with no card in use until this cycle has nothing to state.
			for _, p := range postings[a.ID] {
				if p.PostedAt.Before(testNow.AddDate(0, 0, -16)) {
					t.Errorf("account %d: no statement, but a posting at %s", a.ID, p.PostedAt)
				}
			}
			continue
		}
		if a.CycleDay < 1 || a.CycleDay > 28 {
			t.Errorf("account %d: cycle day %d", a.ID, a.CycleDay)
		}
		if last := sts[len(sts)-1]; !last.ClosingDate.Before(testNow) {
			t.Errorf("account %d: last statement closes %s, not in the past", a.ID, last.ClosingDate.Format(time.DateOnly))
		}
		var prev int64
		for k, st := range sts {
			if st.Opening != prev || st.Opening+st.Purchases+st.Credits+st.Interest != st.Closing {
				t.Errorf("account %d statement %d: %+v does not follow on from %d", a.ID, k, st, prev)
			}
			if k > 0 && !st.PeriodStart.Equal(sts[k-1].ClosingDate.AddDate(0, 0, 1)) {
				t.Errorf("account %d statement %d: starts %s after %s", a.ID, k, st.PeriodStart, sts[k-1].ClosingDate)
			}
			if st.DueDate != st.ClosingDate.AddDate(0, 0, 25) {
				t.Errorf("account %d statement %d: due %s", a.ID, k, st.DueDate)
			}
			var ledger int64
			for _, p := range postings[a.ID] {
				if p.Status != string(account.Pending) && !p.PostedAt.After(statement.EndOfDay(st.ClosingDate)) {
					ledger += p.Amount
				}
			}
			if ledger != st.Closing {
				t.Errorf("account %d statement %d: closing %d, ledger %d", a.ID, k, st.Closing, ledger)
			}
			prev = st.Closing
		}
	}
}
