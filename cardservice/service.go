package cardservice

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
)

// Security events this package records in the member's history (identity.EventStore).
// Details name the card by its screen digits only.
const (
	EventActivated     identity.EventKind = "card.activated"
	EventActivateFail  identity.EventKind = "card.activate.fail"
	EventFrozen        identity.EventKind = "card.frozen"
	EventUnfrozen      identity.EventKind = "card.unfrozen"
	EventReportedLost  identity.EventKind = "card.lost"
	EventPINChanged    identity.EventKind = "card.pin.changed"
	EventPINIdentifyKO identity.EventKind = "card.pin.idfail"
)

// Config is the servicing policy. Zero fields take DefaultConfig's values.
type Config struct {
	// ActivatePerCard and ActivatePerMember bound activation attempts per window:
	// a CID has only 10^3 or 10^4 values, so guessing must be slow.
	ActivatePerCard   int
	ActivatePerMember int
	ActivateWindow    time.Duration
	// PINChecks identification checks per card are allowed in each PINLockFor window;
	// past that the PIN flow of that card is locked until the window ends.
	PINChecks  int
	PINLockFor time.Duration
	// ReplacementYears is how long a replacement card is valid.
	ReplacementYears int
}

// DefaultConfig is the policy the issuer ships.
var DefaultConfig = Config{
	ActivatePerCard: 5, ActivatePerMember: 10, ActivateWindow: time.Hour,
	PINChecks: 3, PINLockFor: 30 * time.Minute,
	ReplacementYears: 4,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	for _, p := range []struct{ v, def *int }{
		{&c.ActivatePerCard, &d.ActivatePerCard}, {&c.ActivatePerMember, &d.ActivatePerMember},
		{&c.PINChecks, &d.PINChecks}, {&c.ReplacementYears, &d.ReplacementYears},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	if c.ActivateWindow <= 0 {
		c.ActivateWindow = d.ActivateWindow
	}
	if c.PINLockFor <= 0 {
		c.PINLockFor = d.PINLockFor
	}
	return c
}

// Service services members' cards. It is safe for concurrent use and keeps no state:
// counters and cards live in the store, shared by every instance.
type Service struct {
	store    Store
	hsm      cardcrypto.HSM
	ident    Identifier // nil: the PIN flow identifies by date of birth and security code only
	notifier notify.Notifier
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	rand     io.Reader // card numbers for replacements
}

// New returns a Service. ident re-identifies members in the PIN flow; with nil, every
// member identifies by date of birth and security code. now is the clock, injected so
// tests can move time.
func New(store Store, hsm cardcrypto.HSM, ident Identifier, n notify.Notifier, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, hsm: hsm, ident: ident, notifier: n, cfg: cfg.withDefaults(), now: now, log: log, rand: rand.Reader}
}

// Cards lists the cards the member may act on.
func (s *Service) Cards(ctx context.Context, member identity.MemberID) ([]Card, error) {
	cards, err := s.store.MemberCards(ctx, member)
	if err != nil {
		return nil, cp.E("cardservice.Cards", cp.Internal, "", err)
	}
	return cards, nil
}

// Card returns one card the member may act on. Returns NotFound for any other id.
func (s *Service) Card(ctx context.Context, member identity.MemberID, cardID int64) (Card, error) {
	return s.memberCard(ctx, "cardservice.Card", member, cardID)
}

func (s *Service) memberCard(ctx context.Context, op string, member identity.MemberID, cardID int64) (Card, error) {
	c, err := s.store.MemberCard(ctx, member, cardID)
	if cp.IsKind(err, cp.NotFound) {
		return Card{}, cp.E(op, cp.NotFound, "", err)
	}
	if err != nil {
		return Card{}, cp.E(op, cp.Internal, "", err)
	}
	return c, nil
}

// transitionError turns a refused lifecycle step into the member's message.
func transitionError(op string, err error) error {
	msg := map[error]string{
		card.ErrNotInactive: "card.error.notinactive",
		card.ErrNotActive:   "card.error.notactive",
		card.ErrNotFrozen:   "card.error.notfrozen",
		card.ErrBlocked:     "card.error.blocked",
	}[err]
	if msg == "" {
		return cp.E(op, cp.Internal, "", err)
	}
	return cp.E(op, cp.Conflict, msg, err)
}

