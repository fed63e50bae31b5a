package storetest

import (
	"database/sql"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/statement"
)

// The statement contract (statement.Store) on Fixture. Both accounts close on the 1st
// (opened on a 1st). Account 10's postings: purchase 5000 on 1 Feb, fee 2500 on
// 2 Feb, payment -1000 on 10 Feb. Account 20 has none, so it never gets a statement.

var rules = statement.DefaultRules

// closeDay runs one day's close through the store as statement.Service does: the
// interest first (through the ledger), then the statements.
func closeDay(t *testing.T, s Store, closing time.Time) []statement.Statement {
	t.Helper()
	ctx := t.Context()
	ids, err := s.DueAccounts(ctx, closing, 0, 100)
	if err != nil {
		t.Fatalf("DueAccounts(%s): %v", closing.Format(time.DateOnly), err)
	}
	prev, err := s.PaymentsByDue(ctx, closing, ids)
	if err != nil {
		t.Fatalf("PaymentsByDue: %v", err)
	}
	for id, p := range prev {
		if amount := rules.InterestDue(p.Closing, p.Paid); amount > 0 {
			mustPost(t, s, account.Entry{AccountID: id, Kind: account.Interest, Amount: amount, Currency: p.Currency,
				Description: "Interest", PostedAt: statement.EndOfDay(closing), IdempotencyKey: statement.InterestKey(id, closing)})
		}
	}
	sts, err := s.CloseCycles(ctx, closing, Base, ids, rules.Compute)
	if err != nil {
		t.Fatalf("CloseCycles: %v", err)
	}
	return sts
}

var ignoreStatementID = cmpopts.IgnoreFields(statement.Statement{}, "ID")

