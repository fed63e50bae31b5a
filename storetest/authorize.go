package storetest

import (
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
)

// The fixture's card 1000 (active, account 10: limit 500000, balance 6500) and card
// 2000 (frozen, account 20: limit 1000000), as the authorisation logic sees them.
var (
	ref1000 = authorize.CardRef{CardID: 1000, AccountID: 10, Expiry: card.Expiry{Month: 12, Year: 2028}, Product: "gold", Currency: "USD"}
	ref2000 = authorize.CardRef{CardID: 2000, AccountID: 20, Expiry: card.Expiry{Month: 9, Year: 2029}, Product: "platinum", Currency: "USD"}
)

func authMsg(id, kind string) authorize.Message {
	return authorize.Message{ID: id, Kind: kind, Digest: []byte("digest-of-" + id), At: Base}
}

func authHold(ref authorize.CardRef, id string, amount int64) authorize.Hold {
	return authorize.Hold{
		Entry: account.Entry{AccountID: ref.AccountID, CardID: ref.CardID, Kind: account.Purchase, Amount: amount, Currency: "USD",
			Description: "Corner Shop", Merchant: "Corner Shop", MCC: "5411", City: "Springfield", Country: "US",
			Channel: account.InPerson, Status: account.Pending, PostedAt: Base, IdempotencyKey: "auth:" + id},
		AuthCode:  "A1B2C3",
		ExpiresAt: Base.Add(7 * 24 * time.Hour),
	}
}

// approveIf returns a decide function that approves when the amount fits the
// available credit, and records the snapshot it saw.
func approveIf(amount int64, seen *authorize.Snapshot) func(authorize.Snapshot) authorize.Decision {
	return func(s authorize.Snapshot) authorize.Decision {
		if seen != nil {
			*seen = s
		}
		if amount > s.Available() {
			return authorize.Decision{Code: authorize.NoCredit}
		}
		return authorize.Decision{Code: authorize.Approved}
	}
}

func authSummary(t *testing.T, s Store, holder int64) account.Summary {
	t.Helper()
	sums, err := s.Summaries(t.Context(), holder)
	if err != nil || len(sums) != 1 {
		t.Fatalf("Summaries(%d) = %v, %v", holder, sums, err)
	}
	return sums[0]
}

func statuses(t *testing.T, s Store, holder, acct int64) map[string]account.Status {
	t.Helper()
	page, err := s.Transactions(t.Context(), holder, acct, account.Filter{Limit: 100})
	if err != nil {
		t.Fatalf("Transactions: %v", err)
	}
	out := map[string]account.Status{}
	for _, tx := range page.Transactions {
		out[fmt.Sprintf("%s %d", tx.Kind, tx.Amount)] = tx.Status
	}
	return out
}

