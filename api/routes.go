package api

import "net/http"

// route is one endpoint. path is both the ServeMux pattern's path and the OpenAPI
// path template ({id} means the same in both), so the contract test can compare the
// two directly.
type route struct {
	method string
	path   string
	auth   bool // requires "Authorization: Bearer <token>"
	handle func(s *server, c *call) (status int, body any, err error)
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// Whether a route needs a session, spelled out in the table below.
const (
	public = false
	bearer = true
)

// routes lists every endpoint of the API. NewHandler registers exactly these, and the
// OpenAPI contract test checks this same slice against openapi.json in both
// directions, so a route cannot be added, removed or moved without the document
// following.
var routes = []route{
	{http.MethodGet, "/api/openapi.json", public, (*server).openAPI},

	// Registration (SPEC ID1–ID3): prove the card, then choose credentials.
	{http.MethodPost, "/api/v1/registration/card", public, (*server).registerCard},
	{http.MethodGet, "/api/v1/registration/questions", public, (*server).securityQuestions},
	{http.MethodPost, "/api/v1/registration/complete", public, (*server).registerComplete},
	{http.MethodPost, "/api/v1/password/check", public, (*server).checkPassword},

	// Account recovery (SPEC ID8, ID9): api/recovery.go.
	{http.MethodPost, "/api/v1/recovery/user-id", public, (*server).forgotUserID},
	{http.MethodPost, "/api/v1/recovery/password", public, (*server).startPasswordReset},
	{http.MethodPost, "/api/v1/recovery/password/reset", public, (*server).resetPassword},

	// Sign-in and sessions (SPEC ID5, ID6, ID10).
	{http.MethodPost, "/api/v1/sessions", public, (*server).signIn},
	{http.MethodGet, "/api/v1/sessions", bearer, (*server).listSessions},
	{http.MethodDelete, "/api/v1/sessions/current", bearer, (*server).signOut},
	{http.MethodDelete, "/api/v1/sessions/{id}", bearer, (*server).revokeSession},
	{http.MethodPost, "/api/v1/sessions/revoke-others", bearer, (*server).revokeOthers},
	{http.MethodPost, "/api/v1/password/change", bearer, (*server).changePassword}, // password.go

	// The mobile licence agreement (SPEC ID12), accepted before an app's first session.
	{http.MethodGet, "/api/v1/licence", public, (*server).licence},
	{http.MethodPost, "/api/v1/licence/accept", public, (*server).acceptLicence},

	// Confirming the mobile number and email address (SPEC ID4).
	{http.MethodGet, "/api/v1/contact", bearer, (*server).contact},
	{http.MethodPost, "/api/v1/contact/send", bearer, (*server).sendContactCode},
	{http.MethodPost, "/api/v1/contact/confirm", bearer, (*server).confirmContact},
	{http.MethodPost, "/api/v1/contact/change", bearer, (*server).changeContact},

	// Second factors and step-up (SPEC ID7).
	{http.MethodPost, "/api/v1/sessions/verify", public, (*server).verifySignIn},
	{http.MethodPost, "/api/v1/sessions/verify/send", public, (*server).sendCode},
	{http.MethodGet, "/api/v1/factors", bearer, (*server).factors},
	{http.MethodPost, "/api/v1/factors/totp", bearer, (*server).startTOTP},
	{http.MethodPost, "/api/v1/factors/totp/confirm", bearer, (*server).confirmTOTP},
	{http.MethodPost, "/api/v1/factors/totp/remove", bearer, (*server).removeTOTP},
	{http.MethodPost, "/api/v1/factors/recovery-codes", bearer, (*server).newRecoveryCodes},
	{http.MethodPost, "/api/v1/factors/required", bearer, (*server).setRequired},
	{http.MethodGet, "/api/v1/devices", bearer, (*server).devices},
	{http.MethodDelete, "/api/v1/devices/{id}", bearer, (*server).forgetDevice},

	// The member and their accounts (SPEC AC1) and security history (SPEC ID14).
	{http.MethodGet, "/api/v1/me", bearer, (*server).me},
	{http.MethodGet, "/api/v1/accounts", bearer, (*server).accounts},
	{http.MethodGet, "/api/v1/security/events", bearer, (*server).securityEvents},

	// Transactions (SPEC AC2): the filtered list, a page at a time, and as CSV.
	{http.MethodGet, "/api/v1/accounts/{id}/transactions", bearer, (*server).transactions},
	{http.MethodGet, "/api/v1/accounts/{id}/transactions.csv", bearer, (*server).transactionsCSV},

	// Card servicing (SPEC AC7-AC10): activation, freeze, lost or stolen, PIN.
	{http.MethodPost, "/api/v1/cards/activate", bearer, (*server).activateCard},
	{http.MethodPost, "/api/v1/cards/{id}/freeze", bearer, (*server).freezeCard},
	{http.MethodPost, "/api/v1/cards/{id}/unfreeze", bearer, (*server).unfreezeCard},
	{http.MethodPost, "/api/v1/cards/{id}/report-lost", bearer, (*server).reportLost},
	{http.MethodPost, "/api/v1/cards/{id}/pin", bearer, (*server).setPIN},
}
