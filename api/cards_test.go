package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cardportal/cardportal/card"
)

var (
	guardMu     sync.Mutex
	guardTokens = map[*env]string{}
)

// guardToken is a live session for e, registered once: for checks that need to get
// past authentication to reach the rules under test.
func (e *env) guardToken() string {
	e.t.Helper()
	guardMu.Lock()
	defer guardMu.Unlock()
	if tok, ok := guardTokens[e]; ok {
		return tok
	}
	tok := e.register(e.carol, "guard.carol", "Guarded-Passw0rd!").Token
	guardTokens[e] = tok
	e.t.Cleanup(func() { guardMu.Lock(); delete(guardTokens, e); guardMu.Unlock() })
	return tok
}

type cardDetail struct {
	CardID         int64  `json:"card_id"`
	LastDigits     string `json:"last_digits"`
	HolderName     string `json:"holder_name"`
	Basic          bool   `json:"basic"`
	State          string `json:"state"`
	Expiry         string `json:"expiry"`
	HasPIN         bool   `json:"has_pin"`
	ReplacesCardID *int64 `json:"replaces_card_id"`
}

// rememberPIN notes a PIN: short, like a card code, so it is matched as a whole value
// in logs and responses.
func (e *env) rememberPIN(pins ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cids = append(e.cids, pins...)
}

func cardPath(id int64, action string) string {
	return "/api/v1/cards/" + strconv.FormatInt(id, 10) + "/" + action
}

func (e *env) wantError(res response, status int, code, msgID string) {
	e.t.Helper()
	gotCode, gotMsg := res.errorCode(e.t)
	if res.status != status || gotCode != code || (msgID != "" && gotMsg != msgID) {
		e.t.Errorf("got %d %s %s, want %d %s %s; body %s", res.status, gotCode, gotMsg, status, code, msgID, res.body)
	}
}

