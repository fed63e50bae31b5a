package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/passhash"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/safehttp"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
	"github.com/cardportal/cardportal/statement"
	"github.com/cardportal/cardportal/web"
)

// start is the test clock's "now": the fixture's payment is due after it and its
// cards expire well after it.
var start = time.Date(2026, time.November, 22, 15, 4, 0, 0, time.UTC)

// testCard is a fixture card with the details a person would type.
type testCard struct {
	pan, code, last, name, birth, nationalID string
}

// env is a running web surface over a real identity service and SQLite store.
type env struct {
	t       *testing.T
	url     string
	clock   *cardportaltest.Clock
	logs    *cardportaltest.LogBuffer
	basic   testCard
	extra   testCard // an additional card member on the same account
	secrets []string // strings that must never appear in a page, a URL or a log
	store   *sqlstore.Store
	hsm     *cardcrypto.Soft
	stmts   *statement.Service
}

const (
	userID   = "jo.doe2026"
	password = "Correct-Horse-9battery"
	chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	iPhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)

type envOptions struct {
	noOutbox bool
	identity func(*identity.Config) // adjusts the identity policy (password_test.go)
	passkeys bool                   // turn passkeys on for the server's origin (passkey_test.go)
}

func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
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
	// Deliberately weak hashing parameters: the tests check behaviour, not cost.
	hasher, err := passhash.NewHasher(passhash.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: cardportaltest.NewClock(start), logs: &cardportaltest.LogBuffer{}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	e.basic = e.makeCard(hsm, "37000012345678", "Jo Doe", "1980-04-12", "1234")
	e.extra = e.makeCard(hsm, "37000087654321", "Sam Doe", "1990-01-02", "5678")
	e.secrets = []string{e.basic.pan, e.extra.pan, password}
	seal := func(c testCard) (cardcrypto.Sealed, []byte) {
		pan, err := card.ParsePAN(c.pan)
		if err != nil {
			t.Fatal(err)
		}
		s, err := hsm.SealPAN(pan)
		if err != nil {
			t.Fatal(err)
		}
		return s, hsm.Fingerprint(pan)
	}
	s1, f1 := seal(e.basic)
	s2, f2 := seal(e.extra)
	birth := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	ds := issuer.Dataset{
		Products: []issuer.Product{{ID: 1, Code: "gold", Name: "Northwind Gold Card", PANLength: 15, Currency: "USD"}},
		Accounts: []issuer.Account{{ID: 1, ProductCode: "gold", Currency: "USD", CreditLimit: 1_000_000,
			PaymentDue: time.Date(2026, time.December, 15, 0, 0, 0, 0, time.UTC), MinimumDue: 3500, OpenedAt: start.AddDate(-3, 0, 0)}},
		CardHolders: []issuer.CardHolder{
			{ID: 1, AccountID: 1, Basic: true, Name: "Jo Doe", BirthDate: birth(e.basic.birth),
				NationalIDMAC: hsm.MAC("national-id", []byte("1234")), Email: "jo.doe@example.com", Phone: "+15555550100"},
			{ID: 2, AccountID: 1, Basic: false, Name: "Sam Doe", BirthDate: birth(e.extra.birth),
				NationalIDMAC: hsm.MAC("national-id", []byte("5678")), Email: "sam.doe@example.com", Phone: "+15555550101"},
		},
		Cards: []issuer.Card{
			{ID: 1, AccountID: 1, CardHolderID: 1, Sealed: s1, Fingerprint: f1, Last: e.basic.last, ExpMonth: 12, ExpYear: 2029,
				State: issuer.StateActive, IssuedAt: start.AddDate(-1, 0, 0)},
			{ID: 2, AccountID: 1, CardHolderID: 2, Sealed: s2, Fingerprint: f2, Last: e.extra.last, ExpMonth: 12, ExpYear: 2029,
				State: issuer.StateActive, IssuedAt: start.AddDate(-1, 0, 0)},
		},
		Postings: []issuer.Posting{
			{ID: 1, AccountID: 1, Amount: 123456, Kind: "purchase", Description: "Groceries", PostedAt: start.AddDate(0, 0, -10)},
			{ID: 2, AccountID: 1, Amount: -20000, Kind: "payment", Description: "Payment", PostedAt: start.AddDate(0, 0, -5)},
		},
	}
	if err := store.LoadIssuer(ctx, ds); err != nil {
		t.Fatal(err)
	}
	notifier := &notify.Outbox{Store: store, Log: log, Now: e.clock.Now}
	var icfg identity.Config
	if o.identity != nil {
		o.identity(&icfg)
	}
	ident := identity.NewService(store, hsm, hasher, notifier, icfg, e.clock.Now, log)
	deps := web.Deps{Identity: ident, Accounts: store, Outbox: store, Log: log, Now: e.clock.Now,
		Maintenance: "Sunday 02:00–04:00 UTC"}
	if o.noOutbox {
		deps.Outbox = nil
	}
	deps.Cards = cardservice.New(store, hsm, ident, notifier, cardservice.Config{}, e.clock.Now, log)
	deps.Ledger = store
	e.stmts = statement.New(store, store, notifier, statement.DefaultRules, e.clock.Now, log)
	deps.Statements = e.stmts
	deps.Payments = payment.New(store, store, hsm, notifier, payment.Config{}, e.clock.Now, log)
	deps.Rewards = rewards.New(store, e.clock.Now, log) // rewards_test.go
	deps.Offers = offers.New(store, store, e.clock.Now, log)
	deps.Details = details.New(store, ident, notifier, e.clock.Now, log) // details_test.go
	deps.Alerts = alerts.New(store, notifier, e.clock.Now, log)
	deps.Disputes = disputes.New(store, store, store, ident, notifier, e.clock.Now, log)
	e.store, e.hsm = store, hsm
	srv := httptest.NewServer(safehttp.Observe(safehttp.Options{Log: log}, web.NewHandler(deps)))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	if o.passkeys {
		// WebAuthn refuses IP addresses as relying parties; the pages do not care.
		origin := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		if err := ident.EnablePasskeys(identity.PasskeyConfig{RPID: "localhost", Origins: []string{origin}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		logs := e.logs.String()
		for _, s := range e.secrets {
			if strings.Contains(logs, s) {
				t.Errorf("the log contains a secret (%d characters)", len(s))
			}
		}
	})
	return e
}

// makeCard builds a Luhn-valid 15-digit card from a 14-digit prefix and computes
// the security code the HSM will expect for it.
func (e *env) makeCard(hsm *cardcrypto.Soft, partial, name, birth, nid string) testCard {
	e.t.Helper()
	digits := partial + string(card.LuhnCheckDigit(partial))
	pan, err := card.ParsePAN(digits)
	if err != nil {
		e.t.Fatal(err)
	}
	code, err := hsm.CardCode(pan, card.Expiry{Month: 12, Year: 2029})
	if err != nil {
		e.t.Fatal(err)
	}
	return testCard{pan: digits, code: code.Digits(), last: digits[len(digits)-5:], name: name, birth: birth, nationalID: nid}
}

// browser is one user agent with its own cookies. It does not follow redirects, so
// tests see each one.
type browser struct {
	e  *env
	c  *http.Client
	ua string
}

func (e *env) browser(ua string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, ua: ua, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location() string { return r.header.Get("Location") }

var (
	scriptTag   = regexp.MustCompile(`<script[^>]*>`)
	styleAttr   = regexp.MustCompile(`(?i)\sstyle\s*=|<style`)
	messageID   = regexp.MustCompile(`[a-z][a-z0-9_]*(\.[a-z0-9_]+)+`)
	placeholder = regexp.MustCompile(`\{[a-z0-9_]+\}`)
)

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	if b.ua != "" {
		req.Header.Set("User-Agent", b.ua)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: string(body)}
	b.e.checkPage(req, r)
	return r
}

// checkPage applies the rules every response must keep: no secret in a page or a
// redirect, and no inline script or style (the CSP would block them anyway).
func (e *env) checkPage(req *http.Request, r response) {
	e.t.Helper()
	for _, s := range e.secrets {
		if strings.Contains(r.body, s) || strings.Contains(r.location(), s) {
			e.t.Errorf("%s %s: response contains a secret (%d characters)", req.Method, req.URL.Path, len(s))
		}
	}
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		for _, tag := range scriptTag.FindAllString(r.body, -1) {
			if !strings.Contains(tag, " src=") {
				e.t.Errorf("%s %s: inline script %s", req.Method, req.URL.Path, tag)
			}
		}
		if styleAttr.MatchString(r.body) {
			e.t.Errorf("%s %s: inline style", req.Method, req.URL.Path)
		}
		// A message ID or a {placeholder} on the page is a text that failed to
		// translate or to be filled in.
		for _, id := range messageID.FindAllString(r.body, -1) {
			if locale.HasMessage(id) {
				e.t.Errorf("%s %s: untranslated message ID %q", req.Method, req.URL.Path, id)
			}
		}
		if p := placeholder.FindString(r.body); p != "" {
			e.t.Errorf("%s %s: unfilled placeholder %s", req.Method, req.URL.Path, p)
		}
	}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.url+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) response {
	b.e.t.Helper()
	return b.postRaw(path, form.Encode(), header...)
}

