package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
)

// The fixture's cards: 1 is the basic card member's (Jo), 2 the additional member's
// (Sam), on the same account.

var replacementLink = regexp.MustCompile(`^/cards/([0-9]+)\?done=replaced$`)

// memberID finds a registered member's id for direct store checks.
func (e *env) memberID(uid string) identity.MemberID {
	e.t.Helper()
	m, _, err := e.store.MemberByUserID(context.Background(), uid)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.ID
}

// noShortSecretInLogs fails if a security code or PIN appears in the logs as a value.
// They are short enough to occur by chance inside a timestamp, so they are looked for
// as whole JSON strings or key=value pairs.
func (e *env) noShortSecretInLogs(vals ...string) {
	logs := e.logs.String()
	for _, v := range vals {
		if strings.Contains(logs, `"`+v+`"`) || strings.Contains(logs, "="+v) {
			e.t.Errorf("a security code or PIN (%d digits) reached the logs", len(v))
		}
	}
}

func TestCardFreezeAndScope(t *testing.T) {
	e := newEnv(t)
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)
	sam := e.browser(chromeUA)
	f := cardForm(e.extra)
	f.Set("additional", "1")
	f.Set("basic_birth_date", e.basic.birth)
	wantRedirect(t, "Sam: verify card", sam.post("/register", f), "/register/credentials")
	wantRedirect(t, "Sam: credentials", sam.post("/register/credentials", credentialsForm("sam.doe2026", password)), "/contact?m=welcome")

	page := jo.get("/account")
	wantContains(t, "dashboard", page.body, `href="/cards/1"`, `href="/cards/2"`, `href="/cards/activate"`, "Manage card ending "+e.basic.last)

	page = jo.get("/cards/1")
	wantStatus(t, "card page", page, http.StatusOK)
	wantContains(t, "card page", page.body, "Card ending "+e.basic.last, "Active", `action="/cards/1/freeze"`, `href="/cards/1/pin"`, `href="/cards/1/lost"`)
	wantRedirect(t, "freeze", jo.post("/cards/1/freeze", nil), "/cards/1?done=frozen")
	page = jo.get("/cards/1?done=frozen")
	wantContains(t, "frozen card", page.body, "is frozen", `action="/cards/1/unfreeze"`)
	wantLacks(t, "frozen card", page.body, `action="/cards/1/freeze"`)
	// Twice is harmless.
	wantRedirect(t, "freeze again", jo.post("/cards/1/freeze", nil), "/cards/1?done=frozen")
	wantRedirect(t, "unfreeze", jo.post("/cards/1/unfreeze", nil), "/cards/1?done=unfrozen")
	wantContains(t, "security history", jo.get("/security").body, "Card frozen", "Card unfrozen")

	// The basic member may manage the additional member's card, not the other way round.
	wantRedirect(t, "freeze Sam's card", jo.post("/cards/2/freeze", nil), "/cards/2?done=frozen")
	for _, r := range []struct{ method, path string }{
		{"GET", "/cards/1"}, {"POST", "/cards/1/freeze"}, {"POST", "/cards/1/unfreeze"},
		{"GET", "/cards/1/lost"}, {"POST", "/cards/1/lost"}, {"GET", "/cards/1/pin"}, {"POST", "/cards/1/pin"},
		{"POST", "/cards/1/pin/send"},
		{"GET", "/cards/999"}, {"POST", "/cards/999/freeze"}, {"GET", "/cards/abc"},
	} {
		var res response
		if r.method == "GET" {
			res = sam.get(r.path)
		} else {
			res = sam.post(r.path, url.Values{"birth_date": {e.extra.birth}, "cid": {e.basic.code}, "pin": {"2719"}, "pin_confirm": {"2719"}})
		}
		wantStatus(t, "Sam: "+r.method+" "+r.path, res, http.StatusNotFound)
	}
	c, err := e.store.MemberCard(context.Background(), e.memberID(userID), 1)
	if err != nil || c.State != card.Active || c.HasPIN {
		t.Errorf("Jo's card after Sam's attempts: %s pin=%v %v", c.State, c.HasPIN, err)
	}
	// Signed out, the pages send the browser to sign in.
	anon := e.browser(chromeUA)
	wantRedirect(t, "signed out", anon.get("/cards/1"), "/login")
	wantRedirect(t, "signed out POST", anon.post("/cards/1/freeze", nil), "/login")
}

var flowTokenField = regexp.MustCompile(`name="flow_token" value="([^"]+)"`)

