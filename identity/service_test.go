package identity_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/passhash"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
)

var testParams = passhash.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type env struct {
	svc    *identity.Service
	store  *sqlstore.Store
	hsm    cardcrypto.HSM
	hasher *passhash.Hasher
	clock  *cardportaltest.Clock
	cards  []demo.DemoCard
}

func newEnv(t *testing.T, cfg identity.Config) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
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
	clk := cardportaltest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	cards, _, err := demo.Seed(ctx, store, hsm, 7, clk.Now(), 6)
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := passhash.NewHasher(testParams, 4)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	outbox := &notify.Outbox{Store: store, Log: log, Now: clk.Now}
	svc := identity.NewService(store, hsm, hasher, outbox, cfg, clk.Now, log)
	return &env{svc: svc, store: store, hsm: hsm, hasher: hasher, clock: clk, cards: cards}
}

func details(c demo.DemoCard) identity.CardDetails {
	d := identity.CardDetails{
		CardNumber: c.PAN.Digits(), Code: c.Code.Digits(), Expiry: c.Expiry.String(), Name: c.Name,
		BirthDate: c.BirthDate.Format("2006-01-02"), NationalID: c.NationalIDLast4,
	}
	if !c.Basic {
		d.BasicBirth = c.BasicBirthDate.Format("2006-01-02")
	}
	return d
}

const goodPassword = "Correct-Horse-42-battery"

func creds(userID string) identity.Credentials {
	return identity.Credentials{
		UserID: userID, Password: goodPassword, Confirm: goodPassword,
		Questions: []string{"first_pet", "birth_city", "first_job"},
		Answers:   []string{"Rex", "Malmö", "Bakery"},
	}
}

// src is the member's own browser: registration trusts its device (SPEC ID7), so
// signing in from it again is not stepped up.
var src = identity.Source{IP: "192.0.2.10", UserAgent: "test", Client: identity.Web, Locale: "en-US", DeviceID: "test-device-000000001"}

func (e *env) register(t *testing.T, c demo.DemoCard, userID string) identity.Member {
	t.Helper()
	ctx := context.Background()
	flow, err := e.svc.VerifyCard(ctx, details(c), src)
	if err != nil {
		t.Fatalf("VerifyCard: %v", err)
	}
	m, tok, _, err := e.svc.Register(ctx, flow, creds(userID), src)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, tok); err != nil {
		t.Fatalf("session after registration: %v", err)
	}
	return m
}

func TestRegisterBasicAndAdditional(t *testing.T) {
	e := newEnv(t, identity.Config{})
	basic := e.register(t, e.cards[0], "Basic.Member")
	add := e.register(t, e.cards[1], "additional-1")
	if basic.ID == add.ID || basic.CardholderID == add.CardholderID {
		t.Fatalf("two registrations share a member or holder: %+v %+v", basic, add)
	}
	ev, err := e.svc.Events(context.Background(), basic.ID, 10)
	if err != nil || len(ev) == 0 || ev[0].Kind != identity.EventRegistered {
		t.Fatalf("want a registered event, got %v %v", ev, err)
	}
}

// TestCardMismatchNeverSaysWhich checks every wrong detail gives the same answer.
func TestCardMismatchNeverSaysWhich(t *testing.T) {
	e := newEnv(t, identity.Config{RegisterPerCard: 100})
	basic, add := e.cards[0], e.cards[1]
	other := e.cards[2]
	cases := map[string]func(d *identity.CardDetails){
		"wrong code":         func(d *identity.CardDetails) { d.Code = wrongCode(d.Code) },
		"wrong name":         func(d *identity.CardDetails) { d.Name = "Someone Else" },
		"wrong birth date":   func(d *identity.CardDetails) { d.BirthDate = "1999-01-01" },
		"wrong national id":  func(d *identity.CardDetails) { d.NationalID = wrongCode(d.NationalID) },
		"wrong expiry":       func(d *identity.CardDetails) { d.Expiry = "12/35" },
		"unknown card":       func(d *identity.CardDetails) { d.CardNumber = other.PAN.Digits()[:len(other.PAN.Digits())] },
		"additional no dob":  nil,
		"additional bad dob": nil,
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			d := details(basic)
			switch name {
			case "additional no dob":
				d = details(add)
				d.BasicBirth = ""
			case "additional bad dob":
				d = details(add)
				d.BasicBirth = "1901-02-03"
			default:
				mutate(&d)
			}
			_, err := e.svc.VerifyCard(context.Background(), d, src)
			if cp.ErrorKind(err) != cp.NotFound || cp.ErrorMsg(err) != "register.nomatch" || len(cp.ErrorFields(err)) != 0 {
				t.Fatalf("got %v; want the one generic mismatch with no field named", err)
			}
		})
	}
}

