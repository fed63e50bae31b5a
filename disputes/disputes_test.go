package disputes_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
	"github.com/cardportal/cardportal/storetest"
)

func TestNext(t *testing.T) {
	tests := []struct {
		from    disputes.Status
		a       disputes.Action
		to      disputes.Status
		changed bool
		err     error
	}{
		{disputes.Open, disputes.Review, disputes.UnderReview, true, nil},
		{disputes.Open, disputes.ResolveMember, disputes.ResolvedMember, true, nil},
		{disputes.Open, disputes.ResolveMerchant, disputes.ResolvedMerchant, true, nil},
		{disputes.UnderReview, disputes.Review, disputes.UnderReview, false, nil},
		{disputes.UnderReview, disputes.ResolveMember, disputes.ResolvedMember, true, nil},
		{disputes.UnderReview, disputes.ResolveMerchant, disputes.ResolvedMerchant, true, nil},
		{disputes.ResolvedMember, disputes.ResolveMerchant, disputes.ResolvedMember, false, disputes.ErrResolved},
		{disputes.ResolvedMerchant, disputes.Review, disputes.ResolvedMerchant, false, disputes.ErrResolved},
		{disputes.Open, "escalate", disputes.Open, false, disputes.ErrAction},
	}
	for _, tt := range tests {
		to, changed, err := disputes.Next(tt.from, tt.a)
		if to != tt.to || changed != tt.changed || err != tt.err {
			t.Errorf("Next(%s, %s) = %s, %v, %v; want %s, %v, %v", tt.from, tt.a, to, changed, err, tt.to, tt.changed, tt.err)
		}
	}
}

