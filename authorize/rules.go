// Package authorize decides the card network's real-time messages (SPEC AC15, AC9):
// authorisation requests, reversals, clearings and refunds. It holds the decision
// rules, the message and answer types and the Store interface they need; the HTTP
// interface the network calls is package network, and the SQL is in sqlstore.
//
// How money moves (see account/ledger.go for the chart of accounts):
//   - an approved authorisation places a hold: a pending purchase posting under the
//     key "auth:<message id>", which the account summary counts in Pending and so in
//     the available credit;
//   - a reversal releases the hold (status 'released'), fully or in part; a partial
//     reversal releases the hold and places a smaller one, so that a posting's amount
//     never changes after it is written;
//   - clearing posts the purchase for the amount presented (which may differ from
//     the authorised one, and may have no authorisation at all: clearing cannot be
//     declined, disputes come later) under "clr:<message id>" and releases the hold
//     it names, whatever is left of it. One clearing closes an authorisation; a
//     second presentment for the same authorisation posts but releases nothing;
//   - a refund posts a refund (a credit) under "ref:<message id>";
//   - a hold never cleared expires after Config.HoldFor and is released by a sweep.
//
// Every message is idempotent on its message id: the first answer is stored with the
// message's digest, a resend gets that answer and changes nothing, and a different
// message under the same id is a Conflict.
package authorize

import (
	"crypto/hmac"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/card"
)

// Code is an ISO 8583 response code (field 39).
type Code string

// The response codes this issuer answers, and when:
//
//	00  approved
//	05  do not honour: the card is closed
//	12  invalid transaction: currency is not the account's
//	13  invalid amount (not positive)
//	14  invalid card number: no card of ours has it
//	25  unable to locate the original (reversal of an unknown authorisation)
//	41  lost card: the card was reported lost or stolen (the portal keeps one state
//	    for both, so 43 "stolen" is never answered)
//	46  closed account: the network token named was deleted (Visa's code for a
//	    credential that will never be approved again)
//	51  insufficient credit: amount > limit - posted balance - open holds
//	54  expired card, or the expiry given is not the card's
//	55  incorrect PIN (also: a PIN block when no PIN is set, or one that does not
//	    decrypt)
//	57  transaction not permitted to card holder: the card is not activated yet
//	61  exceeds amount limit: the velocity amount rule
//	62  restricted card: the card is frozen (recurring payments may pass, see
//	    Config.RecurringWhenFrozen), or the network token named is suspended
//	65  exceeds frequency limit: the velocity count rule
//	75  allowable number of PIN tries exceeded: 3 wrong PINs block PIN use until the
//	    PIN is changed
//	N7  CVV2/CID mismatch: an online purchase without a CID or with a wrong one
//	96  system malfunction (never stored; the network retries)
const (
	Approved          Code = "00"
	DoNotHonour       Code = "05"
	InvalidTxn        Code = "12"
	InvalidAmount     Code = "13"
	NoSuchCard        Code = "14"
	NoOriginal        Code = "25"
	LostCard          Code = "41"
	StolenCard        Code = "43"
	ClosedAccount     Code = "46"
	NoCredit          Code = "51"
	ExpiredCard       Code = "54"
	WrongPIN          Code = "55"
	NotPermitted      Code = "57"
	AmountLimit       Code = "61"
	RestrictedCard    Code = "62"
	CountLimit        Code = "65"
	PINTriesExceeded  Code = "75"
	CIDMismatch       Code = "N7"
	SystemMalfunction Code = "96"
)

// Config is the issuer's authorisation policy.
type Config struct {
	// HoldFor is how long an authorisation hold stays open without clearing.
	HoldFor time.Duration
	// Velocity: at most VelocityCount approvals and VelocityAmount minor units per
	// card in any VelocityWindow (sliding, ending now). Zero disables a rule.
	VelocityCount  int
	VelocityAmount int64
	VelocityWindow time.Duration
	// PINTries wrong PINs block PIN use (75) until the PIN is changed.
	PINTries int
	// RecurringWhenFrozen lists the product codes whose frozen cards still pay
	// recurring merchants (subscriptions keep running while a card is paused). Every
	// other rule still applies to them.
	RecurringWhenFrozen []string
}

// DefaultConfig is the policy the demo issuer ships: holds for 7 days, 30 approvals
// or 5,000.00 per card per hour, 3 PIN tries, and the Gold and Platinum cards keep
// subscriptions running while frozen.
var DefaultConfig = Config{
	HoldFor:             7 * 24 * time.Hour,
	VelocityCount:       30,
	VelocityAmount:      500000,
	VelocityWindow:      time.Hour,
	PINTries:            3,
	RecurringWhenFrozen: []string{"gold", "platinum"},
}

// PINOutcome says what the PIN check found, so the store can count wrong PINs.
type PINOutcome uint8

// PIN outcomes.
const (
	PINNotChecked PINOutcome = iota
	PINGood
	PINBad
)

// Checks are what the service finds out before the transaction, from the message and
// the card's immutable facts, with the HSM.
type Checks struct {
	Product     string
	Channel     account.Channel
	Amount      int64
	Currency    string // the message's
	AccountCcy  string // the account's
	ExpiryMatch bool
	Expired     bool
	CIDGiven    bool
	CIDOK       bool
	// Tokenised: the card was named by a network token, whose device cryptogram the
	// token service checked in place of the CID (token.go).
	Tokenised bool
	PINGiven  bool
	// PINValue is the verification value of the PIN in the block (nil if the block
	// did not decrypt), compared with the stored one in Decide.
	PINValue []byte
}

