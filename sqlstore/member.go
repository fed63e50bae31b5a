package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// CreateMember writes the member with its credential, the first password-history
// entry and the security answers in one transaction. The unique constraints on
// members.user_id_key and members.cardholder_id decide the conflicts, so two
// registrations racing for the same User ID or card holder cannot both succeed.
func (s *Store) CreateMember(ctx context.Context, m identity.NewMember) (identity.Member, error) {
	const op = "sqlstore.CreateMember"
	created := micros(m.CreatedAt)
	var id int64
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		// Checked first so an unknown holder is NotFound rather than a foreign-key
		// failure; on PostgreSQL the row lock also queues a second registration of the
		// same holder behind this one.
		var holder int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM cardholders WHERE id = $1`+s.d.LockSuffix, m.CardholderID).Scan(&holder); err != nil {
			return notFoundOr(op, err)
		}
		err := tx.QueryRowContext(ctx, `
INSERT INTO members (user_id, user_id_key, cardholder_id, name, email, phone, locale,
                     created_at, password_hash, password_changed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)
RETURNING id`,
			m.UserID, identity.UserIDKey(m.UserID), m.CardholderID, m.Name, m.Email, m.Phone, m.Locale,
			created, m.PasswordHash).Scan(&id)
		switch {
		case err == nil:
		case s.d.IsUniqueViolation(err, "members", "user_id_key"):
			return cp.E(op, cp.Conflict, "userid.taken", err)
		case s.d.IsUniqueViolation(err, "members", "cardholder_id"):
			return cp.E(op, cp.Conflict, "register.already", err)
		default:
			return cp.E(op, cp.Internal, "", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_history (member_id, hash, created_at) VALUES ($1, $2, $3)`,
			id, m.PasswordHash, created); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		err = s.insertRows(ctx, tx.tx, "security_answers", []string{"member_id", "question_id", "answer_hash"}, len(m.Answers), func(i int) []any {
			return []any{id, m.Answers[i].QuestionID, m.Answers[i].AnswerHash}
		})
		if s.d.IsUniqueViolation(err, "security_answers", "") {
			return cp.E(op, cp.Invalid, "", fmt.Errorf("a security question is answered twice: %w", err))
		}
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
	if err != nil {
		return identity.Member{}, err
	}
	return identity.Member{
		ID:           identity.MemberID(id),
		UserID:       m.UserID,
		CardholderID: m.CardholderID,
		Name:         m.Name,
		Email:        m.Email,
		Phone:        m.Phone,
		Locale:       m.Locale,
		CreatedAt:    fromMicros(created),
	}, nil
}

const memberSelect = `
SELECT id, user_id, cardholder_id, name, email, phone, locale, created_at,
       password_hash, password_changed_at
  FROM members`

// MemberByUserID looks a member up by User ID regardless of case. Returns NotFound.
func (s *Store) MemberByUserID(ctx context.Context, userID string) (identity.Member, identity.Credential, error) {
	const op = "sqlstore.MemberByUserID"
	m, c, err := s.member(ctx, memberSelect+` WHERE user_id_key = $1`, identity.UserIDKey(userID))
	if err != nil {
		return identity.Member{}, identity.Credential{}, notFoundOr(op, err)
	}
	return m, c, nil
}

// MemberByID returns a member. Returns NotFound.
func (s *Store) MemberByID(ctx context.Context, id identity.MemberID) (identity.Member, error) {
	const op = "sqlstore.MemberByID"
	m, _, err := s.member(ctx, memberSelect+` WHERE id = $1`, int64(id))
	if err != nil {
		return identity.Member{}, notFoundOr(op, err)
	}
	return m, nil
}

func (s *Store) member(ctx context.Context, query string, arg any) (identity.Member, identity.Credential, error) {
	var (
		m                identity.Member
		c                identity.Credential
		created, changed int64
	)
	err := s.read.QueryRowContext(ctx, query, arg).Scan(&m.ID, &m.UserID, &m.CardholderID, &m.Name, &m.Email,
		&m.Phone, &m.Locale, &created, &c.PasswordHash, &changed)
	if err != nil {
		return identity.Member{}, identity.Credential{}, err
	}
	m.CreatedAt = fromMicros(created)
	c.MemberID = m.ID
	c.ChangedAt = fromMicros(changed)
	return m, c, nil
}

