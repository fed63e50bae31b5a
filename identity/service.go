package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/passhash"
)

// Config is the identity policy. Zero fields take the defaults of DefaultConfig.
type Config struct {
	Password    PasswordPolicy
	MaxFailures int           // consecutive wrong passwords before a lock
	LockFor     time.Duration // how long a lock lasts

	// Per-source throttling slows one address trying many accounts (credential
	// stuffing) and many cards (card testing), across every instance.
	SignInPerSource   int
	SignInWindow      time.Duration
	RegisterPerSource int
	RegisterPerCard   int
	RegisterWindow    time.Duration

	WebIdle     time.Duration
	AppIdle     time.Duration
	SessionLife time.Duration // absolute
	FlowLife    time.Duration // how long a registration may take
	// TouchEvery bounds how often a session's last-seen time is written: every request
	// writing it would turn each read into a write.
	TouchEvery time.Duration
	// MFA is the second-factor and step-up policy (SPEC ID7).
	MFA MFAConfig
	// LicenceVersion is the licence agreement version app installations must accept
	// before a session (SPEC ID12, licence.go); empty requires none.
	LicenceVersion string
	// Recovery is the forgotten User ID and password policy (SPEC ID8, ID9).
	Recovery RecoveryConfig
}

// DefaultConfig is SPEC ID5, ID6 and ID10.
var DefaultConfig = Config{
	Password:          DefaultPasswordPolicy,
	MaxFailures:       3,
	LockFor:           30 * time.Minute,
	SignInPerSource:   30,
	SignInWindow:      time.Minute,
	RegisterPerSource: 20,
	RegisterPerCard:   5,
	RegisterWindow:    time.Hour,
	WebIdle:           15 * time.Minute,
	AppIdle:           5 * time.Minute,
	SessionLife:       12 * time.Hour,
	FlowLife:          20 * time.Minute,
	TouchEvery:        30 * time.Second,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.Password.MinLength == 0 {
		maxAge := c.Password.MaxAge // a policy of only a maximum age keeps it
		c.Password = d.Password
		c.Password.MaxAge = maxAge
	}
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.MaxFailures, d.MaxFailures)
	setD(&c.LockFor, d.LockFor)
	set(&c.SignInPerSource, d.SignInPerSource)
	setD(&c.SignInWindow, d.SignInWindow)
	set(&c.RegisterPerSource, d.RegisterPerSource)
	set(&c.RegisterPerCard, d.RegisterPerCard)
	setD(&c.RegisterWindow, d.RegisterWindow)
	setD(&c.WebIdle, d.WebIdle)
	setD(&c.AppIdle, d.AppIdle)
	setD(&c.SessionLife, d.SessionLife)
	setD(&c.FlowLife, d.FlowLife)
	setD(&c.TouchEvery, d.TouchEvery)
	c.MFA = c.MFA.withDefaults()
	c.Recovery = c.Recovery.withDefaults()
	return c
}

// Service runs registration, sign-in and sessions.
type Service struct {
	store    Store
	hsm      cardcrypto.HSM
	hasher   *passhash.Hasher
	notifier notify.Notifier
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	// webauthn is the passkey relying party; nil until EnablePasskeys (passkey.go).
	webauthn   *webauthn.WebAuthn
	passkeyCfg PasskeyConfig
}

// NewService returns a Service. now is the clock (injected so tests can move time).
func NewService(store Store, hsm cardcrypto.HSM, hasher *passhash.Hasher, n notify.Notifier, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: store, hsm: hsm, hasher: hasher, notifier: n, cfg: cfg.withDefaults(), now: now, log: log}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Token is a bearer secret (a session or flow token). It prints masked.
type Token string

