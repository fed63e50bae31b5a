package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/sms"
	"github.com/cardportal/cardportal/smtp"
	"github.com/cardportal/cardportal/sqlstore"
)

// deliveryConfig says where notifications go. With nothing set they stay in the
// development outbox, as before; with SMTP or SMS set they are queued and delivered
// by a job runner in every instance.
type deliveryConfig struct {
	SMTPHost     string
	SMTPPort     int
	SMTPTLS      string
	SMTPUser     string
	SMTPPassword string
	SMTPFrom     string
	SMSURL       string
	SMSAccount   string
	SMSToken     string
	SMSFrom      string
	// OutboxExplicit records that -dev-outbox was given rather than defaulted.
	OutboxExplicit bool
}

// isSet reports whether the flag name was given on the command line or through its
// variable, as opposed to taking its default.
func (e *envFlags) isSet(name string) bool {
	if _, ok := e.env(name); ok {
		return true
	}
	set := false
	e.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// outboxPage reports whether /dev/outbox is served. The page shows message bodies,
// one-time codes included, to anyone who can reach it: fine on a developer's machine,
// where the outbox is the only way to read them, but not where real mail is sent. So
// once a transport is configured the page needs -dev-outbox set explicitly (a
// developer pointing SMTP at a local catcher may want both).
func (c config) outboxPage() bool {
	return c.DevOutbox && (!c.Delivery.configured() || c.Delivery.OutboxExplicit)
}

func (d deliveryConfig) configured() bool { return d.smtpSet() || d.smsSet() }

func (d *deliveryConfig) flags(e *envFlags) {
	e.str(&d.SMTPHost, "smtp-host", "", "SMTP server for email notifications; empty keeps email in the outbox")
	e.integer(&d.SMTPPort, "smtp-port", 0, "SMTP port (0: 25, 587 or 465 by smtp-tls)")
	e.str(&d.SMTPTLS, "smtp-tls", "starttls", "SMTP connection security: none, starttls or tls")
	e.str(&d.SMTPUser, "smtp-user", "", "SMTP user name (AUTH PLAIN)")
	e.str(&d.SMTPPassword, "smtp-password", "", "SMTP password (prefer the variable to the flag)")
	e.str(&d.SMTPFrom, "smtp-from", "", "sender address of email notifications")
	e.str(&d.SMSURL, "sms-url", "", "base URL of the SMS provider's Twilio-style API; empty keeps SMS in the outbox")
	e.str(&d.SMSAccount, "sms-account", "", "SMS provider account ID")
	e.str(&d.SMSToken, "sms-token", "", "SMS provider auth token (prefer the variable to the flag)")
	e.str(&d.SMSFrom, "sms-from", "", "SMS sender number or ID")
}

func (d deliveryConfig) smtpSet() bool {
	return d.SMTPHost != "" || d.SMTPFrom != "" || d.SMTPUser != "" || d.SMTPPassword != "" || d.SMTPPort != 0
}

func (d deliveryConfig) smsSet() bool {
	return d.SMSURL != "" || d.SMSAccount != "" || d.SMSToken != "" || d.SMSFrom != ""
}

// transports builds the configured transports; none when nothing is set.
func (d deliveryConfig) transports() (map[notify.Channel]notify.Transport, error) {
	out := map[notify.Channel]notify.Transport{}
	var errs []error
	if d.smtpSet() {
		t, err := smtp.New(smtp.Config{Host: d.SMTPHost, Port: d.SMTPPort, TLS: smtp.TLSMode(strings.ToLower(d.SMTPTLS)),
			Username: d.SMTPUser, Password: d.SMTPPassword, From: d.SMTPFrom})
		if err != nil {
			errs = append(errs, err)
		} else {
			out[notify.Email] = t
		}
	}
	if d.smsSet() {
		t, err := sms.New(sms.Config{BaseURL: d.SMSURL, AccountID: d.SMSAccount, Token: d.SMSToken, From: d.SMSFrom})
		if err != nil {
			errs = append(errs, err)
		} else {
			out[notify.SMS] = t
		}
	}
	return out, errors.Join(errs...)
}

func (d deliveryConfig) validate() error {
	_, err := d.transports()
	return err
}

// delivery is the queue and job runner behind real notifications. A nil *delivery
// (nothing configured) does nothing.
type delivery struct {
	store  *sqlstore.Store
	queue  *notify.Queue
	runner *jobs.Runner
}

// newDelivery returns the Notifier the services use: the development outbox when no
// transport is configured, else a queue whose runner this returns too.
func newDelivery(c deliveryConfig, store *sqlstore.Store, log *slog.Logger, now func() time.Time) (notify.Notifier, *delivery, error) {
	transports, err := c.transports()
	if err != nil {
		return nil, nil, err
	}
	if len(transports) == 0 {
		return &notify.Outbox{Store: store, Log: log, Now: now}, nil, nil
	}
	d := &delivery{store: store, queue: &notify.Queue{Store: store, Log: log, Now: now}}
	deliverer := &notify.Deliverer{Store: store, Transports: transports, Log: log, Now: now}
	d.runner = &jobs.Runner{Store: store, Handlers: map[string]jobs.Handler{notify.DeliverKind: deliverer.Handle}, Now: now, Log: log}
	return d.queue, d, nil
}

// register adds the job metrics to reg.
func (d *delivery) register(reg prometheus.Registerer) {
	if d == nil {
		return
	}
	m := jobs.NewMetrics(reg)
	d.queue.Metrics, d.runner.Metrics = m, m
	jobs.RegisterStats(reg, d.store)
}

// start runs the job runner until ctx ends or the returned stop is called; stop
// waits for the job in hand to finish.
func (d *delivery) start(ctx context.Context) (stop func()) {
	if d == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.runner.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}