// Activation is what the member types to activate a new card (SPEC AC7): the number
// and the security code printed on it. The expiry is taken from the issuer's record.
type Activation struct {
	CardNumber string
	CID        string
}

// Activate moves one of the member's inactive cards to active. A number that is not
// one of the member's cards and a wrong code give the same Invalid error
// ("card.activate.nomatch") after the same work; attempts are throttled per member
// and per card. A card already active is Conflict; a lost or closed one can never be
// activated.
func (s *Service) Activate(ctx context.Context, member identity.MemberID, in Activation, src identity.Source) (Card, error) {
	const op = "cardservice.Activate"
	var fields []cp.FieldError
	pan, err := card.ParsePAN(in.CardNumber)
	if err != nil {
		fields = append(fields, cp.FieldError{Field: "card_number", Msg: "error.cardnumber"})
	}
	// The code's length depends on the number; without a number, any plausible code
	// passes here so only the number is reported.
	var (
		code    card.Code
		codeErr error
	)
	if !pan.IsZero() {
		code, codeErr = card.ParseCode(in.CID, pan.CodeLength())
	} else if !validCodeShape(in.CID) {
		codeErr = card.ErrCodeFormat
	}
	if codeErr != nil {
		fields = append(fields, cp.FieldError{Field: "cid", Msg: "error.cid"})
	}
	if len(fields) > 0 {
		return Card{}, cp.InvalidFields(op, fields...)
	}
	if err := s.throttle(ctx, op, "card-activate-member:"+strconv.FormatInt(int64(member), 10), s.cfg.ActivatePerMember, s.cfg.ActivateWindow); err != nil {
		return Card{}, err
	}
	fp := s.hsm.Fingerprint(pan)
	if err := s.throttle(ctx, op, "card-activate:"+hex.EncodeToString(fp[:8]), s.cfg.ActivatePerCard, s.cfg.ActivateWindow); err != nil {
		return Card{}, err
	}
	c, err := s.store.MemberCardByFingerprint(ctx, member, fp)
	found := err == nil
	if err != nil && !cp.IsKind(err, cp.NotFound) {
		return Card{}, cp.E(op, cp.Internal, "", err)
	}
	exp := c.Expiry
	if !found {
		// Same work as a real card, so timing does not say whether the number is one
		// of the member's.
		exp = card.Expiry{Month: 12, Year: 2099}
	}
	codeOK := s.hsm.VerifyCardCode(pan, exp, code)
	if !found || !codeOK {
		s.record(ctx, member, EventActivateFail, "", src)
		return Card{}, cp.E(op, cp.Invalid, "card.activate.nomatch", nil)
	}
	to, _, err := card.Next(c.State, card.Activate)
	if err != nil {
		return Card{}, transitionError(op, err)
	}
	if err := s.store.SetCardState(ctx, c.ID, c.State, to); err != nil {
		if cp.IsKind(err, cp.Conflict) {
			// Someone activated it a moment ago; say what it is now.
			return Card{}, cp.E(op, cp.Conflict, "card.error.notinactive", err)
		}
		return Card{}, cp.E(op, cp.Internal, "", err)
	}
	c.State = to
	s.record(ctx, member, EventActivated, c.Last, src)
	s.notice(ctx, member, "card.activated", c.Last)
	return c, nil
}

// validCodeShape is true for 3 or 4 ASCII digits, what ParseCode could accept for
// some card.
func validCodeShape(v string) bool {
	v = strings.TrimSpace(v)
	return (len(v) == 3 || len(v) == 4) && strings.Trim(v, "0123456789") == ""
}

// Freeze pauses a card (SPEC AC9): authorisations read the state and decline. Freezing
// a frozen card succeeds and changes nothing.
func (s *Service) Freeze(ctx context.Context, member identity.MemberID, cardID int64, src identity.Source) (Card, error) {
	return s.step(ctx, "cardservice.Freeze", member, cardID, card.Freeze, EventFrozen, "card.frozen", src)
}

