package authorize_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
)

var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type recorder struct {
	mu     sync.Mutex
	events []authorize.Event
	calls  []int // events per Observe call
	// entered, if set, hears of each call; the call then waits for release.
	entered, release chan struct{}
}

func (r *recorder) Observe(_ context.Context, events []authorize.Event) {
	if r.entered != nil {
		r.entered <- struct{}{}
		<-r.release
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	r.calls = append(r.calls, len(events))
}

type fixture struct {
	t     *testing.T
	store *sqlstore.Store
	hsm   *cardcrypto.Soft
	zone  cardcrypto.ZoneKey
	clock *cardportaltest.Clock
	svc   *authorize.Service
	obs   *recorder
	pan   card.PAN // card 1, active, product green (no recurring while frozen)
	exp   card.Expiry
	n     int
}

func newFixture(t *testing.T, cfg authorize.Config) *fixture {
	f := setup(t, sqlite.Memory, cfg)
	f.t = t
	return f
}

func newBenchFixture(b *testing.B) *fixture {
	return setup(b, filepath.Join(b.TempDir(), "bench.db"), authorize.Config{})
}

func setup(t testing.TB, path string, cfg authorize.Config) *fixture {
	keys, err := cardcrypto.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pan, _ := card.ParsePAN("4111111111111111")
	sealed, err := hsm.SealPAN(pan)
	if err != nil {
		t.Fatal(err)
	}
	exp := card.Expiry{Month: 12, Year: 2028}
	ds := issuer.Dataset{
		Products: []issuer.Product{{ID: 1, Code: "green", Name: "Green", PANLength: 16, Currency: "USD"}},
		Accounts: []issuer.Account{{ID: 1, ProductCode: "green", Currency: "USD", CreditLimit: 100000, OpenedAt: start.AddDate(-1, 0, 0)}},
		CardHolders: []issuer.CardHolder{{ID: 1, AccountID: 1, Basic: true, Name: "Ada", BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC),
			NationalIDMAC: []byte("0123456789abcdef")}},
		Cards: []issuer.Card{{ID: 1, AccountID: 1, CardHolderID: 1, Sealed: sealed, Fingerprint: hsm.Fingerprint(pan), Last: "1111",
			ExpMonth: 12, ExpYear: 2028, State: issuer.StateActive, IssuedAt: start.AddDate(-1, 0, 0)}},
		Postings: []issuer.Posting{{ID: 1, AccountID: 1, Amount: 20000, Kind: "purchase", Description: "Earlier", PostedAt: start.AddDate(0, -1, 0), IdempotencyKey: "p1"}},
	}
	if err := store.LoadIssuer(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	pin, _ := cardcrypto.ParsePIN("2580")
	pvv, _ := hsm.PINVerificationValue(pan, pin)
	if err := store.SetPINValue(t.Context(), 1, pvv, start); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, hsm: hsm, zone: cardcrypto.DeriveZoneKey(keys), clock: cardportaltest.NewClock(start), obs: &recorder{}, pan: pan, exp: exp}
	f.svc = authorize.New(store, hsm, cfg, f.clock.Now, nil, f.obs)
	t.Cleanup(f.svc.Close)
	return f
}

func (f *fixture) cid() string {
	c, _ := f.hsm.CardCode(f.pan, f.exp)
	return c.Digits()
}

func (f *fixture) req(channel account.Channel, amount int64) authorize.Request {
	f.n++
	return authorize.Request{
		MessageID: "m" + string(rune('a'+f.n/26)) + string(rune('a'+f.n%26)), PAN: f.pan, Expiry: f.exp, Amount: amount, Currency: "USD",
		Merchant: authorize.Merchant{Name: "Corner Shop", MCC: "5411", City: "Springfield", Country: "US"}, Channel: channel,
	}
}

func (f *fixture) decide(r authorize.Request) authorize.Code {
	f.t.Helper()
	a, err := f.svc.Authorise(f.t.Context(), r)
	if err != nil {
		f.t.Fatalf("Authorise: %v", err)
	}
	return a.Code
}

func (f *fixture) pending() int64 {
	f.t.Helper()
	sums, err := f.store.Summaries(f.t.Context(), 1)
	if err != nil {
		f.t.Fatal(err)
	}
	return sums[0].Pending
}