func (Token) String() string       { return "[token]" }
func (Token) LogValue() slog.Value { return slog.StringValue("[token]") }
func (Token) GoString() string     { return "[token]" }
func (t Token) hash() []byte       { h := sha256.Sum256([]byte(t)); return h[:] }
func (t Token) valid() bool        { return len(t) == 43 && base64OK(string(t)) }
func base64OK(s string) bool       { _, err := base64.RawURLEncoding.DecodeString(s); return err == nil }
func newToken() (Token, error)     { return newTokenFrom(rand.Read) }
func hashHex(b []byte) string      { return hex.EncodeToString(b[:8]) }
func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
func sameDay(a, b time.Time) bool          { return !a.IsZero() && !b.IsZero() && civil(a).Equal(civil(b)) }
func fieldErr(f, msg string) cp.FieldError { return cp.FieldError{Field: f, Msg: msg} }

func newTokenFrom(read func([]byte) (int, error)) (Token, error) {
	var b [32]byte // 256 bits
	if _, err := read(b[:]); err != nil {
		return "", err
	}
	return Token(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

// CardDetails is what a person types to prove they hold a card (SPEC ID1). Fields are
// raw input; the service parses them so web and API validate identically.
type CardDetails struct {
	CardNumber string
	Code       string // CID / CVC
	Expiry     string // MM/YY
	Name       string
	BirthDate  string // YYYY-MM-DD
	NationalID string // last 4
	BasicBirth string // YYYY-MM-DD, for additional card members; may be empty
}

const maxField = 200

// fieldText validates free text: present, not too long, valid UTF-8 with no control
// characters. It returns the message id of the problem, or "".
func fieldText(v string, required bool) string {
	switch {
	case strings.TrimSpace(v) == "":
		if required {
			return "error.field.required"
		}
		return ""
	case len(v) > maxField:
		return "error.field.toolong"
	case !utf8.ValidString(v):
		return "error.field.invalidchars"
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "error.field.invalidchars"
		}
	}
	return ""
}

func parseDate(v string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(v))
	if err != nil || t.Year() < 1900 {
		return time.Time{}, false
	}
	return t, true
}

// NationalIDLast4 normalises the last 4 characters of a national ID for comparison
// with the issuer's keyed MAC: US SSNs end in digits, but a Spanish DNI/NIE and an
// Indian PAN end in a letter, so ASCII letters are accepted and upper-cased. It
// reports false for anything else.
func NationalIDLast4(v string) (string, bool) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if len(v) != 4 {
		return "", false
	}
	for i := 0; i < 4; i++ {
		if c := v[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return "", false
		}
	}
	return v, true
}

type parsedCard struct {
	pan       card.PAN
	code      string
	exp       card.Expiry
	birth     time.Time
	basic     time.Time
	nationalD string
}

func (s *Service) parseCardDetails(op string, in CardDetails) (parsedCard, error) {
	var p parsedCard
	var fields []cp.FieldError
	var err error
	if p.pan, err = card.ParsePAN(in.CardNumber); err != nil {
		fields = append(fields, fieldErr("card_number", "error.cardnumber"))
	}
	p.code = strings.TrimSpace(in.Code)
	if !(len(p.code) == 3 || len(p.code) == 4) || strings.Trim(p.code, "0123456789") != "" {
		fields = append(fields, fieldErr("cid", "error.cid"))
	}
	if p.exp, err = card.ParseExpiry(in.Expiry); err != nil {
		fields = append(fields, fieldErr("expiry", "error.expiry"))
	} else if p.exp.Expired(s.now()) {
		fields = append(fields, fieldErr("expiry", "error.expiry.past"))
	}
	if m := fieldText(in.Name, true); m != "" {
		fields = append(fields, fieldErr("name", m))
	}
	var ok bool
	if p.birth, ok = parseDate(in.BirthDate); !ok {
		fields = append(fields, fieldErr("birth_date", "error.date"))
	}
	if p.nationalD, ok = NationalIDLast4(in.NationalID); !ok {
		fields = append(fields, fieldErr("national_id", "error.ssn4"))
	}
	if strings.TrimSpace(in.BasicBirth) != "" {
		if p.basic, ok = parseDate(in.BasicBirth); !ok {
			fields = append(fields, fieldErr("basic_birth_date", "error.date"))
		}
	}
	if len(fields) > 0 {
		return p, cp.InvalidFields(op, fields...)
	}
	return p, nil
}

