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
	mux.HandleFunc("POST /logout", s.signedIn(s.logout))

	mux.HandleFunc("GET /register", s.showRegister)
	mux.HandleFunc("POST /register", s.verifyCard)
	mux.HandleFunc("GET /register/credentials", s.showCredentials)
	mux.HandleFunc("POST /register/credentials", s.register)

	mux.HandleFunc("GET /account", s.signedIn(s.dashboard))
	mux.HandleFunc("GET /security", s.signedIn(s.security))
	mux.HandleFunc("POST /security/sessions/{id}/revoke", s.signedIn(s.revokeSession))
	mux.HandleFunc("POST /security/sessions/revoke-all", s.signedIn(s.revokeOthers))

	if s.Outbox != nil {
		mux.HandleFunc("GET /dev/outbox", s.outbox)
	}
}
