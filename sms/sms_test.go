package sms_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/sms"
)

var msg = notify.Message{ID: 9, Channel: notify.SMS, To: "+46701234567", Kind: "code", Body: "Din kod är 493817. Årsavgift, ñ."}

// provider is a fake Twilio-style API that checks each request's shape and answers
// with the statuses it is given, in turn (200 once they run out).
type provider struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int
	got      []url.Values
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	switch {
	case r.Method != http.MethodPost:
		p.t.Errorf("method = %s, want POST", r.Method)
	case r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json":
		p.t.Errorf("path = %s", r.URL.Path)
	case !ok || user != "AC123" || pass != "tok-secret":
		p.t.Errorf("basic auth = %q, %q, %v", user, pass, ok)
	case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
		p.t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		p.t.Errorf("form: %v", err)
	}
	p.mu.Lock()
	p.got = append(p.got, r.PostForm)
	status := http.StatusCreated
	if len(p.statuses) > 0 {
		status, p.statuses = p.statuses[0], p.statuses[1:]
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status >= 400 {
		// Real providers quote the request in their messages; the error must not.
		w.Write([]byte(`{"code": 21211, "message": "The 'To' number +46701234567 is not valid: Din kod är 493817", "status": 400}`))
		return
	}
	w.Write([]byte(`{"sid": "SM1", "status": "queued"}`))
}

func newTransport(t *testing.T, p *provider) (*sms.Transport, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	tr, err := sms.New(sms.Config{BaseURL: srv.URL + "/2010-04-01/", AccountID: "AC123", Token: "tok-secret", From: "+15005550006", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tr, srv
}

func TestSend(t *testing.T) {
	p := &provider{t: t}
	tr, _ := newTransport(t, p)
	if err := tr.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := []url.Values{{"To": {"+46701234567"}, "From": {"+15005550006"}, "Body": {msg.Body}}}
	if diff := cmp.Diff(want, p.got); diff != "" {
		t.Errorf("form posted (-want +got):\n%s", diff)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		permanent bool
		wantText  string
	}{
		{"server error is retried", http.StatusInternalServerError, false, "500 (provider code 21211)"},
		{"throttled is retried", http.StatusTooManyRequests, false, "429"},
		{"bad request is final", http.StatusBadRequest, true, "400 (provider code 21211)"},
		{"unauthorised is final", http.StatusUnauthorized, true, "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &provider{t: t, statuses: []int{tt.status}}
			tr, _ := newTransport(t, p)
			err := tr.Send(t.Context(), msg)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if jobs.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			for _, secret := range []string{"493817", "tok-secret", "+46701234567"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %q", err, secret)
				}
			}
		})
	}
	t.Run("unreachable is retried", func(t *testing.T) {
		tr, srv := newTransport(t, &provider{t: t})
		srv.Close()
		err := tr.Send(t.Context(), msg)
		if err == nil || jobs.IsPermanent(err) {
			t.Errorf("Send to a closed server = %v, want a retryable error", err)
		}
		if err != nil && strings.Contains(err.Error(), "AC123") {
			t.Errorf("error %q names the account", err)
		}
	})
}

func TestNew(t *testing.T) {
	ok := sms.Config{BaseURL: "https://api.example/2010-04-01", AccountID: "AC1", Token: "t", From: "+1"}
	tests := []struct {
		name   string
		modify func(*sms.Config)
		ok     bool
	}{
		{"complete", func(*sms.Config) {}, true},
		{"no URL", func(c *sms.Config) { c.BaseURL = "" }, false},
		{"not http", func(c *sms.Config) { c.BaseURL = "ftp://x/y" }, false},
		{"no token", func(c *sms.Config) { c.Token = "" }, false},
		{"no account", func(c *sms.Config) { c.AccountID = "" }, false},
		{"no from", func(c *sms.Config) { c.From = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.modify(&c)
			if _, err := sms.New(c); (err == nil) != tt.ok {
				t.Errorf("New = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