// throttle counts a hit and fails with TooManyRequests past limit.
func (s *Service) throttle(ctx context.Context, op, key string, limit int, window time.Duration, msg string) error {
	n, end, err := s.store.Hit(ctx, key, window, s.now())
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if n > limit {
		return &cp.Error{Op: op, Kind: cp.TooManyRequests, Msg: msg, Until: end}
	}
	return nil
}

// VerifyCard is registration's first step: it checks the card details against the
// issuer's records and, when they match an unregistered card, starts a registration
// flow and returns its token. A mismatch never says which detail was wrong; every path
// does the same work (a code computation and the same store calls), so timing does not
// tell either.
func (s *Service) VerifyCard(ctx context.Context, in CardDetails, src Source) (Token, error) {
	const op = "identity.VerifyCard"
	if err := s.throttle(ctx, op, "register-ip:"+src.IP, s.cfg.RegisterPerSource, s.cfg.RegisterWindow, "register.throttled"); err != nil {
		return "", err
	}
	p, err := s.parseCardDetails(op, in)
	if err != nil {
		return "", err
	}
	fp := s.hsm.Fingerprint(p.pan)
	if err := s.throttle(ctx, op, "register-card:"+hashHex(fp), s.cfg.RegisterPerCard, s.cfg.RegisterWindow, "register.throttled"); err != nil {
		return "", err
	}
	ch, err := s.store.CardHolderByFingerprint(ctx, fp)
	found := err == nil
	if err != nil && !cp.IsKind(err, cp.NotFound) {
		return "", cp.E(op, cp.Internal, "", err)
	}
	match := s.cardMatches(ch, found, p, in.Name)
	if match && ch.MemberID != 0 {
		s.record(ctx, &Event{MemberID: ch.MemberID, Kind: EventRegisterFail, Detail: "already registered"}, src)
		return "", cp.E(op, cp.Conflict, "register.already", nil)
	}
	if !match {
		s.record(ctx, &Event{Kind: EventRegisterFail, Detail: "card details did not match"}, src)
		return "", cp.E(op, cp.NotFound, "register.nomatch", nil)
	}
	tok, err := newToken()
	if err != nil {
		return "", cp.E(op, cp.Internal, "", err)
	}
	now := s.now()
	f := Flow{TokenHash: tok.hash(), Kind: "registration", CardholderID: ch.CardholderID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.FlowLife)}
	if err := s.store.CreateFlow(ctx, f); err != nil {
		return "", cp.E(op, cp.Internal, "", err)
	}
	return tok, nil
}

// cardMatches compares every detail without stopping at the first difference.
func (s *Service) cardMatches(ch CardHolder, found bool, p parsedCard, name string) bool {
	code, err := card.ParseCode(p.code, p.pan.CodeLength())
	codeOK := err == nil && s.hsm.VerifyCardCode(p.pan, p.exp, code)
	nidOK := subtle.ConstantTimeCompare(s.hsm.MAC("national-id", []byte(p.nationalD)), ch.NationalIDMAC) == 1
	nameOK := NormalizeAnswer(name) == NormalizeAnswer(ch.Name)
	birthOK := sameDay(p.birth, ch.DateOfBirth)
	expOK := p.exp == ch.Expiry
	basicOK := ch.Role != Additional || sameDay(p.basic, ch.BasicDOB)
	return found && ch.Active && codeOK && nidOK && nameOK && birthOK && expOK && basicOK
}

// RegistrationCard returns the masked card a registration flow is for, so the second
// step can show which card is being registered. Returns Expired if the flow is gone.
func (s *Service) RegistrationCard(ctx context.Context, flow Token) (CardHolder, error) {
	const op = "identity.RegistrationCard"
	f, err := s.flow(ctx, op, flow)
	if err != nil {
		return CardHolder{}, err
	}
	ch, err := s.store.CardHolderByID(ctx, f.CardholderID)
	if err != nil {
		return CardHolder{}, cp.E(op, cp.Internal, "", err)
	}
	return ch, nil
}

