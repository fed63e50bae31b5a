package network

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/authorize"
)

// fakeService answers from function fields and records what it was asked.
type fakeService struct {
	authorise func(authorize.Request) (authorize.Answer, error)
	got       []any
}

func (f *fakeService) Authorise(_ context.Context, r authorize.Request) (authorize.Answer, error) {
	f.got = append(f.got, r)
	if f.authorise != nil {
		return f.authorise(r)
	}
	return authorize.Answer{MessageID: r.MessageID, Code: authorize.Approved, AuthCode: "ABC123"}, nil
}
func (f *fakeService) Reverse(_ context.Context, r authorize.Reversal) (authorize.Answer, error) {
	f.got = append(f.got, r)
	return authorize.Answer{MessageID: r.MessageID, Code: authorize.NoOriginal}, nil
}
func (f *fakeService) Clear(_ context.Context, p authorize.Presentment) (authorize.Answer, error) {
	f.got = append(f.got, p)
	return authorize.Answer{MessageID: p.MessageID, Code: authorize.Approved, Replayed: true}, nil
}
func (f *fakeService) Refund(_ context.Context, p authorize.Presentment) (authorize.Answer, error) {
	f.got = append(f.got, p)
	return authorize.Answer{MessageID: p.MessageID, Code: authorize.Approved}, nil
}
func (f *fakeService) Token(_ context.Context, m authorize.TokenMessage) (authorize.Answer, error) {
	f.got = append(f.got, m)
	return authorize.Answer{MessageID: m.MessageID, Code: authorize.LostCard}, nil
}

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	testNow    = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

type env struct {
	t   *testing.T
	h   http.Handler
	svc *fakeService
	now time.Time
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, svc: &fakeService{}, now: testNow}
	e.h = NewHandler(Deps{Service: e.svc, Secret: testSecret, Now: func() time.Time { return e.now }})
	return e
}

var nonceN int

// send posts body signed at ts with secret and a new nonce.
func (e *env) send(path string, body string, ts int64, secret []byte) *httptest.ResponseRecorder {
	nonceN++
	return e.sendNonce(path, body, ts, secret, fmt.Sprintf("nonce-%016d", nonceN))
}

func (e *env) sendNonce(path string, body string, ts int64, secret []byte, nonce string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, Sign(secret, ts, nonce, []byte(body)))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	seen(r, w)
	return w
}

const authBody = `{"message_id":"m-1","card_number":"4111 1111 1111 1111","expiry":"12/28","cid":"123",` +
	`"pin_block":{"format":0,"block":"0123456789abcdef"},"amount":1250,"currency":"USD",` +
	`"merchant":{"name":"Corner Shop","mcc":"5411","city":"Springfield","country":"US"},"channel":"online"}`

func TestAuthorisation(t *testing.T) {
	e := newEnv(t)
	w := e.send("/network/v1/authorisations", authBody, testNow.Unix(), testSecret)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var resp Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp != (Response{MessageID: "m-1", ResponseCode: "00", Approved: true, AuthCode: "ABC123"}) {
		t.Errorf("response = %+v", resp)
	}
	if len(e.svc.got) != 1 {
		t.Fatalf("service asked %d times", len(e.svc.got))
	}
	r := e.svc.got[0].(authorize.Request)
	if r.PAN.Digits() != "4111111111111111" || r.Expiry.Month != 12 || r.Expiry.Year != 2028 || r.CID != "123" ||
		r.PINFormat != 0 || len(r.PINBlock) != 8 || r.Amount != 1250 || r.Merchant.MCC != "5411" || r.Channel != "online" {
		t.Errorf("request = %+v", r)
	}
}

