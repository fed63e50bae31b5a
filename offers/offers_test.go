package offers

import (
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestQualifies(t *testing.T) {
	coffee := Offer{ID: 1, Merchant: "Blue Harbor Coffee", MinSpend: 1000, Credit: 300, Currency: "USD",
		StartsOn: day(2026, 3, 1), EndsOn: day(2026, 3, 31)}
	grocers := Offer{ID: 2, MCC: "5411", MinSpend: 5000, Credit: 1000, Currency: "USD",
		StartsOn: day(2026, 3, 1), EndsOn: day(2026, 3, 31)}
	both := coffee
	both.MCC = "5814"
	enrolled := day(2026, 3, 5).Add(10 * time.Hour)
	buy := func(f func(*Purchase)) Purchase {
		p := Purchase{ID: 7, CardID: 1000, Kind: account.Purchase, Status: account.Posted, Amount: 1500, Currency: "USD",
			Merchant: "Blue Harbor Coffee", MCC: "5814", PostedAt: day(2026, 3, 10)}
		if f != nil {
			f(&p)
		}
		return p
	}
	tests := []struct {
		name string
		o    Offer
		p    Purchase
		want bool
	}{
		{"qualifying purchase", coffee, buy(nil), true},
		{"merchant name in another case, with spaces", coffee, buy(func(p *Purchase) { p.Merchant = " BLUE HARBOR coffee " }), true},
		{"exactly the minimum spend", coffee, buy(func(p *Purchase) { p.Amount = 1000 }), true},
		{"under the minimum spend", coffee, buy(func(p *Purchase) { p.Amount = 999 }), false},
		{"another merchant", coffee, buy(func(p *Purchase) { p.Merchant = "Riverbend Bistro" }), false},
		{"another card", coffee, buy(func(p *Purchase) { p.CardID = 1001 }), false},
		{"another currency", coffee, buy(func(p *Purchase) { p.Currency = "EUR" }), false},
		{"a refund", coffee, buy(func(p *Purchase) { p.Kind, p.Amount = account.Refund, -1500 }), false},
		{"still pending", coffee, buy(func(p *Purchase) { p.Status = account.Pending }), false},
		{"before enrolment", coffee, buy(func(p *Purchase) { p.PostedAt = enrolled.Add(-time.Minute) }), false},
		{"at the moment of enrolment", coffee, buy(func(p *Purchase) { p.PostedAt = enrolled }), true},
		{"on the last day", coffee, buy(func(p *Purchase) { p.PostedAt = day(2026, 3, 31).Add(23 * time.Hour) }), true},
		{"after the end", coffee, buy(func(p *Purchase) { p.PostedAt = day(2026, 4, 1) }), false},
		{"by MCC, any merchant", grocers, buy(func(p *Purchase) { p.MCC, p.Merchant, p.Amount = "5411", "Cedar Street Grocers", 5000 }), true},
		{"by MCC, other MCC", grocers, buy(func(p *Purchase) { p.Amount = 5000 }), false},
		{"merchant and MCC, both match", both, buy(nil), true},
		{"merchant and MCC, MCC differs", both, buy(func(p *Purchase) { p.MCC = "5812" }), false},
		{"offer naming nothing matches nothing", Offer{MinSpend: 1, Currency: "USD", StartsOn: day(2026, 1, 1), EndsOn: day(2026, 12, 31)}, buy(nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Qualifies(tt.p, 1000, enrolled); got != tt.want {
				t.Errorf("Qualifies = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	o := Offer{StartsOn: day(2026, 3, 1), EndsOn: day(2026, 3, 31)}
	for at, want := range map[time.Time]bool{
		day(2026, 2, 28).Add(23 * time.Hour): false,
		day(2026, 3, 1):                      true,
		day(2026, 3, 31).Add(23 * time.Hour): true,
		day(2026, 4, 1):                      false,
	} {
		if got := o.Open(at); got != want {
			t.Errorf("Open(%v) = %v, want %v", at, got, want)
		}
	}
}

func TestLedgerKey(t *testing.T) {
	if LedgerKey(1, 23) == LedgerKey(12, 3) {
		t.Error("offer 1 on card 23 and offer 12 on card 3 share a ledger key")
	}
	if a, b := LedgerKey(5, 6), LedgerKey(5, 6); a != b {
		t.Error("the ledger key is not stable")
	}
}
