package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/passhash"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/safehttp"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
	"github.com/cardportal/cardportal/statement"
)

// start is the test clock's first reading: cards expire in 2029, and the payment due
// date lies a few weeks ahead.
var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// holder is a card holder of the fixture, with the details a person would type.
type holder struct {
	cardholderID int64
	accountID    int64
	cardID       int64
	pan          string
	cid          string
	expiry       string
	name         string
	birth        string
	nationalID   string
	basicBirth   string // for additional members
	email        string
	last         string
}

// env is a running API over a real SQLite store, a real identity service and a soft
// HSM, with the fixture issuer loaded.
type env struct {
	t       *testing.T
	h       http.Handler
	clock   *cardportaltest.Clock
	store   *sqlstore.Store
	ident   *identity.Service
	hsm     *cardcrypto.Soft
	cards   *cardservice.Service
	pays    *payment.Service
	stmts   *statement.Service
	rewards *rewards.Service
	offers  *offers.Service
	logs    *cardportaltest.LogBuffer
	alice   holder // basic card member of account 1
	bob     holder // additional card member of account 1
	carol   holder // basic card member of account 2
	dataset issuer.Dataset

	mu      sync.Mutex
	bodies  []sentBody // every response body, to search for leaked secrets
	secrets []string   // card numbers and passwords the tests sent
	tokens  []string   // every token the API issued
	cids    []string   // card codes: short, so only matched as whole values
}

// sentBody is a response body and whether its route issues tokens (and so may hold
// the one it issued).
type sentBody struct {
	body    string
	issuing bool
}

type envOption func(*envConfig)

type envConfig struct {
	accounts func(*sqlstore.Store) account.Store
	identity identity.Config
}

func withAccounts(f func(*sqlstore.Store) account.Store) envOption {
	return func(c *envConfig) { c.accounts = f }
}

func withIdentity(f func(*identity.Config)) envOption {
	return func(c *envConfig) { f(&c.identity) }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{accounts: func(s *sqlstore.Store) account.Store { return s }, identity: identity.DefaultConfig}
	for _, o := range opts {
		o(&cfg)
	}
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
	// The lowest argon2id cost passhash accepts: these tests are about HTTP, not about
	// the hash's strength.
	hasher, err := passhash.NewHasher(passhash.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: cardportaltest.NewClock(start), store: store, hsm: hsm, logs: &cardportaltest.LogBuffer{}}
	t.Cleanup(e.checkLeaks)
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.loadFixture()
	notifier := &notify.Outbox{Store: store, Log: log, Now: e.clock.Now}
	e.ident = identity.NewService(store, hsm, hasher, notifier, cfg.identity, e.clock.Now, log)
	e.cards = cardservice.New(store, hsm, e.ident, notifier, cardservice.Config{}, e.clock.Now, log)
	e.pays = payment.New(store, store, hsm, notifier, payment.Config{}, e.clock.Now, log)
	e.stmts = statement.New(store, store, notifier, statement.DefaultRules, e.clock.Now, log)
	e.rewards, e.offers = rewards.New(store, e.clock.Now, log), offers.New(store, store, e.clock.Now, log)
	api := NewHandler(Deps{Identity: e.ident, Accounts: cfg.accounts(store), Log: log, Now: e.clock.Now, Cards: e.cards, Ledger: store,
		Payments: e.pays, Statements: e.stmts, Rewards: e.rewards, Offers: e.offers,
		// details_test.go
		Details:  details.New(store, e.ident, notifier, e.clock.Now, log),
		Alerts:   alerts.New(store, notifier, e.clock.Now, log),
		Disputes: disputes.New(store, store, store, e.ident, notifier, e.clock.Now, log)})
	// Wrapped as cmd/cardportal wraps it, so request IDs and client addresses are real.
	e.h = safehttp.Observe(safehttp.Options{Log: log}, api)
	return e
}

// newPAN makes a Luhn-valid 15-digit number starting 37 from a serial number.
func newPAN(t *testing.T, serial string) string {
	partial := "37" + strings.Repeat("0", 12-len(serial)) + serial
	d := card.LuhnCheckDigit(partial)
	if d == 0 {
		t.Fatalf("bad serial %q", serial)
	}
	return partial + string(d)
}

