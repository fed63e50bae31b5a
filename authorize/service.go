package authorize

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/card"
)

// Kinds of network message.
const (
	KindAuthorisation = "authorisation"
	KindReversal      = "reversal"
	KindClearing      = "clearing"
	KindRefund        = "refund"
)

// MaxMessageIDLen bounds a message id; ids become ledger idempotency keys with a
// short prefix, which account.MaxKeyLen bounds.
const MaxMessageIDLen = 64

// Merchant is where a card was used.
type Merchant struct {
	Name    string
	MCC     string // ISO 18245, 4 digits
	City    string
	Country string // ISO 3166-1 alpha-2
}

// Request is an authorisation request.
type Request struct {
	MessageID string
	PAN       card.PAN // the card's number, or zero when Token names the card
	Token     card.PAN // a network token (see token.go), or zero
	Expiry    card.Expiry
	CID       string // as sent; "" when none (card present, or a recurring payment)
	PINBlock  []byte // nil when no PIN was entered
	PINFormat int    // ISO 9564 format of PINBlock: 0 or 4
	Amount    int64  // minor units
	Currency  string
	Merchant  Merchant
	Channel   account.Channel
}

// Reversal gives back all or part of an authorisation's hold.
type Reversal struct {
	MessageID  string
	OriginalID string // the authorisation's message id
	PAN        card.PAN
	Token      card.PAN // instead of PAN
	Amount     int64    // how much to release; 0 releases the whole remaining hold
}

// Presentment is a clearing or a refund: money that moves for good.
type Presentment struct {
	MessageID  string
	OriginalID string // the authorisation it settles; "" for none
	PAN        card.PAN
	Token      card.PAN // instead of PAN
	Amount     int64    // minor units, positive
	Currency   string
	Merchant   Merchant
	Channel    account.Channel
}

// Answer is what the network is told. A resend of a message gets the first answer
// with Replayed set.
type Answer struct {
	MessageID string `json:"message_id"`
	Code      Code   `json:"response_code"`
	AuthCode  string `json:"auth_code,omitempty"`
	Replayed  bool   `json:"-"`
}

// CardRef is what never changes about a card, so it may be cached: a replacement
// card has a new number and so a new fingerprint. The card's state is not here; it is
// read in the decision's transaction every time (a freeze takes effect on the next
// authorisation, from any instance).
type CardRef struct {
	CardID    int64
	AccountID int64
	Expiry    card.Expiry
	Product   string // the account's product code
	Currency  string // the account's currency
	// TokenID is the network token the card was named by, if it was; then Expiry is
	// zero, since a token's expiry and status can change and are read in the
	// decision's transaction.
	TokenID int64
}

// Message is a message as stored for idempotency.
type Message struct {
	ID     string
	Kind   string
	Digest []byte // a keyed MAC of the message's contents
	At     time.Time
}

// Hold is the pending posting an approval places and how long it may stay open.
type Hold struct {
	Entry     account.Entry
	AuthCode  string
	ExpiresAt time.Time
}