func wrongCode(s string) string {
	b := []byte(s)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestCardDetailValidation(t *testing.T) {
	e := newEnv(t, identity.Config{})
	cases := []struct {
		name  string
		edit  func(*identity.CardDetails)
		field string
		msg   string
	}{
		{"luhn", func(d *identity.CardDetails) {
			d.CardNumber = d.CardNumber[:len(d.CardNumber)-1] + wrongCode(d.CardNumber[len(d.CardNumber)-1:])
		}, "card_number", "error.cardnumber"},
		{"letters", func(d *identity.CardDetails) { d.CardNumber = "37abc" }, "card_number", "error.cardnumber"},
		{"expired", func(d *identity.CardDetails) { d.Expiry = "01/24" }, "expiry", "error.expiry.past"},
		{"expiry format", func(d *identity.CardDetails) { d.Expiry = "13/99" }, "expiry", "error.expiry"},
		{"control chars", func(d *identity.CardDetails) { d.Name = "Ann\x00Lee" }, "name", "error.field.invalidchars"},
		{"invalid utf8", func(d *identity.CardDetails) { d.Name = "Ann\xffLee" }, "name", "error.field.invalidchars"},
		{"too long", func(d *identity.CardDetails) { d.Name = string(make([]byte, 1000)) }, "name", "error.field.toolong"},
		{"date", func(d *identity.CardDetails) { d.BirthDate = "31/12/1980" }, "birth_date", "error.date"},
		{"national id", func(d *identity.CardDetails) { d.NationalID = "12-4" }, "national_id", "error.ssn4"},
		{"sql injection", func(d *identity.CardDetails) { d.NationalID = "1' OR '1'='1" }, "national_id", "error.ssn4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := details(e.cards[0])
			c.edit(&d)
			_, err := e.svc.VerifyCard(context.Background(), d, src)
			if cp.ErrorKind(err) != cp.Invalid {
				t.Fatalf("got %v, want Invalid", err)
			}
			found := false
			for _, f := range cp.ErrorFields(err) {
				found = found || (f.Field == c.field && f.Msg == c.msg)
			}
			if !found {
				t.Fatalf("fields %v, want %s=%s", cp.ErrorFields(err), c.field, c.msg)
			}
		})
	}
}

func TestAlreadyRegisteredAndTakenUserID(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.register(t, e.cards[0], "first.user")
	if _, err := e.svc.VerifyCard(ctx, details(e.cards[0]), src); cp.ErrorMsg(err) != "register.already" {
		t.Fatalf("second registration of a card: %v", err)
	}
	flow, err := e.svc.VerifyCard(ctx, details(e.cards[2]), src)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = e.svc.Register(ctx, flow, creds("FIRST.USER"), src)
	if f := cp.ErrorFields(err); len(f) != 1 || f[0].Msg != "userid.taken" {
		t.Fatalf("User ID differing only in case: %v", err)
	}
	// The flow survives the rejection so the person can pick another ID.
	if _, _, _, err := e.svc.Register(ctx, flow, creds("second.user"), src); err != nil {
		t.Fatalf("retry with another User ID: %v", err)
	}
	if _, _, _, err := e.svc.Register(ctx, flow, creds("third.user"), src); cp.ErrorKind(err) != cp.Expired {
		t.Fatalf("reusing a finished flow: %v", err)
	}
}

func TestRegisterRejectsWeakPasswordsByRule(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	flow, err := e.svc.VerifyCard(ctx, details(e.cards[0]), src)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"short":                 "pw.rule.length",
		"alllowercase-letter":   "pw.rule.upper",
		"!Starts-with-symbol1":  "pw.rule.firstchar",
		"Has-my.user.id-in-it1": "pw.rule.userid",
	}
	for pw, want := range cases {
		c := creds("my.user.id")
		c.Password, c.Confirm = pw, pw
		_, _, _, err := e.svc.Register(ctx, flow, c, src)
		found := false
		for _, f := range cp.ErrorFields(err) {
			found = found || (f.Field == "password" && f.Msg == want)
		}
		if !found {
			t.Errorf("password %q: got %v, want %s", pw, err, want)
		}
	}
	c := creds("my.user.id")
	c.Confirm = "different"
	if _, _, _, err := e.svc.Register(ctx, flow, c, src); cp.ErrorFields(err)[0].Msg != "pw.mismatch" {
		t.Errorf("mismatch: %v", err)
	}
	c = creds("my.user.id")
	c.Questions[1] = c.Questions[0]
	if _, _, _, err := e.svc.Register(ctx, flow, c, src); cp.ErrorKind(err) != cp.Invalid {
		t.Errorf("duplicate questions: %v", err)
	}
	// Nothing was written by the rejected attempts.
	if _, _, err := e.store.MemberByUserID(ctx, "my.user.id"); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("a rejected registration left a member: %v", err)
	}
}

