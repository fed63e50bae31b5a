package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
)

// The rewards and offers contracts (rewards.Store, offers.Store, rewards.Loader) on
// Fixture with Programme: the gold product (account 10) earns 1 point per 1.00, 3 at
// grocers (5411) and 2 at cafés (5814); platinum (account 20) 2 per 1.00.

// Programme is the suite's rewards programme.
func Programme() rewards.Programme {
	return rewards.Programme{
		Rates: []rewards.ProgrammeRate{
			{ProductCode: "gold", PointsPer: 1}, {ProductCode: "gold", MCC: "5411", PointsPer: 3},
			{ProductCode: "gold", MCC: "5814", PointsPer: 2}, {ProductCode: "platinum", PointsPer: 2},
		},
		Items: []rewards.ProgrammeItem{
			{Code: "credit", Kind: rewards.StatementCredit, Points: 500, Step: 100, Value: 100, Currency: "USD"},
			{Code: "voucher-25", Kind: rewards.Voucher, Points: 2500},
			{Code: "credit-eur", Kind: rewards.StatementCredit, Points: 100, Value: 100, Currency: "EUR"},
		},
		Offers: []offers.Offer{
			{Code: "coffee", Merchant: "Blue Harbor Coffee", MinSpend: 1000, Credit: 300, Currency: "USD",
				StartsOn: date(2026, 2, 1), EndsOn: date(2026, 3, 31)},
			{Code: "grocers", MCC: "5411", MinSpend: 5000, Credit: 1000, Currency: "USD",
				StartsOn: date(2026, 3, 1), EndsOn: date(2026, 4, 30)},
			{Code: "ended", MCC: "5411", MinSpend: 1, Credit: 100, Currency: "USD",
				StartsOn: date(2025, 1, 1), EndsOn: date(2025, 12, 31)},
			{Code: "euro", MCC: "5411", MinSpend: 1, Credit: 100, Currency: "EUR",
				StartsOn: date(2026, 1, 1), EndsOn: date(2026, 12, 31)},
		},
		Benefits: []offers.Benefit{
			{ProductCode: "gold", TextID: "benefit.travel"}, {ProductCode: "gold", TextID: "benefit.purchase"},
			{ProductCode: "platinum", TextID: "benefit.lounge"},
		},
	}
}

func mustLoadRewards(t *testing.T, s Store) {
	t.Helper()
	mustLoad(t, s)
	if err := s.LoadRewards(t.Context(), Programme()); err != nil {
		t.Fatalf("LoadRewards: %v", err)
	}
}

func sweep(t *testing.T, svc *rewards.Service) int {
	t.Helper()
	n, err := svc.Sweep(t.Context())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	return n
}

func balance(t *testing.T, s Store, acct int64) int64 {
	t.Helper()
	b, err := s.PointsBalance(t.Context(), acct)
	if err != nil {
		t.Fatalf("PointsBalance: %v", err)
	}
	return b
}

func itemByCode(t *testing.T, s Store, code string) rewards.Item {
	t.Helper()
	items, err := s.Catalogue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Code == code {
			return it
		}
	}
	t.Fatalf("no item %q in %v", code, items)
	return rewards.Item{}
}

func testRewardsLoad(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	// Loading again changes nothing and is no error.
	p := Programme()
	p.Rates[0].PointsPer = 999
	if err := s.LoadRewards(ctx, p); err != nil {
		t.Fatalf("second LoadRewards: %v", err)
	}
	rates, err := s.EarnRates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]rewards.Rates{
		"gold":     {Base: 1, Bonus: map[string]int64{"5411": 3, "5814": 2}},
		"platinum": {Base: 2},
	}
	if diff := cmp.Diff(want, rates); diff != "" {
		t.Errorf("EarnRates (-want +got):\n%s", diff)
	}
	items, err := s.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, it := range items {
		codes = append(codes, it.Code)
	}
	if diff := cmp.Diff([]string{"credit", "voucher-25", "credit-eur"}, codes); diff != "" {
		t.Errorf("catalogue order (-want +got):\n%s", diff)
	}
	got, err := s.RewardItem(ctx, items[0].ID)
	if err != nil || got != items[0] {
		t.Errorf("RewardItem = %+v, %v; want %+v", got, err, items[0])
	}
	_, err = s.RewardItem(ctx, 4242)
	wantErr(t, "unknown item", err, cp.NotFound, "")
	bs, err := s.Benefits(ctx, 101, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]offers.Benefit{{ProductCode: "gold", TextID: "benefit.travel"}, {ProductCode: "gold", TextID: "benefit.purchase"}}, bs); diff != "" {
		t.Errorf("Benefits (-want +got):\n%s", diff)
	}
	_, err = s.Benefits(ctx, 200, 10)
	wantErr(t, "benefits of another member's account", err, cp.NotFound, "")
}

