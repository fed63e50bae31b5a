// Package rewards is the card account's points programme (SPEC AC5): points earned on
// posted purchases at the product's earn rates, taken back on refunds, and redeemed
// from a catalogue (statement credit, vouchers, merchandise, travel).
//
// Points are a ledger of their own. A sweep (Service.Sweep) reads posted purchases and
// refunds that have no points entry yet and writes one per posting, so it is
// idempotent per posting id whatever source the posting came from and however late it
// committed. The SQL stores keep those postings in a work queue filled by triggers on
// the postings table, in the transaction that inserts a posted purchase or refund or
// updates a posting to one, so a posting is queued whatever code wrote it and an idle
// sweep reads an empty queue rather than the whole history. A posting leaves the queue
// only in the transaction that writes its entry or finds one there already, so none is
// lost. A "last processed id" watermark would be as cheap but wrong on PostgreSQL: ids
// are taken at insert and rows become visible at commit, so it would skip a row that
// took an id early and committed late; a queue row, like the posting, appears at
// commit. The balance is the sum of the entries.
//
// Rounding: a purchase earns floor(amount × rate / 100) points, rate being points per
// 100 minor units (per 1.00 of a two-decimal currency) of the purchase's MCC bonus
// category or, failing that, the product's base rate. Each posting rounds on its own.
//
// Refunds: a refund takes back what its purchase earned for the refunded amount. A
// refund posting does not name its purchase, so it is matched to the newest posted
// purchase on the same account, card, merchant and MCC, posted no later than the
// refund, that still has points not taken back; the refund takes back floor(refund ×
// that purchase's rate / 100), at most what is left of that purchase (nothing, once
// every matching purchase was refunded in full). A refund that matches no purchase (the purchase predates the programme, or the merchant's name
// differs) takes back at the current rate of its own MCC, so that a purchase and its
// refund can never net a gain. The balance may therefore go below zero after points
// were spent; redemptions need a balance that covers them.
package rewards

import (
	"context"
	"time"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
)

// Rates are a product's earn rates, in points per 100 minor units.
type Rates struct {
	Base  int64
	Bonus map[string]int64 // by MCC
}

// Rate is the rate for a purchase in mcc.
func (r Rates) Rate(mcc string) int64 {
	if b, ok := r.Bonus[mcc]; ok {
		return b
	}
	return r.Base
}

// Points is what amount minor units earn at rate, rounded down. Negative amounts
// (refunds) give the negative of what the same positive amount would earn, so a
// purchase and its full refund always cancel out.
func Points(amount, rate int64) int64 {
	if amount < 0 {
		return -Points(-amount, rate)
	}
	return amount * rate / 100
}

// EntryKind is what a points entry records.
type EntryKind string

// The kinds of points entry.
const (
	Earn    EntryKind = "earn"    // a posted purchase
	Reverse EntryKind = "reverse" // a posted refund
	Redeem  EntryKind = "redeem"  // a redemption
)

// Entry is one line of the points history.
type Entry struct {
	ID          int64
	AccountID   int64
	Kind        EntryKind
	Points      int64 // signed: earned positive, reversed and redeemed negative
	PostingID   int64 // the purchase or refund; 0 for a redemption
	MatchedID   int64 // for a reversal: the purchase it takes back from, or 0
	Description string
	At          time.Time
}

// Posting is a purchase or refund as the sweep sees it.
type Posting struct {
	ID          int64
	AccountID   int64
	CardID      int64
	ProductCode string
	Kind        account.Kind
	Amount      int64
	Merchant    string
	MCC         string
	Description string
	PostedAt    time.Time
}

// Earned is a purchase's points entry with what refunds have taken back from it, a
// candidate for matching a refund.
type Earned struct {
	PostingID int64
	Amount    int64 // the purchase amount
	MCC       string
	Points    int64 // earned
	Reversed  int64 // taken back so far, positive
	PostedAt  time.Time
}

// Left is what refunds may still take back.
func (e Earned) Left() int64 { return max(e.Points-e.Reversed, 0) }

// Reversal is the rule for a refund (see the package comment): the newest candidate
// with points left, at its rate, capped at what is left; nothing when every candidate
// was refunded in full already; with no candidate at all, the refund's own MCC rate. It returns the matched purchase (0 for none) and the points, negative or
// zero.
func Reversal(refund Posting, cands []Earned, r Rates) (matched, points int64) {
	amount := -refund.Amount // positive
	newer := func(a, b *Earned) bool {
		return b == nil || a.PostedAt.After(b.PostedAt) || (a.PostedAt.Equal(b.PostedAt) && a.PostingID > b.PostingID)
	}
	var best, spent *Earned
	for i := range cands {
		c := &cands[i]
		switch {
		case c.PostedAt.After(refund.PostedAt):
		case c.Left() <= 0:
			if newer(c, spent) {
				spent = c
			}
		case newer(c, best):
			best = c
		}
	}
	if best == nil && spent != nil {
		// Its purchases were refunded in full already: nothing is left to take back.
		return spent.PostingID, 0
	}
	if best == nil {
		return 0, -Points(amount, r.Rate(refund.MCC))
	}
	// The purchase's own rate is what it earned per unit: points/amount, applied to
	// the refunded part, rounded down, so a full refund takes back exactly what was
	// earned.
	back := best.Points
	if amount < best.Amount {
		back = amount * best.Points / best.Amount
	}
	return best.PostingID, -min(back, best.Left())
}

// ItemKind is what a catalogue item gives.
type ItemKind string

// The kinds of catalogue item.
const (
	StatementCredit ItemKind = "statement_credit"
	Voucher         ItemKind = "voucher"
	Merchandise     ItemKind = "merchandise"
	Travel          ItemKind = "travel"
)

