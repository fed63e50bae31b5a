// Package api is the versioned JSON API the issuer's mobile app talks to (SPEC PL3):
// registration linked to a card, sign-in with bearer-token sessions, the member's
// accounts, sessions and security history. The document describing it, openapi.json,
// is embedded and served at /api/openapi.json; a contract test holds it to the
// handlers.
//
// The API follows the style of Tailscale's safeweb for non-browser clients: it accepts
// only JSON bodies and bearer tokens (no cookie is ever read, so cross-site request
// forgery has nothing to ride on), every response is JSON that is never cached, and an
// error carries a kind, a translated user-safe message and field problems — anything
// the caller should not see becomes a bare "internal" error whose details go to the
// log under the request ID.
package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/safehttp"
	"github.com/cardportal/cardportal/statement"
)

// openAPIDoc is the hand-written OpenAPI 3.1 description of every route in routes.
//
//go:embed openapi.json
var openAPIDoc []byte

// Deps are what the API needs from the rest of the system.
type Deps struct {
	Identity *identity.Service
	Accounts account.Store
	Log      *slog.Logger     // nil discards
	Now      func() time.Time // nil means time.Now
	// Cards services members' cards (SPEC AC7-AC10).
	Cards *cardservice.Service

	// Ledger lists the accounts' transactions (SPEC AC2).
	Ledger account.Ledger
	// Details, Alerts and Disputes serve personal details, alert preferences and
	// disputes (SPEC AC11-AC13, api/details.go).
	Details  *details.Service
	Alerts   *alerts.Service
	Disputes *disputes.Service
	// Payments runs payments (SPEC AC4).
	Payments *payment.Service
	// Statements lists and renders statements (SPEC AC3); nil answers not found.
	Statements *statement.Service
	// Rewards and Offers are points, benefits and merchant offers (SPEC AC5, AC6,
	// api/rewards.go); nil answers not found.
	Rewards *rewards.Service
	Offers  *offers.Service
}

// server holds the dependencies every handler shares.
type server struct {
	ident *identity.Service
	accts account.Store
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux
	cards *cardservice.Service

	ledger   account.Ledger
	payments *payment.Service

	details  *details.Service
	alerts   *alerts.Service
	disputes *disputes.Service

	statements *statement.Service

	rewards *rewards.Service
	offers  *offers.Service
}

// NewHandler returns the API's handler. It serves everything under /api/: the routes
// listed in routes.go, and JSON 404 and 405 answers for anything else. It expects to
// run inside safehttp.Observe (request IDs, client address) like the rest of the
// program, but still works without it.
func NewHandler(d Deps) http.Handler {
	s := &server{ident: d.Identity, accts: d.Accounts, log: d.Log, now: d.Now, mux: http.NewServeMux()}
	s.ledger = d.Ledger
	s.cards = d.Cards
	s.payments = d.Payments
	s.statements = d.Statements
	s.rewards, s.offers = d.Rewards, d.Offers
	s.details, s.alerts, s.disputes = d.Details, d.Alerts, d.Disputes
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, rt := range routes {
		s.mux.Handle(rt.pattern(), s.endpoint(rt))
	}
	s.mux.Handle("/api/", s.endpoint(route{handle: (*server).unrouted}))
	return s.mux
}

// call is one request as a handler sees it.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	loc   locale.Locale
	src   identity.Source
	sess  identity.Session // the caller's session on authenticated routes
	reqID string
}

// endpoint turns a route into an http.Handler: it sets the headers every response
// carries, authenticates the caller when the route needs it, and writes the handler's
// result or error as JSON. Handlers never write to the ResponseWriter themselves, so
// no route can forget a header or leak an error's text.
func (s *server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		// Responses hold balances, sessions and tokens: no cache, shared or private,
		// may keep them.
		h.Set("Cache-Control", "no-store")
		c := &call{w: w, r: r, reqID: safehttp.RequestID(r.Context())}
		if c.reqID == "" {
			c.reqID = newRequestID()
		}
		// The API's language comes only from Accept-Language: an app has no language
		// cookie, and reading cookies at all would invite cross-site requests.
		c.loc = locale.Negotiate("", r.Header.Get("Accept-Language"))
		c.src = identity.Source{IP: clientIP(r), UserAgent: r.UserAgent(), Client: identity.App, Locale: c.loc.Code()}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "api panic", "request_id", c.reqID, "route", r.Pattern,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.writeError(c, cp.E("api", cp.Internal, "", errors.New("panic")))
			}
		}()
		if rt.auth {
			if err := s.authenticate(c); err != nil {
				s.writeError(c, err)
				return
			}
		}
		status, body, err := rt.handle(s, c)
		if err != nil {
			s.writeError(c, err)
			return
		}
		s.write(c, status, body)
	})
}