// Store is what the decisions need from storage. Every method that takes a Message
// runs in one transaction, with the account's row locked for its whole length (so two
// decisions on one account are serialised and never both spend the last of the
// credit), records the message once per id and is idempotent: if msg.ID is already
// stored it returns the stored answer with Replayed set and changes nothing, or
// Conflict if the stored message has another kind or digest. An answer returned
// without error is committed.
type Store interface {
	// CardByFingerprint returns the card with the PAN fingerprint. Returns NotFound
	// if there is none.
	CardByFingerprint(ctx context.Context, fingerprint []byte) (CardRef, error)
	// CardByToken returns the card of the network token with the fingerprint, with
	// TokenID set, whatever the token's status. Returns NotFound if there is none.
	CardByToken(ctx context.Context, fingerprint []byte) (CardRef, error)
	// Authorise reads the Snapshot of ref's card and account (velocity counted over
	// approvals since since) and calls decide with it. On approval it stores hold and
	// the authorisation, and answers with hold.AuthCode. It counts a PINBad outcome
	// against the card's current PIN and clears the count on PINGood. A zero ref
	// (no such card) is answered NoSuchCard without calling decide. When ref.TokenID
	// is set, the Snapshot has the token's status and expiry.
	Authorise(ctx context.Context, msg Message, ref CardRef, since time.Time, hold Hold, decide func(Snapshot) Decision) (Answer, error)
	// Reverse releases amount (0: all) of the open hold of the authorisation with
	// message id originalID on ref's card, keeping the rest held. Answers NoOriginal
	// if there is no such authorisation on that card, Approved otherwise (also when
	// the hold is already closed: there is nothing left to give back).
	Reverse(ctx context.Context, msg Message, ref CardRef, originalID string, amount int64) (Answer, error)
	// Present posts e (a posted purchase for a clearing, a posted refund for a
	// refund) and, when originalID names an open authorisation on ref's card, closes
	// it and releases its hold. Answers Approved.
	Present(ctx context.Context, msg Message, ref CardRef, originalID string, e account.Entry) (Answer, error)
	// Token decides a token message with decide, given the card's state and the token
	// as stored (by t.Fingerprint), and on approval stores t: a new token, or the
	// stored one's new status, expiry and wallet. A zero ref is answered NoSuchCard
	// without calling decide.
	Token(ctx context.Context, msg Message, ref CardRef, t Token, decide func(TokenSnapshot) Code) (Answer, error)
	// ExpireHolds releases every open hold whose time is up at now and returns how
	// many it released.
	ExpireHolds(ctx context.Context, now time.Time) (int64, error)
}

// HSM is what the decisions need from the issuer's HSM (cardcrypto.Soft provides it).
type HSM interface {
	Fingerprint(pan card.PAN) []byte
	VerifyCardCode(pan card.PAN, exp card.Expiry, code card.Code) bool
	MAC(purpose string, data []byte) []byte
	// PINBlockVerificationValue decrypts a PIN block under the zone PIN key and
	// returns the verification value of the PIN in it.
	PINBlockVerificationValue(format int, pan card.PAN, block []byte) ([]byte, error)
}

// Event is a decision handed to the Observer after it was answered.
type Event struct {
	MessageID string
	CardID    int64
	AccountID int64
	Code      Code
	Reason    string
	Amount    int64
	Currency  string
	Merchant  Merchant
	Channel   account.Channel
	At        time.Time
	// Owed is what the account owed once the decision was made: its posted balance
	// and open holds, an approval's own hold included, as the decision read them.
	Owed int64
}

// Observer hears of approved purchases and of declines because the card is frozen,
// after the network has been answered (purchase alerts, the live dashboard).
// Events come in decision order from one goroutine, gathered for up to
// ObserveGather into one call (so an observer that reads the database reads once
// for several), and the slice is reused after Observe returns. Observe must not block
// for long: when it falls behind by more than a buffer's worth, events are dropped
// (and logged) rather than slow a decision.
type Observer interface {
	Observe(ctx context.Context, events []Event)
}

// ObserveGather is how long the observer's goroutine waits after an event for others
// to join it. At 3,000 decisions/s, reading the alerted members once per event was a
// tenth of the server's CPU; an alert a few milliseconds later is no loss.
const ObserveGather = 5 * time.Millisecond

// observeBatch bounds the events handed to one Observe call.
const observeBatch = 256

// Service decides network messages. It is safe for concurrent use.
type Service struct {
	store Store
	hsm   HSM
	cfg   Config
	now   func() time.Time
	log   *slog.Logger

	cacheMu sync.RWMutex
	cache   map[string]CardRef

	events  chan Event
	done    chan struct{}
	dropped atomic.Int64
}

// maxCache bounds the card cache; past it the cache starts again empty, which costs
// one lookup per card and never a wrong answer.
const maxCache = 200_000

