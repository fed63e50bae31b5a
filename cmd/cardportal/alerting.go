package main

import (
	"context"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/authorize"
)

// purchaseAlerts hands the card network's decisions to the member's alerts (SPEC
// AC12): approvals to the purchase rules, declines of a frozen card to the
// frozen-card warning. The authorisation service calls it after answering, from its
// own goroutine, so alerts never slow a decision.
type purchaseAlerts struct{ p *alerts.Purchases }

func (o purchaseAlerts) Observe(ctx context.Context, e authorize.Event) {
	f := alerts.PurchaseFacts{Amount: e.Amount, Currency: e.Currency, Online: e.Channel == account.Online, Merchant: e.Merchant.Name}
	switch e.Code {
	case authorize.Approved:
		o.p.Approved(ctx, e.CardID, f)
	case authorize.RestrictedCard:
		o.p.FrozenDeclined(ctx, e.CardID, f)
	}
}
