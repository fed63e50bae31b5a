package sqlstore

import (
	"context"
	"errors"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// StartSession stores st in one transaction; see identity.SessionStore. The idle
// timeout is kept in whole seconds.
func (s *Store) StartSession(ctx context.Context, st identity.SessionStart) error {
	const op = "sqlstore.StartSession"
	if st.Session == nil {
		return cp.E(op, cp.Invalid, "", errors.New("no session to start"))
	}
	return s.inTx(ctx, op, func(tx *poolTx) error {
		if st.ResetAttempts {
			if err := resetAttempts(ctx, op, tx, st.Session.MemberID); err != nil {
				return err
			}
		}
		if st.Device != nil {
			if err := saveDevice(ctx, op, tx, st.Device); err != nil {
				return err
			}
		}
		if err := s.insertSession(ctx, op, tx, st.Session); err != nil {
			return err
		}
		for _, e := range st.Events {
			if err := recordEvent(ctx, op, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) insertSession(ctx context.Context, op string, tx *poolTx, sess *identity.Session) error {
	err := tx.QueryRowContext(ctx, `
INSERT INTO sessions (token_hash, member_id, client, created_at, last_seen_at, expires_at,
                      idle_seconds, ip, user_agent, revoked_at, must_change_password)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id`,
		nonNilBytes(sess.TokenHash), int64(sess.MemberID), string(sess.Client), micros(sess.CreatedAt),
		micros(sess.LastSeenAt), micros(sess.ExpiresAt), int64(sess.IdleTimeout/time.Second),
		sess.IP, sess.UserAgent, micros(sess.RevokedAt), sess.MustChangePassword).Scan(&sess.ID)
	switch {
	case err == nil:
		return nil
	case s.d.IsUniqueViolation(err, "sessions", "token_hash"):
		return cp.E(op, cp.Conflict, "", err)
	default:
		return cp.E(op, cp.Internal, "", err)
	}
}

const sessionSelect = `
SELECT id, token_hash, member_id, client, created_at, last_seen_at, expires_at,
       idle_seconds, ip, user_agent, revoked_at, must_change_password,
       (SELECT m.cardholder_id FROM members m WHERE m.id = sessions.member_id)
  FROM sessions`

// SessionByTokenHash returns the session, revoked or expired ones included: deciding
// whether it is alive is the caller's business. Returns NotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, hash []byte) (identity.Session, error) {
	const op = "sqlstore.SessionByTokenHash"
	sess, err := scanSession(s.read.QueryRowContext(ctx, sessionSelect+` WHERE token_hash = $1`, hash))
	if err != nil {
		return identity.Session{}, notFoundOr(op, err)
	}
	return sess, nil
}

// TouchSession records activity at now. It never moves last_seen_at backwards, which
// concurrent requests on different instances would otherwise do, and it is not an
// error if the session is gone or already newer: a request that raced a logout must
// not fail because of it.
func (s *Store) TouchSession(ctx context.Context, id int64, now time.Time) error {
	const op = "sqlstore.TouchSession"
	if _, err := s.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`,
		id, micros(now)); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// A live session, for revocation and listing: not revoked and not past its absolute
// expiry ($3 is now). The idle timeout is left to Session.Alive, since a session the
// member can still see listed must also be one they can end.
const liveSession = `revoked_at = 0 AND expires_at > $3`

// RevokeSession ends one of the member's live sessions. Returns NotFound if the member
// has no live session with that id, which is also what another member's id gives.
func (s *Store) RevokeSession(ctx context.Context, member identity.MemberID, id int64, now time.Time) error {
	const op = "sqlstore.RevokeSession"
	res, err := s.write.ExecContext(ctx, `UPDATE sessions SET revoked_at = $3 WHERE member_id = $1 AND id = $2 AND `+liveSession,
		int64(member), id, micros(now))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// RevokeSessions ends all the member's live sessions except the one with id except
// (0 for none) and returns how many it ended.
func (s *Store) RevokeSessions(ctx context.Context, member identity.MemberID, except int64, now time.Time) (int, error) {
	const op = "sqlstore.RevokeSessions"
	res, err := s.write.ExecContext(ctx, `UPDATE sessions SET revoked_at = $3 WHERE member_id = $1 AND id <> $2 AND `+liveSession,
		int64(member), except, micros(now))
	if err != nil {
		return 0, cp.E(op, cp.Internal, "", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, cp.E(op, cp.Internal, "", err)
	}
	return int(n), nil
}

// ListSessions returns the member's sessions that are neither revoked nor past their
// absolute expiry, newest first.
func (s *Store) ListSessions(ctx context.Context, member identity.MemberID, now time.Time) ([]identity.Session, error) {
	const op = "sqlstore.ListSessions"
	rows, err := s.read.QueryContext(ctx, sessionSelect+` WHERE member_id = $1 AND revoked_at = 0 AND expires_at > $2
 ORDER BY created_at DESC, id DESC`, int64(member), micros(now))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

func scanSession(r scanner) (identity.Session, error) {
	var (
		sess                                          identity.Session
		member, created, seen, expires, idle, revoked int64
		client                                        string
	)
	if err := r.Scan(&sess.ID, &sess.TokenHash, &member, &client, &created, &seen, &expires,
		&idle, &sess.IP, &sess.UserAgent, &revoked, &sess.MustChangePassword, &sess.CardholderID); err != nil {
		return identity.Session{}, err
	}
	sess.MemberID = identity.MemberID(member)
	sess.Client = identity.Client(client)
	sess.CreatedAt = fromMicros(created)
	sess.LastSeenAt = fromMicros(seen)
	sess.ExpiresAt = fromMicros(expires)
	sess.IdleTimeout = time.Duration(idle) * time.Second
	sess.RevokedAt = fromMicros(revoked)
	return sess, nil
}
