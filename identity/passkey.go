package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/locale"
)

// Passkeys (WebAuthn, SPEC ID7): a member enrols a platform authenticator after
// re-entering the password, and then signs in with it — with no password at all, as
// the credential is discoverable and user verification (the fingerprint or face, or
// the device PIN) is required, so one ceremony proves both something the member has
// and something they are or know. A passkey is also a second factor in step-up.
//
// The ceremony state go-webauthn calls SessionData (above all the challenge) is kept
// server-side in the store with an expiry and is single use, so any instance can
// finish a ceremony another began and a challenge can never be answered twice.

// FactorPasskey is a passkey used as the second factor of a stepped-up sign-in.
const FactorPasskey Factor = "passkey"

// Passkey events.
const (
	EventPasskeyFail  EventKind = "signin.passkey.fail" // a passkey that did not verify
	EventPasskeyClone EventKind = "passkey.clone"       // the authenticator's counter went back
)

// Passkey ceremony purposes, stored with the challenge so one kind can never finish
// another.
const (
	ceremonyEnrol  = "enrol"
	ceremonySignIn = "signin"
	ceremonyStepUp = "stepup"
)

// MaxWebAuthnPayload bounds an authenticator's response as the browser or app sends
// it. A platform authenticator's response without attestation is under 2 KiB; the
// bound leaves room for attestation certificates while refusing anything that would
// make the CBOR and JSON parsers work on megabytes.
const MaxWebAuthnPayload = 16 << 10

// msgPasskeyInvalid is the one answer to every passkey that does not verify, whatever
// was wrong with it: malformed, oversized, another challenge, an unknown credential.
const msgPasskeyInvalid = "passkey.invalid"

// PasskeyConfig is the relying party: the site passkeys are bound to.
type PasskeyConfig struct {
	RPID          string   // the registrable domain, e.g. "localhost" or "cards.example.com"
	RPDisplayName string   // shown by the authenticator
	Origins       []string // the exact origins pages are served from, e.g. "https://cards.example.com"
	// CeremonyLife is how long a begun ceremony may take; zero is 5 minutes.
	CeremonyLife time.Duration
}

