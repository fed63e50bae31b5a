package authorize

import (
	"testing"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/card"
)

func TestDecide(t *testing.T) {
	cfg := Config{VelocityCount: 3, VelocityAmount: 100000, PINTries: 3, RecurringWhenFrozen: []string{"gold"}}
	pv := []byte("pin-value")
	ok := Checks{Product: "green", Channel: account.InPerson, Amount: 1000, Currency: "USD", AccountCcy: "USD", ExpiryMatch: true}
	snap := Snapshot{State: card.Active, CreditLimit: 50000, Balance: 20000, Pending: 5000, PINValue: pv}
	with := func(f func(c *Checks, s *Snapshot)) (Checks, Snapshot) {
		c, s := ok, snap
		f(&c, &s)
		return c, s
	}
	tests := []struct {
		name string
		f    func(c *Checks, s *Snapshot)
		want Code
		pin  PINOutcome
	}{
		{"approve", func(c *Checks, s *Snapshot) {}, Approved, PINNotChecked},
		{"lost", func(c *Checks, s *Snapshot) { s.State = card.Lost }, LostCard, 0},
		{"lost and expired says lost", func(c *Checks, s *Snapshot) { s.State = card.Lost; c.Expired = true }, LostCard, 0},
		{"closed", func(c *Checks, s *Snapshot) { s.State = card.Closed }, DoNotHonour, 0},
		{"not activated", func(c *Checks, s *Snapshot) { s.State = card.Inactive }, NotPermitted, 0},
		{"unknown state", func(c *Checks, s *Snapshot) { s.State = "odd" }, DoNotHonour, 0},
		{"expired", func(c *Checks, s *Snapshot) { c.Expired = true }, ExpiredCard, 0},
		{"expiry mismatch", func(c *Checks, s *Snapshot) { c.ExpiryMatch = false }, ExpiredCard, 0},
		{"frozen", func(c *Checks, s *Snapshot) { s.State = card.Frozen }, RestrictedCard, 0},
		{"frozen online", func(c *Checks, s *Snapshot) {
			s.State = card.Frozen
			c.Channel, c.CIDGiven, c.CIDOK = account.Online, true, true
		}, RestrictedCard, 0},
		{"frozen recurring, product does not allow", func(c *Checks, s *Snapshot) {
			s.State = card.Frozen
			c.Channel = account.Recurring
		}, RestrictedCard, 0},
		{"frozen recurring, product allows", func(c *Checks, s *Snapshot) {
			s.State = card.Frozen
			c.Channel, c.Product = account.Recurring, "gold"
		}, Approved, 0},
		{"frozen recurring allowed still needs credit", func(c *Checks, s *Snapshot) {
			s.State = card.Frozen
			c.Channel, c.Product, c.Amount = account.Recurring, "gold", 25001
		}, NoCredit, 0},
		{"currency", func(c *Checks, s *Snapshot) { c.Currency = "EUR" }, InvalidTxn, 0},
		{"zero amount", func(c *Checks, s *Snapshot) { c.Amount = 0 }, InvalidAmount, 0},
		{"online without CID", func(c *Checks, s *Snapshot) { c.Channel = account.Online }, CIDMismatch, 0},
		{"online wrong CID", func(c *Checks, s *Snapshot) { c.Channel, c.CIDGiven = account.Online, true }, CIDMismatch, 0},
		{"online right CID", func(c *Checks, s *Snapshot) { c.Channel, c.CIDGiven, c.CIDOK = account.Online, true, true }, Approved, 0},
		{"recurring without CID", func(c *Checks, s *Snapshot) { c.Channel = account.Recurring }, Approved, 0},
		{"recurring wrong CID", func(c *Checks, s *Snapshot) { c.Channel, c.CIDGiven = account.Recurring, true }, CIDMismatch, 0},
		{"in person ignores CID", func(c *Checks, s *Snapshot) { c.CIDGiven = true }, Approved, 0},
		{"right PIN", func(c *Checks, s *Snapshot) { c.PINGiven, c.PINValue = true, pv }, Approved, PINGood},
		{"wrong PIN", func(c *Checks, s *Snapshot) { c.PINGiven, c.PINValue = true, []byte("other") }, WrongPIN, PINBad},
		{"undecryptable PIN block", func(c *Checks, s *Snapshot) { c.PINGiven = true }, WrongPIN, PINBad},
		{"no PIN set", func(c *Checks, s *Snapshot) { c.PINGiven, c.PINValue, s.PINValue = true, pv, nil }, WrongPIN, PINBad},
		{"2 wrong PINs before, right now", func(c *Checks, s *Snapshot) {
			c.PINGiven, c.PINValue, s.PINFailures = true, pv, 2
		}, Approved, PINGood},
		{"PIN tries exceeded, even with the right PIN", func(c *Checks, s *Snapshot) {
			c.PINGiven, c.PINValue, s.PINFailures = true, pv, 3
		}, PINTriesExceeded, 0},
		{"PIN tries exceeded do not matter without a PIN", func(c *Checks, s *Snapshot) { s.PINFailures = 5 }, Approved, 0},
		{"frozen with a wrong PIN does not count", func(c *Checks, s *Snapshot) {
			s.State = card.Frozen
			c.PINGiven = true
		}, RestrictedCard, PINNotChecked},
		{"velocity count", func(c *Checks, s *Snapshot) { s.VelocityCount = 3 }, CountLimit, 0},
		{"velocity count, last one", func(c *Checks, s *Snapshot) { s.VelocityCount = 2 }, Approved, 0},
		{"velocity amount", func(c *Checks, s *Snapshot) { s.VelocityTotal = 99001 }, AmountLimit, 0},
		{"velocity amount, exactly", func(c *Checks, s *Snapshot) { s.VelocityTotal = 99000 }, Approved, 0},
		{"velocity keeps the PIN outcome", func(c *Checks, s *Snapshot) {
			c.PINGiven, c.PINValue, s.VelocityCount = true, pv, 3
		}, CountLimit, PINGood},
		{"over available", func(c *Checks, s *Snapshot) { c.Amount = 25001 }, NoCredit, 0},
		{"exactly available", func(c *Checks, s *Snapshot) {
			c.Amount = 25000
			s.VelocityTotal = 0
		}, Approved, 0},
		{"over limit already", func(c *Checks, s *Snapshot) { s.Balance = 60000 }, NoCredit, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := with(tt.f)
			d := Decide(cfg, c, s)
			if d.Code != tt.want || d.PIN != tt.pin {
				t.Errorf("Decide = %s (%s, PIN %d), want %s (PIN %d)", d.Code, d.Reason, d.PIN, tt.want, tt.pin)
			}
			if d.Approved() != (tt.want == Approved) {
				t.Errorf("Approved() = %v", d.Approved())
			}
		})
	}
	// Exactly the available credit is approved when no velocity rule is in the way.
	c, s := ok, snap
	c.Amount = s.Available()
	if d := Decide(Config{}, c, s); d.Code != Approved {
		t.Errorf("exactly the available credit: %s", d.Code)
	}
	c.Amount++
	if d := Decide(Config{}, c, s); d.Code != NoCredit {
		t.Errorf("one more than the available credit: %s", d.Code)
	}
}
