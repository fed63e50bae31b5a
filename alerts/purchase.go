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
	// Alertees returns, for each of the cards that has any, the registered members
	// who hear of a purchase on it — its holder and, for an additional member's card,
	// the account's basic card member who pays for it. Cards with no registered
	// member, and unknown cards, are left out.
	Alertees(ctx context.Context, cardIDs []int64) (map[int64][]identity.MemberID, error)
}

// CardDecision is a decision of the card network's interface that may raise alerts:
// an approved purchase, or a decline because the card is frozen.
type CardDecision struct {
	CardID int64
	Facts  PurchaseFacts
	// Owed is what the account owed once the decision was made: the posted balance
	// plus open holds, an approval's own hold included. It comes from the decision
	// itself, so a balance alert is right however many purchases follow before the
	// alerts run.
	Owed   int64
	Frozen bool // declined because the card is frozen; otherwise approved
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

// Raise raises the alerts of decisions, in their order. The cards' members are
// looked up once for all of them, and each member's preferences once.
func (p *Purchases) Raise(ctx context.Context, ds []CardDecision) {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.CardID
	}
	members, err := p.Cards.Alertees(ctx, ids)
	if err != nil {
		p.Log.ErrorContext(ctx, "purchase alerts: cards", "decisions", len(ds), "err", err)
		return
	}
	prefs := map[identity.MemberID]Prefs{}
	for _, d := range ds {
		for _, m := range members[d.CardID] {
			if d.Frozen {
				p.Alerts.Send(ctx, m, []Alert{{Kind: FrozenAttempt, Channels: Wants(Prefs{}, Security),
					Amount: d.Facts.Amount, Currency: d.Facts.Currency, Merchant: d.Facts.Merchant}})
				continue
			}
			pr, ok := prefs[m]
			if !ok {
				if pr, err = p.Alerts.Prefs(ctx, m); err != nil {
					p.Log.ErrorContext(ctx, "purchase alert: preferences", "member", m, "err", err)
					continue
				}
				prefs[m] = pr
			}
			p.Alerts.Send(ctx, m, Purchase(pr, d.Facts, d.Owed))
		}
	}
}