// Passkey is an enrolled WebAuthn credential.
type Passkey struct {
	ID           int64
	MemberID     MemberID
	CredentialID []byte
	// UserHandle is the random id the authenticator keeps for the member; it never
	// reveals the member id. All of a member's passkeys share one.
	UserHandle []byte
	Name       string
	// Credential is go-webauthn's credential record as JSON: the public key, flags,
	// attestation and transports. Sign count is kept beside it for compare-and-set.
	Credential []byte
	SignCount  uint32
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// WebAuthnChallenge is a begun WebAuthn ceremony waiting for the authenticator's
// response. Its key is a hash; the token or flow it came from is never stored.
type WebAuthnChallenge struct {
	TokenHash []byte
	Purpose   string
	MemberID  MemberID // zero for a passwordless sign-in, where nobody is known yet
	Session   []byte   // go-webauthn's SessionData as JSON
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PasskeyStore keeps passkeys and ceremony challenges.
type PasskeyStore interface {
	// SaveWebAuthnChallenge stores c, replacing a challenge with the same hash.
	SaveWebAuthnChallenge(ctx context.Context, c WebAuthnChallenge) error
	// TakeWebAuthnChallenge deletes and returns the challenge with that hash and
	// purpose, expired or not, so that of two concurrent answers only one gets it.
	// Returns NotFound if there is none.
	TakeWebAuthnChallenge(ctx context.Context, hash []byte, purpose string) (WebAuthnChallenge, error)
	// CreatePasskey stores p and sets p.ID. Returns Conflict if the credential id is
	// already enrolled (by anyone); nothing is written then.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// ListPasskeys returns the member's passkeys, oldest first.
	ListPasskeys(ctx context.Context, member MemberID) ([]Passkey, error)
	// PasskeyByCredentialID returns the passkey with that credential id. Returns
	// NotFound.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error)
	// UsePasskey records a use: the new credential record, sign count and time, if the
	// stored sign count is still from; returns Conflict otherwise (a concurrent use), and
	// NotFound if the passkey is gone.
	UsePasskey(ctx context.Context, id int64, from, to uint32, credential []byte, now time.Time) error
	// DeletePasskey removes one of the member's passkeys. Returns NotFound if the member
	// has no passkey with that id.
	DeletePasskey(ctx context.Context, member MemberID, id int64) error
}

// EnablePasskeys turns passkeys on with the relying party cfg. Without it the passkey
// methods return Forbidden "passkey.unavailable" and step-up never offers them.
func (s *Service) EnablePasskeys(cfg PasskeyConfig) error {
	if cfg.RPDisplayName == "" {
		cfg.RPDisplayName = s.cfg.MFA.Issuer
	}
	if cfg.CeremonyLife == 0 {
		cfg.CeremonyLife = 5 * time.Minute
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID: cfg.RPID, RPDisplayName: cfg.RPDisplayName, RPOrigins: cfg.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
	})
	if err != nil {
		return fmt.Errorf("passkeys: %w", err)
	}
	s.webauthn, s.passkeyCfg = w, cfg
	return nil
}

// PasskeysEnabled reports whether EnablePasskeys was called. A nil Service (a
// surface wired without identity, in tests) has none.
func (s *Service) PasskeysEnabled() bool { return s != nil && s.webauthn != nil }

func (s *Service) passkeysOn(op string) error {
	if s.webauthn == nil {
		return cp.E(op, cp.Forbidden, "passkey.unavailable", nil)
	}
	return nil
}

// PasskeyCeremony is a begun ceremony: the options to hand to
// navigator.credentials.create or .get (the JSON form of WebAuthn Level 3), and the
// token that names the ceremony when its answer comes back. A step-up ceremony is
// named by its step-up flow and has no token.
type PasskeyCeremony struct {
	Token   Token
	Options json.RawMessage // {"publicKey": {...}}
}

type passkeyUser struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// passkeyUser loads the member's passkeys as go-webauthn wants them. A member without
// any gets a fresh random handle.
func (s *Service) passkeyUser(ctx context.Context, m Member) (*passkeyUser, []Passkey, error) {
	pks, err := s.store.ListPasskeys(ctx, m.ID)
	if err != nil {
		return nil, nil, err
	}
	u := &passkeyUser{name: m.UserID}
	for _, p := range pks {
		c, err := p.credential()
		if err != nil {
			return nil, nil, err
		}
		u.creds = append(u.creds, c)
		if u.handle == nil {
			u.handle = p.UserHandle
		}
	}
	if u.handle == nil {
		u.handle = make([]byte, 32)
		if _, err := rand.Read(u.handle); err != nil {
			return nil, nil, err
		}
	}
	return u, pks, nil
}

func (p Passkey) credential() (webauthn.Credential, error) {
	var c webauthn.Credential
	if err := json.Unmarshal(p.Credential, &c); err != nil {
		return webauthn.Credential{}, fmt.Errorf("passkey %d: %w", p.ID, err)
	}
	c.Authenticator.SignCount = p.SignCount
	return c, nil
}

var errUnknownPasskey = errors.New("unknown passkey")

// saveCeremony stores go-webauthn's session data under key. The library's own expiry
// is cleared: it reads the wall clock, and the stored ExpiresAt, read with the
// service's clock, is what decides.
func (s *Service) saveCeremony(ctx context.Context, key []byte, purpose string, member MemberID, sd *webauthn.SessionData) error {
	sd.Expires = time.Time{}
	b, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	now := s.now()
	return s.store.SaveWebAuthnChallenge(ctx, WebAuthnChallenge{
		TokenHash: key, Purpose: purpose, MemberID: member, Session: b,
		CreatedAt: now, ExpiresAt: now.Add(s.passkeyCfg.CeremonyLife),
	})
}

// takeCeremony consumes the ceremony under key. ok is false when there is none, it
// is another kind, another member's, or expired.
func (s *Service) takeCeremony(ctx context.Context, key []byte, purpose string, member MemberID) (webauthn.SessionData, bool, error) {
	c, err := s.store.TakeWebAuthnChallenge(ctx, key, purpose)
	if cp.IsKind(err, cp.NotFound) {
		return webauthn.SessionData{}, false, nil
	}
	if err != nil {
		return webauthn.SessionData{}, false, err
	}
	if c.MemberID != member || !s.now().Before(c.ExpiresAt) {
		return webauthn.SessionData{}, false, nil
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Session, &sd); err != nil {
		return webauthn.SessionData{}, false, err
	}
	return sd, true, nil
}

func options(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	return json.RawMessage(b), err
}

// parseCreation and parseAssertion check size before go-webauthn parses anything, so
// an oversized payload costs nothing; every problem is the same non-revealing error.
func parseCreation(op string, response []byte) (*protocol.ParsedCredentialCreationData, error) {
	if len(response) == 0 || len(response) > MaxWebAuthnPayload {
		return nil, cp.InvalidFields(op, fieldErr("credential", msgPasskeyInvalid))
	}
	p, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, cp.InvalidFields(op, fieldErr("credential", msgPasskeyInvalid))
	}
	return p, nil
}

func parseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, bool) {
	if len(response) == 0 || len(response) > MaxWebAuthnPayload {
		return nil, false
	}
	p, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, false
	}
	return p, true
}

// Passkeys lists the member's passkeys.
func (s *Service) Passkeys(ctx context.Context, id MemberID) ([]Passkey, error) {
	pks, err := s.store.ListPasskeys(ctx, id)
	if err != nil {
		return nil, cp.E("identity.Passkeys", cp.Internal, "", err)
	}
	return pks, nil
}

// BeginPasskeyEnrolment starts adding a passkey after the password is re-entered. The
// options ask for a platform authenticator holding a discoverable credential with
// user verification, and exclude the member's existing passkeys.
func (s *Service) BeginPasskeyEnrolment(ctx context.Context, id MemberID, password string, src Source) (PasskeyCeremony, error) {
	const op = "identity.BeginPasskeyEnrolment"
	if err := s.passkeysOn(op); err != nil {
		return PasskeyCeremony{}, err
	}
	m, err := s.reauthenticate(ctx, op, id, password)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	u, _, err := s.passkeyUser(ctx, m)
	if err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, sd, err := s.webauthn.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.Platform,
			ResidentKey:             protocol.ResidentKeyRequirementRequired,
			RequireResidentKey:      protocol.ResidentKeyRequired(),
			UserVerification:        protocol.VerificationRequired,
		}),
		webauthn.WithExclusions(exclude),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	tok, err := newToken()
	if err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	if err := s.saveCeremony(ctx, tok.hash(), ceremonyEnrol, id, sd); err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	opts, err := options(creation)
	if err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	return PasskeyCeremony{Token: tok, Options: opts}, nil
}

