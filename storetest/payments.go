package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/payment"
)

// StatementRecorder writes a statement row for the payment tests, which need the
// latest statement that autopay reads without running a cycle close.
type StatementRecorder interface {
	RecordStatement(ctx context.Context, st payment.Statement, at time.Time) error
}

// payEnv is the payment service over the store under test: Ada (basic, account 10,
// balance 65.00 USD from the fixture), Byron (additional on account 10) and Dan
// (basic, account 20).
type payEnv struct {
	s                Store
	svc              *payment.Service
	clock            *cardportaltest.Clock
	outbox           *notify.Outbox
	ada, byron, dan  identity.MemberID
	adaBank, danBank payment.BankAccount
}

// fixtureBalance is account 10's balance in Fixture: 5000 + 2500 - 1000.
const fixtureBalance = 6500

func newPayEnv(t *testing.T, s Store, prefix string) *payEnv {
	t.Helper()
	mustLoad(t, s)
	keys, err := cardcrypto.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	e := &payEnv{s: s, clock: cardportaltest.NewClock(Base)}
	e.outbox = &notify.Outbox{Store: s, Log: slog.New(slog.DiscardHandler), Now: e.clock.Now}
	e.svc = payment.New(s, s, hsm, e.outbox, payment.Config{}, e.clock.Now, nil)
	e.ada = register(t, s, 100, prefix+"Ada").ID
	e.byron = register(t, s, 101, prefix+"Byron").ID
	e.dan = register(t, s, 200, prefix+"Dan").ID
	ctx := t.Context()
	if e.adaBank, _, err = e.svc.LinkBankAccount(ctx, e.ada, payment.BankInput{Nickname: "Checking", Routing: "011000015", Number: "123456789"}); err != nil {
		t.Fatalf("LinkBankAccount: %v", err)
	}
	if e.danBank, _, err = e.svc.LinkBankAccount(ctx, e.dan, payment.BankInput{Routing: "021000021", Number: "555566667777"}); err != nil {
		t.Fatalf("LinkBankAccount: %v", err)
	}
	return e
}

func (e *payEnv) balance(t *testing.T) int64 {
	t.Helper()
	sums, err := e.s.Summaries(t.Context(), 100)
	if err != nil || len(sums) != 1 {
		t.Fatalf("Summaries = %v, %v", sums, err)
	}
	return sums[0].Balance
}

// postings counts account 10's payment postings whose text names the confirmation.
func (e *payEnv) postings(t *testing.T, confirmation string) int {
	t.Helper()
	page, err := e.s.Transactions(t.Context(), 100, 10, account.Filter{Query: confirmation, Limit: account.MaxPageSize})
	if err != nil {
		t.Fatalf("Transactions: %v", err)
	}
	n := 0
	for _, tx := range page.Transactions {
		if tx.Kind == account.Payment {
			n++
		}
	}
	return n
}

func day(t time.Time, days int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+days, 0, 0, 0, 0, time.UTC)
}

