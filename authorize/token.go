package authorize

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
)

// Network tokens. A wallet (a phone's) or a merchant that keeps cards on file holds a
// token in place of the card number: a number of the same shape, from the network's
// token ranges, with an expiry of its own. The network's token service issues it and
// tells the issuer, with a token message, of each token it issued for one of the
// issuer's cards and of each change to it (suspended when a phone is lost, active
// again when it is found, deleted for good). An authorisation, reversal, clearing
// or refund then names the card by its token or by its number, never both.
//
// What this issuer checks for a token, and what it leaves to the token service:
//   - the token's status, read in the decision's transaction like the card's state, so
//     a suspension takes effect on the next message: suspended declines 62 (restricted,
//     for now), deleted declines 46 (closed: the credential will never work again, as
//     Visa's rules ask of a deleted token);
//   - the expiry given against the token's own expiry, not the card's;
//   - then every rule of the card itself: state, freeze, amount, velocity, credit.
//
// The device cryptogram (Visa's TAVV, Mastercard's DSRP cryptogram) that proves a
// token payment came from the device the token was issued to is computed with the
// token service's keys, which an issuer does not hold: the token service validates
// it on the issuer's behalf and declines a failure itself, as VTS and MDES do. So a
// token's online purchase needs no CID, and a CID sent with a token is refused: the
// card's CID is not the token's. A PIN block formed with a token is also refused:
// the network translates PIN blocks to the card number before they reach the issuer.
// A token stands for one card for its whole life; moving tokens to a replacement
// card is not done here.

// TokenStatus is a network token's status, as the token service last said.
type TokenStatus string

// Token statuses.
const (
	TokenActive    TokenStatus = "active"
	TokenSuspended TokenStatus = "suspended"
	TokenDeleted   TokenStatus = "deleted"
)

// Valid reports whether t is one of the statuses.
func (t TokenStatus) Valid() bool {
	return t == TokenActive || t == TokenSuspended || t == TokenDeleted
}

// MaxWalletLen bounds the name of the wallet a token was issued to.
const MaxWalletLen = 64

// KindToken is the kind of a token message.
const KindToken = "token"

// TokenMessage is the token service's news of a token: issued for a card (status
// active), or a change of its status or expiry.
type TokenMessage struct {
	MessageID   string
	Token       card.PAN
	TokenExpiry card.Expiry
	Status      TokenStatus
	Wallet      string // who asked for the token, e.g. "Apple Pay"; may be empty
	PAN         card.PAN
	Expiry      card.Expiry // the card's, as the cardholder gave it to the wallet
}

// Token is a token as stored.
type Token struct {
	Fingerprint []byte
	CardID      int64
	Last        string // the token's last four digits, to name it
	Expiry      card.Expiry
	Status      TokenStatus
	Wallet      string
}

// TokenSnapshot is what a token message is decided on, read in its transaction.
type TokenSnapshot struct {
	CardState card.State
	// Existing is the token as stored, if it is; its CardID is 0 if it is not.
	Existing Token
}

// DecideToken decides a token message:
//
//  1. a token stands for one card: a message naming another card than the stored
//     token's is invalid (12);
//  2. a deleted token stays deleted: anything but another deletion is invalid (12);
//  3. suspending or deleting is then always approved: it only takes away, and must
//     not fail on a detail such as a card expiry the token service has not yet
//     heard was renewed;
//  4. issuing or resuming needs the card's expiry as given (54), a card that can be
//     used: not lost (41) or closed (05), and a token that has not expired (54). A
//     frozen or not yet activated card may have tokens: the card's own rules decline
//     their payments until it is unfrozen or activated.
func DecideToken(m TokenMessage, ref CardRef, now time.Time, snap TokenSnapshot) Code {
	old := snap.Existing
	switch {
	case old.CardID != 0 && old.CardID != ref.CardID:
		return InvalidTxn
	case old.Status == TokenDeleted && m.Status != TokenDeleted:
		return InvalidTxn
	case m.Status != TokenActive:
		return Approved
	case m.Expiry != ref.Expiry:
		return ExpiredCard
	}
	switch snap.CardState {
	case card.Lost:
		return LostCard
	case card.Closed:
		return DoNotHonour
	}
	if m.TokenExpiry.Expired(now) {
		return ExpiredCard
	}
	return Approved
}

// Token decides a token message from the network's token service and stores the
// token when approved. Like every network message it is idempotent on its id.
func (s *Service) Token(ctx context.Context, m TokenMessage) (Answer, error) {
	const op = "authorize.Token"
	var fs []cp.FieldError
	fs = checkID(fs, "message_id", m.MessageID, true)
	if m.Token.IsZero() || (!m.PAN.IsZero() && m.Token.Digits() == m.PAN.Digits()) {
		fs = append(fs, cp.FieldError{Field: "token", Msg: "error.invalid"})
	}
	if m.TokenExpiry.Validate() != nil {
		fs = append(fs, cp.FieldError{Field: "token_expiry", Msg: "error.invalid"})
	}
	if !m.Status.Valid() {
		fs = append(fs, cp.FieldError{Field: "status", Msg: "error.invalid"})
	}
	if len(m.Wallet) > MaxWalletLen || (m.Wallet != "" && !printableText(m.Wallet)) {
		fs = append(fs, cp.FieldError{Field: "wallet", Msg: "error.invalid"})
	}
	if m.PAN.IsZero() {
		fs = append(fs, cp.FieldError{Field: "card_number", Msg: "error.invalid"})
	}
	if m.Expiry.Validate() != nil {
		fs = append(fs, cp.FieldError{Field: "card_expiry", Msg: "error.invalid"})
	}
	if len(fs) > 0 {
		return Answer{}, cp.InvalidFields(op, fs...)
	}
	ref, err := s.card(ctx, m.PAN, card.PAN{})
	if err != nil {
		return Answer{}, cp.E(op, cp.Internal, "", err)
	}
	now := s.now()
	digits := m.Token.Digits()
	t := Token{
		Fingerprint: s.hsm.Fingerprint(m.Token), CardID: ref.CardID, Last: digits[len(digits)-4:],
		Expiry: m.TokenExpiry, Status: m.Status, Wallet: m.Wallet,
	}
	msg := Message{ID: m.MessageID, Kind: KindToken, Digest: s.digest(KindToken, m), At: now}
	ans, err := s.store.Token(ctx, msg, ref, t, func(snap TokenSnapshot) Code { return DecideToken(m, ref, now, snap) })
	return ans, storeErr(op, err)
}

// printableText reports whether s is valid UTF-8 without control characters.
func printableText(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}