// pinChallenge reads the flow token and the security question's answer (Jo's, from
// credentialsForm) off a PIN page.
func pinChallenge(t *testing.T, page response) (tok, answer string) {
	t.Helper()
	m := flowTokenField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no flow token on the PIN page:\n%s", page.body)
	}
	en := locale.Negotiate("en", "")
	for q, a := range map[string]string{"first_pet": "Rex the dog", "birth_city": "Springfield", "street": "Elm Street"} {
		if strings.Contains(page.body, html.EscapeString(en.T("q."+q))) {
			answer = a
		}
	}
	return m[1], answer
}

func TestCardPIN(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(func() { e.noShortSecretInLogs(e.basic.code, "2719") })
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)

	page := jo.get("/cards/1/pin")
	wantStatus(t, "PIN page", page, http.StatusOK)
	// Jo has security answers, an email address and a mobile number: the question is
	// asked, and codes can be sent; date of birth and card code are not asked for.
	wantContains(t, "PIN page", page.body, "Choose your PIN", `name="flow_token"`, `id="answer"`, `id="send-email"`, `id="send-sms"`,
		`action="/cards/1/pin/send"`, `type="password"`, `id="pin_confirm"`)
	wantLacks(t, "PIN page", page.body, `id="birth_date"`, `id="cid"`)
	tok, answer := pinChallenge(t, page)
	if answer == "" {
		t.Fatalf("no known security question on the page:\n%s", page.body)
	}
	if strings.Contains(page.body, "?flow_token") || strings.Contains(page.body, "&flow_token") {
		t.Errorf("the flow token is in a URL")
	}

	post := func(tok, factor, answer, pin, confirm string) response {
		return jo.post("/cards/1/pin", url.Values{"flow_token": {tok}, "factor": {factor}, "answer": {answer}, "pin": {pin}, "pin_confirm": {confirm}})
	}
	tests := []struct {
		name        string
		answer, pin string
		confirm     string
		status      int
		wantTexts   []string
		wantNoValue string
	}{
		{"straight run", answer, "1234", "1234", http.StatusUnprocessableEntity, []string{"digits in a row"}, "1234"},
		{"birth year", answer, "1980", "1980", http.StatusUnprocessableEntity, []string{"year of birth"}, "1980"},
		{"same digit", answer, "5555", "5555", http.StatusUnprocessableEntity, []string{"same digit four times"}, "5555"},
		{"mismatch", answer, "2719", "2791", http.StatusUnprocessableEntity, []string{"don&#39;t match"}, "2791"},
		{"no answer", "", "2719", "2719", http.StatusUnprocessableEntity, []string{"error-message"}, "2719"},
		{"wrong answer", "Not my pet", "2719", "2719", http.StatusForbidden, []string{"That code or answer is not correct"}, "Not my pet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(tok, "question", tt.answer, tt.pin, tt.confirm)
			wantStatus(t, tt.name, r, tt.status)
			wantContains(t, tt.name, r.body, tt.wantTexts...)
			// Neither the PIN nor the answer is ever written back into the page...
			wantLacks(t, tt.name, r.body, `value="`+tt.wantNoValue+`"`, `value="`+answer+`"`)
			// ...and the same challenge carries on.
			if got, _ := pinChallenge(t, r); got != tok {
				t.Errorf("the page started another challenge")
			}
		})
	}
	wantRedirect(t, "set PIN", post(tok, "question", answer, "2719", "2719"), "/cards/1?done=pin")
	page = jo.get("/cards/1?done=pin")
	wantContains(t, "after PIN", page.body, "PIN for your card ending "+e.basic.last+" has been changed", "A PIN is set for this card.")
	v, err := e.store.PINValue(context.Background(), 1)
	if err != nil || len(v) != 32 || strings.Contains(string(v), "2719") {
		t.Errorf("stored PIN value: %d bytes, %v", len(v), err)
	}
	// The challenge served once: the page says so and starts another.
	r := post(tok, "question", answer, "4829", "4829")
	wantStatus(t, "used challenge", r, http.StatusGone)
	wantContains(t, "used challenge", r.body, "expired or was already used")
	if tok2, _ := pinChallenge(t, r); tok2 == tok {
		t.Errorf("the used challenge is offered again")
	}
	wantContains(t, "security history", jo.get("/security").body, "PIN changed", "PIN change: identification failed", "Identity check failed")

	// With a code by email, on Sam's card (Jo is the basic card member).
	page = jo.get("/cards/2/pin")
	tok, _ = pinChallenge(t, page)
	r = jo.post("/cards/2/pin/send", url.Values{"flow_token": {tok}, "channel": {"email"}, "pin": {"2719"}})
	wantStatus(t, "send code", r, http.StatusOK)
	wantContains(t, "send code", r.body, "We&#39;ve emailed you a code", `id="factor-email"`, `value="email" checked`)
	wantLacks(t, "send code", r.body, `value="2719"`)
	code := e.lastCode()
	t.Cleanup(func() { e.noShortSecretInLogs(code) })
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r = jo.post("/cards/2/pin", url.Values{"flow_token": {tok}, "factor": {"email"}, "answer": {wrong}, "pin": {"2719"}, "pin_confirm": {"2719"}})
	wantStatus(t, "wrong code", r, http.StatusForbidden)
	wantContains(t, "wrong code", r.body, "That code or answer is not correct", `value="email" checked`)
	r = jo.post("/cards/2/pin", url.Values{"flow_token": {tok}, "factor": {"email"}, "answer": {code}, "pin": {"2719"}, "pin_confirm": {"2719"}})
	wantRedirect(t, "right code", r, "/cards/2?done=pin")

	// In Spanish, the policy speaks Spanish.
	jo.post("/language", url.Values{"lang": {"es"}, "return": {"/cards/1/pin"}})
	// (The PIN is checked first, so the answer does not matter here.)
	tok, _ = pinChallenge(t, jo.get("/cards/1/pin"))
	r = post(tok, "question", "any answer", "4321", "4321")
	wantContains(t, "Spanish PIN error", r.body, "No use dígitos seguidos")
}

