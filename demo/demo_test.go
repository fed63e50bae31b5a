package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/issuer"
)

// testNow is mid-period for expiryBase (2026-01-01 .. 2028-01-01), with a non-zero
// sub-second part and a non-UTC zone, which generation must not depend on.
var testNow = time.Date(2026, time.March, 15, 10, 30, 45, 123456789, time.FixedZone("EST", -5*3600))

const testSeed = 1

func newHSM(t testing.TB) *cardcrypto.Soft {
	t.Helper()
	keys, err := cardcrypto.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	return hsm
}

func generateT(t testing.TB, hsm cardcrypto.HSM, seed uint64, now time.Time, size int) (issuer.Dataset, []DemoCard) {
	t.Helper()
	ds, cards, err := Generate(seed, now, hsm, size)
	if err != nil {
		t.Fatalf("Generate(%d, %v, %d): %v", seed, now, size, err)
	}
	return ds, cards
}

// unsealed returns a copy of ds without the sealed blobs, which use random nonces.
func unsealed(ds issuer.Dataset) issuer.Dataset {
	out := ds
	out.Cards = make([]issuer.Card, len(ds.Cards))
	for i, c := range ds.Cards {
		c.Sealed = cardcrypto.Sealed{}
		out.Cards[i] = c
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	hsm := newHSM(t)
	ds1, cards1 := generateT(t, hsm, testSeed, testNow, 300)
	ds2, cards2 := generateT(t, hsm, testSeed, testNow, 300)
	if !reflect.DeepEqual(unsealed(ds1), unsealed(ds2)) {
		t.Error("same seed, different datasets")
	}
	if !reflect.DeepEqual(cards1, cards2) {
		t.Error("same seed, different demo cards")
	}
	for i := range ds1.Cards {
		if bytes.Equal(ds1.Cards[i].Sealed.Blob, ds2.Cards[i].Sealed.Blob) {
			t.Fatalf("card %d: sealed blobs are equal; nonces should be random", ds1.Cards[i].ID)
		}
	}

	ds3, _ := generateT(t, hsm, testSeed+1, testNow, 300)
	same := 0
	for i := range min(len(ds1.Cards), len(ds3.Cards)) {
		if bytes.Equal(ds1.Cards[i].Fingerprint, ds3.Cards[i].Fingerprint) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("another seed gave %d of the same card numbers", same)
	}
}

// The printed cards must be what a restarted server loaded earlier: independent of
// the time of day, of days passing and of the size asked for.
func TestDemoCardsStable(t *testing.T) {
	hsm := newHSM(t)
	_, want := generateT(t, hsm, testSeed, testNow, 300)
	for _, tc := range []struct {
		name string
		now  time.Time
		size int
	}{
		{"later the same day", testNow.Add(9 * time.Hour), 300},
		{"three months later", testNow.AddDate(0, 3, 0), 300},
		{"end of the expiry period", time.Date(2027, time.December, 31, 23, 59, 59, 0, time.UTC), 300},
		{"smaller size", testNow, len(showcase)},
		{"larger size", testNow, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := generateT(t, hsm, testSeed, tc.now, tc.size)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("demo cards differ:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestGenerateSize(t *testing.T) {
	hsm := newHSM(t)
	for _, size := range []int{1, 2, 3, 4, 5, 12, 300} {
		ds, cards := generateT(t, hsm, testSeed, testNow, size)
		if len(ds.Accounts) != size {
			t.Errorf("size %d: %d accounts", size, len(ds.Accounts))
		}
		if len(cards) == 0 {
			t.Errorf("size %d: no demo cards", size)
		}
	}
	for _, size := range []int{-1, 0, MaxSize + 1} {
		_, _, err := Generate(testSeed, testNow, hsm, size)
		if !cp.IsKind(err, cp.Invalid) {
			t.Errorf("size %d: err = %v, want Invalid", size, err)
		}
	}
	if _, _, err := Generate(testSeed, testNow, nil, 10); err == nil {
		t.Error("no HSM: no error")
	}
}

func TestCardNumbers(t *testing.T) {
	hsm := newHSM(t)
	ds, _ := generateT(t, hsm, testSeed, testNow, 300)
	accounts := byID(ds.Accounts, func(a issuer.Account) int64 { return a.ID })
	prods := map[string]productSpec{}
	for _, p := range products {
		prods[p.Code] = p
	}
	seen := map[string]int64{}
	for _, c := range ds.Cards {
		pan, err := hsm.OpenPAN(c.Sealed)
		if err != nil {
			t.Fatalf("card %d: open: %v", c.ID, err)
		}
		if !card.LuhnValid(pan.Digits()) {
			t.Errorf("card %d: fails Luhn", c.ID)
		}
		if _, err := card.ParsePAN(pan.Digits()); err != nil {
			t.Errorf("card %d: ParsePAN: %v", c.ID, err)
		}
		p := prods[accounts[c.AccountID].ProductCode]
		if pan.Len() != p.PANLength || !strings.HasPrefix(pan.Digits(), p.bin) {
			t.Errorf("card %d: %d digits, not %d from BIN %s", c.ID, pan.Len(), p.PANLength, p.bin)
		}
		if !bytes.Equal(c.Fingerprint, hsm.Fingerprint(pan)) {
			t.Errorf("card %d: fingerprint does not match the sealed number", c.ID)
		}
		if c.Last != card.ScreenDigits(pan) {
			t.Errorf("card %d: Last = %q", c.ID, c.Last)
		}
		if other, dup := seen[string(c.Fingerprint)]; dup {
			t.Errorf("cards %d and %d have the same number", other, c.ID)
		}
		seen[string(c.Fingerprint)] = c.ID
	}
}

func byID[T any](xs []T, id func(T) int64) map[int64]T {
	m := make(map[int64]T, len(xs))
	for _, x := range xs {
		m[id(x)] = x
	}
	return m
}

// checkIDs reports IDs that are not 1, 2, 3, ... in slice order.
func checkIDs[T any](t *testing.T, kind string, xs []T, id func(T) int64) {
	t.Helper()
	for i, x := range xs {
		if id(x) != int64(i+1) {
			t.Errorf("%s %d has ID %d", kind, i+1, id(x))
			return
		}
	}
}

func TestReferences(t *testing.T) {
	ds, _ := generateT(t, newHSM(t), testSeed, testNow, 300)
	checkIDs(t, "product", ds.Products, func(p issuer.Product) int64 { return p.ID })
	checkIDs(t, "account", ds.Accounts, func(a issuer.Account) int64 { return a.ID })
	checkIDs(t, "card holder", ds.CardHolders, func(h issuer.CardHolder) int64 { return h.ID })
	checkIDs(t, "card", ds.Cards, func(c issuer.Card) int64 { return c.ID })
	checkIDs(t, "posting", ds.Postings, func(p issuer.Posting) int64 { return p.ID })

	prods := map[string]issuer.Product{}
	for _, p := range ds.Products {
		prods[p.Code] = p
	}
	accounts := byID(ds.Accounts, func(a issuer.Account) int64 { return a.ID })
	holders := byID(ds.CardHolders, func(h issuer.CardHolder) int64 { return h.ID })
	basics := map[int64]int{}
	for _, a := range ds.Accounts {
		p, ok := prods[a.ProductCode]
		if !ok || a.Currency != p.Currency {
			t.Errorf("account %d: product %q, currency %q", a.ID, a.ProductCode, a.Currency)
		}
	}
	for _, h := range ds.CardHolders {
		if _, ok := accounts[h.AccountID]; !ok {
			t.Errorf("holder %d: no account %d", h.ID, h.AccountID)
		}
		if h.Basic {
			basics[h.AccountID]++
		}
	}
	for _, a := range ds.Accounts {
		if basics[a.ID] != 1 {
			t.Errorf("account %d has %d basic members", a.ID, basics[a.ID])
		}
	}
	usable := map[int64]bool{}
	for _, c := range ds.Cards {
		h, ok := holders[c.CardHolderID]
		if !ok || h.AccountID != c.AccountID {
			t.Errorf("card %d: holder %d is not on account %d", c.ID, c.CardHolderID, c.AccountID)
		}
		if c.State != issuer.StateLost {
			usable[c.CardHolderID] = true
		}
	}
	for _, h := range ds.CardHolders {
		if !usable[h.ID] {
			t.Errorf("holder %d has no usable card", h.ID)
		}
	}
	keys := map[string]bool{}
	for _, p := range ds.Postings {
		if _, ok := accounts[p.AccountID]; !ok {
			t.Errorf("posting %d: no account %d", p.ID, p.AccountID)
		}
		if p.IdempotencyKey == "" || keys[p.IdempotencyKey] {
			t.Errorf("posting %d: idempotency key %q missing or repeated", p.ID, p.IdempotencyKey)
		}
		keys[p.IdempotencyKey] = true
	}
}

func TestMinimumDue(t *testing.T) {
	for _, tc := range []struct{ balance, want int64 }{
		{1, 1},
		{3_499, 3_499},
		{3_500, 3_500},
		{100_000, 3_500},
		{350_000, 3_500},
		{350_050, 3_501}, // 3500.50 rounds half up
		{350_049, 3_500},
		{1_234_567, 12_346},
	} {
		if got := minimumDue(tc.balance); got != tc.want {
			t.Errorf("minimumDue(%d) = %d, want %d", tc.balance, got, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	ds, _ := generateT(t, newHSM(t), testSeed, testNow, 300)
	accounts := byID(ds.Accounts, func(a issuer.Account) int64 { return a.ID })
	for _, a := range ds.Accounts {
		if a.OpenedAt.After(testNow.AddDate(-1, 0, 0)) || a.OpenedAt.Before(testNow.AddDate(-10, 0, 0)) {
			t.Errorf("account %d: opened %v, not 1-10 years ago", a.ID, a.OpenedAt)
		}
	}
	for _, h := range ds.CardHolders {
		if h.BirthDate != civil(h.BirthDate) || h.BirthDate.Year() < 1950 || h.BirthDate.Year() > 2004 {
			t.Errorf("holder %d: born %v", h.ID, h.BirthDate)
		}
	}
	for _, c := range ds.Cards {
		exp := card.Expiry{Month: c.ExpMonth, Year: c.ExpYear}
		if err := exp.Validate(); err != nil {
			t.Fatalf("card %d: %v", c.ID, err)
		}
		if end := exp.End(time.UTC); end.Before(testNow.AddDate(1, 0, 0)) || end.After(testNow.AddDate(5, 0, 0)) {
			t.Errorf("card %d: expires %v, not 1-5 years ahead", c.ID, exp)
		}
		if c.IssuedAt.After(testNow) || c.IssuedAt.Before(accounts[c.AccountID].OpenedAt) {
			t.Errorf("card %d: issued %v, account opened %v", c.ID, c.IssuedAt, accounts[c.AccountID].OpenedAt)
		}
	}
	// Every expiry date stays valid through the two-year period it is anchored to.
	for _, now := range []time.Time{
		time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, time.December, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2027, time.June, 1, 0, 0, 0, 0, time.UTC),
	} {
		ds, _ := generateT(t, newHSM(t), testSeed, now, 300)
		for _, c := range ds.Cards {
			end := card.Expiry{Month: c.ExpMonth, Year: c.ExpYear}.End(time.UTC)
			if end.Before(now.AddDate(1, 0, 0)) || end.After(now.AddDate(5, 0, 0)) {
				t.Errorf("now %v: card %d expires %d/%d", now, c.ID, c.ExpMonth, c.ExpYear)
			}
		}
	}
}

func TestCardStates(t *testing.T) {
	ds, cards := generateT(t, newHSM(t), testSeed, testNow, 300)
	count := map[string]int{}
	lostHolders := map[int64]issuer.Card{}
	for _, c := range ds.Cards {
		count[c.State]++
		if c.State == issuer.StateLost {
			lostHolders[c.CardHolderID] = c
		}
	}
	if count[issuer.StateActive] < len(ds.Cards)*9/10 {
		t.Errorf("states %v: want mostly active", count)
	}
	if count[issuer.StateInactive] == 0 || count[issuer.StateFrozen] < 1 || count[issuer.StateFrozen] > 2 || count[issuer.StateLost] == 0 {
		t.Errorf("states %v: want some inactive, one or two frozen, some lost", count)
	}
	for _, c := range ds.Cards {
		if lost, ok := lostHolders[c.CardHolderID]; ok && c.ID != lost.ID && !c.IssuedAt.After(lost.IssuedAt) {
			t.Errorf("card %d replaces lost card %d but was issued first", c.ID, lost.ID)
		}
	}
	for _, dc := range cards {
		if dc.State != issuer.StateActive && dc.State != issuer.StateInactive {
			t.Errorf("demo card of %s is %s", dc.Name, dc.State)
		}
	}
}

var (
	emailRE = regexp.MustCompile(`^[a-z]+\.[a-z]+\.[0-9]+@example\.com$`)
	phoneRE = regexp.MustCompile(`^\+120255501[0-9]{2}$`)
)

func TestPeople(t *testing.T) {
	hsm := newHSM(t)
	ds, _ := generateT(t, hsm, testSeed, testNow, 300)
	nonASCII := 0
	emails := map[string]bool{}
	for _, h := range ds.CardHolders {
		if !emailRE.MatchString(h.Email) || emails[h.Email] {
			t.Errorf("holder %d: email %q malformed or repeated", h.ID, h.Email)
		}
		emails[h.Email] = true
		if !phoneRE.MatchString(h.Phone) {
			t.Errorf("holder %d: phone %q outside +1 202 555 01xx", h.ID, h.Phone)
		}
		if len(h.NationalIDMAC) != 32 {
			t.Errorf("holder %d: national ID MAC of %d bytes", h.ID, len(h.NationalIDMAC))
		}
		if utf8.RuneCountInString(h.Name) != len(h.Name) {
			nonASCII++
		}
	}
	if nonASCII == 0 {
		t.Error("no names with accented letters")
	}
}

// TestDemoCardsRegistrable checks each printed card the way registration does
// (identity.Service.cardMatches), against the records in the dataset.
func TestDemoCardsRegistrable(t *testing.T) {
	hsm := newHSM(t)
	ds, cards := generateT(t, hsm, testSeed, testNow, 300)
	if len(cards) != 5 {
		t.Fatalf("%d demo cards, want 5", len(cards))
	}
	holders := byID(ds.CardHolders, func(h issuer.CardHolder) int64 { return h.ID })
	accounts := byID(ds.Accounts, func(a issuer.Account) int64 { return a.ID })
	names := map[string]string{}
	for _, p := range ds.Products {
		names[p.Code] = p.Name
	}
	byFP := map[string]issuer.Card{}
	for _, c := range ds.Cards {
		byFP[string(c.Fingerprint)] = c
	}
	basicOf := map[int64]issuer.CardHolder{}
	for _, h := range ds.CardHolders {
		if h.Basic {
			basicOf[h.AccountID] = h
		}
	}

	cardAccount := make([]int64, len(cards))
	for i, dc := range cards {
		c, ok := byFP[string(hsm.Fingerprint(dc.PAN))]
		if !ok {
			t.Errorf("demo card %d: no such card", i)
			continue
		}
		cardAccount[i] = c.AccountID
		h := holders[c.CardHolderID]
		switch {
		case c.State != issuer.StateActive && c.State != issuer.StateInactive, c.State != dc.State:
			t.Errorf("demo card %d: state %s (printed %s)", i, c.State, dc.State)
		case dc.Expiry != (card.Expiry{Month: c.ExpMonth, Year: c.ExpYear}) || dc.Expiry.Expired(testNow):
			t.Errorf("demo card %d: expiry %v, stored %d/%d", i, dc.Expiry, c.ExpMonth, c.ExpYear)
		case !hsm.VerifyCardCode(dc.PAN, dc.Expiry, dc.Code) || dc.Code.Len() != dc.PAN.CodeLength():
			t.Errorf("demo card %d: code does not verify", i)
		case dc.Name != h.Name || dc.BirthDate != h.BirthDate || dc.Email != h.Email || dc.Basic != h.Basic:
			t.Errorf("demo card %d: holder %+v does not match", i, h)
		case !bytes.Equal(hsm.MAC("national-id", []byte(dc.NationalIDLast4)), h.NationalIDMAC):
			t.Errorf("demo card %d: national ID does not match", i)
		case !dc.Basic && dc.BasicBirthDate != basicOf[h.AccountID].BirthDate:
			t.Errorf("demo card %d: basic member's birth date does not match", i)
		case dc.Basic && !dc.BasicBirthDate.IsZero():
			t.Errorf("demo card %d: basic member with a basic birth date", i)
		case dc.Product != names[accounts[c.AccountID].ProductCode]:
			t.Errorf("demo card %d: product %q", i, dc.Product)
		}
	}

	// The first three show every registration path.
	if !cards[0].Basic || cards[0].PAN.Len() != 15 {
		t.Error("first demo card is not a basic member of a 15-digit product")
	}
	if cards[1].Basic || cardAccount[1] != cardAccount[0] {
		t.Error("second demo card is not an additional member on the first card's account")
	}
	if cards[2].PAN.Len() != 16 || cards[2].Code.Len() != 3 {
		t.Error("third demo card is not of the 16-digit product")
	}
	basics, products := 0, map[string]bool{}
	for _, dc := range cards {
		if dc.Basic {
			basics++
		}
		products[dc.Product] = true
	}
	if basics != 3 || len(products) < 3 {
		t.Errorf("%d basic members across %d products, want 3 across 3 or more", basics, len(products))
	}
}

// The printed cards are fictional, but a DemoCard must still print masked by default so
// one logged by mistake does not carry its number and code.
func TestDemoCardPrintsMasked(t *testing.T) {
	_, cards := generateT(t, newHSM(t), testSeed, testNow, 4)
	for _, dc := range cards {
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			s := fmt.Sprintf(verb, dc)
			if strings.Contains(s, dc.PAN.Digits()) || strings.Contains(s, "Code:"+dc.Code.Digits()) {
				t.Errorf("%s of a DemoCard shows its number or code: %s", verb, s)
			}
		}
	}
}

// fakeLoader is an issuer.Loader with function fields.
type fakeLoader struct {
	HasIssuerDataFn func(ctx context.Context) (bool, error)
	LoadIssuerFn    func(ctx context.Context, d issuer.Dataset) error
}

func (f *fakeLoader) HasIssuerData(ctx context.Context) (bool, error) { return f.HasIssuerDataFn(ctx) }
func (f *fakeLoader) LoadIssuer(ctx context.Context, d issuer.Dataset) error {
	return f.LoadIssuerFn(ctx, d)
}

// memLoader keeps one dataset in memory, as a store would.
func memLoader(loads *int, stored *issuer.Dataset) *fakeLoader {
	return &fakeLoader{
		HasIssuerDataFn: func(context.Context) (bool, error) { return len(stored.Products) > 0, nil },
		LoadIssuerFn: func(_ context.Context, d issuer.Dataset) error {
			*loads++
			if len(stored.Products) > 0 {
				return cp.E("fake.LoadIssuer", cp.Conflict, "", nil)
			}
			*stored = d
			return nil
		},
	}
}

func TestSeedLoadsOnce(t *testing.T) {
	ctx := context.Background()
	hsm := newHSM(t)
	var loads int
	var stored issuer.Dataset
	l := memLoader(&loads, &stored)

	first, loaded, err := Seed(ctx, l, hsm, testSeed, testNow, 50)
	if err != nil || !loaded {
		t.Fatalf("first Seed: loaded %v, err %v", loaded, err)
	}
	if len(stored.Accounts) != 50 || len(first) == 0 {
		t.Fatalf("stored %d accounts, %d demo cards", len(stored.Accounts), len(first))
	}
	for _, c := range stored.Cards {
		if _, err := hsm.OpenPAN(c.Sealed); err != nil {
			t.Fatalf("stored card %d is not sealed: %v", c.ID, err)
		}
	}

	// A restart, a day later.
	second, loaded, err := Seed(ctx, l, hsm, testSeed, testNow.AddDate(0, 0, 1), 50)
	if err != nil || loaded {
		t.Fatalf("second Seed: loaded %v, err %v", loaded, err)
	}
	if loads != 1 {
		t.Errorf("LoadIssuer called %d times", loads)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second Seed printed other cards:\n got %+v\nwant %+v", second, first)
	}
}

func TestSeedErrors(t *testing.T) {
	ctx := context.Background()
	hsm := newHSM(t)
	boom := errors.New("boom")
	_, want := generateT(t, hsm, testSeed, testNow, 20)
	for _, tc := range []struct {
		name       string
		has        error
		load       error
		wantErr    bool
		wantCards  bool
		wantLoaded bool
	}{
		// Another instance loaded the data first: the issuer is there all the same.
		{name: "lost the race", load: cp.E("fake.LoadIssuer", cp.Conflict, "", nil), wantCards: true},
		{name: "load fails", load: boom, wantErr: true},
		{name: "check fails", has: boom, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &fakeLoader{
				HasIssuerDataFn: func(context.Context) (bool, error) { return false, tc.has },
				LoadIssuerFn:    func(context.Context, issuer.Dataset) error { return tc.load },
			}
			cards, loaded, err := Seed(ctx, l, hsm, testSeed, testNow, 20)
			if (err != nil) != tc.wantErr || loaded != tc.wantLoaded {
				t.Fatalf("loaded %v, err %v", loaded, err)
			}
			if tc.wantErr && !errors.Is(err, boom) {
				t.Errorf("err %v does not wrap the cause", err)
			}
			if tc.wantCards && !reflect.DeepEqual(cards, want) {
				t.Error("wrong demo cards")
			}
		})
	}
	if _, _, err := Seed(ctx, memLoader(new(int), new(issuer.Dataset)), hsm, testSeed, testNow, 0); !cp.IsKind(err, cp.Invalid) {
		t.Errorf("size 0: err %v, want Invalid", err)
	}
}

func TestEmailPart(t *testing.T) {
	for in, want := range map[string]string{
		"Åsa": "asa", "Linnéa": "linnea", "Iñaki": "inaki", "Sjöström": "sjostrom",
		"Ibáñez": "ibanez", "Märta": "marta", "Peña": "pena", "Smith": "smith",
	} {
		if got := emailPart(in); got != want {
			t.Errorf("emailPart(%q) = %q, want %q", in, got, want)
		}
	}
	// Every listed name must keep some letters once folded.
	for _, n := range append(append([]string{}, firstNames...), lastNames...) {
		if emailPart(n) == "" || utf8.RuneCountInString(emailPart(n)) != utf8.RuneCountInString(n) {
			t.Errorf("emailPart(%q) = %q loses letters", n, emailPart(n))
		}
	}
}

func BenchmarkGenerate300(b *testing.B) {
	hsm := newHSM(b)
	for b.Loop() {
		if _, _, err := Generate(testSeed, testNow, hsm, 300); err != nil {
			b.Fatal(err)
		}
	}
}
