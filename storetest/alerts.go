package storetest

import (
	"database/sql"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/statement"
)

func testAlertPrefs(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	ada := register(t, s, 100, "AlertAda")
	dan := register(t, s, 200, "AlertDan")

	p, err := s.AlertPrefs(ctx, ada.ID)
	if err != nil || len(p.Settings) != 0 {
		t.Fatalf("AlertPrefs before any = %+v, %v; want no settings", p, err)
	}
	first := map[alerts.Kind]alerts.Setting{
		alerts.PurchaseOver: {Email: true, SMS: true, Amount: 12345},
		alerts.PaymentDue:   {Push: true, Days: 3},
	}
	if err := s.SetAlertPrefs(ctx, ada.ID, first, Base); err != nil {
		t.Fatal(err)
	}
	// A second write replaces one kind, adds another and leaves the third alone.
	second := map[alerts.Kind]alerts.Setting{
		alerts.PurchaseOver:   {SMS: true, Amount: 999},
		alerts.StatementReady: {},
	}
	if err := s.SetAlertPrefs(ctx, ada.ID, second, Base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err = s.AlertPrefs(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[alerts.Kind]alerts.Setting{
		alerts.PurchaseOver:   {SMS: true, Amount: 999},
		alerts.PaymentDue:     {Push: true, Days: 3},
		alerts.StatementReady: {},
	}
	if diff := cmp.Diff(want, p.Settings); diff != "" {
		t.Errorf("AlertPrefs (-want +got):\n%s", diff)
	}
	if p, _ := s.AlertPrefs(ctx, dan.ID); len(p.Settings) != 0 {
		t.Errorf("another member's prefs: %+v", p.Settings)
	}
	_, err = s.AlertPrefs(ctx, 999999)
	wantErr(t, "AlertPrefs of no member", err, cp.NotFound, "")
	err = s.SetAlertPrefs(ctx, 999999, first, Base)
	wantErr(t, "SetAlertPrefs of no member", err, cp.NotFound, "")

	c, err := s.AlertContacts(ctx, ada.ID)
	if err != nil || c != (alerts.Contacts{Email: "member@example.com", Locale: "en"}) {
		t.Errorf("AlertContacts = %+v, %v", c, err)
	}
	_, err = s.AlertContacts(ctx, 999999)
	wantErr(t, "AlertContacts of no member", err, cp.NotFound, "")
}

// closeWith stores statements for the given accounts closing on closing with the due
// date and minimum due chosen by the test, through the statement store.
func closeWith(t *testing.T, s Store, closing, due time.Time, minimum int64, accounts ...int64) {
	t.Helper()
	_, err := s.CloseCycles(t.Context(), closing, Base, accounts, func(c statement.Cycle) (statement.Statement, bool) {
		return statement.Statement{AccountID: c.AccountID, Currency: c.Currency, PeriodStart: c.PeriodStart,
			ClosingDate: closing, DueDate: due, Opening: c.Opening, Closing: minimum * 10, MinimumDue: minimum, Delivery: statement.Online}, true
	})
	if err != nil {
		t.Fatalf("CloseCycles: %v", err)
	}
}

func testDueStatements(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	ada := register(t, s, 100, "DueAda") // basic on account 10
	register(t, s, 101, "DueByron")      // additional on account 10: never the payer
	// Account 20's basic member (Dan) has not registered: no one to tell.
	closeWith(t, s, date(2026, 1, 1), date(2026, 1, 26), 1000, 10, 20)
	closeWith(t, s, date(2026, 2, 1), date(2026, 2, 26), 2500, 10, 20)

	got, err := s.DueStatements(ctx, date(2026, 2, 20), date(2026, 3, 20))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("DueStatements = %+v; want account 10's latest statement only", got)
	}
	// The fixture's payment of 10.00 on 10 February is after the close.
	d := got[0]
	if d.Member != ada.ID || d.AccountID != 10 || !d.Due.Equal(date(2026, 2, 26)) || d.MinimumDue != 2500 || d.Currency != "USD" || d.Paid != 1000 || d.StatementID == 0 {
		t.Errorf("DueStatements[0] = %+v", d)
	}
	// The earlier statement is not the latest, so a window around its due date finds
	// nothing.
	if got, _ := s.DueStatements(ctx, date(2026, 1, 20), date(2026, 1, 30)); len(got) != 0 {
		t.Errorf("a window around an older statement's due date found %+v", got)
	}
	// A payment after the closing date counts as paid; one on the closing day does not.
	for i, p := range []struct {
		at     time.Time
		amount int64
	}{{date(2026, 2, 1).Add(12 * time.Hour), -700}, {date(2026, 2, 3), -900}, {date(2026, 2, 4), -100}} {
		kind := account.Payment
		if i == 2 {
			kind = account.Refund // a refund is not a payment
		}
		if _, err := s.Post(ctx, account.Entry{AccountID: 10, Kind: kind, Amount: p.amount, Currency: "USD", Description: "x",
			PostedAt: p.at, IdempotencyKey: "due-pay-" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.DueStatements(ctx, date(2026, 2, 20), date(2026, 3, 20))
	if len(got) != 1 || got[0].Paid != 1900 {
		t.Errorf("after payments, DueStatements = %+v; want Paid 1900", got)
	}
}

// testClaimAlert has many callers, on one store or several sharing a database, claim
// the same alert: exactly one may send it.
func testClaimAlert(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ada := register(t, s, 100, "ClaimAda")
	const callers = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
	)
	for range callers {
		wg.Go(func() {
			<-start
			ok, err := s.ClaimAlert(t.Context(), ada.ID, alerts.PaymentDue, "statement:1", Base)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("ClaimAlert: %v", err)
			}
			if ok {
				wins++
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent claims won, want 1", wins, callers)
	}
	if ok, err := s.ClaimAlert(t.Context(), ada.ID, alerts.PaymentDue, "statement:2", Base); err != nil || !ok {
		t.Errorf("claim about another statement = %v, %v; want true", ok, err)
	}
}

// PaymentDueOnce runs the payment-due job from every store at once, several times
// over, as instances of the program sharing one database would: the stores must
// share one fresh database. The basic card member gets the alert about the statement
// exactly once; the additional card member gets none.
func PaymentDueOnce(t *testing.T, stores ...Store) {
	t.Helper()
	s := stores[0]
	mustLoad(t, s)
	ada := register(t, s, 100, "OnceAda")
	register(t, s, 101, "OnceByron")
	closeWith(t, s, date(2026, 2, 1), date(2026, 2, 26), 2500, 10)
	now := func() time.Time { return time.Date(2026, 2, 23, 8, 0, 0, 0, time.UTC) }
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		sent  int
		start = make(chan struct{})
	)
	for i := range 8 {
		st := stores[i%len(stores)]
		svc := alerts.New(st, &notify.Outbox{Store: st, Now: now, Log: slog.New(slog.DiscardHandler)}, now, nil)
		wg.Go(func() {
			<-start
			n, err := svc.RunPaymentDue(t.Context())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("RunPaymentDue: %v", err)
			}
			sent += n
		})
	}
	close(start)
	wg.Wait()
	msgs, err := s.ListOutbox(t.Context(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []notify.Message
	for _, m := range msgs {
		if m.Kind == "alert.payment_due" {
			got = append(got, m)
		}
	}
	if sent != 1 || len(got) != 1 || got[0].MemberID != int64(ada.ID) {
		t.Errorf("%d runs reported %d alerts and stored %d messages (%+v); want one, to the basic card member", 8, sent, len(got), got)
	}
}

func testAlertees(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	ada := register(t, s, 100, "AlerteeAda")
	byron := register(t, s, 101, "AlerteeByron")
	// Card 1000 is the basic member's own, 1001 an additional member's, 2000 a
	// holder's who never registered, 9999 nobody's; 1001 asked twice answers once.
	got, err := s.Alertees(ctx, []int64{1001, 1000, 2000, 9999, 1001})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]identity.MemberID{1000: {ada.ID}, 1001: {ada.ID, byron.ID}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alertees (-want +got):\n%s", diff)
	}
	if got, err := s.Alertees(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no cards: %v, %v; want none", got, err)
	}
}
