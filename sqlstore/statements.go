package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/statement"
)

var _ statement.Store = (*Store)(nil)

const statementColumns = `s.id, s.account_id, s.period_start, s.closing_date, s.due_date, s.currency, s.opening_balance,
       s.purchases, s.credits, s.interest, s.closing_balance, s.minimum_due, s.delivery, s.created_at`

func scanStatement(r rowScanner) (statement.Statement, error) {
	var (
		st                     statement.Statement
		start, closing, due, d string
		created                int64
	)
	if err := r.Scan(&st.ID, &st.AccountID, &start, &closing, &due, &st.Currency, &st.Opening, &st.Purchases,
		&st.Credits, &st.Interest, &st.Closing, &st.MinimumDue, &d, &created); err != nil {
		return statement.Statement{}, err
	}
	var err1, err2, err3 error
	st.PeriodStart, err1 = fromCivilDate(start)
	st.ClosingDate, err2 = fromCivilDate(closing)
	st.DueDate, err3 = fromCivilDate(due)
	st.Delivery, st.CreatedAt = statement.Delivery(d), fromMicros(created)
	return st, errors.Join(err1, err2, err3)
}

// DueAccounts lists the accounts whose cycle closes on closing; see statement.Store.
// accounts_cycle_day serves it, and the statements' unique (account_id,
// closing_date) index the NOT EXISTS.
func (s *Store) DueAccounts(ctx context.Context, closing time.Time, afterID int64, limit int) ([]int64, error) {
	const op = "sqlstore.DueAccounts"
	closing = statement.Civil(closing)
	rows, err := s.read.QueryContext(ctx, `
SELECT a.id FROM accounts a
 WHERE a.cycle_day = $1 AND a.id > $2 AND a.opened_at <= $3
   AND NOT EXISTS (SELECT 1 FROM statements s WHERE s.account_id = a.id AND s.closing_date >= $4)
 ORDER BY a.id`+limitClause(limit), closing.Day(), afterID, micros(statement.EndOfDay(closing)), civilDate(closing))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return ids, nil
}

// PaymentsByDue finds each account's statement before closing and what was paid on
// it by its due date; see statement.Store. The day bounds are computed here, not in
// SQL, because civil-date arithmetic differs by engine.
func (s *Store) PaymentsByDue(ctx context.Context, closing time.Time, accountIDs []int64) (map[int64]statement.PreviousPaid, error) {
	const op = "sqlstore.PaymentsByDue"
	out := make(map[int64]statement.PreviousPaid, len(accountIDs))
	closingText := civilDate(statement.Civil(closing))
	for _, id := range accountIDs {
		var (
			p           statement.PreviousPaid
			closed, due string
		)
		err := s.read.QueryRowContext(ctx, `
SELECT closing_date, due_date, closing_balance, currency FROM statements
 WHERE account_id = $1 AND closing_date < $2
 ORDER BY closing_date DESC LIMIT 1`, id, closingText).Scan(&closed, &due, &p.Closing, &p.Currency)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		var err1, err2 error
		p.ClosingDate, err1 = fromCivilDate(closed)
		p.DueDate, err2 = fromCivilDate(due)
		if err := errors.Join(err1, err2); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		if p.Paid, err = s.paymentsBetween(ctx, id, micros(statement.EndOfDay(p.ClosingDate)), micros(statement.EndOfDay(p.DueDate))); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out[id] = p
	}
	return out, nil
}

// paymentsBetween sums the posted payments (as a positive amount) dated after from up
// to and including to (unix microseconds).
func (s *Store) paymentsBetween(ctx context.Context, accountID int64, from, to int64) (int64, error) {
	var paid int64
	err := s.read.QueryRowContext(ctx, `
SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM postings
 WHERE account_id = $1 AND kind = 'payment' AND status = 'posted' AND posted_at > $2 AND posted_at <= $3`,
		accountID, from, to).Scan(&paid)
	return paid, err
}

