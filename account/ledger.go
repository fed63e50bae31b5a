package account

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
)

// The ledger (SPEC AC1, AC2, DESIGN "everything that changes money is a ledger
// entry").
//
// Chart of accounts. Each posting is the card-account side of a double entry: the
// member's receivable, in the account's currency, positive when the member owes more.
// The other side is implied by the kind and is not stored, because online services
// keep only the member's side and the issuer's general ledger lives elsewhere:
//
//	kind      card account   implied counter-entry
//	purchase  debit  (+)     credit merchant settlement (network payable)
//	refund    credit (-)     debit  merchant settlement
//	payment   credit (-)     debit  cash / bank clearing
//	fee       debit  (+)     credit fee income
//	interest  debit  (+)     credit interest income
//	credit    credit (-)     debit  statement-credit and rewards expense
//	adjustment debit (+)     credit the expense a credit was charged to, when the
//	                         credit is taken back (a provisional dispute credit
//	                         resolved for the merchant): not a purchase, so it
//	                         earns no points and counts for no offer
//
// Because the counter-entry is a function of the kind and the amount, each posting is
// balanced by construction; Entry.Validate enforces the sign each kind must have, so
// a payment can never increase the debt. The balance is SUM(amount) over posted
// entries, computed by the store at read time and never stored, so it cannot drift;
// Pending is the SUM over open authorisation holds (status pending).

// Kind is what a posting is.
type Kind string

// The kinds of posting.
const (
	Purchase Kind = "purchase"
	Refund   Kind = "refund"
	Payment  Kind = "payment"
	Fee      Kind = "fee"
	Interest Kind = "interest"
	Credit   Kind = "credit"
	// Adjustment takes back a credit; see the chart above.
	Adjustment Kind = "adjustment"
)

// Kinds lists every kind, in the order screens offer them.
var Kinds = []Kind{Purchase, Refund, Payment, Fee, Interest, Credit, Adjustment}

// Debit reports whether the kind increases what the member owes.
func (k Kind) Debit() bool { return k == Purchase || k == Fee || k == Interest || k == Adjustment }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Channel is how a card was used.
type Channel string

// The channels. Entries not made with a card (payments, interest) have none.
const (
	NoChannel Channel = ""
	InPerson  Channel = "in_person"
	Online    Channel = "online"
	Recurring Channel = "recurring"
)

// Status says whether an entry counts in the balance yet.
type Status string

// The statuses. A pending entry is an open authorisation hold: it reduces the
// available credit but is not part of the balance until it posts. Authorisations
// (SPEC AC15) will Post a pending entry under the authorisation's own key; clearing
// turns it into a posted one and a reversal releases it, through store methods that
// issue adds.
const (
	Pending Status = "pending"
	Posted  Status = "posted"
	// Released is a hold that was reversed, expired or replaced by its clearing: it
	// counts nowhere and lists nowhere, and is kept as the authorisation's record.
	// Only package authorize's store writes it; Post refuses it.
	Released Status = "released"
)

// Entry is a change to an account as its source submits it. IdempotencyKey is
// required: every change comes from outside (the network, the payments system, the
// statement job), and a retry with the same key must change nothing.
type Entry struct {
	AccountID      int64
	CardID         int64 // 0 for an account-level entry (payment, interest)
	Kind           Kind
	Amount         int64             // minor units; positive = owed (see Kind)
	Currency       string            // ISO 4217; must be the account's
	Description    string            // the statement text, in English (see TextID)
	TextID         string            // catalogue message of a text the system writes; "" for a merchant's (see Text)
	TextArgs       map[string]string // the message's named arguments
	Merchant       string
	MCC            string // ISO 18245 merchant category code, 4 digits
	City           string
	Country        string // ISO 3166-1 alpha-2
	Channel        Channel
	Status         Status // "" means Posted
	PostedAt       time.Time
	IdempotencyKey string
}

