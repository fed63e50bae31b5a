package sqlstore

import (
	"context"

	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// Credential returns the member's current password hash and change time. Returns
// NotFound.
func (s *Store) Credential(ctx context.Context, id identity.MemberID) (identity.Credential, error) {
	const op = "sqlstore.Credential"
	var changed int64
	c := identity.Credential{MemberID: id}
	err := s.read.QueryRowContext(ctx, `SELECT password_hash, password_changed_at FROM members WHERE id = $1`, int64(id)).
		Scan(&c.PasswordHash, &changed)
	if err != nil {
		return identity.Credential{}, notFoundOr(op, err)
	}
	c.ChangedAt = fromMicros(changed)
	return c, nil
}

// PasswordHistory returns the member's last n password hashes, newest first. The id
// breaks ties between changes in the same microsecond.
func (s *Store) PasswordHistory(ctx context.Context, id identity.MemberID, n int) ([]string, error) {
	const op = "sqlstore.PasswordHistory"
	rows, err := s.read.QueryContext(ctx, `SELECT hash FROM password_history WHERE member_id = $1
 ORDER BY created_at DESC, id DESC`+limitClause(n), int64(id))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// ChangePassword replaces the hash, appends it to the history and clears the lockout
// counter in one transaction, so the history never misses a password that was in use.
// Returns NotFound for an unknown member.
func (s *Store) ChangePassword(ctx context.Context, id identity.MemberID, hash string, at time.Time) error {
	const op = "sqlstore.ChangePassword"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE members SET password_hash = $2, password_changed_at = $3,
       failed_count = 0, locked_until = 0 WHERE id = $1`, int64(id), hash, micros(at))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if err := mustAffect(op, res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (member_id, hash, created_at) VALUES ($1, $2, $3)`,
			int64(id), hash, micros(at)); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
}