// Snapshot is the account and card as they are inside the decision's transaction,
// after the account is locked: nothing in it can change before the commit.
type Snapshot struct {
	State         card.State
	CreditLimit   int64
	Balance       int64 // posted
	Pending       int64 // open holds
	VelocityCount int   // approvals of the card in the window
	VelocityTotal int64 // their amounts
	PINValue      []byte
	PINFailures   int
	// Token and TokenExpiry are the status and expiry of the network token the card
	// was named by; Token is "" when it was named by its number.
	Token       TokenStatus
	TokenExpiry card.Expiry
}

// Available is the credit left: limit - posted balance - open holds.
func (s Snapshot) Available() int64 { return s.CreditLimit - s.Balance - s.Pending }

// Decision is the answer to an authorisation request.
type Decision struct {
	Code Code
	// Reason says why in words for the log and the observer; never sent.
	Reason string
	PIN    PINOutcome
}

// reasonFrozen is the Reason of a decline because the card is frozen, which the
// Observer hears of ("someone tried to use your frozen card").
const reasonFrozen = "card frozen"

// Approved reports whether the decision approves.
func (d Decision) Approved() bool { return d.Code == Approved }

// Decide applies the rules, in this order (the first that fails answers):
//
//  1. card state: lost (41), closed (05), not activated (57); then, when the card
//     was named by a network token, the token's: deleted (46), suspended (62);
//  2. expiry: the card (or its token) has expired, or the expiry given is not the
//     card's (the token's) (54);
//  3. frozen (62), unless the channel is recurring and the product lets frozen cards
//     pay recurring merchants;
//  4. currency (12) and amount (13);
//  5. CID: required for online purchases, checked for recurring ones when given, not
//     used in person (N7);
//  6. PIN, when a PIN block was sent: blocked after cfg.PINTries wrong PINs (75); no
//     PIN set, an undecryptable block or a wrong PIN (55, and counted); a right PIN
//     resets the count;
//  7. velocity: count (65), then amount (61), both including this request;
//  8. available credit (51).
//
// State comes before expiry so a lost card is reported as lost whatever its date;
// the PIN comes late so that a request declined for another reason never counts
// against the PIN.
func Decide(cfg Config, c Checks, s Snapshot) Decision {
	switch s.State {
	case card.Lost:
		return Decision{Code: LostCard, Reason: "card lost or stolen"}
	case card.Closed:
		return Decision{Code: DoNotHonour, Reason: "card closed"}
	case card.Inactive:
		return Decision{Code: NotPermitted, Reason: "card not activated"}
	case card.Active, card.Frozen:
	default:
		return Decision{Code: DoNotHonour, Reason: "card state unknown"}
	}
	switch s.Token {
	case "", TokenActive:
	case TokenSuspended:
		return Decision{Code: RestrictedCard, Reason: "token suspended"}
	default:
		return Decision{Code: ClosedAccount, Reason: "token deleted"}
	}
	if c.Expired {
		return Decision{Code: ExpiredCard, Reason: "card expired"}
	}
	if !c.ExpiryMatch {
		return Decision{Code: ExpiredCard, Reason: "expiry mismatch"}
	}
	if s.State == card.Frozen && !(c.Channel == account.Recurring && contains(cfg.RecurringWhenFrozen, c.Product)) {
		return Decision{Code: RestrictedCard, Reason: reasonFrozen}
	}
	if c.Currency != c.AccountCcy {
		return Decision{Code: InvalidTxn, Reason: "currency is not the account's"}
	}
	if c.Amount <= 0 {
		return Decision{Code: InvalidAmount, Reason: "amount not positive"}
	}
	switch {
	case c.Tokenised:
	case c.Channel == account.Online && (!c.CIDGiven || !c.CIDOK):
		return Decision{Code: CIDMismatch, Reason: "CID missing or wrong"}
	case c.Channel == account.Recurring && c.CIDGiven && !c.CIDOK:
		return Decision{Code: CIDMismatch, Reason: "CID wrong"}
	}
	pin := PINNotChecked
	if c.PINGiven {
		tries := cfg.PINTries
		if tries <= 0 {
			tries = 3
		}
		switch {
		case s.PINFailures >= tries:
			return Decision{Code: PINTriesExceeded, Reason: "PIN tries exceeded"}
		case s.PINValue == nil || c.PINValue == nil || !hmac.Equal(s.PINValue, c.PINValue):
			return Decision{Code: WrongPIN, Reason: "wrong PIN", PIN: PINBad}
		}
		pin = PINGood
	}
	if cfg.VelocityCount > 0 && s.VelocityCount+1 > cfg.VelocityCount {
		return Decision{Code: CountLimit, Reason: "velocity count", PIN: pin}
	}
	if cfg.VelocityAmount > 0 && s.VelocityTotal+c.Amount > cfg.VelocityAmount {
		return Decision{Code: AmountLimit, Reason: "velocity amount", PIN: pin}
	}
	if c.Amount > s.Available() {
		return Decision{Code: NoCredit, Reason: "insufficient credit", PIN: pin}
	}
	return Decision{Code: Approved, Reason: "approved", PIN: pin}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
