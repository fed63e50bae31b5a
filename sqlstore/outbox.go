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
SELECT `+outboxColumns+`
  FROM outbox
 ORDER BY id DESC`+limitClause(limit))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}
