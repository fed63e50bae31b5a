package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/payment"
)

var _ payment.Store = (*Store)(nil)

// Payer returns the member's standing and the account's balance, derived from the
// postings like the dashboard's.
func (s *Store) Payer(ctx context.Context, member identity.MemberID) (payment.Payer, error) {
	const op = "sqlstore.Payer"
	var p payment.Payer
	err := s.read.QueryRowContext(ctx, `
SELECT m.id, h.account_id, h.basic, m.email, m.locale, a.currency,
       CAST(COALESCE((SELECT SUM(x.amount) FROM postings x WHERE x.account_id = a.id AND x.status = 'posted'), 0) AS BIGINT),
       CAST(COALESCE((SELECT SUM(x.amount) FROM postings x WHERE x.account_id = a.id AND x.status = 'pending'), 0) AS BIGINT)
  FROM members m
  JOIN cardholders h ON h.id = m.cardholder_id
  JOIN accounts a ON a.id = h.account_id
 WHERE m.id = $1`, int64(member)).Scan(&p.MemberID, &p.AccountID, &p.Basic, &p.Email, &p.Locale, &p.Currency, &p.Balance, &p.Pending)
	if err != nil {
		return payment.Payer{}, notFoundOr(op, err)
	}
	return p, nil
}

const bankColumns = `id, account_id, member_id, nickname, routing_number, last4, number_key_id, number_sealed, number_mac, created_at`

func scanBank(r rowScanner) (payment.BankAccount, error) {
	var (
		b       payment.BankAccount
		routing string
		created int64
	)
	if err := r.Scan(&b.ID, &b.AccountID, &b.MemberID, &b.Nickname, &routing, &b.Last4, &b.Sealed.KeyID, &b.Sealed.Blob, &b.MAC, &created); err != nil {
		return payment.BankAccount{}, err
	}
	b.Routing, b.CreatedAt = payment.RoutingNumber(routing), fromMicros(created)
	return b, nil
}

// LinkBankAccount inserts unless the same number is linked already; the partial
// unique index decides, so two concurrent links of one number make one row.
func (s *Store) LinkBankAccount(ctx context.Context, b *payment.BankAccount, at time.Time) (bool, error) {
	const op = "sqlstore.LinkBankAccount"
	created := false
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `
INSERT INTO bank_accounts (account_id, member_id, nickname, routing_number, number_sealed, number_key_id, number_mac, last4, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (account_id, routing_number, number_mac) WHERE removed_at = 0 DO NOTHING
RETURNING id`, b.AccountID, b.MemberID, b.Nickname, string(b.Routing), nonNilBytes(b.Sealed.Blob), b.Sealed.KeyID,
			nonNilBytes(b.MAC), b.Last4, micros(at)).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return cp.E(op, cp.Internal, "", err)
		}
		created = err == nil
		got, err := scanBank(tx.QueryRowContext(ctx, `SELECT `+bankColumns+` FROM bank_accounts
 WHERE account_id = $1 AND routing_number = $2 AND number_mac = $3 AND removed_at = 0`,
			b.AccountID, string(b.Routing), nonNilBytes(b.MAC)))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		*b = got
		return nil
	})
	return created, err
}