func TestRegistrationThrottledPerCard(t *testing.T) {
	e := newEnv(t, identity.Config{RegisterPerCard: 3})
	d := details(e.cards[0])
	d.Code = wrongCode(d.Code)
	var err error
	for range 4 {
		_, err = e.svc.VerifyCard(context.Background(), d, src)
	}
	if cp.ErrorKind(err) != cp.TooManyRequests {
		t.Fatalf("4th try on one card: %v, want TooManyRequests", err)
	}
	// Even the right details are refused while throttled.
	if _, err := e.svc.VerifyCard(context.Background(), details(e.cards[0]), src); cp.ErrorKind(err) != cp.TooManyRequests {
		t.Fatalf("right details while throttled: %v", err)
	}
}

func TestLoginLockoutAndExpiry(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "lock.me")

	_, errUnknown := e.svc.Login(ctx, "no.such.user", "Wrong-Password-1", src)
	_, errWrong := e.svc.Login(ctx, "lock.me", "Wrong-Password-1", src)
	if errUnknown.Error() != errWrong.Error() {
		t.Fatalf("unknown user and wrong password differ:\n%v\n%v", errUnknown, errWrong)
	}
	_, err := e.svc.Login(ctx, "lock.me", "Wrong-Password-2", src)
	if cp.ErrorKind(err) != cp.Unauthenticated {
		t.Fatalf("2nd failure: %v", err)
	}
	_, err = e.svc.Login(ctx, "lock.me", "Wrong-Password-3", src)
	if cp.ErrorKind(err) != cp.Locked || !cp.ErrorUntil(err).Equal(e.clock.Now().Add(30*time.Minute)) {
		t.Fatalf("3rd failure: %v until %v", err, cp.ErrorUntil(err))
	}
	if _, err = e.svc.Login(ctx, "lock.me", goodPassword, src); cp.ErrorKind(err) != cp.Locked {
		t.Fatalf("right password while locked: %v", err)
	}
	msgs, _ := e.store.ListOutbox(ctx, 10)
	if len(msgs) == 0 || msgs[0].Kind != "locked" || msgs[0].MemberID != int64(m.ID) {
		t.Fatalf("no lock notice in the outbox: %+v", msgs)
	}
	e.clock.Add(30*time.Minute + time.Second)
	if _, err = e.svc.Login(ctx, "lock.me", goodPassword, src); err != nil {
		t.Fatalf("after the lock ends: %v", err)
	}
	// A success resets the count: two more failures do not lock.
	for range 2 {
		e.svc.Login(ctx, "lock.me", "Wrong-Password-9", src)
	}
	if _, err = e.svc.Login(ctx, "lock.me", goodPassword, src); err != nil {
		t.Fatalf("two failures after a success should not lock: %v", err)
	}
	kinds := map[identity.EventKind]int{}
	ev, _ := e.svc.Events(ctx, m.ID, 50)
	for _, x := range ev {
		kinds[x.Kind]++
	}
	if kinds[identity.EventLocked] != 1 || kinds[identity.EventSignInLocked] != 1 || kinds[identity.EventSignInFail] != 5 || kinds[identity.EventSignInOK] != 2 {
		t.Fatalf("security history: %v", kinds)
	}
}

// TestUnknownUserIDLocksToo keeps "locked" from revealing that an account exists.
func TestUnknownUserIDLocksToo(t *testing.T) {
	e := newEnv(t, identity.Config{})
	var err error
	for range 4 {
		_, err = e.svc.Login(context.Background(), "ghost.user", "Wrong-Password-1", src)
	}
	if cp.ErrorKind(err) != cp.Locked {
		t.Fatalf("4th try on an unknown User ID: %v, want Locked", err)
	}
}

// TestConcurrentWrongPasswordsCheckAtMostThree is the lockout race of issue 2: a burst
// of 50 concurrent wrong passwords may not get more than 3 password checks.
func TestConcurrentWrongPasswordsCheckAtMostThree(t *testing.T) {
	e := newEnv(t, identity.Config{SignInPerSource: 1000})
	e.register(t, e.cards[0], "burst.target")
	_, before := e.hasher.Stats()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { e.svc.Login(context.Background(), "burst.target", "Wrong-Password-1", src) })
	}
	wg.Wait()
	_, after := e.hasher.Stats()
	if n := after - before; n > 3 || n < 1 {
		t.Fatalf("%d password checks ran; want 1..3", n)
	}
	if _, err := e.svc.Login(context.Background(), "burst.target", goodPassword, src); cp.ErrorKind(err) != cp.Locked {
		t.Fatalf("after the burst: %v, want Locked", err)
	}
}