// CloseCycles stores the statements of one batch in one transaction; see
// statement.Store. Its four statements are prepared once per batch: a batch runs
// them for every account, and on SQLite preparing is most of a small query's cost.
func (s *Store) CloseCycles(ctx context.Context, closing, now time.Time, accountIDs []int64, compute func(statement.Cycle) (statement.Statement, bool)) ([]statement.Statement, error) {
	const op = "sqlstore.CloseCycles"
	closing = statement.Civil(closing)
	end := statement.EndOfDay(closing)
	var out []statement.Statement
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		prep := func(q string) (*sql.Stmt, error) { return tx.tx.PrepareContext(ctx, q) }
		acct, err1 := prep(`SELECT currency, paperless, opened_at FROM accounts WHERE id = $1` + s.d.LockSuffix)
		prev, err2 := prep(`SELECT closing_date, closing_balance FROM statements WHERE account_id = $1 ORDER BY closing_date DESC LIMIT 1`)
		before, err3 := prep(`SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings WHERE account_id = $1 AND status = 'posted' AND posted_at < $2`)
		sums, err4 := prep(`
SELECT kind, CAST(SUM(amount) AS BIGINT) FROM postings
 WHERE account_id = $1 AND status = 'posted' AND posted_at >= $2 AND posted_at <= $3
 GROUP BY kind`)
		ins, err5 := prep(`
INSERT INTO statements (account_id, period_start, closing_date, due_date, currency, opening_balance, purchases,
                        credits, interest, closing_balance, minimum_due, delivery, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (account_id, closing_date) DO NOTHING
RETURNING id`)
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		for _, st := range []*sql.Stmt{acct, prev, before, sums, ins} {
			defer st.Close()
		}
		created := micros(now)
		for _, id := range accountIDs {
			c := statement.Cycle{AccountID: id, ClosingDate: closing, Sums: statement.Sums{}}
			var opened int64
			if err := acct.QueryRowContext(ctx, id).Scan(&c.Currency, &c.Paperless, &opened); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				return cp.E(op, cp.Internal, "", err)
			}
			var lastText string
			err := prev.QueryRowContext(ctx, id).Scan(&lastText, &c.Opening)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				c.PeriodStart = statement.Civil(fromMicros(opened))
				if err := before.QueryRowContext(ctx, id, micros(c.PeriodStart)).Scan(&c.Opening); err != nil {
					return cp.E(op, cp.Internal, "", err)
				}
			case err != nil:
				return cp.E(op, cp.Internal, "", err)
			default:
				last, err := fromCivilDate(lastText)
				if err != nil {
					return cp.E(op, cp.Internal, "", err)
				}
				if !last.Before(closing) {
					continue // closed already, by an earlier run or another instance
				}
				c.PeriodStart = last.AddDate(0, 0, 1)
			}
			if c.PeriodStart.After(closing) {
				continue // opened after the closing date
			}
			rows, err := sums.QueryContext(ctx, id, micros(c.PeriodStart), micros(end))
			if err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			for rows.Next() {
				var (
					kind string
					v    int64
				)
				if err := rows.Scan(&kind, &v); err != nil {
					rows.Close()
					return cp.E(op, cp.Internal, "", err)
				}
				c.Sums[account.Kind(kind)] = v
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			st, ok := compute(c)
			if !ok {
				continue
			}
			err = ins.QueryRowContext(ctx, st.AccountID, civilDate(st.PeriodStart), civilDate(st.ClosingDate), civilDate(st.DueDate),
				st.Currency, st.Opening, st.Purchases, st.Credits, st.Interest, st.Closing, st.MinimumDue, string(st.Delivery), created).Scan(&st.ID)
			if errors.Is(err, sql.ErrNoRows) {
				continue // another instance closed it first
			}
			if err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			st.CreatedAt = fromMicros(created)
			out = append(out, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Statements lists the holder's statements; see statement.Store. The join on the
// basic card member is the whole of the access rule, so no ID can reach past it.
func (s *Store) Statements(ctx context.Context, cardholderID int64, limit int) ([]statement.Statement, error) {
	const op = "sqlstore.Statements"
	rows, err := s.read.QueryContext(ctx, `
SELECT `+statementColumns+` FROM statements s
  JOIN cardholders h ON h.account_id = s.account_id
 WHERE h.id = $1 AND h.basic
 ORDER BY s.closing_date DESC, s.id DESC`+limitClause(limit), cardholderID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	out, err := collect(rows, scanStatement)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// Statement returns one of the holder's statements; see statement.Store.
func (s *Store) Statement(ctx context.Context, cardholderID, statementID int64) (statement.Statement, error) {
	const op = "sqlstore.Statement"
	st, err := scanStatement(s.read.QueryRowContext(ctx, `
SELECT `+statementColumns+` FROM statements s
  JOIN cardholders h ON h.account_id = s.account_id
 WHERE h.id = $1 AND h.basic AND s.id = $2`, cardholderID, statementID))
	if err != nil {
		return statement.Statement{}, notFoundOr(op, err)
	}
	return st, nil
}

// Paperless reads the account's preference; see statement.Store.
func (s *Store) Paperless(ctx context.Context, cardholderID, accountID int64) (bool, error) {
	var on bool
	err := s.read.QueryRowContext(ctx, `
SELECT a.paperless FROM accounts a JOIN cardholders h ON h.account_id = a.id
 WHERE h.id = $1 AND a.id = $2 AND h.basic`, cardholderID, accountID).Scan(&on)
	if err != nil {
		return false, notFoundOr("sqlstore.Paperless", err)
	}
	return on, nil
}

// SetPaperless sets the account's preference; see statement.Store.
func (s *Store) SetPaperless(ctx context.Context, cardholderID, accountID int64, on bool) error {
	const op = "sqlstore.SetPaperless"
	res, err := s.write.ExecContext(ctx, `
UPDATE accounts SET paperless = $3
 WHERE id = $2 AND EXISTS (SELECT 1 FROM cardholders h WHERE h.id = $1 AND h.account_id = $2 AND h.basic)`,
		cardholderID, accountID, on)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// Recipient finds the registered basic card member of an account; see
// statement.Store.
func (s *Store) Recipient(ctx context.Context, accountID int64) (statement.Recipient, error) {
	var r statement.Recipient
	err := s.read.QueryRowContext(ctx, `
SELECT m.id, CASE WHEN m.email <> '' THEN m.email ELSE h.email END, m.locale
  FROM cardholders h JOIN members m ON m.cardholder_id = h.id
 WHERE h.account_id = $1 AND h.basic`, accountID).Scan(&r.MemberID, &r.Email, &r.Locale)
	if err != nil {
		return statement.Recipient{}, notFoundOr("sqlstore.Recipient", err)
	}
	return r, nil
}

// statementLoadColumns and statementLoadRow write a dataset's statements in
// LoadIssuer.
var statementLoadColumns = []string{"id", "account_id", "period_start", "closing_date", "due_date", "currency",
	"opening_balance", "purchases", "credits", "interest", "closing_balance", "minimum_due", "delivery", "created_at"}

func statementLoadRow(st issuer.Statement) []any {
	d := st.Delivery
	if d == "" {
		d = string(statement.Online)
	}
	return []any{st.ID, st.AccountID, civilDate(st.PeriodStart), civilDate(st.ClosingDate), civilDate(st.DueDate), st.Currency,
		st.Opening, st.Purchases, st.Credits, st.Interest, st.Closing, st.MinimumDue, d, micros(st.CreatedAt)}
}

// accountCycleDay is the closing day LoadIssuer stores for an account.
func accountCycleDay(a issuer.Account) int {
	if a.CycleDay >= 1 && a.CycleDay <= 28 {
		return a.CycleDay
	}
	return statement.CycleDay(a.OpenedAt)
}

// statementFigures fills a dashboard summary's due date, minimum due and statement
// balance from the account's last statement st (zero if none): the minimum due less
// the payments dated since it closed (statement.MinimumRemaining), and a due date
// only when the statement balance was a debt.
func (s *Store) statementFigures(ctx context.Context, sum *account.Summary, st statement.Statement) error {
	if st.ClosingDate.IsZero() {
		return nil
	}
	sum.StatementBalance, sum.StatementDate = st.Closing, st.ClosingDate
	if st.Closing <= 0 {
		return nil
	}
	paid, err := s.paymentsBetween(ctx, sum.AccountID, micros(statement.EndOfDay(st.ClosingDate)), math.MaxInt64)
	if err != nil {
		return err
	}
	sum.PaymentDue = st.DueDate
	sum.MinimumDue = statement.MinimumRemaining(st, paid)
	return nil
}