// BankAccounts lists the linked bank accounts, oldest first.
func (s *Store) BankAccounts(ctx context.Context, accountID int64) ([]payment.BankAccount, error) {
	const op = "sqlstore.BankAccounts"
	rows, err := s.read.QueryContext(ctx, `SELECT `+bankColumns+` FROM bank_accounts
 WHERE account_id = $1 AND removed_at = 0 ORDER BY id`, accountID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	out, err := collect(rows, scanBank)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// BankAccount returns a linked bank account of the account.
func (s *Store) BankAccount(ctx context.Context, accountID, id int64) (payment.BankAccount, error) {
	const op = "sqlstore.BankAccount"
	b, err := scanBank(s.read.QueryRowContext(ctx, `SELECT `+bankColumns+` FROM bank_accounts
 WHERE id = $1 AND account_id = $2 AND removed_at = 0`, id, accountID))
	if err != nil {
		return payment.BankAccount{}, notFoundOr(op, err)
	}
	return b, nil
}

// RemoveBankAccount unlinks a bank account no open payment or autopay uses. The check
// and the update are one transaction, and on PostgreSQL the row lock keeps a payment
// from being scheduled on it in between.
func (s *Store) RemoveBankAccount(ctx context.Context, accountID, id int64, at time.Time) error {
	const op = "sqlstore.RemoveBankAccount"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM bank_accounts WHERE id = $1 AND account_id = $2 AND removed_at = 0`+s.d.LockSuffix,
			id, accountID).Scan(&one)
		if err != nil {
			return notFoundOr(op, err)
		}
		var inUse bool
		err = tx.QueryRowContext(ctx, `
SELECT EXISTS (SELECT 1 FROM payments WHERE bank_account_id = $1 AND status IN ('scheduled', 'processing'))
    OR EXISTS (SELECT 1 FROM autopay WHERE bank_account_id = $1)`, id).Scan(&inUse)
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if inUse {
			return cp.E(op, cp.Conflict, "payment.bank.inuse", nil)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bank_accounts SET removed_at = $1 WHERE id = $2`, micros(at), id); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
}

const paymentColumns = `p.id, p.account_id, p.member_id, p.bank_account_id, b.last4, p.amount, p.currency, p.pay_on,
       p.status, p.kind, p.confirmation, p.idempotency_key, p.request, COALESCE(p.posting_id, 0),
       p.created_at, p.updated_at, p.posted_at`

const paymentFrom = ` FROM payments p JOIN bank_accounts b ON b.id = p.bank_account_id`

func scanPayment(r rowScanner) (payment.Payment, error) {
	var (
		p                        payment.Payment
		on, status, kind         string
		created, updated, posted int64
	)
	if err := r.Scan(&p.ID, &p.AccountID, &p.MemberID, &p.BankAccountID, &p.BankLast4, &p.Amount, &p.Currency, &on,
		&status, &kind, &p.Confirmation, &p.IdempotencyKey, &p.Request, &p.PostingID, &created, &updated, &posted); err != nil {
		return payment.Payment{}, err
	}
	var err error
	if p.On, err = fromCivilDate(on); err != nil {
		return payment.Payment{}, fmt.Errorf("payment %d: %w", p.ID, err)
	}
	p.Status, p.Kind = payment.Status(status), payment.Kind(kind)
	p.CreatedAt, p.UpdatedAt, p.PostedAt = fromMicros(created), fromMicros(updated), fromMicros(posted)
	return p, nil
}

// CreatePayment inserts once per (account, key): INSERT ... ON CONFLICT DO NOTHING
// makes exactly one of any number of concurrent requests the creator (on PostgreSQL
// the others wait for it to commit, on SQLite the single writer serialises them),
// and every one then reads the same row.
func (s *Store) CreatePayment(ctx context.Context, p *payment.Payment) (bool, error) {
	const op = "sqlstore.CreatePayment"
	created := false
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM bank_accounts WHERE id = $1 AND account_id = $2 AND removed_at = 0`,
			p.BankAccountID, p.AccountID).Scan(&one)
		if err != nil {
			// A retry may name a bank account unlinked since: the key still finds its
			// payment.
			if !errors.Is(err, sql.ErrNoRows) {
				return cp.E(op, cp.Internal, "", err)
			}
			got, err := scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentColumns+paymentFrom+`
 WHERE p.account_id = $1 AND p.idempotency_key = $2`, p.AccountID, p.IdempotencyKey))
			if err != nil {
				return notFoundOr(op, err)
			}
			*p = got
			return nil
		}
		var id int64
		err = tx.QueryRowContext(ctx, `
INSERT INTO payments (account_id, member_id, bank_account_id, amount, currency, pay_on, status, kind, confirmation,
                      idempotency_key, request, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (account_id, idempotency_key) DO NOTHING
RETURNING id`, p.AccountID, p.MemberID, p.BankAccountID, p.Amount, p.Currency, civilDate(p.On), string(p.Status), string(p.Kind),
			p.Confirmation, p.IdempotencyKey, p.Request, micros(p.CreatedAt), micros(p.UpdatedAt)).Scan(&id)
		switch {
		case err == nil:
			created = true
		case errors.Is(err, sql.ErrNoRows):
		case s.d.IsUniqueViolation(err, "payments", "confirmation"):
			return cp.E(op, cp.Conflict, "payment.confirmation.taken", err)
		default:
			return cp.E(op, cp.Internal, "", err)
		}
		got, err := scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentColumns+paymentFrom+`
 WHERE p.account_id = $1 AND p.idempotency_key = $2`, p.AccountID, p.IdempotencyKey))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		*p = got
		return nil
	})
	return created, err
}

// Payment returns a payment on the account.
func (s *Store) Payment(ctx context.Context, accountID, id int64) (payment.Payment, error) {
	const op = "sqlstore.Payment"
	p, err := scanPayment(s.read.QueryRowContext(ctx, `SELECT `+paymentColumns+paymentFrom+` WHERE p.id = $1 AND p.account_id = $2`, id, accountID))
	if err != nil {
		return payment.Payment{}, notFoundOr(op, err)
	}
	return p, nil
}

// PaymentByKey returns the payment a key made on the account.
func (s *Store) PaymentByKey(ctx context.Context, accountID int64, key string) (payment.Payment, error) {
	const op = "sqlstore.PaymentByKey"
	p, err := scanPayment(s.read.QueryRowContext(ctx, `SELECT `+paymentColumns+paymentFrom+`
 WHERE p.account_id = $1 AND p.idempotency_key = $2`, accountID, key))
	if err != nil {
		return payment.Payment{}, notFoundOr(op, err)
	}
	return p, nil
}

// PaymentByID returns any payment. It reads through the writer, because the job acts
// on what it reads and a read replica (SQLite's read pool) may lag a commit by a
// moment.
func (s *Store) PaymentByID(ctx context.Context, id int64) (payment.Payment, error) {
	const op = "sqlstore.PaymentByID"
	p, err := scanPayment(s.write.QueryRowContext(ctx, `SELECT `+paymentColumns+paymentFrom+` WHERE p.id = $1`, id))
	if err != nil {
		return payment.Payment{}, notFoundOr(op, err)
	}
	return p, nil
}

// Payments lists the account's payments, newest date first.
func (s *Store) Payments(ctx context.Context, accountID int64, limit int) ([]payment.Payment, error) {
	const op = "sqlstore.Payments"
	if limit < 1 {
		return []payment.Payment{}, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+paymentColumns+paymentFrom+`
 WHERE p.account_id = $1 ORDER BY p.pay_on DESC, p.id DESC`+limitClause(limit), accountID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	out, err := collect(rows, scanPayment)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// ChangePayment updates a scheduled payment; the status is part of the UPDATE's
// condition, so a change racing the job's claim either lands before it or not at all.
func (s *Store) ChangePayment(ctx context.Context, accountID, id, bankAccountID, amount int64, on, at time.Time) (payment.Payment, error) {
	const op = "sqlstore.ChangePayment"
	var out payment.Payment
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM payments WHERE id = $1 AND account_id = $2`+s.d.LockSuffix, id, accountID).Scan(&status)
		if err != nil {
			return notFoundOr(op, err)
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM bank_accounts WHERE id = $1 AND account_id = $2 AND removed_at = 0`,
			bankAccountID, accountID).Scan(&one)
		if err != nil {
			return notFoundOr(op, err)
		}
		res, err := tx.ExecContext(ctx, `
UPDATE payments SET bank_account_id = $1, amount = $2, pay_on = $3, updated_at = $4
 WHERE id = $5 AND status = 'scheduled'`, bankAccountID, amount, civilDate(on), micros(at), id)
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return cp.E(op, cp.Internal, "", err)
		} else if n == 0 {
			return cp.E(op, cp.Conflict, "payment.error.started", nil)
		}
		out, err = scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentColumns+paymentFrom+` WHERE p.id = $1`, id))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
	return out, err
}

// MovePayment is the one conditional update every status change goes through.
func (s *Store) MovePayment(ctx context.Context, id int64, from, to payment.Status, staleBefore, at time.Time, postingID int64) (payment.Payment, error) {
	const op = "sqlstore.MovePayment"
	var out payment.Payment
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		postedAt := int64(0)
		if to == payment.Posted {
			postedAt = micros(at)
		}
		res, err := tx.ExecContext(ctx, `
UPDATE payments SET status = $1, updated_at = $2, posting_id = COALESCE($3, posting_id),
       posted_at = CASE WHEN posted_at < $4 THEN $4 ELSE posted_at END
 WHERE id = $5 AND status = $6 AND (updated_at < $7 OR $7 = CAST(0 AS BIGINT))`,
			string(to), micros(at), nullID(postingID), postedAt, id, string(from), micros(staleBefore))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		out, err = scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentColumns+paymentFrom+` WHERE p.id = $1`, id))
		if err != nil {
			return notFoundOr(op, err)
		}
		if n == 0 {
			return cp.E(op, cp.Conflict, "payment.error.started", fmt.Errorf("payment %d is %s, not %s", id, out.Status, from))
		}
		return nil
	})
	if err != nil {
		return payment.Payment{}, err
	}
	return out, nil
}

// DuePayments lists what the job must execute, oldest date first.
func (s *Store) DuePayments(ctx context.Context, on, staleBefore time.Time) ([]int64, error) {
	const op = "sqlstore.DuePayments"
	rows, err := s.write.QueryContext(ctx, `
SELECT id FROM payments
 WHERE (status = 'scheduled' AND pay_on <= $1) OR (status = 'processing' AND updated_at < $2)
 ORDER BY pay_on, id`, civilDate(on), micros(staleBefore))
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

// SetAutopay upserts the account's setting, if the bank account is linked to it.
func (s *Store) SetAutopay(ctx context.Context, a payment.Autopay) error {
	const op = "sqlstore.SetAutopay"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM bank_accounts WHERE id = $1 AND account_id = $2 AND removed_at = 0`+s.d.LockSuffix,
			a.BankAccountID, a.AccountID).Scan(&one)
		if err != nil {
			return notFoundOr(op, err)
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO autopay (account_id, member_id, bank_account_id, rule, amount, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (account_id) DO UPDATE SET member_id = excluded.member_id, bank_account_id = excluded.bank_account_id,
       rule = excluded.rule, amount = excluded.amount, updated_at = excluded.updated_at`,
			a.AccountID, a.MemberID, a.BankAccountID, string(a.Rule), a.Amount, micros(a.UpdatedAt))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
}

const autopayColumns = `ap.account_id, ap.member_id, ap.bank_account_id, b.last4, ap.rule, ap.amount, ap.updated_at`

func scanAutopay(dst []any, a *payment.Autopay, rule *string, updated *int64) []any {
	return append([]any{&a.AccountID, &a.MemberID, &a.BankAccountID, &a.BankLast4, rule, &a.Amount, updated}, dst...)
}

// Autopay returns the account's setting.
func (s *Store) Autopay(ctx context.Context, accountID int64) (payment.Autopay, error) {
	const op = "sqlstore.Autopay"
	var (
		a       payment.Autopay
		rule    string
		updated int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+autopayColumns+` FROM autopay ap JOIN bank_accounts b ON b.id = ap.bank_account_id
 WHERE ap.account_id = $1`, accountID).Scan(scanAutopay(nil, &a, &rule, &updated)...)
	if err != nil {
		return payment.Autopay{}, notFoundOr(op, err)
	}
	a.Rule, a.UpdatedAt = payment.Rule(rule), fromMicros(updated)
	return a, nil
}

// StopAutopay deletes the account's setting.
func (s *Store) StopAutopay(ctx context.Context, accountID int64) error {
	const op = "sqlstore.StopAutopay"
	res, err := s.write.ExecContext(ctx, `DELETE FROM autopay WHERE account_id = $1`, accountID)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// AutopaysDue joins each autopay setting to its account's latest statement when that
// statement is due on the date, with the balance now; then it sums, per account, the
// payments posted after the statement's closing day.
func (s *Store) AutopaysDue(ctx context.Context, on time.Time) ([]payment.AutopayDue, error) {
	const op = "sqlstore.AutopaysDue"
	rows, err := s.write.QueryContext(ctx, `
SELECT `+autopayColumns+`, st.closing_date, st.due_date, st.currency, st.closing_balance, st.minimum_due,
       CAST(COALESCE((SELECT SUM(x.amount) FROM postings x WHERE x.account_id = ap.account_id AND x.status = 'posted'), 0) AS BIGINT)
  FROM autopay ap
  JOIN bank_accounts b ON b.id = ap.bank_account_id
  JOIN statements st ON st.account_id = ap.account_id
 WHERE st.due_date = $1
   AND st.closing_date = (SELECT MAX(s2.closing_date) FROM statements s2 WHERE s2.account_id = st.account_id)
 ORDER BY ap.account_id`, civilDate(on))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	var out []payment.AutopayDue
	for rows.Next() {
		var (
			d                  payment.AutopayDue
			rule, closing, due string
			updated            int64
		)
		dst := scanAutopay([]any{&closing, &due, &d.Statement.Currency, &d.Statement.ClosingBalance, &d.Statement.MinimumDue,
			&d.Owed}, &d.Autopay, &rule, &updated)
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, cp.E(op, cp.Internal, "", err)
		}
		d.Autopay.Rule, d.Autopay.UpdatedAt = payment.Rule(rule), fromMicros(updated)
		d.Statement.AccountID = d.Autopay.AccountID
		d.Statement.ClosingDate, err = fromCivilDate(closing)
		if err == nil {
			d.Statement.DueDate, err = fromCivilDate(due)
		}
		if err != nil {
			rows.Close()
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, d)
	}
	err = rows.Err()
	// Closed before the next queries: SQLite's writer is a single connection.
	rows.Close()
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	for i := range out {
		after := micros(civilStart(out[i].Statement.ClosingDate).AddDate(0, 0, 1))
		err := s.write.QueryRowContext(ctx, `
SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM postings
 WHERE account_id = $1 AND kind = 'payment' AND status = 'posted' AND posted_at >= $2`,
			out[i].Autopay.AccountID, after).Scan(&out[i].PaidSince)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
	}
	return out, nil
}

// RecordStatement stores a closed statement's figures as the statement job would,
// with zeros for what payments do not read. It is for tests and data loads that need
// a statement without running a cycle close; a second one for the same account and
// closing date is Conflict.
func (s *Store) RecordStatement(ctx context.Context, st payment.Statement, at time.Time) error {
	const op = "sqlstore.RecordStatement"
	_, err := s.write.ExecContext(ctx, `
INSERT INTO statements (account_id, period_start, closing_date, due_date, currency, opening_balance, purchases,
                        credits, interest, closing_balance, minimum_due, created_at)
VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, $6, $7, $8)`,
		st.AccountID, civilDate(st.ClosingDate.AddDate(0, -1, 1)), civilDate(st.ClosingDate), civilDate(st.DueDate),
		st.Currency, st.ClosingBalance, st.MinimumDue, micros(at))
	if err != nil {
		if s.d.IsUniqueViolation(err, "statements", "") {
			return cp.E(op, cp.Conflict, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}
