// Package account is the card account a member sees: balances, credit, cards and,
// later, transactions, statements and payments. Money is integer minor units with an
// ISO 4217 currency code; balances are derived from ledger postings, never stored.
package account

import (
	"context"
	"time"
)

// Summary is the account overview of the dashboard (SPEC AC1).
type Summary struct {
	AccountID   int64
	ProductName string
	Currency    string
	Balance     int64 // what the member owes: sum of postings, positive = owed
	CreditLimit int64
	Pending     int64 // open authorisation holds: the sum of pending postings
	// The last statement's figures (package statement): its due date and balance, and
	// what is left of its minimum due after the payments dated since it closed. All
	// zero before the first statement; PaymentDue is zero when the statement balance
	// was not a debt.
	PaymentDue       time.Time
	MinimumDue       int64
	StatementBalance int64
	StatementDate    time.Time // the last statement's closing date
	Cards            []Card
}

// Available is the credit left: limit minus balance minus pending holds, never negative
// for display purposes but kept signed so an over-limit account shows as such.
func (s Summary) Available() int64 { return s.CreditLimit - s.Balance - s.Pending }

// Card is one card on the account as a screen may show it: never the full number.
type Card struct {
	CardID     int64
	Last       string // last 5 digits of a 15-digit number, last 4 of a 16-digit one
	HolderName string
	Basic      bool
	State      string
	Expiry     string // MM/YY
}

// Store reads account figures.
type Store interface {
	// Summaries returns the accounts the card holder may see: for a basic card member,
	// every card on the account; for an additional member, only their own cards. The
	// slice is empty (not an error) if there are none.
	Summaries(ctx context.Context, cardholderID int64) ([]Summary, error)
}
