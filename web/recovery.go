package web

import (
	"net/http"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Account recovery (SPEC ID8, ID9): /forgot lets the person choose, /forgot/userid
// emails a User ID, /forgot/password sends a reset link or code, and /reset takes the
// new password. The pages answer the same whether or not the details matched.

func init() {
	pageNames = append(pageNames, "recovery")
	loginFlashes["reset"] = "recovery.done"
}

// The reset cookie carries the reset token, prefixed "l." for a link (which the page
// can check before the member types anything: only the email's reader has it) or
// "c." for a code (which must not be checked: it came back whether or not anything
// matched). It is scoped to /reset so no other page ever receives it.
const (
	resetCookie = "cp_reset"
	resetPath   = "/reset"
)

// recoveryRoutes are registered by routes.
func (s *server) recoveryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /forgot", s.showForgot)
	mux.HandleFunc("GET /forgot/userid", s.showForgotUserID)
	mux.HandleFunc("POST /forgot/userid", s.forgotUserID)
	mux.HandleFunc("GET /forgot/password", s.showForgotPassword)
	mux.HandleFunc("POST /forgot/password", s.forgotPassword)
	mux.HandleFunc("GET "+resetPath, s.showReset)
	mux.HandleFunc("POST "+resetPath, s.reset)
}

type recoveryView struct {
	Mode       string // choose, userid, password, reset, done, invalid
	Sent       string // the same "if it matched" message for every outcome
	UserID     field
	CardNumber field
	CID        field
	BirthDate  field
	Method     string
	Methods    []option
	Code       field // reset by code only
	Password   field
	Confirm    field
	Rules      []string
}

func (s *server) recoveryView(loc locale.Locale, mode string, errs *formErrors, form map[string]string) recoveryView {
	f := func(id, typ, labelID, auto string, max int) field {
		return field{ID: id, Type: typ, Label: loc.T(labelID), Autocomplete: auto, MaxLength: max,
			Required: true, Value: form[id], Errors: errs.byID[id]}
	}
	pol := s.Identity.Config().Password
	v := recoveryView{
		Mode:       mode,
		UserID:     f("user_id", "text", "signin.userid", "username", identity.UserIDMax),
		CardNumber: f("card_number", "text", "register.cardnumber", "cc-number", 23),
		CID:        f("cid", "text", "register.cid", "off", 4),
		BirthDate:  f("birth_date", "date", "register.dob", "bday", 10),
		Code:       f("code", "text", "recovery.code", "one-time-code", 6),
		Password:   f("password", "password", "recovery.newpassword", "new-password", pol.MaxLength*4),
		Confirm:    f("confirm", "password", "register.confirm", "new-password", pol.MaxLength*4),
		Method:     form["method"],
	}
	v.UserID.Verbatim, v.CardNumber.Verbatim, v.CID.Verbatim, v.Code.Verbatim = true, true, true, true
	v.CardNumber.InputMode, v.CID.InputMode, v.Code.InputMode = "numeric", "numeric", "numeric"
	v.Password.Value, v.Confirm.Value = "", "" // passwords never go back into the page
	if v.Method == "" {
		v.Method = string(identity.ResetLink)
	}
	for _, m := range []identity.ResetMethod{identity.ResetLink, identity.ResetEmailCode, identity.ResetSMSCode} {
		v.Methods = append(v.Methods, option{Value: string(m), Text: loc.T("recovery.method." + string(m)), Selected: v.Method == string(m)})
	}
	args := policyArgs(pol)
	v.Rules = []string{loc.T("pw.rule.length", args...), loc.T("pw.rule.history", args...)}
	return v
}

func (s *server) recoveryPage(r *http.Request, loc locale.Locale, titleID string) *page {
	p := s.newPage(r, loc, titleID)
	p.Nav = "login"
	return p
}

func (s *server) showRecovery(w http.ResponseWriter, r *http.Request, status int, titleID, mode string, p *page, v recoveryView) {
	if p == nil {
		p = s.recoveryPage(r, s.locale(r), titleID)
	}
	w.Header().Set("Cache-Control", "no-store")
	p.Data = v
	s.render(w, r, status, "recovery", p)
}

