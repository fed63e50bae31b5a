// Package network is the machine-to-machine HTTP interface the card network (or the
// processor in front of it) calls to authorise, reverse, clear and refund card
// payments in real time (SPEC AC15), and by which the network's token service tells
// the issuer of network tokens (authorize/token.go). It adapts JSON over HTTP to package authorize,
// on its own mux with its own credentials; the member API and the web pages share
// nothing with it. It is served under /network/ on the main listener (see
// cmd/cardportal/serve.go): an operator who wants it on a private interface only puts
// a proxy rule in front, since the signature, not the network path, is what
// authenticates the caller.
//
// Authentication (documented in openapi.json): every request carries
//
//	Network-Timestamp: <unix seconds>
//	Network-Nonce: <16 to 64 printable characters, new for every HTTP request>
//	Network-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + nonce + "." + body)>
//
// The signature is compared in constant time; a timestamp more than Window from the
// server's clock is refused, and so is a nonce already seen within the window (replay
// memory, per instance: across instances the message id's idempotency is what makes
// a replayed request harmless). A resend of a message is therefore signed afresh with
// a new nonce, and gets the first answer. Bodies are limited to MaxBody.
package network

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/safehttp"
)

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the interface's OpenAPI document.
func OpenAPI() []byte { return bytes.Clone(openAPIDoc) }

// Headers of the signature scheme.
const (
	HeaderTimestamp = "Network-Timestamp"
	HeaderSignature = "Network-Signature"
	HeaderNonce     = "Network-Nonce"
	// HeaderReplayed is set on the answer to a message id seen before.
	HeaderReplayed = "Idempotent-Replayed"
)

// MaxBody bounds a request body; a real message is well under 2 KiB.
const MaxBody = 16 << 10

// DefaultWindow is how far a request's timestamp may be from the server's clock.
// The replay memory keeps every signature for two to four windows, so it holds up to
// 4 x Window x requests/s entries of some 20 bytes (at 3,000/s and 2 minutes, 1.4
// million, ~30 MiB): the window is kept short for that reason.
const DefaultWindow = 2 * time.Minute

// Service is what the handlers need from package authorize.
type Service interface {
	Authorise(ctx context.Context, r authorize.Request) (authorize.Answer, error)
	Reverse(ctx context.Context, r authorize.Reversal) (authorize.Answer, error)
	Clear(ctx context.Context, p authorize.Presentment) (authorize.Answer, error)
	Refund(ctx context.Context, p authorize.Presentment) (authorize.Answer, error)
	Token(ctx context.Context, m authorize.TokenMessage) (authorize.Answer, error)
}

// Deps are the handler's dependencies.
type Deps struct {
	Service Service
	// Secret is the HMAC key shared with the network; at least 32 bytes.
	Secret []byte
	Window time.Duration // 0: DefaultWindow
	Now    func() time.Time
	Log    *slog.Logger
}