// testRewardsSweep earns, reverses and re-sweeps: every posting gets one entry, found
// however late it arrives, and a refund takes back what its purchase earned.
func testRewardsSweep(t *testing.T, s Store, db *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	svc := rewards.New(s, cardportaltest.NewClock(Base).Now, nil)
	// The fixture's own purchase: 50.00 of books at the base rate.
	if n := sweep(t, svc); n != 1 {
		t.Errorf("first sweep wrote %d entries, want 1", n)
	}
	if b := balance(t, s, 10); b != 50 {
		t.Errorf("balance %d, want 50", b)
	}
	grocer := entry("g-1", 4_567, Base.Add(time.Hour)) // 45.67 at 3x: 137
	grocer.Merchant, grocer.Description, grocer.MCC = "Cedar Street Grocers", "Cedar Street Grocers", "5411"
	mustPost(t, s, grocer)
	mustPost(t, s, entry("c-1", 5_000, Base.Add(2*time.Hour))) // 50.00 at 2x: 100
	pending := entry("c-pending", 9_000, Base.Add(3*time.Hour))
	pending.Status = account.Pending
	held := mustPost(t, s, pending) // not posted yet: no points
	fee := entry("fee-1", 2_500, Base.Add(4*time.Hour))
	fee.Kind, fee.CardID, fee.Merchant, fee.MCC, fee.Channel = account.Fee, 0, "", "", account.NoChannel
	mustPost(t, s, fee) // fees earn nothing
	if n := sweep(t, svc); n != 2 {
		t.Errorf("second sweep wrote %d entries, want 2", n)
	}
	if b := balance(t, s, 10); b != 50+137+100 {
		t.Errorf("balance %d, want %d", b, 50+137+100)
	}
	if n := sweep(t, svc); n != 0 {
		t.Errorf("a sweep with nothing new wrote %d entries", n)
	}

	// A partial refund of the café purchase takes back its share at 2x; a second,
	// larger one only what is left.
	refund := entry("r-1", -2_000, Base.Add(5*time.Hour))
	refund.Kind = account.Refund
	mustPost(t, s, refund)
	refund2 := refund
	refund2.IdempotencyKey, refund2.Amount, refund2.PostedAt = "r-2", -4_000, Base.Add(6*time.Hour)
	mustPost(t, s, refund2)
	// A refund from a merchant with no purchase goes back at its own MCC's rate.
	orphan := entry("r-3", -1_000, Base.Add(7*time.Hour))
	orphan.Kind, orphan.Merchant, orphan.MCC = account.Refund, "Unknown Grocer", "5411"
	mustPost(t, s, orphan)
	if n := sweep(t, svc); n != 3 {
		t.Errorf("refund sweep wrote %d entries, want 3", n)
	}
	if b, want := balance(t, s, 10), int64(50+137+100-40-60-30); b != want {
		t.Errorf("balance after refunds %d, want %d", b, want)
	}
	hist, err := s.PointsHistory(ctx, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, fmt.Sprintf("%s %d", e.Kind, e.Points))
	}
	want := []string{"reverse -30", "reverse -60", "reverse -40", "earn 100", "earn 137", "earn 50"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history, newest first (-want +got):\n%s", diff)
	}
	if hist[2].MatchedID == 0 || hist[2].MatchedID != hist[1].MatchedID || hist[0].MatchedID != 0 {
		t.Errorf("matched purchases: %d, %d, %d; want the café purchase twice, then none", hist[2].MatchedID, hist[1].MatchedID, hist[0].MatchedID)
	}
	if b := balance(t, s, 20); b != 0 {
		t.Errorf("account 20 balance %d, want 0", b)
	}

	// The parts below go on from the state above: each needs postings the sweep has
	// seen, and the suite's table of tests is in storetest.go.
	t.Run("QueueDrained", func(t *testing.T) { checkQueueDrained(t, s, db) })
	t.Run("PendingThenPosted", func(t *testing.T) { testRewardsPendingPosted(t, s, db, held.ID) })
	t.Run("LateCommit", func(t *testing.T) { testRewardsLateCommit(t, s, db) })
}