func testStatementClose(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	feb, mar := date(2026, 2, 1), date(2026, 3, 1)

	for _, tt := range []struct {
		name    string
		closing time.Time
		want    []int64
	}{
		{"both close on the 1st", feb, []int64{10, 20}},
		{"nobody closes on the 2nd", date(2026, 2, 2), nil},
		{"not before opening", date(2019, 12, 1), nil},
	} {
		got, err := s.DueAccounts(ctx, tt.closing, 0, 10)
		if err != nil {
			t.Fatalf("DueAccounts %s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DueAccounts %s (-want +got):\n%s", tt.name, diff)
		}
	}
	if got, _ := s.DueAccounts(ctx, feb, 10, 10); !slices.Equal(got, []int64{20}) {
		t.Errorf("DueAccounts after 10 = %v, want [20]", got)
	}

	// The first cycle runs from the opening date; 5000 was bought on the closing day.
	first := statement.Statement{
		AccountID: 10, PeriodStart: date(2020, 1, 1), ClosingDate: feb, DueDate: date(2026, 2, 26), Currency: "USD",
		Opening: 0, Purchases: 5000, Credits: 0, Interest: 0, Closing: 5000, MinimumDue: 2500,
		Delivery: statement.Mailed, CreatedAt: Base,
	}
	got := closeDay(t, s, feb)
	if diff := cmp.Diff([]statement.Statement{first}, got, ignoreStatementID); diff != "" {
		t.Fatalf("first close (-want +got):\n%s", diff)
	}
	first.ID = got[0].ID
	if again := closeDay(t, s, feb); len(again) != 0 {
		t.Errorf("rerun of the close stored %v", again)
	}
	if ids, _ := s.DueAccounts(ctx, feb, 0, 10); !slices.Equal(ids, []int64{20}) {
		t.Errorf("DueAccounts after the close = %v, want [20] (no statement for an empty account)", ids)
	}
	// An earlier date is closed already, in effect: its cycle is part of this one.
	if ids, _ := s.DueAccounts(ctx, date(2026, 1, 1), 0, 10); slices.Contains(ids, 10) {
		t.Errorf("DueAccounts(1 Jan) includes account 10, which has a later statement")
	}

	prev, err := s.PaymentsByDue(ctx, mar, []int64{10, 20})
	if err != nil {
		t.Fatal(err)
	}
	wantPrev := map[int64]statement.PreviousPaid{10: {
		Previous: statement.Previous{ClosingDate: feb, DueDate: date(2026, 2, 26), Closing: 5000}, Currency: "USD", Paid: 1000,
	}}
	if diff := cmp.Diff(wantPrev, prev); diff != "" {
		t.Errorf("PaymentsByDue (-want +got):\n%s", diff)
	}

	// 4000 left unpaid by the due date: 4000 × 24.99% / 12 = 83.3 → 83.
	second := statement.Statement{
		AccountID: 10, PeriodStart: date(2026, 2, 2), ClosingDate: mar, DueDate: date(2026, 3, 26), Currency: "USD",
		Opening: 5000, Purchases: 2500, Credits: -1000, Interest: 83, Closing: 6583,
		MinimumDue: 66 + 83 + 2500, Delivery: statement.Mailed, CreatedAt: Base,
	}
	got = closeDay(t, s, mar)
	if diff := cmp.Diff([]statement.Statement{second}, got, ignoreStatementID); diff != "" {
		t.Fatalf("second close (-want +got):\n%s", diff)
	}
	second.ID = got[0].ID
	closeDay(t, s, mar) // a rerun posts no second interest
	sum := summary(t, s, 100)
	if sum.Balance != 6500+83 {
		t.Errorf("balance after two closes and a rerun = %d, want %d (interest once)", sum.Balance, 6500+83)
	}

	// Listing and reading: the basic member only.
	for _, tt := range []struct {
		name   string
		holder int64
		limit  int
		want   []statement.Statement
	}{
		{"basic member, newest first", 100, 24, []statement.Statement{second, first}},
		{"limited", 100, 1, []statement.Statement{second}},
		{"additional member sees none", 101, 24, []statement.Statement{}},
		{"other account's member", 200, 24, []statement.Statement{}},
		{"unknown holder", 4242, 24, []statement.Statement{}},
	} {
		got, err := s.Statements(ctx, tt.holder, tt.limit)
		if err != nil {
			t.Fatalf("Statements %s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Statements %s (-want +got):\n%s", tt.name, diff)
		}
	}
	if st, err := s.Statement(ctx, 100, first.ID); err != nil || !cmp.Equal(st, first) {
		t.Errorf("Statement(100, first) = %+v, %v; want %+v", st, err, first)
	}
	for _, tt := range []struct {
		name       string
		holder, id int64
	}{
		{"additional member", 101, first.ID},
		{"another account's member", 200, first.ID},
		{"no such statement", 100, second.ID + 1000},
	} {
		if _, err := s.Statement(ctx, tt.holder, tt.id); !cp.IsKind(err, cp.NotFound) {
			t.Errorf("Statement %s: err = %v, want NotFound", tt.name, err)
		}
	}

	// The dashboard's figures come from the last statement; a payment since it closed
	// lowers what is left of the minimum.
	if sum.PaymentDue != second.DueDate || sum.MinimumDue != second.MinimumDue || sum.StatementBalance != 6583 || sum.StatementDate != mar {
		t.Errorf("summary due %s min %d balance %d date %s; want %s %d 6583 %s", sum.PaymentDue, sum.MinimumDue,
			sum.StatementBalance, sum.StatementDate, second.DueDate, second.MinimumDue, mar)
	}
	mustPost(t, s, account.Entry{AccountID: 10, Kind: account.Payment, Amount: -1000, Currency: "USD",
		Description: "Payment", PostedAt: date(2026, 3, 5), IdempotencyKey: "pay-after-close"})
	if sum := summary(t, s, 100); sum.MinimumDue != second.MinimumDue-1000 {
		t.Errorf("minimum due after a payment of 1000 = %d, want %d", sum.MinimumDue, second.MinimumDue-1000)
	}
	mustPost(t, s, account.Entry{AccountID: 10, Kind: account.Payment, Amount: -5000, Currency: "USD",
		Description: "Payment", PostedAt: date(2026, 3, 6), IdempotencyKey: "pay-after-close-2"})
	if sum := summary(t, s, 100); sum.MinimumDue != 0 || sum.PaymentDue != second.DueDate {
		t.Errorf("after paying more than the minimum: minimum %d due %s, want 0 and %s", sum.MinimumDue, sum.PaymentDue, second.DueDate)
	}

	// Paperless: the basic member's choice; the next statement is online only.
	if on, err := s.Paperless(ctx, 100, 10); err != nil || on {
		t.Errorf("Paperless = %v, %v; want false", on, err)
	}
	if err := s.SetPaperless(ctx, 100, 10, true); err != nil {
		t.Fatalf("SetPaperless: %v", err)
	}
	if on, err := s.Paperless(ctx, 100, 10); err != nil || !on {
		t.Errorf("Paperless after setting = %v, %v; want true", on, err)
	}
	for _, tt := range []struct {
		name              string
		holder, accountID int64
	}{
		{"additional member", 101, 10},
		{"another account's member", 200, 10},
		{"unknown account", 100, 99},
	} {
		if err := s.SetPaperless(ctx, tt.holder, tt.accountID, false); !cp.IsKind(err, cp.NotFound) {
			t.Errorf("SetPaperless %s: err = %v, want NotFound", tt.name, err)
		}
		if _, err := s.Paperless(ctx, tt.holder, tt.accountID); !cp.IsKind(err, cp.NotFound) {
			t.Errorf("Paperless %s: err = %v, want NotFound", tt.name, err)
		}
	}
	if got := closeDay(t, s, date(2026, 4, 1)); len(got) != 1 || got[0].Delivery != statement.Online {
		t.Errorf("close after going paperless = %+v, want one online statement", got)
	}

	// Notices go to the registered basic member.
	if _, err := s.Recipient(ctx, 10); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("Recipient before registration: err = %v, want NotFound", err)
	}
	register(t, s, 101, "Additional")
	if _, err := s.Recipient(ctx, 10); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("Recipient with only the additional member registered: err = %v, want NotFound", err)
	}
	m := register(t, s, 100, "Basic")
	if rc, err := s.Recipient(ctx, 10); err != nil || rc != (statement.Recipient{MemberID: int64(m.ID), Email: "member@example.com", Locale: "en"}) {
		t.Errorf("Recipient = %+v, %v", rc, err)
	}
}