func TestSignature(t *testing.T) {
	ts := testNow.Unix()
	tests := []struct {
		name   string
		ts     int64
		secret []byte
		want   int
		msg    string
	}{
		{"good", ts, testSecret, 200, ""},
		{"wrong secret", ts, []byte("another secret of thirty-two b.."), 401, "signature"},
		{"just inside the window", ts - int64(DefaultWindow/time.Second), testSecret, 200, ""},
		{"too old", ts - int64(DefaultWindow/time.Second) - 1, testSecret, 401, "timestamp"},
		{"too new", ts + int64(DefaultWindow/time.Second) + 1, testSecret, 401, "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.send("/network/v1/authorisations", authBody, tt.ts, tt.secret)
			if w.Code != tt.want || (tt.msg != "" && !strings.Contains(w.Body.String(), tt.msg)) {
				t.Errorf("status %d body %s, want %d %q", w.Code, w.Body, tt.want, tt.msg)
			}
			if tt.want != 200 && len(e.svc.got) != 0 {
				t.Errorf("the service was asked despite a bad signature")
			}
		})
	}
	e := newEnv(t)
	// A body changed after signing fails.
	r := httptest.NewRequest("POST", "/network/v1/authorisations", strings.NewReader(strings.Replace(authBody, "1250", "9250", 1)))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(HeaderNonce, "nonce-tampered-0001")
	r.Header.Set(HeaderSignature, Sign(testSecret, ts, "nonce-tampered-0001", []byte(authBody)))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("tampered body: status %d", w.Code)
	}
	// No signature headers at all.
	r = httptest.NewRequest("POST", "/network/v1/authorisations", strings.NewReader(authBody))
	r.Header.Set("Content-Type", "application/json")
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("unsigned: status %d", w.Code)
	}
	// The same signed request twice: the second is a replay.
	if w := e.sendNonce("/network/v1/authorisations", authBody, ts, testSecret, "the-same-nonce-0001"); w.Code != 200 {
		t.Fatalf("first: %d", w.Code)
	}
	if w := e.sendNonce("/network/v1/authorisations", authBody, ts, testSecret, "the-same-nonce-0001"); w.Code != 401 || !strings.Contains(w.Body.String(), "replayed") {
		t.Errorf("replay: status %d %s", w.Code, w.Body)
	}
	// Re-signed with a new nonce, even in the same second, it reaches the service
	// (whose idempotency answers).
	if w := e.send("/network/v1/authorisations", authBody, ts, testSecret); w.Code != 200 {
		t.Errorf("re-signed resend: status %d", w.Code)
	}
	// A short nonce is refused.
	if w := e.sendNonce("/network/v1/authorisations", authBody, ts, testSecret, "short"); w.Code != 401 || !strings.Contains(w.Body.String(), "nonce") {
		t.Errorf("short nonce: status %d %s", w.Code, w.Body)
	}
	if len(e.svc.got) != 2 {
		t.Errorf("service asked %d times, want 2", len(e.svc.got))
	}
}

func TestReplayMemoryForgetsOnlyOutsideTheWindow(t *testing.T) {
	m := newReplayMemory(time.Minute)
	sig := "a-nonce-of-some-length"
	now := testNow
	if !m.first(sig, now) || m.first(sig, now) {
		t.Fatal("first/second")
	}
	// Still remembered for as long as its timestamp could be accepted (2 windows).
	for _, d := range []time.Duration{time.Minute, 119 * time.Second, 2 * time.Minute, 3 * time.Minute} {
		if m.first(sig, now.Add(d)) {
			t.Errorf("forgotten after %v", d)
		}
	}
}

func TestBadRequests(t *testing.T) {
	ts := testNow.Unix()
	tests := []struct {
		name, path, body string
		want             int
		field            string
	}{
		{"unknown field", "/network/v1/authorisations", `{"message_id":"x","pan":"1"}`, 422, "body"},
		{"two objects", "/network/v1/authorisations", authBody + authBody, 422, "body"},
		{"bad card number", "/network/v1/authorisations", strings.Replace(authBody, "4111 1111 1111 1111", "4111 1111 1111 1112", 1), 422, "card_number"},
		{"bad expiry", "/network/v1/authorisations", strings.Replace(authBody, "12/28", "13/28", 1), 422, "expiry"},
		{"bad PIN block", "/network/v1/authorisations", strings.Replace(authBody, "0123456789abcdef", "0123", 1), 422, "pin_block"},
		{"reversal bad card", "/network/v1/reversals", `{"message_id":"r","original_message_id":"m","card_number":"1"}`, 422, "card_number"},
		{"bad token", "/network/v1/authorisations", strings.Replace(authBody, `"card_number":"4111 1111 1111 1111"`, `"token":"4895370000001232"`, 1), 422, "token"},
		{"clearing bad token", "/network/v1/clearings", `{"message_id":"r","token":"12345"}`, 422, "token"},
		{"token message bad expiry", "/network/v1/tokens", `{"message_id":"t","token":"4895370000001237","token_expiry":"13/29",` +
			`"status":"active","card_number":"4111111111111111","card_expiry":"12/28"}`, 422, "token_expiry"},
		{"too large", "/network/v1/refunds", `{"message_id":"` + strings.Repeat("x", MaxBody) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.send(tt.path, tt.body, ts, testSecret)
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.field) {
				t.Errorf("status %d body %.200s, want %d naming %q", w.Code, w.Body, tt.want, tt.field)
			}
			if strings.Contains(w.Body.String(), "4111") {
				t.Errorf("the answer echoes the card number")
			}
		})
	}
	// Not JSON.
	e := newEnv(t)
	r := httptest.NewRequest("POST", "/network/v1/authorisations", strings.NewReader(authBody))
	r.Header.Set("Content-Type", "text/plain")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 422 {
		t.Errorf("text/plain: status %d", w.Code)
	}
}