// TestCardServicing goes through freeze, PIN, loss and activation of the replacement
// as the app would.
func TestCardServicing(t *testing.T) {
	e := newEnv(t)
	alice := e.register(e.alice, "alice.cards", "Alice-Passw0rd!").Token
	bob := e.register(e.bob, "bob.cards", "Bob-Passw0rd!!").Token
	a, b := e.alice.cardID, e.bob.cardID

	// Freeze and unfreeze are idempotent.
	for _, st := range []struct {
		action, state string
	}{{"freeze", "frozen"}, {"freeze", "frozen"}, {"unfreeze", "active"}, {"unfreeze", "active"}} {
		res := e.do(req{method: "POST", path: cardPath(a, st.action), token: alice})
		var c cardDetail
		res.decode(t, &c)
		if res.status != http.StatusOK || c.State != st.state || c.CardID != a || c.LastDigits != e.alice.last {
			t.Errorf("%s: %d %+v, want state %s", st.action, res.status, c, st.state)
		}
	}
	// The basic card member may freeze the additional member's card; the additional
	// member may not touch the basic member's.
	if res := e.do(req{method: "POST", path: cardPath(b, "freeze"), token: alice}); res.status != http.StatusOK {
		t.Errorf("basic member freezing the additional card: %d %s", res.status, res.body)
	}
	e.wantError(e.do(req{method: "POST", path: cardPath(a, "freeze"), token: bob}), http.StatusNotFound, "not_found", "error.notfound")

	// PIN: a challenge, the policy, then identification, then success.
	e.rememberPIN("1234", "1980", "2719")
	ch := e.pinChallenge(alice, a)
	if ch.Fallback || ch.FlowToken == "" || ch.Question == nil || ch.ExpiresAt == "" ||
		!slices.Contains(ch.Factors, "question") || !slices.Contains(ch.Factors, "email") ||
		slices.Contains(ch.Factors, "recovery") || slices.Contains(ch.Factors, "passkey") {
		t.Fatalf("challenge %+v", ch)
	}
	answer := registeredAnswers[ch.Question.QuestionID]
	pin := func(answer, p, confirm string) response {
		return e.do(req{method: "POST", path: cardPath(a, "pin"), token: alice,
			body: map[string]string{"flow_token": ch.FlowToken, "factor": "question", "answer": answer, "pin": p, "pin_confirm": confirm}})
	}
	res := pin(answer, "1234", "1234")
	e.wantError(res, http.StatusUnprocessableEntity, "invalid", "")
	if f := res.json(t)["error"].(map[string]any)["fields"].([]any); len(f) != 1 || f[0].(map[string]any)["field"] != "pin" ||
		f[0].(map[string]any)["message_id"] != "pin.trivial.sequence" {
		t.Errorf("trivial PIN fields: %v", f)
	}
	e.wantError(pin(answer, "1980", "1980"), http.StatusUnprocessableEntity, "invalid", "")
	e.wantError(pin(answer, "2719", "2791"), http.StatusUnprocessableEntity, "invalid", "")
	e.wantError(pin("not my answer", "2719", "2719"), http.StatusForbidden, "forbidden", "mfa.invalid")
	// Date of birth and security code are no way round the challenge.
	e.wantError(e.do(req{method: "POST", path: cardPath(a, "pin"), token: alice,
		body: map[string]string{"birth_date": e.alice.birth, "cid": e.alice.cid, "pin": "2719", "pin_confirm": "2719"}}),
		http.StatusUnprocessableEntity, "invalid", "")
	if res := pin(answer, "2719", "2719"); res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("set PIN: %d %s", res.status, res.body)
	}
	e.wantError(pin(answer, "2719", "2719"), http.StatusGone, "expired", "card.pin.expired")

	// With a code by email, on the additional member's card.
	ch = e.pinChallenge(alice, b)
	e.wantError(e.do(req{method: "POST", path: cardPath(b, "pin/send"), token: alice, body: map[string]string{"flow_token": ch.FlowToken, "channel": "totp"}}),
		http.StatusUnprocessableEntity, "invalid", "")
	if res := e.do(req{method: "POST", path: cardPath(b, "pin/send"), token: alice, body: map[string]string{"flow_token": ch.FlowToken, "channel": "email"}}); res.status != http.StatusNoContent {
		t.Fatalf("send code: %d %s", res.status, res.body)
	}
	mailed := e.lastCode()
	e.rememberPIN(mailed)
	// The code is for Alice's challenge: Bob's session cannot use it.
	e.wantError(e.do(req{method: "POST", path: cardPath(b, "pin"), token: bob,
		body: map[string]string{"flow_token": ch.FlowToken, "factor": "email", "answer": mailed, "pin": "2719", "pin_confirm": "2719"}}),
		http.StatusForbidden, "forbidden", "mfa.invalid")
	if res := e.do(req{method: "POST", path: cardPath(b, "pin"), token: alice,
		body: map[string]string{"flow_token": ch.FlowToken, "factor": "email", "answer": mailed, "pin": "2719", "pin_confirm": "2719"}}); res.status != http.StatusNoContent {
		t.Fatalf("set PIN with a code: %d %s", res.status, res.body)
	}

	// Lost: blocked at once, a replacement issued.
	res = e.do(req{method: "POST", path: cardPath(a, "report-lost"), token: alice})
	if res.status != http.StatusCreated {
		t.Fatalf("report-lost: %d %s", res.status, res.body)
	}
	var rep struct {
		Blocked     cardDetail `json:"blocked"`
		Replacement cardDetail `json:"replacement"`
	}
	res.decode(t, &rep)
	nw := rep.Replacement
	if rep.Blocked.State != "lost" || !rep.Blocked.HasPIN || nw.State != "inactive" || nw.HasPIN ||
		nw.ReplacesCardID == nil || *nw.ReplacesCardID != a || nw.LastDigits == e.alice.last || nw.CardID == a {
		t.Errorf("report-lost = %+v", rep)
	}
	e.wantError(e.do(req{method: "POST", path: cardPath(a, "unfreeze"), token: alice}), http.StatusConflict, "conflict", "card.error.blocked")
	e.wantError(e.do(req{method: "POST", path: cardPath(a, "report-lost"), token: alice}), http.StatusConflict, "conflict", "card.error.blocked")
	res = e.do(req{method: "POST", path: cardPath(a, "freeze"), token: alice, header: http.Header{"Accept-Language": {"es"}}})
	if msg, _ := res.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "tarjeta") {
		t.Errorf("Spanish message %q", msg)
	}

	// The replacement's number and code, as the plastic would bring them.
	m, _, err := e.store.MemberByUserID(context.Background(), "alice.cards")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.store.MemberCard(context.Background(), m.ID, nw.CardID)
	if err != nil {
		t.Fatal(err)
	}
	pan, err := e.hsm.OpenPAN(c.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	code, err := e.hsm.CardCode(pan, c.Expiry)
	if err != nil {
		t.Fatal(err)
	}
	e.remember(pan.Digits())
	e.mu.Lock()
	e.cids = append(e.cids, code.Digits())
	e.mu.Unlock()

	activate := func(tok, number, cid string) response {
		return e.do(req{method: "POST", path: "/api/v1/cards/activate", token: tok, body: map[string]string{"card_number": number, "cid": cid}})
	}
	wrong := "0000"
	if code.Digits() == wrong {
		wrong = "1111"
	}
	e.wantError(activate(alice, pan.Digits(), wrong), http.StatusUnprocessableEntity, "invalid", "card.activate.nomatch")
	e.wantError(activate(bob, pan.Digits(), code.Digits()), http.StatusUnprocessableEntity, "invalid", "card.activate.nomatch")
	e.wantError(activate(alice, e.alice.pan, e.alice.cid), http.StatusConflict, "conflict", "card.error.blocked")
	res = activate(alice, pan.Digits(), code.Digits())
	var act cardDetail
	res.decode(t, &act)
	if res.status != http.StatusOK || act.CardID != nw.CardID || act.State != "active" {
		t.Errorf("activate: %d %+v", res.status, act)
	}
	e.wantError(activate(alice, pan.Digits(), code.Digits()), http.StatusConflict, "conflict", "card.error.notinactive")

	// The dashboard lists both, and the account's history stayed.
	res = e.do(req{method: "GET", path: "/api/v1/accounts", token: alice})
	if !strings.Contains(string(res.body), `"last_digits":"`+nw.LastDigits+`"`) {
		t.Errorf("accounts do not list the replacement: %s", res.body)
	}
}