func (s *Service) flow(ctx context.Context, op string, tok Token) (Flow, error) {
	if !tok.valid() {
		return Flow{}, cp.E(op, cp.Expired, "register.flowexpired", nil)
	}
	f, err := s.store.FlowByTokenHash(ctx, tok.hash())
	if cp.IsKind(err, cp.NotFound) || (err == nil && !s.now().Before(f.ExpiresAt)) {
		return Flow{}, cp.E(op, cp.Expired, "register.flowexpired", err)
	}
	if err != nil {
		return Flow{}, cp.E(op, cp.Internal, "", err)
	}
	return f, nil
}

// Credentials is registration's second step: the chosen User ID, password and
// security questions.
type Credentials struct {
	UserID    string
	Password  string
	Confirm   string
	Questions []string // question IDs
	Answers   []string
}

// PasswordProblems returns the message ids of the rules pw breaks for userID, for live
// feedback; it does not check history.
func (s *Service) PasswordProblems(pw, userID string) []Rule {
	return s.cfg.Password.Check(pw, userID)
}

// Register finishes a registration flow: it validates the credentials, writes the member
// in one transaction and signs them in. A failure leaves nothing behind and keeps the
// flow so the person can correct the form.
func (s *Service) Register(ctx context.Context, flow Token, in Credentials, src Source) (Member, Token, Session, error) {
	const op = "identity.Register"
	f, err := s.flow(ctx, op, flow)
	if err != nil {
		return Member{}, "", Session{}, err
	}
	if err := s.checkLicence(ctx, op, src); err != nil {
		return Member{}, "", Session{}, err
	}
	var fields []cp.FieldError
	if !ValidUserID(in.UserID) {
		fields = append(fields, fieldErr("user_id", "userid.invalid"))
	}
	for _, r := range s.cfg.Password.Check(in.Password, in.UserID) {
		fields = append(fields, fieldErr("password", "pw.rule."+string(r)))
	}
	if in.Password != in.Confirm {
		fields = append(fields, fieldErr("confirm", "pw.mismatch"))
	}
	fields = append(fields, checkQuestions(in.Questions, in.Answers)...)
	if len(fields) > 0 {
		return Member{}, "", Session{}, cp.InvalidFields(op, fields...)
	}
	ch, err := s.store.CardHolderByID(ctx, f.CardholderID)
	if err != nil {
		return Member{}, "", Session{}, cp.E(op, cp.Internal, "", err)
	}
	hash, err := s.hasher.Hash(ctx, []byte(NormalizePassword(in.Password)))
	if err != nil {
		return Member{}, "", Session{}, cp.E(op, cp.Internal, "", err)
	}
	answers := make([]SecurityAnswer, len(in.Questions))
	for i, q := range in.Questions {
		h, err := s.hasher.Hash(ctx, []byte(NormalizeAnswer(in.Answers[i])))
		if err != nil {
			return Member{}, "", Session{}, cp.E(op, cp.Internal, "", err)
		}
		answers[i] = SecurityAnswer{QuestionID: q, AnswerHash: h}
	}
	m, err := s.store.CreateMember(ctx, NewMember{
		UserID: in.UserID, CardholderID: ch.CardholderID, Name: ch.Name, Email: ch.Email, Phone: ch.Phone,
		Locale: src.Locale, PasswordHash: hash, Answers: answers, CreatedAt: s.now(),
	})
	if err != nil {
		if cp.IsKind(err, cp.Conflict) {
			if cp.ErrorMsg(err) == "userid.taken" {
				return Member{}, "", Session{}, cp.InvalidFields(op, fieldErr("user_id", "userid.taken"))
			}
			return Member{}, "", Session{}, err
		}
		return Member{}, "", Session{}, cp.E(op, cp.Internal, "", err)
	}
	if err := s.store.DeleteFlow(ctx, f.TokenHash); err != nil {
		s.log.ErrorContext(ctx, "delete registration flow", "err", err)
	}
	// The member exists from here on, whether or not the first session starts.
	s.record(ctx, &Event{MemberID: m.ID, Kind: EventRegistered}, src)
	s.send(ctx, m, "registered", "last", ch.CardLast, "userid", m.UserID)
	// The device that just proved the card is the member's: it starts out trusted
	// (SPEC ID7), so signing in again from it does not ask for a second factor.
	tok, sess, err := s.startSession(ctx, m.ID, src, SessionStart{Device: s.device(m.ID, nil, src, true)})
	if err != nil {
		return Member{}, "", Session{}, cp.E(op, cp.Internal, "", err)
	}
	return m, tok, sess, nil
}

