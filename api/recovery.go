package api

import (
	"net/http"

	"github.com/cardportal/cardportal/identity"
)

// Account recovery (SPEC ID8, ID9). Both starts answer the same whether or not the
// details matched: the User ID and any reset link only ever travel to the registered
// email address or phone.

type forgotUserIDRequest struct {
	CardNumber string `json:"card_number"`
	CID        string `json:"cid"`
	BirthDate  string `json:"birth_date"`
}

// forgotUserID emails the User ID if the card details match a registered card.
func (s *server) forgotUserID(c *call) (int, any, error) {
	var in forgotUserIDRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	err := s.ident.ForgotUserID(c.r.Context(), identity.ForgotUserIDRequest{CardNumber: in.CardNumber, Code: in.CID, BirthDate: in.BirthDate}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, recoveryStarted{Message: c.loc.T("recovery.userid.sent")}, nil
}

type passwordResetRequest struct {
	UserID     string `json:"user_id"`
	CardNumber string `json:"card_number"`
	CID        string `json:"cid"`
	Method     string `json:"method"`
}

type recoveryStarted struct {
	Message    string `json:"message"`
	ResetToken string `json:"reset_token,omitempty"`
}

// startPasswordReset sends a reset link or code if the details belong together. For a
// code, the reset token comes back (whether or not anything matched) to be presented
// with the code.
func (s *server) startPasswordReset(c *call) (int, any, error) {
	var in passwordResetRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	tok, err := s.ident.StartPasswordReset(c.r.Context(), identity.ResetRequest{
		UserID: in.UserID, CardNumber: in.CardNumber, Code: in.CID, Method: identity.ResetMethod(in.Method),
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, recoveryStarted{Message: c.loc.T("recovery.password.sent"), ResetToken: string(tok)}, nil
}

type newPasswordRequest struct {
	ResetToken string `json:"reset_token"`
	Code       string `json:"code"`
	Password   string `json:"password"`
	Confirm    string `json:"confirm"`
}

// resetPassword sets the new password. Every session of the member ends, this
// caller's included: the app signs in again.
func (s *server) resetPassword(c *call) (int, any, error) {
	var in newPasswordRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	err := s.ident.ResetPassword(c.r.Context(), identity.Token(in.ResetToken), identity.NewPassword{
		Code: in.Code, Password: in.Password, Confirm: in.Confirm,
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