// showForgot is GET /forgot: choose what was forgotten.
func (s *server) showForgot(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	s.showRecovery(w, r, http.StatusOK, "recovery.forgot", "choose", nil, s.recoveryView(loc, "choose", newFormErrors(loc), nil))
}

func (s *server) showForgotUserID(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	s.showRecovery(w, r, http.StatusOK, "recovery.userid.title", "userid", nil, s.recoveryView(loc, "userid", newFormErrors(loc), nil))
}

func (s *server) showForgotPassword(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	s.showRecovery(w, r, http.StatusOK, "recovery.password.title", "password", nil, s.recoveryView(loc, "password", newFormErrors(loc), nil))
}

// recoveryError renders a failed step: per-field errors on their controls, anything
// else as one message about the form. It reports false for an internal error, which
// has been answered with the error page.
func (s *server) recoveryError(w http.ResponseWriter, r *http.Request, err error, p *page, errs *formErrors) (int, bool) {
	kind := cp.ErrorKind(err)
	switch kind {
	case cp.Internal:
		s.fail(w, r, err)
		return 0, false
	case cp.Invalid:
		errs.addAll(cp.ErrorFields(err), func(f string) string { return f })
	default:
		p.Alert = p.Loc.T(cp.ErrorMsg(err))
		safehttp.RetryAfter(w, err, s.Now())
	}
	return safehttp.Status(kind), true
}

// required adds "required" to every empty control, so an empty form shows all at once.
func required(errs *formErrors, form map[string][]string, ids ...string) {
	for _, id := range ids {
		if v := form[id]; len(v) == 0 || strings.TrimSpace(v[0]) == "" {
			errs.add(id, "error.field.required")
		}
	}
}

// forgotUserID is POST /forgot/userid. Whatever matched, the page says the same.
func (s *server) forgotUserID(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.recoveryPage(r, loc, "recovery.userid.title")
	errs := newFormErrors(loc)
	required(errs, form, "card_number", "cid", "birth_date")
	status := http.StatusUnprocessableEntity
	if errs.empty() {
		err := s.Identity.ForgotUserID(r.Context(), identity.ForgotUserIDRequest{
			CardNumber: form.Get("card_number"), Code: form.Get("cid"), BirthDate: form.Get("birth_date"),
		}, s.source(r, loc.Code()))
		if err == nil {
			p.Flash = loc.T("recovery.userid.sent")
			s.showRecovery(w, r, http.StatusOK, "", "", p, s.recoveryView(loc, "sent", errs, nil))
			return
		}
		if status, ok = s.recoveryError(w, r, err, p, errs); !ok {
			return
		}
	}
	// The card number and code are never written back into the page.
	v := s.recoveryView(loc, "userid", errs, map[string]string{"birth_date": form.Get("birth_date")})
	p.Summary = errs.summary(v.CardNumber, v.CID, v.BirthDate)
	s.showRecovery(w, r, status, "", "", p, v)
}

// forgotPassword is POST /forgot/password. A link goes by email only, so the page
// just says so; a code's token goes into the reset cookie and the browser moves on to
// /reset to type the code, whether or not anything matched.
func (s *server) forgotPassword(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.recoveryPage(r, loc, "recovery.password.title")
	errs := newFormErrors(loc)
	required(errs, form, "user_id", "card_number", "cid")
	method := identity.ResetMethod(form.Get("method"))
	status := http.StatusUnprocessableEntity
	if errs.empty() {
		tok, err := s.Identity.StartPasswordReset(r.Context(), identity.ResetRequest{
			UserID: form.Get("user_id"), CardNumber: form.Get("card_number"), Code: form.Get("cid"), Method: method,
		}, s.source(r, loc.Code()))
		if err == nil {
			if tok != "" {
				s.setCookie(w, r, resetCookie, "c."+string(tok), resetPath, s.Identity.Config().Recovery.ResetLife)
				redirect(w, r, resetPath+"?m=sent")
				return
			}
			p.Flash = loc.T("recovery.password.sent")
			s.showRecovery(w, r, http.StatusOK, "", "", p, s.recoveryView(loc, "sent", errs, nil))
			return
		}
		if status, ok = s.recoveryError(w, r, err, p, errs); !ok {
			return
		}
	}
	v := s.recoveryView(loc, "password", errs, map[string]string{"user_id": form.Get("user_id"), "method": string(method)})
	p.Summary = errs.summary(v.UserID, v.CardNumber, v.CID)
	if len(errs.byID["method"]) > 0 {
		// The radio buttons have no error slot of their own (only a tampered form
		// sends no valid choice).
		p.Alert = loc.T("recovery.method.invalid")
	}
	s.showRecovery(w, r, status, "", "", p, v)
}

