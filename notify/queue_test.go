package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/sms"
	"github.com/cardportal/cardportal/smtp"
	"github.com/cardportal/cardportal/smtp/smtptest"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
)

// The code and the addresses that must never reach a log line.
const (
	code  = "493817"
	email = "ana.garcia@example.com"
	phone = "+46701234567"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a queue, a deliverer and a runner over one store, with captured logs.
type env struct {
	store  *sqlstore.Store
	clock  *cardportaltest.Clock
	logs   *bytes.Buffer
	log    *slog.Logger
	queue  *notify.Queue
	runner *jobs.Runner
}

func newEnv(t *testing.T, store *sqlstore.Store, transports map[notify.Channel]notify.Transport) *env {
	t.Helper()
	e := &env{store: store, clock: cardportaltest.NewClock(start), logs: new(bytes.Buffer)}
	e.log = slog.New(slog.NewJSONHandler(&lockedWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	metrics := jobs.NewMetrics(prometheus.NewRegistry())
	e.queue = &notify.Queue{Store: store, Log: e.log, Now: e.clock.Now, MaxAttempts: 3, Metrics: metrics}
	d := &notify.Deliverer{Store: store, Transports: transports, Log: e.log, Now: e.clock.Now}
	e.runner = &jobs.Runner{Store: store, Handlers: map[string]jobs.Handler{notify.DeliverKind: d.Handle},
		Now: e.clock.Now, Rand: func() float64 { return 0 }, Log: e.log, Metrics: metrics, Timeout: 5 * time.Second}
	t.Cleanup(func() { e.checkLogs(t) })
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// checkLogs fails the test if any log line holds the code or a full address.
func (e *env) checkLogs(t *testing.T) {
	logs := e.logs.String()
	if logs == "" {
		t.Error("nothing was logged; the check below would prove nothing")
	}
	for _, secret := range []string{code, email, phone, "Smörgåsbord"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

func memStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func message(ch notify.Channel, to string) notify.Message {
	return notify.Message{MemberID: 1, Channel: ch, To: to, Kind: "code",
		Subject: "Tu código — ñandú", Body: "Tu código es " + code + ". Smörgåsbord, äpple, öl, niño."}
}

func (e *env) notify(t *testing.T, m notify.Message) {
	t.Helper()
	if err := e.queue.Notify(t.Context(), m); err != nil {
		t.Fatalf("Notify: %v", err)
	}
}

func (e *env) runOnce(t *testing.T) int {
	t.Helper()
	n, err := e.runner.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// only returns the one message in the outbox.
func (e *env) only(t *testing.T) notify.Message {
	t.Helper()
	msgs, err := e.store.ListOutbox(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("outbox holds %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

func smtpTransport(t *testing.T, srv *smtptest.Server) *smtp.Transport {
	t.Helper()
	tr, err := smtp.New(smtp.Config{Host: srv.Host, Port: srv.Port, TLS: smtp.None, From: "no-reply@northwind.example", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestEmailOutage sends an email while the SMTP server is down: the attempt fails and
// is recorded, nothing is retried before the backoff, and once the server is back
// the retry delivers the message exactly once.
func TestEmailOutage(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{})
	e := newEnv(t, memStore(t), map[notify.Channel]notify.Transport{notify.Email: smtpTransport(t, srv)})
	srv.Stop()
	e.notify(t, message(notify.Email, email))
	if m := e.only(t); m.Delivery.State != notify.Queued {
		t.Errorf("before the first attempt: state %q, want queued", m.Delivery.State)
	}
	if n := e.runOnce(t); n != 1 {
		t.Fatalf("first run claimed %d jobs", n)
	}
	m := e.only(t)
	if m.Delivery.State != notify.Retrying || m.Delivery.Attempts != 1 || m.Delivery.LastError == "" {
		t.Errorf("after the outage: %+v, want retrying after 1 attempt with the error", m.Delivery)
	}
	srv.Start()
	if n := e.runOnce(t); n != 0 {
		t.Errorf("retried before the backoff (%d claimed)", n)
	}
	e.clock.Add(jobs.DefaultBackoff.Delay(1, 0))
	if n := e.runOnce(t); n != 1 {
		t.Fatalf("retry claimed %d jobs", n)
	}
	e.clock.Add(time.Hour)
	e.runOnce(t) // nothing more to do
	if got := len(srv.Mails()); got != 1 {
		t.Fatalf("server received %d mails, want exactly 1", got)
	}
	mail := srv.Mails()[0]
	if len(mail.To) != 1 || mail.To[0] != email {
		t.Errorf("delivered to %v, want %s", mail.To, email)
	}
	if !strings.Contains(string(mail.Data), "Subject: =?UTF-8?") {
		t.Errorf("subject not encoded as UTF-8:\n%s", mail.Data)
	}
	m = e.only(t)
	want := notify.Delivery{State: notify.Delivered, Attempts: 2, DeliveredAt: start.Add(jobs.DefaultBackoff.Delay(1, 0))}
	if m.Delivery != want {
		t.Errorf("delivery = %+v, want %+v", m.Delivery, want)
	}
}

// TestSMS checks the SMS path through the queue: a 500 is retried, a 400 fails the
// message for good.
func TestSMS(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		runs      int
		wantState notify.DeliveryState
		wantPosts int
		wantJob   jobs.State
	}{
		{"delivered at once", nil, 1, notify.Delivered, 1, jobs.Done},
		{"500 then 200", []int{500}, 2, notify.Delivered, 2, jobs.Done},
		{"400 is permanent", []int{400}, 3, notify.Failed, 1, jobs.Failed},
		{"500 until out of attempts", []int{500, 500, 500, 500}, 4, notify.Failed, 3, jobs.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu       sync.Mutex
				statuses = tt.statuses
				posts    int
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/Accounts/AC1/Messages.json" || r.FormValue("To") != phone ||
					!strings.Contains(r.FormValue("Body"), code) {
					t.Errorf("unexpected request %s %s %v", r.Method, r.URL.Path, r.PostForm)
				}
				mu.Lock()
				defer mu.Unlock()
				posts++
				status := http.StatusCreated
				if len(statuses) > 0 {
					status, statuses = statuses[0], statuses[1:]
				}
				w.WriteHeader(status)
			}))
			defer srv.Close()
			tr, err := sms.New(sms.Config{BaseURL: srv.URL, AccountID: "AC1", Token: "tok", From: "+15005550006"})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, memStore(t), map[notify.Channel]notify.Transport{notify.SMS: tr})
			e.notify(t, message(notify.SMS, phone))
			for run := range tt.runs {
				e.runOnce(t)
				e.clock.Add(jobs.DefaultBackoff.Delay(run+1, 0))
			}
			m := e.only(t)
			if m.Delivery.State != tt.wantState || posts != tt.wantPosts {
				t.Errorf("delivery %+v after %d posts; want %s after %d", m.Delivery, posts, tt.wantState, tt.wantPosts)
			}
			js, err := e.store.ListJobs(t.Context(), jobs.Filter{Kind: notify.DeliverKind}, 10)
			if err != nil || len(js) != 1 || js[0].State != tt.wantJob {
				t.Errorf("delivery jobs = %+v, %v; want one %s", js, err, tt.wantJob)
			}
			if tt.wantState == notify.Failed && !strings.Contains(e.logs.String(), "notification not delivered") {
				t.Error("the failure was not logged")
			}
		})
	}
}

// TestPushKeptInOutbox checks that a channel without a transport is settled as kept
// in the outbox instead of failing.
func TestPushKeptInOutbox(t *testing.T) {
	e := newEnv(t, memStore(t), nil)
	e.notify(t, message(notify.Push, "device-token-1"))
	e.runOnce(t)
	if m := e.only(t); m.Delivery.State != notify.Kept || m.Delivery.Attempts != 1 {
		t.Errorf("push message delivery = %+v, want kept after 1 attempt", m.Delivery)
	}
}

// TestRestart queues a message, closes the store as a stopping process would, and
// checks that a new runner over the reopened database delivers it.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "restart.db")
	s1, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.NewServer(t, smtptest.Options{})
	first := newEnv(t, s1, map[notify.Channel]notify.Transport{notify.Email: smtpTransport(t, srv)})
	first.notify(t, message(notify.Email, email))
	s1.Close()

	s2, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	second := newEnv(t, s2, map[notify.Channel]notify.Transport{notify.Email: smtpTransport(t, srv)})
	if n := second.runOnce(t); n != 1 {
		t.Fatalf("the new runner claimed %d jobs, want 1", n)
	}
	if got := len(srv.Mails()); got != 1 {
		t.Errorf("server received %d mails, want 1", got)
	}
	if m := second.only(t); m.Delivery.State != notify.Delivered {
		t.Errorf("delivery after restart = %+v", m.Delivery)
	}
}

// TestDelivererEdgeCases covers payloads and messages the handler cannot work with,
// and a message that was already delivered.
func TestDelivererEdgeCases(t *testing.T) {
	store := memStore(t)
	sent := 0
	d := &notify.Deliverer{Store: store, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return start },
		Transports: map[notify.Channel]notify.Transport{notify.Email: transportFunc(func(context.Context, notify.Message) error { sent++; return nil })}}
	tests := []struct {
		name      string
		payload   string
		permanent bool
	}{
		{"malformed payload", `{`, true},
		{"no message", `{}`, true},
		{"message gone", `{"message": 424242}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.Handle(t.Context(), jobs.Job{Kind: notify.DeliverKind, Payload: []byte(tt.payload), Attempts: 1, MaxAttempts: 3})
			if err == nil || jobs.IsPermanent(err) != tt.permanent {
				t.Errorf("Handle = %v, want permanent %v", err, tt.permanent)
			}
		})
	}
	q := &notify.Queue{Store: store, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return start }}
	if err := q.Notify(t.Context(), message(notify.Email, email)); err != nil {
		t.Fatal(err)
	}
	msgs, _ := store.ListOutbox(t.Context(), 1)
	j := jobs.Job{Kind: notify.DeliverKind, Payload: []byte(`{"message":` + strconv.FormatInt(msgs[0].ID, 10) + `}`), Attempts: 1, MaxAttempts: 3}
	for range 2 {
		if err := d.Handle(t.Context(), j); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
	if sent != 1 {
		t.Errorf("a delivered message was sent %d times, want 1", sent)
	}
}

type transportFunc func(context.Context, notify.Message) error

func (f transportFunc) Send(ctx context.Context, m notify.Message) error { return f(ctx, m) }

// TestRefusedRecipient checks that a recipient the SMTP server refuses fails the
// message at once, and that the error recorded and logged masks the address the
// server's reply quotes.
func TestRefusedRecipient(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{RejectRcpt: func(string) bool { return true }})
	e := newEnv(t, memStore(t), map[notify.Channel]notify.Transport{notify.Email: smtpTransport(t, srv)})
	e.notify(t, message(notify.Email, email))
	e.runOnce(t)
	m := e.only(t)
	if m.Delivery.State != notify.Failed || m.Delivery.Attempts != 1 {
		t.Errorf("delivery = %+v, want failed after 1 attempt", m.Delivery)
	}
	if !strings.Contains(m.Delivery.LastError, "550") || strings.Contains(m.Delivery.LastError, email) {
		t.Errorf("last error %q: want the 550 reply without the address", m.Delivery.LastError)
	}
	js, err := e.store.ListJobs(t.Context(), jobs.Filter{State: jobs.Failed}, 10)
	if err != nil || len(js) != 1 || strings.Contains(js[0].LastError, email) {
		t.Errorf("failed jobs = %+v, %v; want one, its error without the address", js, err)
	}
}
