package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/sqlstore"
)

const (
	alicePassword = "Harbour-Lights-2026"
	carolPassword = "Quiet Meadow 1990!"
)

// TestMemberJourney follows a member from registration to sign-out: both registration
// steps, the live password check, the account figures against the fixture, sessions
// and their revocation, the security history, and logout killing the token.
func TestMemberJourney(t *testing.T) {
	e := newEnv(t)
	a := e.alice

	// Step 1: the card. Only the last digits come back.
	res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: a.cardRequest()})
	if res.status != http.StatusCreated {
		t.Fatalf("registration/card: %d %s", res.status, res.body)
	}
	var card registrationCardResponse
	res.decode(t, &card)
	e.rememberToken(card.FlowToken)
	if card.CardLast != a.last || len(card.FlowToken) != 43 {
		t.Errorf("registration/card = last %q, token length %d; want %q, 43", card.CardLast, len(card.FlowToken), a.last)
	}

	// The questions to choose from.
	res = e.do(req{method: "GET", path: "/api/v1/registration/questions", header: http.Header{"Accept-Language": {"sv"}}})
	var qs struct {
		Required  int            `json:"required"`
		Questions []questionJSON `json:"questions"`
	}
	res.decode(t, &qs)
	if qs.Required != 3 || len(qs.Questions) != 10 || qs.Questions[0] != (questionJSON{"first_pet", "Vad hette ditt första husdjur?"}) {
		t.Errorf("questions = %+v", qs)
	}

	// Live feedback on a weak password.
	res = e.do(req{method: "POST", path: "/api/v1/password/check", body: map[string]string{"user_id": "alice.example", "password": "xalice.example"}})
	var check struct {
		Rules []ruleJSON `json:"rules"`
	}
	res.decode(t, &check)
	wantRules := []ruleJSON{
		{"length", true, "At least 12 characters"},
		{"maxlength", true, "At most 256 characters"},
		{"upper", false, "An upper-case letter"},
		{"lower", true, "A lower-case letter"},
		{"digitsymbol", true, "A digit or a symbol"},
		{"firstchar", true, "Does not start with a symbol"},
		{"userid", false, "Does not contain your User ID"},
	}
	if diff := cmp.Diff(wantRules, check.Rules); diff != "" {
		t.Errorf("password check (-want +got):\n%s", diff)
	}

	// Step 2 with mistakes: every problem comes back under the API's field names.
	bad := completeRequest(card.FlowToken, "alice.example", alicePassword, "app")
	bad["password_confirm"] = "Harbour-Lights-2027"
	bad["security_questions"] = []map[string]string{
		{"question_id": "first_pet", "answer": "ok"},
		{"question_id": "birth_city", "answer": "Springfield"},
		{"question_id": "first_car", "answer": "A blue Volvo"},
	}
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: bad})
	var eb errorBody
	res.decode(t, &eb)
	wantFields := []fieldError{
		{"password_confirm", "pw.mismatch", "The passwords do not match."},
		{"security_questions[0].answer", "answer.short", "Answers must be at least 3 characters."},
	}
	if res.status != http.StatusUnprocessableEntity || eb.Error.Code != "invalid" {
		t.Errorf("complete with mistakes: %d %s", res.status, res.body)
	}
	if diff := cmp.Diff(wantFields, eb.Error.Fields); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
	// A missing client is refused before anything is created.
	noClient := completeRequest(card.FlowToken, "alice.example", alicePassword, "")
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: noClient})
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("complete without client: %d %s", res.status, res.body)
	}

	// Step 2 done right: registered and signed in on the app.
	e.remember(alicePassword)
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: completeRequest(card.FlowToken, "alice.example", alicePassword, "app")})
	if res.status != http.StatusCreated {
		t.Fatalf("registration/complete: %d %s", res.status, res.body)
	}
	var reg sessionCreated
	res.decode(t, &reg)
	e.rememberToken(reg.Token)
	wantSession := sessionJSON{ID: reg.Session.ID, Client: "app", CreatedAt: start, ExpiresAt: start.Add(12 * time.Hour), IdleTimeoutSeconds: 300}
	if diff := cmp.Diff(wantSession, reg.Session); diff != "" || len(reg.Token) != 43 {
		t.Errorf("registration session (-want +got):\n%s", diff)
	}

	// The flow is used up, and the card cannot be registered twice.
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: completeRequest(card.FlowToken, "alice.other", alicePassword, "app")})
	if code, msg := res.errorCode(t); res.status != http.StatusGone || code != "expired" || msg != "register.flowexpired" {
		t.Errorf("reused flow: %d %s", res.status, res.body)
	}
	res = e.do(req{method: "POST", path: "/api/v1/registration/card", body: a.cardRequest()})
	if code, msg := res.errorCode(t); res.status != http.StatusConflict || code != "conflict" || msg != "register.already" {
		t.Errorf("second registration: %d %s", res.status, res.body)
	}

	// Who am I.
	res = e.do(req{method: "GET", path: "/api/v1/me", token: reg.Token})
	var me meResponse
	res.decode(t, &me)
	if diff := cmp.Diff(meResponse{UserID: "alice.example", Name: "Alice Example", MaskedEmail: "a***@example.com"}, me); diff != "" {
		t.Errorf("me (-want +got):\n%s", diff)
	}

	// The accounts, figure by figure against the fixture.
	res = e.do(req{method: "GET", path: "/api/v1/accounts", token: reg.Token})
	var accts struct {
		Accounts []accountJSON `json:"accounts"`
	}
	res.decode(t, &accts)
	var balance int64
	for _, p := range e.dataset.Postings {
		if p.AccountID == 1 {
			balance += p.Amount
		}
	}
	if balance != 14134 {
		t.Fatalf("fixture balance %d, want 14134", balance)
	}
	wantAccounts := []accountJSON{{
		AccountID: 1, Product: "Gold Card", Currency: "USD", Balance: balance, AvailableCredit: 500000 - balance,
		CreditLimit:   500000,     // nothing due before the first statement (statements_test.go)
		PointsBalance: new(int64), // no points before the first sweep (rewards_test.go)
		Cards: []cardJSON{
			{CardID: 11, LastDigits: e.alice.last, HolderName: "Alice Example", Basic: true, State: "active", Expiry: "12/29"},
			{CardID: 12, LastDigits: e.bob.last, HolderName: "Bob Example", Basic: false, State: "active", Expiry: "12/29"},
		},
	}}
	if diff := cmp.Diff(wantAccounts, accts.Accounts); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}

	// A second session, in a browser, with the longer idle timeout.
	e.clock.Add(time.Minute)
	web := e.signIn("ALICE.example", alicePassword, "browser")
	if web.Session.Client != "browser" || web.Session.IdleTimeoutSeconds != 900 {
		t.Errorf("browser session = %+v", web.Session)
	}

	// Both are listed, the caller's marked current.
	res = e.do(req{method: "GET", path: "/api/v1/sessions", token: reg.Token})
	var list struct {
		Sessions []sessionListItem `json:"sessions"`
	}
	res.decode(t, &list)
	type brief struct {
		ID      int64
		Client  string
		Current bool
	}
	var got []brief
	for _, s := range list.Sessions {
		got = append(got, brief{s.ID, s.Client, s.Current})
	}
	want := []brief{{web.Session.ID, "browser", false}, {reg.Session.ID, "app", true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}

	// Sign out everywhere else: the browser's token dies.
	res = e.do(req{method: "POST", path: "/api/v1/sessions/revoke-others", token: reg.Token})
	if string(res.body) != "{\"revoked\":1}\n" {
		t.Errorf("revoke-others: %d %s", res.status, res.body)
	}
	res = e.do(req{method: "GET", path: "/api/v1/me", token: web.Token})
	if res.status != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") != `Bearer realm="cardportal", error="invalid_token"` {
		t.Errorf("revoked token: %d %q %s", res.status, res.header.Get("WWW-Authenticate"), res.body)
	}

	// The security history, newest first, translated.
	res = e.do(req{method: "GET", path: "/api/v1/security/events?limit=3", token: reg.Token, header: http.Header{"Accept-Language": {"es-ES,es;q=0.9"}}})
	var evs struct {
		Events []eventJSON `json:"events"`
	}
	res.decode(t, &evs)
	var kinds []string
	for _, ev := range evs.Events {
		kinds = append(kinds, ev.Kind+"="+ev.Message)
	}
	// The second registration attempt on her card is hers to see too.
	wantKinds := []string{"session.revoked=Sesión finalizada", "signin.ok=Sesión iniciada", "register.fail=Intento de registro fallido"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, limit := range []string{"0", "101", "x", ""} {
		res = e.do(req{method: "GET", path: "/api/v1/security/events?limit=" + limit, token: reg.Token})
		if code, _ := res.errorCode(t); res.status != http.StatusUnprocessableEntity || code != "invalid" {
			t.Errorf("limit=%q: %d %s", limit, res.status, res.body)
		}
	}
	res = e.do(req{method: "GET", path: "/api/v1/security/events", token: reg.Token})
	res.decode(t, &evs)
	if len(evs.Events) != 4 || evs.Events[3].Kind != "registered" {
		t.Errorf("default events: %+v, want all 4", evs.Events)
	}

	// Logout ends the session on the server.
	res = e.do(req{method: "DELETE", path: "/api/v1/sessions/current", token: reg.Token})
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Errorf("logout: %d %q", res.status, res.body)
	}
	res = e.do(req{method: "GET", path: "/api/v1/me", token: reg.Token})
	if code, msg := res.errorCode(t); res.status != http.StatusUnauthorized || code != "unauthenticated" || msg != "signin.expired" {
		t.Errorf("after logout: %d %s", res.status, res.body)
	}
}