// registeredAnswers are the security answers completeRequest registers with.
var registeredAnswers = map[string]string{"first_pet": "Rex the dog", "birth_city": "Springfield", "first_car": "A blue Volvo"}

type pinChallenge struct {
	Fallback  bool     `json:"fallback"`
	FlowToken string   `json:"flow_token"`
	Factors   []string `json:"factors"`
	Question  *struct {
		QuestionID string `json:"question_id"`
		Text       string `json:"text"`
	} `json:"question"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	ExpiresAt string `json:"expires_at"`
}

// pinChallenge starts a PIN challenge for the card.
func (e *env) pinChallenge(token string, cardID int64) pinChallenge {
	e.t.Helper()
	res := e.do(req{method: "POST", path: cardPath(cardID, "pin/challenge"), token: token})
	if res.status != http.StatusOK {
		e.t.Fatalf("pin/challenge: %d %s", res.status, res.body)
	}
	var ch pinChallenge
	res.decode(e.t, &ch)
	e.rememberToken(ch.FlowToken)
	return ch
}

// TestCardPINLock: the third wrong identification locks the PIN flow of the card.
func TestCardPINLock(t *testing.T) {
	e := newEnv(t)
	tok := e.register(e.carol, "carol.pin", "Carol-Passw0rd!").Token
	e.rememberPIN("2719")
	ch := e.pinChallenge(tok, e.carol.cardID)
	body := map[string]string{"flow_token": ch.FlowToken, "factor": "question", "answer": "wrong", "pin": "2719", "pin_confirm": "2719"}
	for range 2 {
		e.wantError(e.do(req{method: "POST", path: cardPath(e.carol.cardID, "pin"), token: tok, body: body}), http.StatusForbidden, "forbidden", "mfa.invalid")
	}
	res := e.do(req{method: "POST", path: cardPath(e.carol.cardID, "pin"), token: tok, body: body})
	e.wantError(res, http.StatusLocked, "locked", "card.pin.locked")
	if res.header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After on a locked PIN flow")
	}
	body["answer"] = registeredAnswers[ch.Question.QuestionID]
	e.wantError(e.do(req{method: "POST", path: cardPath(e.carol.cardID, "pin"), token: tok, body: body}), http.StatusLocked, "locked", "card.pin.locked")
}

// TestCardsOtherMember tries another member's card ids, and ids that exist nowhere,
// on every card endpoint: each is 404 and nothing changes.
func TestCardsOtherMember(t *testing.T) {
	e := newEnv(t)
	carol := e.register(e.carol, "carol.other", "Carol-Passw0rd!").Token
	bob := e.register(e.bob, "bob.other", "Bob-Passw0rd!!").Token
	e.rememberPIN("2719")
	cases := []struct {
		name  string
		token string
		id    string
	}{
		{"other account, basic card", carol, strconv.FormatInt(e.alice.cardID, 10)},
		{"other account, additional card", carol, strconv.FormatInt(e.bob.cardID, 10)},
		{"additional member, basic card", bob, strconv.FormatInt(e.alice.cardID, 10)},
		{"no such card", carol, "999999"},
		{"not a number", carol, "abc"},
		{"zero", carol, "0"},
	}
	for _, tt := range cases {
		for _, action := range []string{"freeze", "unfreeze", "report-lost", "pin", "pin/challenge", "pin/send"} {
			t.Run(tt.name+"/"+action, func(t *testing.T) {
				r := req{method: "POST", path: "/api/v1/cards/" + tt.id + "/" + action, token: tt.token}
				switch action {
				case "pin":
					r.body = map[string]string{"birth_date": e.alice.birth, "cid": e.alice.cid, "pin": "2719", "pin_confirm": "2719"}
				case "pin/send":
					r.body = map[string]string{"flow_token": "some-flow-token", "channel": "email"}
				}
				e.wantError(e.do(r), http.StatusNotFound, "not_found", "error.notfound")
			})
		}
	}
	for _, h := range []holder{e.alice, e.bob} {
		ch, err := e.store.CardHolderByID(context.Background(), h.cardholderID)
		if err != nil || ch.CardID != h.cardID || !ch.Active {
			t.Errorf("card %d changed: %+v %v", h.cardID, ch, err)
		}
	}
	m, _, err := e.store.MemberByUserID(context.Background(), "bob.other")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := e.store.MemberCard(context.Background(), m.ID, e.bob.cardID); err != nil || c.State != card.Active || c.HasPIN {
		t.Errorf("Bob's card after others' attempts: %+v %v", c, err)
	}
}