// Sign returns the Network-Signature header value for body with timestamp ts and
// nonce, as the network computes it (the load command and the tests use it).
func Sign(secret []byte, ts int64, nonce string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write([]byte(nonce))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

type handler struct {
	d      Deps
	replay *replayMemory
}

// NewHandler returns the interface's handler, to be mounted at "/network/".
func NewHandler(d Deps) http.Handler {
	if d.Window <= 0 {
		d.Window = DefaultWindow
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{d: d, replay: newReplayMemory(d.Window)}
	mux := http.NewServeMux()
	for _, rt := range routes(h) {
		mux.Handle(rt.method+" "+rt.path, rt.h)
	}
	return mux
}

type route struct {
	method, path string
	signed       bool
	h            http.Handler
}

// routes lists every route of the interface; openapi_test.go checks the document
// against it in both directions.
func routes(h *handler) []route {
	return []route{
		{"GET", "/network/openapi.json", false, http.HandlerFunc(h.openAPI)},
		{"POST", "/network/v1/authorisations", true, h.signed(h.authorise)},
		{"POST", "/network/v1/reversals", true, h.signed(h.reverse)},
		{"POST", "/network/v1/clearings", true, h.signed(h.clear)},
		{"POST", "/network/v1/refunds", true, h.signed(h.refund)},
		{"POST", "/network/v1/tokens", true, h.signed(h.token)},
	}
}

func (h *handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}

// errorBody is every error answer.
type errorBody struct {
	Error  string          `json:"error"`
	Fields []cp.FieldError `json:"fields,omitempty"`
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	kind := cp.ErrorKind(err)
	status := safehttp.Status(kind)
	if kind == cp.Internal {
		h.d.Log.ErrorContext(r.Context(), "network message", "route", r.Pattern, "err", err)
	}
	var fields []cp.FieldError
	var e *cp.Error
	if errors.As(err, &e) {
		fields = e.Fields
	}
	msg := kind.String()
	if kind == cp.Unauthenticated {
		msg = cp.ErrorMsg(err) // which check failed is the caller's to know: it has the secret
	}
	writeJSON(w, status, errorBody{Error: msg, Fields: fields})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// signed checks the request's signature and timestamp before next sees the body.
func (h *handler) signed(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const op = "network.signed"
		unauth := func(msg string) { h.fail(w, r, cp.E(op, cp.Unauthenticated, msg, nil)) }
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			h.fail(w, r, cp.InvalidFields(op, cp.FieldError{Field: "Content-Type", Msg: "error.invalid"}))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "too_large"})
			return
		}
		tsText := r.Header.Get(HeaderTimestamp)
		ts, err := strconv.ParseInt(tsText, 10, 64)
		if err != nil || len(tsText) > 12 {
			unauth("timestamp")
			return
		}
		nonce := r.Header.Get(HeaderNonce)
		if len(nonce) < 16 || len(nonce) > 64 || !printable(nonce) {
			unauth("nonce")
			return
		}
		sig := r.Header.Get(HeaderSignature)
		if !hmac.Equal([]byte(Sign(h.d.Secret, ts, nonce, body)), []byte(sig)) {
			unauth("signature")
			return
		}
		now := h.d.Now()
		if d := now.Sub(time.Unix(ts, 0)); d > h.d.Window || d < -h.d.Window {
			unauth("timestamp")
			return
		}
		if !h.replay.first(nonce, now) {
			unauth("replayed")
			return
		}
		next(w, r, body)
	})
}

// decode reads exactly one JSON object with no unknown fields.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cp.InvalidFields("network.decode", cp.FieldError{Field: "body", Msg: "error.invalid"})
	}
	if dec.More() {
		return cp.InvalidFields("network.decode", cp.FieldError{Field: "body", Msg: "error.invalid"})
	}
	return nil
}

// Wire types. Amounts are integer minor units of currency.
type (
	// Merchant is where the card was used.
	Merchant struct {
		Name    string `json:"name"`
		MCC     string `json:"mcc"`
		City    string `json:"city,omitempty"`
		Country string `json:"country"`
	}
	// PINBlock is an ISO 9564 PIN block under the zone PIN key, hex-encoded.
	PINBlock struct {
		Format int    `json:"format"`
		Block  string `json:"block"` // hex
	}
	// AuthorisationRequest is the body of POST /network/v1/authorisations.
	AuthorisationRequest struct {
		MessageID  string    `json:"message_id"`
		CardNumber string    `json:"card_number,omitempty"`
		Token      string    `json:"token,omitempty"` // a network token, instead of CardNumber
		Expiry     string    `json:"expiry"`          // MM/YY, the token's with a token
		CID        string    `json:"cid,omitempty"`
		PINBlock   *PINBlock `json:"pin_block,omitempty"`
		Amount     int64     `json:"amount"`
		Currency   string    `json:"currency"`
		Merchant   Merchant  `json:"merchant"`
		Channel    string    `json:"channel"`
	}
	// ReversalRequest is the body of POST /network/v1/reversals.
	ReversalRequest struct {
		MessageID         string `json:"message_id"`
		OriginalMessageID string `json:"original_message_id"`
		CardNumber        string `json:"card_number,omitempty"`
		Token             string `json:"token,omitempty"`
		Amount            int64  `json:"amount,omitempty"`
	}
	// PresentmentRequest is the body of clearings and refunds.
	PresentmentRequest struct {
		MessageID         string   `json:"message_id"`
		OriginalMessageID string   `json:"original_message_id,omitempty"`
		CardNumber        string   `json:"card_number,omitempty"`
		Token             string   `json:"token,omitempty"`
		Amount            int64    `json:"amount"`
		Currency          string   `json:"currency"`
		Merchant          Merchant `json:"merchant"`
		Channel           string   `json:"channel"`
	}
	// TokenMessage is the body of POST /network/v1/tokens, from the network's token
	// service.
	TokenMessage struct {
		MessageID   string `json:"message_id"`
		Token       string `json:"token"`
		TokenExpiry string `json:"token_expiry"` // MM/YY
		Status      string `json:"status"`       // active, suspended, deleted
		Wallet      string `json:"wallet,omitempty"`
		CardNumber  string `json:"card_number"`
		CardExpiry  string `json:"card_expiry"` // MM/YY
	}
	// Response is the answer to every message.
	Response struct {
		MessageID    string `json:"message_id"`
		ResponseCode string `json:"response_code"`
		Approved     bool   `json:"approved"`
		AuthCode     string `json:"auth_code,omitempty"`
	}
)