func checkQuestions(qs, as []string) []cp.FieldError {
	var fields []cp.FieldError
	if len(qs) != QuestionsRequired || len(as) != QuestionsRequired {
		return []cp.FieldError{fieldErr("questions", "questions.distinct")}
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if !validQuestion(q) || seen[q] {
			fields = append(fields, fieldErr("questions", "questions.distinct"))
			break
		}
		seen[q] = true
	}
	for i, a := range as {
		f := "answer" + string(rune('1'+i))
		if m := fieldText(a, true); m != "" {
			fields = append(fields, fieldErr(f, m))
		} else if utf8.RuneCountInString(NormalizeAnswer(a)) < 3 {
			fields = append(fields, fieldErr(f, "answer.short"))
		}
	}
	return fields
}

// Login checks a User ID and password (SPEC ID5, ID6). A wrong User ID and a wrong
// password give the same error after the same work (one password hash). The lockout
// counter is reserved before the hash is checked, so concurrent guesses cannot exceed
// MaxFailures checks. A correct password then goes through risk assessment
// (afterPassword): the result is a session, or a step-up challenge to complete with
// CompleteSignIn.
func (s *Service) Login(ctx context.Context, userID, password string, src Source) (LoginResult, error) {
	const op = "identity.Login"
	fail := func(k cp.Kind, msg string, until time.Time) (LoginResult, error) {
		return LoginResult{}, &cp.Error{Op: op, Kind: k, Msg: msg, Until: until}
	}
	if err := s.throttle(ctx, op, "signin-ip:"+src.IP, s.cfg.SignInPerSource, s.cfg.SignInWindow, "signin.throttled"); err != nil {
		return LoginResult{}, err
	}
	// Before the password, so an app that has not accepted the licence (SPEC ID12)
	// cannot use up the member's tries.
	if err := s.checkLicence(ctx, op, src); err != nil {
		return LoginResult{}, err
	}
	if len(userID) > UserIDMax*4 || len(password) > s.cfg.Password.MaxLength*4 {
		return fail(cp.Unauthenticated, "signin.invalid", time.Time{})
	}
	pw := []byte(NormalizePassword(password))
	m, cred, err := s.store.MemberByUserID(ctx, userID)
	if cp.IsKind(err, cp.NotFound) {
		// An unknown User ID locks like a real one, so "locked" does not reveal that an
		// account exists; and it costs one hash like a real one.
		n, end, err := s.store.Hit(ctx, "signin-unknown:"+UserIDKey(userID), s.cfg.LockFor, s.now())
		if err != nil {
			return LoginResult{}, cp.E(op, cp.Internal, "", err)
		}
		if n > s.cfg.MaxFailures {
			return fail(cp.Locked, "signin.locked", end)
		}
		s.hasher.VerifyDummy(ctx, pw)
		s.record(ctx, &Event{Kind: EventSignInFail, Detail: "unknown user id"}, src)
		return fail(cp.Unauthenticated, "signin.invalid", time.Time{})
	}
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	att, err := s.store.BeginPasswordAttempt(ctx, m.ID, s.now(), s.cfg.MaxFailures, s.cfg.LockFor)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	if !att.Allowed {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventSignInLocked}, src)
		return fail(cp.Locked, "signin.locked", att.LockedUntil)
	}
	ok, rehash, err := s.hasher.Verify(ctx, cred.PasswordHash, pw)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventSignInFail}, src)
		if att.Failures >= s.cfg.MaxFailures {
			s.record(ctx, &Event{MemberID: m.ID, Kind: EventLocked}, src)
			loc := locale.Negotiate(m.Locale, "")
			s.send(ctx, m, "locked", "time", loc.DateTime(s.now(), time.UTC))
			return fail(cp.Locked, "signin.locked", att.LockedUntil)
		}
		return fail(cp.Unauthenticated, "signin.invalid", time.Time{})
	}
	if rehash {
		s.rehash(ctx, m, pw, src)
	}
	// afterPassword clears the lockout counter.
	return s.afterPassword(ctx, op, m, src)
}