// Unfreeze resumes a frozen card. Unfreezing an active card succeeds and changes
// nothing.
func (s *Service) Unfreeze(ctx context.Context, member identity.MemberID, cardID int64, src identity.Source) (Card, error) {
	return s.step(ctx, "cardservice.Unfreeze", member, cardID, card.Unfreeze, EventUnfrozen, "card.unfrozen", src)
}

// stepRetries bounds how often step re-reads a card after losing a race. Each lost
// race means another request changed the card, so the system always progresses; 3
// tries starved one of 20 simultaneous toggles on a loaded 2-core machine, 8 re-reads
// cost little and make that vanishingly rare.
const stepRetries = 8

// step applies a lifecycle action with an optimistic state check. When another
// request changed the card in between, it reads the card again and decides afresh, so
// concurrent freezes and unfreezes always end in a state one of them asked for.
func (s *Service) step(ctx context.Context, op string, member identity.MemberID, cardID int64, a card.Action, ev identity.EventKind, noticeKind string, src identity.Source) (Card, error) {
	for range stepRetries {
		c, err := s.memberCard(ctx, op, member, cardID)
		if err != nil {
			return Card{}, err
		}
		to, changed, err := card.Next(c.State, a)
		if err != nil {
			return Card{}, transitionError(op, err)
		}
		if !changed {
			return c, nil
		}
		err = s.store.SetCardState(ctx, c.ID, c.State, to)
		if cp.IsKind(err, cp.Conflict) {
			continue
		}
		if err != nil {
			return Card{}, cp.E(op, cp.Internal, "", err)
		}
		c.State = to
		s.record(ctx, member, ev, c.Last, src)
		s.notice(ctx, member, noticeKind, c.Last)
		return c, nil
	}
	return Card{}, cp.E(op, cp.Conflict, "card.error.busy", nil)
}

// Replacement is the outcome of reporting a card lost: the blocked card and the new
// one. The new card's number is not in it; it travels to the member on the plastic.
type Replacement struct {
	Old Card
	New Card
}

// ReportLost blocks a card at once and issues a replacement (SPEC AC10): a new number
// on the same product (same BIN), a new expiry and so a new security code, sealed by
// the HSM, on the same account for the same holder, inactive until activated. Blocking
// and issuing happen in one transaction. Postings belong to the account, so the
// history stays where it was. A card already lost or closed is Conflict.
func (s *Service) ReportLost(ctx context.Context, member identity.MemberID, cardID int64, src identity.Source) (Replacement, error) {
	const op = "cardservice.ReportLost"
	c, err := s.memberCard(ctx, op, member, cardID)
	if err != nil {
		return Replacement{}, err
	}
	if _, _, err := card.Next(c.State, card.ReportLost); err != nil {
		return Replacement{}, transitionError(op, err)
	}
	old, err := s.hsm.OpenPAN(c.Sealed)
	if err != nil {
		return Replacement{}, cp.E(op, cp.Internal, "", err)
	}
	now := s.now()
	exp := card.Expiry{Month: int(now.Month()), Year: now.Year() + s.cfg.ReplacementYears}
	// A clash with an existing number is astronomically rare but possible; a few
	// fresh draws settle it.
	for range 5 {
		pan, err := card.NewPANLike(old, s.rand)
		if err != nil {
			return Replacement{}, cp.E(op, cp.Internal, "", err)
		}
		sealed, err := s.hsm.SealPAN(pan)
		if err != nil {
			return Replacement{}, cp.E(op, cp.Internal, "", err)
		}
		nc := NewCard{Sealed: sealed, Fingerprint: s.hsm.Fingerprint(pan), Last: card.ScreenDigits(pan), Expiry: exp, IssuedAt: now}
		id, err := s.store.ReplaceCard(ctx, c.ID, c.State, nc)
		if cp.IsKind(err, cp.Conflict) && cp.ErrorMsg(err) == "card.number.taken" {
			continue
		}
		if cp.IsKind(err, cp.Conflict) {
			// Changed under us (frozen, or reported by someone else): judge afresh.
			return Replacement{}, cp.E(op, cp.Conflict, "card.error.busy", err)
		}
		if err != nil {
			return Replacement{}, cp.E(op, cp.Internal, "", err)
		}
		nw, err := s.store.MemberCard(ctx, member, id)
		if err != nil {
			return Replacement{}, cp.E(op, cp.Internal, "", err)
		}
		c.State = card.Lost
		s.record(ctx, member, EventReportedLost, c.Last, src)
		s.notice(ctx, member, "card.lost", c.Last, "newlast", nw.Last)
		return Replacement{Old: c, New: nw}, nil
	}
	return Replacement{}, cp.E(op, cp.Internal, "", card.ErrGenerate)
}

