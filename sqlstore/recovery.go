package sqlstore

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// CreatePasswordReset stores r. Returns Conflict if a reset with the same token hash
// exists.
func (s *Store) CreatePasswordReset(ctx context.Context, r identity.PasswordReset) error {
	const op = "sqlstore.CreatePasswordReset"
	_, err := s.write.ExecContext(ctx, `
INSERT INTO password_resets (token_hash, member_id, method, code_mac, code_tries, created_at, expires_at)
VALUES ($1, $2, $3, $4, 0, $5, $6)`,
		nonNilBytes(r.TokenHash), int64(r.MemberID), string(r.Method), nonNilBytes(r.CodeMAC),
		micros(r.CreatedAt), micros(r.ExpiresAt))
	switch {
	case err == nil:
		return nil
	case s.d.IsUniqueViolation(err, "password_resets", ""):
		return cp.E(op, cp.Conflict, "", err)
	default:
		return cp.E(op, cp.Internal, "", err)
	}
}

// PasswordResetByTokenHash returns the reset, used or expired or not. Returns NotFound.
func (s *Store) PasswordResetByTokenHash(ctx context.Context, hash []byte) (identity.PasswordReset, error) {
	const op = "sqlstore.PasswordResetByTokenHash"
	var (
		r                      identity.PasswordReset
		member                 int64
		method                 string
		created, expires, used int64
	)
	err := s.read.QueryRowContext(ctx, `
SELECT token_hash, member_id, method, code_mac, code_tries, created_at, expires_at, used_at
  FROM password_resets WHERE token_hash = $1`, nonNilBytes(hash)).
		Scan(&r.TokenHash, &member, &method, &r.CodeMAC, &r.CodeTries, &created, &expires, &used)
	if err != nil {
		return identity.PasswordReset{}, notFoundOr(op, err)
	}
	r.MemberID = identity.MemberID(member)
	r.Method = identity.ResetMethod(method)
	if len(r.CodeMAC) == 0 {
		r.CodeMAC = nil
	}
	r.CreatedAt = fromMicros(created)
	r.ExpiresAt = fromMicros(expires)
	if used != 0 {
		r.UsedAt = fromMicros(used)
	}
	return r, nil
}

// ReserveResetTry counts one code try in a single conditional UPDATE, atomic on both
// engines. Returns NotFound if there is no such reset.
func (s *Store) ReserveResetTry(ctx context.Context, hash []byte, max int) (bool, error) {
	return s.reserveTry(ctx, "sqlstore.ReserveResetTry",
		`UPDATE password_resets SET code_tries = code_tries + 1 WHERE token_hash = $1 AND code_tries < $2`,
		[]any{nonNilBytes(hash), max},
		func() error { _, err := s.PasswordResetByTokenHash(ctx, hash); return err })
}

// CompletePasswordReset uses the reset up and sets the password in one transaction.
// The conditional UPDATE on the reset decides a race: only one completion sees it
// unused.
func (s *Store) CompletePasswordReset(ctx context.Context, hash []byte, member identity.MemberID, newHash string, now time.Time) error {
	const op = "sqlstore.CompletePasswordReset"
	at := micros(now)
	return s.inTx(ctx, op, func(tx *poolTx) error {
		res, err := tx.ExecContext(ctx, `
UPDATE password_resets SET used_at = $3
 WHERE token_hash = $1 AND member_id = $2 AND used_at = 0 AND expires_at > $3`, nonNilBytes(hash), int64(member), at)
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return cp.E(op, cp.Internal, "", err)
		} else if n != 1 {
			var x int64
			err := tx.QueryRowContext(ctx, `SELECT member_id FROM password_resets WHERE token_hash = $1 AND member_id = $2`,
				nonNilBytes(hash), int64(member)).Scan(&x)
			if err != nil {
				return notFoundOr(op, err)
			}
			return cp.E(op, cp.Expired, "", nil)
		}
		res, err = tx.ExecContext(ctx, `UPDATE members SET password_hash = $2, password_changed_at = $3,
       failed_count = 0, locked_until = 0 WHERE id = $1`, int64(member), newHash, at)
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if err := mustAffect(op, res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (member_id, hash, created_at) VALUES ($1, $2, $3)`,
			int64(member), newHash, at); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		// Other pending links and codes die with this reset: whoever asked for them
		// must start again against the new password.
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE member_id = $1 AND token_hash <> $2`,
			int64(member), nonNilBytes(hash)); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
}
