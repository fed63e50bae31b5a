// Package cardservice is what a card member does with their cards online: activate a
// new card (SPEC AC7), choose a PIN (AC8, the online part), freeze and unfreeze a card
// (AC9) and report it lost or stolen, which blocks it at once and issues a replacement
// (AC10). The rules of the card lifecycle and of acceptable PINs live in package card;
// this package applies them to stored cards for a signed-in member, through the Store
// interface below, the issuer's HSM and a notifier.
//
// Who may act: the basic card member on every card of the account, an additional card
// member on their own cards only. Any other card is NotFound, exactly as a card that
// does not exist, so card ids cannot be probed.
package cardservice

import (
	"context"
	"time"

	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/identity"
)

// Actor is a signed-in member as the card rules see them.
type Actor struct {
	MemberID     identity.MemberID
	CardholderID int64
	AccountID    int64
	Basic        bool
	Name         string
	BirthDate    time.Time // civil date, UTC midnight
	Email        string
	Locale       string
}

// Card is a stored card with what servicing needs of it. Its number is sealed; only
// the HSM opens it.
type Card struct {
	ID           int64
	AccountID    int64
	CardholderID int64
	HolderName   string
	HolderBirth  time.Time // the card holder's date of birth (civil date)
	Basic        bool      // the basic card member's card
	Sealed       cardcrypto.Sealed
	Fingerprint  []byte
	Last         string // screen digits (4 or 5)
	Expiry       card.Expiry
	State        card.State
	IssuedAt     time.Time
	ReplacesID   int64 // the card this one replaced, 0 for none
	HasPIN       bool
}

// NewCard is a replacement card to store.
type NewCard struct {
	Sealed      cardcrypto.Sealed
	Fingerprint []byte
	Last        string
	Expiry      card.Expiry
	IssuedAt    time.Time
}

// Identifier identifies a signed-in member again with a second factor before a PIN is
// chosen: the security question, a one-time code by SMS or email, or an authenticator
// app. *identity.Service implements it (identity/reidentify.go). purpose binds a
// challenge to one card's PIN, so it cannot serve for another card or for a sign-in.
type Identifier interface {
	// ReidentifyFactors lists the factors the member can answer; empty when they have
	// none, and then the PIN flow falls back to date of birth and security code.
	ReidentifyFactors(ctx context.Context, member identity.MemberID) ([]identity.Factor, error)
	// StartReidentify starts a challenge (a flow token that serves once); with no
	// factors it stores nothing and returns an empty challenge.
	StartReidentify(ctx context.Context, member identity.MemberID, purpose string, src identity.Source) (*identity.Challenge, error)
	// PendingReidentify describes a live challenge again, and the channel of a code
	// sent for it that is still valid.
	PendingReidentify(ctx context.Context, member identity.MemberID, purpose string, tok identity.Token, src identity.Source) (*identity.Challenge, identity.Factor, error)
	// SendReidentifyCode sends a one-time code for the challenge by email or SMS.
	SendReidentifyCode(ctx context.Context, member identity.MemberID, purpose string, tok identity.Token, channel identity.Factor, src identity.Source) error
	// Reidentify checks an answer and consumes the challenge if it is right. A wrong
	// answer, or a challenge that is not the member's for purpose, is Unauthenticated
	// "mfa.invalid"; an expired or used one Expired "mfa.expired"; a code past its
	// tries Expired "mfa.code.dead"; too many attempts TooManyRequests.
	Reidentify(ctx context.Context, member identity.MemberID, purpose string, tok identity.Token, factor identity.Factor, answer string, src identity.Source) error
}

var _ Identifier = (*identity.Service)(nil)

// Store is what card servicing needs from storage. Every method that takes a member
// scopes by them: a card the member may not act on is NotFound.
type Store interface {
	// CardActor returns the member's standing on their account. Returns NotFound if
	// there is no such member.
	CardActor(ctx context.Context, member identity.MemberID) (Actor, error)
	// MemberCard returns a card the member may act on: any card on the account for the
	// basic card member, their own cards for an additional one. Returns NotFound
	// otherwise, and for a card that does not exist.
	MemberCard(ctx context.Context, member identity.MemberID, cardID int64) (Card, error)
	// MemberCardByFingerprint is MemberCard looked up by the PAN fingerprint.
	MemberCardByFingerprint(ctx context.Context, member identity.MemberID, fingerprint []byte) (Card, error)
	// SetCardState moves a card from one state to another only if it is still in from
	// (an optimistic check, so two requests racing cannot both act on the same state).
	// Returns Conflict if the card is no longer in from, NotFound if there is no card.
	SetCardState(ctx context.Context, cardID int64, from, to card.State) error
	// ReplaceCard, in one transaction, moves the old card from its state from to
	// card.Lost and stores the replacement on the same account for the same holder,
	// inactive, and returns the replacement's id. Returns Conflict with Msg
	// "card.state.changed" if the old card is no longer in from, and Conflict with Msg
	// "card.number.taken" if the new number's fingerprint is already stored; in both
	// cases nothing is written.
	ReplaceCard(ctx context.Context, oldID int64, from card.State, nc NewCard) (int64, error)
	// SetPINValue stores the keyed PIN verification value of a card, replacing any
	// previous one. Returns NotFound if there is no card.
	SetPINValue(ctx context.Context, cardID int64, value []byte, at time.Time) error
	// PINValue returns the card's PIN verification value; NotFound if none is set.
	PINValue(ctx context.Context, cardID int64) ([]byte, error)
	// MemberCards lists the cards the member may act on, newest first per holder.
	MemberCards(ctx context.Context, member identity.MemberID) ([]Card, error)

	identity.EventStore
	identity.Throttle
}
