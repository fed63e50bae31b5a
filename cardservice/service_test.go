package cardservice_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/passhash"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
)

var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// testCard is a card of the fixture with what its holder would type.
type testCard struct {
	id   int64
	pan  string
	cid  string
	last string
}

// env is the service over a real SQLite store, a soft HSM and the identity service
// that re-identifies members for the PIN flow.
//
//	account 1: alice (basic, born 1980-04-02): card 11 active, card 14 inactive (new)
//	           bob (additional, born 1985-07-19): card 12 active
//	account 2: carol (basic, born 1990-01-30): card 13 active, 16 digits
//	           dave (additional, born 1975-03-03): card 15 active, 16 digits
//
// Alice has security answers (aliceAnswers) and an email address; Bob and Carol an
// email address only; Dave neither, so he identifies by date of birth and code.
type env struct {
	t        *testing.T
	store    *sqlstore.Store
	hsm      *cardcrypto.Soft
	clock    *cardportaltest.Clock
	svc      *cardservice.Service
	logs     *cardportaltest.LogBuffer
	alice    identity.MemberID
	bob      identity.MemberID
	carol    identity.MemberID
	dave     identity.MemberID
	ident    *identity.Service
	hasher   *passhash.Hasher
	cards    map[int64]testCard
	src      identity.Source
	secrets  []string // card numbers that must never reach a log
	pins     []string // PINs that must never reach a log
	notifier *notify.Outbox
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := cardcrypto.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, hsm: hsm, clock: cardportaltest.NewClock(start), logs: &cardportaltest.LogBuffer{}, cards: map[int64]testCard{},
		src: identity.Source{IP: "192.0.2.1", UserAgent: "test", Client: identity.Web}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.notifier = &notify.Outbox{Store: store, Log: log, Now: e.clock.Now}
	e.hasher, err = passhash.NewHasher(passhash.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.ident = identity.NewService(store, hsm, e.hasher, e.notifier, identity.Config{}, e.clock.Now, log)
	e.svc = cardservice.New(store, hsm, e.ident, e.notifier, cardservice.Config{}, e.clock.Now, log)
	e.load()
	t.Cleanup(e.checkLogs)
	return e
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func (e *env) load() {
	t := e.t
	exp := card.Expiry{Month: 12, Year: 2029}
	d := issuer.Dataset{
		Products: []issuer.Product{{ID: 1, Code: "gold", Name: "Gold", PANLength: 15, Currency: "USD"}},
		Accounts: []issuer.Account{
			{ID: 1, ProductCode: "gold", Currency: "USD", CreditLimit: 500000, OpenedAt: start.AddDate(-2, 0, 0)},
			{ID: 2, ProductCode: "gold", Currency: "USD", CreditLimit: 100000, OpenedAt: start.AddDate(-1, 0, 0)},
		},
		CardHolders: []issuer.CardHolder{
			{ID: 1, AccountID: 1, Basic: true, Name: "Alice Example", BirthDate: date("1980-04-02"), NationalIDMAC: []byte{1}, Email: "alice@example.com"},
			{ID: 2, AccountID: 1, Name: "Bob Example", BirthDate: date("1985-07-19"), NationalIDMAC: []byte{2}, Email: "bob@example.com"},
			{ID: 3, AccountID: 2, Basic: true, Name: "Carol Other", BirthDate: date("1990-01-30"), NationalIDMAC: []byte{3}, Email: "carol@example.org"},
			{ID: 4, AccountID: 2, Name: "Dave Other", BirthDate: date("1975-03-03"), NationalIDMAC: []byte{4}},
		},
		Postings: []issuer.Posting{
			{ID: 1, AccountID: 1, Amount: 12345, Kind: "purchase", Description: "Grocer", PostedAt: start.AddDate(0, 0, -3)},
		},
	}
	for _, c := range []struct {
		id, account, holder int64
		pan                 string
		state               string
	}{
		{11, 1, 1, "378282246310005", issuer.StateActive},
		{14, 1, 1, "371449635398431", issuer.StateInactive},
		{12, 1, 2, "370000000000002", issuer.StateActive},
		{13, 2, 3, "5555555555554444", issuer.StateActive},
		{15, 2, 4, "4111111111111111", issuer.StateActive},
	} {
		pan, err := card.ParsePAN(c.pan)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := e.hsm.SealPAN(pan)
		if err != nil {
			t.Fatal(err)
		}
		code, err := e.hsm.CardCode(pan, exp)
		if err != nil {
			t.Fatal(err)
		}
		e.cards[c.id] = testCard{id: c.id, pan: c.pan, cid: code.Digits(), last: card.ScreenDigits(pan)}
		e.secrets = append(e.secrets, c.pan)
		d.Cards = append(d.Cards, issuer.Card{ID: c.id, AccountID: c.account, CardHolderID: c.holder, Sealed: sealed,
			Fingerprint: e.hsm.Fingerprint(pan), Last: card.ScreenDigits(pan), ExpMonth: exp.Month, ExpYear: exp.Year,
			State: c.state, IssuedAt: start.AddDate(-1, 0, 0)})
	}
	ctx := context.Background()
	if err := e.store.LoadIssuer(ctx, d); err != nil {
		t.Fatal(err)
	}
	member := func(holder int64, userID, email string, answers map[string]string) identity.MemberID {
		nm := identity.NewMember{UserID: userID, CardholderID: holder, Name: userID,
			Email: email, Locale: "en", PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA", CreatedAt: start}
		for q, a := range answers {
			h, err := e.hasher.Hash(ctx, []byte(identity.NormalizeAnswer(a)))
			if err != nil {
				t.Fatal(err)
			}
			nm.Answers = append(nm.Answers, identity.SecurityAnswer{QuestionID: q, AnswerHash: h})
		}
		m, err := e.store.CreateMember(ctx, nm)
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	e.alice = member(1, "alice", "alice@example.com", aliceAnswers)
	e.bob = member(2, "bob", "bob@example.com", nil)
	e.carol = member(3, "carol", "carol@example.org", nil)
	e.dave = member(4, "dave", "", nil)
}

// aliceAnswers are Alice's security answers.
var aliceAnswers = map[string]string{"first_pet": "Rex", "birth_city": "Malmö", "first_job": "Bakery"}

// checkLogs fails the test if a card number, security code or PIN reached a log.
func (e *env) checkLogs() {
	logs := e.logs.String()
	for _, s := range e.secrets {
		if strings.Contains(logs, s) {
			e.t.Errorf("a secret (%.4s...) reached the logs", s)
		}
	}
	// Codes and PINs are short enough to occur by chance inside a timestamp, so they
	// are looked for as whole values.
	short := append([]string{}, e.pins...)
	for _, c := range e.cards {
		short = append(short, c.cid)
	}
	for _, v := range short {
		if strings.Contains(logs, `"`+v+`"`) || strings.Contains(logs, "="+v) {
			e.t.Errorf("a card code or PIN reached the logs")
		}
	}
}

func (e *env) state(id int64) card.State {
	e.t.Helper()
	c, err := e.store.MemberCard(context.Background(), e.alice, id)
	if err != nil {
		// Bob's own cards only are visible to him; Alice sees all of account 1.
		c, err = e.store.MemberCard(context.Background(), e.carol, id)
	}
	if err != nil {
		e.t.Fatalf("card %d: %v", id, err)
	}
	return c.State
}

func (e *env) outboxKinds() []string {
	e.t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []string
	for _, m := range msgs {
		kinds = append(kinds, m.Kind)
	}
	return kinds
}

func (e *env) events(m identity.MemberID) []identity.EventKind {
	e.t.Helper()
	ev, err := e.store.ListEvents(context.Background(), m, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []identity.EventKind
	for _, x := range ev {
		kinds = append(kinds, x.Kind)
	}
	return kinds
}

func wantKind(t *testing.T, what string, err error, kind cp.Kind, msg string) {
	t.Helper()
	if !cp.IsKind(err, kind) {
		t.Fatalf("%s: %v, want kind %v", what, err, kind)
	}
	if msg != "" && cp.ErrorMsg(err) != msg {
		t.Fatalf("%s: message %q, want %q", what, cp.ErrorMsg(err), msg)
	}
}

func fieldNames(err error) []string {
	var out []string
	for _, f := range cp.ErrorFields(err) {
		out = append(out, f.Field+"="+f.Msg)
	}
	return out
}

func TestActivate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.cards[14]
	wrongCID := "0000"
	if c.cid == wrongCID {
		wrongCID = "1111"
	}
	tests := []struct {
		name   string
		member identity.MemberID
		in     cardservice.Activation
		kind   cp.Kind
		msg    string
		fields string
	}{
		{"empty", e.alice, cardservice.Activation{}, cp.Invalid, "", "card_number=error.cardnumber cid=error.cid"},
		{"bad number", e.alice, cardservice.Activation{CardNumber: "378282246310006", CID: c.cid}, cp.Invalid, "", "card_number=error.cardnumber"},
		{"code too short for this card", e.alice, cardservice.Activation{CardNumber: c.pan, CID: "123"}, cp.Invalid, "", "cid=error.cid"},
		{"wrong code", e.alice, cardservice.Activation{CardNumber: c.pan, CID: wrongCID}, cp.Invalid, "card.activate.nomatch", ""},
		{"another member's card", e.carol, cardservice.Activation{CardNumber: c.pan, CID: c.cid}, cp.Invalid, "card.activate.nomatch", ""},
		{"additional member, basic member's card", e.bob, cardservice.Activation{CardNumber: c.pan, CID: c.cid}, cp.Invalid, "card.activate.nomatch", ""},
		{"unknown number", e.alice, cardservice.Activation{CardNumber: "378734493671000", CID: "1234"}, cp.Invalid, "card.activate.nomatch", ""},
		{"already active card", e.alice, cardservice.Activation{CardNumber: e.cards[11].pan, CID: e.cards[11].cid}, cp.Conflict, "card.error.notinactive", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Activate(ctx, tt.member, tt.in, e.src)
			wantKind(t, tt.name, err, tt.kind, tt.msg)
			if got := strings.Join(fieldNames(err), " "); got != tt.fields {
				t.Errorf("fields %q, want %q", got, tt.fields)
			}
			if s := e.state(14); s != card.Inactive {
				t.Errorf("card is %s after a refused activation", s)
			}
		})
	}
	got, err := e.svc.Activate(ctx, e.alice, cardservice.Activation{CardNumber: c.pan, CID: c.cid}, e.src)
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if got.ID != 14 || got.State != card.Active || e.state(14) != card.Active {
		t.Errorf("activated card %d is %s (stored %s)", got.ID, got.State, e.state(14))
	}
	if !strings.Contains(strings.Join(e.outboxKinds(), " "), "card.activated") {
		t.Errorf("no activation notice: %v", e.outboxKinds())
	}
	ev := e.events(e.alice)
	if len(ev) == 0 || ev[0] != cardservice.EventActivated {
		t.Errorf("events %v, want card.activated first", ev)
	}
	_, err = e.svc.Activate(ctx, e.alice, cardservice.Activation{CardNumber: c.pan, CID: c.cid}, e.src)
	wantKind(t, "second activation", err, cp.Conflict, "card.error.notinactive")
}

// TestActivateThrottled: a security code has only 10^4 values, so guesses per card
// are limited whoever makes them.
func TestActivateThrottled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.cards[14]
	var err error
	for i := range cardservice.DefaultConfig.ActivatePerCard + 1 {
		_, err = e.svc.Activate(ctx, e.alice, cardservice.Activation{CardNumber: c.pan, CID: "000" + string(rune('0'+i))}, e.src)
	}
	wantKind(t, "attempt past the limit", err, cp.TooManyRequests, "card.activate.throttled")
	if cp.ErrorUntil(err).IsZero() {
		t.Errorf("no end of the throttle")
	}
	// Even the right code waits.
	_, err = e.svc.Activate(ctx, e.alice, cardservice.Activation{CardNumber: c.pan, CID: c.cid}, e.src)
	wantKind(t, "right code while throttled", err, cp.TooManyRequests, "")
	e.clock.Add(time.Hour)
	if _, err := e.svc.Activate(ctx, e.alice, cardservice.Activation{CardNumber: c.pan, CID: c.cid}, e.src); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// TestScope tries every operation on cards the member may not act on: each is NotFound
// and changes nothing.
func TestScope(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pin := cardservice.PINChange{BirthDate: "1990-01-30", CID: e.cards[11].cid, PIN: "2719", Confirm: "2719"}
	ops := map[string]func(m identity.MemberID, id int64) error{
		"Card":   func(m identity.MemberID, id int64) error { _, err := e.svc.Card(ctx, m, id); return err },
		"Freeze": func(m identity.MemberID, id int64) error { _, err := e.svc.Freeze(ctx, m, id, e.src); return err },
		"Unfreeze": func(m identity.MemberID, id int64) error {
			_, err := e.svc.Unfreeze(ctx, m, id, e.src)
			return err
		},
		"ReportLost": func(m identity.MemberID, id int64) error {
			_, err := e.svc.ReportLost(ctx, m, id, e.src)
			return err
		},
		"SetPIN": func(m identity.MemberID, id int64) error { return e.svc.SetPIN(ctx, m, id, pin, e.src) },
		"StartPINChallenge": func(m identity.MemberID, id int64) error {
			_, err := e.svc.StartPINChallenge(ctx, m, id, e.src)
			return err
		},
		"PendingPINChallenge": func(m identity.MemberID, id int64) error {
			_, err := e.svc.PendingPINChallenge(ctx, m, id, "token", e.src)
			return err
		},
		"SendPINCode": func(m identity.MemberID, id int64) error {
			return e.svc.SendPINCode(ctx, m, id, "token", identity.FactorEmail, e.src)
		},
	}
	cases := []struct {
		name   string
		member identity.MemberID
		card   int64
	}{
		{"other account's member", e.carol, 11},
		{"other account's member, new card", e.carol, 14},
		{"additional member, basic member's card", e.bob, 11},
		{"basic member, other account", e.alice, 13},
		{"no such card", e.alice, 999},
	}
	for name, op := range ops {
		for _, tt := range cases {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				wantKind(t, name, op(tt.member, tt.card), cp.NotFound, "")
			})
		}
	}
	for id, want := range map[int64]card.State{11: card.Active, 14: card.Inactive, 13: card.Active} {
		if got := e.state(id); got != want {
			t.Errorf("card %d is %s after refused operations, want %s", id, got, want)
		}
	}
	if _, err := e.store.PINValue(ctx, 11); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("a PIN was set by another member: %v", err)
	}
	// The basic card member may act on the additional member's card.
	if _, err := e.svc.Freeze(ctx, e.alice, 12, e.src); err != nil {
		t.Errorf("basic member freezing the additional member's card: %v", err)
	}
	// The additional member acts on their own.
	if _, err := e.svc.Unfreeze(ctx, e.bob, 12, e.src); err != nil {
		t.Errorf("additional member unfreezing their own card: %v", err)
	}
}