func TestOtherMessages(t *testing.T) {
	e := newEnv(t)
	ts := testNow.Unix()
	w := e.send("/network/v1/reversals", `{"message_id":"r-1","original_message_id":"m-1","card_number":"4111111111111111","amount":500}`, ts, testSecret)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"response_code":"25"`) || !strings.Contains(w.Body.String(), `"approved":false`) {
		t.Errorf("reversal: %d %s", w.Code, w.Body)
	}
	if r := e.svc.got[0].(authorize.Reversal); r.OriginalID != "m-1" || r.Amount != 500 {
		t.Errorf("reversal = %+v", r)
	}
	pres := `{"message_id":"c-1","original_message_id":"m-1","card_number":"4111111111111111","amount":1300,"currency":"USD",` +
		`"merchant":{"name":"Corner Shop","mcc":"5411","country":"US"},"channel":"in_person"}`
	w = e.send("/network/v1/clearings", pres, ts, testSecret)
	if w.Code != 200 || w.Header().Get(HeaderReplayed) != "true" {
		t.Errorf("clearing: %d %s (replayed header %q)", w.Code, w.Body, w.Header().Get(HeaderReplayed))
	}
	w = e.send("/network/v1/refunds", strings.Replace(pres, "c-1", "f-1", 1), ts, testSecret)
	if w.Code != 200 || w.Header().Get(HeaderReplayed) != "" {
		t.Errorf("refund: %d %s", w.Code, w.Body)
	}
	if p := e.svc.got[2].(authorize.Presentment); p.MessageID != "f-1" || p.Amount != 1300 || p.Merchant.Name != "Corner Shop" {
		t.Errorf("refund = %+v", p)
	}
}

func TestTokenMessages(t *testing.T) {
	e := newEnv(t)
	ts := testNow.Unix()
	w := e.send("/network/v1/tokens", `{"message_id":"t-1","token":"4895 3700 0000 1237","token_expiry":"06/29","status":"suspended",`+
		`"wallet":"Phone Wallet","card_number":"4111111111111111","card_expiry":"12/28"}`, ts, testSecret)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"response_code":"41"`) || strings.Contains(w.Body.String(), "4895") {
		t.Errorf("token message: %d %s", w.Code, w.Body)
	}
	m := e.svc.got[0].(authorize.TokenMessage)
	if m.MessageID != "t-1" || m.Token.Digits() != "4895370000001237" || m.TokenExpiry.Month != 6 || m.TokenExpiry.Year != 2029 ||
		m.Status != authorize.TokenSuspended || m.Wallet != "Phone Wallet" || m.PAN.Digits() != "4111111111111111" || m.Expiry.Year != 2028 {
		t.Errorf("token message = %+v", m)
	}
	// The other messages may name the card by a token.
	body := strings.Replace(strings.Replace(authBody, `"card_number":"4111 1111 1111 1111"`, `"token":"4895370000001237"`, 1), `"cid":"123",`, "", 1)
	if w := e.send("/network/v1/authorisations", body, ts, testSecret); w.Code != 200 {
		t.Fatalf("authorisation by token: %d %s", w.Code, w.Body)
	}
	if r := e.svc.got[1].(authorize.Request); r.Token.Digits() != "4895370000001237" || !r.PAN.IsZero() {
		t.Errorf("authorisation by token = %+v", r)
	}
	if w := e.send("/network/v1/reversals", `{"message_id":"r-1","original_message_id":"m-1","token":"4895370000001237"}`, ts, testSecret); w.Code != 200 {
		t.Fatalf("reversal by token: %d %s", w.Code, w.Body)
	}
	if r := e.svc.got[2].(authorize.Reversal); r.Token.Digits() != "4895370000001237" || !r.PAN.IsZero() {
		t.Errorf("reversal by token = %+v", r)
	}
}

func TestServiceErrors(t *testing.T) {
	e := newEnv(t)
	e.svc.authorise = func(authorize.Request) (authorize.Answer, error) {
		return authorize.Answer{}, cp.E("x", cp.Conflict, "network.message.reused", nil)
	}
	if w := e.send("/network/v1/authorisations", authBody, testNow.Unix(), testSecret); w.Code != 409 {
		t.Errorf("conflict: %d", w.Code)
	}
	e.svc.authorise = func(authorize.Request) (authorize.Answer, error) {
		return authorize.Answer{}, cp.E("x", cp.Internal, "", bytes.ErrTooLarge)
	}
	w := e.send("/network/v1/authorisations", authBody, testNow.Unix()+1, testSecret)
	if w.Code != 500 || strings.Contains(w.Body.String(), "too large") {
		t.Errorf("internal: %d %s", w.Code, w.Body)
	}
}
