package web

import (
	"context"
	"net/http"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Changing the password (SPEC ID11): "Change password" on the security page, and the
// page a sign-in with an expired password is held on until the member picks a new one.

func init() { pageNames = append(pageNames, "password") }

// passwordPath is the change-password page; signedIn sends sessions held to a
// password change here.
const passwordPath = "/security/password"

// passwordRoutes are registered by routes.
func (s *server) passwordRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+passwordPath, s.passwordGate(s.showPassword))
	mux.HandleFunc("POST "+passwordPath, s.passwordGate(s.changePassword))
	// Sign-out must work for a session held to a password change, which signedIn
	// (and so POST /logout) refuses.
	mux.HandleFunc("POST "+passwordPath+"/logout", s.passwordGate(s.logout))
}

// passwordGate is signedIn for the pages a session held to a password change may
// still use.
func (s *server) passwordGate(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok := cookie(r, sessionCookie)
		if tok == "" {
			redirect(w, r, "/login")
			return
		}
		sess, err := s.Identity.AuthenticateForPasswordChange(r.Context(), identity.Token(tok))
		if err != nil {
			if cp.ErrorKind(err) == cp.Internal {
				s.fail(w, r, err)
				return
			}
			s.clearCookie(w, r, sessionCookie, "/")
			redirect(w, r, "/login?m=expired")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	}
}

type passwordView struct {
	Expired  bool // the session is held to this change
	Current  field
	Password field
	Confirm  field
	Rules    []string
}

func (s *server) passwordView(loc locale.Locale, expired bool, errs *formErrors) passwordView {
	pol := s.Identity.Config().Password
	secret := func(id, labelID, auto string) field {
		return field{ID: id, Type: "password", Label: loc.T(labelID), Autocomplete: auto, MaxLength: pol.MaxLength * 4,
			Required: true, Verbatim: true, Errors: errs.byID[id]}
	}
	v := passwordView{
		Expired:  expired,
		Current:  secret("current_password", "password.current", "current-password"),
		Password: secret("password", "password.new", "new-password"),
		Confirm:  secret("confirm", "password.confirm", "new-password"),
	}
	args := policyArgs(pol)
	v.Rules = append(v.Rules, loc.T("pw.rule.length", args...))
	if pol.History > 0 {
		v.Rules = append(v.Rules, loc.T("pw.rule.history", args...))
	}
	return v
}

func (s *server) passwordPage(r *http.Request, loc locale.Locale, sess identity.Session) *page {
	p := s.newPage(r, loc, "password.title")
	p.Nav = "security"
	// A session held to a password change can use nothing else, so the navigation
	// would only lead back here.
	p.SignedIn = !sess.MustChangePassword
	if sess.MustChangePassword {
		p.Alert = loc.T("password.expired")
	}
	return p
}

// showPassword is GET /security/password.
func (s *server) showPassword(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	p := s.passwordPage(r, loc, sess)
	if r.URL.Query().Get("done") == "1" && !sess.MustChangePassword {
		p.Flash = loc.T("password.changed")
	}
	p.Data = s.passwordView(loc, sess.MustChangePassword, newFormErrors(loc))
	s.render(w, r, http.StatusOK, "password", p)
}

// changePassword is POST /security/password. Passwords travel only in this POST body
// and are never written back into the page.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	tok, _, err := s.Identity.ChangePassword(r.Context(), sess, identity.PasswordChange{
		Current: form.Get("current_password"), New: form.Get("password"), Confirm: form.Get("confirm"),
	}, s.source(r, loc.Code()))
	if err == nil {
		if tok != "" {
			// The held session is gone; the fresh one is a full session.
			s.startSession(w, r, tok)
			redirect(w, r, "/account")
			return
		}
		redirect(w, r, passwordPath+"?done=1")
		return
	}
	kind := cp.ErrorKind(err)
	if kind == cp.Internal {
		s.fail(w, r, err)
		return
	}
	p := s.passwordPage(r, loc, sess)
	errs := newFormErrors(loc, policyArgs(s.Identity.Config().Password)...)
	errs.prefix["password"] = "pw.broken"
	if fs := cp.ErrorFields(err); len(fs) > 0 {
		errs.addAll(fs, func(f string) string { return f })
	} else {
		p.Alert = loc.T(cp.ErrorMsg(err))
		safehttp.RetryAfter(w, err, s.Now())
	}
	v := s.passwordView(loc, sess.MustChangePassword, errs)
	p.Summary = errs.summary(v.Current, v.Password, v.Confirm)
	p.Data = v
	s.render(w, r, safehttp.Status(kind), "password", p)
}
