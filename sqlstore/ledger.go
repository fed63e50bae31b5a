package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
)

var _ account.Ledger = (*Store)(nil)

// txColumns are the columns scanTransaction reads, from postings p left-joined to the
// card c and its holder h.
const txColumns = `p.id, p.account_id, COALESCE(p.card_id, 0), COALESCE(c.last_digits, ''), COALESCE(h.name, ''),
       p.kind, p.amount, a.currency, p.description, p.text_id, p.text_args, p.merchant, p.mcc, p.city, p.country, p.channel, p.status, p.posted_at`

const txFrom = ` FROM postings p
  JOIN accounts a ON a.id = p.account_id
  LEFT JOIN cards c ON c.id = p.card_id
  LEFT JOIN cardholders h ON h.id = c.cardholder_id`

type rowScanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows. It never returns a nil slice, so
// an empty list encodes as [] rather than null.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanTransaction(r rowScanner) (account.Transaction, error) {
	var (
		t                     account.Transaction
		kind, channel, status string
		textArgs              string
		postedAt              int64
	)
	if err := r.Scan(&t.ID, &t.AccountID, &t.CardID, &t.CardLast, &t.HolderName, &kind, &t.Amount, &t.Currency,
		&t.Description, &t.TextID, &textArgs, &t.Merchant, &t.MCC, &t.City, &t.Country, &channel, &status, &postedAt); err != nil {
		return account.Transaction{}, err
	}
	t.Kind, t.Channel, t.Status, t.PostedAt = account.Kind(kind), account.Channel(channel), account.Status(status), fromMicros(postedAt)
	var err error
	if t.TextArgs, err = decodeTextArgs(textArgs); err != nil {
		return account.Transaction{}, err
	}
	return t, nil
}

// encodeTextArgs stores a posting's text arguments as a JSON object of strings, or the
// empty string when there are none.
func encodeTextArgs(args map[string]string) string {
	if len(args) == 0 {
		return ""
	}
	b, err := json.Marshal(args) // a map of strings always marshals
	if err != nil {
		panic(err)
	}
	return string(b)
}

// decodeTextArgs reads what encodeTextArgs wrote; the empty string is no arguments.
func decodeTextArgs(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("posting text_args: %w", err)
	}
	return m, nil
}

// Post records an entry once per idempotency key. The insert is INSERT ... ON CONFLICT
// DO NOTHING, so of two concurrent posts with one key exactly one inserts; on
// PostgreSQL the other waits for it to commit and then reads its row, on SQLite the
// single writer serialises them anyway. A key reused for a different entry is a
// Conflict, never a silent success.
func (s *Store) Post(ctx context.Context, e account.Entry) (account.Transaction, error) {
	const op = "sqlstore.Post"
	if err := e.Validate(); err != nil {
		return account.Transaction{}, err
	}
	if e.Status == "" {
		e.Status = account.Posted
	}
	var out account.Transaction
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		var err error
		out, err = s.postTx(ctx, tx, op, e)
		return err
	})
	if err != nil {
		return account.Transaction{}, err
	}
	return out, nil
}

