package statement

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// CloseKind is the job kind of a day's close.
const CloseKind = "statements.close"

// DefaultBatch is how many accounts one close transaction takes: large enough that
// 10,000 accounts are a few dozen transactions, small enough that SQLite's single
// writer is not held for long at a time.
const DefaultBatch = 500

// Service closes cycles and serves statements.
type Service struct {
	store    Store
	ledger   account.Ledger
	notifier notify.Notifier // may be nil: no notices
	rules    Rules
	now      func() time.Time
	log      *slog.Logger
	// Batch is the accounts per close transaction (default DefaultBatch).
	Batch int
	// ready, when set, hears of each new statement before its email notice and says
	// whether the member still wants that email (SetReady).
	ready func(ctx context.Context, member identity.MemberID, st Statement) (email bool)
}

// SetReady lets the member's alert preferences (SPEC AC12) decide the "statement
// ready" notice: f may raise the alert on the member's other channels and reports
// whether the email, which carries the statement's figures, goes too. Without it
// every new statement's email goes.
func (s *Service) SetReady(f func(ctx context.Context, member identity.MemberID, st Statement) (email bool)) {
	s.ready = f
}

// New returns a Service.
func New(store Store, ledger account.Ledger, n notify.Notifier, rules Rules, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, ledger: ledger, notifier: n, rules: rules, now: now, log: log}
}

// Rules are the service's cycle rules.
func (s *Service) Rules() Rules { return s.rules }

// Result counts what a close did.
type Result struct {
	Accounts   int // accounts whose cycle was due
	Statements int // statements stored
	Interest   int // interest postings made (or found already made by an earlier run)
}

// Close closes every cycle that ends on the civil date closing, in batches. Each
// batch first posts the interest its accounts owe (through the ledger, under the
// key InterestKey gives, so a retry finds the posting already there), then stores the
// batch's statements in one transaction, then sends the notices. A run that stops
// part-way is finished by running it again: an account with its statement is no
// longer due, and one whose interest was posted gets the same posting back.
func (s *Service) Close(ctx context.Context, closing time.Time) (Result, error) {
	const op = "statement.Close"
	closing = Civil(closing)
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	var (
		res   Result
		after int64
	)
	for {
		ids, err := s.store.DueAccounts(ctx, closing, after, batch)
		if err != nil {
			return res, cp.E(op, cp.Internal, "", err)
		}
		if len(ids) == 0 {
			return res, nil
		}
		after = ids[len(ids)-1]
		res.Accounts += len(ids)
		prev, err := s.store.PaymentsByDue(ctx, closing, ids)
		if err != nil {
			return res, cp.E(op, cp.Internal, "", err)
		}
		for _, id := range ids {
			p, ok := prev[id]
			if !ok {
				continue
			}
			amount := s.rules.InterestDue(p.Closing, p.Paid)
			if amount == 0 {
				continue
			}
			_, err := s.ledger.Post(ctx, account.Entry{
				AccountID: id, Kind: account.Interest, Amount: amount, Currency: p.Currency,
				Description:    fmt.Sprintf("Interest charge at %d.%02d%% APR", s.rules.APRBasisPoints/100, s.rules.APRBasisPoints%100),
				TextID:         "ledger.interest",
				TextArgs:       map[string]string{"apr_num": fmt.Sprintf("%d.%02d", s.rules.APRBasisPoints/100, s.rules.APRBasisPoints%100)},
				PostedAt:       EndOfDay(closing),
				IdempotencyKey: InterestKey(id, closing),
			})
			if err != nil {
				return res, cp.E(op, cp.ErrorKind(err), "", fmt.Errorf("interest for account %d: %w", id, err))
			}
			res.Interest++
		}
		sts, err := s.store.CloseCycles(ctx, closing, s.now(), ids, s.rules.Compute)
		if err != nil {
			return res, err
		}
		res.Statements += len(sts)
		for _, st := range sts {
			s.notice(ctx, st)
		}
	}
}

