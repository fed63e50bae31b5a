// Package statement is the monthly statement of a card account (SPEC AC3): the
// billing-cycle rules, the close job that turns a cycle's postings into a statement,
// and the statement as a member downloads it (PDF and CSV). It holds no HTTP or SQL;
// storage is behind Store.
//
// # The cycle rules
//
//   - Each account has a closing day, 1 to 28: the day of the month its account was
//     opened, capped at 28 so that every month has it (CycleDay). It is stored with the
//     account (accounts.cycle_day) so an issuer can move it.
//   - A cycle closes at the end of its closing day (UTC civil dates throughout). It
//     covers the postings dated from the day after the previous statement's closing
//     date (or the account's opening date, for the first) to the closing date, both
//     inclusive. Pending authorisation holds are not on a statement; they are when
//     they post.
//   - The figures are the postings of the cycle by kind: purchases and fees (positive),
//     refunds, payments and credits (negative) and interest. Opening is the previous
//     statement's closing balance (the balance before the cycle for the first one), so
//     opening + purchases + credits + interest = closing always (Compute).
//   - The payment is due GraceDays (25) after the closing date.
//   - Minimum due = the greater of a floor (25.00 in the account's currency) and 1% of
//     the closing balance (rounded half up to the minor unit) plus the cycle's interest
//     and fees, but never more than the closing balance; nothing when the closing
//     balance is zero or in credit (MinimumDue).
//   - Interest: if the previous statement's balance was not paid in full by its due
//     date (payments dated up to and including the due date; refunds and credits do not
//     count as paying), the unpaid part is charged interest at this close:
//     unpaid × APR / 12, rounded half up to the minor unit (InterestDue) — a simple
//     monthly rate, the one the demo history uses, rather than a daily-balance method.
//     It is posted as an "interest" posting dated at the end of the closing day, under
//     an idempotency key made of the account and the closing date (InterestKey), so a
//     rerun of the close posts nothing twice.
//   - A cycle with no previous balance and no postings produces no statement.
//   - Statements go to the basic card member only: they show every card's spending
//     and the account's payments, which an additional member does not otherwise see.
//   - Paperless (the basic member's choice per account) or paper: a paper statement is
//     recorded as mailed; printing is for the issuer's print house.
package statement

import (
	"context"
	"fmt"
	"time"

	"github.com/cardportal/cardportal/account"
)

// Rules are the figures of the cycle rules above.
type Rules struct {
	GraceDays      int   // days from closing to due date
	FloorMajor     int64 // minimum-due floor in major units of the currency
	MinimumBP      int64 // minimum-due percentage of the closing balance, in basis points
	APRBasisPoints int64 // annual percentage rate, in basis points
}

// DefaultRules are the issuer's published terms: due in 25 days, minimum the greater
// of 25.00 and 1% plus interest and fees, 24.99% APR.
var DefaultRules = Rules{GraceDays: 25, FloorMajor: 25, MinimumBP: 100, APRBasisPoints: 2499}

// Delivery is how a statement reached the member.
type Delivery string

// Deliveries.
const (
	Online Delivery = "online" // paperless: on the web and in the app only
	Mailed Delivery = "mailed" // a paper copy was sent as well
)

// Statement is one closed cycle. Its figures never change once closed.
type Statement struct {
	ID          int64
	AccountID   int64
	PeriodStart time.Time // civil dates, UTC midnight
	ClosingDate time.Time
	DueDate     time.Time
	Currency    string
	Opening     int64
	Purchases   int64 // purchases and fees, >= 0
	Credits     int64 // payments, refunds and credits, <= 0
	Interest    int64
	Closing     int64
	MinimumDue  int64
	Delivery    Delivery
	CreatedAt   time.Time
}

// Reconciles reports whether the figures add up.
func (s Statement) Reconciles() bool {
	return s.Opening+s.Purchases+s.Credits+s.Interest == s.Closing
}

// CycleDay is the closing day for an account opened at opened.
func CycleDay(opened time.Time) int { return min(28, opened.UTC().Day()) }