// TestAdditionalMember checks that an additional card member registers with the basic
// member's birth date and sees only their own card.
func TestAdditionalMember(t *testing.T) {
	e := newEnv(t)
	noBasic := e.bob.cardRequest()
	delete(noBasic, "basic_birth_date")
	res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: noBasic})
	if code, msg := res.errorCode(t); res.status != http.StatusNotFound || code != "not_found" || msg != "register.nomatch" {
		t.Errorf("without the basic member's birth date: %d %s", res.status, res.body)
	}
	s := e.register(e.bob, "bob-example", "Paper Boats 1985")
	res = e.do(req{method: "GET", path: "/api/v1/accounts", token: s.Token})
	var accts struct {
		Accounts []accountJSON `json:"accounts"`
	}
	res.decode(t, &accts)
	if len(accts.Accounts) != 1 || len(accts.Accounts[0].Cards) != 1 || accts.Accounts[0].Cards[0].CardID != e.bob.cardID {
		t.Errorf("additional member's accounts: %s", res.body)
	}
}

// TestRegistrationMismatch checks that a wrong detail fails without saying which, that
// malformed details are reported per field under the API's names, and that repeated
// attempts on one card are throttled.
func TestRegistrationMismatch(t *testing.T) {
	e := newEnv(t)
	var bodies []map[string]any
	for _, field := range []string{"cid", "name", "birth_date", "national_id_last4", "expiry"} {
		in := e.alice.cardRequest()
		switch field {
		case "cid":
			in[field] = "0000"
			if e.alice.cid == "0000" {
				in[field] = "1111"
			}
		case "name":
			in[field] = "Mallory Example"
		case "birth_date":
			in[field] = "1980-04-03"
		case "national_id_last4":
			in[field] = "9999"
		case "expiry":
			in[field] = "11/29"
		}
		res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: in, remote: "198.51.100.1"})
		if res.status != http.StatusNotFound {
			t.Errorf("wrong %s: %d %s", field, res.status, res.body)
		}
		b := res.json(t)
		delete(b["error"].(map[string]any), "request_id")
		bodies = append(bodies, b)
	}
	for i := 1; i < len(bodies); i++ {
		if diff := cmp.Diff(bodies[0], bodies[i]); diff != "" {
			t.Errorf("mismatch answers differ by field (-first +other):\n%s", diff)
		}
	}
	// Five attempts on the card so far; the sixth is throttled.
	res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: e.alice.cardRequest(), remote: "198.51.100.2"})
	var eb errorBody
	res.decode(t, &eb)
	if res.status != http.StatusTooManyRequests || eb.Error.Code != "too_many_requests" || eb.Error.RetryAfterSeconds == nil || res.header.Get("Retry-After") == "" {
		t.Errorf("sixth attempt: %d %s", res.status, res.body)
	}

	in := e.carol.cardRequest()
	in["card_number"] = "1234"
	in["national_id_last4"] = "12-4"
	in["birth_date"] = "30/01/1990"
	res = e.do(req{method: "POST", path: "/api/v1/registration/card", body: in})
	res.decode(t, &eb)
	var fields []string
	for _, f := range eb.Error.Fields {
		fields = append(fields, f.Field+"="+f.MessageID)
	}
	wantFields := []string{"card_number=error.cardnumber", "birth_date=error.date", "national_id_last4=error.ssn4"}
	if diff := cmp.Diff(wantFields, fields); diff != "" || res.status != http.StatusUnprocessableEntity {
		t.Errorf("malformed details: %d (-want +got):\n%s", res.status, diff)
	}
}

