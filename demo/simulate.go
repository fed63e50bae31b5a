package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/network"
)

// Simulator plays the card network for the demo issuer (SPEC PL7): it sends a
// realistic stream of signed messages through the real network interface, so a
// newcomer sees a living account — purchases across the demo's merchants, at home,
// online and abroad; a few declines (a mistyped CID or expiry, a frozen or inactive
// card, a card at its limit); reversals of some approvals; clearings of the rest
// ClearAfter later, restaurants with a tip on top; and now and then a refund.
// A fifth of the purchases are paid with a phone wallet: the first time a card
// is, the simulator plays the token service too and tells the issuer of the
// card's network token, which then names the card in place of its number.
//
// What is pending lives in memory: a restarted simulator forgets its open
// authorisations, whose holds then expire as any uncleared hold does.
type Simulator struct {
	URL    string // the server's base URL; messages go to URL + "/network/v1/..."
	Secret []byte // the HMAC key shared with the issuer
	Rate   float64
	// ClearAfter is how long an approval waits for its clearing; the network takes a
	// day or two, a demo may want minutes. 0 means 24 hours.
	ClearAfter time.Duration
	Cards      []DemoCard
	Seed       uint64
	Client     *http.Client // nil: a client with a 5-second timeout
	Now        func() time.Time
	Log        *slog.Logger

	run   string // distinguishes this run's message ids from an earlier run's
	seq   atomic.Int64
	open  []openAuth
	done  []openAuth // cleared purchases, for refunds
	stats map[string]int
	// tokens are the cards' wallet tokens the issuer was told of, by card number.
	tokens map[string]walletToken
}

// walletToken is a card's network token in the demo's phone wallet.
type walletToken struct {
	number, expiry string
}

// openAuth is an approved authorisation the simulator still has to settle.
type openAuth struct {
	id      string
	card    DemoCard
	req     network.AuthorisationRequest
	clearAt time.Time
}

// Run sends messages at s.Rate per second until ctx ends. A message that fails
// (the server is restarting, say) is logged and the stream goes on.
func (s *Simulator) Run(ctx context.Context) error {
	if s.Rate <= 0 || len(s.Cards) == 0 || len(s.Secret) == 0 {
		return errors.New("demo.Simulator: a rate, cards and a secret are needed")
	}
	s.defaults()
	r := mrand.New(mrand.NewPCG(s.Seed, uint64(s.Now().UnixNano())))
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.Rate))
	defer tick.Stop()
	report := time.NewTicker(time.Minute)
	defer report.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-report.C:
			s.Log.Info("simulator", "sent", s.seq.Load(), "outcomes", fmt.Sprint(s.stats), "open", len(s.open))
			continue
		case <-tick.C:
		}
		if err := s.Step(ctx, r); err != nil && ctx.Err() == nil {
			s.Log.Warn("simulator message failed", "err", err)
		}
	}
}

