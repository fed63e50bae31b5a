// Package payment is how a card member pays their card account (SPEC AC4): linked bank
// accounts, payments now or on a chosen date, automatic payments from the latest
// statement, changes and cancellations until a payment starts, and the job that
// executes what is due. Every payment that executes becomes one `payment` posting
// through account.Ledger.Post under a key derived from the payment's id, so balance
// and available credit follow from the ledger and a retried execution never posts
// twice.
//
// Who may pay: the basic card member of the account. An additional card member sees
// no payment pages' data and is refused (Forbidden); any payment or bank account id
// that is not on the member's account is NotFound, exactly like one that does not
// exist, so ids cannot be probed.
//
// # Status machine
//
//	scheduled ──(execute: job on its date, or at once for "pay now")──► processing
//	scheduled ──(member cancels)────────────────────────────────────► cancelled
//	processing ──(ledger posting made)──────────────────────────────► posted
//	processing ──(ledger refuses the posting for good)──────────────► failed
//
// Only a scheduled payment can be changed or cancelled: "until it starts" means until
// the job (or the pay-now request) has moved it to processing. Every move is a
// conditional update from the state the mover read, so a cancel racing the job's claim
// has exactly one winner. A payment left in processing by a crash is taken up again by
// the next run after Config.Stale; that is safe because the posting's key is derived
// from the payment id.
//
// # Amount rules
//
// An amount is positive, in minor units of the card account's currency (the member
// cannot choose another). Overpayment rule: a payment made or changed by the member
// may be at most what is owed at that moment, the posted balance plus pending
// holds, so a member cannot park money on the card by mistake; with nothing owed no
// payment can be made. A scheduled payment executes for the amount the member
// authorised even if the balance has fallen since (leaving a credit balance that
// later purchases use up), because changing an authorised debit behind the member's
// back is worse. An automatic payment is computed on its date and capped at the
// balance then, so autopay never creates a credit balance; if nothing is left to pay
// it is skipped.
package payment

import (
	"context"
	"time"

	"github.com/cardportal/cardportal/identity"
)

// Status is where a payment is in its life (see the package comment).
type Status string

// The statuses.
const (
	Scheduled  Status = "scheduled"
	Processing Status = "processing"
	Posted     Status = "posted"
	Cancelled  Status = "cancelled"
	Failed     Status = "failed"
)

// Event is what moves a payment.
type Event string

// The events.
const (
	Execute Event = "execute" // the job (or pay now) starts it
	Post    Event = "post"    // its ledger posting is made
	Fail    Event = "fail"    // the ledger refused it for good
	Cancel  Event = "cancel"  // the member cancelled it
	Change  Event = "change"  // the member changed amount, date or bank account
)

var transitions = map[Status]map[Event]Status{
	Scheduled:  {Execute: Processing, Cancel: Cancelled, Change: Scheduled},
	Processing: {Post: Posted, Fail: Failed, Execute: Processing}, // Execute again: retaken after a crash
}

// Next returns the status after e, or false if e does not apply to from.
func Next(from Status, e Event) (Status, bool) {
	to, ok := transitions[from][e]
	return to, ok
}

// Kind says where a payment came from.
type Kind string

// The kinds.
const (
	OneTime Kind = "one_time" // made by the member, now or for a date
	Auto    Kind = "autopay"  // made by the autopay job from a statement
)

// Payment is one payment from a linked bank account to the card account.
type Payment struct {
	ID            int64
	AccountID     int64
	MemberID      int64 // who made it (for autopay: who set autopay up)
	BankAccountID int64
	BankLast4     string
	Amount        int64 // minor units, positive
	Currency      string
	On            time.Time // civil date (UTC midnight) it executes
	Status        Status
	Kind          Kind
	// Confirmation is the member's reference: unguessable and easy to read out on the
	// phone (12 characters of Crockford base32 in groups of four).
	Confirmation   string
	IdempotencyKey string
	// Request is the canonical form of what was asked, so that a retry with the same
	// key but different contents is caught (Conflict) rather than answered with the
	// first payment.
	Request   string
	PostingID int64 // the ledger posting, once posted
	CreatedAt time.Time
	UpdatedAt time.Time
	PostedAt  time.Time
}

// Changeable reports whether the member may still change or cancel p.
func (p Payment) Changeable() bool {
	_, ok := Next(p.Status, Change)
	return ok
}

// Rule is what an automatic payment pays.
type Rule string

// The autopay rules.
const (
	MinimumDue       Rule = "minimum"   // the statement's minimum payment
	StatementBalance Rule = "statement" // the statement's closing balance
	FixedAmount      Rule = "fixed"     // a fixed amount (capped at the statement balance)
)

// Valid reports whether r is a known rule.
func (r Rule) Valid() bool { return r == MinimumDue || r == StatementBalance || r == FixedAmount }

// Autopay is an account's automatic payment setting: one per card account.
type Autopay struct {
	AccountID     int64
	MemberID      int64
	BankAccountID int64
	BankLast4     string
	Rule          Rule
	Amount        int64 // for FixedAmount, minor units; 0 otherwise
	UpdatedAt     time.Time
}

