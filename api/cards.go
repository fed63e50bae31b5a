package api

import (
	"net/http"
	"strconv"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/cardservice"
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

type pinRequest struct {
	BirthDate  string `json:"birth_date"`
	CID        string `json:"cid"`
	PIN        string `json:"pin"`
	PINConfirm string `json:"pin_confirm"`
}

// setPIN is POST /api/v1/cards/{id}/pin (SPEC AC8): identification and the new PIN in
// one request; nothing comes back but 204.
func (s *server) setPIN(c *call) (int, any, error) {
	id, err := pathCardID(c)
	if err != nil {
		return 0, nil, err
	}
	var in pinRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	err = s.cards.SetPIN(c.r.Context(), c.sess.MemberID, id, cardservice.PINChange{
		BirthDate: in.BirthDate, CID: in.CID, PIN: in.PIN, Confirm: in.PINConfirm,
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
