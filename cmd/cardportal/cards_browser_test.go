package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCards manages a card in a real browser (SPEC AC8-AC10): freeze and
// unfreeze it from its page, choose a PIN through "Your PIN", then report it lost and
// land on the replacement, which waits to be activated.
func TestBrowserCards(t *testing.T) {
	ctx := browser(t)
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
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
	logs := in.log.String()
	if strings.Contains(logs, `"`+pin+`"`) || strings.Contains(logs, "="+pin) || strings.Contains(logs, c.pan) {
		t.Errorf("a PIN or card number reached the logs")
	}
}
