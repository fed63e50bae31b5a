// Package disputes is a card member reporting suspicious activity on a transaction or
// disputing it (SPEC AC13): the dispute's reasons, its life (Next, the state machine)
// and what happens to the disputed amount in the ledger.
//
// The rule for the disputed amount: only a posted purchase can be disputed, in full,
// within MaxAge of posting, and one transaction has at most one dispute that is not
// resolved. Opening a dispute posts a provisional credit for the whole amount at once
// (kind credit, negative, idempotency key "dispute:<id>:credit"), so the member does
// not pay interest on, or need to pay, what is in dispute. Resolved for the member,
// the credit stands and nothing more is posted. Resolved for the merchant, the credit
// is reversed by a debit of the same amount (idempotency key "dispute:<id>:reversal").
//
// The reversal is posted as kind adjustment (account/ledger.go): a debit that takes
// back a credit. It re-bills exactly the purchase the credit took away — it is part of
// the purchases line of the statement, accrues interest as that purchase did, and
// carries the same card and merchant — but it is not a purchase: the original one
// already earned its points and met its offers, so the reversal earns nothing again
// (rewards and offers look only at purchases). Its idempotency key prefix "dispute:"
// marks it for anyone reconciling.
package disputes

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
)

// Status is where a dispute is in its life.
type Status string

// The statuses. Open and UnderReview are unresolved; the two resolutions are final.
const (
	Open             Status = "open"
	UnderReview      Status = "under_review"
	ResolvedMember   Status = "resolved_member"   // the member was right: the credit stands
	ResolvedMerchant Status = "resolved_merchant" // the charge stands: the credit is reversed
)

// Statuses lists every status.
var Statuses = []Status{Open, UnderReview, ResolvedMember, ResolvedMerchant}

// Resolved reports whether the status is final.
func (s Status) Resolved() bool { return s == ResolvedMember || s == ResolvedMerchant }

// Action moves a dispute on.
type Action string

// The actions, taken by the issuer's dispute team (the agent console of SPEC AC14
// will drive them; tests and operators call Service.Resolve until then).
const (
	Review          Action = "review"
	ResolveMember   Action = "resolve_member"
	ResolveMerchant Action = "resolve_merchant"
)

// Errors of Next.
var (
	ErrResolved = errors.New("disputes: the dispute is already resolved")
	ErrAction   = errors.New("disputes: unknown action")
)

// Next is the state machine:
//
//	open          --review-->           under_review
//	open          --resolve_member-->   resolved_member
//	open          --resolve_merchant--> resolved_merchant
//	under_review  --resolve_member-->   resolved_member
//	under_review  --resolve_merchant--> resolved_merchant
//	under_review  --review-->           under_review (no change)
//
// A resolved dispute does not move (ErrResolved): a new dispute would have to be
// opened, which the rule of one unresolved dispute per transaction then allows.
// changed is false when the action leaves the status as it is.
func Next(from Status, a Action) (to Status, changed bool, err error) {
	if from.Resolved() {
		return from, false, ErrResolved
	}
	switch a {
	case Review:
		return UnderReview, from != UnderReview, nil
	case ResolveMember:
		return ResolvedMember, true, nil
	case ResolveMerchant:
		return ResolvedMerchant, true, nil
	}
	return from, false, ErrAction
}

// Reason is why the member disputes a transaction.
type Reason string

// The reasons a member picks from. Unrecognised is "report suspicious activity": the
// member does not know the transaction, so the card may be compromised and the pages
// offer to freeze it.
const (
	Unrecognised   Reason = "unrecognised"
	Duplicate      Reason = "duplicate"
	WrongAmount    Reason = "wrong_amount"
	NotReceived    Reason = "not_received"
	Cancelled      Reason = "cancelled"
	NotAsDescribed Reason = "not_as_described"
	Other          Reason = "other"
)

// Reasons lists the reasons in the order forms offer them.
var Reasons = []Reason{Unrecognised, Duplicate, WrongAmount, NotReceived, Cancelled, NotAsDescribed, Other}

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool {
	for _, x := range Reasons {
		if r == x {
			return true
		}
	}
	return false
}

// Suspicious reports whether the reason is a report of suspicious activity.
func (r Reason) Suspicious() bool { return r == Unrecognised }

