package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/identity"
)

var _ cardservice.Store = (*Store)(nil)

// CardActor returns the member's standing on their account.
func (s *Store) CardActor(ctx context.Context, member identity.MemberID) (cardservice.Actor, error) {
	const op = "sqlstore.CardActor"
	var (
		a     cardservice.Actor
		birth string
	)
	err := s.read.QueryRowContext(ctx, `
SELECT m.id, h.id, h.account_id, h.basic, h.name, h.birth_date, m.email, m.locale
  FROM members m
  JOIN cardholders h ON h.id = m.cardholder_id
 WHERE m.id = $1`, int64(member)).Scan(&a.MemberID, &a.CardholderID, &a.AccountID, &a.Basic, &a.Name, &birth, &a.Email, &a.Locale)
	if err != nil {
		return cardservice.Actor{}, notFoundOr(op, err)
	}
	if a.BirthDate, err = fromCivilDate(birth); err != nil {
		return cardservice.Actor{}, cp.E(op, cp.Internal, "", fmt.Errorf("card holder %d: %w", a.CardholderID, err))
	}
	return a, nil
}

// memberCardSelect finds the cards a member may act on: every card on the account for
// the basic card member (me.basic), only their own for an additional one. The scoping
// is in the join, so a card outside it is simply not found.
const memberCardSelect = `
SELECT c.id, c.account_id, c.cardholder_id, h.name, h.birth_date, h.basic,
       c.pan_sealed, c.pan_key_id, c.pan_fingerprint, c.last_digits, c.exp_month, c.exp_year,
       c.state, c.issued_at, c.replaces_id,
       EXISTS (SELECT 1 FROM card_pins p WHERE p.card_id = c.id)
  FROM members m
  JOIN cardholders me ON me.id = m.cardholder_id
  JOIN cards c ON c.account_id = me.account_id AND (me.basic OR c.cardholder_id = me.id)
  JOIN cardholders h ON h.id = c.cardholder_id
 WHERE m.id = $1`

func scanMemberCard(row rowScanner) (cardservice.Card, error) {
	var (
		c                 cardservice.Card
		birth, state      string
		expMonth, expYear int
		issued            int64
	)
	if err := row.Scan(&c.ID, &c.AccountID, &c.CardholderID, &c.HolderName, &birth, &c.Basic,
		&c.Sealed.Blob, &c.Sealed.KeyID, &c.Fingerprint, &c.Last, &expMonth, &expYear,
		&state, &issued, &c.ReplacesID, &c.HasPIN); err != nil {
		return cardservice.Card{}, err
	}
	var err error
	if c.HolderBirth, err = fromCivilDate(birth); err != nil {
		return cardservice.Card{}, fmt.Errorf("card %d: %w", c.ID, err)
	}
	c.Expiry = card.Expiry{Month: expMonth, Year: expYear}
	c.State = card.State(state)
	c.IssuedAt = fromMicros(issued)
	return c, nil
}

// MemberCard returns a card the member may act on. Returns NotFound otherwise.
func (s *Store) MemberCard(ctx context.Context, member identity.MemberID, cardID int64) (cardservice.Card, error) {
	const op = "sqlstore.MemberCard"
	c, err := scanMemberCard(s.read.QueryRowContext(ctx, memberCardSelect+` AND c.id = $2`, int64(member), cardID))
	if err != nil {
		return cardservice.Card{}, notFoundOr(op, err)
	}
	return c, nil
}

// MemberCardByFingerprint returns the card with the fingerprint if the member may act
// on it. Returns NotFound otherwise.
func (s *Store) MemberCardByFingerprint(ctx context.Context, member identity.MemberID, fingerprint []byte) (cardservice.Card, error) {
	const op = "sqlstore.MemberCardByFingerprint"
	c, err := scanMemberCard(s.read.QueryRowContext(ctx, memberCardSelect+` AND c.pan_fingerprint = $2`, int64(member), fingerprint))
	if err != nil {
		return cardservice.Card{}, notFoundOr(op, err)
	}
	return c, nil
}