// testBankAccounts checks linking (once per number), the masked record, scoping and
// unlinking.
func testBankAccounts(t *testing.T, s Store, _ *sql.DB) {
	e := newPayEnv(t, s, "Bank")
	ctx := t.Context()
	b := e.adaBank
	if b.Last4 != "6789" || b.Routing != "011000015" || b.Nickname != "Checking" || b.AccountID != 10 || len(b.Sealed.Blob) == 0 || len(b.MAC) == 0 {
		t.Errorf("linked bank account = %+v", b)
	}
	again, created, err := e.svc.LinkBankAccount(ctx, e.ada, payment.BankInput{Routing: "011-000-015", Number: "1234 5678 9"})
	if err != nil || created || again.ID != b.ID {
		t.Errorf("second link of the same number = %d, created %v, %v; want %d, false", again.ID, created, err, b.ID)
	}
	list, err := e.svc.BankAccounts(ctx, e.ada)
	if err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("BankAccounts = %+v, %v", list, err)
	}
	_, err = s.BankAccount(ctx, 20, b.ID)
	wantErr(t, "another account's bank account", err, cp.NotFound, "")
	_, _, err = e.svc.LinkBankAccount(ctx, e.byron, payment.BankInput{Routing: "011000015", Number: "99998888"})
	wantErr(t, "additional member links", err, cp.Forbidden, "payment.error.basiconly")
	_, _, err = e.svc.LinkBankAccount(ctx, e.ada, payment.BankInput{Routing: "011000016", Number: "12"})
	if fs := cp.ErrorFields(err); len(fs) != 2 {
		t.Errorf("bad routing and account number: %v", err)
	}

	// In use by a scheduled payment: refused; once cancelled, removable.
	p, err := e.svc.Pay(ctx, e.ada, payment.Request{BankAccountID: b.ID, Amount: 100, On: day(Base, 3), IdempotencyKey: "rm-1"})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "remove while scheduled", e.svc.RemoveBankAccount(ctx, e.ada, b.ID), cp.Conflict, "payment.bank.inuse")
	wantErr(t, "remove another account's", e.svc.RemoveBankAccount(ctx, e.dan, b.ID), cp.NotFound, "")
	if _, err := e.svc.CancelPayment(ctx, e.ada, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveBankAccount(ctx, e.ada, b.ID); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if list, _ := e.svc.BankAccounts(ctx, e.ada); len(list) != 0 {
		t.Errorf("after removal: %+v", list)
	}
	// The cancelled payment keeps its history.
	if got, err := e.svc.Payment(ctx, e.ada, p.ID); err != nil || got.BankLast4 != "6789" {
		t.Errorf("payment after unlink = %+v, %v", got, err)
	}
	relinked, created, err := e.svc.LinkBankAccount(ctx, e.ada, payment.BankInput{Routing: "011000015", Number: "123456789"})
	if err != nil || !created || relinked.ID == b.ID {
		t.Errorf("relink = %d, %v, %v", relinked.ID, created, err)
	}
}