func (b *browser) postRaw(path, body string, header ...string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// cookie returns the browser's cookie for path, or "".
func (b *browser) cookie(path, name string) string {
	u, _ := url.Parse(b.e.url + path)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, what string, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, r.status, want, r.body)
	}
}

func wantRedirect(t *testing.T, what string, r response, to string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.location() != to {
		t.Fatalf("%s: %d to %q, want 303 to %q\n%s", what, r.status, r.location(), to, r.body)
	}
}

func wantContains(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s: page lacks %q", what, s)
		}
	}
}

func wantLacks(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("%s: page contains %q", what, s)
		}
	}
}

func cardForm(c testCard) url.Values {
	return url.Values{
		"card_number": {c.pan}, "cid": {c.code}, "expiry": {"12/29"}, "name": {c.name},
		"birth_date": {c.birth}, "national_id": {c.nationalID},
	}
}

func credentialsForm(uid, pw string) url.Values {
	return url.Values{
		"user_id": {uid}, "password": {pw}, "confirm": {pw},
		"question1": {"first_pet"}, "answer1": {"Rex the dog"},
		"question2": {"birth_city"}, "answer2": {"Springfield"},
		"question3": {"street"}, "answer3": {"Elm Street"},
	}
}

// register runs both registration steps in b and leaves it signed in.
func (b *browser) register(c testCard, uid string) {
	b.e.t.Helper()
	t := b.e.t
	wantRedirect(t, "verify card", b.post("/register", cardForm(c)), "/register/credentials")
	wantRedirect(t, "credentials", b.post("/register/credentials", credentialsForm(uid, password)), "/contact?m=welcome")
}