// FinishPasskeyEnrolment verifies the authenticator's response to an enrolment
// ceremony and stores the passkey under name. A response that is malformed, too
// large, for another ceremony or that does not verify is Invalid "passkey.invalid"
// on the field "credential", and nothing is stored. An expired or already used
// ceremony is Expired "passkey.expired". The member gets a "new passkey" notice.
func (s *Service) FinishPasskeyEnrolment(ctx context.Context, id MemberID, tok Token, name string, response []byte, src Source) (Passkey, error) {
	const op = "identity.FinishPasskeyEnrolment"
	if err := s.passkeysOn(op); err != nil {
		return Passkey{}, err
	}
	if err := s.throttle(ctx, op, fmt.Sprintf("mfa-confirm:%d", id), reauthPer15Min, 15*time.Minute, "mfa.reauth.throttled"); err != nil {
		return Passkey{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Passkey"
	}
	if msg := fieldText(name, true); msg != "" || len(name) > 60 {
		if msg == "" {
			msg = "error.field.toolong"
		}
		return Passkey{}, cp.InvalidFields(op, fieldErr("name", msg))
	}
	parsed, err := parseCreation(op, response)
	if err != nil {
		return Passkey{}, err
	}
	if !tok.valid() {
		return Passkey{}, cp.E(op, cp.Expired, "passkey.expired", nil)
	}
	sd, ok, err := s.takeCeremony(ctx, tok.hash(), ceremonyEnrol, id)
	if err != nil {
		return Passkey{}, cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return Passkey{}, cp.E(op, cp.Expired, "passkey.expired", nil)
	}
	m, err := s.store.MemberByID(ctx, id)
	if err != nil {
		return Passkey{}, cp.E(op, cp.Internal, "", err)
	}
	u, _, err := s.passkeyUser(ctx, m)
	if err != nil {
		return Passkey{}, cp.E(op, cp.Internal, "", err)
	}
	// A member's first passkey's handle was made at Begin and lives only in the
	// ceremony; later ones share the stored one, which Begin also used.
	u.handle = sd.UserID
	cred, err := s.webauthn.CreateCredential(u, sd, parsed)
	if err != nil {
		s.log.InfoContext(ctx, "passkey enrolment refused", "member", id, "err", err)
		return Passkey{}, cp.InvalidFields(op, fieldErr("credential", msgPasskeyInvalid))
	}
	rec, err := json.Marshal(cred)
	if err != nil {
		return Passkey{}, cp.E(op, cp.Internal, "", err)
	}
	now := s.now()
	p := Passkey{
		MemberID: id, CredentialID: cred.ID, UserHandle: sd.UserID, Name: name, Credential: rec,
		SignCount: cred.Authenticator.SignCount, CreatedAt: now,
	}
	if err := s.store.CreatePasskey(ctx, &p); err != nil {
		if cp.IsKind(err, cp.Conflict) {
			return Passkey{}, cp.InvalidFields(op, fieldErr("credential", msgPasskeyInvalid))
		}
		return Passkey{}, cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventFactorAdded, Detail: string(FactorPasskey)}, src)
	s.send(ctx, m, "passkeyadded", "name", name, "time", locale.Negotiate(m.Locale, "").DateTime(s.now(), time.UTC))
	return p, nil
}

