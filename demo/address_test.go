package demo

import (
	"testing"

	"github.com/cardportal/cardportal/details"
)

// TestDemoAddresses: every demo holder has a billing address that the personal-details
// rules accept as it is, the holders of one account share it, and the demo cards
// print its postcode.
func TestDemoAddresses(t *testing.T) {
	ds, cards := generateT(t, newHSM(t), testSeed, testNow, 60)
	byAccount := map[int64]string{}
	countries := map[string]bool{}
	for _, h := range ds.CardHolders {
		if h.Address.IsZero() {
			t.Fatalf("holder %d has no address", h.ID)
		}
		got, err := details.Normalize(h.Address)
		if err != nil {
			t.Errorf("holder %d: address %+v refused: %v", h.ID, h.Address, err)
		} else if got != h.Address {
			t.Errorf("holder %d: address %+v is stored as %+v after normalising", h.ID, h.Address, got)
		}
		if prev, ok := byAccount[h.AccountID]; ok && prev != h.Address.Line1+h.Address.Postcode {
			t.Errorf("account %d: holders live at different addresses", h.AccountID)
		}
		byAccount[h.AccountID] = h.Address.Line1 + h.Address.Postcode
		countries[h.Address.Country] = true
	}
	if len(countries) < 3 {
		t.Errorf("addresses in %d countries, want several", len(countries))
	}
	for _, c := range cards {
		if c.Postcode == "" {
			t.Errorf("demo card of %s prints no postcode", c.Name)
		}
	}
}
