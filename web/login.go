package web

import (
	"net/http"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// rememberFor is how long "Remember me" keeps the User ID.
const rememberFor = 365 * 24 * time.Hour

type loginView struct {
	Remembered bool   // the form signs in as the remembered User ID
	Masked     string // that User ID, masked; the real one never reaches the page
	UserID     field
	Password   field
	Remember   bool // the checkbox state
	RememberH  string
	Passkeys   bool // offer passwordless sign-in (web/passkey.go)
}

// flashes maps the fixed query flags the login page accepts to their messages. Only
// these flags are read, so a crafted link cannot put words on the page.
var loginFlashes = map[string]string{"expired": "signin.expired", "loggedout": "signin.loggedout", "stepupexpired": "mfa.expired"}

// rememberedUserID returns the remembered User ID, if the cookie holds a valid one.
func rememberedUserID(r *http.Request) string {
	if id := cookie(r, rememberCookie); identity.ValidUserID(id) {
		return id
	}
	return ""
}

func (s *server) loginView(loc locale.Locale, remembered string, remember bool) loginView {
	v := loginView{
		Remembered: remembered != "",
		Masked:     identity.MaskUserID(remembered),
		UserID: field{ID: "user_id", Type: "text", Label: loc.T("signin.userid"), Autocomplete: "username",
			MaxLength: identity.UserIDMax, Required: true, Verbatim: true},
		Password: field{ID: "password", Type: "password", Label: loc.T("signin.password"),
			Autocomplete: "current-password", Required: true},
		Remember:  remember,
		RememberH: loc.T("signin.remember.help"),
		Passkeys:  s.Identity.PasskeysEnabled(),
	}
	return v
}

func (s *server) loginPage(loc locale.Locale, r *http.Request) *page {
	p := s.newPage(r, loc, "signin.title")
	p.Nav = "login"
	if s.Maintenance != "" {
		p.Notice = loc.T("maintenance.notice", "when", s.Maintenance)
	}
	return p
}

// showLogin is GET /login.
func (s *server) showLogin(w http.ResponseWriter, r *http.Request) {
	if _, ok := sessionFrom(s.withOptionalSession(r).Context()); ok {
		redirect(w, r, "/account")
		return
	}
	loc := s.locale(r)
	p := s.loginPage(loc, r)
	if id, ok := loginFlashes[r.URL.Query().Get("m")]; ok {
		p.Flash = loc.T(id)
	}
	remembered := rememberedUserID(r)
	r = s.withDevice(w, r)
	// "Remember me" is off by default (SPEC ID5); someone who chose it before sees it
	// still on, and unticking it forgets them.
	p.Data = s.loginView(loc, remembered, remembered != "")
	s.render(w, r, http.StatusOK, "login", p)
}

// login is POST /login. Every failure renders the same page whatever its cause, so
// the response says no more than the service's message does: a wrong User ID and a
// wrong password are indistinguishable, and the typed User ID is not echoed back.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	remember := form.Get("remember") == "1"
	userID := form.Get("user_id")
	remembered := rememberedUserID(r)
	if form.Get("use_remembered") == "1" {
		userID = remembered
	}
	if !remember && cookie(r, rememberCookie) != "" {
		s.clearCookie(w, r, rememberCookie, "/")
		remembered = ""
	}
	r = s.withDevice(w, r)
	res, err := s.Identity.Login(r.Context(), userID, form.Get("password"), s.source(r, loc.Code()))
	if err != nil {
		kind := cp.ErrorKind(err)
		if kind == cp.Internal {
			s.fail(w, r, err)
			return
		}
		p := s.loginPage(loc, r)
		if kind == cp.Locked {
			p.Alert = loc.T("signin.locked", "time", when(loc, cp.ErrorUntil(err)), "phone", loc.ContactPhone())
		} else {
			p.Alert = loc.T(cp.ErrorMsg(err))
		}
		p.Data = s.loginView(loc, remembered, remember)
		safehttp.RetryAfter(w, err, s.Now())
		s.render(w, r, safehttp.Status(kind), "login", p)
		return
	}
	if remember {
		s.setCookie(w, r, rememberCookie, res.Member.UserID, "/", rememberFor)
	}
	if res.StepUp != nil {
		// The password was right; a second factor is needed first (SPEC ID7).
		s.setCookie(w, r, stepUpCookie, string(res.StepUp.FlowToken), "/login", s.Identity.Config().MFA.FlowLife)
		redirect(w, r, "/login/verify")
		return
	}
	s.startSession(w, r, res.Token)
	redirect(w, r, "/account")
}

// startSession hands the browser its session token. The cookie has no Max-Age: it
// ends with the browser session, and the server enforces the idle and absolute
// limits whatever the browser keeps.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, tok identity.Token) {
	s.setCookie(w, r, sessionCookie, string(tok), "/", 0)
}

// forget is POST /login/forget ("Not you?"): it drops the remembered User ID.
func (s *server) forget(w http.ResponseWriter, r *http.Request) {
	s.clearCookie(w, r, rememberCookie, "/")
	redirect(w, r, "/login")
}