// PINChange is the online PIN flow's input (SPEC AC8): identification, then the new
// PIN twice. All fields are raw input.
//
// Identification is the answer to a challenge from StartPINChallenge (the security
// question, a one-time code or an authenticator code) when the member has one of
// those factors; only a member who has none identifies with date of birth and the
// security code of the card instead.
type PINChange struct {
	FlowToken identity.Token  // the challenge's token
	Factor    identity.Factor // which of its factors Answer answers
	Answer    string          // the security answer or the code
	BirthDate string          // fallback: YYYY-MM-DD, the signed-in member's
	CID       string          // fallback: the security code printed on this card
	PIN       string
	Confirm   string
}

// pinPurpose binds a re-identification to one card's PIN.
func pinPurpose(cardID int64) string { return "card-pin:" + strconv.FormatInt(cardID, 10) }

// PINChallenge is how the member identifies before choosing a PIN. With no Factors
// (and no FlowToken) the member has no second factor and identifies with date of
// birth and the card's security code (PINChange.BirthDate, CID).
type PINChallenge struct {
	identity.Challenge
	CodeSent identity.Factor // the channel of a live code already sent, if any
}

// Fallback reports whether the member identifies with date of birth and security code.
func (c *PINChallenge) Fallback() bool { return len(c.Factors) == 0 }

// usableCard is a card the member may act on whose PIN may be chosen.
func (s *Service) usableCard(ctx context.Context, op string, member identity.MemberID, cardID int64) (Card, error) {
	c, err := s.memberCard(ctx, op, member, cardID)
	if err != nil {
		return Card{}, err
	}
	if !c.State.Usable() {
		return Card{}, cp.E(op, cp.Conflict, "card.error.blocked", nil)
	}
	return c, nil
}

// StartPINChallenge starts identifying the member before they choose the PIN of one
// of their cards: a challenge that serves once, for that card only. NotFound for a
// card that is not the member's; Conflict "card.error.blocked" for a blocked one.
func (s *Service) StartPINChallenge(ctx context.Context, member identity.MemberID, cardID int64, src identity.Source) (*PINChallenge, error) {
	const op = "cardservice.StartPINChallenge"
	c, err := s.usableCard(ctx, op, member, cardID)
	if err != nil {
		return nil, err
	}
	if s.ident == nil {
		return &PINChallenge{}, nil
	}
	ch, err := s.ident.StartReidentify(ctx, member, pinPurpose(c.ID), src)
	if err != nil {
		return nil, identifyError(op, err)
	}
	return &PINChallenge{Challenge: *ch}, nil
}

// PendingPINChallenge describes a live challenge of StartPINChallenge again (for a
// page shown after a wrong answer or a code sent). Expired "card.pin.expired" if it
// is gone: start a new one.
func (s *Service) PendingPINChallenge(ctx context.Context, member identity.MemberID, cardID int64, tok identity.Token, src identity.Source) (*PINChallenge, error) {
	const op = "cardservice.PendingPINChallenge"
	c, err := s.usableCard(ctx, op, member, cardID)
	if err != nil {
		return nil, err
	}
	if s.ident == nil {
		return &PINChallenge{}, nil
	}
	ch, sent, err := s.ident.PendingReidentify(ctx, member, pinPurpose(c.ID), tok, src)
	if err != nil {
		return nil, identifyError(op, err)
	}
	return &PINChallenge{Challenge: *ch, CodeSent: sent}, nil
}

