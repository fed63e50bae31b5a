package web

import (
	"context"
	"net/http"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

type sessionKey struct{}

// sessionFrom returns the signed-in session that signedIn (or
// withOptionalSession) put in the context.
func sessionFrom(ctx context.Context) (identity.Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(identity.Session)
	return s, ok
}

// signedIn guards a page for members. The session cookie is checked on the server on
// every request (the identity service enforces the idle and absolute limits); a
// missing or dead session sends the browser to the login page.
func (s *server) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Member pages and the redirects they answer with must never be cached: a
		// shared computer's back button would show the last member's account.
		w.Header().Set("Cache-Control", "no-store")
		tok := cookie(r, sessionCookie)
		if tok == "" {
			redirect(w, r, "/login")
			return
		}
		authenticate := s.Identity.Authenticate
		if r.Header.Get(liveHeader) != "" {
			authenticate = s.Identity.Peek // a live page's refresh is not activity (live.go)
		}
		sess, err := authenticate(r.Context(), identity.Token(tok))
		if err != nil {
			if cp.ErrorKind(err) == cp.Internal {
				s.fail(w, r, err)
				return
			}
			if cp.ErrorMsg(err) == "password.expired" {
				// Held to a password change (SPEC ID11): nothing else until it is done.
				redirect(w, r, passwordPath)
				return
			}
			s.clearCookie(w, r, sessionCookie, "/")
			redirect(w, r, "/login?m=expired")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	}
}

// withOptionalSession adds the session to r's context if the browser has a live
// one, for public pages whose navigation depends on it. Any failure just means
// "signed out".
func (s *server) withOptionalSession(r *http.Request) *http.Request {
	if _, ok := sessionFrom(r.Context()); ok {
		return r
	}
	tok := cookie(r, sessionCookie)
	if tok == "" {
		return r
	}
	sess, err := s.Identity.Authenticate(r.Context(), identity.Token(tok))
	if err != nil {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
}

// home sends members to their account and everyone else to the login page.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := sessionFrom(s.withOptionalSession(r).Context()); ok {
		redirect(w, r, "/account")
		return
	}
	redirect(w, r, "/login")
}

// logout ends the session on the server, then forgets the cookie.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	if err := s.Identity.Logout(r.Context(), sess, s.source(r, s.locale(r).Code())); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearCookie(w, r, sessionCookie, "/")
	redirect(w, r, "/login?m=loggedout")
}