// TestRegistrationFlowExpires checks that a flow older than its life is gone.
func TestRegistrationFlowExpires(t *testing.T) {
	e := newEnv(t)
	res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: e.carol.cardRequest()})
	var card registrationCardResponse
	res.decode(t, &card)
	e.rememberToken(card.FlowToken)
	e.clock.Add(21 * time.Minute)
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: completeRequest(card.FlowToken, "carol.other", carolPassword, "app")})
	if code, _ := res.errorCode(t); res.status != http.StatusGone || code != "expired" {
		t.Errorf("expired flow: %d %s", res.status, res.body)
	}
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: completeRequest("not-a-token", "carol.other", carolPassword, "app")})
	if res.status != http.StatusGone {
		t.Errorf("made-up flow: %d %s", res.status, res.body)
	}
}

// TestLockout checks SPEC ID6 through the API: the third wrong password locks the
// account, the lock's end is given as a time, a header and in the message, the right
// password is refused while locked, and works again after the lock.
func TestLockout(t *testing.T) {
	e := newEnv(t)
	e.register(e.carol, "carol.other", carolPassword)
	wrong := map[string]string{"user_id": "carol.other", "password": "Not-The-Password-1", "client": "app"}
	e.remember(wrong["password"])
	for i := 1; i <= 2; i++ {
		res := e.do(req{method: "POST", path: "/api/v1/sessions", body: wrong})
		if code, msg := res.errorCode(t); res.status != http.StatusUnauthorized || code != "unauthenticated" || msg != "signin.invalid" {
			t.Errorf("wrong password %d: %d %s", i, res.status, res.body)
		}
	}
	res := e.do(req{method: "POST", path: "/api/v1/sessions", body: wrong})
	var eb errorBody
	res.decode(t, &eb)
	until := start.Add(30 * time.Minute)
	want := errorDetail{
		Code: "locked", MessageID: "signin.locked",
		Message:           "Your account is locked after too many incorrect attempts. Try again after Nov 22, 2026, 10:30 AM UTC, reset your password, or call us at 1-800-555-0199.",
		Fields:            []fieldError{},
		RetryAfterSeconds: ptr(1801),
		LockedUntil:       until.Format(time.RFC3339),
		RequestID:         eb.Error.RequestID,
	}
	if diff := cmp.Diff(want, eb.Error); diff != "" || res.status != http.StatusLocked {
		t.Errorf("third wrong password: %d (-want +got):\n%s", res.status, diff)
	}
	if got := res.header.Get("Retry-After"); got != "1801" {
		t.Errorf("Retry-After = %q", got)
	}
	if eb.Error.RequestID == "" || eb.Error.RequestID != res.header.Get("X-Request-ID") {
		t.Errorf("request_id %q, X-Request-ID %q", eb.Error.RequestID, res.header.Get("X-Request-ID"))
	}

	// Locked: even the right password is refused, in Spanish if asked.
	res = e.do(req{method: "POST", path: "/api/v1/sessions", header: http.Header{"Accept-Language": {"es"}},
		body: map[string]string{"user_id": "carol.other", "password": carolPassword, "client": "app"}})
	res.decode(t, &eb)
	if res.status != http.StatusLocked || !strings.Contains(eb.Error.Message, "+34 900 555 019") || !strings.Contains(eb.Error.Message, "22 nov 2026, 10:30 UTC") {
		t.Errorf("right password while locked: %d %s", res.status, res.body)
	}

	e.clock.Add(31 * time.Minute)
	e.signIn("carol.other", carolPassword, "app")
}