func (e *env) loadFixture() {
	t := e.t
	mk := func(id, account, cardID int64, serial, name, birth, nid, email string, basicBirth string) holder {
		pan := newPAN(t, serial)
		p, err := card.ParsePAN(pan)
		if err != nil {
			t.Fatal(err)
		}
		code, err := e.hsm.CardCode(p, card.Expiry{Month: 12, Year: 2029})
		if err != nil {
			t.Fatal(err)
		}
		h := holder{cardholderID: id, accountID: account, cardID: cardID, pan: pan, cid: code.Digits(), expiry: "12/29",
			name: name, birth: birth, nationalID: nid, basicBirth: basicBirth, email: email, last: pan[len(pan)-5:]}
		e.secrets = append(e.secrets, pan)
		e.cids = append(e.cids, h.cid)
		return h
	}
	e.alice = mk(1, 1, 11, "100000000001", "Alice Example", "1980-04-02", "1234", "alice@example.com", "")
	e.bob = mk(2, 1, 12, "100000000002", "Bob Example", "1985-07-19", "5678", "bob@example.com", "1980-04-02")
	e.carol = mk(3, 2, 13, "200000000003", "Carol Other", "1990-01-30", "4321", "carol@example.org", "")

	date := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := issuer.Dataset{
		Products: []issuer.Product{{ID: 1, Code: "gold", Name: "Gold Card", PANLength: 15, Currency: "USD"}},
		Accounts: []issuer.Account{
			{ID: 1, ProductCode: "gold", Currency: "USD", CreditLimit: 500000, PaymentDue: date("2026-12-15"), MinimumDue: 3500, OpenedAt: start.AddDate(-2, 0, 0)},
			{ID: 2, ProductCode: "gold", Currency: "USD", CreditLimit: 100000, OpenedAt: start.AddDate(-1, 0, 0)},
		},
		Postings: []issuer.Posting{
			{ID: 1, AccountID: 1, Amount: 12345, Kind: "purchase", Description: "Grocer", PostedAt: start.AddDate(0, 0, -20)},
			{ID: 2, AccountID: 1, Amount: 6789, Kind: "purchase", Description: "Books", PostedAt: start.AddDate(0, 0, -10)},
			{ID: 3, AccountID: 1, Amount: -5000, Kind: "payment", Description: "Thank you", PostedAt: start.AddDate(0, 0, -5)},
			{ID: 4, AccountID: 2, Amount: 100, Kind: "fee", Description: "Fee", PostedAt: start.AddDate(0, 0, -3)},
		},
	}
	for _, h := range []holder{e.alice, e.bob, e.carol} {
		p, _ := card.ParsePAN(h.pan)
		sealed, err := e.hsm.SealPAN(p)
		if err != nil {
			t.Fatal(err)
		}
		d.CardHolders = append(d.CardHolders, issuer.CardHolder{
			ID: h.cardholderID, AccountID: h.accountID, Basic: h.basicBirth == "", Name: h.name, BirthDate: date(h.birth),
			NationalIDMAC: e.hsm.MAC("national-id", []byte(h.nationalID)), Email: h.email, Phone: "+15555550100",
		})
		d.Cards = append(d.Cards, issuer.Card{
			ID: h.cardID, AccountID: h.accountID, CardHolderID: h.cardholderID, Sealed: sealed,
			Fingerprint: e.hsm.Fingerprint(p), Last: h.last, ExpMonth: 12, ExpYear: 2029,
			State: issuer.StateActive, IssuedAt: start.AddDate(-1, 0, 0),
		})
	}
	if err := e.store.LoadIssuer(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	e.dataset = d
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value (numbers kept exact).
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %q", err, r.body)
	}
	return v
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
}

// errorCode returns error.code and error.message_id of an error body.
func (r response) errorCode(t *testing.T) (code, msgID string) {
	t.Helper()
	var b errorBody
	r.decode(t, &b)
	return b.Error.Code, b.Error.MessageID
}

// req describes a test request.
type req struct {
	method, path string
	body         any // string or []byte: sent as is; anything else: marshalled
	token        string
	contentType  string // default application/json when there is a body
	header       http.Header
	remote       string // client address, default 192.0.2.10
	unknownLen   bool   // send without Content-Length
}

// do serves r, checks the invariants every response must keep (JSON, no-store, the
// documented schema for its route and status) and returns the response.
func (e *env) do(r req) response {
	e.t.Helper()
	var raw []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	var body io.Reader
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.unknownLen {
		hr.ContentLength = -1
		hr.Body = io.NopCloser(body)
	}
	hr.RemoteAddr = "192.0.2.10:4321"
	if r.remote != "" {
		hr.RemoteAddr = r.remote + ":4321"
	}
	if raw != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		if ct != "-" {
			hr.Header.Set("Content-Type", ct)
		}
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	res := response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}

	if got := res.header.Get("Content-Type"); got != "application/json; charset=utf-8" &&
		!(res.status == http.StatusOK && strings.HasSuffix(hr.URL.Path, ".csv") && got == "text/csv; charset=utf-8; header=present") &&
		!(res.status == http.StatusOK && strings.HasSuffix(hr.URL.Path, ".pdf") && got == "application/pdf") {
		e.t.Errorf("%s %s: Content-Type %q", r.method, r.path, got)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		e.t.Errorf("%s %s: Cache-Control %q", r.method, r.path, got)
	}
	if res.header.Get("Set-Cookie") != "" {
		e.t.Errorf("%s %s: the API set a cookie", r.method, r.path)
	}
	contract(e.t).check(e.t, hr, raw, res)
	issuing := r.method == "POST" && (r.path == "/api/v1/sessions" || r.path == "/api/v1/sessions/verify" ||
		r.path == "/api/v1/factors/totp" || r.path == "/api/v1/factors/recovery-codes" || strings.HasPrefix(r.path, "/api/v1/registration/") ||
		r.path == "/api/v1/recovery/password") // a reset by code hands out its token
	// Changing an expired password replaces the held session (password_test.go).
	issuing = issuing || r.method == "POST" && r.path == "/api/v1/password/change"
	// Passkey ceremonies hand out their ceremony token, and sign-in a session (passkey.go).
	issuing = issuing || r.method == "POST" && (r.path == "/api/v1/passkeys" || strings.HasPrefix(r.path, "/api/v1/sessions/passkey"))
	// A PIN challenge hands out its flow token (cards.go).
	issuing = issuing || r.method == "POST" && strings.HasSuffix(r.path, "/pin/challenge")
	e.mu.Lock()
	e.bodies = append(e.bodies, sentBody{string(res.body), issuing})
	e.mu.Unlock()
	return res
}

