package alerts_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
)

func prefs(s map[alerts.Kind]alerts.Setting) alerts.Prefs { return alerts.Prefs{Settings: s} }

func kinds(as []alerts.Alert) []alerts.Kind {
	out := []alerts.Kind{}
	for _, a := range as {
		out = append(out, a.Kind)
	}
	return out
}

func TestWants(t *testing.T) {
	p := prefs(map[alerts.Kind]alerts.Setting{
		alerts.OnlinePurchase: {SMS: true, Push: true},
		alerts.PaymentDue:     {}, // switched off
	})
	tests := []struct {
		kind alerts.Kind
		want []alerts.Channel
	}{
		{alerts.OnlinePurchase, []alerts.Channel{alerts.SMS, alerts.Push}},
		{alerts.PaymentDue, nil},
		{alerts.StatementReady, []alerts.Channel{alerts.Email}}, // the default
		{alerts.PurchaseOver, nil},                              // off by default
		{alerts.Security, []alerts.Channel{alerts.Email, alerts.SMS, alerts.Push}},
		{"no_such_alert", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, alerts.Wants(p, tt.kind)); diff != "" {
			t.Errorf("Wants(%s) (-want +got):\n%s", tt.kind, diff)
		}
	}
	// Security cannot be switched off, whatever is stored under its name.
	off := prefs(map[alerts.Kind]alerts.Setting{alerts.Security: {}})
	if got := alerts.Wants(off, alerts.Security); len(got) != 3 {
		t.Errorf("security notices switched off: %v", got)
	}
}