// testAuthorise: an approval places a hold that the summary counts as pending and the
// list shows; a message id answers once; declines are remembered too; velocity is
// counted over the card's approvals since the given instant.
func testAuthorise(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()

	var seen authorize.Snapshot
	a, err := s.Authorise(ctx, authMsg("m1", authorize.KindAuthorisation), ref1000, Base.Add(-time.Hour), authHold(ref1000, "m1", 1200), approveIf(1200, &seen))
	if err != nil || a.Code != authorize.Approved || a.AuthCode != "A1B2C3" || a.Replayed || a.MessageID != "m1" {
		t.Fatalf("Authorise m1 = %+v, %v; want an approval with the hold's code", a, err)
	}
	want := authorize.Snapshot{State: card.Active, CreditLimit: 500000, Balance: 6500}
	if seen.State != want.State || seen.CreditLimit != want.CreditLimit || seen.Balance != want.Balance || seen.Pending != 0 ||
		seen.VelocityCount != 0 || seen.PINValue != nil || seen.PINFailures != 0 {
		t.Errorf("snapshot = %+v, want %+v", seen, want)
	}
	if sum := authSummary(t, s, 100); sum.Pending != 1200 || sum.Balance != 6500 {
		t.Errorf("after approval: pending %d balance %d, want 1200 and 6500", sum.Pending, sum.Balance)
	}
	if st := statuses(t, s, 100, 10); st["purchase 1200"] != account.Pending {
		t.Errorf("transactions: the hold is %q, want pending", st["purchase 1200"])
	}

	// A resend answers the same and places nothing; the decide function is not asked.
	called := false
	a2, err := s.Authorise(ctx, authMsg("m1", authorize.KindAuthorisation), ref1000, time.Time{}, authHold(ref1000, "m1", 1200),
		func(authorize.Snapshot) authorize.Decision {
			called = true
			return authorize.Decision{Code: authorize.NoCredit}
		})
	if err != nil || !a2.Replayed || a2.Code != authorize.Approved || a2.AuthCode != "A1B2C3" || called {
		t.Errorf("resend = %+v, %v (decide called: %v); want the first answer replayed", a2, err, called)
	}
	if sum := authSummary(t, s, 100); sum.Pending != 1200 {
		t.Errorf("after a resend: pending %d, want 1200", sum.Pending)
	}
	// Another message under a used id is a conflict, whatever its kind.
	other := authMsg("m1", authorize.KindAuthorisation)
	other.Digest = []byte("another message")
	_, err = s.Authorise(ctx, other, ref1000, time.Time{}, authHold(ref1000, "m1", 99), approveIf(99, nil))
	wantErr(t, "reused message id", err, cp.Conflict, "")
	_, err = s.Reverse(ctx, authMsg("m1", authorize.KindReversal), ref1000, "m1", 0)
	wantErr(t, "reused message id of another kind", err, cp.Conflict, "")

	// A decline is stored: its resend declines even if the account changed since.
	d, err := s.Authorise(ctx, authMsg("m2", authorize.KindAuthorisation), ref2000, time.Time{}, authHold(ref2000, "m2", 500),
		func(authorize.Snapshot) authorize.Decision { return authorize.Decision{Code: authorize.RestrictedCard} })
	if err != nil || d.Code != authorize.RestrictedCard || d.AuthCode != "" {
		t.Fatalf("decline = %+v, %v", d, err)
	}
	d2, err := s.Authorise(ctx, authMsg("m2", authorize.KindAuthorisation), ref2000, time.Time{}, authHold(ref2000, "m2", 500), approveIf(500, nil))
	if err != nil || d2.Code != authorize.RestrictedCard || !d2.Replayed {
		t.Errorf("resent decline = %+v, %v", d2, err)
	}
	if sum := authSummary(t, s, 200); sum.Pending != 0 {
		t.Errorf("a decline held %d", sum.Pending)
	}
	// No such card: answered and remembered without a decision.
	n, err := s.Authorise(ctx, authMsg("m3", authorize.KindAuthorisation), authorize.CardRef{}, time.Time{}, authorize.Hold{},
		func(authorize.Snapshot) authorize.Decision {
			t.Error("decide called for no card")
			return authorize.Decision{}
		})
	if err != nil || n.Code != authorize.NoSuchCard {
		t.Errorf("unknown card = %+v, %v", n, err)
	}

	// Velocity: approvals of the card after since.
	if _, err := s.Authorise(ctx, authMsg("m4", authorize.KindAuthorisation), ref1000, time.Time{}, authHold(ref1000, "m4", 300), approveIf(300, nil)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Authorise(ctx, authMsg("m5", authorize.KindAuthorisation), ref1000, Base.Add(-time.Minute), authHold(ref1000, "m5", 1), approveIf(1, &seen))
	if err != nil || seen.VelocityCount != 2 || seen.VelocityTotal != 1500 || seen.Pending != 1500 {
		t.Errorf("velocity snapshot = %+v, %v; want 2 approvals for 1500", seen, err)
	}
	_, err = s.Authorise(ctx, authMsg("m6", authorize.KindAuthorisation), ref1000, Base, authHold(ref1000, "m6", 1), approveIf(1, &seen))
	if err != nil || seen.VelocityCount != 0 {
		t.Errorf("velocity since now = %d, %v; want 0", seen.VelocityCount, err)
	}

	// Holds expire: none before their time, all after.
	if n, err := s.ExpireHolds(ctx, Base.Add(24*time.Hour)); err != nil || n != 0 {
		t.Errorf("ExpireHolds early = %d, %v", n, err)
	}
	if n, err := s.ExpireHolds(ctx, Base.Add(8*24*time.Hour)); err != nil || n != 4 {
		t.Errorf("ExpireHolds = %d, %v; want 4", n, err)
	}
	if sum := authSummary(t, s, 100); sum.Pending != 0 || sum.Balance != 6500 {
		t.Errorf("after expiry: pending %d balance %d", sum.Pending, sum.Balance)
	}
	if st := statuses(t, s, 100, 10); len(st) != 3 {
		t.Errorf("after expiry the list shows %v; released holds must not be listed", st)
	}
}

// testAuthReverseClear: partial and full reversals release holds, clearing posts the
// presented amount and releases the hold, a refund credits, and each is idempotent.
func testAuthReverseClear(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	for _, id := range []string{"a1", "a2"} {
		if a, err := s.Authorise(ctx, authMsg(id, authorize.KindAuthorisation), ref1000, time.Time{}, authHold(ref1000, id, 10000), approveIf(10000, nil)); err != nil || a.Code != authorize.Approved {
			t.Fatalf("Authorise %s = %+v, %v", id, a, err)
		}
	}
	// Partial reversal of a1: 2500 released, 7500 stays held.
	r, err := s.Reverse(ctx, authMsg("r1", authorize.KindReversal), ref1000, "a1", 2500)
	if err != nil || r.Code != authorize.Approved {
		t.Fatalf("partial reversal = %+v, %v", r, err)
	}
	if sum := authSummary(t, s, 100); sum.Pending != 17500 {
		t.Errorf("after partial reversal: pending %d, want 17500", sum.Pending)
	}
	if r, err := s.Reverse(ctx, authMsg("r1", authorize.KindReversal), ref1000, "a1", 2500); err != nil || !r.Replayed {
		t.Errorf("resent reversal = %+v, %v", r, err)
	}
	if sum := authSummary(t, s, 100); sum.Pending != 17500 {
		t.Errorf("after a resent reversal: pending %d, want 17500", sum.Pending)
	}
	// Unknown original, or another card's: 25.
	if r, err := s.Reverse(ctx, authMsg("r2", authorize.KindReversal), ref1000, "nope", 0); err != nil || r.Code != authorize.NoOriginal {
		t.Errorf("reversal of an unknown authorisation = %+v, %v", r, err)
	}
	if r, err := s.Reverse(ctx, authMsg("r3", authorize.KindReversal), ref2000, "a2", 0); err != nil || r.Code != authorize.NoOriginal {
		t.Errorf("reversal naming another card's authorisation = %+v, %v", r, err)
	}
	// Full reversal of a2.
	if r, err := s.Reverse(ctx, authMsg("r4", authorize.KindReversal), ref1000, "a2", 0); err != nil || r.Code != authorize.Approved {
		t.Errorf("full reversal = %+v, %v", r, err)
	}
	if sum := authSummary(t, s, 100); sum.Pending != 7500 {
		t.Errorf("after full reversal: pending %d, want 7500", sum.Pending)
	}
	// Clearing a1 for more than is held (a tip): posts 8000, releases the 7500.
	clr := account.Entry{AccountID: 10, CardID: 1000, Kind: account.Purchase, Amount: 8000, Currency: "USD", Description: "Corner Shop",
		Merchant: "Corner Shop", MCC: "5411", Channel: account.InPerson, Status: account.Posted, PostedAt: Base.Add(24 * time.Hour), IdempotencyKey: "clr:c1"}
	if c, err := s.Present(ctx, authMsg("c1", authorize.KindClearing), ref1000, "a1", clr); err != nil || c.Code != authorize.Approved {
		t.Fatalf("clearing = %+v, %v", c, err)
	}
	if sum := authSummary(t, s, 100); sum.Pending != 0 || sum.Balance != 6500+8000 {
		t.Errorf("after clearing: pending %d balance %d, want 0 and 14500", sum.Pending, sum.Balance)
	}
	if c, err := s.Present(ctx, authMsg("c1", authorize.KindClearing), ref1000, "a1", clr); err != nil || !c.Replayed {
		t.Errorf("resent clearing = %+v, %v", c, err)
	}
	if sum := authSummary(t, s, 100); sum.Balance != 14500 {
		t.Errorf("a resent clearing posted again: balance %d", sum.Balance)
	}
	// The list shows the posted purchase, not the released holds.
	st := statuses(t, s, 100, 10)
	if st["purchase 8000"] != account.Posted || len(st) != 4 {
		t.Errorf("transactions after clearing: %v", st)
	}
	// Reversing a cleared authorisation changes nothing.
	if r, err := s.Reverse(ctx, authMsg("r5", authorize.KindReversal), ref1000, "a1", 0); err != nil || r.Code != authorize.Approved {
		t.Errorf("reversal after clearing = %+v, %v", r, err)
	}
	if sum := authSummary(t, s, 100); sum.Balance != 14500 || sum.Pending != 0 {
		t.Errorf("reversal after clearing changed the account: %+v", sum)
	}
	// A clearing without authorisation posts; a refund credits.
	clr2 := clr
	clr2.Amount, clr2.IdempotencyKey = 700, "clr:c2"
	if c, err := s.Present(ctx, authMsg("c2", authorize.KindClearing), ref1000, "", clr2); err != nil || c.Code != authorize.Approved {
		t.Errorf("clearing without authorisation = %+v, %v", c, err)
	}
	ref := clr
	ref.Kind, ref.Amount, ref.IdempotencyKey = account.Refund, -1000, "ref:f1"
	if c, err := s.Present(ctx, authMsg("f1", authorize.KindRefund), ref1000, "", ref); err != nil || c.Code != authorize.Approved {
		t.Errorf("refund = %+v, %v", c, err)
	}
	if sum := authSummary(t, s, 100); sum.Balance != 14500+700-1000 {
		t.Errorf("after clearing and refund: balance %d, want %d", sum.Balance, 14500+700-1000)
	}
	// A presentment in another currency is refused and posts nothing.
	eur := clr2
	eur.Currency, eur.IdempotencyKey = "EUR", "clr:c3"
	if c, err := s.Present(ctx, authMsg("c3", authorize.KindClearing), ref1000, "", eur); err != nil || c.Code != authorize.InvalidTxn {
		t.Errorf("clearing in EUR = %+v, %v", c, err)
	}
}

// testAuthPINTries: wrong PINs are counted for the card's current PIN, a right one
// clears the count, and a new PIN starts afresh.
func testAuthPINTries(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	if err := s.SetPINValue(ctx, 1000, []byte("pvv-1"), Base); err != nil {
		t.Fatal(err)
	}
	n := 0
	try := func(outcome authorize.PINOutcome) authorize.Snapshot {
		t.Helper()
		n++
		id := fmt.Sprintf("p%d", n)
		var seen authorize.Snapshot
		_, err := s.Authorise(ctx, authMsg(id, authorize.KindAuthorisation), ref1000, time.Time{}, authHold(ref1000, id, 1),
			func(snap authorize.Snapshot) authorize.Decision {
				seen = snap
				code := authorize.WrongPIN
				if outcome == authorize.PINGood {
					code = authorize.Approved
				}
				return authorize.Decision{Code: code, PIN: outcome}
			})
		if err != nil {
			t.Fatalf("Authorise %s: %v", id, err)
		}
		return seen
	}
	if s := try(authorize.PINBad); string(s.PINValue) != "pvv-1" || s.PINFailures != 0 {
		t.Errorf("first try saw %+v", s)
	}
	try(authorize.PINBad)
	if s := try(authorize.PINBad); s.PINFailures != 2 {
		t.Errorf("third try saw %d failures, want 2", s.PINFailures)
	}
	if s := try(authorize.PINNotChecked); s.PINFailures != 3 {
		t.Errorf("after 3 wrong PINs: %d failures", s.PINFailures)
	}
	// A new PIN starts from zero.
	if err := s.SetPINValue(ctx, 1000, []byte("pvv-2"), Base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s := try(authorize.PINBad); s.PINFailures != 0 || string(s.PINValue) != "pvv-2" {
		t.Errorf("after a new PIN: %+v", s)
	}
	try(authorize.PINGood)
	if s := try(authorize.PINNotChecked); s.PINFailures != 0 {
		t.Errorf("a right PIN left %d failures", s.PINFailures)
	}
}

// testAuthoriseConcurrent races many authorisations for the last of an account's
// credit: exactly as many are approved as fit, and the account never goes over its
// limit. Resends of one message id racing each other place one hold.
func testAuthoriseConcurrent(t *testing.T, s Store, _ *sql.DB) { ConcurrentAuthorise(t, s) }

// ConcurrentAuthorise is testAuthoriseConcurrent over several stores on one database
// (as several instances of the program), taking turns; it loads the fixture through
// the first.
func ConcurrentAuthorise(t *testing.T, stores ...Store) {
	s := stores[0]
	mustLoad(t, s)
	ctx := t.Context()
	// Account 10 has 500000 - 6500 = 493500 available; take it down to 10000.
	if a, err := s.Authorise(ctx, authMsg("big", authorize.KindAuthorisation), ref1000, time.Time{}, authHold(ref1000, "big", 483500), approveIf(483500, nil)); err != nil || a.Code != authorize.Approved {
		t.Fatalf("big = %+v, %v", a, err)
	}
	const (
		callers = 64
		amount  = 700 // 14 fit in 10000
	)
	var approved, declined atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			id := fmt.Sprintf("race-%d", i)
			a, err := stores[i%len(stores)].Authorise(ctx, authMsg(id, authorize.KindAuthorisation), ref1000, time.Time{}, authHold(ref1000, id, amount), approveIf(amount, nil))
			switch {
			case err != nil:
				t.Errorf("Authorise %s: %v", id, err)
			case a.Code == authorize.Approved:
				approved.Add(1)
			default:
				declined.Add(1)
			}
		})
	}
	// The same message id sent by 16 callers at once.
	var replays atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			<-start
			a, err := stores[i%len(stores)].Authorise(ctx, authMsg("dup", authorize.KindAuthorisation), ref2000, time.Time{}, authHold(ref2000, "dup", 100), approveIf(100, nil))
			if err != nil || a.Code != authorize.Approved {
				t.Errorf("dup = %+v, %v", a, err)
			}
			if a.Replayed {
				replays.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if approved.Load() != 10000/amount || declined.Load() != callers-10000/amount {
		t.Errorf("approved %d, declined %d; want %d and %d", approved.Load(), declined.Load(), 10000/amount, callers-10000/amount)
	}
	sum := authSummary(t, s, 100)
	if sum.Available() < 0 || sum.Pending != 483500+approved.Load()*amount {
		t.Errorf("account 10: pending %d, available %d: over the limit or holds lost", sum.Pending, sum.Available())
	}
	if replays.Load() != 15 || authSummary(t, s, 200).Pending != 100 {
		t.Errorf("16 racing resends: %d replayed, pending %d; want 15 and 100", replays.Load(), authSummary(t, s, 200).Pending)
	}
}
