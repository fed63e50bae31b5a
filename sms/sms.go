// Package sms is the SMS transport of cardportal's notifications: it hands a
// notify.Message to an SMS provider's HTTP API in the Twilio style, a form POST to
// {BaseURL}/Accounts/{AccountID}/Messages.json with To, From and Body, authenticated
// with HTTP basic auth as AccountID:Token. The base URL is configuration, so any
// provider offering that interface (or a test server) can stand behind it.
package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
)

// Config says how to reach the provider.
type Config struct {
	BaseURL   string // e.g. https://api.twilio.com/2010-04-01
	AccountID string
	Token     string
	From      string        // the sender number or alphanumeric sender ID
	Timeout   time.Duration // for the whole request; 0 means 15s
	Client    *http.Client  // nil means a client of its own
}

// Transport sends SMS messages. It is safe for concurrent use.
type Transport struct {
	cfg      Config
	endpoint string
	client   *http.Client
}

var _ notify.Transport = (*Transport)(nil)

// New checks cfg and returns a Transport. It does not contact the provider.
func New(cfg Config) (*Transport, error) {
	var errs []error
	u, err := url.Parse(cfg.BaseURL)
	if cfg.BaseURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("sms: base URL must be an http(s) URL"))
	}
	if cfg.AccountID == "" || cfg.Token == "" {
		errs = append(errs, errors.New("sms: account and token must be set"))
	}
	if cfg.From == "" {
		errs = append(errs, errors.New("sms: from must be set"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{Timeout: cfg.Timeout}
	}
	return &Transport{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/Accounts/" + url.PathEscape(cfg.AccountID) + "/Messages.json",
		client:   c,
	}, nil
}

// Send posts m to the provider. A 2xx answer is success; 429 and 5xx, and a provider
// that cannot be reached, are retried; any other 4xx (a malformed number, say) is a
// permanent error. Errors hold the status and the provider's error code, never the
// body of the message nor the provider's reply text, which may quote it.
func (t *Transport) Send(ctx context.Context, m notify.Message) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	form := url.Values{"To": {m.To}, "From": {t.cfg.From}, "Body": {m.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return jobs.Permanent(fmt.Errorf("sms: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(t.cfg.AccountID, t.cfg.Token)
	resp, err := t.client.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // the cause without the URL, which names the account
		}
		return fmt.Errorf("sms: provider unreachable: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("sms: provider answered %d%s", resp.StatusCode, providerCode(b))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return err
	}
	return jobs.Permanent(err)
}

// providerCode picks the numeric error code out of a Twilio-style error reply
// ({"code": 21211, "message": "..."}), which tells an operator what went wrong
// without the message text.
func providerCode(b []byte) string {
	var e struct {
		Code json.Number `json:"code"`
	}
	if json.Unmarshal(b, &e) != nil || e.Code == "" {
		return ""
	}
	if _, err := e.Code.Int64(); err != nil {
		return ""
	}
	return " (provider code " + e.Code.String() + ")"
}