// MemberCards lists the cards the member may act on: the basic card member's first,
// then by holder, newest card first.
func (s *Store) MemberCards(ctx context.Context, member identity.MemberID) ([]cardservice.Card, error) {
	const op = "sqlstore.MemberCards"
	rows, err := s.read.QueryContext(ctx, memberCardSelect+`
 ORDER BY h.basic DESC, c.cardholder_id, c.issued_at DESC, c.id DESC`, int64(member))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	out, err := collect(rows, scanMemberCard)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// SetCardState moves a card from one state to another if it is still in from.
func (s *Store) SetCardState(ctx context.Context, cardID int64, from, to card.State) error {
	const op = "sqlstore.SetCardState"
	res, err := s.write.ExecContext(ctx, `UPDATE cards SET state = $1 WHERE id = $2 AND state = $3`, string(to), cardID, string(from))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if err := mustAffect(op, res); err == nil || !cp.IsKind(err, cp.NotFound) {
		return err
	}
	// Nothing changed: tell a missing card from one that moved on.
	var exists bool
	if err := s.write.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM cards WHERE id = $1)`, cardID).Scan(&exists); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if !exists {
		return cp.E(op, cp.NotFound, "", nil)
	}
	return cp.E(op, cp.Conflict, "card.state.changed", nil)
}

// ReplaceCard blocks the old card and stores its replacement in one transaction.
func (s *Store) ReplaceCard(ctx context.Context, oldID int64, from card.State, nc cardservice.NewCard) (int64, error) {
	const op = "sqlstore.ReplaceCard"
	var newID int64
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		var accountID, holderID int64
		err := tx.QueryRowContext(ctx, `
UPDATE cards SET state = $1 WHERE id = $2 AND state = $3
RETURNING account_id, cardholder_id`, string(card.Lost), oldID, string(from)).Scan(&accountID, &holderID)
		if errors.Is(err, sql.ErrNoRows) {
			return cp.E(op, cp.Conflict, "card.state.changed", err)
		}
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		err = tx.QueryRowContext(ctx, `
INSERT INTO cards (account_id, cardholder_id, pan_sealed, pan_key_id, pan_fingerprint, last_digits,
                   exp_month, exp_year, state, issued_at, replaces_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id`,
			accountID, holderID, nonNilBytes(nc.Sealed.Blob), nc.Sealed.KeyID, nonNilBytes(nc.Fingerprint), nc.Last,
			nc.Expiry.Month, nc.Expiry.Year, string(card.Inactive), micros(nc.IssuedAt), oldID).Scan(&newID)
		if err != nil {
			if s.d.IsUniqueViolation(err, "cards", "pan_fingerprint") {
				return cp.E(op, cp.Conflict, "card.number.taken", err)
			}
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return newID, nil
}

// SetPINValue stores a card's PIN verification value, replacing any previous one.
func (s *Store) SetPINValue(ctx context.Context, cardID int64, value []byte, at time.Time) error {
	const op = "sqlstore.SetPINValue"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM cards WHERE id = $1)`, cardID).Scan(&exists); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if !exists {
			return cp.E(op, cp.NotFound, "", nil)
		}
		_, err := tx.ExecContext(ctx, `
INSERT INTO card_pins (card_id, value, set_at) VALUES ($1, $2, $3)
ON CONFLICT (card_id) DO UPDATE SET value = excluded.value, set_at = excluded.set_at`,
			cardID, nonNilBytes(value), micros(at))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
}

// PINValue returns the card's PIN verification value; NotFound if none is set.
func (s *Store) PINValue(ctx context.Context, cardID int64) ([]byte, error) {
	const op = "sqlstore.PINValue"
	var v []byte
	if err := s.read.QueryRowContext(ctx, `SELECT value FROM card_pins WHERE card_id = $1`, cardID).Scan(&v); err != nil {
		return nil, notFoundOr(op, err)
	}
	return v, nil
}