// Statement is what autopay needs of the latest closed statement (table statements,
// filled by the statement job).
type Statement struct {
	AccountID      int64
	ClosingDate    time.Time
	DueDate        time.Time
	Currency       string
	ClosingBalance int64
	MinimumDue     int64
}

// AutopayDue is an autopay setting whose account has a statement due on the run's
// date, with what is needed to compute the amount.
type AutopayDue struct {
	Autopay   Autopay
	Statement Statement
	// PaidSince is the sum (positive) of payment postings after the statement's
	// closing date up to the run: what the member already paid towards it.
	PaidSince int64
	// Owed is the account's posted balance now.
	Owed int64
}

// Payer is the member as the payment rules see them.
type Payer struct {
	MemberID  int64
	AccountID int64
	Basic     bool
	Email     string
	Locale    string
	Currency  string
	Balance   int64 // posted balance, positive = owed
	Pending   int64 // open authorisation holds
}

// Store is what payments need from storage. Methods that take an accountID scope by
// it: a bank account or payment on another account is NotFound.
type Store interface {
	// Payer returns the member's standing and their account's balance. Returns
	// NotFound if there is no such member.
	Payer(ctx context.Context, member identity.MemberID) (Payer, error)

	// LinkBankAccount stores b and sets its ID and CreatedAt (to at), unless the same
	// number (by MAC and routing number) is already linked to the account: then b is
	// set to the existing one and created is false.
	LinkBankAccount(ctx context.Context, b *BankAccount, at time.Time) (created bool, err error)
	// BankAccounts lists the account's linked bank accounts, oldest first.
	BankAccounts(ctx context.Context, accountID int64) ([]BankAccount, error)
	// BankAccount returns one linked bank account. NotFound if it is not linked to
	// accountID (or was removed).
	BankAccount(ctx context.Context, accountID, id int64) (BankAccount, error)
	// RemoveBankAccount unlinks a bank account. NotFound as BankAccount; Conflict with
	// Msg "payment.bank.inuse" if a scheduled or processing payment or the autopay
	// setting uses it.
	RemoveBankAccount(ctx context.Context, accountID, id int64, at time.Time) error

	// CreatePayment stores p (status, confirmation and all) once per (AccountID,
	// IdempotencyKey) and sets its ID. If a payment with that key exists, p is set to
	// it and created is false, however many arrive at once. Returns Conflict with Msg
	// "payment.confirmation.taken" if the confirmation number is already used (the
	// caller draws another), NotFound if the bank account is not linked to the account.
	CreatePayment(ctx context.Context, p *Payment) (created bool, err error)
	// Payment returns a payment on accountID. NotFound otherwise.
	Payment(ctx context.Context, accountID, id int64) (Payment, error)
	// PaymentByKey returns the payment an idempotency key made on accountID. NotFound
	// if there is none.
	PaymentByKey(ctx context.Context, accountID int64, key string) (Payment, error)
	// PaymentByID returns any payment, for the job. NotFound if there is none.
	PaymentByID(ctx context.Context, id int64) (Payment, error)
	// Payments lists the account's payments, newest date first, at most limit.
	Payments(ctx context.Context, accountID int64, limit int) ([]Payment, error)
	// ChangePayment sets amount, date and bank account of a payment that is still
	// scheduled and returns it. NotFound as Payment (also for a bank account not
	// linked to the account); Conflict with Msg "payment.error.started" if it is no
	// longer scheduled.
	ChangePayment(ctx context.Context, accountID, id, bankAccountID, amount int64, on, at time.Time) (Payment, error)
	// MovePayment moves a payment from one status to another only if it is still in
	// from (for processing, only if it was last updated before staleBefore, when that is
	// not zero), recording postingID when it is not 0, and returns it. Conflict with
	// Msg "payment.error.started" if it is no longer in from; NotFound if there is none.
	MovePayment(ctx context.Context, id int64, from, to Status, staleBefore, at time.Time, postingID int64) (Payment, error)
	// DuePayments lists the ids of payments the job must execute on the date on:
	// scheduled ones dated on or before it, and processing ones last updated before
	// staleBefore (left by a crash).
	DuePayments(ctx context.Context, on, staleBefore time.Time) ([]int64, error)

	// SetAutopay creates or replaces the account's autopay setting (a.UpdatedAt
	// included). NotFound if the bank account is not linked to the account.
	SetAutopay(ctx context.Context, a Autopay) error
	// Autopay returns the account's setting; NotFound if there is none.
	Autopay(ctx context.Context, accountID int64) (Autopay, error)
	// StopAutopay deletes the account's setting; NotFound if there is none.
	StopAutopay(ctx context.Context, accountID int64) error
	// AutopaysDue lists the autopay settings of accounts whose latest statement is
	// due on the date on.
	AutopaysDue(ctx context.Context, on time.Time) ([]AutopayDue, error)
}