// write sends body as JSON with status; a nil body sends none (204).
func (s *server) write(c *call, status int, body any) {
	if body == nil {
		c.w.WriteHeader(status)
		return
	}
	if d, ok := body.(download); ok {
		d.write(c.w, status)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		s.writeError(c, cp.E("api.write", cp.Internal, "", err))
		return
	}
	c.w.WriteHeader(status)
	c.w.Write(append(b, '\n'))
}

// unrouted answers requests no route matches: 405 with Allow when the path exists
// for other methods, 404 otherwise, both as JSON rather than ServeMux's plain text.
func (s *server) unrouted(c *call) (int, any, error) {
	var allow []string
	for _, rt := range routes {
		probe := &http.Request{Method: rt.method, URL: c.r.URL, Host: c.r.Host, Header: http.Header{}}
		if _, p := s.mux.Handler(probe); p == rt.pattern() {
			allow = append(allow, rt.method)
			if rt.method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		slices.Sort(allow)
		c.w.Header().Set("Allow", strings.Join(allow, ", "))
		return 0, nil, &problem{status: http.StatusMethodNotAllowed, code: "method_not_allowed", msg: "error.method"}
	}
	return 0, nil, &problem{status: http.StatusNotFound, code: "not_found", msg: "error.notfound"}
}

// authenticate reads the bearer token and loads the caller's session. Only the
// Authorization header counts: cookies are never read, so a browser cannot be made
// to send credentials on someone else's behalf.
func (s *server) authenticate(c *call) error {
	const op = "api.authenticate"
	tok, ok := bearerToken(c.r.Header)
	if !ok {
		return cp.E(op, cp.Unauthenticated, "error.unauthorized", nil)
	}
	authn := s.ident.Authenticate
	if heldRoutes[c.r.Pattern] { // password.go
		authn = s.ident.AuthenticateForPasswordChange
	}
	sess, err := authn(c.r.Context(), tok)
	if err != nil {
		return err
	}
	c.sess = sess
	c.src.Client = sess.Client
	return nil
}

// bearerToken extracts the token of "Authorization: Bearer <token>" (RFC 6750). A
// repeated header is refused rather than guessed between.
func bearerToken(h http.Header) (identity.Token, bool) {
	vals := h.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	tok = strings.TrimSpace(tok)
	// Tokens are 43 characters; anything much longer is not ours and need not be
	// hashed or looked up.
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 128 || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return identity.Token(tok), true
}

// clientIP is the address safehttp.Observe determined, or the peer's address when the
// handler runs without it, so per-source throttling never lumps everyone together.
func clientIP(r *http.Request) string {
	if ip := safehttp.ClientIP(r.Context()); ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func newRequestID() string {
	// Only used without safehttp.Observe; the time is unique enough to find a log line.
	return "api-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// problem is a failure of the HTTP exchange itself — wrong media type, unreadable
// JSON, unknown route — which has no domain error kind.
type problem struct {
	status int
	code   string
	msg    string // locale message ID
	err    error  // for logs
}

func (p *problem) Error() string {
	if p.err != nil {
		return p.code + ": " + p.err.Error()
	}
	return p.code
}

func (p *problem) Unwrap() error { return p.err }

// errorBody is the JSON form of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code              string       `json:"code"`
	MessageID         string       `json:"message_id"`
	Message           string       `json:"message"`
	Fields            []fieldError `json:"fields"`
	RetryAfterSeconds *int         `json:"retry_after_seconds,omitempty"`
	LockedUntil       string       `json:"locked_until,omitempty"`
	RequestID         string       `json:"request_id"`
}

type fieldError struct {
	Field     string `json:"field"`
	MessageID string `json:"message_id"`
	Message   string `json:"message"`
}

// apiField renames the identity package's form field names to the JSON names of this
// API, so a client can point at the member's input from the error alone.
var apiField = map[string]string{
	"national_id": "national_id_last4",
	"confirm":     "password_confirm",
	"questions":   "security_questions",
	"answer1":     "security_questions[0].answer",
	"answer2":     "security_questions[1].answer",
	"answer3":     "security_questions[2].answer",
}

// writeError sends err as the JSON error body. Only what the error model marks as
// user-safe leaves the server: the kind, the message ID and field problems. Internal
// errors are logged with the request ID and reach the client as the generic message.
func (s *server) writeError(c *call, err error) {
	now := s.now()
	d := errorDetail{Fields: []fieldError{}, RequestID: c.reqID}
	var status int
	var p *problem
	if errors.As(err, &p) {
		status, d.Code, d.MessageID = p.status, p.code, p.msg
	} else {
		kind := cp.ErrorKind(err)
		status, d.Code, d.MessageID = safehttp.Status(kind), kind.String(), cp.ErrorMsg(err)
		for _, f := range cp.ErrorFields(err) {
			name := f.Field
			if n, ok := apiField[name]; ok {
				name = n
			}
			d.Fields = append(d.Fields, fieldError{Field: name, MessageID: f.Msg, Message: s.text(c.loc, f.Msg, "")})
		}
	}
	if status >= 500 {
		s.log.ErrorContext(c.r.Context(), "api error", "request_id", c.reqID, "route", c.r.Pattern, "err", err)
		status = http.StatusInternalServerError
		d = errorDetail{Code: cp.Internal.String(), MessageID: "error.internal", Fields: []fieldError{}, RequestID: c.reqID}
	}
	var lockedTime string
	if until := cp.ErrorUntil(err); status != http.StatusInternalServerError && until.After(now) {
		// The same rounding as safehttp.RetryAfter, so header and body agree.
		secs := int(until.Sub(now).Seconds()) + 1
		d.RetryAfterSeconds = &secs
		safehttp.RetryAfter(c.w, err, now)
		if cp.ErrorKind(err) == cp.Locked {
			d.LockedUntil = until.UTC().Format(time.RFC3339)
			// The app does not tell us the member's zone; UTC, labelled, is never wrong.
			lockedTime = c.loc.DateTime(until, time.UTC) + " UTC"
		}
	}
	d.Message = s.text(c.loc, d.MessageID, lockedTime)
	if status == http.StatusUnauthorized {
		// RFC 6750: a 401 names the scheme, and says when a presented token was bad.
		v := `Bearer realm="cardportal"`
		if _, ok := bearerToken(c.r.Header); ok && cp.ErrorMsg(err) == "signin.expired" {
			v += `, error="invalid_token"`
		}
		c.w.Header().Set("WWW-Authenticate", v)
	}
	b, mErr := json.Marshal(errorBody{Error: d})
	if mErr != nil {
		// Cannot happen for these types; keep the promise of a JSON body anyway.
		b = []byte(`{"error":{"code":"internal","message_id":"error.internal","message":"","fields":[],"request_id":""}}`)
		status = http.StatusInternalServerError
	}
	c.w.WriteHeader(status)
	c.w.Write(append(b, '\n'))
}

// text translates a message ID, filling every placeholder the catalogue's messages
// use from what the server knows: the password policy's figures, the contact number,
// and the end of a lock.
func (s *server) text(loc locale.Locale, id, lockedTime string) string {
	pw := s.ident.Config().Password
	return loc.T(id,
		"min", strconv.Itoa(pw.MinLength),
		"max", strconv.Itoa(pw.MaxLength),
		"n", strconv.Itoa(pw.History),
		"phone", loc.ContactPhone(),
		"time", lockedTime,
	)
}

// compactJSON is the embedded document without its indentation.
func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		panic("api: openapi.json is not valid JSON: " + err.Error())
	}
	return buf.Bytes()
}