func TestCardLostAndActivate(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(func() { e.noShortSecretInLogs(e.basic.code, "2719") })
	jo := e.browser(chromeUA)
	jo.register(e.basic, userID)

	page := jo.get("/cards/1/lost")
	wantStatus(t, "confirmation", page, http.StatusOK)
	wantContains(t, "confirmation", page.body, "will be blocked at once", `action="/cards/1/lost"`)
	r := jo.post("/cards/1/lost", nil)
	m := replacementLink.FindStringSubmatch(r.location())
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("report lost: %d %q", r.status, r.location())
	}
	newPath := "/cards/" + m[1]
	page = jo.get(r.location())
	wantStatus(t, "replacement page", page, http.StatusOK)
	wantContains(t, "replacement page", page.body, "Your card ending "+e.basic.last+" is blocked", "Not activated",
		"Replaces your card ending "+e.basic.last, `href="/cards/activate"`)
	page = jo.get("/cards/1")
	wantContains(t, "old card", page.body, "Reported lost or stolen")
	wantLacks(t, "old card", page.body, `/freeze"`, `/lost"`, `/pin"`)
	wantStatus(t, "report again", jo.post("/cards/1/lost", nil), http.StatusConflict)
	wantStatus(t, "unfreeze the lost card", jo.post("/cards/1/unfreeze", nil), http.StatusConflict)

	// The new number arrives on the plastic; the test reads it through the HSM.
	member := e.memberID(userID)
	cards, err := e.store.MemberCards(context.Background(), member)
	if err != nil {
		t.Fatal(err)
	}
	var newPAN, newCode string
	for _, c := range cards {
		if "/cards/"+itoa(c.ID) == newPath {
			pan, err := e.hsm.OpenPAN(c.Sealed)
			if err != nil {
				t.Fatal(err)
			}
			code, err := e.hsm.CardCode(pan, c.Expiry)
			if err != nil {
				t.Fatal(err)
			}
			newPAN, newCode = pan.Digits(), code.Digits()
		}
	}
	if newPAN == "" {
		t.Fatal("replacement not found")
	}
	e.secrets = append(e.secrets, newPAN)

	page = jo.get("/cards/activate")
	wantContains(t, "activate page", page.body, `id="card_number"`, `id="cid"`)
	wrong := "0000"
	if newCode == wrong {
		wrong = "1111"
	}
	r = jo.post("/cards/activate", url.Values{"card_number": {newPAN}, "cid": {wrong}})
	wantStatus(t, "wrong code", r, http.StatusUnprocessableEntity)
	wantContains(t, "wrong code", r.body, "could not confirm these card details")
	wantLacks(t, "wrong code", r.body, `value="`+wrong+`"`)
	r = jo.post("/cards/activate", url.Values{"card_number": {""}, "cid": {""}})
	wantStatus(t, "empty", r, http.StatusUnprocessableEntity)
	r = jo.post("/cards/activate", url.Values{"card_number": {e.basic.pan}, "cid": {e.basic.code}})
	wantStatus(t, "old card", r, http.StatusConflict)
	wantContains(t, "old card", r.body, "can&#39;t be used again")
	wantRedirect(t, "activate", jo.post("/cards/activate", url.Values{"card_number": {newPAN}, "cid": {newCode}}), newPath+"?done=activated")
	page = jo.get(newPath + "?done=activated")
	wantContains(t, "activated", page.body, "is active.", "Freeze card")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