// New returns a Service. obs may be nil. Close stops the observer's goroutine.
func New(store Store, hsm HSM, cfg Config, now func() time.Time, log *slog.Logger, obs Observer) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.PINTries <= 0 {
		cfg.PINTries = DefaultConfig.PINTries
	}
	if cfg.HoldFor <= 0 {
		cfg.HoldFor = DefaultConfig.HoldFor
	}
	s := &Service{store: store, hsm: hsm, cfg: cfg, now: now, log: log, cache: map[string]CardRef{}}
	if obs != nil {
		s.events = make(chan Event, 4096)
		s.done = make(chan struct{})
		go func() {
			defer close(s.done)
			s.deliver(obs)
		}()
	}
	return s
}

// deliver hands the events to obs, each first event with those that follow within
// ObserveGather, until the channel is closed.
func (s *Service) deliver(obs Observer) {
	batch := make([]Event, 0, observeBatch)
	t := time.NewTimer(ObserveGather)
	t.Stop()
	for e := range s.events {
		batch = append(batch[:0], e)
		t.Reset(ObserveGather)
	gather:
		for len(batch) < observeBatch {
			select {
			case e, ok := <-s.events:
				if !ok {
					break gather
				}
				batch = append(batch, e)
			case <-t.C:
				break gather
			}
		}
		t.Stop()
		obs.Observe(context.Background(), batch)
	}
}

// Close stops handing events to the observer, after those already queued.
func (s *Service) Close() {
	if s.events != nil {
		close(s.events)
		<-s.done
		s.events = nil
	}
}

func (s *Service) observe(e Event) {
	if s.events == nil {
		return
	}
	select {
	case s.events <- e:
	default:
		// Logged at the first drop and every thousandth, not each: a flood of log
		// lines would slow the decisions the drop is protecting.
		if n := s.dropped.Add(1); n%1000 == 1 {
			s.log.Warn("authorisation observer behind; events dropped", "dropped", n)
		}
	}
}

// card looks the card up by its number's fingerprint, or by the network token's
// when there is one, through the cache. A token's card never changes, so it may be
// cached like a card's facts.
func (s *Service) card(ctx context.Context, pan, token card.PAN) (CardRef, error) {
	byToken := !token.IsZero()
	if byToken {
		pan = token
	}
	raw := s.hsm.Fingerprint(pan)
	fp := string(raw)
	if byToken {
		fp = "t" + fp // the keys of tokens and of cards differ in length
	}
	s.cacheMu.RLock()
	ref, ok := s.cache[fp]
	s.cacheMu.RUnlock()
	if ok {
		return ref, nil
	}
	var err error
	if byToken {
		ref, err = s.store.CardByToken(ctx, raw)
	} else {
		ref, err = s.store.CardByFingerprint(ctx, raw)
	}
	if cp.IsKind(err, cp.NotFound) {
		return CardRef{}, nil
	}
	if err != nil {
		return CardRef{}, err
	}
	s.cacheMu.Lock()
	if len(s.cache) >= maxCache {
		s.cache = map[string]CardRef{}
	}
	s.cache[fp] = ref
	s.cacheMu.Unlock()
	return ref, nil
}

