package api

import (
	"net/http"

	"github.com/cardportal/cardportal/identity"
)

// Password change (SPEC ID11). A sign-in with an expired password gets a session
// whose "must_change_password" is true; every other route answers it 403
// password.expired until it is used here.

// heldRoutes are the routes a session held to a password change may use: the change
// itself and signing out.
var heldRoutes = map[string]bool{
	http.MethodPost + " /api/v1/password/change":    true,
	http.MethodDelete + " /api/v1/sessions/current": true,
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	Confirm         string `json:"confirm"`
}

// changePassword is POST /api/v1/password/change. Other sessions end. A held session
// is replaced: the answer is 201 with the new token; otherwise 204 and the caller's
// token stays valid.
func (s *server) changePassword(c *call) (int, any, error) {
	var in passwordChangeRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	tok, sess, err := s.ident.ChangePassword(c.r.Context(), c.sess, identity.PasswordChange{
		Current: in.CurrentPassword, New: in.NewPassword, Confirm: in.Confirm,
	}, c.src)
	if err != nil {
		return 0, nil, err
	}
	if tok == "" {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusCreated, newSessionResponse(tok, sess), nil
}
