package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
)

var _ details.Store = (*Store)(nil)

// addressCols are the billing_addresses columns LoadIssuer writes.
var addressCols = []string{"cardholder_id", "line1", "line2", "city", "region", "postcode", "postcode_key", "country", "updated_at"}

// holdersWithAddress returns the dataset's holders that have a billing address.
func holdersWithAddress(d issuer.Dataset) []issuer.CardHolder {
	var out []issuer.CardHolder
	for _, h := range d.CardHolders {
		if !h.Address.IsZero() {
			out = append(out, h)
		}
	}
	return out
}

// addressRow is a holder's billing_addresses row as loaded from the issuer (so with
// no change time).
func addressRow(h issuer.CardHolder) []any {
	a := h.Address
	return []any{h.ID, a.Line1, a.Line2, a.City, a.Region, a.Postcode, issuer.PostcodeKey(a.Postcode), a.Country, int64(0)}
}

// MemberHolder returns the member's card holder record with its billing address.
func (s *Store) MemberHolder(ctx context.Context, member identity.MemberID) (details.Holder, error) {
	const op = "sqlstore.MemberHolder"
	var (
		h       details.Holder
		updated int64
	)
	err := s.read.QueryRowContext(ctx, `
SELECT h.id, h.name, COALESCE(b.line1, ''), COALESCE(b.line2, ''), COALESCE(b.city, ''), COALESCE(b.region, ''),
       COALESCE(b.postcode, ''), COALESCE(b.country, ''), COALESCE(b.updated_at, 0), m.email, m.phone, m.locale
  FROM members m
  JOIN cardholders h ON h.id = m.cardholder_id
  LEFT JOIN billing_addresses b ON b.cardholder_id = h.id
 WHERE m.id = $1`, int64(member)).Scan(&h.CardholderID, &h.Name, &h.Address.Line1, &h.Address.Line2, &h.Address.City,
		&h.Address.Region, &h.Address.Postcode, &h.Address.Country, &updated, &h.Email, &h.Phone, &h.Locale)
	if err != nil {
		return details.Holder{}, notFoundOr(op, err)
	}
	h.UpdatedAt = fromMicros(updated)
	return h, nil
}

// SetMemberAddress replaces (or creates) the billing address of the member's holder.
func (s *Store) SetMemberAddress(ctx context.Context, member identity.MemberID, a issuer.Address, at time.Time) error {
	const op = "sqlstore.SetMemberAddress"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var holder int64
		err := tx.QueryRowContext(ctx, `SELECT cardholder_id FROM members WHERE id = $1`, int64(member)).Scan(&holder)
		if errors.Is(err, sql.ErrNoRows) {
			return cp.E(op, cp.NotFound, "", err)
		}
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO billing_addresses (cardholder_id, line1, line2, city, region, postcode, postcode_key, country, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (cardholder_id) DO UPDATE SET line1 = excluded.line1, line2 = excluded.line2, city = excluded.city,
       region = excluded.region, postcode = excluded.postcode, postcode_key = excluded.postcode_key,
       country = excluded.country, updated_at = excluded.updated_at`,
			holder, a.Line1, a.Line2, a.City, a.Region, a.Postcode, issuer.PostcodeKey(a.Postcode), a.Country, micros(at))
		if err != nil {
			return cp.E(op, cp.Internal, "", fmt.Errorf("billing address: %w", err))
		}
		return nil
	})
}

// MembersByEmail finds members by email address regardless of ASCII case, through
// the members_email index on lower(email). email must already be ASCII-lower-cased.
func (s *Store) MembersByEmail(ctx context.Context, email string, limit int) ([]identity.UserIDCandidate, error) {
	const op = "sqlstore.MembersByEmail"
	rows, err := s.read.QueryContext(ctx, `
SELECT m.id, m.user_id, m.cardholder_id, m.name, m.email, m.phone, m.locale, m.created_at,
       h.name, COALESCE(b.postcode_key, '')
  FROM members m
  JOIN cardholders h ON h.id = m.cardholder_id
  LEFT JOIN billing_addresses b ON b.cardholder_id = h.id
 WHERE lower(m.email) = $1
 ORDER BY m.id`+limitClause(limit), email)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	out := []identity.UserIDCandidate{}
	for rows.Next() {
		var (
			c       identity.UserIDCandidate
			created int64
		)
		if err := rows.Scan(&c.Member.ID, &c.Member.UserID, &c.Member.CardholderID, &c.Member.Name, &c.Member.Email,
			&c.Member.Phone, &c.Member.Locale, &created, &c.HolderName, &c.PostcodeKey); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		c.Member.CreatedAt = fromMicros(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}