// Authorise decides an authorisation request. Malformed requests are Invalid (the
// network's bug, answered 400); everything about the card and the account is a
// decision with a response code.
func (s *Service) Authorise(ctx context.Context, r Request) (Answer, error) {
	const op = "authorize.Authorise"
	if err := r.validate(); err != nil {
		return Answer{}, err
	}
	now := s.now()
	tokenised := !r.Token.IsZero()
	ref, err := s.card(ctx, r.PAN, r.Token)
	if err != nil {
		return Answer{}, cp.E(op, cp.Internal, "", err)
	}
	msg := Message{ID: r.MessageID, Kind: KindAuthorisation, Digest: s.digest(KindAuthorisation, r), At: now}
	c := Checks{
		Product: ref.Product, Channel: r.Channel, Amount: r.Amount, Currency: r.Currency, AccountCcy: ref.Currency,
		Tokenised: tokenised,
	}
	if !tokenised { // a token's expiry is read with its status, in the decision below
		c.ExpiryMatch, c.Expired = r.Expiry == ref.Expiry, ref.Expiry.Expired(now)
	}
	// validate refused a CID or a PIN block with a token.
	if ref.CardID != 0 && !tokenised {
		if r.CID != "" {
			c.CIDGiven = true
			code, err := card.ParseCode(r.CID, r.PAN.CodeLength())
			c.CIDOK = err == nil && s.hsm.VerifyCardCode(r.PAN, ref.Expiry, code)
		}
		if r.PINBlock != nil {
			c.PINGiven = true
			// A block that does not decrypt leaves PINValue nil: a wrong PIN.
			c.PINValue, _ = s.hsm.PINBlockVerificationValue(r.PINFormat, r.PAN, r.PINBlock)
		}
	}
	hold := Hold{
		Entry: account.Entry{
			AccountID: ref.AccountID, CardID: ref.CardID, Kind: account.Purchase, Amount: r.Amount, Currency: r.Currency,
			Description: r.Merchant.Name, Merchant: r.Merchant.Name, MCC: r.Merchant.MCC, City: r.Merchant.City,
			Country: r.Merchant.Country, Channel: r.Channel, Status: account.Pending, PostedAt: now,
			IdempotencyKey: "auth:" + r.MessageID,
		},
		AuthCode:  authCode(),
		ExpiresAt: now.Add(s.cfg.HoldFor),
	}
	var (
		decision Decision
		owed     int64
	)
	since := now.Add(-s.cfg.VelocityWindow)
	if s.cfg.VelocityCount <= 0 && s.cfg.VelocityAmount <= 0 {
		since = time.Time{} // no velocity rule: the store need not count
	}
	ans, err := s.store.Authorise(ctx, msg, ref, since, hold, func(snap Snapshot) Decision {
		if tokenised {
			c.ExpiryMatch, c.Expired = r.Expiry == snap.TokenExpiry, snap.TokenExpiry.Expired(now)
		}
		decision = Decide(s.cfg, c, snap)
		owed = snap.Balance + snap.Pending
		if decision.Approved() {
			owed += r.Amount
		}
		return decision
	})
	if err != nil {
		if cp.IsKind(err, cp.Conflict) {
			return Answer{}, cp.E(op, cp.Conflict, "network.message.reused", err)
		}
		return Answer{}, cp.E(op, cp.Internal, "", err)
	}
	if !ans.Replayed && (decision.Code == Approved || decision.Reason == reasonFrozen) {
		s.observe(Event{MessageID: r.MessageID, CardID: ref.CardID, AccountID: ref.AccountID, Code: decision.Code,
			Reason: decision.Reason, Amount: r.Amount, Currency: r.Currency, Merchant: r.Merchant, Channel: r.Channel, At: now,
			Owed: owed})
	}
	return ans, nil
}

// Reverse releases all or part of an authorisation's hold.
func (s *Service) Reverse(ctx context.Context, r Reversal) (Answer, error) {
	const op = "authorize.Reverse"
	var fs []cp.FieldError
	fs = checkID(fs, "message_id", r.MessageID, true)
	fs = checkID(fs, "original_message_id", r.OriginalID, true)
	fs = checkCard(fs, r.PAN, r.Token)
	if r.Amount < 0 {
		fs = append(fs, cp.FieldError{Field: "amount", Msg: "error.invalid"})
	}
	if len(fs) > 0 {
		return Answer{}, cp.InvalidFields(op, fs...)
	}
	ref, err := s.card(ctx, r.PAN, r.Token)
	if err != nil {
		return Answer{}, cp.E(op, cp.Internal, "", err)
	}
	msg := Message{ID: r.MessageID, Kind: KindReversal, Digest: s.digest(KindReversal, r), At: s.now()}
	ans, err := s.store.Reverse(ctx, msg, ref, r.OriginalID, r.Amount)
	return ans, storeErr(op, err)
}

// Clear posts a clearing (presentment) and closes the authorisation it names.
func (s *Service) Clear(ctx context.Context, p Presentment) (Answer, error) {
	return s.present(ctx, "authorize.Clear", KindClearing, "clr:", account.Purchase, p)
}

