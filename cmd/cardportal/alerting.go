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

func (o purchaseAlerts) Observe(ctx context.Context, events []authorize.Event) {
	ds := make([]alerts.CardDecision, 0, len(events))
	for _, e := range events {
		if e.Code != authorize.Approved && e.Code != authorize.RestrictedCard {
			continue
		}
		ds = append(ds, alerts.CardDecision{
			CardID: e.CardID,
			Facts:  alerts.PurchaseFacts{Amount: e.Amount, Currency: e.Currency, Online: e.Channel == account.Online, Merchant: e.Merchant.Name},
			Owed:   e.Owed,
			Frozen: e.Code == authorize.RestrictedCard,
		})
	}
	if len(ds) > 0 {
		o.p.Raise(ctx, ds)
	}
}
