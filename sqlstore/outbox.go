package sqlstore

import (
	"context"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/notify"
)

// AddOutbox stores m and sets m.ID.
func (s *Store) AddOutbox(ctx context.Context, m *notify.Message) error {
	const op = "sqlstore.AddOutbox"
	err := s.write.QueryRowContext(ctx, `
INSERT INTO outbox (member_id, channel, recipient, kind, subject, body, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id`,
		m.MemberID, string(m.Channel), m.To, m.Kind, m.Subject, m.Body, micros(m.CreatedAt)).Scan(&m.ID)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// ListOutbox returns the newest messages first (last stored first), at most limit of
// them (none for a limit below one).
func (s *Store) ListOutbox(ctx context.Context, limit int) ([]notify.Message, error) {
	const op = "sqlstore.ListOutbox"
	if limit < 1 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT id, member_id, channel, recipient, kind, subject, body, created_at
  FROM outbox
 ORDER BY id DESC
 LIMIT $1`, limit)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var (
			m       notify.Message
			channel string
			created int64
		)
		if err := rows.Scan(&m.ID, &m.MemberID, &channel, &m.To, &m.Kind, &m.Subject, &m.Body, &created); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		m.Channel = notify.Channel(channel)
		m.CreatedAt = fromMicros(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}
