package sqlstore

import (
	"context"
	"strconv"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// RecordEvent appends e and sets e.ID.
func (s *Store) RecordEvent(ctx context.Context, e *identity.Event) error {
	return recordEvent(ctx, "sqlstore.RecordEvent", s.write, e)
}

// recordEvent inserts e through q, which may be a transaction that writes more.
func recordEvent(ctx context.Context, op string, q queryRower, e *identity.Event) error {
	err := q.QueryRowContext(ctx, `
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
 ORDER BY id DESC`+limitClause(limit), int64(member))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// RecentEvents is ListEvents narrowed to some kinds. The (member_id, id) index finds
// the member's events newest first; the kind filter reads only as far as it needs,
// instead of every event of a long history.
func (s *Store) RecentEvents(ctx context.Context, member identity.MemberID, kinds []identity.EventKind, limit int) ([]identity.Event, error) {
	const op = "sqlstore.RecentEvents"
	if limit < 1 || len(kinds) == 0 {
		return nil, nil
	}
	args := []any{int64(member)}
	marks := make([]string, len(kinds))
	for i, k := range kinds {
		args = append(args, string(k))
		marks[i] = "$" + strconv.Itoa(i+2)
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT id, member_id, kind, at, ip, user_agent, detail
  FROM security_events
 WHERE member_id = $1 AND kind IN (`+strings.Join(marks, ", ")+`)
 ORDER BY id DESC`+limitClause(limit), args...)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// EventKindsSince reads only the events after a point, usually the few since the last
// sign-in.
func (s *Store) EventKindsSince(ctx context.Context, member identity.MemberID, after int64) ([]identity.EventKind, error) {
	const op = "sqlstore.EventKindsSince"
	rows, err := s.read.QueryContext(ctx, `
SELECT DISTINCT kind FROM security_events WHERE member_id = $1 AND id > $2`, int64(member), after)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []identity.EventKind
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, identity.EventKind(k))
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

func scanEvent(r rowScanner) (identity.Event, error) {
	var (
		e        identity.Event
		memberID int64
		kind     string
		at       int64
	)
	if err := r.Scan(&e.ID, &memberID, &kind, &at, &e.IP, &e.UserAgent, &e.Detail); err != nil {
		return identity.Event{}, err
	}
	e.MemberID, e.Kind, e.At = identity.MemberID(memberID), identity.EventKind(kind), fromMicros(at)
	return e, nil
}