func (b *browser) login(uid, pw string, remember bool) response {
	b.e.t.Helper()
	f := url.Values{"user_id": {uid}, "password": {pw}}
	if remember {
		f.Set("remember", "1")
	}
	return b.post("/login", f)
}

func TestRegisterDashboardLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	wantStatus(t, "GET /", b.get("/"), http.StatusSeeOther)

	page := b.get("/register")
	wantStatus(t, "register page", page, http.StatusOK)
	wantContains(t, "register page", page.body, "Confirm your card", "Last 4 digits of your Social Security number",
		`id="basic_birth_date"`, "Scheduled maintenance: Sunday 02:00–04:00 UTC")

	r := b.post("/register", cardForm(e.basic))
	wantRedirect(t, "verify card", r, "/register/credentials")
	if c := r.header.Get("Set-Cookie"); !strings.Contains(c, "regflow=") || !strings.Contains(c, "Path=/register") ||
		!strings.Contains(c, "HttpOnly") || !strings.Contains(c, "Max-Age=1200") {
		t.Errorf("flow cookie: %s", c)
	}
	if b.cookie("/account", "regflow") != "" {
		t.Error("the flow cookie is sent outside /register")
	}

	page = b.get("/register/credentials")
	wantStatus(t, "credentials page", page, http.StatusOK)
	wantContains(t, "credentials page", page.body, "Card ending "+e.basic.last, `data-rule="length"`, `data-min="12"`,
		`aria-live="polite"`, "At least 12 characters", "What was the name of your first pet?")

	r = b.post("/register/credentials", credentialsForm(userID, password))
	wantRedirect(t, "register", r, "/contact?m=welcome")
	sc := strings.Join(r.header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"regflow=;", "session="} {
		if !strings.Contains(sc, want) {
			t.Errorf("cookies after registration lack %q:\n%s", want, sc)
		}
	}
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "session=") {
			if strings.Contains(c, "Max-Age") || strings.Contains(c, "Expires") || !strings.Contains(c, "HttpOnly") ||
				!strings.Contains(c, "SameSite=Lax") || !strings.Contains(c, "Path=/") {
				t.Errorf("session cookie: %s", c)
			}
		}
	}

	dash := b.get("/account?welcome=1")
	wantStatus(t, "dashboard", dash, http.StatusOK)
	wantContains(t, "dashboard", dash.body,
		"You&#39;re registered. Welcome!", "Northwind Gold Card",
		"$1,034.56",  // balance: 1,234.56 purchase − 200.00 payment
		"$8,965.44",  // available: 10,000.00 − 1,034.56
		"$10,000.00", // limit
		// Nothing is due before the first statement (statements_test.go has the figures after).
		"No payment due",
		"•••• "+e.basic.last, "•••• "+e.extra.last, "Jo Doe", "Sam Doe",
		"Basic card member", "Additional card member", "Active",
		`action="/logout"`, `lang="en-US"`, "1-800-555-0199")
	wantLacks(t, "dashboard", dash.body, "Scheduled maintenance")
	if cc := dash.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("dashboard Cache-Control %q", cc)
	}
	wantRedirect(t, "GET / signed in", b.get("/"), "/account")
	wantRedirect(t, "GET /login signed in", b.get("/login"), "/account")

	r = b.post("/logout", nil)
	wantRedirect(t, "logout", r, "/login?m=loggedout")
	wantContains(t, "after logout", b.get("/login?m=loggedout").body, "You have logged out.")
	wantRedirect(t, "dashboard after logout", b.get("/account"), "/login")

	// Signing in again works and lands on the dashboard.
	wantRedirect(t, "login", b.login(userID, password, false), "/account")
	wantStatus(t, "dashboard again", b.get("/account"), http.StatusOK)
}