// SetPasswordHash replaces the stored hash, leaving history and change time alone.
// Returns NotFound.
func (s *Store) SetPasswordHash(ctx context.Context, id identity.MemberID, hash string) error {
	const op = "sqlstore.SetPasswordHash"
	res, err := s.write.ExecContext(ctx, `UPDATE members SET password_hash = $2 WHERE id = $1`, int64(id), hash)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// beginAttempt is the whole lockout rule in one statement, so the check and the
// increment cannot be separated by another caller on any instance: the row lock
// (PostgreSQL) or the database write lock (SQLite) serialises concurrent updates,
// and each re-evaluates the WHERE clause against the row as the previous one left it.
//
// A row is counted only if its lock has expired ($2 is now) or it has no lock and
// fewer than max ($3) failures. An expired lock restarts the count at 1 (in the SET
// list, locked_until > 0 can only mean an expired lock, because of the WHERE). The
// attempt that reaches max writes the lock end ($4) at once. Requiring
// locked_until = 0 for the plain path (rather than only failed_count < max) keeps a
// lock in force even if max has been raised since it was set. The CAST keeps
// PostgreSQL from typing $4 as a 32-bit integer after the literal 0.
const beginAttempt = `
UPDATE members
   SET failed_count = CASE WHEN locked_until > 0 THEN 1 ELSE failed_count + 1 END,
       locked_until = CASE WHEN (CASE WHEN locked_until > 0 THEN 1 ELSE failed_count + 1 END) >= $3
                           THEN CAST($4 AS BIGINT) ELSE 0 END
 WHERE id = $1
   AND ((locked_until > 0 AND locked_until <= $2) OR (locked_until = 0 AND failed_count < $3))
RETURNING failed_count, locked_until`

// BeginPasswordAttempt atomically reserves one password check against the lockout
// counter. Returns NotFound for an unknown member.
func (s *Store) BeginPasswordAttempt(ctx context.Context, id identity.MemberID, now time.Time, max int, lockFor time.Duration) (identity.Attempt, error) {
	const op = "sqlstore.BeginPasswordAttempt"
	if max < 1 || lockFor <= 0 {
		return identity.Attempt{}, cp.E(op, cp.Invalid, "", fmt.Errorf("max %d and lockFor %v must be positive", max, lockFor))
	}
	nowUS, lockEnd := micros(now), micros(now.Add(lockFor))
	// A refusal is decided from a second read, and the row can change in between (a
	// reset, an expiring lock); a few rounds settle it.
	for range 3 {
		var failures, lockedUntil int64
		err := s.write.QueryRowContext(ctx, beginAttempt, int64(id), nowUS, max, lockEnd).Scan(&failures, &lockedUntil)
		if err == nil {
			return identity.Attempt{Allowed: true, Failures: int(failures), LockedUntil: fromMicros(lockedUntil)}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return identity.Attempt{}, cp.E(op, cp.Internal, "", err)
		}
		err = s.write.QueryRowContext(ctx, `SELECT failed_count, locked_until FROM members WHERE id = $1`, int64(id)).Scan(&failures, &lockedUntil)
		if err != nil {
			return identity.Attempt{}, notFoundOr(op, err)
		}
		switch {
		case lockedUntil > nowUS:
			return identity.Attempt{LockedUntil: fromMicros(lockedUntil)}, nil
		case lockedUntil == 0 && failures >= int64(max):
			// Out of attempts but never locked (max was lowered since): start a real
			// lock now, so it ends like any other instead of refusing for ever.
			res, err := s.write.ExecContext(ctx, `UPDATE members SET locked_until = $2 WHERE id = $1 AND locked_until = 0 AND failed_count >= $3`,
				int64(id), lockEnd, max)
			if err != nil {
				return identity.Attempt{}, cp.E(op, cp.Internal, "", err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				return identity.Attempt{LockedUntil: fromMicros(lockEnd)}, nil
			}
		}
		// The row changed since the UPDATE missed it; try again.
	}
	return identity.Attempt{LockedUntil: fromMicros(lockEnd)}, nil
}

// ResetPasswordAttempts clears the counter and any lock. Returns NotFound.
func (s *Store) ResetPasswordAttempts(ctx context.Context, id identity.MemberID) error {
	return resetAttempts(ctx, "sqlstore.ResetPasswordAttempts", s.write, id)
}

// resetAttempts clears the counter through e, which may be a transaction that writes
// more.
func resetAttempts(ctx context.Context, op string, e execer, id identity.MemberID) error {
	res, err := e.ExecContext(ctx, `UPDATE members SET failed_count = 0, locked_until = 0 WHERE id = $1`, int64(id))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}
