// Package smtp is the email transport of cardportal's notifications: it sends a
// notify.Message as a UTF-8 text/plain mail through an SMTP server (the issuer's relay
// or a provider's submission endpoint), using github.com/wneessen/go-mail.
package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
)

// TLSMode is how the connection to the server is protected.
type TLSMode string

// TLS modes.
const (
	// None sends in clear text: only for a relay on the same host or network.
	None TLSMode = "none"
	// StartTLS connects in clear and upgrades with STARTTLS, refusing to go on if the
	// server does not offer it (port 587).
	StartTLS TLSMode = "starttls"
	// TLS speaks TLS from the first byte (implicit TLS, port 465).
	TLS TLSMode = "tls"
)

// Config says how to reach the SMTP server.
type Config struct {
	Host string
	Port int // 0: 25 for None, 587 for StartTLS, 465 for TLS
	TLS  TLSMode
	// Username and Password, when Username is set, authenticate with AUTH PLAIN.
	// go-mail refuses PLAIN over an unencrypted connection except to localhost.
	Username string
	Password string
	From     string        // the sender address, e.g. "Northwind Card <no-reply@example.com>"
	Timeout  time.Duration // connection and command timeout; 0 means 30s
	// RootCAs, when set, replaces the system roots for verifying the server
	// (a private relay's CA; tests).
	RootCAs *x509.CertPool
}

// Transport sends email. It is safe for concurrent use: each Send opens its own
// connection, which suits the trickle of notices a job runner sends.
type Transport struct {
	cfg Config
}

var _ notify.Transport = (*Transport)(nil)

// New checks cfg and returns a Transport. It does not connect: a server that is
// down at start-up is an outage the job queue rides out, not a reason not to start.
func New(cfg Config) (*Transport, error) {
	var errs []error
	if cfg.Host == "" {
		errs = append(errs, errors.New("smtp: host must be set"))
	}
	if cfg.From == "" {
		errs = append(errs, errors.New("smtp: from address must be set"))
	} else if err := mail.NewMsg().From(cfg.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp: from address: %w", err))
	}
	switch cfg.TLS {
	case None, StartTLS, TLS:
	case "":
		cfg.TLS = StartTLS
	default:
		errs = append(errs, fmt.Errorf("smtp: TLS mode %q is not none, starttls or tls", cfg.TLS))
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp: port %d out of range", cfg.Port))
	}
	if cfg.Password != "" && cfg.Username == "" {
		errs = append(errs, errors.New("smtp: a password needs a username"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Port == 0 {
		cfg.Port = map[TLSMode]int{None: 25, StartTLS: 587, TLS: 465}[cfg.TLS]
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Transport{cfg: cfg}, nil
}

func (t *Transport) client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(t.cfg.Port), mail.WithTimeout(t.cfg.Timeout)}
	switch t.cfg.TLS {
	case None:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case StartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLS:
		opts = append(opts, mail.WithSSL())
	}
	if t.cfg.TLS != None {
		opts = append(opts, mail.WithTLSConfig(&tls.Config{
			ServerName: t.cfg.Host, RootCAs: t.cfg.RootCAs, MinVersion: tls.VersionTLS12,
		}))
	}
	if t.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(t.cfg.Username), mail.WithPassword(t.cfg.Password))
	}
	return mail.NewClient(t.cfg.Host, opts...)
}

// Send delivers m to m.To. A recipient the server refuses for good (5xx to RCPT) is a
// permanent error; a server that cannot be reached, or answers 4xx, is retried.
// Errors carry the server's reply, never the body.
func (t *Transport) Send(ctx context.Context, m notify.Message) error {
	msg := mail.NewMsg() // UTF-8, quoted-printable
	if err := msg.From(t.cfg.From); err != nil {
		return jobs.Permanent(fmt.Errorf("smtp: from address: %w", err))
	}
	if err := msg.To(m.To); err != nil {
		return jobs.Permanent(errors.New("smtp: malformed recipient address"))
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	c, err := t.client()
	if err != nil {
		return jobs.Permanent(fmt.Errorf("smtp: %w", err))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var se *mail.SendError
		// Only a refused recipient is final. A refused sender or login is the
		// configuration's fault: retrying lets the queue drain once it is fixed.
		if errors.As(err, &se) && se.Reason == mail.ErrSMTPRcptTo && !se.IsTemp() && se.ErrorCode() >= 500 {
			return jobs.Permanent(fmt.Errorf("smtp: %w", err))
		}
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}
