package card

import "errors"

// State is where a card is in its life. The values are the ones the issuer's records
// use (issuer.StateInactive and friends) and the ones stored, so they must not change.
type State string

// Card states.
const (
	Inactive State = "inactive" // issued, not yet activated by the member (SPEC AC7)
	Active   State = "active"
	Frozen   State = "frozen" // paused by the member; authorisations decline (SPEC AC9)
	Lost     State = "lost"   // reported lost or stolen; blocked for good (SPEC AC10)
	Closed   State = "closed"
)

// Action is something a member does to a card.
type Action string

// Member actions on a card.
const (
	Activate   Action = "activate"
	Freeze     Action = "freeze"
	Unfreeze   Action = "unfreeze"
	ReportLost Action = "report-lost"
)

// Transition errors: why an action is refused in a state. They say nothing secret and
// map one-to-one to messages for the member.
var (
	ErrNotInactive = errors.New("card: only a card that is not yet activated can be activated")
	ErrNotActive   = errors.New("card: only an active card can be frozen")
	ErrNotFrozen   = errors.New("card: only a frozen card can be unfrozen")
	ErrBlocked     = errors.New("card: the card is blocked (lost, stolen or closed) for good")
	ErrAction      = errors.New("card: unknown action")
)

// Next is the card lifecycle as a pure function: the state a card in state from moves
// to when the member does a, and whether anything changes. Freezing a frozen card and
// unfreezing an active one are accepted and change nothing, so a double click or a
// retried request is harmless. Lost and closed are final: nothing a member does brings
// such a card back, which is what makes reporting a card lost safe.
func Next(from State, a Action) (to State, changed bool, err error) {
	if from == Lost || from == Closed {
		return from, false, ErrBlocked
	}
	switch a {
	case Activate:
		if from == Inactive {
			return Active, true, nil
		}
		return from, false, ErrNotInactive
	case Freeze:
		switch from {
		case Active:
			return Frozen, true, nil
		case Frozen:
			return Frozen, false, nil
		}
		return from, false, ErrNotActive
	case Unfreeze:
		switch from {
		case Frozen:
			return Active, true, nil
		case Active:
			return Active, false, nil
		}
		return from, false, ErrNotFrozen
	case ReportLost:
		switch from {
		case Inactive, Active, Frozen:
			return Lost, true, nil
		}
		return from, false, ErrBlocked
	}
	return from, false, ErrAction
}

// Usable reports whether a card in state s may still be serviced (PIN, freeze): not
// lost and not closed.
func (s State) Usable() bool { return s == Inactive || s == Active || s == Frozen }
