package web

import (
	"net/http"

	"github.com/cardportal/cardportal/notify"
)

// outboxLimit is how many messages the development outbox page lists.
const outboxLimit = 100

type outboxView struct {
	Messages []messageView
	Sending  bool // some message went through the delivery queue
}

type messageView struct {
	At      stamp
	Channel string
	To      string
	Kind    string
	Subject string
	Body    string

	State       string // locale message ID of the delivery state
	Failed      bool
	Attempts    int
	LastError   string
	DeliveredAt *stamp
}

// deliveryStates are the labels of notify.DeliveryState values on the page.
var deliveryStates = map[notify.DeliveryState]string{
	notify.Kept:      "outbox.state.kept",
	notify.Queued:    "outbox.state.queued",
	notify.Retrying:  "outbox.state.retrying",
	notify.Delivered: "outbox.state.delivered",
	notify.Failed:    "outbox.state.failed",
}

// outbox is GET /dev/outbox, a development aid that shows every notice the system
// "sent". It is only routed when the program enables it. Addresses are masked even
// here: a screenshot of a developer's screen should not collect them.
func (s *server) outbox(w http.ResponseWriter, r *http.Request) {
	msgs, err := s.Outbox.ListOutbox(r.Context(), outboxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := s.locale(r)
	p := s.newPage(s.withOptionalSession(r), loc, "outbox.title")
	var v outboxView
	for _, m := range msgs {
		mv := messageView{
			At: newStamp(loc, m.CreatedAt), Channel: string(m.Channel), To: notify.MaskAddress(m.To),
			Kind: m.Kind, Subject: m.Subject, Body: m.Body,
			State: deliveryStates[m.Delivery.State], Failed: m.Delivery.State == notify.Failed,
			Attempts: m.Delivery.Attempts, LastError: m.Delivery.LastError,
		}
		if mv.State == "" {
			mv.State = "outbox.state.kept" // a state this page does not know yet
		}
		if !m.Delivery.DeliveredAt.IsZero() {
			st := newStamp(loc, m.Delivery.DeliveredAt)
			mv.DeliveredAt = &st
		}
		v.Sending = v.Sending || m.Delivery.State != notify.Kept
		v.Messages = append(v.Messages, mv)
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "outbox", p)
}