func TestAdditionalMemberNeedsBasicBirthDate(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	f := cardForm(e.extra)
	f.Set("additional", "1")
	r := b.post("/register", f)
	wantStatus(t, "no basic birth date", r, http.StatusUnprocessableEntity)
	wantContains(t, "no basic birth date", r.body, `href="#basic_birth_date"`, `aria-describedby="basic_birth_date-error"`)

	f.Set("basic_birth_date", "1980-04-12")
	wantRedirect(t, "with basic birth date", b.post("/register", f), "/register/credentials")
	// The additional member sees only their own card.
	wantRedirect(t, "credentials", b.post("/register/credentials", credentialsForm("sam.doe", password)), "/contact?m=welcome")
	dash := b.get("/account")
	wantContains(t, "additional dashboard", dash.body, "•••• "+e.extra.last)
	wantLacks(t, "additional dashboard", dash.body, "•••• "+e.basic.last)
}

func TestRegisterFieldErrors(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)

	t.Run("required", func(t *testing.T) {
		r := b.post("/register", url.Values{})
		wantStatus(t, "empty form", r, http.StatusUnprocessableEntity)
		for _, id := range []string{"card_number", "cid", "expiry", "name", "birth_date", "national_id"} {
			wantContains(t, "empty form", r.body, `href="#`+id+`"`, `id="`+id+`-error"`)
		}
		wantContains(t, "empty form", r.body, `role="alert"`, "There is a problem",
			`<a href="#card_number">Card number: This field is required.</a>`,
			`<a href="#national_id">Last 4 digits of your Social Security number: This field is required.</a>`)
	})

	t.Run("formats", func(t *testing.T) {
		f := cardForm(e.basic)
		f.Set("expiry", "13/99")
		f.Set("birth_date", "yesterday")
		r := b.post("/register", f)
		wantStatus(t, "bad formats", r, http.StatusUnprocessableEntity)
		input := regexp.MustCompile(`<input id="expiry"[^>]*>`).FindString(r.body)
		for _, want := range []string{`aria-invalid="true"`, `aria-describedby="expiry-error"`} {
			if !strings.Contains(input, want) {
				t.Errorf("expiry input %s lacks %s", input, want)
			}
		}
		wantContains(t, "bad formats", r.body, "Enter the expiry date as MM/YY.", "Enter a date as YYYY-MM-DD.",
			`href="#expiry"`, `href="#birth_date"`,
			`value="13/99"`, `value="Jo Doe"`) // entered values are kept...
		wantLacks(t, "bad formats", r.body, e.basic.code) // ...but never the card number or the code
		if strings.Contains(regexp.MustCompile(`<input id="cid"[^>]*>`).FindString(r.body), "value=") {
			t.Error("the security code is echoed back")
		}
	})

	t.Run("mismatch names no field", func(t *testing.T) {
		f := cardForm(e.basic)
		f.Set("national_id", "9999")
		r := b.post("/register", f)
		wantStatus(t, "mismatch", r, http.StatusNotFound)
		wantContains(t, "mismatch", r.body, "We could not confirm these card details.")
		wantLacks(t, "mismatch", r.body, `aria-invalid`, "error-summary", `class="error-message"`)
		if regexp.MustCompile(`aria-describedby="[^"]*-error`).MatchString(r.body) {
			t.Error("mismatch: the message is tied to a field")
		}
		if b.cookie("/register", "regflow") != "" {
			t.Error("a mismatch started a registration flow")
		}
	})

	t.Run("already registered", func(t *testing.T) {
		b2 := e.browser(chromeUA)
		b2.register(e.basic, userID)
		r := b.post("/register", cardForm(e.basic))
		wantStatus(t, "registered twice", r, http.StatusConflict)
		wantContains(t, "registered twice", r.body, "This card is already registered")
	})
}