// Civil is t's UTC calendar date at midnight.
func Civil(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// NextClosing is the first closing date after the civil date after, for closing day
// day.
func NextClosing(after time.Time, day int) time.Time {
	after = Civil(after)
	c := time.Date(after.Year(), after.Month(), day, 0, 0, 0, 0, time.UTC)
	if !c.After(after) {
		c = time.Date(after.Year(), after.Month()+1, day, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// EndOfDay is the last microsecond of the civil date d, where a cycle ends (postings
// are stored to the microsecond).
func EndOfDay(d time.Time) time.Time { return Civil(d).AddDate(0, 0, 1).Add(-time.Microsecond) }

// DueDate is when the statement closing on closing must be paid.
func (r Rules) DueDate(closing time.Time) time.Time { return Civil(closing).AddDate(0, 0, r.GraceDays) }

// MinimumDue is the minimum payment for a closing balance, given the cycle's interest
// and fees (see the package rules). Amounts are minor units of currency.
func (r Rules) MinimumDue(closing, interest, fees int64, currency string) int64 {
	if closing <= 0 {
		return 0
	}
	floor := r.FloorMajor
	for range account.MinorDigits(currency) {
		floor *= 10
	}
	pct := halfUp(closing*r.MinimumBP, 10_000)
	return min(closing, max(floor, pct+max(0, interest)+max(0, fees)))
}

// InterestDue is the interest charged at a close on what was left unpaid of the
// previous statement: prevClosing less the payments dated up to its due date (paid,
// a positive amount). Nothing when it was paid in full or was not a debt.
func (r Rules) InterestDue(prevClosing, paid int64) int64 {
	unpaid := prevClosing - paid
	if prevClosing <= 0 || unpaid <= 0 {
		return 0
	}
	return halfUp(unpaid*r.APRBasisPoints, 12*10_000)
}

// halfUp divides a non-negative a by b, rounding half up.
func halfUp(a, b int64) int64 { return (a + b/2) / b }

// InterestKey is the idempotency key of the interest posted at an account's close.
func InterestKey(accountID int64, closing time.Time) string {
	return fmt.Sprintf("statement-interest-%d-%s", accountID, Civil(closing).Format(time.DateOnly))
}

// Sums are a cycle's posted amounts by kind, as the store adds them up.
type Sums map[account.Kind]int64

// Cycle is what a close needs to know about one account.
type Cycle struct {
	AccountID   int64
	Currency    string
	PeriodStart time.Time
	ClosingDate time.Time
	Opening     int64
	Sums        Sums // the cycle's posted amounts, interest included
	Paperless   bool
}

// Compute turns a cycle into its statement; ok is false when there is nothing to
// state (no opening balance and no postings).
func (r Rules) Compute(c Cycle) (st Statement, ok bool) {
	st = Statement{
		AccountID: c.AccountID, Currency: c.Currency,
		PeriodStart: Civil(c.PeriodStart), ClosingDate: Civil(c.ClosingDate), DueDate: r.DueDate(c.ClosingDate),
		Opening: c.Opening, Delivery: Mailed,
	}
	if c.Paperless {
		st.Delivery = Online
	}
	var any bool
	for k, v := range c.Sums {
		if v != 0 {
			any = true
		}
		switch {
		case k == account.Interest:
			st.Interest += v
		case k.Debit():
			st.Purchases += v
		default:
			st.Credits += v
		}
	}
	if !any && c.Opening == 0 {
		return Statement{}, false
	}
	st.Closing = st.Opening + st.Purchases + st.Credits + st.Interest
	st.MinimumDue = r.MinimumDue(st.Closing, st.Interest, c.Sums[account.Fee], c.Currency)
	return st, true
}

// MinimumRemaining is what is left of a statement's minimum due after the payments
// dated since its closing (paid, a positive amount): the dashboard's "minimum due".
// Refunds and credits lower the balance but are not payments, so they do not count.
func MinimumRemaining(st Statement, paid int64) int64 { return max(0, st.MinimumDue-max(0, paid)) }

// Previous is what a close needs of an account's last statement.
type Previous struct {
	ClosingDate time.Time
	DueDate     time.Time
	Closing     int64
}

// Store keeps statements. Errors are *cardportal.Error values with the kinds stated.
type Store interface {
	// DueAccounts returns, in ID order and at most limit, the IDs above afterID of the
	// accounts whose cycle closes on the civil date closing: their closing day is
	// closing's day, they were opened by then, and they have no statement closing on
	// or after it.
	DueAccounts(ctx context.Context, closing time.Time, afterID int64, limit int) ([]int64, error)
	// PaymentsByDue returns, for each of the accounts that has a statement before
	// closing, that statement and the sum (positive) of the payments dated after its
	// closing date up to and including its due date.
	PaymentsByDue(ctx context.Context, closing time.Time, accountIDs []int64) (map[int64]PreviousPaid, error)
	// CloseCycles closes the cycle ending on closing for each account, in one
	// transaction: it reads each account's previous statement and the cycle's posted
	// sums, asks compute for the statement and stores it. An account that already has
	// a statement closing on or after closing is skipped, so a rerun adds nothing.
	// Returns the statements it stored, created at now.
	CloseCycles(ctx context.Context, closing, now time.Time, accountIDs []int64, compute func(Cycle) (Statement, bool)) ([]Statement, error)
	// Statements returns the statements of the holder's account, newest first, at most
	// limit; empty (not an error) for an additional card member (see the rules).
	Statements(ctx context.Context, cardholderID int64, limit int) ([]Statement, error)
	// Statement returns one of the holder's statements. Returns NotFound if there is
	// no such statement or it is not on an account the holder is the basic member of.
	Statement(ctx context.Context, cardholderID, statementID int64) (Statement, error)
	// Paperless reports the account's paperless preference. Returns NotFound unless the
	// holder is the account's basic card member.
	Paperless(ctx context.Context, cardholderID, accountID int64) (bool, error)
	// SetPaperless sets it; same errors.
	SetPaperless(ctx context.Context, cardholderID, accountID int64, on bool) error
	// Recipient returns the basic card member's member ID, email and locale for an
	// account's notices; NotFound if the basic member has not registered.
	Recipient(ctx context.Context, accountID int64) (Recipient, error)
}

// PreviousPaid is an account's last statement and what was paid on it by its due date.
type PreviousPaid struct {
	Previous
	Currency string
	Paid     int64
}

// Recipient is who receives an account's statement notices.
type Recipient struct {
	MemberID int64
	Email    string
	Locale   string
}