// checkQueueDrained checks, right after a sweep that wrote entries, that it left no
// work behind: the queue (migration 00018) is empty, and the next sweep's look for new
// postings finds none.
func checkQueueDrained(t *testing.T, s Store, db *sql.DB) {
	t.Helper()
	now := cardportaltest.NewClock(Base).Now
	if db != nil {
		if n := count(t, db, `SELECT COUNT(*) FROM reward_queue`); n != 0 {
			t.Errorf("%d postings queued after a sweep, want none", n)
		}
	}
	read := 0
	second := rewards.New(sweepStore{Store: s, unrewarded: func(ctx context.Context, after int64, limit int) ([]rewards.Posting, error) {
		ps, err := s.UnrewardedPostings(ctx, after, limit)
		read += len(ps)
		return ps, err
	}}, now, nil)
	if n := sweep(t, second); n != 0 || read != 0 {
		t.Errorf("the sweep after a sweep read %d postings and wrote %d entries, want none", read, n)
	}
}

// testRewardsPendingPosted turns a pending purchase (id held, 90.00 at 2x) into a
// posted one behind the store's back, as any writer of postings could: the trigger
// queues it and the next sweep rewards it. Then the purchase goes back to pending and
// to posted again: queued once more, it must not earn twice nor stay queued.
func testRewardsPendingPosted(t *testing.T, s Store, db *sql.DB, held int64) {
	if db == nil {
		t.Skip("no plain connection to change a posting through")
	}
	conn := writeConn(t, db)
	queued := func() int { return count(t, db, `SELECT COUNT(*) FROM reward_queue WHERE posting_id = $1`, held) }
	setStatus := func(status account.Status) {
		t.Helper()
		if _, err := conn.ExecContext(t.Context(), `UPDATE postings SET status = $1 WHERE id = $2`, string(status), held); err != nil {
			t.Fatalf("set posting %d %s: %v", held, status, err)
		}
	}
	svc := rewards.New(s, cardportaltest.NewClock(Base).Now, nil)
	before := balance(t, s, 10)
	if n := queued(); n != 0 {
		t.Fatalf("pending posting queued %d times, want not at all", n)
	}
	// sweepQueued checks that the posting is queued once, that a sweep writes wrote
	// entries for it, leaving the balance 180 up, and that it leaves the queue.
	sweepQueued := func(stage string, wrote int) {
		t.Helper()
		if n := queued(); n != 1 {
			t.Errorf("%s: posting queued %d times, want once", stage, n)
		}
		if n := sweep(t, svc); n != wrote {
			t.Errorf("%s: sweep wrote %d entries, want %d", stage, n, wrote)
		}
		if got, want := balance(t, s, 10), before+180; got != want {
			t.Errorf("%s: balance %d, want %d", stage, got, want)
		}
		if n := queued(); n != 0 {
			t.Errorf("%s: posting still queued after a sweep saw it", stage)
		}
	}
	setStatus(account.Posted)
	sweepQueued("posted", 1)
	setStatus(account.Pending)
	setStatus(account.Posted)
	sweepQueued("posted again, rewarded already", 0)
}

// testRewardsLateCommit is the case a watermark gets wrong: on PostgreSQL a posting
// takes its id at insert and becomes visible at commit, so a lower id can commit after
// a sweep saw a higher one. The next sweep must reward it. SQLite has one writer at a
// time, so its ids commit in order.
func testRewardsLateCommit(t *testing.T, s Store, db *sql.DB) {
	if db == nil || isSQLite(db) {
		t.Skip("ids commit in order on SQLite")
	}
	ctx := t.Context()
	svc := rewards.New(s, cardportaltest.NewClock(Base).Now, nil)
	sweep(t, svc)
	before10, before20 := balance(t, s, 10), balance(t, s, 20)
	// The late posting is on the other account: a posting's transaction holds its
	// account's account_totals row (00012) to commit.
	late, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback()
	var lateID int64
	if err := late.QueryRowContext(ctx, `
INSERT INTO postings (account_id, card_id, amount, kind, status, merchant, mcc, description, posted_at)
VALUES (20, 2000, 3000, 'purchase', 'posted', 'Late Café', '5814', 'Late Café', $1)
RETURNING id`, Base.Add(8*time.Hour).UnixMicro()).Scan(&lateID); err != nil { // 30.00 at platinum's 2x: 60
		t.Fatal(err)
	}
	early := mustPost(t, s, entry("early-commit", 1_000, Base.Add(9*time.Hour))) // 10.00 at 2x: 20
	if early.ID <= lateID {
		t.Fatalf("posting committed first has id %d, not above the open one's %d", early.ID, lateID)
	}
	if n := sweep(t, svc); n != 1 {
		t.Errorf("sweep with the lower id uncommitted wrote %d entries, want 1", n)
	}
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := sweep(t, svc); n != 1 {
		t.Errorf("sweep after the lower id committed wrote %d entries, want 1", n)
	}
	if got, want := balance(t, s, 10), before10+20; got != want {
		t.Errorf("account 10 balance %d, want %d", got, want)
	}
	if got, want := balance(t, s, 20), before20+60; got != want {
		t.Errorf("account 20 balance %d, want %d: the late posting was skipped", got, want)
	}
	checkQueueDrained(t, s, db)
}