// remember notes a password that must never appear in a log or a response.
func (e *env) remember(s ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, s...)
}

// rememberToken notes an issued token: it may appear in the response that issued it,
// and nowhere else.
func (e *env) rememberToken(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = append(e.tokens, s)
}

// checkLeaks runs when a test ends: no card number, card code, password or token in
// any log line, and none in any response except the token in the one that issued it.
func (e *env) checkLeaks() {
	t := e.t
	e.mu.Lock()
	defer e.mu.Unlock()
	logs := e.logs.String()
	for _, s := range append(append([]string{}, e.secrets...), e.tokens...) {
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%.6s...) reached the logs", s)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if s := findString(v, e.cids); s != "" {
			t.Errorf("a card code reached the logs: %s", line)
		}
	}
	for _, b := range e.bodies {
		for _, s := range e.secrets {
			if strings.Contains(b.body, s) {
				t.Errorf("a secret (%.6s...) was echoed in a response: %s", s, b.body)
			}
		}
		if !b.issuing {
			for _, s := range e.tokens {
				if strings.Contains(b.body, s) {
					t.Errorf("a token was echoed in a response: %s", b.body)
				}
			}
		}
		var v any
		if json.Unmarshal([]byte(b.body), &v) == nil && findString(v, e.cids) != "" {
			t.Errorf("a card code was echoed in a response: %s", b.body)
		}
	}
}

// findString returns the first string value in v that equals one of want.
func findString(v any, want []string) string {
	switch v := v.(type) {
	case string:
		if slices.Contains(want, v) {
			return v
		}
	case map[string]any:
		for _, x := range v {
			if s := findString(x, want); s != "" {
				return s
			}
		}
	case []any:
		for _, x := range v {
			if s := findString(x, want); s != "" {
				return s
			}
		}
	}
	return ""
}

// cardRequest is a's registration details as the app sends them.
func (h holder) cardRequest() map[string]any {
	m := map[string]any{
		"card_number": h.pan, "cid": h.cid, "expiry": h.expiry, "name": h.name,
		"birth_date": h.birth, "national_id_last4": h.nationalID,
	}
	if h.basicBirth != "" {
		m["basic_birth_date"] = h.basicBirth
	}
	return m
}

func completeRequest(flow, userID, password, client string) map[string]any {
	return map[string]any{
		"flow_token": flow, "user_id": userID, "password": password, "password_confirm": password,
		"security_questions": []map[string]string{
			{"question_id": "first_pet", "answer": "Rex the dog"},
			{"question_id": "birth_city", "answer": "Springfield"},
			{"question_id": "first_car", "answer": "A blue Volvo"},
		},
		"client": client, "device_id": testDevice,
	}
}

// testDevice is the app installation the tests register and sign in from: the device
// that registers is trusted (SPEC ID7), so signing in from it is not stepped up.
const testDevice = "api-test-device-0001"

type sessionCreated struct {
	Token   string      `json:"token"`
	Session sessionJSON `json:"session"`
}

// register takes h through both registration steps and returns the new session.
func (e *env) register(h holder, userID, password string) sessionCreated {
	e.t.Helper()
	e.remember(password)
	res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: h.cardRequest()})
	if res.status != http.StatusCreated {
		e.t.Fatalf("registration/card for %s: %d %s", h.name, res.status, res.body)
	}
	var card registrationCardResponse
	res.decode(e.t, &card)
	e.rememberToken(card.FlowToken)
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: completeRequest(card.FlowToken, userID, password, "app")})
	if res.status != http.StatusCreated {
		e.t.Fatalf("registration/complete for %s: %d %s", h.name, res.status, res.body)
	}
	var s sessionCreated
	res.decode(e.t, &s)
	e.rememberToken(s.Token)
	return s
}

// signIn signs in and returns the new session; it fails the test on anything but 201.
func (e *env) signIn(userID, password, client string) sessionCreated {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{"user_id": userID, "password": password, "client": client, "device_id": testDevice}})
	if res.status != http.StatusCreated {
		e.t.Fatalf("sign-in as %s: %d %s", userID, res.status, res.body)
	}
	var s sessionCreated
	res.decode(e.t, &s)
	e.rememberToken(s.Token)
	return s
}
