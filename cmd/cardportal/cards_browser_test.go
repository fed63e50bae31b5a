package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/sqlite"

	"github.com/chromedp/chromedp"
)

// TestBrowserCards manages a card in a real browser (SPEC AC8-AC10): freeze and
// unfreeze it from its page, choose a PIN through "Your PIN", then report it lost and
// land on the replacement, which waits to be activated.
func TestBrowserCards(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	in := start(t, nil, append(fastArgs, "-data-dir", dir)...)
	c := in.cards[0]
	registerInBrowser(t, ctx, in, c, "browser.cards")
	run1(t, ctx, "dashboard", chromedp.WaitVisible(chromedp.CSS(`a.card-manage`)))
	run1(t, ctx, "open the card", chromedp.Click(chromedp.CSS(`a.card-manage`)), chromedp.WaitVisible(chromedp.CSS("#freeze")))
	run1(t, ctx, "freeze", chromedp.Click(chromedp.CSS("#freeze")), chromedp.WaitVisible(chromedp.CSS("#unfreeze")))
	if s := text(t, ctx, "#card-state"); s != "Frozen" {
		t.Errorf("state after freezing: %q", s)
	}
	run1(t, ctx, "unfreeze", chromedp.Click(chromedp.CSS("#unfreeze")), chromedp.WaitVisible(chromedp.CSS("#freeze")))

	// "Your PIN" asks the security question registered with (credentials()), not the
	// date of birth and card code: the member has a second factor.
	const pin = "5082"
	run1(t, ctx, "your PIN",
		chromedp.Click(chromedp.CSS("#pin-link")),
		chromedp.WaitVisible(chromedp.CSS("#pin")),
		chromedp.WaitVisible(chromedp.CSS("#answer")),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('#birth_date, #cid').length`); n != 0 {
		t.Errorf("a member with a security question is asked for date of birth and card code")
	}
	answer := questionAnswer(t, text(t, ctx, `label[for="answer"]`))
	run1(t, ctx, "a refused PIN",
		chromedp.SendKeys(chromedp.CSS("#answer"), answer),
		chromedp.SendKeys(chromedp.CSS("#pin"), "1234"),
		chromedp.SendKeys(chromedp.CSS("#pin_confirm"), "1234"),
		chromedp.Submit(chromedp.CSS("#pin")),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")),
	)
	if s := text(t, ctx, ".error-summary"); !strings.Contains(s, "1234") {
		t.Errorf("a straight run should be refused with a clear message, got %q", s)
	}
	if v := eval[string](t, ctx, `document.querySelector('#pin').value + document.querySelector('#answer').value`); v != "" {
		t.Errorf("the refused PIN or the answer was written back into the form")
	}
	run1(t, ctx, "a wrong answer",
		chromedp.SendKeys(chromedp.CSS("#answer"), "not "+answer),
		chromedp.SendKeys(chromedp.CSS("#pin"), pin),
		chromedp.SendKeys(chromedp.CSS("#pin_confirm"), pin),
		chromedp.Submit(chromedp.CSS("#pin")),
		chromedp.WaitVisible(chromedp.CSS(".notice-error")),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "not correct") {
		t.Errorf("after a wrong answer:\n%s", s)
	}
	// The same challenge, so the same question.
	if again := questionAnswer(t, text(t, ctx, `label[for="answer"]`)); again != answer {
		t.Errorf("the question changed after a wrong answer")
	}
	// A code can be sent instead; the member may still answer the question.
	run1(t, ctx, "send a code",
		chromedp.Click(chromedp.CSS("#send-email")),
		chromedp.WaitVisible(chromedp.CSS("#factor-email")),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "emailed you a code") {
		t.Errorf("after sending a code:\n%s", s)
	}
	run1(t, ctx, "PIN",
		chromedp.Click(chromedp.CSS("#factor-question")),
		chromedp.SendKeys(chromedp.CSS("#answer"), answer),
		chromedp.SendKeys(chromedp.CSS("#pin"), pin),
		chromedp.SendKeys(chromedp.CSS("#pin_confirm"), pin),
		chromedp.Submit(chromedp.CSS("#pin")),
		chromedp.WaitVisible(chromedp.CSS("#freeze")),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "has been changed") || !strings.Contains(s, "A PIN is set") {
		t.Errorf("card page after choosing a PIN:\n%s", s)
	}
	if u := eval[string](t, ctx, `location.href`); strings.Contains(u, pin) || strings.Contains(u, "flow") || strings.Contains(u, answer) {
		t.Errorf("the PIN, the answer or the challenge is in the URL: %s", u)
	}

	run1(t, ctx, "report lost",
		chromedp.Click(chromedp.CSS("#lost-link")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-lost")),
		chromedp.Click(chromedp.CSS("#confirm-lost")),
		chromedp.WaitVisible(chromedp.CSS("#card-state")),
	)
	if s := text(t, ctx, "#card-state"); s != "Not activated" {
		t.Errorf("the replacement's state: %q", s)
	}
	if s := text(t, ctx, "main"); !strings.Contains(s, "is blocked") || strings.Contains(s, c.pan) {
		t.Errorf("replacement page:\n%s", s)
	}

	// The replacement arrives by post: the test reads its number from the issuer's
	// records with the key file, as the card printer would, and activates it online.
	pan, cid := replacementCard(t, dir, "browser.cards")
	run1(t, ctx, "activate the replacement",
		chromedp.Navigate(in.url+"/cards/activate"),
		chromedp.WaitVisible(chromedp.CSS("#card_number")),
		chromedp.SendKeys(chromedp.CSS("#card_number"), pan),
		chromedp.SendKeys(chromedp.CSS("#cid"), cid),
		chromedp.Submit(chromedp.CSS("#cid")),
		chromedp.WaitVisible(chromedp.CSS("#card-state")),
	)
	if s := text(t, ctx, "#card-state"); s != "Active" {
		t.Errorf("the replacement after activation: %q", s)
	}
	logs := in.log.String()
	if strings.Contains(logs, `"`+pin+`"`) || strings.Contains(logs, "="+pin) || strings.Contains(logs, c.pan) {
		t.Errorf("a PIN or card number reached the logs")
	}
}

// questionAnswer is the answer credentials() registered for the question shown.
func questionAnswer(t *testing.T, question string) string {
	t.Helper()
	en := locale.Negotiate("en", "")
	for id, a := range map[string]string{"first_pet": "Rex", "birth_city": "Uppsala", "first_job": "Bakery"} {
		if strings.TrimSpace(question) == en.T("q."+id) {
			return a
		}
	}
	t.Fatalf("unknown security question %q", question)
	return ""
}

// replacementCard returns the number and security code of the member's newest card,
// unsealed with the data directory's key file: what the letter with the card says.
func replacementCard(t *testing.T, dir, userID string) (pan, cid string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cardcrypto.DecodeKeys(raw)
	if err != nil {
		t.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardportal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m, _, err := store.MemberByUserID(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	cards, err := store.MemberCards(t.Context(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var newest cardservice.Card
	for _, c := range cards {
		if c.ReplacesID != 0 && c.IssuedAt.After(newest.IssuedAt) {
			newest = c
		}
	}
	if newest.ID == 0 {
		t.Fatal("no replacement card")
	}
	p, err := hsm.OpenPAN(newest.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	code, err := hsm.CardCode(p, newest.Expiry)
	if err != nil {
		t.Fatal(err)
	}
	return p.Digits(), code.Digits()
}