func (f *fixture) pinBlock(r *authorize.Request, format int, pin string) {
	p, _ := cardcrypto.ParsePIN(pin)
	var err error
	if format == 0 {
		r.PINBlock, err = cardcrypto.EncryptPINBlock0(f.zone, f.pan, p)
	} else {
		r.PINBlock, err = cardcrypto.EncryptPINBlock4(f.zone, f.pan, p, rand.Reader)
	}
	r.PINFormat = format
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestAuthoriseRules(t *testing.T) {
	f := newFixture(t, authorize.Config{})
	ctx := t.Context()

	online := f.req(account.Online, 1500)
	online.CID = f.cid()
	a, err := f.svc.Authorise(ctx, online)
	if err != nil || a.Code != authorize.Approved || len(a.AuthCode) != 6 {
		t.Fatalf("online with the right CID = %+v, %v", a, err)
	}
	if f.pending() != 1500 {
		t.Errorf("pending %d after approval", f.pending())
	}

	noCID := f.req(account.Online, 100)
	if c := f.decide(noCID); c != authorize.CIDMismatch {
		t.Errorf("online without CID: %s", c)
	}
	wrong := f.req(account.Online, 100)
	wrong.CID = "000"
	if wrong.CID == f.cid() {
		wrong.CID = "001"
	}
	if c := f.decide(wrong); c != authorize.CIDMismatch {
		t.Errorf("online with a wrong CID: %s", c)
	}
	mismatch := f.req(account.InPerson, 100)
	mismatch.Expiry = card.Expiry{Month: 11, Year: 2028}
	if c := f.decide(mismatch); c != authorize.ExpiredCard {
		t.Errorf("expiry mismatch: %s", c)
	}
	other := f.req(account.InPerson, 100)
	other.PAN, _ = card.ParsePAN("5555555555554444")
	if c := f.decide(other); c != authorize.NoSuchCard {
		t.Errorf("unknown card: %s", c)
	}
	tooMuch := f.req(account.InPerson, 100000-20000-1500+1)
	if c := f.decide(tooMuch); c != authorize.NoCredit {
		t.Errorf("one over the available credit: %s", c)
	}
	exact := f.req(account.InPerson, 100000-20000-1500)
	if c := f.decide(exact); c != authorize.Approved {
		t.Errorf("exactly the available credit: %s", c)
	}

	// Resend: same answer, nothing new; the same id with another body: conflict.
	again, err := f.svc.Authorise(ctx, online)
	if err != nil || !again.Replayed || again.AuthCode != a.AuthCode {
		t.Errorf("resend = %+v, %v", again, err)
	}
	changed := online
	changed.Amount++
	_, err = f.svc.Authorise(ctx, changed)
	if !cp.IsKind(err, cp.Conflict) {
		t.Errorf("same id, other amount: %v", err)
	}
	// Malformed: Invalid, not a decision.
	bad := f.req(account.InPerson, 100)
	bad.Merchant.MCC = "54x1"
	if _, err := f.svc.Authorise(ctx, bad); !cp.IsKind(err, cp.Invalid) {
		t.Errorf("bad MCC: %v", err)
	}
}

// A freeze takes effect on the next authorisation and an unfreeze too (SPEC AC9):
// the card's state is never cached. The observer hears of approvals and frozen
// declines only.
func TestFreezeAndObserver(t *testing.T) {
	f := newFixture(t, authorize.Config{})
	if c := f.decide(f.req(account.InPerson, 100)); c != authorize.Approved {
		t.Fatalf("active: %s", c)
	}
	if err := f.store.SetCardState(t.Context(), 1, card.Active, card.Frozen); err != nil {
		t.Fatal(err)
	}
	if c := f.decide(f.req(account.InPerson, 200)); c != authorize.RestrictedCard {
		t.Errorf("frozen: %s", c)
	}
	if c := f.decide(f.req(account.Recurring, 300)); c != authorize.RestrictedCard {
		t.Errorf("frozen, recurring on a product that does not allow it: %s", c)
	}
	if err := f.store.SetCardState(t.Context(), 1, card.Frozen, card.Active); err != nil {
		t.Fatal(err)
	}
	if c := f.decide(f.req(account.InPerson, 400)); c != authorize.Approved {
		t.Errorf("unfrozen: %s", c)
	}
	f.decide(f.req(account.Online, 500)) // N7: not observed
	f.svc.Close()
	var got, owed []int64
	for _, e := range f.obs.events {
		got = append(got, e.Amount)
		owed = append(owed, e.Owed)
	}
	if !slices.Equal(got, []int64{100, 200, 300, 400}) {
		t.Errorf("observed amounts %v, want [100 200 300 400]", got)
	}
	// 20000 posted before; each approval's own hold counts, a decline's amount not.
	if !slices.Equal(owed, []int64{20100, 20100, 20100, 20500}) {
		t.Errorf("owed after each decision %v, want [20100 20100 20100 20500]", owed)
	}
}

// Events that queue while the observer is busy reach it in one call, in decision
// order, each with what the account owed after its own decision (a balance alert
// must not see the purchases that came after).
func TestObserverGathersEvents(t *testing.T) {
	f := newFixture(t, authorize.Config{})
	f.obs.entered, f.obs.release = make(chan struct{}), make(chan struct{})
	f.decide(f.req(account.InPerson, 100))
	<-f.obs.entered // the first call waits for release
	for _, amount := range []int64{200, 300, 400} {
		f.decide(f.req(account.InPerson, amount))
	}
	close(f.obs.release)
	go func() {
		for range f.obs.entered {
		}
	}()
	f.svc.Close()
	close(f.obs.entered)
	if !slices.Equal(f.obs.calls, []int{1, 3}) {
		t.Errorf("events per call %v, want [1 3]", f.obs.calls)
	}
	var owed []int64
	for _, e := range f.obs.events {
		owed = append(owed, e.Owed)
	}
	if !slices.Equal(owed, []int64{20100, 20300, 20600, 21000}) {
		t.Errorf("owed after each decision %v, want [20100 20300 20600 21000]", owed)
	}
}

func TestPIN(t *testing.T) {
	f := newFixture(t, authorize.Config{})
	for _, format := range []int{0, 4} {
		r := f.req(account.InPerson, 100)
		f.pinBlock(&r, format, "2580")
		if c := f.decide(r); c != authorize.Approved {
			t.Errorf("format %d right PIN: %s", format, c)
		}
	}
	for i := range 3 {
		r := f.req(account.InPerson, 100)
		f.pinBlock(&r, i%2*4, "1111")
		if c := f.decide(r); c != authorize.WrongPIN {
			t.Errorf("wrong PIN %d: %s", i+1, c)
		}
	}
	r := f.req(account.InPerson, 100)
	f.pinBlock(&r, 0, "2580")
	if c := f.decide(r); c != authorize.PINTriesExceeded {
		t.Errorf("right PIN after 3 wrong: %s", c)
	}
	// Without a PIN (a contactless or online purchase) the card still works.
	if c := f.decide(f.req(account.InPerson, 100)); c != authorize.Approved {
		t.Errorf("no PIN after the PIN block: %s", c)
	}
	// A new PIN unblocks.
	pin, _ := cardcrypto.ParsePIN("1470")
	pvv, _ := f.hsm.PINVerificationValue(f.pan, pin)
	if err := f.store.SetPINValue(t.Context(), 1, pvv, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r = f.req(account.InPerson, 100)
	f.pinBlock(&r, 4, "1470")
	if c := f.decide(r); c != authorize.Approved {
		t.Errorf("new PIN: %s", c)
	}
	// Garbage in the block is a wrong PIN.
	r = f.req(account.InPerson, 100)
	r.PINBlock, r.PINFormat = []byte("12345678"), 0
	if c := f.decide(r); c != authorize.WrongPIN {
		t.Errorf("garbage PIN block: %s", c)
	}
}

func TestVelocity(t *testing.T) {
	f := newFixture(t, authorize.Config{VelocityCount: 3, VelocityAmount: 1000, VelocityWindow: time.Hour})
	for i := range 3 {
		if c := f.decide(f.req(account.InPerson, 100)); c != authorize.Approved {
			t.Fatalf("approval %d: %s", i+1, c)
		}
	}
	if c := f.decide(f.req(account.InPerson, 100)); c != authorize.CountLimit {
		t.Errorf("4th in the hour: %s", c)
	}
	f.clock.Add(61 * time.Minute)
	if c := f.decide(f.req(account.InPerson, 1001)); c != authorize.AmountLimit {
		t.Errorf("over the amount: %s", c)
	}
	if c := f.decide(f.req(account.InPerson, 1000)); c != authorize.Approved {
		t.Errorf("a new hour: %s", c)
	}
}

func TestHoldLifecycle(t *testing.T) {
	f := newFixture(t, authorize.Config{HoldFor: 48 * time.Hour})
	ctx := t.Context()
	a1, a2 := f.req(account.InPerson, 5000), f.req(account.InPerson, 3000)
	f.decide(a1)
	f.decide(a2)
	if f.pending() != 8000 {
		t.Fatalf("pending %d", f.pending())
	}
	rev, err := f.svc.Reverse(ctx, authorize.Reversal{MessageID: "rev-1", OriginalID: a2.MessageID, PAN: f.pan, Amount: 1000})
	if err != nil || rev.Code != authorize.Approved || f.pending() != 7000 {
		t.Errorf("partial reversal = %+v, %v; pending %d", rev, err, f.pending())
	}
	clr, err := f.svc.Clear(ctx, authorize.Presentment{MessageID: "clr-1", OriginalID: a1.MessageID, PAN: f.pan, Amount: 5500,
		Currency: "USD", Merchant: a1.Merchant, Channel: account.InPerson})
	if err != nil || clr.Code != authorize.Approved || f.pending() != 2000 {
		t.Errorf("clearing = %+v, %v; pending %d", clr, err, f.pending())
	}
	ref, err := f.svc.Refund(ctx, authorize.Presentment{MessageID: "ref-1", PAN: f.pan, Amount: 500, Currency: "USD", Merchant: a1.Merchant, Channel: account.InPerson})
	if err != nil || ref.Code != authorize.Approved {
		t.Errorf("refund = %+v, %v", ref, err)
	}
	sums, _ := f.store.Summaries(ctx, 1)
	if sums[0].Balance != 20000+5500-500 {
		t.Errorf("balance %d, want %d", sums[0].Balance, 20000+5500-500)
	}
	// The rest of a2 expires after 48 hours.
	f.clock.Add(47 * time.Hour)
	if n, _ := f.svc.ExpireHolds(ctx); n != 0 || f.pending() != 2000 {
		t.Errorf("early expiry: %d, pending %d", n, f.pending())
	}
	f.clock.Add(2 * time.Hour)
	if n, _ := f.svc.ExpireHolds(ctx); n != 1 || f.pending() != 0 {
		t.Errorf("expiry: %d, pending %d", n, f.pending())
	}
	// The list shows the posted purchase and refund, no released hold.
	page, err := f.store.Transactions(ctx, 1, 1, account.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range page.Transactions {
		if tx.Status != account.Posted {
			t.Errorf("listed %s %d with status %s", tx.Kind, tx.Amount, tx.Status)
		}
	}
	if len(page.Transactions) != 3 {
		t.Errorf("listed %d transactions, want 3", len(page.Transactions))
	}
}

// BenchmarkAuthorise measures decisions through the service and the SQLite store
// (group commit included), without HTTP: run with -cpu 2 and -benchtime, e.g.
// go test ./authorize -run X -bench Authorise -benchtime 20000x.
func BenchmarkAuthorise(b *testing.B) { benchmarkAuthorise(b, false) }

// BenchmarkAuthoriseByToken is BenchmarkAuthorise with the card named by a network
// token, whose status and expiry the decision reads as well.
func BenchmarkAuthoriseByToken(b *testing.B) { benchmarkAuthorise(b, true) }

func benchmarkAuthorise(b *testing.B, byToken bool) {
	f := newBenchFixture(b)
	pan, exp := f.pan, f.exp
	var token card.PAN
	if byToken {
		token, exp = luhn(b, "489537000000123"), card.Expiry{Month: 6, Year: 2029}
		a, err := f.svc.Token(b.Context(), authorize.TokenMessage{MessageID: "tok", Token: token, TokenExpiry: exp,
			Status: authorize.TokenActive, PAN: f.pan, Expiry: f.exp})
		if err != nil || a.Code != authorize.Approved {
			b.Fatalf("Token: %+v %v", a, err)
		}
		pan = card.PAN{}
	}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			r := authorize.Request{MessageID: "b" + strconv.FormatInt(i, 10), PAN: pan, Token: token, Expiry: exp, Amount: 1, Currency: "USD",
				Merchant: authorize.Merchant{Name: "Corner Shop", MCC: "5411", Country: "US"}, Channel: account.InPerson}
			a, err := f.svc.Authorise(context.Background(), r)
			if err != nil || a.Code != authorize.Approved {
				b.Errorf("Authorise: %+v %v", a, err)
				return
			}
		}
	})
}
