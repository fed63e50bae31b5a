package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardservice"
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

	const pin = "5082"
	run1(t, ctx, "your PIN",
		chromedp.Click(chromedp.CSS("#pin-link")),
		chromedp.WaitVisible(chromedp.CSS("#pin")),
		chromedp.SetValue(chromedp.CSS("#birth_date"), c.born),
		chromedp.SendKeys(chromedp.CSS("#cid"), c.code),
		chromedp.SendKeys(chromedp.CSS("#pin"), "1234"),
		chromedp.SendKeys(chromedp.CSS("#pin_confirm"), "1234"),
		chromedp.Submit(chromedp.CSS("#pin")),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")),
	)
	if s := text(t, ctx, ".error-summary"); !strings.Contains(s, "1234") {
		t.Errorf("a straight run should be refused with a clear message, got %q", s)
	}
	if v := eval[string](t, ctx, `document.querySelector('#pin').value`); v != "" {
		t.Errorf("the refused PIN was written back into the form")
	}
	run1(t, ctx, "PIN",
		chromedp.SendKeys(chromedp.CSS("#cid"), c.code),
		chromedp.SendKeys(chromedp.CSS("#pin"), pin),
		chromedp.SendKeys(chromedp.CSS("#pin_confirm"), pin),
		chromedp.Submit(chromedp.CSS("#pin")),
		chromedp.WaitVisible(chromedp.CSS("#freeze")),
	)
	if s := text(t, ctx, "main"); !strings.Contains(s, "has been changed") || !strings.Contains(s, "A PIN is set") {
		t.Errorf("card page after choosing a PIN:\n%s", s)
	}
	if u := eval[string](t, ctx, `location.href`); strings.Contains(u, pin) {
		t.Errorf("the PIN is in the URL")
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
