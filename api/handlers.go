package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// openAPI serves the embedded document. It is compacted once: its indentation is for
// the people who edit it, not for the wire.
func (s *server) openAPI(c *call) (int, any, error) {
	return http.StatusOK, openAPICompact, nil
}

var openAPICompact = compactJSON(openAPIDoc)

// --- Registration ---

type registrationCardRequest struct {
	CardNumber      string `json:"card_number"`
	CID             string `json:"cid"`
	Expiry          string `json:"expiry"`
	Name            string `json:"name"`
	BirthDate       string `json:"birth_date"`
	NationalIDLast4 string `json:"national_id_last4"`
	BasicBirthDate  string `json:"basic_birth_date"`
}

type registrationCardResponse struct {
	FlowToken string `json:"flow_token"`
	CardLast  string `json:"card_last"`
}

// registerCard is registration's first step. The card details go to identity as
// typed, so the web pages and the app validate them identically; none of them is
// ever repeated back, only the last digits the issuer shows on screens anyway.
func (s *server) registerCard(c *call) (int, any, error) {
	var in registrationCardRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	ctx := c.r.Context()
	tok, err := s.ident.VerifyCard(ctx, identity.CardDetails{
		CardNumber: in.CardNumber, Code: in.CID, Expiry: in.Expiry, Name: in.Name,
		BirthDate: in.BirthDate, NationalID: in.NationalIDLast4, BasicBirth: in.BasicBirthDate,
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	ch, err := s.ident.RegistrationCard(ctx, tok)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, registrationCardResponse{FlowToken: string(tok), CardLast: ch.CardLast}, nil
}

type questionJSON struct {
	QuestionID string `json:"question_id"`
	Text       string `json:"text"`
}

// securityQuestions lists the questions registration offers, in the caller's
// language: the app cannot build the form without their IDs.
func (s *server) securityQuestions(c *call) (int, any, error) {
	out := struct {
		Required  int            `json:"required"`
		Questions []questionJSON `json:"questions"`
	}{Required: identity.QuestionsRequired, Questions: []questionJSON{}}
	for _, q := range identity.QuestionIDs {
		out.Questions = append(out.Questions, questionJSON{QuestionID: q, Text: c.loc.T("q." + q)})
	}
	return http.StatusOK, out, nil
}

type questionAnswer struct {
	QuestionID string `json:"question_id"`
	Answer     string `json:"answer"`
}

type registrationCompleteRequest struct {
	FlowToken         string           `json:"flow_token"`
	UserID            string           `json:"user_id"`
	Password          string           `json:"password"`
	PasswordConfirm   string           `json:"password_confirm"`
	SecurityQuestions []questionAnswer `json:"security_questions"`
	Client            string           `json:"client"`
	DeviceID          string           `json:"device_id"`
}

// registerComplete is registration's second step; it signs the new member in.
func (s *server) registerComplete(c *call) (int, any, error) {
	var in registrationCompleteRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	// The client is checked first: once Register succeeds the session exists, so a bad
	// client value cannot be reported alongside the other fields.
	client, err := parseClient(in.Client)
	if err != nil {
		return 0, nil, err
	}
	c.src.Client, c.src.DeviceID = client, in.DeviceID
	cred := identity.Credentials{UserID: in.UserID, Password: in.Password, Confirm: in.PasswordConfirm}
	for _, qa := range in.SecurityQuestions {
		cred.Questions = append(cred.Questions, qa.QuestionID)
		cred.Answers = append(cred.Answers, qa.Answer)
	}
	_, tok, sess, err := s.ident.Register(c.r.Context(), identity.Token(in.FlowToken), cred, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, newSessionResponse(tok, sess), nil
}

type passwordCheckRequest struct {
	UserID   string `json:"user_id"`
	Password string `json:"password"`
}

type ruleJSON struct {
	Rule    string `json:"rule"`
	Met     bool   `json:"met"`
	Message string `json:"message"`
}

// checkPassword gives live feedback on a password being chosen: every rule of the
// policy, met or not, so the app can show a checklist. It only evaluates the policy;
// nothing is stored or looked up, and the password is not echoed.
func (s *server) checkPassword(c *call) (int, any, error) {
	var in passwordCheckRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	broken := s.ident.PasswordProblems(in.Password, in.UserID)
	out := struct {
		Rules []ruleJSON `json:"rules"`
	}{Rules: []ruleJSON{}}
	for _, r := range policyRules(s.ident.Config().Password) {
		out.Rules = append(out.Rules, ruleJSON{
			Rule:    string(r),
			Met:     !slices.Contains(broken, r),
			Message: s.text(c.loc, "pw.rule."+string(r), ""),
		})
	}
	return http.StatusOK, out, nil
}

// policyRules lists the rules the policy enforces, in the order the checklist shows
// them. The history rule is left out: it needs an existing member's stored hashes, and
// at registration there are none, so it could only ever show as met.
func policyRules(p identity.PasswordPolicy) []identity.Rule {
	var rs []identity.Rule
	add := func(on bool, r identity.Rule) {
		if on {
			rs = append(rs, r)
		}
	}
	add(p.MinLength > 0, identity.RuleLength)
	add(p.MaxLength > 0, identity.RuleMaxLength)
	add(p.RequireUpper, identity.RuleUpper)
	add(p.RequireLower, identity.RuleLower)
	add(p.RequireDigitSymbol, identity.RuleDigitSymbol)
	add(p.NoLeadingSymbol, identity.RuleFirstChar)
	add(p.NoUserID, identity.RuleUserID)
	return rs
}

// --- Sessions ---

// The API's names for identity's clients: "browser" reads better to an app developer
// than the web pages' internal "web".
const (
	clientApp     = "app"
	clientBrowser = "browser"
)

// parseClient maps the request's client to identity's. It decides the idle timeout,
// so there is no default: a missing value is the caller's mistake.
func parseClient(v string) (identity.Client, error) {
	switch v {
	case clientApp:
		return identity.App, nil
	case clientBrowser:
		return identity.Web, nil
	}
	return "", cp.InvalidFields("api.client", cp.FieldError{Field: "client", Msg: "error.field.invalid"})
}

func clientName(c identity.Client) string {
	if c == identity.App {
		return clientApp
	}
	return clientBrowser
}

type signInRequest struct {
	UserID   string `json:"user_id"`
	Password string `json:"password"`
	Client   string `json:"client"`
	DeviceID string `json:"device_id"`
}

type sessionJSON struct {
	ID                 int64     `json:"id"`
	Client             string    `json:"client"`
	CreatedAt          time.Time `json:"created_at"`
	ExpiresAt          time.Time `json:"expires_at"`
	IdleTimeoutSeconds int64     `json:"idle_timeout_seconds"`
	// MustChangePassword: the password has expired (SPEC ID11); only
	// /api/v1/password/change and sign-out accept this session.
	MustChangePassword bool `json:"must_change_password"`
}

type sessionResponse struct {
	Token   string      `json:"token"`
	Session sessionJSON `json:"session"`
}

// newSessionResponse is the only place a token goes into a response: the one just
// issued, once, to the client that signed in.
func newSessionResponse(tok identity.Token, s identity.Session) sessionResponse {
	return sessionResponse{Token: string(tok), Session: sessionJSON{
		ID: s.ID, Client: clientName(s.Client), CreatedAt: s.CreatedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
		IdleTimeoutSeconds: int64(s.IdleTimeout / time.Second), MustChangePassword: s.MustChangePassword,
	}}
}

// signIn is User ID and password sign-in. Identity gives a wrong User ID and a wrong
// password the same error, and the error body carries nothing else, so the response
// does not tell whether the account exists.
func (s *server) signIn(c *call) (int, any, error) {
	var in signInRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	var fields []cp.FieldError
	if strings.TrimSpace(in.UserID) == "" {
		fields = append(fields, cp.FieldError{Field: "user_id", Msg: "error.field.required"})
	}
	if in.Password == "" {
		fields = append(fields, cp.FieldError{Field: "password", Msg: "error.field.required"})
	}
	client, err := parseClient(in.Client)
	if err != nil {
		fields = append(fields, cp.ErrorFields(err)...)
	}
	if len(fields) > 0 {
		return 0, nil, cp.InvalidFields("api.signIn", fields...)
	}
	c.src.Client, c.src.DeviceID = client, in.DeviceID
	res, err := s.ident.Login(c.r.Context(), in.UserID, in.Password, c.src)
	if err != nil {
		return 0, nil, err
	}
	if res.StepUp != nil {
		// The password was right but a second factor is needed (SPEC ID7): no session
		// yet, only the flow to complete at /api/v1/sessions/verify.
		return http.StatusOK, newStepUpResponse(c, res.StepUp), nil
	}
	return http.StatusCreated, newSessionResponse(res.Token, res.Session), nil
}

type sessionListItem struct {
	ID                 int64     `json:"id"`
	Client             string    `json:"client"`
	CreatedAt          time.Time `json:"created_at"`
	LastSeenAt         time.Time `json:"last_seen_at"`
	ExpiresAt          time.Time `json:"expires_at"`
	IdleTimeoutSeconds int64     `json:"idle_timeout_seconds"`
	IP                 string    `json:"ip"`
	UserAgent          string    `json:"user_agent"`
	Current            bool      `json:"current"`
}

// listSessions shows the member's live sessions so they can spot one that is not
// theirs (SPEC ID10).
func (s *server) listSessions(c *call) (int, any, error) {
	all, err := s.ident.Sessions(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Sessions []sessionListItem `json:"sessions"`
	}{Sessions: []sessionListItem{}}
	for _, x := range all {
		out.Sessions = append(out.Sessions, sessionListItem{
			ID: x.ID, Client: clientName(x.Client), CreatedAt: x.CreatedAt.UTC(), LastSeenAt: x.LastSeenAt.UTC(),
			ExpiresAt: x.ExpiresAt.UTC(), IdleTimeoutSeconds: int64(x.IdleTimeout / time.Second),
			IP: x.IP, UserAgent: x.UserAgent, Current: x.ID == c.sess.ID,
		})
	}
	return http.StatusOK, out, nil
}

// signOut ends the caller's own session on the server: the token is dead at once,
// whatever copy of it the device may keep.
func (s *server) signOut(c *call) (int, any, error) {
	if err := s.ident.Logout(c.r.Context(), c.sess, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// revokeSession ends one of the member's sessions. Another member's session, or an
// ID that is not a number, is simply not found: the answer must not confirm that a
// session exists elsewhere.
func (s *server) revokeSession(c *call) (int, any, error) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, cp.E("api.revokeSession", cp.NotFound, "", nil)
	}
	if err := s.ident.RevokeSession(c.r.Context(), c.sess.MemberID, id, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// revokeOthers is "sign out everywhere else".
func (s *server) revokeOthers(c *call) (int, any, error) {
	n, err := s.ident.RevokeOtherSessions(c.r.Context(), c.sess.MemberID, c.sess.ID, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, struct {
		Revoked int `json:"revoked"`
	}{n}, nil
}

// --- The member and their accounts ---

// member loads the caller's member record. A live session whose member cannot be
// found is the server's inconsistency, not something the caller can act on, so it is
// an internal error rather than a 404.
func (s *server) member(c *call) (identity.Member, error) {
	m, err := s.ident.Member(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return identity.Member{}, cp.E("api.member", cp.Internal, "", err)
	}
	return m, nil
}

type meResponse struct {
	UserID      string `json:"user_id"`
	Name        string `json:"name"`
	MaskedEmail string `json:"masked_email"`
}

// me identifies the signed-in member. The email is masked: the app only needs to
// show the member which address notices go to.
func (s *server) me(c *call) (int, any, error) {
	m, err := s.member(c)
	if err != nil {
		return 0, nil, err
	}
	masked := ""
	if m.Email != "" {
		masked = notify.MaskAddress(m.Email)
	}
	return http.StatusOK, meResponse{UserID: m.UserID, Name: m.Name, MaskedEmail: masked}, nil
}

type accountJSON struct {
	AccountID       int64      `json:"account_id"`
	Product         string     `json:"product"`
	Currency        string     `json:"currency"`
	Balance         int64      `json:"balance"`
	AvailableCredit int64      `json:"available_credit"`
	Pending         int64      `json:"pending"`
	CreditLimit     int64      `json:"credit_limit"`
	PaymentDue      *string    `json:"payment_due"`
	MinimumDue      int64      `json:"minimum_due"`
	StmtBalance     *int64     `json:"statement_balance"` // null before the first statement
	StmtDate        *string    `json:"statement_date"`
	PointsBalance   *int64     `json:"points_balance"` // null without a rewards programme (api/rewards.go)
	Cards           []cardJSON `json:"cards"`
}

type cardJSON struct {
	CardID     int64  `json:"card_id"`
	LastDigits string `json:"last_digits"`
	HolderName string `json:"holder_name"`
	Basic      bool   `json:"basic"`
	State      string `json:"state"`
	Expiry     string `json:"expiry"`
}

// accounts is the dashboard's overview (SPEC AC1). Amounts are integer minor units
// of the account's currency: floats would round money, and the app formats amounts
// for its own locale.
func (s *server) accounts(c *call) (int, any, error) {
	ctx := c.r.Context()
	sums, err := s.accts.Summaries(ctx, c.sess.CardholderID)
	if err != nil {
		return 0, nil, cp.E("api.accounts", cp.Internal, "", err)
	}
	out := struct {
		Accounts []accountJSON `json:"accounts"`
	}{Accounts: []accountJSON{}}
	for _, a := range sums {
		out.Accounts = append(out.Accounts, newAccountJSON(a))
	}
	if err := s.pointsBalances(c, c.sess.CardholderID, out.Accounts); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func newAccountJSON(a account.Summary) accountJSON {
	j := accountJSON{
		AccountID: a.AccountID, Product: a.ProductName, Currency: a.Currency, Balance: a.Balance,
		AvailableCredit: a.Available(), Pending: a.Pending, CreditLimit: a.CreditLimit, MinimumDue: a.MinimumDue,
		Cards: []cardJSON{},
	}
	if !a.PaymentDue.IsZero() {
		d := a.PaymentDue.Format(time.DateOnly)
		j.PaymentDue = &d
	}
	if !a.StatementDate.IsZero() {
		d := a.StatementDate.Format(time.DateOnly)
		j.StmtBalance, j.StmtDate = &a.StatementBalance, &d
	}
	for _, k := range a.Cards {
		j.Cards = append(j.Cards, cardJSON{
			CardID: k.CardID, LastDigits: k.Last, HolderName: k.HolderName, Basic: k.Basic, State: k.State, Expiry: k.Expiry,
		})
	}
	return j
}

// --- Security history ---

type eventJSON struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	Message   string    `json:"message"`
	At        time.Time `json:"at"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
}

const (
	defaultEvents = 20
	maxEvents     = 100
)

// securityEvents shows the member's recent security history (SPEC ID14). Event
// details are internal notes and stay out; the kind and its translation say enough.
func (s *server) securityEvents(c *call) (int, any, error) {
	limit := defaultEvents
	if q := c.r.URL.Query(); q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxEvents {
			return 0, nil, cp.InvalidFields("api.securityEvents", cp.FieldError{Field: "limit", Msg: "error.limit"})
		}
		limit = n
	}
	evs, err := s.ident.Events(c.r.Context(), c.sess.MemberID, limit)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Events []eventJSON `json:"events"`
	}{Events: []eventJSON{}}
	for _, e := range evs {
		out.Events = append(out.Events, eventJSON{
			ID: e.ID, Kind: string(e.Kind), Message: eventText(c, e.Kind), At: e.At.UTC(), IP: e.IP, UserAgent: e.UserAgent,
		})
	}
	return http.StatusOK, out, nil
}

// eventText translates an event kind; kinds without a text of their own (added to
// identity before the catalogue caught up) show the generic one rather than an ID.
func eventText(c *call, k identity.EventKind) string {
	id := "event." + string(k)
	if !locale.HasMessage(id) {
		id = "event.other"
	}
	return c.loc.T(id)
}