func summary(t *testing.T, s Store, holder int64) account.Summary {
	t.Helper()
	sums, err := s.Summaries(t.Context(), holder)
	if err != nil || len(sums) != 1 {
		t.Fatalf("Summaries(%d) = %v, %v", holder, sums, err)
	}
	return sums[0]
}

// testStatementCloseConcurrent closes the same day from many callers at once (on
// PostgreSQL, as many instances would): one statement, whoever wins.
func testStatementCloseConcurrent(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	const callers = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored int
		errs   []error
		start  = make(chan struct{})
	)
	for range callers {
		wg.Go(func() {
			<-start
			sts, err := s.CloseCycles(t.Context(), date(2026, 2, 1), Base, []int64{10, 20}, rules.Compute)
			mu.Lock()
			defer mu.Unlock()
			stored += len(sts)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent closes: %v", errs)
	}
	if stored != 1 {
		t.Errorf("%d statements stored by %d concurrent closes, want 1", stored, callers)
	}
	if sts, _ := s.Statements(t.Context(), 100, 24); len(sts) != 1 {
		t.Errorf("%d statements listed, want 1", len(sts))
	}
}

// testStatementLoad loads an issuer's history with two years of statements: all of
// them are listed, the account's closing day is kept, and the close job carries on
// from the last.
func testStatementLoad(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	d := Fixture()
	d.Accounts[0].CycleDay = 15
	var opening int64
	for i := range 24 {
		closing := date(2024, 1, 15).AddDate(0, i, 0)
		st := statement.Statement{AccountID: 10, PeriodStart: closing.AddDate(0, -1, 1), ClosingDate: closing,
			DueDate: rules.DueDate(closing), Currency: "USD", Opening: opening, Purchases: 1000, Closing: opening + 1000}
		opening = st.Closing
		d.Statements = append(d.Statements, issuer.Statement{ID: int64(i + 1), AccountID: 10, PeriodStart: st.PeriodStart,
			ClosingDate: closing, DueDate: st.DueDate, Currency: "USD", Opening: st.Opening, Purchases: st.Purchases,
			Closing: st.Closing, MinimumDue: 2500, Delivery: "mailed", CreatedAt: closing})
	}
	if err := s.LoadIssuer(ctx, d); err != nil {
		t.Fatalf("LoadIssuer: %v", err)
	}
	sts, err := s.Statements(ctx, 100, 100)
	if err != nil || len(sts) != 24 {
		t.Fatalf("Statements = %d, %v; want 24", len(sts), err)
	}
	if sts[0].ID != 24 || sts[0].ClosingDate != date(2025, 12, 15) || sts[0].Closing != 24000 || sts[23].ClosingDate != date(2024, 1, 15) {
		t.Errorf("newest %+v, oldest %+v", sts[0], sts[23])
	}
	for _, tt := range []struct {
		day  time.Time
		want []int64
	}{
		{date(2026, 1, 1), []int64{20}}, // 20 closes on its opening day, the 1st
		{date(2025, 12, 15), nil},       // closed by the loaded history
		{date(2026, 1, 15), []int64{10}},
	} {
		if got, _ := s.DueAccounts(ctx, tt.day, 0, 10); !slices.Equal(got, tt.want) {
			t.Errorf("DueAccounts(%s) = %v, want %v", tt.day.Format(time.DateOnly), got, tt.want)
		}
	}
	got := closeDay(t, s, date(2026, 1, 15))
	// The fixture's postings (Feb 2026) are after this cycle; the statement carries
	// the loaded balance forward, unpaid, so with interest: 24000 × 24.99% / 12 =
	// 499.75 → 500. Minimum: 1% (245) + 500 is under the 25.00 floor.
	if len(got) != 1 || got[0].PeriodStart != date(2025, 12, 16) || got[0].Opening != 24000 || got[0].Interest != 500 ||
		got[0].Closing != 24500 || got[0].MinimumDue != 2500 {
		t.Errorf("close after the loaded history = %+v", got)
	}
	// A statement stored after the load gets a fresh ID (PostgreSQL's sequence moved).
	if len(got) == 1 && got[0].ID <= 24 {
		t.Errorf("new statement ID %d collides with the loaded ones", got[0].ID)
	}
}

// StatementCloseOnce runs the day's statement close from several stores sharing one
// database, as instances behind a load balancer would: each schedules the days that
// have ended and runs the close jobs, all at once. Every day's job runs once, and
// each account gets one statement and one interest charge, however the work was
// shared out.
func StatementCloseOnce(t *testing.T, stores ...Store) {
	t.Helper()
	s := stores[0]
	mustLoad(t, s)
	now := date(2026, 3, 2).Add(time.Hour)
	clock := func() time.Time { return now }
	// Account 10's February statement, so March's close charges interest.
	if got := closeDay(t, s, date(2026, 2, 1)); len(got) != 1 {
		t.Fatalf("February close: %+v", got)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ran   int
		errs  []error
		start = make(chan struct{})
	)
	for i := range 2 * len(stores) {
		st := stores[i%len(stores)]
		svc := statement.New(st, st, nil, rules, clock, nil)
		wg.Go(func() {
			<-start
			if err := statement.Schedule(t.Context(), st, now); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			r := &jobs.Runner{Store: st, Handlers: map[string]jobs.Handler{statement.CloseKind: svc.Handle}, Now: clock, Batch: 1}
			for {
				n, err := r.RunOnce(t.Context())
				mu.Lock()
				ran += n
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if n == 0 || err != nil {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if ran != statement.CatchUpDays {
		t.Errorf("%d close jobs ran, want one per day: %d", ran, statement.CatchUpDays)
	}
	done, err := s.ListJobs(t.Context(), jobs.Filter{Kind: statement.CloseKind, State: jobs.Done}, 100)
	if err != nil || len(done) != statement.CatchUpDays {
		t.Errorf("%d close jobs done (%v), want %d", len(done), err, statement.CatchUpDays)
	}
	sts, err := s.Statements(t.Context(), 100, 24)
	if err != nil || len(sts) != 2 || sts[0].ClosingDate != date(2026, 3, 1) || sts[0].Interest != 83 {
		t.Errorf("statements after the shared close: %+v, %v", sts, err)
	}
	if sum := summary(t, s, 100); sum.Balance != 6500+83 {
		t.Errorf("balance %d, want %d: interest charged once", sum.Balance, 6500+83)
	}
}