// Refund posts a refund to the card's account.
func (s *Service) Refund(ctx context.Context, p Presentment) (Answer, error) {
	return s.present(ctx, "authorize.Refund", KindRefund, "ref:", account.Refund, p)
}

func (s *Service) present(ctx context.Context, op, kind, prefix string, k account.Kind, p Presentment) (Answer, error) {
	var fs []cp.FieldError
	fs = checkID(fs, "message_id", p.MessageID, true)
	fs = checkID(fs, "original_message_id", p.OriginalID, false)
	fs = checkCard(fs, p.PAN, p.Token)
	if p.Amount <= 0 {
		fs = append(fs, cp.FieldError{Field: "amount", Msg: "error.invalid"})
	}
	fs = append(fs, checkMerchant(p.Merchant, p.Currency, p.Channel)...)
	if len(fs) > 0 {
		return Answer{}, cp.InvalidFields(op, fs...)
	}
	ref, err := s.card(ctx, p.PAN, p.Token)
	if err != nil {
		return Answer{}, cp.E(op, cp.Internal, "", err)
	}
	now := s.now()
	amount := p.Amount
	if !k.Debit() {
		amount = -amount
	}
	e := account.Entry{
		AccountID: ref.AccountID, CardID: ref.CardID, Kind: k, Amount: amount, Currency: p.Currency,
		Description: p.Merchant.Name, Merchant: p.Merchant.Name, MCC: p.Merchant.MCC, City: p.Merchant.City,
		Country: p.Merchant.Country, Channel: p.Channel, Status: account.Posted, PostedAt: now,
		IdempotencyKey: prefix + p.MessageID,
	}
	msg := Message{ID: p.MessageID, Kind: kind, Digest: s.digest(kind, p), At: now}
	ans, err := s.store.Present(ctx, msg, ref, p.OriginalID, e)
	return ans, storeErr(op, err)
}

// ExpireHolds releases the holds whose time is up. Every instance may run it: the
// store's update is conditional, so a hold is released once.
func (s *Service) ExpireHolds(ctx context.Context) (int64, error) {
	n, err := s.store.ExpireHolds(ctx, s.now())
	if err != nil {
		return 0, cp.E("authorize.ExpireHolds", cp.Internal, "", err)
	}
	return n, nil
}

// Sweep runs ExpireHolds every interval until ctx ends.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.ExpireHolds(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("expire authorisation holds", "err", err)
		} else if n > 0 {
			s.log.Info("expired authorisation holds", "holds", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case cp.IsKind(err, cp.Conflict):
		return cp.E(op, cp.Conflict, "network.message.reused", err)
	case cp.IsKind(err, cp.Invalid):
		return err
	}
	return cp.E(op, cp.Internal, "", err)
}

// digest is a keyed MAC of a message's contents: it tells a resend from a different
// message under the same id without storing the card number, even hashed (a PAN's
// plain hash can be reversed by trying the few digits a BIN leaves). A token is
// written after the other fields and only when there is one, so the digests stored
// before tokens existed still match their resends.
func (s *Service) digest(kind string, v any) []byte {
	var (
		b     strings.Builder
		token card.PAN
	)
	b.WriteString(kind)
	switch m := v.(type) {
	case Request:
		writeFields(&b, m.MessageID, m.PAN.Digits(), m.Expiry.String(), m.CID, string(m.PINBlock), itoa(int64(m.PINFormat)),
			itoa(m.Amount), m.Currency, m.Merchant.Name, m.Merchant.MCC, m.Merchant.City, m.Merchant.Country, string(m.Channel))
		token = m.Token
	case Reversal:
		writeFields(&b, m.MessageID, m.OriginalID, m.PAN.Digits(), itoa(m.Amount))
		token = m.Token
	case Presentment:
		writeFields(&b, m.MessageID, m.OriginalID, m.PAN.Digits(), itoa(m.Amount), m.Currency,
			m.Merchant.Name, m.Merchant.MCC, m.Merchant.City, m.Merchant.Country, string(m.Channel))
		token = m.Token
	case TokenMessage:
		writeFields(&b, m.MessageID, m.TokenExpiry.String(), string(m.Status), m.Wallet, m.PAN.Digits(), m.Expiry.String())
		token = m.Token
	}
	if !token.IsZero() {
		writeFields(&b, "token", token.Digits())
	}
	return s.hsm.MAC("network-message", []byte(b.String()))
}

