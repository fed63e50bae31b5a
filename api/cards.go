package api

import (
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/identity"
)

// --- Card servicing (SPEC AC7-AC10) ---
//
// Card ids in paths are the member's own: any other id, including one on another
// member's account, is 404 exactly like an id that does not exist. Full card numbers,
// security codes and PINs travel only in request bodies and are never answered back.

type cardDetailJSON struct {
	CardID     int64  `json:"card_id"`
	LastDigits string `json:"last_digits"`
	HolderName string `json:"holder_name"`
	Basic      bool   `json:"basic"`
	State      string `json:"state"`
	Expiry     string `json:"expiry"`
	HasPIN     bool   `json:"has_pin"`
	// ReplacesCardID is the card this one replaced after a loss report, or null.
	ReplacesCardID *int64 `json:"replaces_card_id"`
}

func newCardDetail(c cardservice.Card) cardDetailJSON {
	j := cardDetailJSON{CardID: c.ID, LastDigits: c.Last, HolderName: c.HolderName, Basic: c.Basic,
		State: string(c.State), Expiry: c.Expiry.String(), HasPIN: c.HasPIN}
	if c.ReplacesID != 0 {
		id := c.ReplacesID
		j.ReplacesCardID = &id
	}
	return j
}

// pathCardID reads {id}; anything but a positive integer is an id no member has.
func pathCardID(c *call) (int64, error) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cp.E("api.card", cp.NotFound, "", nil)
	}
	return id, nil
}

type activateRequest struct {
	CardNumber string `json:"card_number"`
	CID        string `json:"cid"`
}

// activateCard is POST /api/v1/cards/activate (SPEC AC7).
func (s *server) activateCard(c *call) (int, any, error) {
	var in activateRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	card, err := s.cards.Activate(c.r.Context(), c.sess.MemberID, cardservice.Activation{CardNumber: in.CardNumber, CID: in.CID}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newCardDetail(card), nil
}

// freezeCard is POST /api/v1/cards/{id}/freeze (SPEC AC9); idempotent.
func (s *server) freezeCard(c *call) (int, any, error) {
	id, err := pathCardID(c)
	if err != nil {
		return 0, nil, err
	}
	card, err := s.cards.Freeze(c.r.Context(), c.sess.MemberID, id, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newCardDetail(card), nil
}

// unfreezeCard is POST /api/v1/cards/{id}/unfreeze; idempotent.
func (s *server) unfreezeCard(c *call) (int, any, error) {
	id, err := pathCardID(c)
	if err != nil {
		return 0, nil, err
	}
	card, err := s.cards.Unfreeze(c.r.Context(), c.sess.MemberID, id, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newCardDetail(card), nil
}

type replacementJSON struct {
	Blocked     cardDetailJSON `json:"blocked"`
	Replacement cardDetailJSON `json:"replacement"`
}

// reportLost is POST /api/v1/cards/{id}/report-lost (SPEC AC10): the card is blocked
// and a replacement issued. The replacement's number goes on the plastic, not here.
func (s *server) reportLost(c *call) (int, any, error) {
	id, err := pathCardID(c)
	if err != nil {
		return 0, nil, err
	}
	rep, err := s.cards.ReportLost(c.r.Context(), c.sess.MemberID, id, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, replacementJSON{Blocked: newCardDetail(rep.Old), Replacement: newCardDetail(rep.New)}, nil
}

// The PIN flow (SPEC AC8): POST .../pin/challenge starts identifying the member (their
// security question, a one-time code sent with .../pin/send, or their authenticator
// app), then POST .../pin answers it and sets the PIN in one request. A member with
// none of those factors gets a challenge with fallback true and identifies with date of
// birth and the card's security code instead.

type pinChallengeJSON struct {
	Fallback  bool       `json:"fallback"`
	FlowToken string     `json:"flow_token,omitempty"`
	Factors   []string   `json:"factors"`
	Question  *question  `json:"question,omitempty"`
	Email     string     `json:"email,omitempty"`
	Phone     string     `json:"phone,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// startPINChallenge is POST /api/v1/cards/{id}/pin/challenge.
func (s *server) startPINChallenge(c *call) (int, any, error) {
	id, err := pathCardID(c)
	if err != nil {
		return 0, nil, err
	}
	ch, err := s.cards.StartPINChallenge(c.r.Context(), c.sess.MemberID, id, c.src)
	if err != nil {
		return 0, nil, err
	}
	out := pinChallengeJSON{Fallback: ch.Fallback(), FlowToken: string(ch.FlowToken), Factors: []string{}, Email: ch.Email, Phone: ch.Phone}
	for _, f := range ch.Factors {
		out.Factors = append(out.Factors, string(f))
	}
	if ch.QuestionID != "" {
		out.Question = &question{QuestionID: ch.QuestionID, Text: c.loc.T("q." + ch.QuestionID)}
	}
	if !ch.ExpiresAt.IsZero() {
		at := ch.ExpiresAt.UTC()
		out.ExpiresAt = &at
	}
	return http.StatusOK, out, nil
}

type pinCodeRequest struct {
	FlowToken string `json:"flow_token"`
	Channel   string `json:"channel"`
}

// sendPINCode is POST /api/v1/cards/{id}/pin/send: a one-time code for the challenge.
func (s *server) sendPINCode(c *call) (int, any, error) {
	id, err := pathCardID(c)
	if err != nil {
		return 0, nil, err
	}
	var in pinCodeRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	ch, ok := identity.ParseFactor(in.Channel)
	if !ok || (ch != identity.FactorEmail && ch != identity.FactorSMS) {
		return 0, nil, cp.InvalidFields("api.sendPINCode", cp.FieldError{Field: "channel", Msg: "error.field.invalid"})
	}
	if err := s.cards.SendPINCode(c.r.Context(), c.sess.MemberID, id, identity.Token(in.FlowToken), ch, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

type pinRequest struct {
	FlowToken  string `json:"flow_token"`
	Factor     string `json:"factor"`
	Answer     string `json:"answer"`
	BirthDate  string `json:"birth_date"`
	CID        string `json:"cid"`
	PIN        string `json:"pin"`
	PINConfirm string `json:"pin_confirm"`
}

// setPIN is POST /api/v1/cards/{id}/pin (SPEC AC8): the answer to the challenge (or,
// for the fallback, date of birth and security code) and the new PIN in one request;
// nothing comes back but 204.
func (s *server) setPIN(c *call) (int, any, error) {
	id, err := pathCardID(c)
	if err != nil {
		return 0, nil, err
	}
	var in pinRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	// An unknown factor name is left for the service to refuse as unavailable.
	factor, _ := identity.ParseFactor(in.Factor)
	err = s.cards.SetPIN(c.r.Context(), c.sess.MemberID, id, cardservice.PINChange{
		FlowToken: identity.Token(in.FlowToken), Factor: factor, Answer: in.Answer,
		BirthDate: in.BirthDate, CID: in.CID, PIN: in.PIN, Confirm: in.PINConfirm,
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
