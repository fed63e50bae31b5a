package alerts

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// Contacts are where a member's alerts go, and in which language.
type Contacts struct {
	Email  string
	Phone  string
	Locale string
}

// DueStatement is an account's latest statement as the payment-due job sees it, with
// the basic card member who is to pay it.
type DueStatement struct {
	Member      identity.MemberID
	StatementID int64
	AccountID   int64
	Due         time.Time // civil date
	MinimumDue  int64
	Paid        int64 // payments posted after the closing date, positive (refunds and credits are not payments)
	Currency    string
}

// JobStore is what the service needs beyond Store: contacts, the statements falling
// due, and the record of alerts sent by jobs.
type JobStore interface {
	Store
	// AlertContacts returns the member's email, phone and language. Returns NotFound
	// if there is no such member.
	AlertContacts(ctx context.Context, member identity.MemberID) (Contacts, error)
	// DueStatements returns, for each account whose latest statement (the one with the
	// latest closing date) is due between from and to (civil dates, inclusive), that
	// statement with the account's registered basic card member. Accounts without a
	// registered basic card member are left out.
	DueStatements(ctx context.Context, from, to time.Time) ([]DueStatement, error)
	// ClaimAlert records that alert kind about ref went to member at at, and reports
	// whether this call recorded it: false means it was recorded before (by this or
	// another instance), so it must not be sent again.
	ClaimAlert(ctx context.Context, member identity.MemberID, kind Kind, ref string, at time.Time) (bool, error)
}

// Service keeps preferences, sends alerts and runs the payment-due job.
type Service struct {
	store    JobStore
	notifier notify.Notifier
	now      func() time.Time
	log      *slog.Logger
}

// New returns a Service. now is the clock.
func New(store JobStore, n notify.Notifier, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, notifier: n, now: now, log: log}
}

// Prefs returns the member's preferences (defaults where unset): what the code
// raising an alert passes to Purchase, PaymentReceivedAlert and the others.
func (s *Service) Prefs(ctx context.Context, member identity.MemberID) (Prefs, error) {
	p, err := s.store.AlertPrefs(ctx, member)
	if err != nil {
		return Prefs{}, cp.E("alerts.Prefs", cp.ErrorKind(err), "", err)
	}
	return p, nil
}

// SetPrefs validates and stores settings for the given kinds; kinds not in settings
// keep what they had. Security and unknown kinds are Invalid, as are out-of-range
// parameters (per field); then nothing is written.
func (s *Service) SetPrefs(ctx context.Context, member identity.MemberID, settings map[Kind]Setting) (Prefs, error) {
	const op = "alerts.SetPrefs"
	var fs []cp.FieldError
	for k, v := range settings {
		if !k.Valid() {
			fs = append(fs, cp.FieldError{Field: string(k), Msg: "alerts.kind.invalid"})
			continue
		}
		fs = append(fs, Validate(k, v)...)
	}
	if len(fs) > 0 {
		return Prefs{}, cp.InvalidFields(op, fs...)
	}
	// A parameter that does not apply to the kind is dropped, so what is stored is
	// exactly what the rules read.
	clean := make(map[Kind]Setting, len(settings))
	for k, v := range settings {
		if !k.HasAmount() {
			v.Amount = 0
		}
		if !k.HasDays() {
			v.Days = 0
		}
		clean[k] = v
	}
	if err := s.store.SetAlertPrefs(ctx, member, clean, s.now()); err != nil {
		return Prefs{}, cp.E(op, cp.ErrorKind(err), "", err)
	}
	return s.Prefs(ctx, member)
}

// Send delivers alerts to the member on their channels, in their language. It is for
// the code that raised them (authorisations, payments, statements) after asking the
// rules. A message that cannot be handed over is logged; the rest still go.
func (s *Service) Send(ctx context.Context, member identity.MemberID, alerts []Alert) {
	if len(alerts) == 0 || s.notifier == nil {
		return
	}
	c, err := s.store.AlertContacts(ctx, member)
	if err != nil {
		s.log.ErrorContext(ctx, "alert contacts", "member", member, "err", err)
		return
	}
	for _, a := range alerts {
		for _, m := range Messages(c, member, a, s.now()) {
			if err := s.notifier.Notify(ctx, m); err != nil {
				s.log.ErrorContext(ctx, "send alert", "message", m, "err", err)
			}
		}
	}
}

// Messages renders an alert as one message per channel the member has an address
// for: email with a subject, SMS and push as one short line. Push has no address; it
// goes to the member's app installations once a transport exists.
func Messages(c Contacts, member identity.MemberID, a Alert, at time.Time) []notify.Message {
	loc := locale.Negotiate(c.Locale, "")
	vars := []string{"amount", loc.Money(a.Amount, a.Currency), "merchant", a.Merchant, "phone", loc.ContactPhone()}
	if !a.Due.IsZero() {
		vars = append(vars, "due", loc.Date(a.Due))
	}
	id := "notice.alert." + string(a.Kind)
	var out []notify.Message
	for _, ch := range a.Channels {
		m := notify.Message{MemberID: int64(member), Channel: notify.Channel(ch), Kind: "alert." + string(a.Kind), CreatedAt: at}
		switch ch {
		case Email:
			m.To, m.Subject, m.Body = c.Email, loc.T(id+".subject", vars...), loc.T(id+".body", vars...)
		case SMS:
			m.To, m.Body = c.Phone, loc.T(id+".short", vars...)
		case Push:
			m.To, m.Body = "app", loc.T(id+".short", vars...)
		}
		if m.To != "" {
			out = append(out, m)
		}
	}
	return out
}

// RunPaymentDue sends the payment-due alerts of the civil day of now (UTC): for
// every account whose latest statement falls due within the longest lead time a
// member may choose, the basic card member gets the alert once per statement if the
// due date is within their chosen days and the minimum due is not yet paid. Any
// number of instances may run it at any time; ClaimAlert makes each alert go once.
// It returns how many alerts it sent.
func (s *Service) RunPaymentDue(ctx context.Context) (int, error) {
	const op = "alerts.RunPaymentDue"
	today := civil(s.now())
	due, err := s.store.DueStatements(ctx, today, today.AddDate(0, 0, MaxDays))
	if err != nil {
		return 0, cp.E(op, cp.Internal, "", err)
	}
	sent := 0
	for _, d := range due {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		p, err := s.store.AlertPrefs(ctx, d.Member)
		if err != nil {
			s.log.ErrorContext(ctx, "payment-due prefs", "member", d.Member, "err", err)
			continue
		}
		alerts := PaymentDueAlert(p, d.Due, today, d.MinimumDue-d.Paid, d.Currency)
		if len(alerts) == 0 {
			continue
		}
		ok, err := s.store.ClaimAlert(ctx, d.Member, PaymentDue, "statement:"+strconv.FormatInt(d.StatementID, 10), s.now())
		if err != nil {
			s.log.ErrorContext(ctx, "payment-due claim", "member", d.Member, "err", err)
			continue
		}
		if !ok {
			continue
		}
		// Claimed before sending: a crash in between loses one reminder rather than
		// sending it twice. The notifier stores the message first (outbox or queue),
		// so that window is one insert wide.
		s.Send(ctx, d.Member, alerts)
		sent++
	}
	return sent, nil
}

// RunDaily runs RunPaymentDue now and then every interval until ctx ends. The
// interval can be well under a day: a run that finds nothing new sends nothing.
func (s *Service) RunDaily(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.RunPaymentDue(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "payment-due alerts", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "payment-due alerts sent", "alerts", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