// rehash upgrades a stored hash to the current parameters; failure only costs the
// upgrade, never the sign-in.
func (s *Service) rehash(ctx context.Context, m Member, pw []byte, src Source) {
	h, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.store.SetPasswordHash(ctx, m.ID, h)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "rehash password", "member", m.ID, "err", err)
		return
	}
	s.record(ctx, &Event{MemberID: m.ID, Kind: EventRehashed}, src)
}

// startSession issues a fresh token, so no token chosen before sign-in survives it,
// and stores the session with the rest of st in one transaction.
func (s *Service) startSession(ctx context.Context, id MemberID, src Source, st SessionStart) (Token, Session, error) {
	tok, err := newToken()
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	idle := s.cfg.WebIdle
	client := Web
	if src.Client == App {
		idle, client = s.cfg.AppIdle, App
	}
	sess := Session{
		TokenHash: tok.hash(), MemberID: id, Client: client, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionLife), IdleTimeout: idle,
		IP: src.IP, UserAgent: truncate(src.UserAgent, 300),
	}
	// An expired password (SPEC ID11) gets a session that can only change it.
	if sess.MustChangePassword, err = s.passwordExpired(ctx, id); err != nil {
		return "", Session{}, err
	}
	if sess.MustChangePassword {
		st.Events = append([]*Event{s.event(id, EventPasswordExpired, "", src)}, st.Events...)
	}
	st.Session = &sess
	if err := s.store.StartSession(ctx, st); err != nil {
		return "", Session{}, err
	}
	return tok, sess, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "")
	}
	return strings.ToValidUTF8(s[:n], "")
}

// Authenticate returns the live session for a token. Returns Unauthenticated with
// "signin.expired" for an unknown, revoked, idle or expired session, and Forbidden
// with "password.expired" for a session held to a password change (password.go).
func (s *Service) Authenticate(ctx context.Context, tok Token) (Session, error) {
	sess, err := s.authenticate(ctx, tok)
	if err == nil && sess.MustChangePassword {
		return Session{}, cp.E("identity.Authenticate", cp.Forbidden, msgPasswordExpired, nil)
	}
	return sess, err
}

func (s *Service) authenticate(ctx context.Context, tok Token) (Session, error) {
	const op = "identity.Authenticate"
	if !tok.valid() {
		return Session{}, cp.E(op, cp.Unauthenticated, "signin.expired", nil)
	}
	sess, err := s.store.SessionByTokenHash(ctx, tok.hash())
	if cp.IsKind(err, cp.NotFound) {
		return Session{}, cp.E(op, cp.Unauthenticated, "signin.expired", nil)
	}
	if err != nil {
		return Session{}, cp.E(op, cp.Internal, "", err)
	}
	now := s.now()
	if !sess.Alive(now) {
		return Session{}, cp.E(op, cp.Unauthenticated, "signin.expired", nil)
	}
	if now.Sub(sess.LastSeenAt) >= s.cfg.TouchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			return Session{}, cp.E(op, cp.Internal, "", err)
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// Logout ends the session on the server.
func (s *Service) Logout(ctx context.Context, sess Session, src Source) error {
	const op = "identity.Logout"
	if err := s.store.RevokeSession(ctx, sess.MemberID, sess.ID, s.now()); err != nil && !cp.IsKind(err, cp.NotFound) {
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: sess.MemberID, Kind: EventLogout}, src)
	return nil
}

