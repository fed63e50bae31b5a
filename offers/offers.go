// Package offers is the card benefits and merchant offers of SPEC AC6. Benefits are
// texts per product. A merchant offer ("spend 50 at X, get 10 back, until a date") is
// added by a member to a card; when a qualifying purchase posts on that card while the
// offer is enrolled and valid, the account gets a statement credit, once.
//
// Crediting is a sweep (Service.Sweep), not a hook in whatever posts purchases:
// postings arrive from many sources (the demo history, the card network, corrections),
// and the sweep finds qualifying purchases wherever they came from. The credit goes
// through account.Ledger.Post with a key derived from the offer and the card, so two
// sweeps (two instances, or a retry after a crash between posting and marking the
// enrolment) post it once.
package offers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/cardportal/cardportal/account"
)

// Offer is a merchant offer. Merchant and MCC select the purchases; an empty one
// matches any, and at least one is set. StartsOn and EndsOn are civil dates (UTC
// midnight), both inclusive.
type Offer struct {
	ID       int64
	Code     string
	Merchant string
	MCC      string
	MinSpend int64 // minor units
	Credit   int64 // minor units, positive
	Currency string
	StartsOn time.Time
	EndsOn   time.Time
}

// Open reports whether members may add the offer on the civil date of at.
func (o Offer) Open(at time.Time) bool {
	d := civil(at)
	return !d.Before(o.StartsOn) && !d.After(o.EndsOn)
}

// Purchase is a posting as the offer rules see it.
type Purchase struct {
	ID       int64
	CardID   int64
	Kind     account.Kind
	Status   account.Status
	Amount   int64
	Currency string
	Merchant string
	MCC      string
	PostedAt time.Time
}

// Qualifies is the rule: a posted purchase on the enrolled card, in the offer's
// currency, of at least MinSpend, at the merchant (names compared without regard to
// case or surrounding spaces) and in the MCC where the offer names them, posted while
// the offer was both enrolled (at or after enrolledAt) and valid (its civil date
// within StartsOn..EndsOn).
func (o Offer) Qualifies(p Purchase, cardID int64, enrolledAt time.Time) bool {
	switch {
	case p.Kind != account.Purchase || (p.Status != "" && p.Status != account.Posted):
		return false
	case p.CardID != cardID || p.Currency != o.Currency || p.Amount < o.MinSpend:
		return false
	case o.Merchant == "" && o.MCC == "":
		return false
	case o.Merchant != "" && !strings.EqualFold(strings.TrimSpace(p.Merchant), strings.TrimSpace(o.Merchant)):
		return false
	case o.MCC != "" && p.MCC != o.MCC:
		return false
	case p.PostedAt.Before(enrolledAt) || !o.Open(p.PostedAt):
		return false
	}
	return true
}

// LedgerKey is the idempotency key of the offer's credit on a card: one per offer
// and card, whatever runs the sweep and however often.
func LedgerKey(offerID, cardID int64) string {
	return "offer:" + strconv.FormatInt(offerID, 10) + ":card:" + strconv.FormatInt(cardID, 10)
}

// Enrolment is an offer added to a card.
type Enrolment struct {
	ID         int64
	OfferID    int64
	CardID     int64
	AccountID  int64
	EnrolledAt time.Time
	PostingID  int64 // the credit, once posted; 0 until then
}

// Benefit is one benefit of a product; TextID is its message ID.
type Benefit struct {
	ProductCode string
	TextID      string
}

// Store keeps offers, enrolments and benefits. Errors are *cardportal.Error values
// with the kinds stated.
type Store interface {
	// AccountOffers returns the offers in the account's currency that are open on the
	// civil date of at, and the enrolments of the cards cardholderID may see on the
	// account (every card for the basic member, their own for an additional one).
	// Returns NotFound if the holder is not on the account.
	AccountOffers(ctx context.Context, cardholderID, accountID int64, at time.Time) ([]Offer, []Enrolment, error)
	// Enrol adds offerID to cardID at at and returns the enrolment; adding it again
	// returns the existing one. Returns NotFound if the card is not one cardholderID
	// may see on accountID, or the offer does not exist, is not in the account's
	// currency, or is not open at at.
	Enrol(ctx context.Context, cardholderID, accountID, offerID, cardID int64, at time.Time) (Enrolment, error)
	// Benefits lists the benefits of the account's product in order. Returns NotFound
	// if the holder is not on the account.
	Benefits(ctx context.Context, cardholderID, accountID int64) ([]Benefit, error)

	// OpenEnrolments returns enrolments without a credit whose offer ended on or after
	// the civil date of since, with their offers, at most limit, by enrolment id.
	OpenEnrolments(ctx context.Context, since time.Time, after int64, limit int) ([]Enrolment, map[int64]Offer, error)
	// CardPurchases returns the posted purchases of the card posted in [from, to).
	CardPurchases(ctx context.Context, cardID int64, from, to time.Time) ([]Purchase, error)
	// MarkCredited records the posting with ledgerKey as the enrolment's credit.
	MarkCredited(ctx context.Context, enrolmentID int64, ledgerKey string) error
}

func civil(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