func TestPurchase(t *testing.T) {
	all := prefs(map[alerts.Kind]alerts.Setting{
		alerts.PurchaseOver:   {Email: true, Amount: 10000},
		alerts.OnlinePurchase: {Push: true},
		alerts.BalanceOver:    {SMS: true, Amount: 50000},
	})
	tests := []struct {
		name    string
		p       alerts.Prefs
		f       alerts.PurchaseFacts
		balance int64
		want    []alerts.Kind
	}{
		{"small in person", all, alerts.PurchaseFacts{Amount: 500}, 1000, []alerts.Kind{}},
		{"exactly the threshold is not over it", all, alerts.PurchaseFacts{Amount: 10000}, 20000, []alerts.Kind{}},
		{"over the threshold", all, alerts.PurchaseFacts{Amount: 10001}, 20000, []alerts.Kind{alerts.PurchaseOver}},
		{"online", all, alerts.PurchaseFacts{Amount: 500, Online: true}, 1000, []alerts.Kind{alerts.OnlinePurchase}},
		{"crosses the balance line", all, alerts.PurchaseFacts{Amount: 2000}, 51000, []alerts.Kind{alerts.BalanceOver}},
		{"already over the balance line", all, alerts.PurchaseFacts{Amount: 2000}, 60000, []alerts.Kind{}},
		{"lands exactly on the line", all, alerts.PurchaseFacts{Amount: 2000}, 50000, []alerts.Kind{}},
		{"everything at once", all, alerts.PurchaseFacts{Amount: 20000, Online: true}, 55000,
			[]alerts.Kind{alerts.PurchaseOver, alerts.OnlinePurchase, alerts.BalanceOver}},
		{"defaults: all three off", alerts.Prefs{}, alerts.PurchaseFacts{Amount: 90000, Online: true}, 200000, []alerts.Kind{}},
	}
	for _, tt := range tests {
		got := alerts.Purchase(tt.p, tt.f, tt.balance)
		if diff := cmp.Diff(tt.want, kinds(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	got := alerts.Purchase(all, alerts.PurchaseFacts{Amount: 20000, Currency: "EUR", Merchant: "Shop"}, 20000)
	if len(got) != 1 || got[0].Amount != 20000 || got[0].Currency != "EUR" || got[0].Merchant != "Shop" || !cmp.Equal(got[0].Channels, []alerts.Channel{alerts.Email}) {
		t.Errorf("alert = %+v", got)
	}
}

func TestPaymentDueAlert(t *testing.T) {
	due := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	p := prefs(map[alerts.Kind]alerts.Setting{alerts.PaymentDue: {Email: true, Days: 3}})
	tests := []struct {
		name  string
		today time.Time
		owed  int64
		p     alerts.Prefs
		fires bool
	}{
		{"4 days before", due.AddDate(0, 0, -4), 100, p, false},
		{"3 days before", due.AddDate(0, 0, -3).Add(23 * time.Hour), 100, p, true},
		{"on the day", due.Add(12 * time.Hour), 100, p, true},
		{"a day late", due.AddDate(0, 0, 1), 100, p, false},
		{"minimum already paid", due.AddDate(0, 0, -1), 0, p, false},
		{"default 5 days", due.AddDate(0, 0, -5), 100, alerts.Prefs{}, true},
		{"switched off", due, 100, prefs(map[alerts.Kind]alerts.Setting{alerts.PaymentDue: {Days: 3}}), false},
	}
	for _, tt := range tests {
		got := alerts.PaymentDueAlert(tt.p, due, tt.today, tt.owed, "USD")
		if (len(got) == 1) != tt.fires {
			t.Errorf("%s: %+v, want fires=%v", tt.name, got, tt.fires)
		}
		if len(got) == 1 && (!got[0].Due.Equal(due) || got[0].Amount != tt.owed) {
			t.Errorf("%s: %+v", tt.name, got[0])
		}
	}
	if got := alerts.PaymentReceivedAlert(alerts.Prefs{}, 100, "USD"); len(got) != 0 {
		t.Errorf("payment received is off by default: %+v", got)
	}
	if got := alerts.StatementReadyAlert(alerts.Prefs{}, 100, "USD", due); len(got) != 1 {
		t.Errorf("statement ready is on by default: %+v", got)
	}
}

// memStore is an alerts.JobStore in memory.
type memStore struct {
	prefs   map[identity.MemberID]map[alerts.Kind]alerts.Setting
	due     []alerts.DueStatement
	claimed map[string]bool
	writes  int
}

func newMemStore() *memStore {
	return &memStore{prefs: map[identity.MemberID]map[alerts.Kind]alerts.Setting{}, claimed: map[string]bool{}}
}

func (m *memStore) AlertPrefs(_ context.Context, id identity.MemberID) (alerts.Prefs, error) {
	return alerts.Prefs{Settings: m.prefs[id]}, nil
}

func (m *memStore) SetAlertPrefs(_ context.Context, id identity.MemberID, s map[alerts.Kind]alerts.Setting, _ time.Time) error {
	m.writes++
	if m.prefs[id] == nil {
		m.prefs[id] = map[alerts.Kind]alerts.Setting{}
	}
	for k, v := range s {
		m.prefs[id][k] = v
	}
	return nil
}

func (m *memStore) AlertContacts(context.Context, identity.MemberID) (alerts.Contacts, error) {
	return alerts.Contacts{Email: "ada@example.com", Phone: "+15550100", Locale: "es"}, nil
}

func (m *memStore) DueStatements(_ context.Context, from, to time.Time) ([]alerts.DueStatement, error) {
	var out []alerts.DueStatement
	for _, d := range m.due {
		if !d.Due.Before(from) && !d.Due.After(to) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memStore) ClaimAlert(_ context.Context, id identity.MemberID, k alerts.Kind, ref string, _ time.Time) (bool, error) {
	key := string(k) + "/" + ref + "/" + string(rune(id))
	if m.claimed[key] {
		return false, nil
	}
	m.claimed[key] = true
	return true, nil
}

type sink struct{ msgs []notify.Message }

func (s *sink) Notify(_ context.Context, m notify.Message) error {
	s.msgs = append(s.msgs, m)
	return nil
}

func TestSetPrefs(t *testing.T) {
	st := newMemStore()
	svc := alerts.New(st, nil, time.Now, nil)
	for _, tt := range []struct {
		name  string
		in    map[alerts.Kind]alerts.Setting
		field string
	}{
		{"security cannot be set", map[alerts.Kind]alerts.Setting{alerts.Security: {}}, "security"},
		{"unknown alert", map[alerts.Kind]alerts.Setting{"weather": {Email: true}}, "weather"},
		{"negative amount", map[alerts.Kind]alerts.Setting{alerts.PurchaseOver: {Amount: -1}}, "purchase_over.amount"},
		{"huge amount", map[alerts.Kind]alerts.Setting{alerts.BalanceOver: {Amount: alerts.MaxAmount + 1}}, "balance_over.amount"},
		{"0 days", map[alerts.Kind]alerts.Setting{alerts.PaymentDue: {Email: true}}, "payment_due.days"},
		{"31 days", map[alerts.Kind]alerts.Setting{alerts.PaymentDue: {Days: 31}}, "payment_due.days"},
	} {
		_, err := svc.SetPrefs(t.Context(), 1, tt.in)
		fs := cp.ErrorFields(err)
		if !cp.IsKind(err, cp.Invalid) || len(fs) != 1 || fs[0].Field != tt.field {
			t.Errorf("%s: %v, want Invalid on %s", tt.name, err, tt.field)
		}
	}
	if st.writes != 0 {
		t.Fatalf("%d writes of refused preferences", st.writes)
	}
	p, err := svc.SetPrefs(t.Context(), 1, map[alerts.Kind]alerts.Setting{
		alerts.OnlinePurchase: {SMS: true, Amount: 999, Days: 9}, // parameters it does not take are dropped
		alerts.PaymentDue:     {Email: true, Days: 30},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Get(alerts.OnlinePurchase); got != (alerts.Setting{SMS: true}) {
		t.Errorf("online purchase stored as %+v", got)
	}
	if got := p.Get(alerts.PaymentDue); got != (alerts.Setting{Email: true, Days: 30}) {
		t.Errorf("payment due stored as %+v", got)
	}
}

func TestRunPaymentDue(t *testing.T) {
	now := time.Date(2026, 3, 17, 6, 0, 0, 0, time.UTC)
	due := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	st := newMemStore()
	st.due = []alerts.DueStatement{
		{Member: 1, StatementID: 10, AccountID: 100, Due: due, MinimumDue: 2500, Paid: 500, Currency: "USD"},  // default: email, 5 days
		{Member: 2, StatementID: 20, AccountID: 200, Due: due, MinimumDue: 2500, Paid: 2500, Currency: "USD"}, // paid
		{Member: 3, StatementID: 30, AccountID: 300, Due: due, MinimumDue: 2500, Currency: "USD"},             // 1 day before only
		{Member: 4, StatementID: 40, AccountID: 400, Due: due, MinimumDue: 2500, Currency: "USD"},             // SMS and push
	}
	st.prefs[3] = map[alerts.Kind]alerts.Setting{alerts.PaymentDue: {Email: true, Days: 1}}
	st.prefs[4] = map[alerts.Kind]alerts.Setting{alerts.PaymentDue: {SMS: true, Push: true, Days: 5}}
	out := &sink{}
	clock := now
	svc := alerts.New(st, out, func() time.Time { return clock }, nil)

	n, err := svc.RunPaymentDue(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("RunPaymentDue = %d, %v; want 2 alerts (members 1 and 4)", n, err)
	}
	if len(out.msgs) != 3 {
		t.Fatalf("%d messages, want 3 (email to 1, SMS and push to 4): %+v", len(out.msgs), out.msgs)
	}
	m := out.msgs[0]
	if m.MemberID != 1 || m.Channel != notify.Email || m.Kind != "alert.payment_due" || !strings.Contains(m.Body, "20,00") || !strings.Contains(m.Subject, "20") {
		t.Errorf("email = %+v; want the 20.00 still owed in Spanish", m)
	}
	if out.msgs[1].Channel != notify.SMS || out.msgs[1].To != "+15550100" || out.msgs[2].Channel != notify.Push {
		t.Errorf("member 4's messages = %+v", out.msgs[1:])
	}
	// Later the same day, and on the next days, nothing is sent twice; member 3's
	// window opens on the 19th.
	for _, day := range []int{17, 18, 19, 20, 21} {
		clock = time.Date(2026, 3, day, 18, 0, 0, 0, time.UTC)
		if _, err := svc.RunPaymentDue(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if len(out.msgs) != 4 || out.msgs[3].MemberID != 3 {
		t.Errorf("after a week of runs: %d messages, last %+v; want one more, to member 3", len(out.msgs), out.msgs[len(out.msgs)-1])
	}
}

// cards is an alerts.CardStore in memory that counts its look-ups.
type cards struct {
	members map[int64][]identity.MemberID
	calls   int
}

func (c *cards) Alertees(_ context.Context, ids []int64) (map[int64][]identity.MemberID, error) {
	c.calls++
	out := map[int64][]identity.MemberID{}
	for _, id := range ids {
		if m := c.members[id]; m != nil {
			out[id] = m
		}
	}
	return out, nil
}

// TestRaise: one look-up of the cards for a batch of decisions; each member's rules
// applied to each decision with the balance it left (so the balance alert fires for
// the purchase that crossed the line, not the one after); the frozen-card warning to
// every member whatever their settings; nothing for a card nobody registered.
func TestRaise(t *testing.T) {
	st := newMemStore()
	st.prefs[1] = map[alerts.Kind]alerts.Setting{alerts.BalanceOver: {Email: true, Amount: 50000}}
	out := &sink{}
	cs := &cards{members: map[int64][]identity.MemberID{10: {1}, 11: {1, 2}}}
	p := &alerts.Purchases{Alerts: alerts.New(st, out, time.Now, nil), Cards: cs, Log: slog.New(slog.DiscardHandler)}
	buy := func(card, amount, owed int64) alerts.CardDecision {
		return alerts.CardDecision{CardID: card, Facts: alerts.PurchaseFacts{Amount: amount, Currency: "USD", Merchant: "Shop"}, Owed: owed}
	}
	frozen := buy(11, 700, 50800)
	frozen.Frozen = true
	p.Raise(t.Context(), []alerts.CardDecision{
		buy(10, 300, 49900), // under the line
		buy(11, 500, 50400), // crosses it: member 1's alert; member 2 has it off
		buy(10, 400, 50800), // over already: no second alert
		frozen,
		buy(99, 100, 100), // nobody registered
	})
	if cs.calls != 1 {
		t.Errorf("%d card look-ups for one batch, want 1", cs.calls)
	}
	var got []string
	for _, m := range out.msgs {
		got = append(got, fmt.Sprintf("%d %s %s", m.MemberID, m.Kind, m.Channel))
	}
	want := []string{"1 alert.balance_over email", "1 alert.frozen_attempt email", "1 alert.frozen_attempt sms", "1 alert.frozen_attempt push",
		"2 alert.frozen_attempt email", "2 alert.frozen_attempt sms", "2 alert.frozen_attempt push"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}