// TestUnknownUserLooksLikeWrongPassword checks SPEC ID5: the answer for a User ID
// that does not exist is the same as for a wrong password, byte for byte but the
// request ID.
func TestUnknownUserLooksLikeWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.register(e.carol, "carol.other", carolPassword)
	attempt := func(userID string) (map[string]any, http.Header) {
		res := e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{"user_id": userID, "password": "Wrong-Password-99", "client": "app"}})
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", userID, res.status, res.body)
		}
		b := res.json(t)
		delete(b["error"].(map[string]any), "request_id")
		h := res.header.Clone()
		h.Del("X-Request-ID")
		return b, h
	}
	known, knownH := attempt("carol.other")
	unknown, unknownH := attempt("nobody.here")
	if diff := cmp.Diff(known, unknown); diff != "" {
		t.Errorf("unknown User ID answered differently (-wrong password +unknown user):\n%s", diff)
	}
	if diff := cmp.Diff(knownH, unknownH); diff != "" {
		t.Errorf("headers differ (-wrong password +unknown user):\n%s", diff)
	}
}

// TestIdleTimeouts checks that the client chosen at sign-in decides the idle timeout
// (SPEC ID10) and that activity keeps a session alive.
func TestIdleTimeouts(t *testing.T) {
	e := newEnv(t)
	e.register(e.carol, "carol.other", carolPassword)
	app := e.signIn("carol.other", carolPassword, "app")
	web := e.signIn("carol.other", carolPassword, "browser")
	me := func(tok string) int { return e.do(req{method: "GET", path: "/api/v1/me", token: tok}).status }

	e.clock.Add(4 * time.Minute)
	if s := me(app.Token); s != http.StatusOK {
		t.Errorf("app after 4 idle minutes: %d", s)
	}
	e.clock.Add(4 * time.Minute) // 4 minutes since the app's last request
	if s := me(app.Token); s != http.StatusOK {
		t.Errorf("app 4 minutes after its last request: %d", s)
	}
	e.clock.Add(5*time.Minute + time.Second)
	if s := me(app.Token); s != http.StatusUnauthorized {
		t.Errorf("app after 5 idle minutes: %d", s)
	}
	if s := me(web.Token); s != http.StatusOK { // 13 minutes idle
		t.Errorf("browser after 13 idle minutes: %d", s)
	}
	e.clock.Add(15 * time.Minute)
	if s := me(web.Token); s != http.StatusUnauthorized {
		t.Errorf("browser after 15 idle minutes: %d", s)
	}

	for _, client := range []string{"", "web", "APP", "tv"} {
		res := e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{"user_id": "carol.other", "password": carolPassword, "client": client}})
		var eb errorBody
		res.decode(t, &eb)
		if res.status != http.StatusUnprocessableEntity || len(eb.Error.Fields) != 1 || eb.Error.Fields[0].Field != "client" {
			t.Errorf("client %q: %d %s", client, res.status, res.body)
		}
	}
}

