package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/jobs"
)

// DeliverKind is the kind of the job that delivers one queued message.
const DeliverKind = "notify.deliver"

// DefaultMaxAttempts is how often a message is tried before it is failed. With
// jobs.DefaultBackoff the last attempt comes about an hour after the first.
const DefaultMaxAttempts = 8

// QueueStore keeps queued messages and their delivery state. Errors are
// *cardportal.Error values with the kinds stated.
type QueueStore interface {
	// QueueOutbox stores m with delivery state Queued, sets m.ID, and in the same
	// transaction enqueues the job newJob(m.ID) returns, setting its ID in turn: a
	// message is never stored without the job that delivers it, nor the other way
	// round. Returns Conflict, storing nothing, if the job's DedupeKey is taken.
	QueueOutbox(ctx context.Context, m *Message, newJob func(id int64) jobs.Job, now time.Time) (jobs.Job, error)
	// OutboxMessage returns the message with the given ID. Returns NotFound if there
	// is none.
	OutboxMessage(ctx context.Context, id int64) (Message, error)
	// SetDelivery records d as the delivery state of message id. Returns NotFound if
	// there is no such message.
	SetDelivery(ctx context.Context, id int64, d Delivery) error
}

// Queue is the Notifier for real delivery: it stores each message (so the outbox page
// still shows it, now with its delivery state) and enqueues a job that a Deliverer
// picks up. Notify returns once both are committed, so a message survives a restart
// and a transport outage; the member-facing request never waits for SMTP.
type Queue struct {
	Store       QueueStore
	Log         *slog.Logger
	Now         func() time.Time
	MaxAttempts int           // 0 means DefaultMaxAttempts
	Metrics     *jobs.Metrics // may be nil
}

// deliverPayload is the delivery job's payload: a reference, so the body (which may
// hold a code or a link) lives only in the message row, never in the job table.
type deliverPayload struct {
	Message int64 `json:"message"`
}

// Notify stores m and enqueues its delivery.
func (q *Queue) Notify(ctx context.Context, m Message) error {
	now := q.Now()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	attempts := q.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	j, err := q.Store.QueueOutbox(ctx, &m, func(id int64) jobs.Job {
		p, _ := json.Marshal(deliverPayload{Message: id}) // cannot fail
		// The dedupe key makes the pair idempotent should a store ever have to write
		// them in two steps and retry the second.
		return jobs.Job{Kind: DeliverKind, Payload: p, MaxAttempts: attempts, DedupeKey: fmt.Sprintf("%s:%d", DeliverKind, id)}
	}, now)
	if err != nil {
		return err
	}
	q.Metrics.Enqueued(DeliverKind)
	q.Log.InfoContext(ctx, "message queued", "message", m, "job", j.ID)
	return nil
}

// Transport sends a message over one channel. An error that retrying cannot fix (the
// provider rejected the recipient) is marked with jobs.Permanent; any other error is
// retried. Errors must not quote the message body.
type Transport interface {
	Send(ctx context.Context, m Message) error
}

// Deliverer is the handler of DeliverKind jobs: it loads the message, sends it through
// the transport for its channel and records the outcome on the message.
type Deliverer struct {
	Store QueueStore
	// Transports by channel. A channel without one (push, for now: no push provider
	// is wired yet) is marked delivered to the outbox only, state Kept, instead of
	// failing for ever.
	Transports map[Channel]Transport
	Log        *slog.Logger
	Now        func() time.Time
}

// Handle delivers the message j refers to. Delivery is at least once: if recording
// success fails after the transport accepted the message, the job is retried and the
// member may get it twice; a message already recorded delivered is not sent again.
func (d *Deliverer) Handle(ctx context.Context, j jobs.Job) error {
	var p deliverPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.Message == 0 {
		return jobs.Permanent(errors.New("notify: malformed delivery payload"))
	}
	m, err := d.Store.OutboxMessage(ctx, p.Message)
	if cp.IsKind(err, cp.NotFound) {
		return jobs.Permanent(fmt.Errorf("notify: message %d is gone", p.Message))
	}
	if err != nil {
		return err
	}
	if m.Delivery.State == Delivered {
		return nil
	}
	t, ok := d.Transports[m.Channel]
	if !ok {
		return d.Store.SetDelivery(ctx, m.ID, Delivery{State: Kept, Attempts: j.Attempts})
	}
	sendErr := scrub(t.Send(ctx, m), m)
	if sendErr == nil {
		d.Log.InfoContext(ctx, "notification delivered", "message", m, "attempt", j.Attempts)
		return d.Store.SetDelivery(ctx, m.ID, Delivery{State: Delivered, Attempts: j.Attempts, DeliveredAt: d.Now()})
	}
	state := Retrying
	if jobs.IsPermanent(sendErr) || j.LastAttempt() {
		state = Failed
	}
	// The message's LogValue masks the address and leaves out the body; transports
	// keep the body out of their errors.
	d.Log.WarnContext(ctx, "notification not delivered", "message", m, "attempt", j.Attempts,
		"state", string(state), "err", sendErr)
	if err := d.Store.SetDelivery(ctx, m.ID, Delivery{State: state, Attempts: j.Attempts, LastError: truncate(sendErr.Error(), 500)}); err != nil {
		return errors.Join(sendErr, err)
	}
	return sendErr
}

// scrubbed is an error whose text has had the recipient's address masked. Servers
// and libraries quote the recipient in their errors ("affected recipient(s): ..."),
// and the error goes to logs, the job table and the outbox page.
type scrubbed struct {
	msg string
	err error
}

func (e scrubbed) Error() string { return e.msg }
func (e scrubbed) Unwrap() error { return e.err }

// scrub masks m.To in err's text, keeping err in the chain so jobs.IsPermanent still
// sees through it.
func scrub(err error, m Message) error {
	if err == nil || m.To == "" || !strings.Contains(err.Error(), m.To) {
		return err
	}
	return scrubbed{msg: strings.ReplaceAll(err.Error(), m.To, MaskAddress(m.To)), err: err}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