// SendPINCode sends a one-time code for a PIN challenge by email or SMS.
func (s *Service) SendPINCode(ctx context.Context, member identity.MemberID, cardID int64, tok identity.Token, channel identity.Factor, src identity.Source) error {
	const op = "cardservice.SendPINCode"
	c, err := s.usableCard(ctx, op, member, cardID)
	if err != nil {
		return err
	}
	if s.ident == nil {
		return cp.InvalidFields(op, cp.FieldError{Field: "channel", Msg: "mfa.factor.unavailable"})
	}
	if err := s.ident.SendReidentifyCode(ctx, member, pinPurpose(c.ID), tok, channel, src); err != nil {
		return identifyError(op, err)
	}
	return nil
}

// identifyError turns a re-identification refusal into the PIN flow's: a wrong answer
// is Forbidden (the member is signed in; Unauthenticated would read as signed out)
// with the same "mfa.invalid" whatever was wrong, and a gone challenge is
// "card.pin.expired". Throttles, dead codes and field problems pass through.
func identifyError(op string, err error) error {
	switch kind := cp.ErrorKind(err); {
	case kind == cp.Unauthenticated:
		return cp.E(op, cp.Forbidden, "mfa.invalid", nil)
	case kind == cp.Expired && cp.ErrorMsg(err) == "mfa.expired":
		return cp.E(op, cp.Expired, "card.pin.expired", nil)
	case kind == cp.Internal:
		return cp.E(op, cp.Internal, "", err)
	}
	return err
}

// SetPIN sets a card's PIN after identifying the member again. The PIN is checked
// against the policy (card.CheckPIN: the holder's and the member's birth years
// included) before anything else, so a bad PIN spends neither the challenge nor an
// identification check; then only its keyed verification value from the HSM is
// stored. The member answers their challenge (StartPINChallenge); one with no second
// factor gives date of birth and the card's security code. A wrong answer is
// Forbidden ("mfa.invalid", or "card.pin.idfail" for the fallback); after
// Config.PINChecks checks in a window the flow is Locked for that card until the
// window ends. A used or expired challenge is Expired "card.pin.expired". Bad input
// is Invalid with field problems and changes nothing. A "PIN changed" notice is sent.
func (s *Service) SetPIN(ctx context.Context, member identity.MemberID, cardID int64, in PINChange, src identity.Source) error {
	const op = "cardservice.SetPIN"
	c, err := s.usableCard(ctx, op, member, cardID)
	if err != nil {
		return err
	}
	actor, err := s.store.CardActor(ctx, member)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	pan, err := s.hsm.OpenPAN(c.Sealed)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	var factors []identity.Factor
	if s.ident != nil {
		if factors, err = s.ident.ReidentifyFactors(ctx, member); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
	}
	fallback := len(factors) == 0
	var (
		fields []cp.FieldError
		birth  time.Time
		code   card.Code
	)
	if fallback {
		if birth, err = time.Parse(time.DateOnly, strings.TrimSpace(in.BirthDate)); err != nil {
			fields = append(fields, cp.FieldError{Field: "birth_date", Msg: "error.date"})
		}
		if code, err = card.ParseCode(in.CID, pan.CodeLength()); err != nil {
			fields = append(fields, cp.FieldError{Field: "cid", Msg: "error.cid"})
		}
	} else {
		if !slices.Contains(factors, in.Factor) {
			fields = append(fields, cp.FieldError{Field: "factor", Msg: "mfa.factor.unavailable"})
		}
		if strings.TrimSpace(in.Answer) == "" {
			fields = append(fields, cp.FieldError{Field: "answer", Msg: "error.field.required"})
		}
	}
	if problem := card.CheckPIN(in.PIN, c.HolderBirth.Year(), actor.BirthDate.Year()); problem != "" {
		fields = append(fields, cp.FieldError{Field: "pin", Msg: problem})
	} else if in.Confirm != in.PIN {
		fields = append(fields, cp.FieldError{Field: "pin_confirm", Msg: "pin.mismatch"})
	}
	if len(fields) > 0 {
		return cp.InvalidFields(op, fields...)
	}
	if !fallback && in.FlowToken == "" {
		return cp.E(op, cp.Expired, "card.pin.expired", nil)
	}
	n, end, err := s.store.Hit(ctx, "card-pin-identify:"+strconv.FormatInt(c.ID, 10), s.cfg.PINLockFor, s.now())
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if n > s.cfg.PINChecks {
		return &cp.Error{Op: op, Kind: cp.Locked, Msg: "card.pin.locked", Until: end}
	}
	failed := func(msg string) error {
		s.record(ctx, member, EventPINIdentifyKO, c.Last, src)
		if n >= s.cfg.PINChecks {
			return &cp.Error{Op: op, Kind: cp.Locked, Msg: "card.pin.locked", Until: end}
		}
		return cp.E(op, cp.Forbidden, msg, nil)
	}
	if fallback {
		if !s.identify(actor, birth, pan, c.Expiry, code) {
			return failed("card.pin.idfail")
		}
	} else if err := s.ident.Reidentify(ctx, member, pinPurpose(c.ID), in.FlowToken, in.Factor, in.Answer, src); err != nil {
		if cp.IsKind(err, cp.Unauthenticated) {
			return failed("mfa.invalid")
		}
		return identifyError(op, err)
	}
	pin, err := cardcrypto.ParsePIN(in.PIN)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	value, err := s.hsm.PINVerificationValue(pan, pin)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if err := s.store.SetPINValue(ctx, c.ID, value, s.now()); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	s.record(ctx, member, EventPINChanged, c.Last, src)
	s.notice(ctx, member, "card.pinchanged", c.Last)
	return nil
}