// TestOtherMembersSession checks that a member cannot end, or learn of, another
// member's session.
func TestOtherMembersSession(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.example", alicePassword)
	carol := e.register(e.carol, "carol.other", carolPassword)

	path := "/api/v1/sessions/" + itoa(carol.Session.ID)
	res := e.do(req{method: "DELETE", path: path, token: alice.Token})
	other := res.json(t)
	delete(other["error"].(map[string]any), "request_id")
	res2 := e.do(req{method: "DELETE", path: "/api/v1/sessions/999999", token: alice.Token})
	none := res2.json(t)
	delete(none["error"].(map[string]any), "request_id")
	if res.status != http.StatusNotFound || res2.status != http.StatusNotFound {
		t.Errorf("other member's session: %d, no such session: %d", res.status, res2.status)
	}
	if diff := cmp.Diff(none, other); diff != "" {
		t.Errorf("another member's session answers differently from none (-none +other):\n%s", diff)
	}
	for _, id := range []string{"abc", "-1", "0", "99999999999999999999"} {
		if res := e.do(req{method: "DELETE", path: "/api/v1/sessions/" + id, token: alice.Token}); res.status != http.StatusNotFound {
			t.Errorf("DELETE /sessions/%s: %d", id, res.status)
		}
	}
	if s := e.do(req{method: "GET", path: "/api/v1/me", token: carol.Token}).status; s != http.StatusOK {
		t.Errorf("carol's session was harmed: %d", s)
	}

	// Her own other session she can end by id.
	second := e.signIn("alice.example", alicePassword, "browser")
	res = e.do(req{method: "DELETE", path: "/api/v1/sessions/" + itoa(second.Session.ID), token: alice.Token})
	if res.status != http.StatusNoContent {
		t.Errorf("own session: %d %s", res.status, res.body)
	}
	if s := e.do(req{method: "GET", path: "/api/v1/me", token: second.Token}).status; s != http.StatusUnauthorized {
		t.Errorf("revoked session still works: %d", s)
	}
}

