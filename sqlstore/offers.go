package sqlstore

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
)

var (
	_ offers.Store   = (*Store)(nil)
	_ rewards.Loader = (*Store)(nil)
)

const offerColumns = `o.id, o.code, o.merchant, o.mcc, o.min_spend, o.credit, o.currency, o.starts_on, o.ends_on`

func scanOffer(r rowScanner) (offers.Offer, error) {
	var (
		o          offers.Offer
		start, end string
	)
	if err := r.Scan(&o.ID, &o.Code, &o.Merchant, &o.MCC, &o.MinSpend, &o.Credit, &o.Currency, &start, &end); err != nil {
		return offers.Offer{}, err
	}
	var err error
	if o.StartsOn, err = fromCivilDate(start); err != nil {
		return offers.Offer{}, err
	}
	o.EndsOn, err = fromCivilDate(end)
	return o, err
}

const enrolmentColumns = `e.id, e.offer_id, e.card_id, e.account_id, e.enrolled_at, COALESCE(e.posting_id, 0)`

func scanEnrolment(r rowScanner) (offers.Enrolment, error) {
	var (
		e  offers.Enrolment
		at int64
	)
	err := r.Scan(&e.ID, &e.OfferID, &e.CardID, &e.AccountID, &at, &e.PostingID)
	e.EnrolledAt = fromMicros(at)
	return e, err
}

// holderScope reads whether the holder is on the account and is its basic member.
func (s *Store) holderScope(ctx context.Context, op string, cardholderID, accountID int64) (basic bool, currency string, err error) {
	err = s.read.QueryRowContext(ctx, `
SELECT h.basic, a.currency FROM cardholders h JOIN accounts a ON a.id = h.account_id
 WHERE h.id = $1 AND a.id = $2`, cardholderID, accountID).Scan(&basic, &currency)
	if err != nil {
		return false, "", notFoundOr(op, err)
	}
	return basic, currency, nil
}