// postTx is Post inside a transaction the caller owns, for a change that must commit
// together with its posting (a rewards redemption and its statement credit). e must
// have passed Validate and have its Status set.
func (s *Store) postTx(ctx context.Context, tx *poolTx, op string, e account.Entry) (account.Transaction, error) {
	var out account.Transaction
	err := func() error {
		var currency string
		if err := tx.QueryRowContext(ctx, `SELECT currency FROM accounts WHERE id = $1`, e.AccountID).Scan(&currency); err != nil {
			return notFoundOr(op, err)
		}
		if currency != e.Currency {
			return cp.InvalidFields(op, cp.FieldError{Field: "currency", Msg: "error.invalid"})
		}
		if e.CardID != 0 {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM cards WHERE id = $1 AND account_id = $2`, e.CardID, e.AccountID).Scan(&one)
			if err != nil {
				return notFoundOr(op, err)
			}
		}
		var id int64
		err := tx.QueryRowContext(ctx, `
INSERT INTO postings (account_id, amount, kind, description, posted_at, idempotency_key,
                      card_id, merchant, mcc, city, country, channel, status, search, text_id, text_args)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id`,
			e.AccountID, e.Amount, string(e.Kind), e.Description, micros(e.PostedAt), e.IdempotencyKey,
			nullID(e.CardID), e.Merchant, e.MCC, e.City, e.Country, string(e.Channel), string(e.Status),
			account.SearchText(e.Merchant, e.Description, e.TextID, e.TextArgs), e.TextID, encodeTextArgs(e.TextArgs)).Scan(&id)
		inserted := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return cp.E(op, cp.Internal, "", err)
		}
		row := tx.QueryRowContext(ctx, `SELECT `+txColumns+txFrom+` WHERE p.idempotency_key = $1`, e.IdempotencyKey)
		if out, err = scanTransaction(row); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if !inserted && !out.Same(e) {
			return cp.E(op, cp.Conflict, "", fmt.Errorf("idempotency key reused for a different entry (posting %d)", out.ID))
		}
		return nil
	}()
	return out, err
}

// Transactions pages through what the holder may see of an account, newest first by
// (posted_at, id), the keyset the account index serves on both engines. The holder's right
// to the account, and an additional member's restriction to their own cards, are part
// of the one query, so no filter or cursor can reach past them.
func (s *Store) Transactions(ctx context.Context, cardholderID, accountID int64, f account.Filter) (account.Page, error) {
	const op = "sqlstore.Transactions"
	if err := f.Validate(); err != nil {
		return account.Page{}, err
	}
	var basic bool
	err := s.read.QueryRowContext(ctx, `SELECT basic FROM cardholders WHERE id = $1 AND account_id = $2`,
		cardholderID, accountID).Scan(&basic)
	if err != nil {
		return account.Page{}, notFoundOr(op, err)
	}
	if f.CardID != 0 {
		var one int
		err := s.read.QueryRowContext(ctx, `SELECT 1 FROM cards WHERE id = $1 AND account_id = $2 AND (cardholder_id = $3 OR $4)`,
			f.CardID, accountID, cardholderID, basic).Scan(&one)
		if err != nil {
			return account.Page{}, notFoundOr(op, err)
		}
	}

	var (
		// A released authorisation hold (see package authorize) never happened for the
		// member: it is neither in the balance nor in the list.
		where = []string{"p.account_id = $1", "p.status <> 'released'"}
		args  = []any{accountID}
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !basic {
		where = append(where, "c.cardholder_id = "+arg(cardholderID))
	}
	if f.CardID != 0 {
		where = append(where, "p.card_id = "+arg(f.CardID))
	}
	if !f.From.IsZero() {
		where = append(where, "p.posted_at >= "+arg(micros(civilStart(f.From))))
	}
	if !f.To.IsZero() {
		where = append(where, "p.posted_at < "+arg(micros(civilStart(f.To).AddDate(0, 0, 1))))
	}
	if f.Min != nil {
		where = append(where, "p.amount >= "+arg(*f.Min))
	}
	if f.Max != nil {
		where = append(where, "p.amount <= "+arg(*f.Max))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where = append(where, `p.search LIKE `+arg("%"+escapeLike(strings.ToLower(q))+"%")+` ESCAPE '\'`)
	}
	if f.After != nil {
		at, id := arg(micros(f.After.PostedAt)), arg(f.After.ID)
		where = append(where, "(p.posted_at < "+at+" OR (p.posted_at = "+at+" AND p.id < "+id+"))")
	}
	size := f.PageSize()
	q := `SELECT ` + txColumns + txFrom + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY p.posted_at DESC, p.id DESC` + limitClause(size+1)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return account.Page{}, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	page := account.Page{Transactions: []account.Transaction{}}
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return account.Page{}, cp.E(op, cp.Internal, "", err)
		}
		page.Transactions = append(page.Transactions, t)
	}
	if err := rows.Err(); err != nil {
		return account.Page{}, cp.E(op, cp.Internal, "", err)
	}
	// One row more than the page was asked for: its presence is how we know there is
	// a next page without counting.
	if len(page.Transactions) > size {
		page.Transactions = page.Transactions[:size]
		last := page.Transactions[size-1]
		page.Next = &account.Cursor{PostedAt: last.PostedAt, ID: last.ID}
	}
	return page, nil
}

// escapeLike makes a search text match literally inside LIKE ... ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// searchText is what a transaction search matches: merchant and description, folded
// to lower case here rather than by the database, whose lower() differs by engine.
func searchText(merchant, description string) string {
	return account.SearchText(merchant, description, "", nil)
}

// nullID stores 0 as NULL, for optional references.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// civilStart is the UTC midnight that starts t's civil date.
func civilStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