// TestBearerOnly checks that only a well-formed Authorization: Bearer header
// authenticates: no cookie, no query parameter, no other scheme.
func TestBearerOnly(t *testing.T) {
	e := newEnv(t)
	s := e.register(e.carol, "carol.other", carolPassword)
	tests := []struct {
		name      string
		header    http.Header
		path      string
		wantError string // WWW-Authenticate
	}{
		{"none", nil, "/api/v1/me", `Bearer realm="cardportal"`},
		{"cookie", http.Header{"Cookie": {"session=" + s.Token + "; token=" + s.Token}}, "/api/v1/me", `Bearer realm="cardportal"`},
		{"query", nil, "/api/v1/me?access_token=" + s.Token, `Bearer realm="cardportal"`},
		{"basic scheme", http.Header{"Authorization": {"Basic " + s.Token}}, "/api/v1/me", `Bearer realm="cardportal"`},
		{"no token", http.Header{"Authorization": {"Bearer"}}, "/api/v1/me", `Bearer realm="cardportal"`},
		{"two headers", http.Header{"Authorization": {"Bearer " + s.Token, "Bearer " + s.Token}}, "/api/v1/me", `Bearer realm="cardportal"`},
		{"two tokens", http.Header{"Authorization": {"Bearer " + s.Token + " " + s.Token}}, "/api/v1/me", `Bearer realm="cardportal"`},
		{"wrong token", http.Header{"Authorization": {"Bearer " + strings.Repeat("A", 43)}}, "/api/v1/me", `Bearer realm="cardportal", error="invalid_token"`},
		{"garbage token", http.Header{"Authorization": {"Bearer <script>'--"}}, "/api/v1/accounts", `Bearer realm="cardportal", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(req{method: "GET", path: tt.path, header: tt.header})
			if res.status != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") != tt.wantError {
				t.Errorf("%d %q %s", res.status, res.header.Get("WWW-Authenticate"), res.body)
			}
		})
	}
	res := e.do(req{method: "GET", path: "/api/v1/me", header: http.Header{"Authorization": {"bearer " + s.Token}}})
	if res.status != http.StatusOK {
		t.Errorf("lower-case scheme: %d", res.status)
	}
}

// TestRequestRules checks the transport rules every JSON body goes through.
func TestRequestRules(t *testing.T) {
	e := newEnv(t)
	okBody := `{"user_id":"someone","password":"Pass"}`
	tests := []struct {
		name        string
		body        string
		contentType string
		unknownLen  bool
		status      int
		code        string
		fields      []string
	}{
		{"ok", okBody, "", false, 200, "", nil},
		{"charset utf-8", okBody, "application/json; charset=UTF-8", false, 200, "", nil},
		{"text/plain", okBody, "text/plain", false, 415, "unsupported_media_type", nil},
		{"form", "user_id=x", "application/x-www-form-urlencoded", false, 415, "unsupported_media_type", nil},
		{"no content type", okBody, "-", false, 415, "unsupported_media_type", nil},
		{"latin1", okBody, "application/json; charset=latin1", false, 415, "unsupported_media_type", nil},
		{"json-ish", okBody, "application/jsonp", false, 415, "unsupported_media_type", nil},
		{"empty", "", "", false, 400, "bad_request", nil},
		{"array", `[{"password":"x"}]`, "", false, 400, "bad_request", nil},
		{"string", `"password"`, "", false, 400, "bad_request", nil},
		{"null", `null`, "", false, 400, "bad_request", nil},
		{"number", `42`, "", false, 400, "bad_request", nil},
		{"malformed", `{"password":`, "", false, 400, "bad_request", nil},
		{"trailing object", okBody + `{}`, "", false, 400, "bad_request", nil},
		{"trailing garbage", okBody + ` x`, "", false, 400, "bad_request", nil},
		{"trailing whitespace", okBody + " \n", "", false, 200, "", nil},
		{"unknown field", `{"password":"x","admin":true}`, "", false, 400, "bad_request", nil},
		{"duplicate field", `{"password":"x","password":"y"}`, "", false, 400, "bad_request", nil},
		{"deep", `{"password":"x","a":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`, "", false, 400, "bad_request", nil},
		{"too large", `{"password":"` + strings.Repeat("a", maxBody) + `"}`, "", false, 413, "too_large", nil},
		{"too large, no length", `{"password":"` + strings.Repeat("a", maxBody) + `"}`, "", true, 413, "too_large", nil},
		{"wrong type", `{"password":42}`, "", false, 422, "invalid", []string{"password=error.field.invalid"}},
		{"invalid utf-8", "{\"password\":\"ab\xff\xfecd\"}", "", false, 422, "invalid", []string{"password=error.field.invalidchars"}},
		{"lone surrogate", `{"password":"ab\ud800cd"}`, "", false, 422, "invalid", []string{"password=error.field.invalidchars"}},
		{"control char", `{"user_id":"a\u0000b","password":"x\u001b[31m"}`, "", false, 422, "invalid", []string{"user_id=error.field.invalidchars", "password=error.field.invalidchars"}},
		{"C1 control", `{"password":"a\u0085b"}`, "", false, 422, "invalid", []string{"password=error.field.invalidchars"}},
		{"newline", `{"password":"a\nb"}`, "", false, 422, "invalid", []string{"password=error.field.invalidchars"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(req{method: "POST", path: "/api/v1/password/check", body: tt.body, contentType: tt.contentType, unknownLen: tt.unknownLen})
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.code == "" {
				return
			}
			var eb errorBody
			res.decode(t, &eb)
			var fields []string
			for _, f := range eb.Error.Fields {
				fields = append(fields, f.Field+"="+f.MessageID)
			}
			if eb.Error.Code != tt.code || !cmp.Equal(fields, tt.fields) {
				t.Errorf("code %q fields %v, want %q %v", eb.Error.Code, fields, tt.code, tt.fields)
			}
		})
	}

	// Nested strings are named by path.
	body := completeRequest("x", "carol.other", carolPassword, "app")
	body["security_questions"].([]map[string]string)[1]["answer"] = "Spring\u0007field"
	res := e.do(req{method: "POST", path: "/api/v1/registration/complete", body: body})
	var eb errorBody
	res.decode(t, &eb)
	if len(eb.Error.Fields) != 1 || eb.Error.Fields[0].Field != "security_questions[1].answer" {
		t.Errorf("nested control character: %d %s", res.status, res.body)
	}
	// Sign-in needs its fields.
	res = e.do(req{method: "POST", path: "/api/v1/sessions", body: `{"client":"app"}`})
	res.decode(t, &eb)
	if res.status != http.StatusUnprocessableEntity || len(eb.Error.Fields) != 2 {
		t.Errorf("empty sign-in: %d %s", res.status, res.body)
	}
}

// TestInjection sends SQL and HTML injection strings in every field of every request.
// Each must be refused as invalid, fail like any wrong value, or be stored and shown
// back harmlessly, and never cause a server error; the store must be intact after.
func TestInjection(t *testing.T) {
	// Throttling off, so that every attack reaches the store rather than the throttle.
	e := newEnv(t, withIdentity(func(c *identity.Config) {
		c.RegisterPerSource, c.RegisterPerCard, c.SignInPerSource = 1000, 1000, 1000
	}))
	attacks := []string{
		`' OR '1'='1`,
		`'; DROP TABLE members; --`,
		`1); DELETE FROM sessions WHERE (1=1`,
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`{{.}}{time}{phone}`,
		`%s%n%x`,
		`../../etc/passwd`,
	}
	fields := []string{"card_number", "cid", "expiry", "name", "birth_date", "national_id_last4", "basic_birth_date"}
	for _, a := range attacks {
		for _, f := range fields {
			in := e.alice.cardRequest()
			in[f] = a
			res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: in, remote: "203.0.113.7"})
			if res.status >= 500 || res.status == http.StatusCreated {
				t.Errorf("registration/card %s=%q: %d %s", f, a, res.status, res.body)
			}
			if strings.Contains(string(res.body), "<") {
				t.Errorf("registration/card %s=%q: raw '<' in response %s", f, a, res.body)
			}
		}
		res := e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{"user_id": a, "password": a, "client": "app"}, remote: "203.0.113.8"})
		if res.status != http.StatusUnauthorized && res.status != http.StatusLocked {
			t.Errorf("sign-in with %q: %d %s", a, res.status, res.body)
		}
		res = e.do(req{method: "POST", path: "/api/v1/password/check", body: map[string]string{"user_id": a, "password": a}})
		if res.status != http.StatusOK {
			t.Errorf("password check with %q: %d", a, res.status)
		}
	}

	// Registration: a hostile User ID is refused; hostile answers and a hostile
	// password are hashed and never shown; a hostile User-Agent is stored and shown
	// back only as JSON-escaped text.
	res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: e.alice.cardRequest()})
	var card registrationCardResponse
	res.decode(t, &card)
	e.rememberToken(card.FlowToken)
	in := completeRequest(card.FlowToken, `x'); DROP TABLE members;--`, alicePassword, "app")
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: in})
	if code, _ := res.errorCode(t); res.status != http.StatusUnprocessableEntity || code != "invalid" {
		t.Errorf("hostile User ID: %d %s", res.status, res.body)
	}
	hostilePassword := `Robert'); DROP TABLE members;-- <b>`
	e.remember(hostilePassword)
	in = completeRequest(card.FlowToken, "alice.example", hostilePassword, "app")
	in["security_questions"] = []map[string]string{
		{"question_id": "first_pet", "answer": `<script>alert(1)</script>`},
		{"question_id": "birth_city", "answer": `' OR 1=1 --`},
		{"question_id": "first_car", "answer": `"; DELETE FROM members; --`},
	}
	hostileUA := `<script>alert("ua")</script>'; DROP TABLE sessions; --`
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: in, header: http.Header{"User-Agent": {hostileUA}}})
	if res.status != http.StatusCreated {
		t.Fatalf("registration with hostile answers: %d %s", res.status, res.body)
	}
	var s sessionCreated
	res.decode(t, &s)
	e.rememberToken(s.Token)
	res = e.do(req{method: "GET", path: "/api/v1/sessions", token: s.Token})
	if strings.Contains(string(res.body), "<") {
		t.Errorf("raw '<' in the session list: %s", res.body)
	}
	var list struct {
		Sessions []sessionListItem `json:"sessions"`
	}
	res.decode(t, &list)
	if len(list.Sessions) != 1 || list.Sessions[0].UserAgent != hostileUA {
		t.Errorf("session list: %s", res.body)
	}
	// The store is intact: the hostile password signs in, the other members' data is there.
	e.signIn("alice.example", hostilePassword, "app")
	res = e.do(req{method: "GET", path: "/api/v1/accounts", token: s.Token})
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"balance":14134`) {
		t.Errorf("accounts after the attacks: %d %s", res.status, res.body)
	}
	e.register(e.carol, "carol.other", carolPassword)
}

// TestUnrouted checks that unknown paths and methods get JSON errors too.
func TestUnrouted(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/nothing", 404, ""},
		{"GET", "/api/v2/me", 404, ""},
		{"PUT", "/api/v1/sessions", 405, "GET, HEAD, POST"},
		{"GET", "/api/v1/sessions/5", 405, "DELETE"},
		{"POST", "/api/v1/me", 405, "GET, HEAD"},
		{"OPTIONS", "/api/v1/accounts", 405, "GET, HEAD"},
	}
	for _, tt := range tests {
		res := e.do(req{method: tt.method, path: tt.path})
		if res.status != tt.status || res.header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q", tt.method, tt.path, res.status, res.header.Get("Allow"), tt.status, tt.allow)
		}
	}
}

// failingAccounts is an account store whose every read fails with a detailed error,
// the kind of text that must stay in the logs.
type failingAccounts struct{}

func (failingAccounts) Summaries(context.Context, int64) ([]account.Summary, error) {
	return nil, errors.New("disk on fire at /var/lib/cardportal/secret.db")
}

// TestInternalErrorIsBare checks that an unexpected error reaches the client as the
// generic message with a request ID, and the logs with the details under that ID.
func TestInternalErrorIsBare(t *testing.T) {
	e := newEnv(t, withAccounts(func(*sqlstore.Store) account.Store { return failingAccounts{} }))
	s := e.register(e.carol, "carol.other", carolPassword)
	res := e.do(req{method: "GET", path: "/api/v1/accounts", token: s.Token, header: http.Header{"Accept-Language": {"sv"}}})
	var eb errorBody
	res.decode(t, &eb)
	want := errorDetail{Code: "internal", MessageID: "error.internal", Message: "Något gick fel hos oss. Försök igen.", Fields: []fieldError{}, RequestID: eb.Error.RequestID}
	if diff := cmp.Diff(want, eb.Error); diff != "" || res.status != http.StatusInternalServerError {
		t.Errorf("internal error: %d (-want +got):\n%s", res.status, diff)
	}
	if strings.Contains(string(res.body), "disk") {
		t.Errorf("the cause leaked: %s", res.body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "disk on fire") || !strings.Contains(logs, `"request_id":"`+eb.Error.RequestID+`"`) {
		t.Errorf("logs lack the cause or the request ID:\n%s", logs)
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestEveryRouteGuarded goes through the route table: every authenticated route
// refuses a request without a token, and every route documented with a request body
// applies the media type, syntax and size rules.
func TestEveryRouteGuarded(t *testing.T) {
	e := newEnv(t)
	ops := contract(t).operations()
	for _, rt := range routes {
		path := strings.ReplaceAll(rt.path, "{id}", "1")
		if rt.auth {
			res := e.do(req{method: rt.method, path: path})
			if code, _ := res.errorCode(t); res.status != http.StatusUnauthorized || code != "unauthenticated" {
				t.Errorf("%s without a token: %d %s", rt.pattern(), res.status, res.body)
			}
		}
		if _, ok := ops[rt.pattern()]["requestBody"]; !ok {
			continue
		}
		// Routes for members get a live session, so the body rules are what refuses.
		token := ""
		if rt.auth {
			token = e.guardToken()
		}
		for _, tt := range []struct {
			body, contentType string
			status            int
		}{
			{`{}`, "text/plain; charset=utf-8", http.StatusUnsupportedMediaType},
			{`{} {}`, "", http.StatusBadRequest},
			{`{"x":1}`, "", http.StatusBadRequest},
			{`{"card_number":"` + strings.Repeat("4", 20000) + `"}`, "", http.StatusRequestEntityTooLarge},
		} {
			res := e.do(req{method: rt.method, path: path, body: tt.body, contentType: tt.contentType, token: token})
			if res.status != tt.status {
				t.Errorf("%s with %.20q as %q: %d, want %d", rt.pattern(), tt.body, tt.contentType, res.status, tt.status)
			}
		}
	}
}

// TestRegistrationRace checks that two registration flows for one card cannot both
// complete: the second gets a conflict and creates nothing.
func TestRegistrationRace(t *testing.T) {
	e := newEnv(t)
	flow := func() string {
		res := e.do(req{method: "POST", path: "/api/v1/registration/card", body: e.carol.cardRequest()})
		var card registrationCardResponse
		res.decode(t, &card)
		e.rememberToken(card.FlowToken)
		return card.FlowToken
	}
	first, second := flow(), flow()
	e.remember(carolPassword)
	res := e.do(req{method: "POST", path: "/api/v1/registration/complete", body: completeRequest(first, "carol.other", carolPassword, "app")})
	if res.status != http.StatusCreated {
		t.Fatalf("first: %d %s", res.status, res.body)
	}
	var s sessionCreated
	res.decode(t, &s)
	e.rememberToken(s.Token)
	res = e.do(req{method: "POST", path: "/api/v1/registration/complete", body: completeRequest(second, "carol.second", carolPassword, "app")})
	if code, msg := res.errorCode(t); res.status != http.StatusConflict || code != "conflict" || msg != "register.already" {
		t.Errorf("second: %d %s", res.status, res.body)
	}
	res = e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{"user_id": "carol.second", "password": carolPassword, "client": "app"}})
	if res.status != http.StatusUnauthorized {
		t.Errorf("the second User ID exists: %d", res.status)
	}
}

// TestSignInThrottle checks the per-source limit on sign-in attempts, which slows
// credential stuffing across many accounts.
func TestSignInThrottle(t *testing.T) {
	e := newEnv(t, withIdentity(func(c *identity.Config) { c.SignInPerSource = 2 }))
	for i, want := range []int{401, 401, 429} {
		res := e.do(req{method: "POST", path: "/api/v1/sessions", remote: "203.0.113.50",
			body: map[string]string{"user_id": "user" + itoa(int64(i)), "password": "Whatever-123", "client": "app"}})
		if res.status != want {
			t.Errorf("attempt %d: %d %s", i+1, res.status, res.body)
		}
		if want == 429 {
			var eb errorBody
			res.decode(t, &eb)
			if eb.Error.Code != "too_many_requests" || eb.Error.RetryAfterSeconds == nil || *eb.Error.RetryAfterSeconds > 61 || res.header.Get("Retry-After") == "" {
				t.Errorf("throttled: %s %v", res.body, res.header)
			}
		}
	}
	// Another address is not affected.
	res := e.do(req{method: "POST", path: "/api/v1/sessions", remote: "203.0.113.51",
		body: map[string]string{"user_id": "user9", "password": "Whatever-123", "client": "app"}})
	if res.status != http.StatusUnauthorized {
		t.Errorf("other address: %d", res.status)
	}
}

// TestPanicIsBare checks that a handler's panic becomes the generic JSON 500, logged
// with the request ID, rather than a dropped connection or a stack trace on the wire.
func TestPanicIsBare(t *testing.T) {
	e := newEnv(t)
	s := &server{ident: e.ident, log: slog.New(slog.NewJSONHandler(e.logs, nil)), now: e.clock.Now}
	h := s.endpoint(route{handle: func(*server, *call) (int, any, error) { panic("boom: secret detail") }})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/boom", nil))
	res := response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if code, msg := res.errorCode(t); res.status != 500 || code != "internal" || msg != "error.internal" || strings.Contains(w.Body.String(), "boom") {
		t.Errorf("panic: %d %s", res.status, res.body)
	}
	if !strings.Contains(e.logs.String(), "boom: secret detail") {
		t.Errorf("panic not logged")
	}
}
