// Package alerts is what a card member chooses to be told about (SPEC AC12), per
// channel: purchases over an amount, online purchases, a payment due in N days, a
// payment received, the balance going over an amount, a statement ready. Security
// notices are always on and cannot be switched off.
//
// The rules are pure functions of the preferences and the facts (Purchase,
// PaymentReceived, StatementReady, PaymentDue, Wants), so the code that sees the
// event (authorisations, payments, the statement job) asks them and sends what they
// return; this package stores preferences and runs the one alert that has no event of
// its own, payment due, from a daily job (job.go).
package alerts

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// Kind is an alert a member can receive.
type Kind string

// The alerts. Security is the notices of identity and card servicing (sign-in from a
// new device, password changed, card frozen...): always on.
const (
	PurchaseOver    Kind = "purchase_over"    // a purchase above Setting.Amount
	OnlinePurchase  Kind = "online_purchase"  // any card-not-present purchase
	PaymentDue      Kind = "payment_due"      // Setting.Days before the due date
	PaymentReceived Kind = "payment_received" // a payment posted
	BalanceOver     Kind = "balance_over"     // the balance went above Setting.Amount
	StatementReady  Kind = "statement_ready"  // a statement closed
	Security        Kind = "security"         // always on, every channel
)

// Kinds lists the switchable alerts in the order screens show them.
var Kinds = []Kind{PurchaseOver, OnlinePurchase, PaymentDue, PaymentReceived, BalanceOver, StatementReady}

// Valid reports whether k is a switchable alert.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// HasAmount reports whether the alert takes a threshold amount.
func (k Kind) HasAmount() bool { return k == PurchaseOver || k == BalanceOver }

// HasDays reports whether the alert takes a number of days.
func (k Kind) HasDays() bool { return k == PaymentDue }

// Channel is how an alert reaches the member.
type Channel string

// The channels. Push is recorded as a preference now; it has no transport yet and its
// messages are kept in the outbox (see notify).
const (
	Email Channel = "email"
	SMS   Channel = "sms"
	Push  Channel = "push"
)

// Channels lists the channels in the order screens show them.
var Channels = []Channel{Email, SMS, Push}

// Setting is one alert's preference.
type Setting struct {
	Email, SMS, Push bool
	Amount           int64 // threshold in the account's minor units (PurchaseOver, BalanceOver)
	Days             int   // lead time (PaymentDue)
}

// On reports whether the alert goes out on any channel.
func (s Setting) On() bool { return s.Email || s.SMS || s.Push }

// channels lists the channels s has on, in Channels order.
func (s Setting) channels() []Channel {
	var out []Channel
	for _, c := range []struct {
		on bool
		ch Channel
	}{{s.Email, Email}, {s.SMS, SMS}, {s.Push, Push}} {
		if c.on {
			out = append(out, c.ch)
		}
	}
	return out
}

// Prefs are a member's alert preferences; a kind missing from Settings has its
// default (Defaults).
type Prefs struct {
	Settings map[Kind]Setting
}

// Get returns the setting of k, the default when none is set.
func (p Prefs) Get(k Kind) Setting {
	if s, ok := p.Settings[k]; ok {
		return s
	}
	return Defaults[k]
}

// Defaults are the settings of a member who has chosen nothing: what a member would
// least like to miss (a payment about to be due, a statement ready) by email, and
// large purchases over the issuer's usual 500.00 threshold left for them to switch on.
var Defaults = map[Kind]Setting{
	PurchaseOver:    {Amount: 50000},
	OnlinePurchase:  {},
	PaymentDue:      {Email: true, Days: 5},
	PaymentReceived: {},
	BalanceOver:     {Amount: 100000},
	StatementReady:  {Email: true},
}

// Bounds on the parameters.
const (
	MaxAmount = 100_000_000 // 1,000,000.00 in a two-decimal currency
	MinDays   = 1
	MaxDays   = 30
)

// Validate checks one setting of k; problems are per field, named "<kind>.amount"
// and "<kind>.days".
func Validate(k Kind, s Setting) []cp.FieldError {
	var fs []cp.FieldError
	if k.HasAmount() && (s.Amount < 0 || s.Amount > MaxAmount) {
		fs = append(fs, cp.FieldError{Field: string(k) + ".amount", Msg: "alerts.amount.invalid"})
	}
	if k.HasDays() && (s.Days < MinDays || s.Days > MaxDays) {
		fs = append(fs, cp.FieldError{Field: string(k) + ".days", Msg: "alerts.days.invalid"})
	}
	return fs
}