func TestSourceThrottle(t *testing.T) {
	e := newEnv(t, identity.Config{SignInPerSource: 5})
	var err error
	for i := range 6 {
		_, err = e.svc.Login(context.Background(), "user"+string(rune('a'+i))+"xyz", "Wrong-Password-1", src)
	}
	if cp.ErrorKind(err) != cp.TooManyRequests {
		t.Fatalf("6th attempt from one address: %v", err)
	}
	other := src
	other.IP = "198.51.100.7"
	if _, err = e.svc.Login(context.Background(), "someone.else", "Wrong-Password-1", other); cp.ErrorKind(err) != cp.Unauthenticated {
		t.Fatalf("another address is not throttled: %v", err)
	}
}

func TestRehashOnLoginWhenParamsRaised(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.register(t, e.cards[0], "rehash.me")
	stronger := testParams
	stronger.Time = 2
	h2, err := passhash.NewHasher(stronger, 2)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc2 := identity.NewService(e.store, e.hsm, h2, nil, identity.Config{}, e.clock.Now, log)
	if _, err := svc2.Login(ctx, "rehash.me", goodPassword, src); err != nil {
		t.Fatal(err)
	}
	_, cred, err := e.store.MemberByUserID(ctx, "rehash.me")
	if err != nil {
		t.Fatal(err)
	}
	p, _, _, err := passhash.Parse(cred.PasswordHash)
	if err != nil || p.Time != 2 {
		t.Fatalf("stored params after login: %+v %v", p, err)
	}
	if _, err := svc2.Login(ctx, "rehash.me", goodPassword, src); err != nil {
		t.Fatalf("login with the rehashed password: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	e.register(t, e.cards[0], "session.user")
	app := src
	app.Client = identity.App
	webTok, _, err := signIn(e.svc, ctx, "session.user", goodPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	appTok, _, err := signIn(e.svc, ctx, "session.user", goodPassword, app)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(6 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, appTok); cp.ErrorKind(err) != cp.Unauthenticated {
		t.Fatalf("app session after 6 idle minutes: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, webTok); err != nil {
		t.Fatalf("web session after 6 idle minutes: %v", err)
	}
	// Activity keeps a web session alive up to the absolute limit, then it ends.
	end := time.Date(2026, 11, 22, 22, 0, 0, 0, time.UTC) // created 10:00 + 12h
	for e.clock.Now().Add(14 * time.Minute).Before(end) {
		e.clock.Add(14 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, webTok); err != nil {
			t.Fatalf("active web session at %v: %v", e.clock.Now(), err)
		}
	}
	e.clock.Add(14 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, webTok); cp.ErrorKind(err) != cp.Unauthenticated {
		t.Fatalf("web session past 12 hours: %v", err)
	}
}

func TestLogoutAndRevoke(t *testing.T) {
	e := newEnv(t, identity.Config{})
	ctx := context.Background()
	m := e.register(t, e.cards[0], "revoke.user")
	other := e.register(t, e.cards[2], "other.user")
	t1, s1, _ := signIn(e.svc, ctx, "revoke.user", goodPassword, src)
	t2, s2, _ := signIn(e.svc, ctx, "revoke.user", goodPassword, src)
	_, so, _ := signIn(e.svc, ctx, "other.user", goodPassword, src)
	if err := e.svc.RevokeSession(ctx, m.ID, so.ID, src); cp.ErrorKind(err) != cp.NotFound {
		t.Fatalf("revoking another member's session: %v", err)
	}
	if err := e.svc.RevokeSession(ctx, m.ID, s2.ID, src); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, t2); err == nil {
		t.Fatal("revoked session still works")
	}
	n, err := e.svc.RevokeOtherSessions(ctx, m.ID, s1.ID, src)
	if err != nil || n != 1 { // the registration session remains besides s1
		t.Fatalf("revoke others: %d %v", n, err)
	}
	live, _ := e.svc.Sessions(ctx, m.ID)
	if len(live) != 1 || live[0].ID != s1.ID {
		t.Fatalf("live sessions: %+v", live)
	}
	if err := e.svc.Logout(ctx, s1, src); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, t1); err == nil {
		t.Fatal("session works after logout")
	}
	if _, err := e.svc.Authenticate(ctx, identity.Token("not-a-token")); cp.ErrorKind(err) != cp.Unauthenticated {
		t.Fatalf("garbage token: %v", err)
	}
	if live, _ := e.svc.Sessions(ctx, other.ID); len(live) != 2 {
		t.Fatalf("other member's sessions touched: %d", len(live))
	}
}

func TestNationalIDLast4(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"1234", "1234", true},
		{" 678z ", "678Z", true}, // a Spanish DNI ends in a letter
		{"123", "", false},
		{"12345", "", false},
		{"12-4", "", false},
		{"12é4", "", false},
	} {
		got, ok := identity.NationalIDLast4(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NationalIDLast4(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
