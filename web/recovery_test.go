package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	resetLinkRE = regexp.MustCompile(`/reset\?t=(\S+)`)
	sixDigitRE  = regexp.MustCompile(`\b\d{6}\b`)
)

// lastMessage is the newest outbox message of kind.
func (e *env) lastMessage(kind string) string {
	e.t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 50)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == kind {
			return m.Body
		}
	}
	e.t.Fatalf("no %s message", kind)
	return ""
}

func (e *env) outboxLen() int {
	e.t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(msgs)
}

// main is the page's main content: what differs between two answers apart from the
// request id.
func mainOf(body string) string {
	i, j := strings.Index(body, "<main"), strings.Index(body, "</main>")
	if i < 0 || j < i {
		return body
	}
	return body[i:j]
}

func TestLoginLinksToRecovery(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	wantContains(t, "login", b.get("/login").body, `href="/forgot"`)
	page := b.get("/forgot")
	wantStatus(t, "forgot", page, http.StatusOK)
	wantContains(t, "forgot", page.body, `href="/forgot/userid"`, `href="/forgot/password"`)
	for _, lang := range []string{"es", "sv"} {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/forgot/password", nil)
		req.Header.Set("Accept-Language", lang)
		wantStatus(t, lang, b.do(req), http.StatusOK)
	}
}

func TestForgotUserIDPageSaysTheSame(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	b := e.browser(chromeUA)
	form := func(c testCard, cid, birth string) url.Values {
		return url.Values{"card_number": {c.pan}, "cid": {cid}, "birth_date": {birth}}
	}
	before := e.outboxLen()
	match := b.post("/forgot/userid", form(e.basic, e.basic.code, e.basic.birth))
	wantStatus(t, "match", match, http.StatusOK)
	wantContains(t, "match", match.body, "we have emailed the User ID")
	wantLacks(t, "match", match.body, userID)
	if e.outboxLen() != before+1 || !strings.Contains(e.lastMessage("userid"), userID) {
		t.Fatal("no User ID email")
	}
	for name, r := range map[string]url.Values{
		"wrong birth":       form(e.basic, e.basic.code, "1980-04-13"),
		"unregistered card": form(e.extra, e.extra.code, e.extra.birth),
	} {
		got := b.post("/forgot/userid", r)
		if got.status != match.status || mainOf(got.body) != mainOf(match.body) {
			t.Errorf("%s: the page differs from a match", name)
		}
	}
	if e.outboxLen() != before+1 {
		t.Error("a mismatch sent an email")
	}
	bad := b.post("/forgot/userid", url.Values{"card_number": {""}, "cid": {""}, "birth_date": {""}})
	wantStatus(t, "empty", bad, http.StatusUnprocessableEntity)
	wantContains(t, "empty", bad.body, `href="#card_number"`, `href="#cid"`, `href="#birth_date"`)
}

func TestResetByLinkUnlocks(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	b := e.knownBrowser(chromeUA)
	for range 3 {
		b.login(userID, "Wrong-password-1", false)
	}
	wantStatus(t, "locked", b.login(userID, password, false), http.StatusLocked)

	start := url.Values{"user_id": {userID}, "card_number": {e.basic.pan}, "cid": {e.basic.code}, "method": {"link"}}
	r := b.post("/forgot/password", start)
	wantStatus(t, "start", r, http.StatusOK)
	wantContains(t, "start", r.body, "If the details match our records")
	m := resetLinkRE.FindStringSubmatch(e.lastMessage("recovery.reset"))
	if m == nil {
		t.Fatal("no link")
	}
	tok, _ := url.QueryUnescape(m[1])
	e.secrets = append(e.secrets, tok)
	// The token leaves the address bar at once.
	r = b.get("/reset?t=" + url.QueryEscape(tok))
	wantRedirect(t, "open link", r, "/reset")
	if strings.Contains(e.logs.String(), tok) {
		t.Fatal("the reset token reached the log")
	}
	page := b.get("/reset")
	wantStatus(t, "reset page", page, http.StatusOK)
	wantLacks(t, "link reset page", page.body, `id="code"`)
	const newPW = "Brand-New-Secret-77"
	e.secrets = append(e.secrets, newPW)
	r = b.post("/reset", url.Values{"password": {password}, "confirm": {password}})
	wantStatus(t, "old password", r, http.StatusUnprocessableEntity)
	wantContains(t, "old password", r.body, "Not one of your last 4 passwords")
	wantRedirect(t, "reset", b.post("/reset", url.Values{"password": {newPW}, "confirm": {newPW}}), "/login?m=reset")
	wantContains(t, "after reset", b.get("/login?m=reset").body, "Your password has been changed.")
	// Unlocked; the trusted browser is asked for a second factor once.
	wantRedirect(t, "sign in", b.login(userID, newPW, false), "/login/verify")

	// The same link again, or a tampered one: a clear error, nothing changed.
	for name, t2 := range map[string]string{"reused": tok, "tampered": tok[:10] + "A" + tok[11:]} {
		c := e.browser(chromeUA)
		wantRedirect(t, name, c.get("/reset?t="+url.QueryEscape(t2)), "/reset")
		r := c.get("/reset")
		wantStatus(t, name, r, http.StatusGone)
		wantContains(t, name, r.body, "This reset link or code is no longer valid")
		r = c.post("/reset", url.Values{"password": {"Another-Secret-88"}, "confirm": {"Another-Secret-88"}})
		wantStatus(t, name+" post", r, http.StatusGone)
	}
	wantStatus(t, "no cookie", e.browser(chromeUA).get("/reset"), http.StatusGone)
}

func TestResetByCodeLooksTheSameForUnknownUsers(t *testing.T) {
	e := newEnv(t)
	e.browser(chromeUA).register(e.basic, userID)
	try := func(uid string) (*browser, string) {
		b := e.browser(chromeUA)
		r := b.post("/forgot/password", url.Values{"user_id": {uid}, "card_number": {e.basic.pan}, "cid": {e.basic.code}, "method": {"email"}})
		wantRedirect(t, uid, r, "/reset?m=sent")
		page := b.get("/reset?m=sent")
		wantStatus(t, uid, page, http.StatusOK)
		wantContains(t, uid, page.body, `id="code"`, "If the details match our records")
		r = b.post("/reset", url.Values{"code": {"000000"}, "password": {"Brand-New-Secret-77"}, "confirm": {"Brand-New-Secret-77"}})
		wantStatus(t, uid+" wrong code", r, http.StatusUnprocessableEntity)
		return b, mainOf(r.body)
	}
	_, unknown := try("nobody.here")
	b, known := try(userID)
	if unknown != known {
		t.Error("a wrong code reads differently for an unknown User ID")
	}
	code := sixDigitRE.FindString(e.lastMessage("recovery.reset"))
	if code == "000000" {
		t.Skip("the random code happened to be the wrong one")
	}
	wantRedirect(t, "right code", b.post("/reset", url.Values{"code": {code}, "password": {"Brand-New-Secret-77"}, "confirm": {"Brand-New-Secret-77"}}), "/login?m=reset")
}
