package smtp_test

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/smtp"
	"github.com/cardportal/cardportal/smtp/smtptest"
)

var msg = notify.Message{
	ID: 1, MemberID: 2, Channel: notify.Email, To: "ana.garcia@example.com", Kind: "locked",
	Subject: "Tu cuenta está bloqueada — ñandú",
	Body:    "Hola Ana: código 493817. Smörgåsbord, äpple, öl, niño.\nSegunda línea.",
}

// decoded returns the subject and body of what the server received, undoing the
// MIME encodings go-mail applies, and the body's content type.
func decoded(t *testing.T, m smtptest.Mail) (subject, body, contentType string) {
	t.Helper()
	pm, err := m.Parse()
	if err != nil {
		t.Fatalf("parse received mail: %v", err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	var r io.Reader = pm.Body
	if strings.EqualFold(pm.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return subject, strings.ReplaceAll(string(b), "\r\n", "\n"), pm.Header.Get("Content-Type")
}

func TestSend(t *testing.T) {
	tests := []struct {
		name    string
		opts    smtptest.Options
		mode    smtp.TLSMode
		user    string
		pass    string
		wantTLS bool
	}{
		{name: "plain relay", mode: smtp.None},
		{name: "auth on localhost", opts: smtptest.Options{Username: "relay", Password: "s3cret"}, mode: smtp.None, user: "relay", pass: "s3cret"},
		{name: "starttls with auth", opts: smtptest.Options{Username: "relay", Password: "s3cret", StartTLS: true}, mode: smtp.StartTLS, user: "relay", pass: "s3cret", wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts)
			tr, err := smtp.New(smtp.Config{Host: srv.Host, Port: srv.Port, TLS: tt.mode, Username: tt.user, Password: tt.pass,
				From: "Northwind Card <no-reply@northwind.example>", Timeout: 5 * time.Second, RootCAs: srv.RootCAs})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if err := tr.Send(t.Context(), msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			mails := srv.Mails()
			if len(mails) != 1 {
				t.Fatalf("server received %d mails, want 1", len(mails))
			}
			got := mails[0]
			if diff := cmp.Diff([]string{"ana.garcia@example.com"}, got.To); diff != "" {
				t.Errorf("recipients (-want +got):\n%s", diff)
			}
			if got.From != "no-reply@northwind.example" || got.User != tt.user || got.UsedTLS != tt.wantTLS {
				t.Errorf("envelope from %q, user %q, TLS %v; want no-reply@northwind.example, %q, %v", got.From, got.User, got.UsedTLS, tt.user, tt.wantTLS)
			}
			subject, body, ct := decoded(t, got)
			if subject != msg.Subject {
				t.Errorf("subject = %q, want %q", subject, msg.Subject)
			}
			if strings.TrimRight(body, "\n") != msg.Body {
				t.Errorf("body = %q, want %q", body, msg.Body)
			}
			if mt, params, _ := mime.ParseMediaType(ct); mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
				t.Errorf("Content-Type = %q, want text/plain; charset=UTF-8", ct)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name      string
		opts      smtptest.Options
		user      string
		pass      string
		down      bool
		permanent bool
	}{
		{name: "server down", down: true},
		{name: "recipient refused", opts: smtptest.Options{RejectRcpt: func(string) bool { return true }}, permanent: true},
		// A wrong password is the operator's to fix; the queue keeps the mail meanwhile.
		{name: "login refused", opts: smtptest.Options{Username: "relay", Password: "right"}, user: "relay", pass: "wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts)
			if tt.down {
				srv.Stop()
			}
			tr, err := smtp.New(smtp.Config{Host: srv.Host, Port: srv.Port, TLS: smtp.None, Username: tt.user, Password: tt.pass,
				From: "no-reply@northwind.example", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err = tr.Send(ctx, msg)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := jobs.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			for _, secret := range []string{"493817", msg.Body, tt.pass} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %q", err, secret)
				}
			}
			if len(srv.Mails()) != 0 {
				t.Errorf("server accepted %d mails", len(srv.Mails()))
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  smtp.Config
		ok   bool
	}{
		{"minimal", smtp.Config{Host: "mail.example", From: "a@example.com"}, true},
		{"no host", smtp.Config{From: "a@example.com"}, false},
		{"no from", smtp.Config{Host: "mail.example"}, false},
		{"bad from", smtp.Config{Host: "mail.example", From: "not an address"}, false},
		{"bad mode", smtp.Config{Host: "mail.example", From: "a@example.com", TLS: "ssl3"}, false},
		{"bad port", smtp.Config{Host: "mail.example", From: "a@example.com", Port: 70000}, false},
		{"password without user", smtp.Config{Host: "mail.example", From: "a@example.com", Password: "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := smtp.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
