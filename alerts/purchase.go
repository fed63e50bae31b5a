package alerts

import (
	"context"
	"log/slog"

	"github.com/cardportal/cardportal/identity"
)

// FrozenAttempt warns that a frozen card was tried ("someone tried to use your frozen
// card"). It is a security notice: always on, on every channel, never switchable.
const FrozenAttempt Kind = "frozen_attempt"

// CardStore finds who hears of a card's purchases.
type CardStore interface {
	// CardAlertees returns the registered members who hear of a purchase on the card
	// — its holder and, for an additional member's card, the account's basic card
	// member who pays for it — with what the account owes now: the posted balance
	// plus open holds. Members who have not registered are left out. Returns NotFound
	// for an unknown card.
	CardAlertees(ctx context.Context, cardID int64) (members []identity.MemberID, owed int64, err error)
}

// Purchases raises the alerts of the card network's decisions (SPEC AC12, AC15):
// purchase over an amount, online purchase and balance over an amount on an
// approval, each member by their own preferences; and the frozen-card warning on a
// decline because the card is frozen. It runs after the network was answered, so
// nothing here can slow or change a decision; a failure is logged and the alert is
// lost, never retried into a duplicate.
type Purchases struct {
	Alerts *Service
	Cards  CardStore
	Log    *slog.Logger
}

// Approved raises the alerts of an approved purchase on the card.
func (p *Purchases) Approved(ctx context.Context, cardID int64, f PurchaseFacts) {
	members, owed, err := p.Cards.CardAlertees(ctx, cardID)
	if err != nil {
		p.Log.ErrorContext(ctx, "purchase alert: card", "card", cardID, "err", err)
		return
	}
	for _, m := range members {
		prefs, err := p.Alerts.Prefs(ctx, m)
		if err != nil {
			p.Log.ErrorContext(ctx, "purchase alert: preferences", "member", m, "err", err)
			continue
		}
		p.Alerts.Send(ctx, m, Purchase(prefs, f, owed))
	}
}

// FrozenDeclined warns the card's members that the frozen card was tried.
func (p *Purchases) FrozenDeclined(ctx context.Context, cardID int64, f PurchaseFacts) {
	members, _, err := p.Cards.CardAlertees(ctx, cardID)
	if err != nil {
		p.Log.ErrorContext(ctx, "frozen-card alert: card", "card", cardID, "err", err)
		return
	}
	for _, m := range members {
		p.Alerts.Send(ctx, m, []Alert{{Kind: FrozenAttempt, Channels: Wants(Prefs{}, Security),
			Amount: f.Amount, Currency: f.Currency, Merchant: f.Merchant}})
	}
}