// resetToken reads the reset cookie: the token and whether it came from a link.
func resetToken(r *http.Request) (identity.Token, bool, bool) {
	v := cookie(r, resetCookie)
	switch {
	case strings.HasPrefix(v, "l."):
		return identity.Token(v[2:]), true, true
	case strings.HasPrefix(v, "c."):
		return identity.Token(v[2:]), false, true
	}
	return "", false, false
}

// showReset is GET /reset. Opened from the email (?t=...), it moves the token into the
// reset cookie and redirects to the bare /reset at once, so the token does not stay
// in the address bar, the history or a Referer; the request log records only the
// route pattern.
func (s *server) showReset(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	if t := r.URL.Query().Get("t"); t != "" {
		s.setCookie(w, r, resetCookie, "l."+t, resetPath, s.Identity.Config().Recovery.ResetLife)
		w.Header().Set("Cache-Control", "no-store")
		redirect(w, r, resetPath)
		return
	}
	p := s.recoveryPage(r, loc, "recovery.reset.title")
	tok, link, ok := resetToken(r)
	if !ok {
		s.resetInvalid(w, r, p)
		return
	}
	if link {
		if _, err := s.Identity.CheckResetToken(r.Context(), tok); err != nil {
			if cp.ErrorKind(err) == cp.Internal {
				s.fail(w, r, err)
				return
			}
			s.resetInvalid(w, r, p)
			return
		}
	}
	if r.URL.Query().Get("m") == "sent" && !link {
		p.Flash = loc.T("recovery.password.sent")
	}
	s.showRecovery(w, r, http.StatusOK, "", "", p, s.resetView(loc, newFormErrors(loc), link))
}

func (s *server) resetView(loc locale.Locale, errs *formErrors, link bool) recoveryView {
	v := s.recoveryView(loc, "reset", errs, nil)
	if link {
		v.Code = field{}
	}
	return v
}

func (s *server) resetInvalid(w http.ResponseWriter, r *http.Request, p *page) {
	s.clearCookie(w, r, resetCookie, resetPath)
	p.Alert = p.Loc.T("recovery.invalid")
	s.showRecovery(w, r, http.StatusGone, "", "", p, s.recoveryView(p.Loc, "invalid", newFormErrors(p.Loc), nil))
}

// reset is POST /reset: the new password (and the code, for a reset by code).
func (s *server) reset(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.recoveryPage(r, loc, "recovery.reset.title")
	tok, link, ok := resetToken(r)
	if !ok {
		s.resetInvalid(w, r, p)
		return
	}
	code := form.Get("code")
	if link {
		code = ""
	}
	err := s.Identity.ResetPassword(r.Context(), tok, identity.NewPassword{
		Code: code, Password: form.Get("password"), Confirm: form.Get("confirm"),
	}, s.source(r, loc.Code()))
	if err == nil {
		s.clearCookie(w, r, resetCookie, resetPath)
		// Every session ended, this browser's too.
		s.clearCookie(w, r, sessionCookie, "/")
		redirect(w, r, "/login?m=reset")
		return
	}
	if cp.ErrorKind(err) == cp.Expired {
		s.resetInvalid(w, r, p)
		return
	}
	errs := newFormErrors(loc, policyArgs(s.Identity.Config().Password)...)
	status, ok := s.recoveryError(w, r, err, p, errs)
	if !ok {
		return
	}
	v := s.resetView(loc, errs, link)
	p.Summary = errs.summary(v.Code, v.Password, v.Confirm)
	s.showRecovery(w, r, status, "", "", p, v)
}