func TestFreeze(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	steps := []struct {
		name  string
		do    func() (cardservice.Card, error)
		state card.State
		msg   string // error message id, "" for success
	}{
		{"freeze", func() (cardservice.Card, error) { return e.svc.Freeze(ctx, e.alice, 11, e.src) }, card.Frozen, ""},
		{"freeze again", func() (cardservice.Card, error) { return e.svc.Freeze(ctx, e.alice, 11, e.src) }, card.Frozen, ""},
		{"unfreeze", func() (cardservice.Card, error) { return e.svc.Unfreeze(ctx, e.alice, 11, e.src) }, card.Active, ""},
		{"unfreeze again", func() (cardservice.Card, error) { return e.svc.Unfreeze(ctx, e.alice, 11, e.src) }, card.Active, ""},
		{"freeze a card not yet activated", func() (cardservice.Card, error) { return e.svc.Freeze(ctx, e.alice, 14, e.src) }, card.Inactive, "card.error.notactive"},
	}
	for _, st := range steps {
		c, err := st.do()
		if st.msg != "" {
			wantKind(t, st.name, err, cp.Conflict, st.msg)
			continue
		}
		if err != nil || c.State != st.state {
			t.Fatalf("%s: %s, %v; want %s", st.name, c.State, err, st.state)
		}
	}
	// Idempotent steps record nothing: one freeze and one unfreeze.
	var n int
	for _, k := range e.events(e.alice) {
		if k == cardservice.EventFrozen || k == cardservice.EventUnfrozen {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d freeze/unfreeze events, want 2: %v", n, e.events(e.alice))
	}
	kinds := strings.Join(e.outboxKinds(), " ")
	if strings.Count(kinds, "card.frozen") != 1 || strings.Count(kinds, "card.unfrozen") != 1 {
		t.Errorf("notices %q, want one freeze and one unfreeze", kinds)
	}
}

// TestFreezeConcurrent runs freezes and unfreezes at once: each must succeed (they are
// idempotent) and the card must end in a state one of them asked for.
func TestFreezeConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = e.svc.Freeze(ctx, e.alice, 11, e.src)
			} else {
				_, err = e.svc.Unfreeze(ctx, e.alice, 11, e.src)
			}
			if err != nil {
				t.Errorf("concurrent step: %v", err)
			}
		})
	}
	wg.Wait()
	if s := e.state(11); s != card.Active && s != card.Frozen {
		t.Errorf("card ended %s", s)
	}
}

