package web

import "net/http"

// routes lists every page of the browser surface. Pages for members are wrapped in
// signedIn; everything that changes state is a POST (and so passes the
// cross-origin check).
func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /static/", s.static)
	mux.HandleFunc("POST /language", s.setLanguage)

	mux.HandleFunc("GET /login", s.showLogin)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /login/forget", s.forget)
	mux.HandleFunc("GET /login/verify", s.showVerify)
	mux.HandleFunc("POST /login/verify", s.verify)
	mux.HandleFunc("POST /login/verify/send", s.sendCode)
	mux.HandleFunc("POST /logout", s.signedIn(s.logout))

	mux.HandleFunc("GET /register", s.showRegister)
	mux.HandleFunc("POST /register", s.verifyCard)
	mux.HandleFunc("GET /register/credentials", s.showCredentials)
	mux.HandleFunc("POST /register/credentials", s.register)
	s.recoveryRoutes(mux) // web/recovery.go

	mux.HandleFunc("GET /account", s.signedIn(s.dashboard))
	mux.HandleFunc("GET /live/accounts/{id}", s.liveAccount) // live.go: checks the session itself
	if s.Ledger != nil {
		mux.HandleFunc("GET /transactions", s.signedIn(s.transactionsHome))
		mux.HandleFunc("GET /accounts/{id}/transactions", s.signedIn(s.transactions))
		mux.HandleFunc("GET /accounts/{id}/transactions.csv", s.signedIn(s.transactionsCSV))
	}
	mux.HandleFunc("GET /security", s.signedIn(s.security))
	mux.HandleFunc("POST /security/sessions/{id}/revoke", s.signedIn(s.revokeSession))
	mux.HandleFunc("POST /security/sessions/revoke-all", s.signedIn(s.revokeOthers))
	mux.HandleFunc("GET /security/mfa", s.signedIn(s.showMFA))
	mux.HandleFunc("POST /security/mfa/totp", s.signedIn(s.startTOTP))
	mux.HandleFunc("POST /security/mfa/totp/confirm", s.signedIn(s.confirmTOTP))
	mux.HandleFunc("POST /security/mfa/totp/remove", s.signedIn(s.removeTOTP))
	mux.HandleFunc("POST /security/mfa/recovery", s.signedIn(s.recoveryCodes))
	mux.HandleFunc("POST /security/mfa/required", s.signedIn(s.setRequired))
	mux.HandleFunc("POST /security/devices/{id}/forget", s.signedIn(s.forgetDevice))
	s.passwordRoutes(mux) // web/password.go
	s.contactRoutes(mux)  // web/contact.go
	s.passkeyRoutes(mux)  // web/passkey.go

	if s.Cards != nil {
		s.cardRoutes(mux) // web/cards.go
	}
	if s.Statements != nil {
		s.statementRoutes(mux) // web/statements.go
	}
	s.servicingRoutes(mux) // web/details.go: details, alerts, disputes
	if s.Payments != nil {
		s.paymentRoutes(mux) // web/payments.go
	}
	if s.Rewards != nil && s.Offers != nil {
		s.rewardsRoutes(mux) // web/rewards.go
	}

	if s.Outbox != nil {
		mux.HandleFunc("GET /dev/outbox", s.outbox)
	}
}