// Limits on an entry's text, generous for real merchant data and small enough that a
// bad source cannot fill the database.
const (
	MaxKeyLen  = 100
	MaxTextLen = 200
)

// Validate checks an entry before it is stored. The sign of the amount must match the
// kind (see the chart above) and zero amounts are refused: they would be noise in the
// history with nothing to balance.
func (e Entry) Validate() error {
	const op = "account.Entry.Validate"
	var fs []cp.FieldError
	bad := func(field, msg string) { fs = append(fs, cp.FieldError{Field: field, Msg: msg}) }
	if e.AccountID <= 0 {
		bad("account_id", "error.invalid")
	}
	if e.CardID < 0 {
		bad("card_id", "error.invalid")
	}
	switch {
	case !e.Kind.Valid():
		bad("kind", "error.invalid")
	case e.Amount == 0 || (e.Amount > 0) != e.Kind.Debit():
		bad("amount", "error.invalid")
	}
	if !isCurrency(e.Currency) {
		bad("currency", "error.invalid")
	}
	if e.Status != "" && e.Status != Pending && e.Status != Posted {
		bad("status", "error.invalid")
	}
	switch e.Channel {
	case NoChannel, InPerson, Online, Recurring:
	default:
		bad("channel", "error.invalid")
	}
	if e.MCC != "" && !digits(e.MCC, 4) {
		bad("mcc", "error.invalid")
	}
	if e.Country != "" && !upperLetters(e.Country, 2) {
		bad("country", "error.invalid")
	}
	if e.PostedAt.IsZero() {
		bad("posted_at", "error.invalid")
	}
	if e.IdempotencyKey == "" || len(e.IdempotencyKey) > MaxKeyLen || !printable(e.IdempotencyKey) {
		bad("idempotency_key", "error.invalid")
	}
	for _, t := range []struct{ field, v string }{
		{"description", e.Description}, {"merchant", e.Merchant}, {"city", e.City},
	} {
		if utf8.RuneCountInString(t.v) > MaxTextLen || !printable(t.v) {
			bad(t.field, "error.invalid")
		}
	}
	if !validText(e.TextID, e.TextArgs) {
		bad("text_id", "error.invalid")
	}
	if len(fs) > 0 {
		return cp.InvalidFields(op, fs...)
	}
	return nil
}

// Transaction is a posting as a member sees it.
type Transaction struct {
	ID          int64
	AccountID   int64
	CardID      int64  // 0 for an account-level entry
	CardLast    string // the card's last digits; "" for an account-level entry
	HolderName  string // who holds the card; "" for an account-level entry
	Kind        Kind
	Amount      int64
	Currency    string
	Description string            // as stored, in English; show Text instead
	TextID      string            // catalogue message for Text; "" for a merchant's text
	TextArgs    map[string]string // TextID's named arguments
	Merchant    string
	MCC         string
	City        string
	Country     string
	Channel     Channel
	Status      Status
	PostedAt    time.Time
}

// Same reports whether t is what e would store, so that a retried Post with the same
// key but different contents is caught rather than silently answered with the first.
// A stored posting without a text message matches whatever message e carries: it was
// written before postings had them (migration 00017), and a job retried across the
// upgrade must find its first posting, not a conflict; Description still has to match.
func (t Transaction) Same(e Entry) bool {
	st := e.Status
	if st == "" {
		st = Posted
	}
	return t.AccountID == e.AccountID && t.CardID == e.CardID && t.Kind == e.Kind && t.Amount == e.Amount &&
		t.Description == e.Description && (t.TextID == "" || t.TextID == e.TextID && maps.Equal(t.TextArgs, e.TextArgs)) && t.Merchant == e.Merchant && t.MCC == e.MCC && t.City == e.City &&
		t.Country == e.Country && t.Channel == e.Channel && t.Status == st && t.PostedAt.Equal(e.PostedAt.Truncate(time.Microsecond))
}