// RemovePasskey removes one of the member's passkeys after the password is
// re-entered. Returns NotFound if it is not theirs.
func (s *Service) RemovePasskey(ctx context.Context, id MemberID, passkeyID int64, password string, src Source) error {
	const op = "identity.RemovePasskey"
	if _, err := s.reauthenticate(ctx, op, id, password); err != nil {
		return err
	}
	if err := s.store.DeletePasskey(ctx, id, passkeyID); err != nil {
		if cp.IsKind(err, cp.NotFound) {
			return cp.E(op, cp.NotFound, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, &Event{MemberID: id, Kind: EventFactorRemoved, Detail: string(FactorPasskey)}, src)
	return nil
}

// BeginPasskeySignIn starts a passwordless sign-in: the options name no user, so the
// authenticator offers the member's discoverable credential. It is throttled per
// source address like the password sign-in, since each call stores a challenge.
func (s *Service) BeginPasskeySignIn(ctx context.Context, src Source) (PasskeyCeremony, error) {
	const op = "identity.BeginPasskeySignIn"
	if err := s.passkeysOn(op); err != nil {
		return PasskeyCeremony{}, err
	}
	if err := s.throttle(ctx, op, "signin-ip:"+src.IP, s.cfg.SignInPerSource, s.cfg.SignInWindow, "signin.throttled"); err != nil {
		return PasskeyCeremony{}, err
	}
	assertion, sd, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	tok, err := newToken()
	if err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	if err := s.saveCeremony(ctx, tok.hash(), ceremonySignIn, 0, sd); err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	opts, err := options(assertion)
	if err != nil {
		return PasskeyCeremony{}, cp.E(op, cp.Internal, "", err)
	}
	return PasskeyCeremony{Token: tok, Options: opts}, nil
}

// PasskeySignIn finishes a passwordless sign-in. A verified passkey with user
// verification counts as both factors, so no step-up follows; but a locked account
// stays locked (Locked "signin.locked"), an expired password still only allows
// changing it, and a sign-in from a new device still sends a notice. Every response
// that does not verify, whatever the reason, is Unauthenticated "passkey.invalid";
// a ceremony that is gone is Expired "passkey.expired".
func (s *Service) PasskeySignIn(ctx context.Context, tok Token, response []byte, src Source) (LoginResult, error) {
	const op = "identity.PasskeySignIn"
	if err := s.passkeysOn(op); err != nil {
		return LoginResult{}, err
	}
	if err := s.throttle(ctx, op, "signin-ip:"+src.IP, s.cfg.SignInPerSource, s.cfg.SignInWindow, "signin.throttled"); err != nil {
		return LoginResult{}, err
	}
	if err := s.checkLicence(ctx, op, src); err != nil {
		return LoginResult{}, err
	}
	invalid := cp.E(op, cp.Unauthenticated, msgPasskeyInvalid, nil)
	parsed, ok := parseAssertion(response)
	if !ok {
		s.record(ctx, &Event{Kind: EventPasskeyFail, Detail: "malformed"}, src)
		return LoginResult{}, invalid
	}
	if !tok.valid() {
		return LoginResult{}, cp.E(op, cp.Expired, "passkey.expired", nil)
	}
	sd, ok, err := s.takeCeremony(ctx, tok.hash(), ceremonySignIn, 0)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return LoginResult{}, cp.E(op, cp.Expired, "passkey.expired", nil)
	}
	var (
		m   Member
		pks []Passkey
	)
	// The handler's store failures are told apart from an unknown credential, which
	// is only a wrong answer.
	var storeErr error
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.store.PasskeyByCredentialID(ctx, rawID)
		if err != nil {
			if !cp.IsKind(err, cp.NotFound) {
				storeErr = err
			}
			return nil, errUnknownPasskey
		}
		if subtle.ConstantTimeCompare(p.UserHandle, userHandle) != 1 {
			return nil, errUnknownPasskey
		}
		mm, err := s.store.MemberByID(ctx, p.MemberID)
		if err != nil {
			storeErr = err
			return nil, err
		}
		u, list, err := s.passkeyUser(ctx, mm)
		if err != nil {
			storeErr = err
			return nil, err
		}
		m, pks = mm, list
		return u, nil
	}
	_, cred, err := s.webauthn.ValidatePasskeyLogin(handler, sd, parsed)
	if storeErr != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", storeErr)
	}
	if err != nil {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventPasskeyFail}, src)
		return LoginResult{}, invalid
	}
	if !s.usePasskey(ctx, m, pks, cred, src) {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventPasskeyFail, Detail: "counter"}, src)
		return LoginResult{}, invalid
	}
	// The lockout applies to every way in: a locked account stays locked until its
	// time passes or the password is reset. A verified passkey otherwise clears the
	// count of wrong passwords, as a correct password does.
	att, err := s.store.BeginPasswordAttempt(ctx, m.ID, s.now(), s.cfg.MaxFailures, s.cfg.LockFor)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	if !att.Allowed {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventSignInLocked, Detail: "passkey"}, src)
		return LoginResult{}, &cp.Error{Op: op, Kind: cp.Locked, Msg: "signin.locked", Until: att.LockedUntil}
	}
	risk, dev, err := s.risk(ctx, m, src)
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	tok2, sess, err := s.startSession(ctx, m.ID, src, SessionStart{
		Events:        []*Event{s.event(m.ID, EventSignInOK, "passkey", src)},
		Device:        s.device(m.ID, dev, src, false),
		ResetAttempts: true,
	})
	if err != nil {
		return LoginResult{}, cp.E(op, cp.Internal, "", err)
	}
	if !risk.KnownDevice {
		s.send(ctx, m, "newdevice", "device", truncate(src.UserAgent, 120), "ip", src.IP,
			"time", locale.Negotiate(m.Locale, "").DateTime(s.now(), time.UTC))
	}
	return LoginResult{Member: m, Token: tok2, Session: sess}, nil
}