func (m Merchant) domain() authorize.Merchant {
	return authorize.Merchant{Name: m.Name, MCC: m.MCC, City: m.City, Country: m.Country}
}

// parseNumber parses a card number or a token (field names which); "" is zero and
// left to package authorize, which knows whether the number may be absent.
func parseNumber(fs []cp.FieldError, field, s string) (card.PAN, []cp.FieldError) {
	if s == "" {
		return card.PAN{}, fs
	}
	pan, err := card.ParsePAN(s)
	if err != nil {
		fs = append(fs, cp.FieldError{Field: field, Msg: "error.cardnumber"})
	}
	return pan, fs
}

// parseCard parses a message's card number and token, of which authorize checks
// that exactly one is given.
func parseCard(fs []cp.FieldError, number, token string) (pan, tok card.PAN, _ []cp.FieldError) {
	pan, fs = parseNumber(fs, "card_number", number)
	tok, fs = parseNumber(fs, "token", token)
	return pan, tok, fs
}

func parseExpiry(fs []cp.FieldError, field, s string) (card.Expiry, []cp.FieldError) {
	exp, err := card.ParseExpiry(s)
	if err != nil {
		fs = append(fs, cp.FieldError{Field: field, Msg: "error.invalid"})
	}
	return exp, fs
}

func (h *handler) answer(w http.ResponseWriter, r *http.Request, a authorize.Answer, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a.Replayed {
		w.Header().Set(HeaderReplayed, "true")
	}
	writeJSON(w, http.StatusOK, Response{MessageID: a.MessageID, ResponseCode: string(a.Code), Approved: a.Code == authorize.Approved, AuthCode: a.AuthCode})
}