type sink struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (s *sink) Notify(_ context.Context, m notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

type env struct {
	store *sqlstore.Store
	svc   *disputes.Service
	out   *sink
	now   time.Time
	ada   identity.MemberID // basic, account 10
	byron identity.MemberID // additional, account 10
	dan   identity.MemberID // basic, account 20
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.LoadIssuer(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, out: &sink{}, now: storetest.Base}
	for _, h := range []struct {
		id   int64
		user string
		dst  *identity.MemberID
	}{{100, "ada.l", &e.ada}, {101, "byron.l", &e.byron}, {200, "dan.b", &e.dan}} {
		m, err := st.CreateMember(t.Context(), identity.NewMember{UserID: h.user, CardholderID: h.id, Name: h.user,
			Email: h.user + "@example.com", Locale: "en", PasswordHash: "$argon2id$x", CreatedAt: storetest.Base})
		if err != nil {
			t.Fatal(err)
		}
		*h.dst = m.ID
	}
	members := memberLookup{st}
	e.svc = disputes.New(st, st, st, members, e.out, func() time.Time { return e.now }, nil)
	return e
}

type memberLookup struct{ s *sqlstore.Store }

func (m memberLookup) Member(ctx context.Context, id identity.MemberID) (identity.Member, error) {
	return m.s.MemberByID(ctx, id)
}

func (e *env) balance(t *testing.T) int64 {
	t.Helper()
	sums, err := e.store.Summaries(t.Context(), 100)
	if err != nil || len(sums) != 1 {
		t.Fatalf("Summaries: %v, %v", sums, err)
	}
	return sums[0].Balance
}

func (e *env) post(t *testing.T, entry account.Entry) account.Transaction {
	t.Helper()
	tx, err := e.store.Post(t.Context(), entry)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestDisputeResolvedForMerchant follows the rule for the disputed amount: credited
// at once when opened, the credit reversed when the merchant wins, each posting once.
func TestDisputeResolvedForMerchant(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	start := e.balance(t) // 6500: the fixture's purchase of 5000 is posting 1
	d, err := e.svc.Open(ctx, e.ada, 1, disputes.Request{Reason: "duplicate", Detail: "  charged twice "}, identity.Source{IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if d.Status != disputes.Open || d.Amount != 5000 || d.Detail != "charged twice" || d.CreditPostingID == 0 {
		t.Errorf("opened %+v", d)
	}
	if got := e.balance(t); got != start-5000 {
		t.Errorf("balance after the provisional credit = %d, want %d", got, start-5000)
	}
	// A second submission, as a double click makes: no second dispute, no second credit.
	_, err = e.svc.Open(ctx, e.ada, 1, disputes.Request{Reason: "duplicate"}, identity.Source{})
	if !cp.IsKind(err, cp.Conflict) || cp.ErrorMsg(err) != "dispute.exists" {
		t.Errorf("second Open = %v, want Conflict dispute.exists", err)
	}
	if got := e.balance(t); got != start-5000 {
		t.Errorf("balance after a repeated Open = %d, want %d", got, start-5000)
	}
	if len(e.out.msgs) != 1 || e.out.msgs[0].Kind != "dispute.opened" || e.out.msgs[0].To != "ada.l@example.com" {
		t.Errorf("notices = %+v", e.out.msgs)
	}
	events, _ := e.store.ListEvents(ctx, e.ada, 5)
	if len(events) == 0 || events[0].Kind != disputes.EventOpened {
		t.Errorf("security history = %+v", events)
	}

	e.now = e.now.Add(24 * time.Hour)
	if d, err = e.svc.Resolve(ctx, d.ID, disputes.Review); err != nil || d.Status != disputes.UnderReview {
		t.Fatalf("Review = %+v, %v", d, err)
	}
	e.now = e.now.Add(24 * time.Hour)
	if d, err = e.svc.Resolve(ctx, d.ID, disputes.ResolveMerchant); err != nil {
		t.Fatalf("ResolveMerchant: %v", err)
	}
	if d.Status != disputes.ResolvedMerchant || d.ReversalPostingID == 0 {
		t.Errorf("resolved %+v", d)
	}
	if got := e.balance(t); got != start {
		t.Errorf("balance after the reversal = %d, want %d (the charge stands)", got, start)
	}
	// The reversal is a debit of the purchase amount under the dispute's key.
	page, err := e.store.Transactions(ctx, 100, 10, account.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var credit, reversal account.Transaction
	for _, tx := range page.Transactions {
		switch tx.ID {
		case d.CreditPostingID:
			credit = tx
		case d.ReversalPostingID:
			reversal = tx
		}
	}
	if credit.Kind != account.Credit || credit.Amount != -5000 || reversal.Kind != account.Adjustment || reversal.Amount != 5000 || reversal.MCC != "" {
		t.Errorf("credit %+v, reversal %+v", credit, reversal)
	}
	// Their texts are in the reader's language; in English they are the descriptions.
	id := strconv.FormatInt(d.ID, 10)
	for _, tt := range []struct {
		tx   account.Transaction
		loc  locale.Locale
		want string
	}{
		{credit, locale.EnglishUS, credit.Description},
		{credit, locale.Swedish, "Preliminär kreditering, reklamation " + id + ": Books"},
		{reversal, locale.EnglishUS, reversal.Description},
		{reversal, locale.Spanish, "Reclamación " + id + " resuelta, cargo restablecido: Books"},
	} {
		if got := tt.tx.Text(tt.loc); got != tt.want || tt.tx.TextID == "" {
			t.Errorf("posting %d in %v: %q (message %q), want %q", tt.tx.ID, tt.loc, got, tt.tx.TextID, tt.want)
		}
	}
	// Resolved is final.
	_, err = e.svc.Resolve(ctx, d.ID, disputes.ResolveMember)
	if !cp.IsKind(err, cp.Conflict) || cp.ErrorMsg(err) != "dispute.error.resolved" {
		t.Errorf("resolving again = %v", err)
	}
	// A repeated merchant resolution posts nothing more.
	if _, err := e.svc.Resolve(ctx, d.ID, disputes.ResolveMerchant); !cp.IsKind(err, cp.Conflict) {
		t.Errorf("repeated merchant resolution = %v", err)
	}
	if got := e.balance(t); got != start {
		t.Errorf("balance after repeated resolutions = %d, want %d", got, start)
	}
	// Resolved, the transaction can be disputed again.
	if _, err := e.svc.Open(ctx, e.ada, 1, disputes.Request{Reason: "other", Detail: "new evidence"}, identity.Source{}); err != nil {
		t.Errorf("a new dispute after resolution: %v", err)
	}
}

func TestDisputeResolvedForMember(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	start := e.balance(t)
	d, err := e.svc.Open(ctx, e.ada, 1, disputes.Request{Reason: "unrecognised"}, identity.Source{})
	if err != nil {
		t.Fatal(err)
	}
	if d, err = e.svc.Resolve(ctx, d.ID, disputes.ResolveMember); err != nil || d.Status != disputes.ResolvedMember || d.ReversalPostingID != 0 {
		t.Fatalf("ResolveMember = %+v, %v", d, err)
	}
	if got := e.balance(t); got != start-5000 {
		t.Errorf("balance = %d, want %d: the credit stands", got, start-5000)
	}
	events, _ := e.store.ListEvents(ctx, e.ada, 5)
	if len(events) == 0 || events[0].Kind != disputes.EventReported {
		t.Errorf("a report of suspicious activity is recorded as such: %+v", events)
	}
}

func TestDisputeRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	pending := e.post(t, account.Entry{AccountID: 10, CardID: 1000, Kind: account.Purchase, Amount: 700, Currency: "USD",
		Description: "Hold", Merchant: "Cafe", Status: account.Pending, PostedAt: e.now, IdempotencyKey: "hold-1"})
	byrons := e.post(t, account.Entry{AccountID: 10, CardID: 1001, Kind: account.Purchase, Amount: 1200, Currency: "USD",
		Description: "Game", Merchant: "Arcade", PostedAt: e.now, IdempotencyKey: "byron-1"})
	tests := []struct {
		name    string
		member  identity.MemberID
		posting int64
		req     disputes.Request
		kind    cp.Kind
		msg     string
		field   string
	}{
		{"another account's member", e.dan, 1, disputes.Request{Reason: "duplicate"}, cp.NotFound, "", ""},
		{"additional member, not their card", e.byron, 1, disputes.Request{Reason: "duplicate"}, cp.NotFound, "", ""},
		{"no such transaction", e.ada, 999999, disputes.Request{Reason: "duplicate"}, cp.NotFound, "", ""},
		{"a fee", e.ada, 2, disputes.Request{Reason: "other", Detail: "why"}, cp.Invalid, "dispute.error.kind", ""},
		{"a payment", e.ada, 3, disputes.Request{Reason: "duplicate"}, cp.Invalid, "dispute.error.kind", ""},
		{"pending", e.ada, pending.ID, disputes.Request{Reason: "unrecognised"}, cp.Invalid, "dispute.error.pending", ""},
		{"no reason", e.ada, 1, disputes.Request{}, cp.Invalid, "", "reason"},
		{"unknown reason", e.ada, 1, disputes.Request{Reason: "bored"}, cp.Invalid, "", "reason"},
		{"other without detail", e.ada, 1, disputes.Request{Reason: "other", Detail: "  "}, cp.Invalid, "", "detail"},
	}
	for _, tt := range tests {
		_, err := e.svc.Open(ctx, tt.member, tt.posting, tt.req, identity.Source{})
		if !cp.IsKind(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
			continue
		}
		if tt.msg != "" && cp.ErrorMsg(err) != tt.msg {
			t.Errorf("%s: message %q, want %q", tt.name, cp.ErrorMsg(err), tt.msg)
		}
		if tt.field != "" && (len(cp.ErrorFields(err)) != 1 || cp.ErrorFields(err)[0].Field != tt.field) {
			t.Errorf("%s: fields %v, want %s", tt.name, cp.ErrorFields(err), tt.field)
		}
	}
	// Too late: 120 days after posting.
	e.now = storetest.Base.Add(disputes.MaxAge + 24*time.Hour)
	if _, err := e.svc.Open(ctx, e.ada, byrons.ID, disputes.Request{Reason: "duplicate"}, identity.Source{}); cp.ErrorMsg(err) != "dispute.error.toolate" {
		t.Errorf("a dispute after 120 days: %v", err)
	}
	e.now = storetest.Base
	// The additional member disputes their own card's purchase; the basic member
	// sees it, another account's member does not.
	d, err := e.svc.Open(ctx, e.byron, byrons.ID, disputes.Request{Reason: "wrong_amount"}, identity.Source{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Dispute(ctx, e.ada, d.ID); err != nil {
		t.Errorf("the basic member cannot see it: %v", err)
	}
	if _, err := e.svc.Dispute(ctx, e.dan, d.ID); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("another account's member: %v, want NotFound", err)
	}
	if ds, _ := e.svc.List(ctx, e.dan); len(ds) != 0 {
		t.Errorf("another account's member lists %d disputes", len(ds))
	}
	if _, ds, err := e.svc.Transaction(ctx, e.ada, byrons.ID); err != nil || len(ds) != 1 || ds[0].ID != d.ID {
		t.Errorf("the transaction shows its dispute: %v, %v", ds, err)
	}
}

// TestDisputeConcurrentOpen: simultaneous submissions of one dispute post one credit.
func TestDisputeConcurrentOpen(t *testing.T) {
	e := newEnv(t)
	start := e.balance(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 10 {
		wg.Go(func() {
			_, err := e.svc.Open(t.Context(), e.ada, 1, disputes.Request{Reason: "duplicate"}, identity.Source{})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !cp.IsKind(err, cp.Conflict) {
				t.Errorf("Open: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || e.balance(t) != start-5000 {
		t.Errorf("%d disputes opened, balance %d; want 1 and %d", wins, e.balance(t), start-5000)
	}
}

// flakyLedger fails the first reversal it is asked to post, as a crash or an outage
// between the status change and the posting would.
type flakyLedger struct {
	account.Ledger
	failed bool
}

func (l *flakyLedger) Post(ctx context.Context, e account.Entry) (account.Transaction, error) {
	if e.IdempotencyKey == disputes.ReversalKey(1) && !l.failed {
		l.failed = true
		return account.Transaction{}, cp.E("test", cp.Internal, "", nil)
	}
	return l.Ledger.Post(ctx, e)
}

// TestDisputeReversalRepaired: a resolution for the merchant whose reversal failed to
// post is finished by repeating it, and only one reversal is ever posted.
func TestDisputeReversalRepaired(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	l := &flakyLedger{Ledger: e.store}
	svc := disputes.New(e.store, l, e.store, nil, nil, func() time.Time { return e.now }, nil)
	start := e.balance(t)
	d, err := svc.Open(ctx, e.ada, 1, disputes.Request{Reason: "not_received"}, identity.Source{})
	if err != nil || d.ID != 1 {
		t.Fatalf("Open = %+v, %v", d, err)
	}
	e.now = e.now.Add(time.Hour)
	if _, err := svc.Resolve(ctx, d.ID, disputes.ResolveMerchant); err == nil {
		t.Fatal("the failed reversal was not reported")
	}
	got, _ := svc.Dispute(ctx, e.ada, d.ID)
	if got.Status != disputes.ResolvedMerchant || got.ReversalPostingID != 0 || e.balance(t) != start-5000 {
		t.Fatalf("after the failure: %+v, balance %d", got, e.balance(t))
	}
	e.now = e.now.Add(time.Hour) // a later retry still posts the same entry
	for range 2 {
		if got, err = svc.Resolve(ctx, d.ID, disputes.ResolveMerchant); err != nil && !cp.IsKind(err, cp.Conflict) {
			t.Fatalf("repeat: %v", err)
		}
	}
	got, _ = svc.Dispute(ctx, e.ada, d.ID)
	if got.ReversalPostingID == 0 || e.balance(t) != start {
		t.Errorf("after the repeat: %+v, balance %d, want %d", got, e.balance(t), start)
	}
}
