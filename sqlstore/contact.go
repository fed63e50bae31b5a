package sqlstore

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// SaveContactCode stores the member's code for a channel, replacing an earlier one
// and its tries.
func (s *Store) SaveContactCode(ctx context.Context, c identity.ContactCode) error {
	const op = "sqlstore.SaveContactCode"
	_, err := s.write.ExecContext(ctx, `
INSERT INTO contact_codes (member_id, channel, address, code_mac, tries, is_change, expires_at)
VALUES ($1, $2, $3, $4, 0, $5, $6)
ON CONFLICT (member_id, channel) DO UPDATE
   SET address = excluded.address, code_mac = excluded.code_mac, tries = 0, is_change = excluded.is_change,
       expires_at = excluded.expires_at`,
		int64(c.MemberID), string(c.Channel), c.Address, nonNilBytes(c.CodeMAC), c.Change, micros(c.ExpiresAt))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// ContactCode returns the member's code for the channel. Returns NotFound.
func (s *Store) ContactCode(ctx context.Context, member identity.MemberID, channel identity.Factor) (identity.ContactCode, error) {
	const op = "sqlstore.ContactCode"
	c := identity.ContactCode{MemberID: member, Channel: channel}
	var exp int64
	err := s.read.QueryRowContext(ctx, `SELECT address, code_mac, tries, is_change, expires_at FROM contact_codes WHERE member_id = $1 AND channel = $2`,
		int64(member), string(channel)).Scan(&c.Address, &c.CodeMAC, &c.Tries, &c.Change, &exp)
	if err != nil {
		return identity.ContactCode{}, notFoundOr(op, err)
	}
	c.ExpiresAt = fromMicros(exp)
	return c, nil
}

// ReserveContactTry counts one try in a single conditional update, so concurrent
// guesses cannot exceed max.
func (s *Store) ReserveContactTry(ctx context.Context, member identity.MemberID, channel identity.Factor, max int) (bool, error) {
	return s.reserveTry(ctx, "sqlstore.ReserveContactTry",
		`UPDATE contact_codes SET tries = tries + 1 WHERE member_id = $1 AND channel = $2 AND tries < $3`,
		[]any{int64(member), string(channel), max},
		func() error { _, err := s.ContactCode(ctx, member, channel); return err })
}

// ConfirmContact deletes the code and marks the address it was sent to confirmed: for
// a change the address becomes the member's; otherwise only if it still is theirs.
// Returns NotFound if the code is gone.
func (s *Store) ConfirmContact(ctx context.Context, member identity.MemberID, channel identity.Factor, now time.Time) error {
	const op = "sqlstore.ConfirmContact"
	col, addr := "email_verified_at", "email"
	if channel == identity.ContactPhone {
		col, addr = "phone_verified_at", "phone"
	}
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var address string
		var change bool
		err := tx.QueryRowContext(ctx, `DELETE FROM contact_codes WHERE member_id = $1 AND channel = $2 RETURNING address, is_change`,
			int64(member), string(channel)).Scan(&address, &change)
		if err != nil {
			return notFoundOr(op, err)
		}
		if change {
			if _, err := tx.ExecContext(ctx, `UPDATE members SET `+addr+` = $3, `+col+` = $2 WHERE id = $1`,
				int64(member), micros(now), address); err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			return nil
		}
		// col and addr are chosen above from two constants, never from input.
		if _, err := tx.ExecContext(ctx, `UPDATE members SET `+col+` = $2 WHERE id = $1 AND `+addr+` = $3`,
			int64(member), micros(now), address); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
}

// ContactVerified returns when the member's phone and email were confirmed. Returns
// NotFound.
func (s *Store) ContactVerified(ctx context.Context, member identity.MemberID) (time.Time, time.Time, error) {
	const op = "sqlstore.ContactVerified"
	var ph, em int64
	if err := s.read.QueryRowContext(ctx, `SELECT phone_verified_at, email_verified_at FROM members WHERE id = $1`, int64(member)).
		Scan(&ph, &em); err != nil {
		return time.Time{}, time.Time{}, notFoundOr(op, err)
	}
	return fromMicros(ph), fromMicros(em), nil
}