// isSQLite reports whether db is a SQLite database.
func isSQLite(db *sql.DB) bool { return strings.Contains(fmt.Sprintf("%T", db.Driver()), "sqlite") }

// writeConn returns one connection of db that may write, for a change no interface
// makes. The SQLite suites open db query_only; this lifts that on the one connection,
// and sets it back before the connection returns to the pool.
func writeConn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !isSQLite(db) {
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	if _, err := conn.ExecContext(t.Context(), `PRAGMA query_only = 0`); err != nil {
		conn.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is cancelled by the time cleanups run.
		_, _ = conn.ExecContext(context.Background(), `PRAGMA query_only = 1`)
		conn.Close()
	})
	return conn
}

// testRedeem covers a redemption's outcomes and that its credit is in the ledger.
func testRedeem(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	clock := cardportaltest.NewClock(Base)
	svc := rewards.New(s, clock.Now, nil)
	mustPost(t, s, entry("big", 60_000, Base.Add(-time.Hour))) // 1200 points at 2x
	sweep(t, svc)
	if b := balance(t, s, 10); b != 1250 {
		t.Fatalf("balance %d, want 1250", b)
	}
	credit := itemByCode(t, s, "credit")
	voucher := itemByCode(t, s, "voucher-25")
	eur := itemByCode(t, s, "credit-eur")

	req := func(item, points int64, key string) rewards.RedeemRequest {
		return rewards.RedeemRequest{ItemID: item, Points: points, IdempotencyKey: key}
	}
	tests := []struct {
		name   string
		holder int64
		acct   int64
		in     rewards.RedeemRequest
		kind   cp.Kind
		msg    string
	}{
		{"not enough points", 100, 10, req(voucher.ID, 0, "k-v"), cp.Conflict, "rewards.error.insufficient"},
		{"below the minimum", 100, 10, req(credit.ID, 400, "k-min"), cp.Invalid, ""},
		{"off the step", 100, 10, req(credit.ID, 550, "k-step"), cp.Invalid, ""},
		{"credit in another currency", 100, 10, req(eur.ID, 0, "k-eur"), cp.Invalid, ""},
		{"additional member", 101, 10, req(credit.ID, 500, "k-add"), cp.Forbidden, "rewards.error.basiconly"},
		{"another member's account", 200, 10, req(credit.ID, 500, "k-other"), cp.NotFound, ""},
		{"unknown item", 100, 10, req(4242, 0, "k-item"), cp.NotFound, ""},
		{"no key", 100, 10, req(credit.ID, 500, ""), cp.Invalid, ""},
	}
	for _, tt := range tests {
		_, err := svc.Redeem(ctx, tt.holder, tt.acct, tt.in)
		wantErr(t, tt.name, err, tt.kind, tt.msg)
	}
	if b := balance(t, s, 10); b != 1250 {
		t.Fatalf("refused redemptions changed the balance to %d", b)
	}

	r, err := svc.Redeem(ctx, 100, 10, req(credit.ID, 700, "k-1"))
	if err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	if r.ID == 0 || r.Points != 700 || r.Credit != 700 || r.Currency != "USD" || r.PostingID == 0 || r.Kind != rewards.StatementCredit {
		t.Errorf("redemption %+v; want 700 points for a 7.00 credit with a posting", r)
	}
	if b := balance(t, s, 10); b != 550 {
		t.Errorf("balance after redeeming %d, want 550", b)
	}
	clock.Add(time.Minute)
	again, err := svc.Redeem(ctx, 100, 10, req(credit.ID, 700, "k-1"))
	if err != nil || again != r {
		t.Errorf("retry = %+v, %v; want the first %+v", again, err, r)
	}
	_, err = svc.Redeem(ctx, 100, 10, req(credit.ID, 500, "k-1"))
	wantErr(t, "key reused for other points", err, cp.Conflict, "rewards.error.keyreused")
	if b := balance(t, s, 10); b != 550 {
		t.Errorf("balance after retries %d, want 550", b)
	}
	page, err := s.Transactions(ctx, 100, 10, account.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var credits []account.Transaction
	for _, tx := range page.Transactions {
		if tx.Kind == account.Credit {
			credits = append(credits, tx)
		}
	}
	if len(credits) != 1 || credits[0].ID != r.PostingID || credits[0].Amount != -700 {
		t.Errorf("credit postings %+v; want one of -700 with id %d", credits, r.PostingID)
	}
	if len(credits) == 1 {
		if got, want := credits[0].Text(locale.Swedish), "Bonus: 700 poäng inlösta"; got != want || credits[0].Description != "Rewards: 700 points redeemed" || credits[0].Text(locale.EnglishUS) != credits[0].Description {
			t.Errorf("credit text in sv %q, want %q (description %q)", got, want, credits[0].Description)
		}
	}
	got, err := svc.Redemption(ctx, 100, 10, r.ID)
	if err != nil || got != r {
		t.Errorf("Redemption = %+v, %v; want %+v", got, err, r)
	}
	_, err = svc.Redemption(ctx, 200, 20, r.ID)
	wantErr(t, "redemption seen from another account", err, cp.NotFound, "")
	_, err = svc.Redemption(ctx, 200, 10, r.ID)
	wantErr(t, "redemption of an account the holder is not on", err, cp.NotFound, "")
	list, err := s.Redemptions(ctx, 10, 10)
	if err != nil || len(list) != 1 || list[0] != r {
		t.Errorf("Redemptions = %+v, %v; want [%+v]", list, err, r)
	}
	hist, err := s.PointsHistory(ctx, 10, 1)
	if err != nil || len(hist) != 1 || hist[0].Kind != rewards.Redeem || hist[0].Points != -700 {
		t.Errorf("newest history entry %+v, %v; want the redemption of 700", hist, err)
	}
}

// testRedeemConcurrent races redemptions with distinct keys against a balance that
// covers only some of them, and retries of one key: the balance never goes below zero,
// the ledger has exactly one credit per successful redemption, and a key redeems once.
func testRedeemConcurrent(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	svc := rewards.New(s, cardportaltest.NewClock(Base).Now, nil)
	mustPost(t, s, entry("big", 97_500, Base.Add(-time.Hour))) // 1950 points; with the fixture's 50: 2000
	sweep(t, svc)
	credit := itemByCode(t, s, "credit")
	const callers = 24
	for _, tc := range []struct {
		name     string
		key      func(i int) string
		points   int64
		wantWins int
	}{
		{"one key", func(int) string { return "same" }, 500, 1},
		{"distinct keys", func(i int) string { return fmt.Sprint("race-", i) }, 600, 2}, // 1500/600
	} {
		before := balance(t, s, 10)
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			mu    sync.Mutex
			ids   []int64
			short int
			errs  []error
		)
		for i := range callers {
			wg.Go(func() {
				<-start
				r, err := svc.Redeem(ctx, 100, 10, rewards.RedeemRequest{ItemID: credit.ID, Points: tc.points, IdempotencyKey: tc.key(i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ids = append(ids, r.ID)
				case cp.IsKind(err, cp.Conflict) && cp.ErrorMsg(err) == "rewards.error.insufficient":
					short++
				default:
					errs = append(errs, err)
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("%s: %v", tc.name, err)
		}
		uniq := slices.Compact(slices.Sorted(slices.Values(ids)))
		if len(uniq) != tc.wantWins {
			t.Errorf("%s: %d redemptions succeeded (%d answers), want %d", tc.name, len(uniq), len(ids), tc.wantWins)
		}
		if got, want := balance(t, s, 10), before-int64(tc.wantWins)*tc.points; got != want || got < 0 {
			t.Errorf("%s: balance %d, want %d", tc.name, got, want)
		}
	}
	page, err := s.Transactions(ctx, 100, 10, account.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	n := 0
	for _, tx := range page.Transactions {
		if tx.Kind == account.Credit {
			n++
			total += tx.Amount
		}
	}
	if n != 3 || total != -(500+2*600) {
		t.Errorf("%d credit postings totalling %d; want 3 totalling %d", n, total, -(500 + 2*600))
	}
}

// testOffers enrols cards within the holder's scope and credits a qualifying purchase
// once, however often the sweep runs.
func testOffers(t *testing.T, s Store, db *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	clock := cardportaltest.NewClock(Base) // 2026-03-01
	svc := offers.New(s, s, clock.Now, nil)

	v, err := svc.Offers(ctx, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, o := range v.Offers {
		codes = append(codes, o.Code)
	}
	if diff := cmp.Diff([]string{"coffee", "grocers"}, codes); diff != "" {
		t.Errorf("open USD offers (-want +got):\n%s", diff)
	}
	coffee := v.Offers[0]
	_, err = svc.Offers(ctx, 200, 10)
	wantErr(t, "offers of another member's account", err, cp.NotFound, "")

	notFound := []struct {
		name                string
		holder, acct, offer int64
		card                int64
	}{
		{"additional member, basic member's card", 101, 10, coffee.ID, 1000},
		{"another account's card", 100, 10, coffee.ID, 2000},
		{"another member's account", 200, 10, coffee.ID, 1000},
		{"unknown offer", 100, 10, 4242, 1000},
		{"unknown card", 100, 10, coffee.ID, 4242},
	}
	for _, tt := range notFound {
		_, err := svc.Enrol(ctx, tt.holder, tt.acct, tt.offer, tt.card)
		wantErr(t, tt.name, err, cp.NotFound, "")
	}
	// Offers that are not open or not in the account's currency cannot be added.
	if db != nil {
		for _, code := range []string{"ended", "euro"} {
			var id int64
			if err := db.QueryRowContext(ctx, `SELECT id FROM offers WHERE code = $1`, code).Scan(&id); err != nil {
				t.Fatal(err)
			}
			_, err := svc.Enrol(ctx, 100, 10, id, 1000)
			wantErr(t, "Enrol in offer "+code, err, cp.NotFound, "")
		}
	}

	// A purchase before enrolment does not count.
	early := entry("early", 2_000, Base.Add(-time.Hour))
	mustPost(t, s, early)
	e, err := svc.Enrol(ctx, 100, 10, coffee.ID, 1000)
	if err != nil {
		t.Fatalf("Enrol: %v", err)
	}
	if e.ID == 0 || e.CardID != 1000 || e.OfferID != coffee.ID || !e.EnrolledAt.Equal(Base) || e.PostingID != 0 {
		t.Errorf("enrolment %+v", e)
	}
	clock.Add(time.Hour)
	again, err := svc.Enrol(ctx, 100, 10, coffee.ID, 1000)
	if err != nil || again != e {
		t.Errorf("second Enrol = %+v, %v; want the first %+v", again, err, e)
	}
	// The additional member enrols their own card; the basic member sees it, they do
	// not see the basic member's.
	if _, err := svc.Enrol(ctx, 101, 10, coffee.ID, 1001); err != nil {
		t.Fatalf("Enrol by the additional member: %v", err)
	}
	if v, _ := svc.Offers(ctx, 100, 10); len(v.Enrolments) != 2 {
		t.Errorf("basic member sees %d enrolments, want 2", len(v.Enrolments))
	}
	if v, _ := svc.Offers(ctx, 101, 10); len(v.Enrolments) != 1 || v.Enrolments[0].CardID != 1001 {
		t.Errorf("additional member sees %+v, want only card 1001's", v.Enrolments)
	}

	if n, err := svc.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("sweep before a qualifying purchase = %d, %v; want 0", n, err)
	}
	small := entry("small", 900, Base.Add(2*time.Hour)) // under the minimum spend
	mustPost(t, s, small)
	mustPost(t, s, entry("buy", 1_500, Base.Add(3*time.Hour)))
	mustPost(t, s, entry("buy-2", 1_500, Base.Add(4*time.Hour)))
	for i := range 3 {
		n, err := svc.Sweep(ctx)
		if err != nil {
			t.Fatalf("sweep %d: %v", i, err)
		}
		if want := map[int]int{0: 1}[i]; n != want {
			t.Errorf("sweep %d credited %d, want %d", i, n, want)
		}
	}
	page, err := s.Transactions(ctx, 100, 10, account.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var credits []account.Transaction
	for _, tx := range page.Transactions {
		if tx.Kind == account.Credit {
			credits = append(credits, tx)
		}
	}
	if len(credits) != 1 || credits[0].Amount != -300 || credits[0].CardID != 1000 {
		t.Fatalf("offer credits %+v; want one of -300 on card 1000", credits)
	}
	if got, want := credits[0].Text(locale.Spanish), "Abono por oferta: Blue Harbor Coffee"; got != want || credits[0].Description != "Offer credit: Blue Harbor Coffee" {
		t.Errorf("offer credit text in es %q, want %q (description %q)", got, want, credits[0].Description)
	}
	v, _ = svc.Offers(ctx, 100, 10)
	if got, ok := v.EnrolledOn(coffee.ID, 1000); !ok || got.PostingID != credits[0].ID {
		t.Errorf("enrolment after the credit %+v, want posting %d", got, credits[0].ID)
	}
	if got, ok := v.EnrolledOn(coffee.ID, 1001); !ok || got.PostingID != 0 {
		t.Errorf("card 1001's enrolment %+v, want no credit", got)
	}
}

// testOffersSweepConcurrent runs the offer sweep from many goroutines at once, as
// several instances would: the credit posts once.
func testOffersSweepConcurrent(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	clock := cardportaltest.NewClock(Base)
	svc := offers.New(s, s, clock.Now, nil)
	v, err := svc.Offers(ctx, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Enrol(ctx, 100, 10, v.Offers[1].ID, 1000); err != nil { // grocers: 5411, min 50.00
		t.Fatal(err)
	}
	g := entry("grocer", 6_000, Base.Add(time.Hour))
	g.Merchant, g.MCC = "Harvest Moon Market", "5411"
	mustPost(t, s, g)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := svc.Sweep(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	page, err := s.Transactions(ctx, 100, 10, account.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tx := range page.Transactions {
		if tx.Kind == account.Credit {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d offer credits after concurrent sweeps, want 1", n)
	}
}

// testRewardsBalance posts a random sequence of purchases, refunds and redemptions,
// sweeping now and then, and checks after every sweep that the store's balance equals
// a model's earned − reversed − redeemed, and that the history sums to the balance.
// Each purchase is at its own merchant, so the model knows which purchase a refund
// takes back from.
func testRewardsBalance(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	clock := cardportaltest.NewClock(Base)
	svc := rewards.New(s, clock.Now, nil)
	credit := itemByCode(t, s, "credit")
	type buy struct {
		amount, points, taken int64
		merchant, mcc         string
	}
	var (
		buys                       []*buy
		earned, reversed, redeemed int64 = 50, 0, 0 // the fixture's purchase
		r                                = rand.New(rand.NewPCG(3, 4))
		mccs                             = []string{"5411", "5814", "5999"}
		rate                             = map[string]int64{"5411": 3, "5814": 2, "5999": 1}
	)
	for i := range 80 {
		clock.Add(time.Minute)
		switch op := r.IntN(10); {
		case op < 5 || len(buys) == 0:
			b := &buy{amount: 1 + r.Int64N(40_000), merchant: fmt.Sprint("Shop ", i), mcc: mccs[r.IntN(len(mccs))]}
			b.points = b.amount * rate[b.mcc] / 100
			e := entry(fmt.Sprint("p-", i), b.amount, clock.Now())
			e.Merchant, e.Description, e.MCC = b.merchant, b.merchant, b.mcc
			mustPost(t, s, e)
			buys = append(buys, b)
			earned += b.points
		case op < 8:
			b := buys[r.IntN(len(buys))]
			amount := 1 + r.Int64N(b.amount)
			e := entry(fmt.Sprint("r-", i), -amount, clock.Now())
			e.Kind, e.Merchant, e.Description, e.MCC = account.Refund, b.merchant, "Refund: "+b.merchant, b.mcc
			mustPost(t, s, e)
			back := b.points
			if amount < b.amount {
				back = amount * b.points / b.amount
			}
			back = min(back, b.points-b.taken)
			b.taken += back
			reversed += back
		default:
			sweep(t, svc)
			bal := balance(t, s, 10)
			pts := credit.Points + credit.Step*r.Int64N(5)
			_, err := svc.Redeem(ctx, 100, 10, rewards.RedeemRequest{ItemID: credit.ID, Points: pts, IdempotencyKey: fmt.Sprint("x-", i)})
			switch {
			case err == nil:
				redeemed += pts
			case bal >= pts || !cp.IsKind(err, cp.Conflict):
				t.Fatalf("step %d: redeeming %d of %d: %v", i, pts, bal, err)
			}
		}
		if r.IntN(3) > 0 {
			continue
		}
		sweep(t, svc)
		if got, want := balance(t, s, 10), earned-reversed-redeemed; got != want {
			t.Fatalf("step %d: balance %d, want earned %d − reversed %d − redeemed %d = %d", i, got, earned, reversed, redeemed, want)
		}
		hist, err := s.PointsHistory(ctx, 10, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, e := range hist {
			sum += e.Points
		}
		if sum != earned-reversed-redeemed {
			t.Fatalf("step %d: history sums to %d, balance is %d", i, sum, earned-reversed-redeemed)
		}
	}
}

// testRewardsSweepConcurrent runs the points sweep from many goroutines at once, as
// several instances would, over purchases and refunds: every posting gets exactly one
// entry and the balance is what one sweep gives.
func testRewardsSweepConcurrent(t *testing.T, s Store, db *sql.DB) {
	ctx := t.Context()
	mustLoadRewards(t, s)
	svc := rewards.New(s, cardportaltest.NewClock(Base).Now, nil)
	var want int64 = 50 // the fixture's purchase
	for i := range 300 {
		at := Base.Add(time.Duration(i) * time.Minute)
		mustPost(t, s, entry(fmt.Sprint("cp-", i), 1_000, at)) // 20 points at 2x
		want += 20
		if i%10 == 9 {
			r := entry(fmt.Sprint("cr-", i), -1_000, at.Add(time.Second))
			r.Kind = account.Refund
			mustPost(t, s, r)
			want -= 20
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := svc.Sweep(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := balance(t, s, 10); got != want {
		t.Errorf("balance after concurrent sweeps %d, want %d", got, want)
	}
	if db != nil {
		if n := count(t, db, `SELECT COUNT(*) FROM reward_points WHERE account_id = 10`); n != 331 {
			t.Errorf("%d points entries, want one for each of the 331 purchases and refunds", n)
		}
		if sum := count(t, db, `SELECT SUM(points) FROM reward_points WHERE account_id = 10`); int64(sum) != want {
			t.Errorf("entries sum to %d, want the balance %d", sum, want)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM reward_queue`); n != 0 {
			t.Errorf("%d postings still queued after concurrent sweeps, want none", n)
		}
	}
}

// sweepStore lets a test decide what a sweep's look for new postings returns.
type sweepStore struct {
	Store
	unrewarded func(ctx context.Context, after int64, limit int) ([]rewards.Posting, error)
}

func (s sweepStore) UnrewardedPostings(ctx context.Context, after int64, limit int) ([]rewards.Posting, error) {
	return s.unrewarded(ctx, after, limit)
}

// testRewardsSweepOverlap replays, step by step, two instances sweeping at once over
// two partial refunds of one purchase: sweep A finds both refunds, then sweep B (which
// found only the first) stores the first's reversal, then A goes on. A must count that
// reversal once: it takes back 40 points for each refund, 80 of the purchase's 100.
func testRewardsSweepOverlap(t *testing.T, s Store, _ *sql.DB) {
	mustLoadRewards(t, s)
	now := cardportaltest.NewClock(Base).Now
	sweep(t, rewards.New(s, now, nil))                       // the fixture's purchase: 50
	mustPost(t, s, entry("c-1", 5_000, Base.Add(time.Hour))) // 100 points at 2x
	sweep(t, rewards.New(s, now, nil))
	r1 := entry("r-1", -2_000, Base.Add(2*time.Hour))
	r1.Kind = account.Refund
	first := mustPost(t, s, r1)
	r2 := r1
	r2.IdempotencyKey, r2.PostedAt = "r-2", Base.Add(3*time.Hour)
	mustPost(t, s, r2)

	b := rewards.New(sweepStore{Store: s, unrewarded: func(ctx context.Context, after int64, limit int) ([]rewards.Posting, error) {
		ps, err := s.UnrewardedPostings(ctx, after, limit)
		return slices.DeleteFunc(ps, func(p rewards.Posting) bool { return p.ID > first.ID }), err
	}}, now, nil)
	a := rewards.New(sweepStore{Store: s, unrewarded: func(ctx context.Context, after int64, limit int) ([]rewards.Posting, error) {
		ps, err := s.UnrewardedPostings(ctx, after, limit)
		if err == nil && after == 0 {
			sweep(t, b) // B stores the first refund's reversal after A has looked
		}
		return ps, err
	}}, now, nil)
	sweep(t, a)
	if got, want := balance(t, s, 10), int64(50+100-40-40); got != want {
		t.Errorf("balance %d after overlapping sweeps, want %d: a reversal counted twice or lost", got, want)
	}
}