func TestCredentialErrors(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	wantRedirect(t, "verify", b.post("/register", cardForm(e.basic)), "/register/credentials")

	f := credentialsForm("jo", "short")
	f.Set("question2", "first_pet")
	r := b.post("/register/credentials", f)
	wantStatus(t, "bad credentials", r, http.StatusUnprocessableEntity)
	wantContains(t, "bad credentials", r.body,
		"Use 6 to 32 characters",
		"Your password must meet this rule: At least 12 characters",
		"Your password must meet this rule: An upper-case letter",
		"Choose three different questions.",
		`class="rule unmet" data-rule="length"`,
		`href="#password"`, `href="#question1"`, `value="jo"`,
		`<a href="#question1">Question 1: Choose three different questions.</a>`)
	wantLacks(t, "bad credentials", r.body, `value="short"`, "Rex the dog")

	// The flow survives a rejected form.
	wantRedirect(t, "fixed", b.post("/register/credentials", credentialsForm(userID, password)), "/contact?m=welcome")
}

func TestFlowExpired(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	wantRedirect(t, "no flow", b.get("/register/credentials"), "/register?m=flowexpired")
	wantContains(t, "no flow", b.get("/register?m=flowexpired").body, "Your registration took too long.")

	wantRedirect(t, "verify", b.post("/register", cardForm(e.basic)), "/register/credentials")
	e.clock.Add(21 * time.Minute)
	wantRedirect(t, "late", b.post("/register/credentials", credentialsForm(userID, password)), "/register?m=flowexpired")
}

func TestLockout(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	b := e.knownBrowser(chromeUA)
	for i := 1; i <= 2; i++ {
		r := b.login(userID, "Wrong-password-1", false)
		wantStatus(t, "wrong password", r, http.StatusUnauthorized)
		wantContains(t, "wrong password", r.body, "The User ID or password is incorrect.")
	}
	r := b.login(userID, "Wrong-password-1", false)
	wantStatus(t, "third wrong password", r, http.StatusLocked)
	// Locked for 30 minutes from 3:04 PM.
	wantContains(t, "locked", r.body, "Try again after Nov 22, 2026, 3:34 PM UTC", "1-800-555-0199")
	if ra := r.header.Get("Retry-After"); ra == "" {
		t.Error("no Retry-After on the locked page")
	}
	// Even the right password is refused while locked.
	wantStatus(t, "right password while locked", b.login(userID, password, false), http.StatusLocked)
	e.clock.Add(31 * time.Minute)
	wantRedirect(t, "after the lock", b.login(userID, password, false), "/account")
}

// TestWrongUserIDLooksLikeWrongPassword: the pages for an unknown User ID and for a
// wrong password are byte-for-byte the same, headers included (apart from the
// request ID and the date), so the response does not tell whether an account exists.
func TestWrongUserIDLooksLikeWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	wrongPassword := e.browser(chromeUA).login(userID, "Wrong-password-1", false)
	wrongUser := e.browser(chromeUA).login("no.such.user", "Wrong-password-1", false)
	wantStatus(t, "wrong password", wrongPassword, http.StatusUnauthorized)
	if diff := cmp.Diff(wrongPassword.body, wrongUser.body); diff != "" {
		t.Errorf("pages differ (-wrong password +wrong user):\n%s", diff)
	}
	strip := func(h http.Header) http.Header {
		h = h.Clone()
		h.Del("X-Request-Id")
		h.Del("Date")
		// Each fresh browser gets its own random device cookie.
		for i, c := range h.Values("Set-Cookie") {
			if strings.HasPrefix(c, "device=") {
				h["Set-Cookie"][i] = "device=…"
			}
		}
		return h
	}
	if diff := cmp.Diff(strip(wrongPassword.header), strip(wrongUser.header)); diff != "" {
		t.Errorf("headers differ (-wrong password +wrong user):\n%s", diff)
	}
	if wrongPassword.status != wrongUser.status {
		t.Errorf("status %d vs %d", wrongPassword.status, wrongUser.status)
	}
}