func writeFields(b *strings.Builder, fields ...string) {
	for _, f := range fields {
		b.WriteString(itoa(int64(len(f))))
		b.WriteByte(':')
		b.WriteString(f)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// authCode is a 6-character approval code (ISO 8583 field 38): digits and capitals
// without look-alikes. It is not a secret; it lets the merchant and the member name
// the approval.
func authCode() string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := binary.LittleEndian.Uint64(b[:])
	out := make([]byte, 6)
	for i := range out {
		out[i] = alphabet[n%uint64(len(alphabet))]
		n /= uint64(len(alphabet))
	}
	return string(out)
}

func (r Request) validate() error {
	var fs []cp.FieldError
	fs = checkID(fs, "message_id", r.MessageID, true)
	fs = checkCard(fs, r.PAN, r.Token)
	if r.Expiry.Validate() != nil {
		fs = append(fs, cp.FieldError{Field: "expiry", Msg: "error.invalid"})
	}
	// A token's payments carry no CID and no PIN block of their own (token.go).
	if r.PINBlock != nil && ((r.PINFormat != 0 && r.PINFormat != 4) || !r.Token.IsZero()) {
		fs = append(fs, cp.FieldError{Field: "pin_block", Msg: "error.invalid"})
	}
	if r.CID != "" && !r.Token.IsZero() {
		fs = append(fs, cp.FieldError{Field: "cid", Msg: "error.invalid"})
	}
	fs = append(fs, checkMerchant(r.Merchant, r.Currency, r.Channel)...)
	if len(fs) > 0 {
		return cp.InvalidFields("authorize.Request.validate", fs...)
	}
	return nil
}

// checkCard checks that a message names its card by exactly one of its number and a
// token.
func checkCard(fs []cp.FieldError, pan, token card.PAN) []cp.FieldError {
	switch {
	case pan.IsZero() && token.IsZero():
		return append(fs, cp.FieldError{Field: "card_number", Msg: "error.invalid"})
	case !pan.IsZero() && !token.IsZero():
		return append(fs, cp.FieldError{Field: "token", Msg: "error.invalid"})
	}
	return fs
}

func checkID(fs []cp.FieldError, field, id string, required bool) []cp.FieldError {
	if id == "" && !required {
		return fs
	}
	if id == "" || len(id) > MaxMessageIDLen || !printableASCII(id) {
		fs = append(fs, cp.FieldError{Field: field, Msg: "error.invalid"})
	}
	return fs
}

// checkMerchant checks what will go into a ledger entry, with the ledger's own rules,
// so an entry is never refused after a decision was made.
func checkMerchant(m Merchant, currency string, ch account.Channel) []cp.FieldError {
	e := account.Entry{AccountID: 1, Kind: account.Purchase, Amount: 1, Currency: currency, Description: m.Name,
		Merchant: m.Name, MCC: m.MCC, City: m.City, Country: m.Country, Channel: ch, PostedAt: time.Unix(1, 0),
		IdempotencyKey: "x"}
	var fs []cp.FieldError
	var ce *cp.Error
	if err := e.Validate(); errors.As(err, &ce) {
		fs = append(fs, ce.Fields...)
	}
	if ch == account.NoChannel {
		fs = append(fs, cp.FieldError{Field: "channel", Msg: "error.invalid"})
	}
	if m.Name == "" || utf8.RuneCountInString(m.Name) > account.MaxTextLen {
		fs = append(fs, cp.FieldError{Field: "merchant_name", Msg: "error.invalid"})
	}
	return fs
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