// identify checks both details without stopping at the first difference.
func (s *Service) identify(a Actor, birth time.Time, pan card.PAN, exp card.Expiry, code card.Code) bool {
	codeOK := s.hsm.VerifyCardCode(pan, exp, code)
	birthOK := !a.BirthDate.IsZero() && a.BirthDate.Equal(birth)
	return codeOK && birthOK
}

// VerifyPIN reports whether pin is the card's PIN, by recomputing its verification
// value: what the authorisation logic will call for chip-and-PIN. It takes no member:
// it is for internal callers, never for a member-facing surface.
func (s *Service) VerifyPIN(ctx context.Context, cardID int64, sealed cardcrypto.Sealed, pin cardcrypto.PIN) (bool, error) {
	const op = "cardservice.VerifyPIN"
	want, err := s.store.PINValue(ctx, cardID)
	if cp.IsKind(err, cp.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	pan, err := s.hsm.OpenPAN(sealed)
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	got, err := s.hsm.PINVerificationValue(pan, pin)
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	return hmac.Equal(got, want), nil
}

// throttle counts a hit and fails with TooManyRequests past limit.
func (s *Service) throttle(ctx context.Context, op, key string, limit int, window time.Duration) error {
	n, end, err := s.store.Hit(ctx, key, window, s.now())
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if n > limit {
		return &cp.Error{Op: op, Kind: cp.TooManyRequests, Msg: "card.activate.throttled", Until: end}
	}
	return nil
}

// record appends a security event. The history must not undo what it reports, so a
// failure is logged, not returned.
func (s *Service) record(ctx context.Context, member identity.MemberID, kind identity.EventKind, last string, src identity.Source) {
	e := &identity.Event{MemberID: member, Kind: kind, At: s.now(), IP: src.IP, UserAgent: truncate(src.UserAgent, 300)}
	if last != "" {
		e.Detail = "card ending " + last
	}
	if err := s.store.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "record card event", "kind", kind, "err", err)
	}
}

// notice emails the member in their language. A notice that cannot be sent is logged;
// it never undoes what it reports.
func (s *Service) notice(ctx context.Context, member identity.MemberID, kind, last string, vars ...string) {
	if s.notifier == nil {
		return
	}
	a, err := s.store.CardActor(ctx, member)
	if err != nil || a.Email == "" {
		if err != nil {
			s.log.ErrorContext(ctx, "card notice", "kind", kind, "err", err)
		}
		return
	}
	loc := locale.Negotiate(a.Locale, "")
	vars = append(vars, "last", last, "phone", loc.ContactPhone())
	msg := notify.Message{
		MemberID: int64(member), Channel: notify.Email, To: a.Email, Kind: kind,
		Subject: loc.T("notice."+kind+".subject", vars...), Body: loc.T("notice."+kind+".body", vars...),
		CreatedAt: s.now(),
	}
	if err := s.notifier.Notify(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "card notice", "message", msg, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
