package api

import (
	"net/http"
	"time"

	"github.com/cardportal/cardportal/identity"
)

// Contact confirmation (SPEC ID4): after registration the app confirms the member's
// mobile number with a code sent by SMS, and the email address with a code by email.

type contactResponse struct {
	Phone         string     `json:"phone"` // masked
	Email         string     `json:"email"` // masked
	PhoneVerified *time.Time `json:"phone_verified_at"`
	EmailVerified *time.Time `json:"email_verified_at"`
	Confirmed     bool       `json:"confirmed"`
	PendingPhone  string     `json:"pending_phone"` // masked new number waiting for its code
	PendingEmail  string     `json:"pending_email"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// contact is GET /api/v1/contact.
func (s *server) contact(c *call) (int, any, error) {
	st, err := s.ident.ContactState(c.r.Context(), c.sess.MemberID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, contactResponse{Phone: st.Phone, Email: st.Email, PhoneVerified: timeOrNil(st.PhoneVerified),
		EmailVerified: timeOrNil(st.EmailVerified), Confirmed: st.Confirmed(), PendingPhone: st.PendingPhone, PendingEmail: st.PendingEmail}, nil
}

type contactSendRequest struct {
	Channel string `json:"channel"`
}

// sendContactCode is POST /api/v1/contact/send.
func (s *server) sendContactCode(c *call) (int, any, error) {
	var in contactSendRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := s.ident.SendContactCode(c.r.Context(), c.sess.MemberID, in.Channel, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

type contactConfirmRequest struct {
	Channel string `json:"channel"`
	Code    string `json:"code"`
}

// confirmContact is POST /api/v1/contact/confirm.
func (s *server) confirmContact(c *call) (int, any, error) {
	var in contactConfirmRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if err := s.ident.ConfirmContact(c.r.Context(), c.sess.MemberID, in.Channel, in.Code, c.src); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

type contactChangeRequest struct {
	Channel  string `json:"channel"`
	Address  string `json:"address"`
	Password string `json:"password"`
}

// changeContact is POST /api/v1/contact/change: a code goes to the new address;
// confirming it with /api/v1/contact/confirm makes it the member's.
func (s *server) changeContact(c *call) (int, any, error) {
	var in contactChangeRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	err := s.ident.ChangeContact(c.r.Context(), c.sess.MemberID, identity.ContactChange{
		Channel: in.Channel, Address: in.Address, Password: in.Password,
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
