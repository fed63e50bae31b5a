// Package notify delivers messages to members: security notices now, alerts and codes
// later. Senders call a Notifier; what stands behind it (the development outbox, SMTP,
// an SMS provider) is chosen at wiring time.
package notify

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// Channel is how a message reaches a member.
type Channel string

// Channels.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
	Push  Channel = "push"
)

// Message is one notification. Body may hold a one-time code or a link in later
// features, so it is never logged; LogValue shows only what an operator needs.
type Message struct {
	ID        int64
	MemberID  int64
	Channel   Channel
	To        string
	Kind      string // e.g. "locked", "registered"
	Subject   string
	Body      string
	CreatedAt time.Time
	Delivery  Delivery
}

// DeliveryState is how far a message got towards its recipient.
type DeliveryState string

// Delivery states. Kept is a message only stored in the outbox: the development
// Outbox keeps every message so, and the Queue keeps those of a channel that has no
// transport yet (push).
const (
	Kept      DeliveryState = ""
	Queued    DeliveryState = "queued"    // waiting for its first attempt
	Retrying  DeliveryState = "retrying"  // an attempt failed; another will follow
	Delivered DeliveryState = "delivered" // the transport accepted it
	Failed    DeliveryState = "failed"    // given up; an operator must look
)

// Delivery is what became of a message: for the outbox page and operators.
type Delivery struct {
	State       DeliveryState
	Attempts    int
	LastError   string // the transport's error, never the body
	DeliveredAt time.Time
}

// LogValue keeps the body and the full address out of logs.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("member", m.MemberID),
		slog.String("channel", string(m.Channel)),
		slog.String("to", MaskAddress(m.To)),
		slog.String("kind", m.Kind),
		slog.Int64("id", m.ID),
	)
}

// Notifier sends a message.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// OutboxStore keeps messages for the development outbox.
type OutboxStore interface {
	// AddOutbox stores m and sets m.ID.
	AddOutbox(ctx context.Context, m *Message) error
	// ListOutbox returns the newest messages first, at most limit.
	ListOutbox(ctx context.Context, limit int) ([]Message, error)
}

// Outbox is the development Notifier: it stores every message so a developer can read
// it on the outbox page, and logs that it did, without the body.
type Outbox struct {
	Store OutboxStore
	Log   *slog.Logger
	Now   func() time.Time
}

// Notify stores m.
func (o *Outbox) Notify(ctx context.Context, m Message) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = o.Now()
	}
	if err := o.Store.AddOutbox(ctx, &m); err != nil {
		return err
	}
	o.Log.InfoContext(ctx, "outbox message", "message", m)
	return nil
}

// MaskAddress hides most of an email address or phone number.
func MaskAddress(to string) string {
	if at := strings.IndexByte(to, '@'); at > 0 {
		return to[:1] + "***" + to[at:]
	}
	if n := len(to); n > 4 {
		return strings.Repeat("*", n-2) + to[n-2:]
	}
	return "***"
}