// Sessions lists the member's live sessions.
func (s *Service) Sessions(ctx context.Context, id MemberID) ([]Session, error) {
	now := s.now()
	all, err := s.store.ListSessions(ctx, id, now)
	if err != nil {
		return nil, cp.E("identity.Sessions", cp.Internal, "", err)
	}
	live := all[:0]
	for _, x := range all {
		if x.Alive(now) {
			live = append(live, x)
		}
	}
	return live, nil
}

// RevokeSession ends one of the member's sessions. Returns NotFound if it is not theirs.
func (s *Service) RevokeSession(ctx context.Context, id MemberID, sessionID int64, src Source) error {
	const op = "identity.RevokeSession"
	if err := s.store.RevokeSession(ctx, id, sessionID, s.now()); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.NotFound, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventSessionRevoked}, src)
	return nil
}

// RevokeOtherSessions ends every session of the member but the current one ("sign out
// everywhere else"); pass except 0 to end them all.
func (s *Service) RevokeOtherSessions(ctx context.Context, id MemberID, except int64, src Source) (int, error) {
	n, err := s.store.RevokeSessions(ctx, id, except, s.now())
	if err != nil {
		return 0, cp.E("identity.RevokeOtherSessions", cp.Internal, "", err)
	}
	if n > 0 {
		s.record(ctx, &Event{MemberID: id, Kind: EventSessionRevoked, Detail: "all"}, src)
	}
	return n, nil
}

// Events returns the member's recent security history.
func (s *Service) Events(ctx context.Context, id MemberID, limit int) ([]Event, error) {
	ev, err := s.store.ListEvents(ctx, id, limit)
	if err != nil {
		return nil, cp.E("identity.Events", cp.Internal, "", err)
	}
	return ev, nil
}

// Member returns a member.
func (s *Service) Member(ctx context.Context, id MemberID) (Member, error) {
	m, err := s.store.MemberByID(ctx, id)
	if err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return Member{}, cp.E("identity.Member", cp.NotFound, "", err)
		}
		return Member{}, cp.E("identity.Member", cp.Internal, "", err)
	}
	return m, nil
}

// record appends a security event; the history must not make a sign-in fail, so errors
// are logged, not returned.
func (s *Service) record(ctx context.Context, e *Event, src Source) {
	s.stamp(e, src)
	if err := s.store.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "record security event", "kind", e.Kind, "err", err)
	}
}

// stamp sets when and from where e happened.
func (s *Service) stamp(e *Event, src Source) *Event {
	e.At = s.now()
	e.IP = src.IP
	e.UserAgent = truncate(src.UserAgent, 300)
	return e
}

// event is a security event happening now, from src, for a SessionStart.
func (s *Service) event(id MemberID, kind EventKind, detail string, src Source) *Event {
	return s.stamp(&Event{MemberID: id, Kind: kind, Detail: detail}, src)
}

// send notifies the member by email in their language. A notice that cannot be sent is
// logged; it never undoes what it reports.
func (s *Service) send(ctx context.Context, m Member, kind string, vars ...string) {
	if s.notifier == nil || m.Email == "" {
		return
	}
	loc := locale.Negotiate(m.Locale, "")
	vars = append(vars, "phone", loc.ContactPhone())
	msg := notify.Message{
		MemberID: int64(m.ID), Channel: notify.Email, To: m.Email, Kind: kind,
		Subject: loc.T("notice."+kind+".subject", vars...), Body: loc.T("notice."+kind+".body", vars...),
		CreatedAt: s.now(),
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "notify", "message", msg, "err", err)
	}
}