func TestReportLost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before, err := e.store.Summaries(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Freeze(ctx, e.alice, 11, e.src); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.ReportLost(ctx, e.alice, 11, e.src)
	if err != nil {
		t.Fatalf("ReportLost: %v", err)
	}
	old, nw := rep.Old, rep.New
	if old.ID != 11 || old.State != card.Lost || e.state(11) != card.Lost {
		t.Errorf("old card %d is %s (stored %s), want lost", old.ID, old.State, e.state(11))
	}
	if nw.ID == 11 || nw.State != card.Inactive || nw.AccountID != 1 || nw.CardholderID != 1 || nw.ReplacesID != 11 {
		t.Errorf("replacement %+v: want a new inactive card for holder 1 on account 1 replacing 11", nw)
	}
	if bytes.Equal(nw.Fingerprint, old.Fingerprint) || nw.Last == old.Last {
		t.Errorf("replacement has the old number (last %s)", nw.Last)
	}
	if want := (card.Expiry{Month: 11, Year: 2030}); nw.Expiry != want {
		t.Errorf("replacement expiry %v, want %v", nw.Expiry, want)
	}
	// Read the new number as only an internal caller can: from the store through the HSM.
	pan, err := e.hsm.OpenPAN(nw.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	e.secrets = append(e.secrets, pan.Digits())
	oldPAN := e.cards[11].pan
	if d := pan.Digits(); len(d) != len(oldPAN) || d[:6] != oldPAN[:6] || !card.LuhnValid(d) || card.ScreenDigits(pan) != nw.Last {
		t.Errorf("replacement number: want the same BIN and length, Luhn-valid, matching its screen digits")
	}
	if !bytes.Equal(e.hsm.Fingerprint(pan), nw.Fingerprint) {
		t.Errorf("stored fingerprint does not match the sealed number")
	}
	// History stays with the account.
	after, err := e.store.Summaries(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if before[0].Balance != after[0].Balance {
		t.Errorf("balance moved from %d to %d", before[0].Balance, after[0].Balance)
	}
	// The old card is blocked for good.
	_, err = e.svc.Activate(ctx, e.alice, cardservice.Activation{CardNumber: oldPAN, CID: e.cards[11].cid}, e.src)
	wantKind(t, "activating the lost card", err, cp.Conflict, "card.error.blocked")
	_, err = e.svc.Unfreeze(ctx, e.alice, 11, e.src)
	wantKind(t, "unfreezing the lost card", err, cp.Conflict, "card.error.blocked")
	_, err = e.svc.ReportLost(ctx, e.alice, 11, e.src)
	wantKind(t, "reporting it again", err, cp.Conflict, "card.error.blocked")
	err = e.svc.SetPIN(ctx, e.alice, 11, cardservice.PINChange{BirthDate: "1980-04-02", CID: e.cards[11].cid, PIN: "2719", Confirm: "2719"}, e.src)
	wantKind(t, "PIN for the lost card", err, cp.Conflict, "card.error.blocked")
	// The replacement activates with its own number and code.
	code, err := e.hsm.CardCode(pan, nw.Expiry)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Activate(ctx, e.alice, cardservice.Activation{CardNumber: pan.Digits(), CID: code.Digits()}, e.src)
	if err != nil || got.ID != nw.ID || got.State != card.Active {
		t.Errorf("activating the replacement: %d %s %v", got.ID, got.State, err)
	}
	if !strings.Contains(strings.Join(e.outboxKinds(), " "), "card.lost") {
		t.Errorf("no lost-card notice")
	}
	msgs, _ := e.store.ListOutbox(ctx, 100)
	for _, m := range msgs {
		if strings.Contains(m.Body, pan.Digits()) || strings.Contains(m.Body, oldPAN) {
			t.Errorf("a notice holds a full card number")
		}
	}
}

// TestReportLostByAdditionalMember: the replacement stays with the additional member.
func TestReportLostByAdditionalMember(t *testing.T) {
	e := newEnv(t)
	rep, err := e.svc.ReportLost(context.Background(), e.bob, 12, e.src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.New.CardholderID != 2 {
		t.Errorf("replacement went to holder %d, want 2", rep.New.CardholderID)
	}
	if _, err := e.svc.Card(context.Background(), e.bob, rep.New.ID); err != nil {
		t.Errorf("the additional member cannot see their replacement: %v", err)
	}
	pan, _ := e.hsm.OpenPAN(rep.New.Sealed)
	e.secrets = append(e.secrets, pan.Digits())
}

// challenge starts a PIN challenge for the member's card and returns it with the
// answer the member would give to its security question ("" if none is asked).
func (e *env) challenge(m identity.MemberID, cardID int64) (*cardservice.PINChallenge, string) {
	e.t.Helper()
	ch, err := e.svc.StartPINChallenge(context.Background(), m, cardID, e.src)
	if err != nil {
		e.t.Fatalf("StartPINChallenge: %v", err)
	}
	if ch.QuestionID == "" {
		return ch, ""
	}
	a, ok := aliceAnswers[ch.QuestionID]
	if !ok || m != e.alice {
		e.t.Fatalf("asked question %q", ch.QuestionID)
	}
	return ch, a
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// sendCode sends a code for the challenge by email and reads it from the outbox, as the
// member would.
func (e *env) sendCode(m identity.MemberID, cardID int64, ch *cardservice.PINChallenge) string {
	e.t.Helper()
	ctx := context.Background()
	if err := e.svc.SendPINCode(ctx, m, cardID, ch.FlowToken, identity.FactorEmail, e.src); err != nil {
		e.t.Fatalf("SendPINCode: %v", err)
	}
	msgs, err := e.store.ListOutbox(ctx, 5)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, msg := range msgs {
		if msg.Kind == "mfa.code" {
			code := sixDigits.FindString(msg.Body)
			e.pins = append(e.pins, code)
			return code
		}
	}
	e.t.Fatal("no code in the outbox")
	return ""
}

func questionAnswer(ch *cardservice.PINChallenge, answer, pin string) cardservice.PINChange {
	return cardservice.PINChange{FlowToken: ch.FlowToken, Factor: identity.FactorQuestion, Answer: answer, PIN: pin, Confirm: pin}
}

func TestPINChallenge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ch, answer := e.challenge(e.alice, 11)
	if ch.Fallback() || ch.FlowToken == "" || answer == "" {
		t.Fatalf("Alice's challenge: %+v", ch)
	}
	if diff := cmp.Diff([]identity.Factor{identity.FactorEmail, identity.FactorQuestion}, ch.Factors); diff != "" {
		t.Errorf("Alice's factors (-want +got):\n%s", diff)
	}
	if strings.Contains(ch.Email, "alice@example.com") {
		t.Errorf("the address is not masked: %q", ch.Email)
	}
	ch, _ = e.challenge(e.bob, 12)
	if diff := cmp.Diff([]identity.Factor{identity.FactorEmail}, ch.Factors); diff != "" || ch.QuestionID != "" {
		t.Errorf("Bob's factors (-want +got):\n%s (question %q)", diff, ch.QuestionID)
	}
	// Dave has neither an address nor security answers: no challenge, the fallback.
	ch, _ = e.challenge(e.dave, 15)
	if !ch.Fallback() || ch.FlowToken != "" {
		t.Errorf("Dave's challenge: %+v, want the fallback", ch)
	}
	// A code for a challenge is sent to the member, and the challenge shows it.
	ch, _ = e.challenge(e.alice, 11)
	e.sendCode(e.alice, 11, ch)
	p, err := e.svc.PendingPINChallenge(ctx, e.alice, 11, ch.FlowToken, e.src)
	if err != nil || p.CodeSent != identity.FactorEmail || p.QuestionID != ch.QuestionID {
		t.Errorf("PendingPINChallenge: %+v, %v", p, err)
	}
	// The challenge is the card's: not another card's, not another member's.
	_, err = e.svc.PendingPINChallenge(ctx, e.alice, 12, ch.FlowToken, e.src)
	wantKind(t, "another card", err, cp.Forbidden, "mfa.invalid")
	_, err = e.svc.PendingPINChallenge(ctx, e.carol, 13, ch.FlowToken, e.src)
	wantKind(t, "another member", err, cp.Forbidden, "mfa.invalid")
	_, err = e.svc.PendingPINChallenge(ctx, e.alice, 11, "not-a-token", e.src)
	wantKind(t, "no such challenge", err, cp.Expired, "card.pin.expired")
	// A blocked card has no PIN flow.
	if _, err := e.svc.ReportLost(ctx, e.alice, 11, e.src); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.StartPINChallenge(ctx, e.alice, 11, e.src)
	wantKind(t, "lost card", err, cp.Conflict, "card.error.blocked")
}

func TestSetPIN(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.cards[11]
	ch, answer := e.challenge(e.alice, 11)
	ok := questionAnswer(ch, answer, "2719")
	e.pins = append(e.pins, "2719", "4829")
	with := func(f func(*cardservice.PINChange)) cardservice.PINChange { p := ok; f(&p); return p }
	invalid := []struct {
		name   string
		in     cardservice.PINChange
		fields string
	}{
		{"all one digit", with(func(p *cardservice.PINChange) { p.PIN, p.Confirm = "7777", "7777" }), "pin=pin.trivial.same"},
		{"ascending", with(func(p *cardservice.PINChange) { p.PIN, p.Confirm = "1234", "1234" }), "pin=pin.trivial.sequence"},
		{"descending", with(func(p *cardservice.PINChange) { p.PIN, p.Confirm = "9876", "9876" }), "pin=pin.trivial.sequence"},
		{"holder's birth year", with(func(p *cardservice.PINChange) { p.PIN, p.Confirm = "1980", "1980" }), "pin=pin.trivial.birthyear"},
		{"five digits", with(func(p *cardservice.PINChange) { p.PIN, p.Confirm = "27195", "27195" }), "pin=pin.format"},
		{"mismatch", with(func(p *cardservice.PINChange) { p.Confirm = "2718" }), "pin_confirm=pin.mismatch"},
		{"no answer", with(func(p *cardservice.PINChange) { p.Answer = " " }), "answer=error.field.required"},
		{"no factor", with(func(p *cardservice.PINChange) { p.Factor = "" }), "factor=mfa.factor.unavailable"},
		{"recovery code is not offered", with(func(p *cardservice.PINChange) { p.Factor = identity.FactorRecovery }), "factor=mfa.factor.unavailable"},
		// Date of birth and code are no way round a member's second factor.
		{"fallback refused", with(func(p *cardservice.PINChange) {
			p.FlowToken, p.Factor, p.Answer, p.BirthDate, p.CID = "", "", "", "1980-04-02", c.cid
		}), "factor=mfa.factor.unavailable answer=error.field.required"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.SetPIN(ctx, e.alice, 11, tt.in, e.src)
			wantKind(t, tt.name, err, cp.Invalid, "")
			if got := strings.Join(fieldNames(err), " "); got != tt.fields {
				t.Errorf("fields %q, want %q", got, tt.fields)
			}
		})
	}
	if _, err := e.store.PINValue(ctx, 11); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("invalid input stored a PIN value: %v", err)
	}
	// None of that spent the challenge or an identification check (3 per card).
	if err := e.svc.SetPIN(ctx, e.alice, 11, ok, e.src); err != nil {
		t.Fatalf("SetPIN: %v", err)
	}
	v1, err := e.store.PINValue(ctx, 11)
	if err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte("2719"))
	withPAN := sha256.Sum256([]byte(c.pan + "2719"))
	for _, bad := range [][]byte{[]byte("2719"), plain[:], withPAN[:], []byte(hex.EncodeToString(plain[:]))} {
		if bytes.Equal(v1, bad) || bytes.Contains(v1, []byte("2719")) {
			t.Errorf("the stored value is the PIN or a plain hash of it")
		}
	}
	if okPIN, err := e.svc.VerifyPIN(ctx, 11, mustSealed(t, e, 11), mustPIN(t, "2719")); err != nil || !okPIN {
		t.Errorf("VerifyPIN with the PIN = %v, %v", okPIN, err)
	}
	if okPIN, _ := e.svc.VerifyPIN(ctx, 11, mustSealed(t, e, 11), mustPIN(t, "2718")); okPIN {
		t.Errorf("VerifyPIN accepted a wrong PIN")
	}
	// The same PIN on another card gives another value: each card has its own. Bob
	// identifies with a code by email.
	bch, _ := e.challenge(e.bob, 12)
	code := e.sendCode(e.bob, 12, bch)
	if err := e.svc.SetPIN(ctx, e.bob, 12, cardservice.PINChange{FlowToken: bch.FlowToken, Factor: identity.FactorEmail, Answer: code, PIN: "2719", Confirm: "2719"}, e.src); err != nil {
		t.Fatalf("SetPIN on Bob's card: %v", err)
	}
	if v2, _ := e.store.PINValue(ctx, 12); bytes.Equal(v1, v2) {
		t.Errorf("two cards with the same PIN share a verification value")
	}
	// A change replaces the value.
	e.clock.Add(time.Hour)
	ch, answer = e.challenge(e.alice, 11)
	if err := e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, answer, "4829"), e.src); err != nil {
		t.Fatal(err)
	}
	if v3, _ := e.store.PINValue(ctx, 11); bytes.Equal(v1, v3) {
		t.Errorf("the value did not change with the PIN")
	}
	if n := strings.Count(strings.Join(e.outboxKinds(), " "), "card.pinchanged"); n != 3 {
		t.Errorf("%d PIN-changed notices, want 3", n)
	}
	// The basic member identifies with their own factors on the additional member's
	// card; the additional member's birth year is refused as a PIN too.
	ch, answer = e.challenge(e.alice, 12)
	err = e.svc.SetPIN(ctx, e.alice, 12, questionAnswer(ch, answer, "1985"), e.src)
	wantKind(t, "holder's birth year on another's card", err, cp.Invalid, "")
}