// usePasskey records a verified use. go-webauthn flags a signature counter that did
// not move forward (CloneWarning): two authenticators hold the same key, so the use
// is refused and recorded. The counter is stored compare-and-set, so two concurrent
// uses of one counter value cannot both pass.
func (s *Service) usePasskey(ctx context.Context, m Member, pks []Passkey, cred *webauthn.Credential, src Source) bool {
	var p *Passkey
	for i := range pks {
		if bytes.Equal(pks[i].CredentialID, cred.ID) {
			p = &pks[i]
		}
	}
	if p == nil {
		return false
	}
	if cred.Authenticator.CloneWarning {
		s.record(ctx, &Event{MemberID: m.ID, Kind: EventPasskeyClone, Detail: p.Name}, src)
		return false
	}
	rec, err := json.Marshal(cred)
	if err != nil {
		s.log.ErrorContext(ctx, "passkey record", "member", m.ID, "err", err)
		return false
	}
	if err := s.store.UsePasskey(ctx, p.ID, p.SignCount, cred.Authenticator.SignCount, rec, s.now()); err != nil {
		if !cp.IsKind(err, cp.Conflict) && !cp.IsKind(err, cp.NotFound) {
			s.log.ErrorContext(ctx, "record passkey use", "member", m.ID, "err", err)
		}
		return false
	}
	return true
}

// stepUpCeremonyKey names a step-up flow's passkey ceremony: one per flow, replaced
// whenever the page asks again.
func stepUpCeremonyKey(flowHash []byte) []byte {
	h := sha256.Sum256(append([]byte("passkey-stepup\x00"), flowHash...))
	return h[:]
}

// BeginStepUpPasskey starts the passkey ceremony of a step-up flow, allowing only the
// member's passkeys. The answer goes to CompleteSignIn with FactorPasskey.
func (s *Service) BeginStepUpPasskey(ctx context.Context, tok Token, src Source) (json.RawMessage, error) {
	const op = "identity.BeginStepUpPasskey"
	if err := s.passkeysOn(op); err != nil {
		return nil, err
	}
	f, m, err := s.stepUpFlow(ctx, op, tok, src)
	if err != nil {
		return nil, err
	}
	u, _, err := s.passkeyUser(ctx, m)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	if len(u.creds) == 0 {
		return nil, cp.InvalidFields(op, fieldErr("factor", "mfa.factor.unavailable"))
	}
	assertion, sd, err := s.webauthn.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	if err := s.saveCeremony(ctx, stepUpCeremonyKey(f.TokenHash), ceremonyStepUp, m.ID, sd); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	opts, err := options(assertion)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return opts, nil
}

// hasPasskey reports whether step-up can offer the member a passkey.
func (s *Service) hasPasskey(ctx context.Context, id MemberID) (bool, error) {
	if s.webauthn == nil {
		return false, nil
	}
	pks, err := s.store.ListPasskeys(ctx, id)
	return len(pks) > 0, err
}

// checkPasskey verifies a step-up's passkey answer; false is a plain wrong answer.
func (s *Service) checkPasskey(ctx context.Context, op string, f StepUp, m Member, answer string, src Source) (bool, error) {
	if s.webauthn == nil {
		return false, nil
	}
	parsed, ok := parseAssertion([]byte(answer))
	if !ok {
		return false, nil
	}
	sd, ok, err := s.takeCeremony(ctx, stepUpCeremonyKey(f.TokenHash), ceremonyStepUp, m.ID)
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	if !ok {
		return false, nil
	}
	u, pks, err := s.passkeyUser(ctx, m)
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	cred, err := s.webauthn.ValidateLogin(u, sd, parsed)
	if err != nil {
		return false, nil
	}
	return s.usePasskey(ctx, m, pks, cred, src), nil
}