func (h *handler) authorise(w http.ResponseWriter, r *http.Request, body []byte) {
	var in AuthorisationRequest
	if err := decode(body, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	pan, tok, fs := parseCard(nil, in.CardNumber, in.Token)
	exp, fs := parseExpiry(fs, "expiry", in.Expiry)
	req := authorize.Request{
		MessageID: in.MessageID, PAN: pan, Token: tok, Expiry: exp, CID: in.CID, Amount: in.Amount, Currency: in.Currency,
		Merchant: in.Merchant.domain(), Channel: account.Channel(in.Channel),
	}
	if in.PINBlock != nil {
		b, err := hex.DecodeString(in.PINBlock.Block)
		if err != nil || (len(b) != 8 && len(b) != 16) {
			fs = append(fs, cp.FieldError{Field: "pin_block", Msg: "error.invalid"})
		}
		req.PINBlock, req.PINFormat = b, in.PINBlock.Format
	}
	if len(in.CID) > 4 {
		fs = append(fs, cp.FieldError{Field: "cid", Msg: "error.invalid"})
	}
	if len(fs) > 0 {
		h.fail(w, r, cp.InvalidFields("network.authorise", fs...))
		return
	}
	a, err := h.d.Service.Authorise(r.Context(), req)
	h.answer(w, r, a, err)
}

func (h *handler) reverse(w http.ResponseWriter, r *http.Request, body []byte) {
	var in ReversalRequest
	if err := decode(body, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	pan, tok, fs := parseCard(nil, in.CardNumber, in.Token)
	if len(fs) > 0 {
		h.fail(w, r, cp.InvalidFields("network.reverse", fs...))
		return
	}
	a, err := h.d.Service.Reverse(r.Context(), authorize.Reversal{MessageID: in.MessageID, OriginalID: in.OriginalMessageID, PAN: pan, Token: tok, Amount: in.Amount})
	h.answer(w, r, a, err)
}

func (h *handler) presentment(body []byte) (authorize.Presentment, error) {
	var in PresentmentRequest
	if err := decode(body, &in); err != nil {
		return authorize.Presentment{}, err
	}
	pan, tok, fs := parseCard(nil, in.CardNumber, in.Token)
	if len(fs) > 0 {
		return authorize.Presentment{}, cp.InvalidFields("network.presentment", fs...)
	}
	return authorize.Presentment{MessageID: in.MessageID, OriginalID: in.OriginalMessageID, PAN: pan, Token: tok, Amount: in.Amount,
		Currency: in.Currency, Merchant: in.Merchant.domain(), Channel: account.Channel(in.Channel)}, nil
}

func (h *handler) clear(w http.ResponseWriter, r *http.Request, body []byte) {
	p, err := h.presentment(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.d.Service.Clear(r.Context(), p)
	h.answer(w, r, a, err)
}

func (h *handler) refund(w http.ResponseWriter, r *http.Request, body []byte) {
	p, err := h.presentment(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.d.Service.Refund(r.Context(), p)
	h.answer(w, r, a, err)
}

func (h *handler) token(w http.ResponseWriter, r *http.Request, body []byte) {
	var in TokenMessage
	if err := decode(body, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	pan, tok, fs := parseCard(nil, in.CardNumber, in.Token)
	tokExp, fs := parseExpiry(fs, "token_expiry", in.TokenExpiry)
	exp, fs := parseExpiry(fs, "card_expiry", in.CardExpiry)
	if len(fs) > 0 {
		h.fail(w, r, cp.InvalidFields("network.token", fs...))
		return
	}
	a, err := h.d.Service.Token(r.Context(), authorize.TokenMessage{MessageID: in.MessageID, Token: tok, TokenExpiry: tokExp,
		Status: authorize.TokenStatus(in.Status), Wallet: in.Wallet, PAN: pan, Expiry: exp})
	h.answer(w, r, a, err)
}

// replayMemory remembers the signatures seen recently, in two generations that rotate
// every two windows: a timestamp is accepted for two windows (Window either side of
// the server's clock), and an entry lives between two and four windows, so no
// signature is forgotten while its timestamp could still be accepted.
type replayMemory struct {
	mu        sync.Mutex
	window    time.Duration
	rotated   time.Time
	cur, prev map[uint64]struct{}
}

func newReplayMemory(window time.Duration) *replayMemory {
	return &replayMemory{window: window, cur: map[uint64]struct{}{}, prev: map[uint64]struct{}{}}
}

// first records nonce and reports whether it was not seen before. It keeps 64 bits of
// the nonce's SHA-256 (the nonce was signed, so only the network chose it), which
// tell the nonces of even billions of requests apart.
func (m *replayMemory) first(nonce string, now time.Time) bool {
	sum := sha256.Sum256([]byte(nonce))
	k := binary.LittleEndian.Uint64(sum[:8])
	m.mu.Lock()
	defer m.mu.Unlock()
	switch since := now.Sub(m.rotated); {
	case since >= 4*m.window:
		// Idle that long: everything remembered is out of its window anyway.
		m.prev, m.cur, m.rotated = map[uint64]struct{}{}, map[uint64]struct{}{}, now
	case since >= 2*m.window:
		m.prev, m.cur, m.rotated = m.cur, map[uint64]struct{}{}, now
	}
	if _, ok := m.cur[k]; ok {
		return false
	}
	if _, ok := m.prev[k]; ok {
		return false
	}
	m.cur[k] = struct{}{}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
