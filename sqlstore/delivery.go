package sqlstore

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
)

var _ notify.QueueStore = (*Store)(nil)

// outboxColumns is the column list of a message, in scanMessage's order.
const outboxColumns = `id, member_id, channel, recipient, kind, subject, body, created_at, delivery_state, attempts, last_error, delivered_at`

func scanMessage(r scanner) (notify.Message, error) {
	var (
		m                  notify.Message
		channel, state     string
		created, delivered int64
	)
	if err := r.Scan(&m.ID, &m.MemberID, &channel, &m.To, &m.Kind, &m.Subject, &m.Body, &created,
		&state, &m.Delivery.Attempts, &m.Delivery.LastError, &delivered); err != nil {
		return notify.Message{}, err
	}
	m.Channel = notify.Channel(channel)
	m.CreatedAt = fromMicros(created)
	m.Delivery.State = notify.DeliveryState(state)
	m.Delivery.DeliveredAt = fromMicros(delivered)
	return m, nil
}

// QueueOutbox stores a message and its delivery job in one transaction; see
// notify.QueueStore.
func (s *Store) QueueOutbox(ctx context.Context, m *notify.Message, newJob func(id int64) jobs.Job, now time.Time) (jobs.Job, error) {
	const op = "sqlstore.QueueOutbox"
	var j jobs.Job
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `
INSERT INTO outbox (member_id, channel, recipient, kind, subject, body, created_at, delivery_state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id`,
			m.MemberID, string(m.Channel), m.To, m.Kind, m.Subject, m.Body, micros(m.CreatedAt), string(notify.Queued)).Scan(&id); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		j = newJob(id)
		if err := s.insertJob(ctx, op, tx, &j, now); err != nil {
			return err
		}
		m.ID = id
		return nil
	})
	if err != nil {
		return jobs.Job{}, err
	}
	m.Delivery = notify.Delivery{State: notify.Queued}
	return j, nil
}

// OutboxMessage returns one message; see notify.QueueStore.
func (s *Store) OutboxMessage(ctx context.Context, id int64) (notify.Message, error) {
	const op = "sqlstore.OutboxMessage"
	// Read through the write pool: the deliverer reads a message right after another
	// instance queued it, and on SQLite the read pool's snapshot may be older.
	m, err := scanMessage(s.write.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = $1`, id))
	if err != nil {
		return notify.Message{}, notFoundOr(op, err)
	}
	return m, nil
}

// SetDelivery records a message's delivery state; see notify.QueueStore.
func (s *Store) SetDelivery(ctx context.Context, id int64, d notify.Delivery) error {
	const op = "sqlstore.SetDelivery"
	res, err := s.write.ExecContext(ctx, `
UPDATE outbox SET delivery_state = $2, attempts = $3, last_error = $4, delivered_at = $5
 WHERE id = $1`, id, string(d.State), d.Attempts, d.LastError, micros(d.DeliveredAt))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}
