// Package issuer holds the issuer's own records — card products, accounts, card
// holders and cards — as the issuer's core systems hand them to online services, and
// the interface that loads them. Online services read these records; members never
// write them.
package issuer

import (
	"context"
	"time"

	"github.com/cardportal/cardportal/cardcrypto"
)

// Product is a card product.
type Product struct {
	ID        int64
	Code      string // stable key, e.g. "gold"
	Name      string
	PANLength int // 15 or 16
	Currency  string
}

// Account is a card account. Balance is not here: it is the sum of Postings.
type Account struct {
	ID          int64
	ProductCode string
	Currency    string
	CreditLimit int64     // minor units
	PaymentDue  time.Time // civil date; zero when nothing is due
	MinimumDue  int64
	OpenedAt    time.Time
	// CycleDay is the day of the month its statements close, 1 to 28; 0 takes the
	// statement package's rule (the opening day, capped at 28).
	CycleDay int
}

// CardHolder is a person a card is issued to.
type CardHolder struct {
	ID            int64
	AccountID     int64
	Basic         bool
	Name          string
	BirthDate     time.Time // civil date
	NationalIDMAC []byte    // keyed MAC of the last 4 of the national ID
	Email         string
	Phone         string
	// Address is the billing address (issuer/address.go); zero when the issuer has
	// none on record.
	Address Address
}

// Card states.
const (
	StateInactive = "inactive"
	StateActive   = "active"
	StateFrozen   = "frozen"
	StateLost     = "lost"
	StateClosed   = "closed"
)

// Card is a plastic (or virtual) card. The number is sealed by the HSM and found by its
// keyed fingerprint; only the last digits are kept in clear, for screens.
type Card struct {
	ID           int64
	AccountID    int64
	CardHolderID int64
	Sealed       cardcrypto.Sealed
	Fingerprint  []byte
	Last         string
	ExpMonth     int
	ExpYear      int
	State        string
	IssuedAt     time.Time
}

// Posting is one ledger entry on an account: positive amounts increase what the member
// owes (purchases, fees), negative ones reduce it (payments, refunds, credits).
type Posting struct {
	ID             int64
	AccountID      int64
	Amount         int64
	Kind           string
	Description    string
	TextID         string            // a text the system writes, as a catalogue message (see account.Entry)
	TextArgs       map[string]string // TextID's named arguments
	PostedAt       time.Time
	IdempotencyKey string // unique when set
	// Where and how the card was used (see account.Entry); zero for account-level
	// entries such as payments and interest.
	CardID   int64
	Merchant string
	MCC      string
	City     string
	Country  string
	Channel  string
	Status   string // "pending" for an open authorisation hold; "" means posted
}

// Dataset is a whole issuer's records, with IDs assigned by the producer so that
// references between them hold before they are stored.
type Dataset struct {
	Products    []Product
	Accounts    []Account
	CardHolders []CardHolder
	Cards       []Card
	Postings    []Posting
	Statements  []Statement
}

// Statement is a closed billing cycle as the issuer's history has it (see the
// statement package for the rules and the meaning of the figures).
type Statement struct {
	ID          int64
	AccountID   int64
	PeriodStart time.Time // civil dates
	ClosingDate time.Time
	DueDate     time.Time
	Currency    string
	Opening     int64
	Purchases   int64
	Credits     int64
	Interest    int64
	Closing     int64
	MinimumDue  int64
	Delivery    string // "online" or "mailed"
	CreatedAt   time.Time
}

// Loader loads issuer records.
type Loader interface {
	// HasIssuerData reports whether any product is stored.
	HasIssuerData(ctx context.Context) (bool, error)
	// LoadIssuer writes the dataset in one transaction, keeping its IDs. Returns
	// Conflict if any of it is already stored; then nothing is written.
	LoadIssuer(ctx context.Context, d Dataset) error
}