// AccountOffers lists the open offers and the enrolments of the holder's visible cards.
func (s *Store) AccountOffers(ctx context.Context, cardholderID, accountID int64, at time.Time) ([]offers.Offer, []offers.Enrolment, error) {
	const op = "sqlstore.AccountOffers"
	basic, currency, err := s.holderScope(ctx, op, cardholderID, accountID)
	if err != nil {
		return nil, nil, err
	}
	day := civilDate(civilStart(at))
	rows, err := s.read.QueryContext(ctx, `SELECT `+offerColumns+` FROM offers o
 WHERE o.currency = $1 AND o.starts_on <= $2 AND o.ends_on >= $2 ORDER BY o.ends_on, o.id`, currency, day)
	if err != nil {
		return nil, nil, cp.E(op, cp.Internal, "", err)
	}
	os := []offers.Offer{}
	for rows.Next() {
		o, err := scanOffer(rows)
		if err != nil {
			rows.Close()
			return nil, nil, cp.E(op, cp.Internal, "", err)
		}
		os = append(os, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, cp.E(op, cp.Internal, "", err)
	}
	rows, err = s.read.QueryContext(ctx, `SELECT `+enrolmentColumns+` FROM offer_enrolments e
  JOIN cards c ON c.id = e.card_id
 WHERE e.account_id = $1 AND c.account_id = $1 AND (c.cardholder_id = $2 OR $3)
 ORDER BY e.id`, accountID, cardholderID, basic)
	if err != nil {
		return nil, nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	es := []offers.Enrolment{}
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, nil, cp.E(op, cp.Internal, "", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, cp.E(op, cp.Internal, "", err)
	}
	return os, es, nil
}

// Enrol adds the offer to the card, once: the (offer, card) pair is unique, and a
// second add returns the first enrolment.
func (s *Store) Enrol(ctx context.Context, cardholderID, accountID, offerID, cardID int64, at time.Time) (offers.Enrolment, error) {
	const op = "sqlstore.Enrol"
	basic, currency, err := s.holderScope(ctx, op, cardholderID, accountID)
	if err != nil {
		return offers.Enrolment{}, err
	}
	var one int
	if err := s.read.QueryRowContext(ctx, `SELECT 1 FROM cards WHERE id = $1 AND account_id = $2 AND (cardholder_id = $3 OR $4)`,
		cardID, accountID, cardholderID, basic).Scan(&one); err != nil {
		return offers.Enrolment{}, notFoundOr(op, err)
	}
	day := civilDate(civilStart(at))
	if err := s.read.QueryRowContext(ctx, `SELECT 1 FROM offers WHERE id = $1 AND currency = $2 AND starts_on <= $3 AND ends_on >= $3`,
		offerID, currency, day).Scan(&one); err != nil {
		return offers.Enrolment{}, notFoundOr(op, err)
	}
	var out offers.Enrolment
	err = s.inTx(ctx, op, func(tx *poolTx) error {
		if _, err := tx.ExecContext(ctx, `
INSERT INTO offer_enrolments (offer_id, card_id, account_id, enrolled_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (offer_id, card_id) DO NOTHING`, offerID, cardID, accountID, micros(at)); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		var err error
		out, err = scanEnrolment(tx.QueryRowContext(ctx, `SELECT `+enrolmentColumns+` FROM offer_enrolments e
 WHERE e.offer_id = $1 AND e.card_id = $2`, offerID, cardID))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
	if err != nil {
		return offers.Enrolment{}, err
	}
	return out, nil
}

// Benefits lists the product's benefits.
func (s *Store) Benefits(ctx context.Context, cardholderID, accountID int64) ([]offers.Benefit, error) {
	const op = "sqlstore.Benefits"
	if _, _, err := s.holderScope(ctx, op, cardholderID, accountID); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT p.code, b.text_id FROM accounts a JOIN products p ON p.id = a.product_id JOIN benefits b ON b.product_id = p.id
 WHERE a.id = $1 ORDER BY b.position`, accountID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	out := []offers.Benefit{}
	for rows.Next() {
		var b offers.Benefit
		if err := rows.Scan(&b.ProductCode, &b.TextID); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// OpenEnrolments pages through uncredited enrolments of offers still in reach.
func (s *Store) OpenEnrolments(ctx context.Context, since time.Time, after int64, limit int) ([]offers.Enrolment, map[int64]offers.Offer, error) {
	const op = "sqlstore.OpenEnrolments"
	rows, err := s.read.QueryContext(ctx, `SELECT `+enrolmentColumns+`, `+offerColumns+`
  FROM offer_enrolments e JOIN offers o ON o.id = e.offer_id
 WHERE e.posting_id IS NULL AND o.ends_on >= $1 AND e.id > $2
 ORDER BY e.id`+limitClause(limit), civilDate(civilStart(since)), after)
	if err != nil {
		return nil, nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var (
		es []offers.Enrolment
		os = map[int64]offers.Offer{}
	)
	for rows.Next() {
		var (
			e          offers.Enrolment
			o          offers.Offer
			at         int64
			start, end string
		)
		if err := rows.Scan(&e.ID, &e.OfferID, &e.CardID, &e.AccountID, &at, &e.PostingID,
			&o.ID, &o.Code, &o.Merchant, &o.MCC, &o.MinSpend, &o.Credit, &o.Currency, &start, &end); err != nil {
			return nil, nil, cp.E(op, cp.Internal, "", err)
		}
		e.EnrolledAt = fromMicros(at)
		o.StartsOn, _ = fromCivilDate(start)
		o.EndsOn, _ = fromCivilDate(end)
		es = append(es, e)
		os[o.ID] = o
	}
	if err := rows.Err(); err != nil {
		return nil, nil, cp.E(op, cp.Internal, "", err)
	}
	return es, os, nil
}

// CardPurchases reads a card's posted purchases in a time range, oldest first.
func (s *Store) CardPurchases(ctx context.Context, cardID int64, from, to time.Time) ([]offers.Purchase, error) {
	const op = "sqlstore.CardPurchases"
	rows, err := s.read.QueryContext(ctx, `
SELECT p.id, p.card_id, p.kind, p.status, p.amount, a.currency, p.merchant, p.mcc, p.posted_at
  FROM postings p JOIN accounts a ON a.id = p.account_id
 WHERE p.card_id = $1 AND p.posted_at >= $2 AND p.posted_at < $3 AND p.kind = 'purchase' AND p.status = 'posted'
 ORDER BY p.posted_at, p.id`, cardID, micros(from), micros(to))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []offers.Purchase
	for rows.Next() {
		var (
			p            offers.Purchase
			kind, status string
			at           int64
		)
		if err := rows.Scan(&p.ID, &p.CardID, &kind, &status, &p.Amount, &p.Currency, &p.Merchant, &p.MCC, &at); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		p.Kind, p.Status, p.PostedAt = account.Kind(kind), account.Status(status), fromMicros(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// MarkCredited links the enrolment to its credit posting, found by its key.
func (s *Store) MarkCredited(ctx context.Context, enrolmentID int64, ledgerKey string) error {
	const op = "sqlstore.MarkCredited"
	res, err := s.write.ExecContext(ctx, `
UPDATE offer_enrolments SET posting_id = (SELECT id FROM postings WHERE idempotency_key = $1)
 WHERE id = $2 AND posting_id IS NULL`, ledgerKey, enrolmentID)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	_, err = res.RowsAffected()
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// LoadRewards stores the programme, adding what is not there yet (by product and MCC,
// item code, offer code, product and position) and changing nothing that is, so a
// restart or a second instance loads it harmlessly.
func (s *Store) LoadRewards(ctx context.Context, p rewards.Programme) error {
	const op = "sqlstore.LoadRewards"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		exec := func(q string, args ...any) error {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			return nil
		}
		for _, r := range p.Rates {
			if err := exec(`INSERT INTO reward_rates (product_id, mcc, points_per_100)
SELECT id, $2, $3 FROM products WHERE code = $1 ON CONFLICT (product_id, mcc) DO NOTHING`, r.ProductCode, r.MCC, r.PointsPer); err != nil {
				return err
			}
		}
		for i, it := range p.Items {
			if err := exec(`INSERT INTO reward_items (code, kind, points, step, value, currency, position)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING`, it.Code, string(it.Kind), it.Points, it.Step, it.Value, it.Currency, i); err != nil {
				return err
			}
		}
		for _, o := range p.Offers {
			if err := exec(`INSERT INTO offers (code, merchant, mcc, min_spend, credit, currency, starts_on, ends_on)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING`, o.Code, o.Merchant, o.MCC, o.MinSpend, o.Credit, o.Currency,
				civilDate(o.StartsOn), civilDate(o.EndsOn)); err != nil {
				return err
			}
		}
		pos := map[string]int{}
		for _, b := range p.Benefits {
			// Position counts per product in the order given.
			pos[b.ProductCode]++
			if err := exec(`INSERT INTO benefits (product_id, position, text_id)
SELECT id, $2, $3 FROM products WHERE code = $1 ON CONFLICT (product_id, position) DO NOTHING`, b.ProductCode, pos[b.ProductCode], b.TextID); err != nil {
				return err
			}
		}
		return nil
	})
}