// Paging limits.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// Filter selects transactions. Zero values select everything.
type Filter struct {
	From, To time.Time // civil dates (UTC midnight), both inclusive; zero = open
	Min, Max *int64    // amount bounds in minor units, inclusive, on the signed amount
	Query    string    // case-insensitive substring of the merchant or description
	CardID   int64     // only this card's transactions; 0 = every card the member may see
	After    *Cursor   // continue after this transaction (keyset paging)
	Limit    int       // page size, 1..MaxPageSize; 0 = DefaultPageSize
}

// MaxQueryLen bounds the search text.
const MaxQueryLen = 100

// Validate checks a filter's values, per field.
func (f Filter) Validate() error {
	var fs []cp.FieldError
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		fs = append(fs, cp.FieldError{Field: "to", Msg: "tx.error.range"})
	}
	if f.Min != nil && f.Max != nil && *f.Max < *f.Min {
		fs = append(fs, cp.FieldError{Field: "max", Msg: "tx.error.range"})
	}
	if utf8.RuneCountInString(f.Query) > MaxQueryLen || !printable(f.Query) {
		fs = append(fs, cp.FieldError{Field: "q", Msg: "tx.error.query"})
	}
	if f.CardID < 0 {
		fs = append(fs, cp.FieldError{Field: "card", Msg: "error.invalid"})
	}
	if f.Limit < 0 || f.Limit > MaxPageSize {
		fs = append(fs, cp.FieldError{Field: "limit", Msg: "error.limit"})
	}
	if len(fs) > 0 {
		return cp.InvalidFields("account.Filter.Validate", fs...)
	}
	return nil
}

// PageSize is the effective page size.
func (f Filter) PageSize() int {
	if f.Limit <= 0 {
		return DefaultPageSize
	}
	return min(f.Limit, MaxPageSize)
}

// Cursor is the position after which the next page starts: the list is ordered newest
// first by (PostedAt, ID), so the pair identifies a place in it even as new entries
// arrive at the top.
type Cursor struct {
	PostedAt time.Time
	ID       int64
}

// String encodes the cursor for a URL: "<unix micros>.<id>". It names only an
// instant and an ID the caller has already seen, so it needs no protection; the
// store applies the caller's scope whatever cursor is sent.
func (c Cursor) String() string {
	return strconv.FormatInt(c.PostedAt.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseCursor reads what Cursor.String wrote.
func ParseCursor(s string) (Cursor, error) {
	bad := cp.InvalidFields("account.ParseCursor", cp.FieldError{Field: "cursor", Msg: "error.invalid"})
	a, b, ok := strings.Cut(s, ".")
	if !ok || len(s) > 40 {
		return Cursor{}, bad
	}
	us, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return Cursor{}, bad
	}
	return Cursor{PostedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// Page is one page of transactions, newest first. Next is nil on the last page.
type Page struct {
	Transactions []Transaction
	Next         *Cursor
}

// Ledger writes and reads an account's postings.
type Ledger interface {
	// Post records e once per IdempotencyKey and returns the stored transaction. A
	// retry with the same key and the same contents returns the first result and
	// changes nothing, however many arrive at once. Returns Invalid if e fails
	// Validate or its currency is not the account's, NotFound if the account does not
	// exist or the card is not on it, and Conflict if the key was used for a different
	// entry.
	Post(ctx context.Context, e Entry) (Transaction, error)
	// Transactions returns a page of accountID's transactions that cardholderID may
	// see, newest first: every card's and the account-level ones for the basic card
	// member, only their own cards' for an additional member. Returns NotFound if the
	// holder is not on the account or f.CardID is not a card they may see, and
	// Invalid if f fails Validate.
	Transactions(ctx context.Context, cardholderID, accountID int64, f Filter) (Page, error)
}

func isCurrency(s string) bool { return upperLetters(s, 3) }

func upperLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable refuses invalid UTF-8 and control characters, which have no place in a
// merchant name or a search and could break a CSV line or a log.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