func TestRememberMe(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	b := e.knownBrowser(chromeUA)

	page := b.get("/login")
	if regexp.MustCompile(`<input id="remember"[^>]*checked`).MatchString(page.body) {
		t.Error("Remember me is on by default")
	}

	r := b.login(userID, password, true)
	wantRedirect(t, "login remembered", r, "/account")
	var remember string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "remember=") {
			remember = c
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"} {
		if !strings.Contains(remember, want) {
			t.Errorf("remember cookie %q lacks %s", remember, want)
		}
	}
	wantRedirect(t, "logout", b.post("/logout", nil), "/login?m=loggedout")

	page = b.get("/login")
	wantContains(t, "remembered login", page.body, "Signing in as "+identity.MaskUserID(userID), `name="use_remembered"`,
		`action="/login/forget"`, "Not you?")
	wantLacks(t, "remembered login", page.body, userID, `id="user_id"`)

	// The remembered User ID signs in without being typed.
	r = b.post("/login", url.Values{"use_remembered": {"1"}, "password": {password}, "remember": {"1"}})
	wantRedirect(t, "remembered sign-in", r, "/account")
	b.post("/logout", nil)

	// "Not you?" forgets it.
	wantRedirect(t, "forget", b.post("/login/forget", nil), "/login")
	page = b.get("/login")
	wantLacks(t, "after forget", page.body, "Signing in as")
	wantContains(t, "after forget", page.body, `id="user_id"`)

	// Signing in with the box unticked forgets it too.
	b.login(userID, password, true)
	b.post("/logout", nil)
	if b.cookie("/", "remember") == "" {
		t.Fatal("not remembered")
	}
	b.login(userID, password, false)
	if b.cookie("/", "remember") != "" {
		t.Error("unticking Remember me kept the User ID")
	}
}

var revokeAction = regexp.MustCompile(`action="/security/sessions/(\d+)/revoke"`)

func TestSessionsAndRevoke(t *testing.T) {
	e := newEnv(t)
	a := e.browser(chromeUA)
	a.register(e.basic, userID)
	phone := e.knownBrowser(iPhoneUA)
	wantRedirect(t, "phone login", phone.login(userID, password, false), "/account")
	other := e.knownBrowser("curl/8.5.0")
	wantRedirect(t, "other login", other.login(userID, password, false), "/account")
	e.browser(chromeUA).login(userID, "Wrong-password-1", false)

	page := a.get("/security")
	wantStatus(t, "security", page, http.StatusOK)
	wantContains(t, "security", page.body, "Active sessions", "This session", "Chrome on Linux", "Safari on iOS", "curl",
		"Recent sign-ins", "Signed in", "Incorrect password", "Registered", "127.0.0.1",
		"Nov 22, 2026, 3:04 PM UTC", `datetime="2026-11-22T15:04:00Z"`,
		`action="/security/sessions/revoke-all"`)
	if cc := page.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("security Cache-Control %q", cc)
	}
	if n := strings.Count(page.body, `class="badge">This session<`); n != 1 {
		t.Errorf("%d sessions marked as this one", n)
	}
	ids := revokeAction.FindAllStringSubmatch(page.body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d revoke buttons, want 2 (one per other session)", len(ids))
	}

	// Sign out the phone's session: find its row by its device.
	var phoneID string
	sessions, _, _ := strings.Cut(page.body, `id="recent-title"`)
	for _, row := range strings.Split(sessions, "<tr") {
		if strings.Contains(row, "Safari on iOS") {
			phoneID = revokeAction.FindStringSubmatch(row)[1]
		}
	}
	wantRedirect(t, "revoke", a.post("/security/sessions/"+phoneID+"/revoke", nil), "/security?done=revoked")
	wantContains(t, "after revoke", a.get("/security?done=revoked").body, "That session has been signed out.")
	wantRedirect(t, "revoked phone", phone.get("/account"), "/login?m=expired")
	wantContains(t, "revoked phone", phone.get("/login?m=expired").body, "Your session has ended.")
	wantStatus(t, "still signed in", other.get("/account"), http.StatusOK)

	// A session that is not (or no longer) the member's is not found.
	wantStatus(t, "revoke again", a.post("/security/sessions/"+phoneID+"/revoke", nil), http.StatusNotFound)
	wantStatus(t, "revoke junk", a.post("/security/sessions/x/revoke", nil), http.StatusNotFound)

	// Sign out everywhere else: the current session stays.
	wantRedirect(t, "revoke all", a.post("/security/sessions/revoke-all", nil), "/security?done=revokedall")
	wantRedirect(t, "other after revoke all", other.get("/account"), "/login?m=expired")
	page = a.get("/security?done=revokedall")
	wantStatus(t, "current after revoke all", page, http.StatusOK)
	wantContains(t, "current after revoke all", page.body, "All your other sessions have been signed out.")
	if n := len(revokeAction.FindAllString(page.body, -1)); n != 0 {
		t.Errorf("%d other sessions left", n)
	}
}