// Limits.
const (
	MaxDetail = 1000 // the member's free text, in characters
	// MaxAge is how long after posting a transaction can be disputed: the card
	// networks' usual chargeback window.
	MaxAge = 120 * 24 * time.Hour
)

// Dispute is a member's dispute of one transaction.
type Dispute struct {
	ID                int64
	AccountID         int64
	PostingID         int64
	MemberID          identity.MemberID // who opened it
	Reason            Reason
	Detail            string
	Status            Status
	Amount            int64 // disputed, minor units, positive
	Currency          string
	CreditPostingID   int64 // the provisional credit; 0 until posted
	ReversalPostingID int64 // the reversal when resolved for the merchant; else 0
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// Transaction is the disputed transaction as the member sees it (filled by the
	// store on reads).
	Transaction account.Transaction
}

// Store keeps disputes. Every method that takes a member scopes by them: a
// transaction or dispute the member may not see is NotFound, exactly like one that
// does not exist.
type Store interface {
	// MemberTransaction returns a transaction the member may see: any on their
	// account for the basic card member, their own cards' for an additional one.
	// Returns NotFound otherwise.
	MemberTransaction(ctx context.Context, member identity.MemberID, postingID int64) (account.Transaction, error)
	// CreateDispute stores d and sets d.ID. Returns Conflict with Msg
	// "dispute.exists" if the posting already has a dispute that is not resolved;
	// then nothing is written.
	CreateDispute(ctx context.Context, d *Dispute) error
	// SetDisputeCredit records the provisional credit's posting. Returns NotFound if
	// there is no such dispute.
	SetDisputeCredit(ctx context.Context, id, postingID int64, at time.Time) error
	// SetDisputeStatus moves a dispute from one status to another if it is still in
	// from (an optimistic check), recording reversalID when it is not 0. Returns
	// Conflict if it is no longer in from, NotFound if there is no such dispute.
	SetDisputeStatus(ctx context.Context, id int64, from, to Status, reversalID int64, at time.Time) error
	// Dispute returns a dispute by id, whoever opened it (for the issuer's side).
	// Returns NotFound.
	Dispute(ctx context.Context, id int64) (Dispute, error)
	// MemberDispute returns a dispute whose transaction the member may see. Returns
	// NotFound otherwise.
	MemberDispute(ctx context.Context, member identity.MemberID, id int64) (Dispute, error)
	// MemberDisputes lists the disputes of transactions the member may see, newest
	// first.
	MemberDisputes(ctx context.Context, member identity.MemberID) ([]Dispute, error)
	// PostingDisputes returns the member-visible disputes of a transaction, newest
	// first (resolved ones included).
	PostingDisputes(ctx context.Context, member identity.MemberID, postingID int64) ([]Dispute, error)
}

// Request is what the member submits.
type Request struct {
	Reason string
	Detail string
}

// validate checks a request; problems are per field.
func (r Request) validate() (Reason, string, []cp.FieldError) {
	var fs []cp.FieldError
	reason := Reason(r.Reason)
	if !reason.Valid() {
		fs = append(fs, cp.FieldError{Field: "reason", Msg: "dispute.reason.required"})
	}
	detail := r.Detail
	switch {
	case utf8.RuneCountInString(detail) > MaxDetail:
		fs = append(fs, cp.FieldError{Field: "detail", Msg: "error.field.toolong"})
	case !utf8.ValidString(detail) || hasControl(detail):
		fs = append(fs, cp.FieldError{Field: "detail", Msg: "error.invalid"})
	case reason == Other && trimmed(detail) == "":
		fs = append(fs, cp.FieldError{Field: "detail", Msg: "dispute.detail.required"})
	}
	return reason, trimmed(detail), fs
}

// hasControl reports control characters other than line breaks and tabs, which a
// free-text box may hold.
func hasControl(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

func trimmed(s string) string {
	start, end := 0, len(s)
	for start < end && (s[start] == ' ' || s[start] == '\n' || s[start] == '\r' || s[start] == '\t') {
		start++
	}
	for end > start && (s[end-1] == ' ' || s[end-1] == '\n' || s[end-1] == '\r' || s[end-1] == '\t') {
		end--
	}
	return s[start:end]
}
