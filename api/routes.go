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
	{http.MethodPost, "/api/v1/recovery/user-id/email", public, (*server).forgotUserIDByEmail}, // details.go

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

	// Passkeys (SPEC ID7): api/passkey.go.
	{http.MethodPost, "/api/v1/sessions/passkey", public, (*server).startPasskeySignIn},
	{http.MethodPost, "/api/v1/sessions/passkey/finish", public, (*server).passkeySignIn},
	{http.MethodPost, "/api/v1/sessions/verify/passkey", public, (*server).stepUpPasskey},
	{http.MethodGet, "/api/v1/passkeys", bearer, (*server).passkeys},
	{http.MethodPost, "/api/v1/passkeys", bearer, (*server).startPasskey},
	{http.MethodPost, "/api/v1/passkeys/finish", bearer, (*server).finishPasskey},
	{http.MethodPost, "/api/v1/passkeys/{id}/remove", bearer, (*server).removePasskey},

	// The member and their accounts (SPEC AC1) and security history (SPEC ID14).
	{http.MethodGet, "/api/v1/me", bearer, (*server).me},
	{http.MethodGet, "/api/v1/accounts", bearer, (*server).accounts},
	{http.MethodGet, "/api/v1/security/events", bearer, (*server).securityEvents},

	// Transactions (SPEC AC2): the filtered list, a page at a time, and as CSV.
	{http.MethodGet, "/api/v1/accounts/{id}/transactions", bearer, (*server).transactions},
	{http.MethodGet, "/api/v1/accounts/{id}/transactions.csv", bearer, (*server).transactionsCSV},

	// Statements (SPEC AC3): api/statements.go.
	{http.MethodGet, "/api/v1/statements", bearer, (*server).listStatements},
	{http.MethodGet, "/api/v1/statements/paperless", bearer, (*server).getPaperless},
	{http.MethodPut, "/api/v1/statements/paperless", bearer, (*server).setPaperless},
	{http.MethodGet, "/api/v1/statements/{id}", bearer, (*server).getStatement},
	{http.MethodGet, "/api/v1/statements/{id}/statement.pdf", bearer, (*server).statementPDF},
	{http.MethodGet, "/api/v1/statements/{id}/statement.csv", bearer, (*server).statementCSV},

	// Card servicing (SPEC AC7-AC10): activation, freeze, lost or stolen, PIN.
	{http.MethodPost, "/api/v1/cards/activate", bearer, (*server).activateCard},
	{http.MethodPost, "/api/v1/cards/{id}/freeze", bearer, (*server).freezeCard},
	{http.MethodPost, "/api/v1/cards/{id}/unfreeze", bearer, (*server).unfreezeCard},
	{http.MethodPost, "/api/v1/cards/{id}/report-lost", bearer, (*server).reportLost},
	{http.MethodPost, "/api/v1/cards/{id}/pin/challenge", bearer, (*server).startPINChallenge},
	{http.MethodPost, "/api/v1/cards/{id}/pin/send", bearer, (*server).sendPINCode},
	{http.MethodPost, "/api/v1/cards/{id}/pin", bearer, (*server).setPIN},

	// Personal details, alerts and disputes (SPEC AC11-AC13): api/details.go.
	{http.MethodGet, "/api/v1/details", bearer, (*server).personalDetails},
	{http.MethodPut, "/api/v1/details/address", bearer, (*server).changeAddress},
	{http.MethodGet, "/api/v1/alerts", bearer, (*server).alertPrefs},
	{http.MethodPut, "/api/v1/alerts", bearer, (*server).setAlertPrefs},
	{http.MethodGet, "/api/v1/disputes", bearer, (*server).listDisputes},
	{http.MethodGet, "/api/v1/disputes/{id}", bearer, (*server).getDispute},
	{http.MethodGet, "/api/v1/transactions/{id}/disputes", bearer, (*server).transactionDisputes},
	{http.MethodPost, "/api/v1/transactions/{id}/disputes", bearer, (*server).openDispute},

	// Payments (SPEC AC4): api/payments.go.
	{http.MethodGet, "/api/v1/payments", bearer, (*server).listPayments},
	{http.MethodPost, "/api/v1/payments", bearer, (*server).makePayment},
	{http.MethodGet, "/api/v1/payments/{id}", bearer, (*server).getPayment},
	{http.MethodPost, "/api/v1/payments/{id}/change", bearer, (*server).changePayment},
	{http.MethodPost, "/api/v1/payments/{id}/cancel", bearer, (*server).cancelPayment},
	{http.MethodGet, "/api/v1/bank-accounts", bearer, (*server).bankAccounts},
	{http.MethodPost, "/api/v1/bank-accounts", bearer, (*server).linkBankAccount},
	{http.MethodDelete, "/api/v1/bank-accounts/{id}", bearer, (*server).removeBankAccount},
	{http.MethodGet, "/api/v1/autopay", bearer, (*server).getAutopay},
	{http.MethodPut, "/api/v1/autopay", bearer, (*server).setAutopay},
	{http.MethodDelete, "/api/v1/autopay", bearer, (*server).stopAutopay},

	// Rewards, offers and benefits (SPEC AC5, AC6): api/rewards.go.
	{http.MethodGet, "/api/v1/rewards/catalogue", bearer, (*server).catalogue},
	{http.MethodGet, "/api/v1/accounts/{id}/rewards", bearer, (*server).points},
	{http.MethodPost, "/api/v1/accounts/{id}/rewards/redemptions", bearer, (*server).redeem},
	{http.MethodGet, "/api/v1/accounts/{id}/rewards/redemptions/{redemption}", bearer, (*server).redemption},
	{http.MethodGet, "/api/v1/accounts/{id}/offers", bearer, (*server).accountOffers},
	{http.MethodPost, "/api/v1/accounts/{id}/offers/{offer}/enrol", bearer, (*server).enrolOffer},
	{http.MethodGet, "/api/v1/accounts/{id}/benefits", bearer, (*server).benefits},
}