func TestSignedInPagesNeedASession(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	for _, path := range []string{"/account", "/security"} {
		wantRedirect(t, path, b.get(path), "/login")
	}
	wantRedirect(t, "logout signed out", b.post("/logout", nil), "/login")

	// A forged or stale cookie is cleared and reported as an ended session.
	u, _ := url.Parse(e.url)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: strings.Repeat("A", 43), Path: "/"}})
	wantRedirect(t, "stale cookie", b.get("/account"), "/login?m=expired")
	if b.cookie("/", "session") != "" {
		t.Error("a dead session cookie was kept")
	}

	// An idle session ends after the web idle timeout.
	b.register(e.basic, userID)
	e.clock.Add(16 * time.Minute)
	wantRedirect(t, "idle", b.get("/account"), "/login?m=expired")
}

func TestCrossOriginPostRejected(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	b := e.knownBrowser(chromeUA)
	f := url.Values{"user_id": {userID}, "password": {password}}
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		r := b.post("/login", f, h...)
		wantStatus(t, h[0], r, http.StatusForbidden)
		wantContains(t, h[0], r.body, "This form has expired.")
		if b.cookie("/", "session") != "" {
			t.Fatalf("%s: a cross-origin login set a session", h[0])
		}
	}
	wantRedirect(t, "same origin", b.post("/login", f, "Sec-Fetch-Site", "same-origin"), "/account")
	wantStatus(t, "cross-site logout", b.post("/logout", nil, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	wantStatus(t, "still signed in", b.get("/account"), http.StatusOK)
}

func TestHeadersAndStatic(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	page := b.get("/login")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := page.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	wantContains(t, "layout", page.body, `<html lang="en-US">`, `href="#main"`, "Skip to main content", `id="main"`,
		`action="/language"`, `<option value="sv" lang="sv">Svenska</option>`, "Demonstration issuer", "1-800-555-0199")

	for _, re := range []string{`href="(/static/app\.css\?v=[0-9a-f]+)"`, `src="(/static/app\.js\?v=[0-9a-f]+)"`} {
		m := regexp.MustCompile(re).FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("no asset matching %s", re)
		}
		r := b.get(m[1])
		wantStatus(t, m[1], r, http.StatusOK)
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q", m[1], cc)
		}
	}
	wantStatus(t, "static listing", b.get("/static/"), http.StatusNotFound)
	wantStatus(t, "static missing", b.get("/static/nope.css"), http.StatusNotFound)
}

func TestNotFoundAndMethods(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	req, _ := http.NewRequest(http.MethodGet, e.url+"/no/such/page", nil)
	req.Header.Set("Accept-Language", "es-MX,es;q=0.9")
	r := b.do(req)
	wantStatus(t, "not found", r, http.StatusNotFound)
	wantContains(t, "not found", r.body, "No hemos encontrado esa página.", `<html lang="es">`)

	req, _ = http.NewRequest(http.MethodDelete, e.url+"/login", nil)
	r = b.do(req)
	wantStatus(t, "DELETE /login", r, http.StatusMethodNotAllowed)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "POST") {
		t.Errorf("Allow %q", allow)
	}
	wantStatus(t, "outbox enabled", e.browser("").get("/dev/outbox"), http.StatusOK)
	off := newEnv(t, envOptions{noOutbox: true})
	wantStatus(t, "outbox disabled", off.browser("").get("/dev/outbox"), http.StatusNotFound)
}

func TestOversizedBody(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	big := "user_id=" + strings.Repeat("a", 100<<10) + "&password=x"

	r := b.postRaw("/login", big)
	wantStatus(t, "announced size", r, http.StatusRequestEntityTooLarge)
	wantContains(t, "announced size", r.body, "That request is too large.")

	// A chunked body announces no size; the cap trips while the form is read.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/register", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = -1
	r = b.do(req)
	wantStatus(t, "chunked", r, http.StatusRequestEntityTooLarge)
	wantContains(t, "chunked", r.body, "That request is too large.")
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	valid := cardForm(e.basic).Encode()
	tests := []struct {
		name, body string
	}{
		{"malformed encoding", valid + "&name=%zz"},
		{"invalid UTF-8", strings.Replace(valid, "name=Jo+Doe", "name=Jo%ff%feDoe", 1)},
		{"control character", strings.Replace(valid, "name=Jo+Doe", "name=Jo%00Doe", 1)},
		{"escape character", strings.Replace(valid, "name=Jo+Doe", "name=Jo%1b%5B2JDoe", 1)},
		{"very long field", strings.Replace(valid, "name=Jo+Doe", "name="+strings.Repeat("J", 5000), 1)},
		{"repeated field", valid + "&name=Someone+Else"},
		{"too many fields", valid + manyFields(50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.postRaw("/register", tt.body)
			wantStatus(t, tt.name, r, http.StatusBadRequest)
			wantContains(t, tt.name, r.body, "We couldn&#39;t read that")
			if b.cookie("/register", "regflow") != "" {
				t.Fatal("bad input started a registration flow")
			}
		})
	}
	// The same details, well formed, are accepted: the refusals above were about form.
	wantRedirect(t, "valid", b.postRaw("/register", valid), "/register/credentials")

	// Long but well-formed text reaches the service, which names the field.
	f := cardForm(e.basic)
	f.Set("name", strings.Repeat("J", 300))
	r := e.browser(chromeUA).post("/register", f)
	wantStatus(t, "long name", r, http.StatusUnprocessableEntity)
	wantContains(t, "long name", r.body, "This is too long.", `href="#name"`)
}

