package sqlstore

import (
	"context"
	"errors"
	"fmt"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
)

// cardHolderSelect joins a card to its holder, the member registered for the holder
// (if any) and the birth date of the account's basic card member, which registration
// asks additional members for. The basic member's date comes from a subquery rather
// than a join so an account without one still yields its cards.
const cardHolderSelect = `
SELECT h.id, c.account_id, c.id, c.last_digits, h.basic, h.name, h.birth_date,
       h.national_id_mac,
       COALESCE((SELECT b.birth_date FROM cardholders b
                  WHERE b.account_id = h.account_id AND b.basic
                  ORDER BY b.id LIMIT 1), ''),
       c.exp_month, c.exp_year, c.state, COALESCE(m.id, 0), h.email, h.phone
  FROM cards c
  JOIN cardholders h ON h.id = c.cardholder_id
  LEFT JOIN members m ON m.cardholder_id = h.id`

// usableCard excludes the states (issuer.StateLost, issuer.StateClosed) of cards that
// are gone and can no longer register. Inactive (not yet activated) and frozen cards
// still identify their holder.
const usableCard = `c.state NOT IN ('lost', 'closed')`

// CardHolderByFingerprint returns the card with the given PAN fingerprint and its
// holder. Returns NotFound if there is no such card.
func (s *Store) CardHolderByFingerprint(ctx context.Context, fingerprint []byte) (identity.CardHolder, error) {
	const op = "sqlstore.CardHolderByFingerprint"
	return s.cardHolder(ctx, op, cardHolderSelect+` WHERE c.pan_fingerprint = $1`, fingerprint)
}

// CardHolderByID returns the holder with their newest usable card (neither lost nor
// closed). Returns NotFound if the holder has none.
func (s *Store) CardHolderByID(ctx context.Context, cardholderID int64) (identity.CardHolder, error) {
	const op = "sqlstore.CardHolderByID"
	return s.cardHolder(ctx, op, cardHolderSelect+` WHERE h.id = $1 AND `+usableCard+`
 ORDER BY c.issued_at DESC, c.id DESC LIMIT 1`, cardholderID)
}

func (s *Store) cardHolder(ctx context.Context, op, query string, arg any) (identity.CardHolder, error) {
	var (
		ch                identity.CardHolder
		basic             bool
		birth, basicBirth string
		state             string
		expMonth, expYear int
		memberID          int64
	)
	err := s.read.QueryRowContext(ctx, query, arg).Scan(
		&ch.CardholderID, &ch.AccountID, &ch.CardID, &ch.CardLast, &basic, &ch.Name, &birth,
		&ch.NationalIDMAC, &basicBirth, &expMonth, &expYear, &state, &memberID, &ch.Email, &ch.Phone)
	if err != nil {
		return identity.CardHolder{}, notFoundOr(op, err)
	}
	ch.Role = identity.Additional
	if basic {
		ch.Role = identity.Basic
	}
	var errB, errBB error
	ch.DateOfBirth, errB = fromCivilDate(birth)
	if !basic {
		ch.BasicDOB, errBB = fromCivilDate(basicBirth)
	}
	if err := errors.Join(errB, errBB); err != nil {
		return identity.CardHolder{}, cp.E(op, cp.Internal, "", fmt.Errorf("card holder %d: %w", ch.CardholderID, err))
	}
	ch.Expiry = card.Expiry{Month: expMonth, Year: expYear}
	ch.Active = state != issuer.StateLost && state != issuer.StateClosed
	ch.MemberID = identity.MemberID(memberID)
	return ch, nil
}