// notice tells the basic card member that a statement is ready. A notice that cannot
// be sent is logged; it never undoes the statement.
func (s *Service) notice(ctx context.Context, st Statement) {
	if s.notifier == nil {
		return
	}
	rc, err := s.store.Recipient(ctx, st.AccountID)
	if err != nil || rc.Email == "" {
		if err != nil && !cp.IsKind(err, cp.NotFound) {
			s.log.ErrorContext(ctx, "statement notice", "account", st.AccountID, "err", err)
		}
		return
	}
	if s.ready != nil && !s.ready(ctx, identity.MemberID(rc.MemberID), st) {
		return
	}
	loc := locale.Negotiate(rc.Locale, "")
	vars := []string{
		"date", loc.Date(st.ClosingDate), "balance", loc.Money(st.Closing, st.Currency),
		"minimum", loc.Money(st.MinimumDue, st.Currency), "due", loc.Date(st.DueDate),
	}
	body := "notice.statement_ready.body"
	if st.Delivery == Mailed {
		body = "notice.statement_ready.body_mailed"
	}
	msg := notify.Message{
		MemberID: rc.MemberID, Channel: notify.Email, To: rc.Email, Kind: "statement_ready",
		Subject: loc.T("notice.statement_ready.subject", vars...), Body: loc.T(body, vars...), CreatedAt: s.now(),
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "statement notice", "message", msg, "err", err)
	}
}

// Handle runs a close job; its payload is the closing date, YYYY-MM-DD.
func (s *Service) Handle(ctx context.Context, j jobs.Job) error {
	d, err := time.Parse(time.DateOnly, string(j.Payload))
	if err != nil {
		return jobs.Permanent(fmt.Errorf("statement close payload: %w", err))
	}
	res, err := s.Close(ctx, d)
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "closed statements", "date", d.Format(time.DateOnly),
		"accounts", res.Accounts, "statements", res.Statements, "interest", res.Interest)
	return nil
}

// CatchUpDays is how far back Schedule reaches, so a server that was down on a
// closing day still closes it when it comes back.
const CatchUpDays = 7

// Schedule enqueues the close of each day that has ended, from CatchUpDays ago to
// yesterday. A day is closed only once it is over, so nothing dated on it can arrive
// after its statement. Every instance may call it: each day's job has a dedupe key,
// so it is enqueued, and run, once whatever the number of instances.
func Schedule(ctx context.Context, q jobs.Store, now time.Time) error {
	today := Civil(now)
	for d := CatchUpDays; d >= 1; d-- {
		day := today.AddDate(0, 0, -d).Format(time.DateOnly)
		j := &jobs.Job{Kind: CloseKind, Payload: []byte(day), MaxAttempts: 5, DedupeKey: CloseKind + ":" + day}
		if err := q.EnqueueJob(ctx, j, now); err != nil && !cp.IsKind(err, cp.Conflict) {
			return err
		}
	}
	return nil
}

// MaxListed is how many statements a member can list: more than the 24 months the
// issuer keeps them online for (SPEC AC3), so none of those is ever cut off.
const MaxListed = 36

// maxRows caps the transactions read for one statement; a month of even a busy
// account is far below it.
const maxRows = 10_000

// List returns the holder's statements, newest first.
func (s *Service) List(ctx context.Context, cardholderID int64) ([]Statement, error) {
	return s.store.Statements(ctx, cardholderID, MaxListed)
}

// Detail returns one of the holder's statements with the posted transactions of its
// cycle, oldest first as a statement prints them. Returns NotFound for a statement
// that is not the holder's (see Store.Statement).
func (s *Service) Detail(ctx context.Context, cardholderID, statementID int64) (Statement, []account.Transaction, error) {
	st, err := s.store.Statement(ctx, cardholderID, statementID)
	if err != nil {
		return Statement{}, nil, err
	}
	f := account.Filter{From: st.PeriodStart, To: st.ClosingDate, Limit: account.MaxPageSize}
	var txs []account.Transaction
	for len(txs) < maxRows {
		page, err := s.ledger.Transactions(ctx, cardholderID, st.AccountID, f)
		if err != nil {
			return Statement{}, nil, err
		}
		for _, t := range page.Transactions {
			if t.Status == account.Posted {
				txs = append(txs, t)
			}
		}
		if page.Next == nil {
			break
		}
		f.After = page.Next
	}
	slices.Reverse(txs)
	return st, txs, nil
}

// Paperless reports the account's paperless preference; NotFound unless the holder
// is its basic card member.
func (s *Service) Paperless(ctx context.Context, cardholderID, accountID int64) (bool, error) {
	return s.store.Paperless(ctx, cardholderID, accountID)
}

// SetPaperless switches paper statements off (on) or back on (off).
func (s *Service) SetPaperless(ctx context.Context, cardholderID, accountID int64, on bool) error {
	return s.store.SetPaperless(ctx, cardholderID, accountID, on)
}