// Wants returns the channels on which the member wants alerts of kind k: none for an
// alert switched off, every channel for Security, which cannot be switched off.
func Wants(p Prefs, k Kind) []Channel {
	if k == Security {
		return append([]Channel(nil), Channels...)
	}
	if !k.Valid() {
		return nil
	}
	return p.Get(k).channels()
}

// Alert is one alert to send: its kind, where to, and the values its message names
// (amounts in minor units; the sender formats them in the member's language).
type Alert struct {
	Kind     Kind
	Channels []Channel
	Amount   int64 // the purchase or payment amount; the balance for BalanceOver
	Currency string
	Merchant string
	Due      time.Time // PaymentDue: the due date
}

// PurchaseFacts is what the authorisation logic knows of a purchase when it is
// approved.
type PurchaseFacts struct {
	Amount   int64 // minor units, positive
	Currency string
	Online   bool // card not present
	Merchant string
}

// Purchase returns the alerts an approved purchase raises, given the balance it
// brings the account to (including the purchase): a purchase over the threshold
// (strictly above it), an online purchase, and the balance crossing its threshold —
// only on the purchase that crosses it, so a member over the line is not told again
// with every coffee.
func Purchase(p Prefs, f PurchaseFacts, balanceAfter int64) []Alert {
	var out []Alert
	add := func(k Kind, amount int64) {
		if ch := Wants(p, k); len(ch) > 0 {
			out = append(out, Alert{Kind: k, Channels: ch, Amount: amount, Currency: f.Currency, Merchant: f.Merchant})
		}
	}
	if f.Amount > p.Get(PurchaseOver).Amount {
		add(PurchaseOver, f.Amount)
	}
	if f.Online {
		add(OnlinePurchase, f.Amount)
	}
	limit := p.Get(BalanceOver).Amount
	if balanceAfter > limit && balanceAfter-f.Amount <= limit {
		add(BalanceOver, balanceAfter)
	}
	return out
}

// PaymentReceivedAlert returns the alert a posted payment raises, if the member wants
// it. amount is the payment as the member paid it (positive).
func PaymentReceivedAlert(p Prefs, amount int64, currency string) []Alert {
	if ch := Wants(p, PaymentReceived); len(ch) > 0 {
		return []Alert{{Kind: PaymentReceived, Channels: ch, Amount: amount, Currency: currency}}
	}
	return nil
}

// StatementReadyAlert returns the alert a closed statement raises, if wanted.
func StatementReadyAlert(p Prefs, closingBalance int64, currency string, due time.Time) []Alert {
	if ch := Wants(p, StatementReady); len(ch) > 0 {
		return []Alert{{Kind: StatementReady, Channels: ch, Amount: closingBalance, Currency: currency, Due: due}}
	}
	return nil
}

// PaymentDueAlert returns the payment-due alert for a statement due on due (a civil
// date) on the civil date today: from Days before the due date up to the due date
// itself, while amountDue (what is still to pay of the minimum) is positive. The job
// sends it once per statement; the window only says from when it may.
func PaymentDueAlert(p Prefs, due, today time.Time, amountDue int64, currency string) []Alert {
	s := p.Get(PaymentDue)
	if amountDue <= 0 || due.IsZero() {
		return nil
	}
	days := int(civil(due).Sub(civil(today)).Hours() / 24)
	if days < 0 || days > s.Days {
		return nil
	}
	if ch := Wants(p, PaymentDue); len(ch) > 0 {
		return []Alert{{Kind: PaymentDue, Channels: ch, Amount: amountDue, Currency: currency, Due: civil(due)}}
	}
	return nil
}

func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Store keeps alert preferences.
type Store interface {
	// AlertPrefs returns the member's settings (only the kinds they have set).
	// Returns NotFound if there is no such member.
	AlertPrefs(ctx context.Context, member identity.MemberID) (Prefs, error)
	// SetAlertPrefs writes the given settings (replacing those kinds), in one
	// transaction. Returns NotFound if there is no such member.
	SetAlertPrefs(ctx context.Context, member identity.MemberID, settings map[Kind]Setting, at time.Time) error
}
