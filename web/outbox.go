package web

import (
	"net/http"

	"github.com/cardportal/cardportal/notify"
)

// outboxLimit is how many messages the development outbox page lists.
const outboxLimit = 100

type outboxView struct {
	Messages []messageView
}

type messageView struct {
	At      stamp
	Channel string
	To      string
	Kind    string
	Subject string
	Body    string
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
		v.Messages = append(v.Messages, messageView{
			At: newStamp(loc, m.CreatedAt), Channel: string(m.Channel), To: notify.MaskAddress(m.To),
			Kind: m.Kind, Subject: m.Subject, Body: m.Body,
		})
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "outbox", p)
}
