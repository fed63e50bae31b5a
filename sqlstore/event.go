package sqlstore

import (
	"context"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// RecordEvent appends e and sets e.ID.
func (s *Store) RecordEvent(ctx context.Context, e *identity.Event) error {
	const op = "sqlstore.RecordEvent"
	err := s.write.QueryRowContext(ctx, `
INSERT INTO security_events (member_id, kind, at, ip, user_agent, detail)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id`,
		int64(e.MemberID), string(e.Kind), micros(e.At), e.IP, e.UserAgent, e.Detail).Scan(&e.ID)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// ListEvents returns the member's newest events first, at most limit of them (none
// for a limit below one). Newest means last recorded: ids grow with every insert,
// while two events can share a timestamp.
func (s *Store) ListEvents(ctx context.Context, member identity.MemberID, limit int) ([]identity.Event, error) {
	const op = "sqlstore.ListEvents"
	if limit < 1 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT id, member_id, kind, at, ip, user_agent, detail
  FROM security_events
 WHERE member_id = $1
 ORDER BY id DESC
 LIMIT $2`, int64(member), limit)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.Event
	for rows.Next() {
		var (
			e        identity.Event
			memberID int64
			kind     string
			at       int64
		)
		if err := rows.Scan(&e.ID, &memberID, &kind, &at, &e.IP, &e.UserAgent, &e.Detail); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		e.MemberID = identity.MemberID(memberID)
		e.Kind = identity.EventKind(kind)
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}
