package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/smtp/smtptest"
)

func TestDeliveryConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"smtp host without from", map[string]string{"CARDPORTAL_SMTP_HOST": "mail.example"}, "from address"},
		{"smtp from without host", map[string]string{"CARDPORTAL_SMTP_FROM": "no-reply@example.com"}, "host"},
		{"bad tls mode", map[string]string{"CARDPORTAL_SMTP_HOST": "mail.example", "CARDPORTAL_SMTP_FROM": "a@example.com", "CARDPORTAL_SMTP_TLS": "ssl"}, "TLS mode"},
		{"bad port", map[string]string{"CARDPORTAL_SMTP_HOST": "mail.example", "CARDPORTAL_SMTP_FROM": "a@example.com", "CARDPORTAL_SMTP_PORT": "x"}, "CARDPORTAL_SMTP_PORT"},
		{"sms without token", map[string]string{"CARDPORTAL_SMS_URL": "https://sms.example", "CARDPORTAL_SMS_ACCOUNT": "AC1", "CARDPORTAL_SMS_FROM": "+1"}, "token"},
		{"sms url not http", map[string]string{"CARDPORTAL_SMS_URL": "sms.example", "CARDPORTAL_SMS_ACCOUNT": "AC1", "CARDPORTAL_SMS_TOKEN": "t", "CARDPORTAL_SMS_FROM": "+1"}, "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), []string{"cardportal"}, func(k string) string { return tt.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
}

// smtpEnv points the program at a test SMTP server.
func smtpEnv(srv *smtptest.Server) map[string]string {
	return map[string]string{
		"CARDPORTAL_SMTP_HOST": srv.Host, "CARDPORTAL_SMTP_PORT": strconv.Itoa(srv.Port), "CARDPORTAL_SMTP_TLS": "none",
		"CARDPORTAL_SMTP_USER": "relay", "CARDPORTAL_SMTP_PASSWORD": "relay-Secret-1", "CARDPORTAL_SMTP_FROM": "Northwind Card <no-reply@northwind.example>",
	}
}

// waitMails waits until srv has received n mails.
func waitMails(t *testing.T, srv *smtptest.Server, n int) []smtptest.Mail {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if got := srv.Mails(); len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("SMTP server received %d mails, want %d", len(srv.Mails()), n)
	return nil
}

func subjects(t *testing.T, mails []smtptest.Mail) []string {
	t.Helper()
	var out []string
	for _, m := range mails {
		pm, err := m.Parse()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pm.Header.Get("Subject"))
	}
	slices.Sort(out)
	return out
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b)
}

// TestNoticesByEmail configures SMTP and checks that the welcome and lock notices
// reach a real SMTP server through the queue, that the outbox page and the metrics
// show them delivered, and that the log holds neither the address nor the password.
func TestNoticesByEmail(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{Username: "relay", Password: "relay-Secret-1"})
	env := smtpEnv(srv)
	env["CARDPORTAL_DEV_OUTBOX"] = "true" // a developer pointing SMTP at a local catcher
	in := start(t, env, append(fastArgs, "-data-dir", t.TempDir(), "-log-level", "debug")...)
	register(t, in, in.cards[0], "mail.member")
	for range 3 {
		login(t, in, "mail.member", "Not-The-Password-1")
	}
	waitMails(t, srv, 2)
	time.Sleep(200 * time.Millisecond) // nothing more should come
	mails := srv.Mails()
	want := []string{"Welcome to online services", "Your account has been locked"}
	if got := subjects(t, mails); !slices.Equal(got, want) {
		t.Errorf("subjects = %q, want %q", got, want)
	}
	to := mails[0].To[0]
	if mails[0].User != "relay" || mails[1].To[0] != to {
		t.Errorf("mails sent as %q to %v and %v", mails[0].User, mails[0].To, mails[1].To)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		page := get(t, in.url+"/dev/outbox")
		if strings.Count(page, ">Delivered</dd>") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox page does not show both delivered:\n%.3000s", page)
		}
		time.Sleep(50 * time.Millisecond)
	}
	metrics := get(t, in.url+"/metrics")
	for _, s := range []string{
		`cardportal_jobs_enqueued_total{kind="notify.deliver"} 2`,
		`cardportal_jobs_finished_total{kind="notify.deliver",outcome="succeeded"} 2`,
		`cardportal_jobs{kind="notify.deliver",state="done"} 2`,
	} {
		if !strings.Contains(metrics, s) {
			t.Errorf("metrics lack %s", s)
		}
	}
	logs := in.log.String()
	for _, s := range []string{to, "relay-Secret-1"} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains %q", s)
		}
	}
}

// TestOutboxPageOffWithTransport checks that configuring a transport takes the
// outbox page, which shows message bodies, off unless it is asked for.
func TestOutboxPageOffWithTransport(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{})
	in := start(t, smtpEnv(srv), append(fastArgs, "-data-dir", t.TempDir())...)
	resp, err := http.Get(in.url + "/dev/outbox")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/dev/outbox with SMTP configured: %d, want 404", resp.StatusCode)
	}
}

// TestTwoInstancesDeliverOnce runs two programs with job runners on one PostgreSQL
// database and checks that each notice is mailed exactly once.
func TestTwoInstancesDeliverOnce(t *testing.T) {
	dsn := postgresDSN(t)
	srv := smtptest.NewServer(t, smtptest.Options{Username: "relay", Password: "relay-Secret-1"})
	dir := t.TempDir()
	a := start(t, smtpEnv(srv), append(fastArgs, "-data-dir", dir, "-database-url", dsn)...)
	b := start(t, smtpEnv(srv), append(fastArgs, "-data-dir", dir, "-database-url", dsn)...)
	for i, in := range []*instance{a, b, a, b} {
		register(t, in, a.cards[i], "once.member"+strconv.Itoa(i))
	}
	waitMails(t, srv, 4)
	time.Sleep(2 * time.Second) // a duplicate would come within a poll interval or two
	if got := len(srv.Mails()); got != 4 {
		t.Errorf("SMTP server received %d mails for 4 notices", got)
	}
}
