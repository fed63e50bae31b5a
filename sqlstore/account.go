package sqlstore

import (
	"context"
	"errors"
	"fmt"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/statement"
)

// Summaries returns the card holder's account, with its balance derived from the
// posted postings and its pending holds from the pending ones (see account's ledger
// chart), the figures of its last statement, and the cards the holder may see on it:
// all of them for the basic card member, only their own for an additional one. Every
// dashboard and app start reads this, so it is few queries whatever the history: the
// account with its running totals and last statement, the payments since that
// statement when it showed a debt, then the cards.
func (s *Store) Summaries(ctx context.Context, cardholderID int64) ([]account.Summary, error) {
	const op = "sqlstore.Summaries"
	// The balance and holds are the running totals the postings' triggers keep
	// (migration 00012): summing an account's whole history here would grow with it.
	// The ledger's property test (storetest testLedgerBalance) checks them against
	// sums it computes itself.
	rows, err := s.read.QueryContext(ctx, `
SELECT a.id, p.name, a.currency, a.credit_limit,
       COALESCE(t.posted, 0), COALESCE(t.pending, 0), h.basic,
       COALESCE(s.closing_date, ''), COALESCE(s.due_date, ''), COALESCE(s.closing_balance, 0), COALESCE(s.minimum_due, 0)
  FROM cardholders h
  JOIN accounts a ON a.id = h.account_id
  JOIN products p ON p.id = a.product_id
  LEFT JOIN account_totals t ON t.account_id = a.id
  LEFT JOIN statements s ON s.id = (SELECT l.id FROM statements l WHERE l.account_id = a.id ORDER BY l.closing_date DESC LIMIT 1)
 WHERE h.id = $1`, cardholderID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	// Read to the end and close before the next query: on a single-connection pool
	// (an in-memory SQLite database) an open result set would hold the connection.
	var (
		out   []account.Summary
		basic []bool
		last  []statement.Statement
	)
	for rows.Next() {
		var (
			sum          account.Summary
			b            bool
			st           statement.Statement
			closing, due string
		)
		if err := rows.Scan(&sum.AccountID, &sum.ProductName, &sum.Currency, &sum.CreditLimit,
			&sum.Balance, &sum.Pending, &b, &closing, &due, &st.Closing, &st.MinimumDue); err != nil {
			rows.Close()
			return nil, cp.E(op, cp.Internal, "", err)
		}
		var err1, err2 error
		st.ClosingDate, err1 = fromCivilDate(closing)
		st.DueDate, err2 = fromCivilDate(due)
		if err := errors.Join(err1, err2); err != nil {
			rows.Close()
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out, basic, last = append(out, sum), append(basic, b), append(last, st)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	if len(out) == 0 {
		return []account.Summary{}, nil
	}
	// A holder belongs to one account in this schema, so one card query serves; should
	// that change, this loop keeps the shape right at one query per account.
	for i := range out {
		if err := s.statementFigures(ctx, &out[i], last[i]); err != nil {
			return nil, cp.E(op, cp.Internal, "", fmt.Errorf("account %d: %w", out[i].AccountID, err))
		}
		cards, err := s.summaryCards(ctx, out[i].AccountID, cardholderID, basic[i])
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out[i].Cards = cards
	}
	return out, nil
}

// summaryCards lists the cards on an account, basic card member's first, or only the
// holder's own cards unless all is set.
func (s *Store) summaryCards(ctx context.Context, accountID, cardholderID int64, all bool) ([]account.Card, error) {
	rows, err := s.read.QueryContext(ctx, `
SELECT c.id, c.last_digits, h.name, h.basic, c.state, c.exp_month, c.exp_year
  FROM cards c
  JOIN cardholders h ON h.id = c.cardholder_id
 WHERE c.account_id = $1 AND (c.cardholder_id = $2 OR $3)
 ORDER BY h.basic DESC, c.cardholder_id, c.issued_at DESC, c.id DESC`, accountID, cardholderID, all)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cards := []account.Card{}
	for rows.Next() {
		var (
			c           account.Card
			month, year int
		)
		if err := rows.Scan(&c.CardID, &c.Last, &c.HolderName, &c.Basic, &c.State, &month, &year); err != nil {
			return nil, err
		}
		c.Expiry = fmt.Sprintf("%02d/%02d", month, year%100)
		cards = append(cards, c)
	}
	return cards, rows.Err()
}