// ItemKinds lists the kinds in the order the catalogue shows them.
var ItemKinds = []ItemKind{StatementCredit, Voucher, Merchandise, Travel}

// Item is one thing points buy. Points is the price of a fixed item; with a Step, the
// member chooses any multiple of Step from Points (the minimum) up. A statement credit
// is worth Value minor units of Currency per 100 points.
type Item struct {
	ID       int64
	Code     string // stable key; also names its text: "rewards.item.<code>"
	Kind     ItemKind
	Points   int64
	Step     int64
	Value    int64
	Currency string
}

// NameID is the message ID of the item's name.
func (it Item) NameID() string { return "rewards.item." + it.Code }

// Cost checks the points asked for against the item's price or minimum and step. 0
// means the item's price (or minimum).
func (it Item) Cost(points int64) (int64, error) {
	if points == 0 {
		points = it.Points
	}
	bad := func(msg string) error {
		return cp.InvalidFields("rewards.Item.Cost", cp.FieldError{Field: "points", Msg: msg})
	}
	switch {
	case it.Step == 0 && points != it.Points:
		return 0, bad("rewards.error.points")
	case points < it.Points:
		return 0, bad("rewards.error.minimum")
	case it.Step > 0 && (points-it.Points)%it.Step != 0:
		return 0, bad("rewards.error.step")
	case points > MaxPoints:
		return 0, bad("rewards.error.points")
	}
	return points, nil
}

// Credit is the statement credit points buy, in minor units; 0 for other kinds.
func (it Item) Credit(points int64) int64 {
	if it.Kind != StatementCredit {
		return 0
	}
	return points * it.Value / 100
}

// MaxPoints bounds one redemption, far above any balance, so arithmetic on it cannot
// overflow.
const MaxPoints = 1_000_000_000

// MaxKeyLen bounds a client's idempotency key; the ledger key built from it must fit
// account.MaxKeyLen.
const MaxKeyLen = 64

// Redemption is points spent on an item.
type Redemption struct {
	ID             int64
	AccountID      int64
	CardholderID   int64 // who redeemed
	ItemID         int64
	ItemCode       string
	Kind           ItemKind
	Points         int64
	Credit         int64  // statement credit in minor units; 0 for other kinds
	Currency       string // of the credit; "" for other kinds
	PostingID      int64  // the credit's posting; 0 for other kinds
	IdempotencyKey string
	CreatedAt      time.Time
}

// Same reports whether r is what a retry of in would create.
func (r Redemption) Same(in Redemption) bool {
	return r.AccountID == in.AccountID && r.ItemID == in.ItemID && r.Points == in.Points
}

// CheckKey validates a client's idempotency key.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return cp.InvalidFields("rewards.CheckKey", cp.FieldError{Field: "idempotency_key", Msg: "error.invalid"})
	}
	for _, r := range key {
		if r <= 0x20 || r == 0x7f {
			return cp.InvalidFields("rewards.CheckKey", cp.FieldError{Field: "idempotency_key", Msg: "error.invalid"})
		}
	}
	return nil
}

// Account is an account as the programme sees it for one card holder.
type Account struct {
	ID          int64
	Currency    string
	ProductCode string
	Basic       bool // the card holder is the account's basic member
}

// Store keeps the points ledger, the catalogue and redemptions. Errors are
// *cardportal.Error values with the kinds stated.
type Store interface {
	// RewardsAccount returns accountID as cardholderID sees it. Returns NotFound if the
	// holder is not on the account.
	RewardsAccount(ctx context.Context, cardholderID, accountID int64) (Account, error)
	// PointsBalance is the sum of the account's points entries.
	PointsBalance(ctx context.Context, accountID int64) (int64, error)
	// HolderPointsBalance is PointsBalance if cardholderID is on the account; NotFound
	// otherwise.
	HolderPointsBalance(ctx context.Context, cardholderID, accountID int64) (int64, error)
	// PointsHistory returns the account's non-zero entries, newest first, at most
	// limit.
	PointsHistory(ctx context.Context, accountID int64, limit int) ([]Entry, error)
	// Catalogue lists the items in display order.
	Catalogue(ctx context.Context) ([]Item, error)
	// RewardItem returns one item; NotFound if there is none.
	RewardItem(ctx context.Context, id int64) (Item, error)
	// Redeem records r (and, for a statement credit, posts credit, which has passed
	// account.Entry.Validate) in one transaction, serialised per account: it refuses
	// with Conflict "rewards.error.insufficient" if the balance is below r.Points,
	// however many redemptions race. A retry with r's (account, key) returns the first
	// redemption; the same key for a different item or points is Conflict.
	Redeem(ctx context.Context, r Redemption, credit *account.Entry) (Redemption, error)
	// Redemptions lists the account's redemptions, newest first, at most limit.
	Redemptions(ctx context.Context, accountID int64, limit int) ([]Redemption, error)
	// Redemption returns one of the account's redemptions; NotFound for any other id.
	Redemption(ctx context.Context, accountID, id int64) (Redemption, error)

	// EarnRates returns every product's rates by product code.
	EarnRates(ctx context.Context) (map[string]Rates, error)
	// UnrewardedPostings returns up to limit posted purchases and refunds with id >
	// after that have no points entry, in id order.
	UnrewardedPostings(ctx context.Context, after int64, limit int) ([]Posting, error)
	// RefundCandidates returns the points entries of the posted purchases on the
	// refund's account and card, at its merchant and MCC, posted no later than it, with
	// what reversals have taken back from each.
	RefundCandidates(ctx context.Context, refund Posting) ([]Earned, error)
	// AddPoints stores entries for postings; an entry whose posting already has one is
	// skipped. Returns how many were stored.
	AddPoints(ctx context.Context, es []Entry) (int, error)
}