func TestInjectionIsEscaped(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	f := cardForm(e.basic)
	f.Set("name", `<script>alert(1)</script>"><img src=x onerror=alert(2)>`)
	f.Set("expiry", "13/99") // a field error, so the form is shown again
	r := b.post("/register", f)
	wantStatus(t, "injection", r, http.StatusUnprocessableEntity)
	wantLacks(t, "injection", r.body, "<script>alert(1)", "<img src=x")
	wantContains(t, "injection", r.body, "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;")

	for _, uid := range []string{`' OR '1'='1' --`, `admin'; DROP TABLE members; --`, `<b>bold</b>`} {
		r := b.login(uid, "x' OR 'x'='x", false)
		wantStatus(t, uid, r, http.StatusUnauthorized)
		wantLacks(t, uid, r.body, "<b>bold</b>")
	}
	// The store is intact: registration still works.
	b.register(e.basic, userID)
	wantStatus(t, "dashboard", b.get("/account"), http.StatusOK)
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)

	r := b.post("/language", url.Values{"lang": {"sv"}, "return": {"/account"}})
	wantRedirect(t, "switch", r, "/account")
	if c := r.header.Get("Set-Cookie"); !strings.Contains(c, "lang=sv") || !strings.Contains(c, "Max-Age=31536000") {
		t.Errorf("language cookie %q", c)
	}
	page := b.get("/account")
	wantContains(t, "Swedish dashboard", page.body, `<html lang="sv">`, "Kontoöversikt", "Logga ut", "Tillgänglig kredit",
		"1\u00a0034,56\u00a0US$", "8\u00a0965,44\u00a0US$", "Ingen betalning förfaller", "&#43;46 20 555 019", // html/template escapes "+"
		`<option value="sv" lang="sv" selected>`)

	page = b.get("/security")
	wantContains(t, "Swedish security", page.body, "22 nov. 2026 15:04 UTC", "Chrome på Linux")

	// Only same-site paths are returned to.
	for _, ret := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`, "/%2F%2Fevil.example", "javascript:alert(1)", ""} {
		r := b.post("/language", url.Values{"lang": {"es"}, "return": {ret}})
		wantRedirect(t, "return "+ret, r, "/")
	}
	// An unknown language changes nothing.
	b.post("/language", url.Values{"lang": {"xx"}, "return": {"/account"}})
	wantContains(t, "unknown language", b.get("/account").body, `<html lang="es">`, "Resumen de la cuenta")
}

func TestOutboxPage(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	page := e.browser("").get("/dev/outbox")
	wantStatus(t, "outbox", page, http.StatusOK)
	wantContains(t, "outbox", page.body, "Outbox", "Welcome to online services", "registered", "j***@example.com",
		"Your card ending "+e.basic.last)
	wantLacks(t, "outbox", page.body, "jo.doe@example.com")
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("&x")
		b.WriteString(strings.Repeat("y", i))
		b.WriteString("=1")
	}
	return b.String()
}

// TestBehindTLS: with TLS terminated upstream, cookies are still Secure and HSTS is
// still sent, though the request reaching the handler is plain HTTP.
func TestBehindTLS(t *testing.T) {
	h := web.NewHandler(web.Deps{BehindTLS: true})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /login: %d", rec.Code)
	}
	if hsts := rec.Header().Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("HSTS %q", hsts)
	}
	req := httptest.NewRequest(http.MethodPost, "/language", strings.NewReader("lang=es&return=%2Flogin"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if c := rec.Header().Get("Set-Cookie"); !strings.Contains(c, "lang=es") || !strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("language cookie %q", c)
	}
	if loc := rec.Header().Get("Location"); loc != "/login" {
		t.Errorf("Location %q", loc)
	}
}