// testPayments walks a payment through its life and checks every refusal.
func testPayments(t *testing.T, s Store, _ *sql.DB) {
	e := newPayEnv(t, s, "Pay")
	ctx := t.Context()
	bank := e.adaBank.ID
	tomorrow := day(Base, 1)

	refusals := []struct {
		name  string
		who   identity.MemberID
		req   payment.Request
		kind  cp.Kind
		field string
	}{
		{"zero", e.ada, payment.Request{BankAccountID: bank, Amount: 0, IdempotencyKey: "r1"}, cp.Invalid, "payment.error.amount"},
		{"overpay", e.ada, payment.Request{BankAccountID: bank, Amount: fixtureBalance + 1, IdempotencyKey: "r2"}, cp.Invalid, "payment.error.overpay"},
		{"past", e.ada, payment.Request{BankAccountID: bank, Amount: 100, On: day(Base, -1), IdempotencyKey: "r3"}, cp.Invalid, "payment.error.past"},
		{"too far", e.ada, payment.Request{BankAccountID: bank, Amount: 100, On: day(Base, 400), IdempotencyKey: "r4"}, cp.Invalid, "payment.error.toofar"},
		{"other account's bank", e.ada, payment.Request{BankAccountID: e.danBank.ID, Amount: 100, IdempotencyKey: "r5"}, cp.Invalid, "payment.error.bank"},
		{"no key", e.ada, payment.Request{BankAccountID: bank, Amount: 100}, cp.Invalid, "payment.error.key"},
		{"additional member", e.byron, payment.Request{BankAccountID: bank, Amount: 100, IdempotencyKey: "r6"}, cp.Forbidden, ""},
		{"nothing due", e.dan, payment.Request{BankAccountID: e.danBank.ID, Amount: 100, IdempotencyKey: "r7"}, cp.Invalid, "payment.error.nothingdue"},
	}
	for _, tt := range refusals {
		_, err := e.svc.Pay(ctx, tt.who, tt.req)
		if !cp.IsKind(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
			continue
		}
		if tt.field != "" && (len(cp.ErrorFields(err)) != 1 || cp.ErrorFields(err)[0].Msg != tt.field) {
			t.Errorf("%s: fields %v, want %s", tt.name, cp.ErrorFields(err), tt.field)
		}
	}

	p, err := e.svc.Pay(ctx, e.ada, payment.Request{BankAccountID: bank, Amount: 2000, On: tomorrow, IdempotencyKey: "sched-1"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != payment.Scheduled || !p.On.Equal(tomorrow) || p.Amount != 2000 || p.Currency != "USD" || len(p.Confirmation) != 14 {
		t.Errorf("scheduled = %+v", p)
	}
	if e.balance(t) != fixtureBalance {
		t.Errorf("a scheduled payment moved the balance")
	}
	_, err = e.svc.Pay(ctx, e.ada, payment.Request{BankAccountID: bank, Amount: 2001, On: tomorrow, IdempotencyKey: "sched-1"})
	wantErr(t, "key reused for another amount", err, cp.Conflict, "payment.error.keyreused")
	for _, who := range []identity.MemberID{e.dan} {
		_, err := e.svc.Payment(ctx, who, p.ID)
		wantErr(t, "another member's payment", err, cp.NotFound, "")
		_, err = e.svc.CancelPayment(ctx, who, p.ID)
		wantErr(t, "cancel another member's payment", err, cp.NotFound, "")
		_, err = e.svc.ChangePayment(ctx, who, p.ID, payment.Changes{BankAccountID: e.danBank.ID, Amount: 1, On: day(Base, 2)})
		wantErr(t, "change another member's payment", err, cp.NotFound, "")
	}

	changed, err := e.svc.ChangePayment(ctx, e.ada, p.ID, payment.Changes{BankAccountID: bank, Amount: 2500, On: day(Base, 2)})
	if err != nil || changed.Amount != 2500 || !changed.On.Equal(day(Base, 2)) || changed.Confirmation != p.Confirmation {
		t.Fatalf("change = %+v, %v", changed, err)
	}
	_, err = e.svc.ChangePayment(ctx, e.ada, p.ID, payment.Changes{BankAccountID: bank, Amount: 2500, On: Base})
	wantErr(t, "change to today", err, cp.Invalid, "")

	// The job on tomorrow does nothing (it is now for the day after); on its date it posts.
	e.clock.Add(24 * time.Hour)
	if rep, err := e.svc.RunDue(ctx, e.clock.Now()); err != nil || rep.Posted != 0 {
		t.Fatalf("RunDue a day early = %+v, %v", rep, err)
	}
	e.clock.Add(24 * time.Hour)
	rep, err := e.svc.RunDue(ctx, e.clock.Now())
	if err != nil || rep.Posted != 1 {
		t.Fatalf("RunDue = %+v, %v", rep, err)
	}
	got, err := e.svc.Payment(ctx, e.ada, p.ID)
	if err != nil || got.Status != payment.Posted || got.PostingID == 0 || got.PostedAt.IsZero() {
		t.Fatalf("after the job: %+v, %v", got, err)
	}
	if b := e.balance(t); b != fixtureBalance-2500 {
		t.Errorf("balance = %d, want %d", b, fixtureBalance-2500)
	}
	if n := e.postings(t, p.Confirmation); n != 1 {
		t.Errorf("%d postings, want 1", n)
	}
	if rep, err := e.svc.RunDue(ctx, e.clock.Now()); err != nil || rep.Posted != 0 {
		t.Errorf("second run = %+v, %v", rep, err)
	}
	_, err = e.svc.CancelPayment(ctx, e.ada, p.ID)
	wantErr(t, "cancel a posted payment", err, cp.Conflict, "payment.error.started")
	_, err = e.svc.ChangePayment(ctx, e.ada, p.ID, payment.Changes{BankAccountID: bank, Amount: 100, On: day(e.clock.Now(), 3)})
	wantErr(t, "change a posted payment", err, cp.Conflict, "payment.error.started")

	// Pay now posts at once, and raises the "payment received" alert once.
	var alerted []string
	e.svc.OnReceived(func(_ context.Context, m identity.MemberID, amount int64, currency string) {
		alerted = append(alerted, fmt.Sprintf("%d %d %s", m, amount, currency))
	})
	now, err := e.svc.Pay(ctx, e.ada, payment.Request{BankAccountID: bank, Amount: 1000, IdempotencyKey: "now-1"})
	if err != nil || now.Status != payment.Posted {
		t.Fatalf("pay now = %+v, %v", now, err)
	}
	if _, err := e.svc.Pay(ctx, e.ada, payment.Request{BankAccountID: bank, Amount: 1000, IdempotencyKey: "now-1"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{fmt.Sprintf("%d 1000 USD", e.ada)}; fmt.Sprint(alerted) != fmt.Sprint(want) {
		t.Errorf("alerts raised %v, want %v", alerted, want)
	}
	if b := e.balance(t); b != fixtureBalance-3500 {
		t.Errorf("balance after pay now = %d", b)
	}
	list, err := e.svc.Payments(ctx, e.ada)
	if err != nil || len(list) != 2 || list[0].ID != now.ID {
		t.Errorf("Payments = %+v, %v", list, err)
	}
	if l, err := e.svc.Payments(ctx, e.dan); err != nil || len(l) != 0 {
		t.Errorf("Dan's payments = %+v, %v", l, err)
	}
	msgs, err := s.ListOutbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, m := range msgs {
		kinds[m.Kind]++
	}
	if kinds["payment.scheduled"] != 1 || kinds["payment.received"] != 2 {
		t.Errorf("notices = %v", kinds)
	}
}

// testPaymentsConcurrent sends one request many times at once, as a double click or a
// client retrying would: one payment, one posting, one balance change.
func testPaymentsConcurrent(t *testing.T, s Store, _ *sql.DB) {
	e := newPayEnv(t, s, "Conc")
	const callers = 20
	for round, on := range []time.Time{{}, day(Base, 5)} {
		key := "double-" + strconv.Itoa(round)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			mu    sync.Mutex
			ids   = map[int64]int{}
			errs  []error
		)
		for range callers {
			wg.Go(func() {
				<-start
				p, err := e.svc.Pay(t.Context(), e.ada, payment.Request{BankAccountID: e.adaBank.ID, Amount: 700, On: on, IdempotencyKey: key})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				ids[p.ID]++
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if len(ids) != 1 {
			t.Fatalf("round %d: payments %v, want one", round, ids)
		}
	}
	list, err := e.svc.Payments(t.Context(), e.ada)
	if err != nil || len(list) != 2 {
		t.Fatalf("Payments = %d, %v", len(list), err)
	}
	// The pay-now one posted once; run the job for the scheduled one from two
	// "instances" at once.
	e.clock.Add(5 * 24 * time.Hour)
	var wg sync.WaitGroup
	posted := make([]int, 4)
	for i := range posted {
		wg.Go(func() {
			rep, err := e.svc.RunDue(t.Context(), e.clock.Now())
			if err != nil {
				t.Errorf("RunDue: %v", err)
			}
			posted[i] = rep.Posted
		})
	}
	wg.Wait()
	if sum := posted[0] + posted[1] + posted[2] + posted[3]; sum != 1 {
		t.Errorf("runs posted %v, want 1 in all", posted)
	}
	for _, p := range list {
		if n := e.postings(t, p.Confirmation); n != 1 {
			t.Errorf("payment %s: %d postings, want 1", p.Confirmation, n)
		}
	}
	if b := e.balance(t); b != fixtureBalance-1400 {
		t.Errorf("balance = %d, want %d", b, fixtureBalance-1400)
	}
}

// testPaymentCancelRace has the job and a cancel race for scheduled payments: each
// ends cancelled with no posting, or posted with one, never both.
func testPaymentCancelRace(t *testing.T, s Store, _ *sql.DB) {
	e := newPayEnv(t, s, "Race")
	const rounds = 8
	var paid int64
	for round := range rounds {
		p, err := e.svc.Pay(t.Context(), e.ada, payment.Request{BankAccountID: e.adaBank.ID, Amount: 100, On: day(e.clock.Now(), 1),
			IdempotencyKey: fmt.Sprintf("race-%d", round)})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(24 * time.Hour)
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			cancelErr error
		)
		for range 2 {
			wg.Go(func() {
				<-start
				if _, err := e.svc.RunDue(t.Context(), e.clock.Now()); err != nil {
					t.Errorf("RunDue: %v", err)
				}
			})
		}
		wg.Go(func() {
			<-start
			_, cancelErr = e.svc.CancelPayment(t.Context(), e.ada, p.ID)
		})
		close(start)
		wg.Wait()
		got, err := e.svc.Payment(t.Context(), e.ada, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := e.postings(t, p.Confirmation)
		switch got.Status {
		case payment.Cancelled:
			if cancelErr != nil || n != 0 {
				t.Errorf("round %d: cancelled, cancel said %v, %d postings", round, cancelErr, n)
			}
		case payment.Posted:
			paid += 100
			if !cp.IsKind(cancelErr, cp.Conflict) || n != 1 {
				t.Errorf("round %d: posted, cancel said %v, %d postings", round, cancelErr, n)
			}
		default:
			t.Errorf("round %d: status %s", round, got.Status)
		}
	}
	if b := e.balance(t); b != fixtureBalance-paid {
		t.Errorf("balance = %d, want %d", b, fixtureBalance-paid)
	}
}

// testAutopay checks that autopay pays the latest statement's amount by its rule, less
// what was paid since it closed, once however often the job runs.
func testAutopay(t *testing.T, s Store, _ *sql.DB) {
	e := newPayEnv(t, s, "Auto")
	ctx := t.Context()
	rec, ok := s.(StatementRecorder)
	if !ok {
		t.Skip("the store cannot record statements")
	}
	_, err := e.svc.Autopay(ctx, e.ada)
	wantErr(t, "no autopay yet", err, cp.NotFound, "")
	_, err = e.svc.SetAutopay(ctx, e.ada, payment.AutopayInput{BankAccountID: e.adaBank.ID, Rule: "everything"})
	wantErr(t, "unknown rule", err, cp.Invalid, "")
	_, err = e.svc.SetAutopay(ctx, e.ada, payment.AutopayInput{BankAccountID: e.danBank.ID, Rule: payment.MinimumDue})
	wantErr(t, "another account's bank", err, cp.Invalid, "")
	a, err := e.svc.SetAutopay(ctx, e.ada, payment.AutopayInput{BankAccountID: e.adaBank.ID, Rule: payment.StatementBalance})
	if err != nil || a.Rule != payment.StatementBalance || a.BankLast4 != "6789" {
		t.Fatalf("SetAutopay = %+v, %v", a, err)
	}
	if _, err := e.svc.SetAutopay(ctx, e.dan, payment.AutopayInput{BankAccountID: e.danBank.ID, Rule: payment.MinimumDue}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "remove the autopay bank", e.svc.RemoveBankAccount(ctx, e.ada, e.adaBank.ID), cp.Conflict, "payment.bank.inuse")

	closing, due := day(Base, -2), day(Base, 23)
	for _, st := range []payment.Statement{
		{AccountID: 10, ClosingDate: day(closing, -30), DueDate: day(due, -30), Currency: "USD", ClosingBalance: 9999, MinimumDue: 999},
		{AccountID: 10, ClosingDate: closing, DueDate: due, Currency: "USD", ClosingBalance: 6000, MinimumDue: 2500},
		// Dan's account owes nothing: his autopay has nothing to pay.
		{AccountID: 20, ClosingDate: closing, DueDate: due, Currency: "USD", ClosingBalance: 0, MinimumDue: 0},
	} {
		if err := rec.RecordStatement(ctx, st, Base); err != nil {
			t.Fatalf("RecordStatement: %v", err)
		}
	}
	// Paid since the statement closed: counts against it.
	if _, err := e.svc.Pay(ctx, e.ada, payment.Request{BankAccountID: e.adaBank.ID, Amount: 1500, IdempotencyKey: "since"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.svc.RunDue(ctx, day(due, -1)); err != nil || rep.AutopaysCreated != 0 {
		t.Errorf("a day before the due date: %+v, %v", rep, err)
	}
	e.clock.Add(due.Sub(Base) + time.Hour)
	for run := range 2 {
		rep, err := e.svc.RunDue(ctx, due)
		if err != nil {
			t.Fatal(err)
		}
		if want := (payment.RunReport{AutopaysCreated: 1, Posted: 1}); run == 0 && rep != want {
			t.Errorf("first run = %+v, want %+v", rep, want)
		}
		if run == 1 && rep != (payment.RunReport{}) {
			t.Errorf("second run = %+v, want nothing", rep)
		}
	}
	list, err := e.svc.Payments(ctx, e.ada)
	if err != nil || len(list) != 2 {
		t.Fatalf("Payments = %+v, %v", list, err)
	}
	auto := list[0]
	if auto.Kind != payment.Auto || auto.Amount != 6000-1500 || auto.Status != payment.Posted || !auto.On.Equal(due) {
		t.Errorf("autopay payment = %+v", auto)
	}
	if b := e.balance(t); b != fixtureBalance-6000 {
		t.Errorf("balance = %d, want %d", b, fixtureBalance-6000)
	}
	if l, _ := e.svc.Payments(ctx, e.dan); len(l) != 0 {
		t.Errorf("Dan's autopay paid %+v with nothing owed", l)
	}
	if err := e.svc.StopAutopay(ctx, e.ada); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "stop again", e.svc.StopAutopay(ctx, e.ada), cp.NotFound, "")
}

// testPaymentRecovery takes up payments an executor left processing when it died:
// after claiming (nothing posted yet) and after posting (status not yet moved). Each
// ends posted with exactly one posting, and not before the stale period has passed.
func testPaymentRecovery(t *testing.T, s Store, _ *sql.DB) {
	e := newPayEnv(t, s, "Crash")
	ctx := t.Context()
	var ps []payment.Payment
	for i := range 2 {
		p, err := e.svc.Pay(ctx, e.ada, payment.Request{BankAccountID: e.adaBank.ID, Amount: 300, On: day(Base, 1),
			IdempotencyKey: fmt.Sprintf("crash-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	e.clock.Add(24 * time.Hour)
	for i, p := range ps {
		claimed, err := s.MovePayment(ctx, p.ID, payment.Scheduled, payment.Processing, time.Time{}, e.clock.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 { // died after posting
			if _, err := s.Post(ctx, claimed.Entry()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rep, err := e.svc.RunDue(ctx, e.clock.Now()); err != nil || rep.Posted != 0 {
		t.Errorf("run while the executor may still be at it = %+v, %v", rep, err)
	}
	e.clock.Add(payment.DefaultConfig.Stale + time.Minute)
	if rep, err := e.svc.RunDue(ctx, e.clock.Now()); err != nil || rep.Posted != 2 {
		t.Errorf("run after the stale period = %+v, %v", rep, err)
	}
	for _, p := range ps {
		got, err := e.svc.Payment(ctx, e.ada, p.ID)
		if err != nil || got.Status != payment.Posted {
			t.Errorf("payment %d: %+v, %v", p.ID, got, err)
		}
		if n := e.postings(t, p.Confirmation); n != 1 {
			t.Errorf("payment %d: %d postings, want 1", p.ID, n)
		}
	}
	if b := e.balance(t); b != fixtureBalance-600 {
		t.Errorf("balance = %d, want %d", b, fixtureBalance-600)
	}
}

// ConcurrentPaymentRuns runs the payment job from several instances at once: each
// store stands for an instance (one fresh database shared by all), each with its own
// service, and several runs go through each. Every due payment posts exactly once.
func ConcurrentPaymentRuns(t *testing.T, stores ...Store) {
	t.Helper()
	e := newPayEnv(t, stores[0], "Multi")
	const payments = 6
	var ps []payment.Payment
	for i := range payments {
		p, err := e.svc.Pay(t.Context(), e.ada, payment.Request{BankAccountID: e.adaBank.ID, Amount: int64(100 + i), On: day(Base, 1),
			IdempotencyKey: fmt.Sprintf("multi-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	e.clock.Add(24 * time.Hour)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		posted int
		start  = make(chan struct{})
	)
	for i := range 3 * len(stores) {
		st := stores[i%len(stores)]
		svc := payment.New(st, st, nil, nil, payment.Config{}, e.clock.Now, nil)
		wg.Go(func() {
			<-start
			rep, err := svc.RunDue(t.Context(), e.clock.Now())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("RunDue: %v", err)
			}
			posted += rep.Posted
		})
	}
	close(start)
	wg.Wait()
	if posted != payments {
		t.Errorf("runs posted %d payments, want %d", posted, payments)
	}
	var sum int64
	for _, p := range ps {
		if n := e.postings(t, p.Confirmation); n != 1 {
			t.Errorf("payment %s: %d postings, want 1", p.Confirmation, n)
		}
		sum += p.Amount
	}
	if b := e.balance(t); b != fixtureBalance-sum {
		t.Errorf("balance = %d, want %d", b, fixtureBalance-sum)
	}
}
