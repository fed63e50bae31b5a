package demo

import (
	"strings"
	"testing"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

// TestHistoryTexts: every posting the issuer wrote itself (payments, fees, refunds,
// credits, interest) carries a catalogue message whose English is its Description and
// which reads in Spanish and Swedish; purchases keep the merchant's name.
func TestHistoryTexts(t *testing.T) {
	ds, _ := generateT(t, newHSM(t), testSeed, testNow, 300)
	seen := map[string]bool{}
	for _, p := range ds.Postings {
		if p.Kind == string(account.Purchase) {
			if p.TextID != "" || p.Description != p.Merchant {
				t.Errorf("purchase %d: text %q, description %q, merchant %q", p.ID, p.TextID, p.Description, p.Merchant)
			}
			continue
		}
		if !locale.HasMessage(p.TextID) {
			t.Errorf("posting %d (%s %q): message %q is not in the catalogue", p.ID, p.Kind, p.Description, p.TextID)
			continue
		}
		if en := account.Text(locale.EnglishUS, p.TextID, p.TextArgs, ""); en != p.Description {
			t.Errorf("posting %d: English text %q, description %q", p.ID, en, p.Description)
		}
		for _, loc := range []locale.Locale{locale.Spanish, locale.Swedish} {
			got := account.Text(loc, p.TextID, p.TextArgs, "")
			if got == p.Description || strings.Contains(got, "{") {
				t.Errorf("posting %d in %v: %q", p.ID, loc, got)
			}
		}
		seen[p.TextID] = true
	}
	for _, id := range []string{"ledger.payment.thanks", "ledger.fee.annual", "ledger.interest", "ledger.refund", "ledger.streaming.credit"} {
		if !seen[id] {
			t.Errorf("no demo posting has text %q", id)
		}
	}
	if got, want := account.Text(locale.Swedish, "ledger.payment.thanks", nil, ""), "Betalning mottagen, tack"; got != want {
		t.Errorf("sv payment text %q, want %q", got, want)
	}
}