// defaults fills in what the caller left zero, once.
func (s *Simulator) defaults() {
	if s.stats != nil {
		return
	}
	if s.ClearAfter <= 0 {
		s.ClearAfter = 24 * time.Hour
	}
	if s.Client == nil {
		s.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	s.run = strconv.FormatInt(s.Now().UnixNano(), 36)
	s.stats = map[string]int{}
	s.tokens = map[string]walletToken{}
}

// Step sends one message: a due clearing first, otherwise a refund, a reversal or a
// new purchase, by chance.
func (s *Simulator) Step(ctx context.Context, r *mrand.Rand) error {
	s.defaults()
	now := s.Now()
	if len(s.open) > 0 && !now.Before(s.open[0].clearAt) {
		a := s.open[0]
		s.open = s.open[1:]
		return s.clear(ctx, r, a)
	}
	switch n := r.IntN(100); {
	case n < 2 && len(s.done) > 0:
		i := r.IntN(len(s.done))
		a := s.done[i]
		s.done = append(s.done[:i], s.done[i+1:]...)
		return s.refund(ctx, r, a)
	case n < 6 && len(s.open) > 0:
		i := r.IntN(len(s.open))
		a := s.open[i]
		s.open = append(s.open[:i], s.open[i+1:]...)
		return s.reverse(ctx, r, a)
	}
	return s.authorise(ctx, r, now)
}

func (s *Simulator) authorise(ctx context.Context, r *mrand.Rand, now time.Time) error {
	c := s.Cards[r.IntN(len(s.Cards))]
	sh := pickShop(r)
	if r.IntN(100) < 4 {
		sh = subscriptions[r.IntN(len(subscriptions))]
	}
	where := placeOf(r, sh, homeCities[r.IntN(len(homeCities))])
	req := network.AuthorisationRequest{
		MessageID:  s.nextID(),
		CardNumber: c.PAN.Digits(),
		Expiry:     c.Expiry.String(),
		Amount:     sh.amount(r),
		Currency:   "USD",
		Merchant:   network.Merchant{Name: sh.name, MCC: sh.mcc, City: where.city, Country: where.country},
		Channel:    string(sh.channel),
	}
	if sh.channel != account.Recurring && r.IntN(5) == 0 {
		tok, err := s.token(ctx, c, now)
		if err != nil {
			return err
		}
		if tok.number != "" {
			req.CardNumber, req.Token, req.Expiry = "", tok.number, tok.expiry
		}
	}
	if sh.channel == account.Online && req.Token == "" {
		req.CID = c.Code.Digits()
		if r.IntN(100) < 2 { // a mistyped security code
			req.CID = wrongDigits(r, req.CID)
		}
	}
	if r.IntN(200) == 0 { // a mistyped or stale expiry date
		req.Expiry = fmt.Sprintf("%02d/%02d", 1+r.IntN(12), (now.Year()+1+r.IntN(3))%100)
	}
	var resp network.Response
	if err := s.send(ctx, "/network/v1/authorisations", req, &resp); err != nil {
		return err
	}
	s.stats[resp.ResponseCode]++
	if req.Token != "" {
		s.stats["token-auth:"+resp.ResponseCode]++
	}
	if resp.Approved {
		s.open = append(s.open, openAuth{id: req.MessageID, card: c, req: req, clearAt: now.Add(s.ClearAfter)})
	}
	return nil
}

// token returns c's wallet token, telling the issuer of it first if this run has not
// yet (a token message is idempotent per token: telling it again after a restart
// is harmless). A declined token (a card lost or closed) comes back empty.
func (s *Simulator) token(ctx context.Context, c DemoCard, now time.Time) (walletToken, error) {
	if t, ok := s.tokens[c.PAN.Digits()]; ok {
		return t, nil
	}
	// The demo's token range, with the card's account digits: one token per card.
	digits := c.PAN.Digits()
	body := "489537" + digits[len(digits)-10:len(digits)-1]
	exp := now.AddDate(3, 0, 0)
	t := walletToken{number: body + string(card.LuhnCheckDigit(body)), expiry: fmt.Sprintf("%02d/%02d", int(exp.Month()), exp.Year()%100)}
	msg := network.TokenMessage{MessageID: s.nextID(), Token: t.number, TokenExpiry: t.expiry, Status: string(authorize.TokenActive),
		Wallet: "Phone Wallet", CardNumber: digits, CardExpiry: c.Expiry.String()}
	var resp network.Response
	if err := s.send(ctx, "/network/v1/tokens", msg, &resp); err != nil {
		return walletToken{}, err
	}
	s.stats["token:"+resp.ResponseCode]++
	if !resp.Approved {
		t = walletToken{}
	}
	s.tokens[digits] = t
	return t, nil
}

func (s *Simulator) clear(ctx context.Context, r *mrand.Rand, a openAuth) error {
	amount := a.req.Amount
	if a.req.Merchant.MCC == "5812" || a.req.Merchant.MCC == "5814" {
		amount += amount * int64(10+r.IntN(11)) / 100 // the tip, added after the authorisation
	}
	p := network.PresentmentRequest{
		MessageID: s.nextID(), OriginalMessageID: a.id, CardNumber: a.req.CardNumber, Token: a.req.Token,
		Amount: amount, Currency: a.req.Currency, Merchant: a.req.Merchant, Channel: a.req.Channel,
	}
	var resp network.Response
	if err := s.send(ctx, "/network/v1/clearings", p, &resp); err != nil {
		return err
	}
	s.stats["clearing:"+resp.ResponseCode]++
	if resp.Approved {
		a.req.Amount = amount
		s.done = append(s.done, a)
		if len(s.done) > 1000 {
			s.done = s.done[len(s.done)-1000:]
		}
	}
	return nil
}

func (s *Simulator) reverse(ctx context.Context, r *mrand.Rand, a openAuth) error {
	rev := network.ReversalRequest{MessageID: s.nextID(), OriginalMessageID: a.id, CardNumber: a.req.CardNumber, Token: a.req.Token}
	if a.req.Merchant.MCC == "7011" && r.IntN(2) == 0 {
		// A hotel pre-authorised more than the stay cost: release part of it, clear the rest.
		rev.Amount = a.req.Amount / 4
		a.req.Amount -= rev.Amount
		s.open = append(s.open, a)
	}
	var resp network.Response
	if err := s.send(ctx, "/network/v1/reversals", rev, &resp); err != nil {
		return err
	}
	s.stats["reversal:"+resp.ResponseCode]++
	return nil
}

func (s *Simulator) refund(ctx context.Context, r *mrand.Rand, a openAuth) error {
	amount := a.req.Amount
	if r.IntN(2) == 0 {
		amount = max(1, amount/2) // a partial return
	}
	p := network.PresentmentRequest{
		MessageID: s.nextID(), OriginalMessageID: a.id, CardNumber: a.req.CardNumber, Token: a.req.Token,
		Amount: amount, Currency: a.req.Currency, Merchant: a.req.Merchant, Channel: a.req.Channel,
	}
	var resp network.Response
	if err := s.send(ctx, "/network/v1/refunds", p, &resp); err != nil {
		return err
	}
	s.stats["refund:"+resp.ResponseCode]++
	return nil
}

// send signs and posts one message and reads the answer. Card numbers travel only in
// the body, never in a URL or an error.
func (s *Simulator) send(ctx context.Context, path string, msg, out any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	ts := s.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(network.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(network.HeaderNonce, nonce)
	req.Header.Set(network.HeaderSignature, network.Sign(s.Secret, ts, nonce, body))
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return json.Unmarshal(b, out)
}

// Outcomes counts the answers so far by message type and response code:
// "00", "N7", ... for authorisations, "clearing:00", "reversal:00", "refund:00",
// "token:00" for token messages, "token-auth:00" for authorisations by token (also
// counted under their code).
func (s *Simulator) Outcomes() map[string]int {
	return maps.Clone(s.stats)
}

func (s *Simulator) nextID() string {
	return "sim-" + s.run + "-" + strconv.FormatInt(s.seq.Add(1), 10)
}

// wrongDigits changes one digit of a code.
func wrongDigits(r *mrand.Rand, code string) string {
	b := []byte(code)
	i := r.IntN(len(b))
	b[i] = '0' + (b[i]-'0'+byte(1+r.IntN(9)))%10
	return string(b)
}
