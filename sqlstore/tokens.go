package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
)

// CardByToken returns the immutable facts of a network token's card.
func (s *Store) CardByToken(ctx context.Context, fingerprint []byte) (authorize.CardRef, error) {
	const op = "sqlstore.CardByToken"
	var r authorize.CardRef
	err := s.read.QueryRowContext(ctx, `
SELECT t.id, c.id, c.account_id, p.code, a.currency
  FROM network_tokens t
  JOIN cards c ON c.id = t.card_id
  JOIN accounts a ON a.id = c.account_id
  JOIN products p ON p.id = a.product_id
 WHERE t.token_fingerprint = $1`, fingerprint).Scan(&r.TokenID, &r.CardID, &r.AccountID, &r.Product, &r.Currency)
	if err != nil {
		return authorize.CardRef{}, notFoundOr(op, err)
	}
	return r, nil
}

// Token decides and stores a token message. It runs through the authorisations'
// group commit, with the account locked, so that a token's status change and a
// payment with it are decided one after the other.
func (s *Store) Token(ctx context.Context, msg authorize.Message, ref authorize.CardRef, t authorize.Token,
	decide func(authorize.TokenSnapshot) authorize.Code) (authorize.Answer, error) {
	const op = "sqlstore.Token"
	return s.answerOnce(ctx, op, ref.AccountID, msg, func(tx *poolTx) (authorize.Answer, error) {
		a := authorize.Answer{MessageID: msg.ID, Code: authorize.NoSuchCard}
		if ref.CardID != 0 {
			var err error
			if a.Code, err = s.token(ctx, tx, msg, ref, t, decide); err != nil {
				return a, cp.E(op, cp.Internal, "", err)
			}
		}
		return a, nil
	})
}

func (s *Store) token(ctx context.Context, tx *poolTx, msg authorize.Message, ref authorize.CardRef, t authorize.Token,
	decide func(authorize.TokenSnapshot) authorize.Code) (authorize.Code, error) {
	if err := s.lockAccount(ctx, tx, ref.AccountID); err != nil {
		return "", err
	}
	var (
		snap        authorize.TokenSnapshot
		state       string
		old         = &snap.Existing
		id, cardID  sql.NullInt64
		month, year sql.NullInt64
		status      sql.NullString
	)
	err := tx.QueryRowContext(ctx, `
SELECT c.state, t.id, t.card_id, t.exp_month, t.exp_year, t.status
  FROM cards c LEFT JOIN network_tokens t ON t.token_fingerprint = $2
 WHERE c.id = $1`, ref.CardID, t.Fingerprint).Scan(&state, &id, &cardID, &month, &year, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return authorize.NoSuchCard, nil
	}
	if err != nil {
		return "", err
	}
	snap.CardState = card.State(state)
	old.CardID = cardID.Int64
	old.Expiry = card.Expiry{Month: int(month.Int64), Year: int(year.Int64)}
	old.Status = authorize.TokenStatus(status.String)
	code := decide(snap)
	if code != authorize.Approved {
		return code, nil
	}
	at := micros(msg.At)
	if id.Valid {
		_, err = tx.ExecContext(ctx, `
UPDATE network_tokens SET exp_month = $1, exp_year = $2, status = $3, wallet = $4, updated_at = $5 WHERE id = $6`,
			t.Expiry.Month, t.Expiry.Year, string(t.Status), t.Wallet, at, id.Int64)
	} else {
		_, err = tx.ExecContext(ctx, `
INSERT INTO network_tokens (token_fingerprint, card_id, last_digits, exp_month, exp_year, status, wallet, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			t.Fingerprint, ref.CardID, t.Last, t.Expiry.Month, t.Expiry.Year, string(t.Status), t.Wallet, at)
	}
	return authorize.Approved, err
}

// tokenSnapshot reads the status and expiry of the token an authorisation names
// its card by, in the decision's transaction.
func tokenSnapshot(ctx context.Context, tx *poolTx, tokenID int64, snap *authorize.Snapshot) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status, exp_month, exp_year FROM network_tokens WHERE id = $1`, tokenID).
		Scan(&status, &snap.TokenExpiry.Month, &snap.TokenExpiry.Year)
	snap.Token = authorize.TokenStatus(status)
	return err
}