func mustSealed(t *testing.T, e *env, id int64) cardcrypto.Sealed {
	t.Helper()
	c, err := e.store.MemberCard(context.Background(), e.alice, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Sealed
}

func mustPIN(t *testing.T, s string) cardcrypto.PIN {
	t.Helper()
	p, err := cardcrypto.ParsePIN(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSetPINIdentification: wrong identification is refused without saying what was
// wrong, a challenge serves once and only its member's card, and after three checks
// the PIN flow of the card is locked.
func TestSetPINIdentification(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.pins = append(e.pins, "2719")
	wrongAnswer := func(right string) string { return right + "x" }
	wrongCode := func(right string) string {
		if right == "000000" {
			return "111111"
		}
		return "000000"
	}
	failures := map[identity.MemberID]int{}
	fresh := func() { e.clock.Add(31 * time.Minute) } // past the per-card window

	t.Run("question", func(t *testing.T) {
		ch, answer := e.challenge(e.alice, 11)
		err := e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, wrongAnswer(answer), "2719"), e.src)
		wantKind(t, "wrong answer", err, cp.Forbidden, "mfa.invalid")
		failures[e.alice]++
		// The challenge survives a wrong answer...
		if err := e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, " "+answer+" ", "2719"), e.src); err != nil {
			t.Fatalf("right answer: %v", err)
		}
		// ...but serves once.
		err = e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, answer, "2719"), e.src)
		wantKind(t, "used challenge", err, cp.Expired, "card.pin.expired")
	})
	fresh()
	t.Run("code", func(t *testing.T) {
		ch, _ := e.challenge(e.bob, 12)
		code := e.sendCode(e.bob, 12, ch)
		in := cardservice.PINChange{FlowToken: ch.FlowToken, Factor: identity.FactorEmail, Answer: wrongCode(code), PIN: "2719", Confirm: "2719"}
		err := e.svc.SetPIN(ctx, e.bob, 12, in, e.src)
		wantKind(t, "wrong code", err, cp.Forbidden, "mfa.invalid")
		failures[e.bob]++
		// A code that was not sent on this channel is wrong too.
		in.Factor, in.Answer = identity.FactorSMS, code
		err = e.svc.SetPIN(ctx, e.bob, 12, in, e.src)
		wantKind(t, "code on another channel", err, cp.Invalid, "")
		in.Factor = identity.FactorEmail
		if err := e.svc.SetPIN(ctx, e.bob, 12, in, e.src); err != nil {
			t.Fatalf("right code: %v", err)
		}
		err = e.svc.SetPIN(ctx, e.bob, 12, in, e.src)
		wantKind(t, "used code", err, cp.Expired, "card.pin.expired")
	})
	fresh()
	t.Run("another member's challenge", func(t *testing.T) {
		// Alice may set the PIN of Bob's card, but not with Bob's challenge.
		ch, _ := e.challenge(e.bob, 12)
		code := e.sendCode(e.bob, 12, ch)
		in := cardservice.PINChange{FlowToken: ch.FlowToken, Factor: identity.FactorEmail, Answer: code, PIN: "2719", Confirm: "2719"}
		err := e.svc.SetPIN(ctx, e.alice, 12, in, e.src)
		wantKind(t, "Bob's challenge used by Alice", err, cp.Forbidden, "mfa.invalid")
		failures[e.alice]++
		// Nor with her own challenge for another card.
		ach, answer := e.challenge(e.alice, 11)
		err = e.svc.SetPIN(ctx, e.alice, 12, questionAnswer(ach, answer, "2719"), e.src)
		wantKind(t, "challenge of another card", err, cp.Forbidden, "mfa.invalid")
		failures[e.alice]++
		// Bob's challenge is still his: the refusals did not spend it.
		if err := e.svc.SetPIN(ctx, e.bob, 12, in, e.src); err != nil {
			t.Fatalf("Bob with his own challenge: %v", err)
		}
	})
	fresh()
	t.Run("lock", func(t *testing.T) {
		ch, answer := e.challenge(e.alice, 11)
		for i := range 2 {
			err := e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, wrongAnswer(answer), "2719"), e.src)
			wantKind(t, fmt.Sprintf("wrong answer %d", i+1), err, cp.Forbidden, "mfa.invalid")
			failures[e.alice]++
		}
		err := e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, wrongAnswer(answer), "2719"), e.src)
		wantKind(t, "third failure locks", err, cp.Locked, "card.pin.locked")
		failures[e.alice]++
		until := cp.ErrorUntil(err)
		if !until.After(e.clock.Now()) {
			t.Errorf("lock ends %v", until)
		}
		err = e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, answer, "2719"), e.src)
		wantKind(t, "right answer while locked", err, cp.Locked, "card.pin.locked")
		// The lock is per card: Bob's card is not affected.
		bch, _ := e.challenge(e.bob, 12)
		code := e.sendCode(e.bob, 12, bch)
		if err := e.svc.SetPIN(ctx, e.bob, 12, cardservice.PINChange{FlowToken: bch.FlowToken, Factor: identity.FactorEmail, Answer: code, PIN: "2719", Confirm: "2719"}, e.src); err != nil {
			t.Errorf("another card's PIN flow: %v", err)
		}
		e.clock.Add(until.Sub(e.clock.Now()))
		// The challenge was not spent by the lock, but has expired by now.
		err = e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, answer, "2719"), e.src)
		wantKind(t, "challenge after the lock", err, cp.Expired, "card.pin.expired")
		ch, answer = e.challenge(e.alice, 11)
		if err := e.svc.SetPIN(ctx, e.alice, 11, questionAnswer(ch, answer, "2719"), e.src); err != nil {
			t.Errorf("after the lock: %v", err)
		}
	})
	fresh()
	// A member with no second factor identifies by date of birth and card code.
	t.Run("fallback", func(t *testing.T) {
		c := e.cards[15]
		wrongCID := "000"
		if c.cid == wrongCID {
			wrongCID = "111"
		}
		good := cardservice.PINChange{BirthDate: "1975-03-03", CID: c.cid, PIN: "2719", Confirm: "2719"}
		with := func(f func(*cardservice.PINChange)) cardservice.PINChange { p := good; f(&p); return p }
		for _, tt := range []struct {
			name   string
			in     cardservice.PINChange
			fields string
		}{
			{"bad date", with(func(p *cardservice.PINChange) { p.BirthDate = "03/03/1975" }), "birth_date=error.date"},
			{"bad code", with(func(p *cardservice.PINChange) { p.CID = "12" }), "cid=error.cid"},
			{"bad PIN", with(func(p *cardservice.PINChange) { p.PIN, p.Confirm = "1975", "1975" }), "pin=pin.trivial.birthyear"},
		} {
			err := e.svc.SetPIN(ctx, e.dave, 15, tt.in, e.src)
			wantKind(t, tt.name, err, cp.Invalid, "")
			if got := strings.Join(fieldNames(err), " "); got != tt.fields {
				t.Errorf("%s: fields %q, want %q", tt.name, got, tt.fields)
			}
		}
		err := e.svc.SetPIN(ctx, e.dave, 15, with(func(p *cardservice.PINChange) { p.BirthDate = "1975-03-04" }), e.src)
		wantKind(t, "wrong date of birth", err, cp.Forbidden, "card.pin.idfail")
		err = e.svc.SetPIN(ctx, e.dave, 15, with(func(p *cardservice.PINChange) { p.CID = wrongCID }), e.src)
		wantKind(t, "wrong code", err, cp.Forbidden, "card.pin.idfail")
		err = e.svc.SetPIN(ctx, e.dave, 15, with(func(p *cardservice.PINChange) { p.BirthDate = "1990-01-30" }), e.src)
		wantKind(t, "third failure locks", err, cp.Locked, "card.pin.locked")
		failures[e.dave] += 3
		until := cp.ErrorUntil(err)
		err = e.svc.SetPIN(ctx, e.dave, 15, good, e.src)
		wantKind(t, "right details while locked", err, cp.Locked, "card.pin.locked")
		if _, err := e.store.PINValue(ctx, 15); !cp.IsKind(err, cp.NotFound) {
			t.Fatalf("a PIN was stored during the lock")
		}
		e.clock.Add(until.Sub(e.clock.Now()))
		if err := e.svc.SetPIN(ctx, e.dave, 15, good, e.src); err != nil {
			t.Errorf("after the lock: %v", err)
		}
	})
	for m, want := range failures {
		var got int
		for _, k := range e.events(m) {
			if k == cardservice.EventPINIdentifyKO {
				got++
			}
		}
		if got != want {
			t.Errorf("member %d: %d identification failures recorded, want %d", m, got, want)
		}
	}
}

// TestStates checks that the package's states are the issuer's.
func TestStates(t *testing.T) {
	for s, want := range map[card.State]string{card.Inactive: issuer.StateInactive, card.Active: issuer.StateActive,
		card.Frozen: issuer.StateFrozen, card.Lost: issuer.StateLost, card.Closed: issuer.StateClosed} {
		if string(s) != want {
			t.Errorf("card state %q differs from the issuer's %q", s, want)
		}
	}
}
