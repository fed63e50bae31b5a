package web

import (
	"net/http"
	"strconv"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Passkeys (WebAuthn, SPEC ID7) on the web. Each ceremony is a server-rendered page
// carrying the options in a data attribute and a form with a hidden field; passkey.js
// runs navigator.credentials.create or .get when the button is pressed, puts the
// credential's JSON in the field and submits the form. The ceremony's token rides in
// the form, never in a URL; the challenge itself stays on the server.

func init() { pageNames = append(pageNames, "passkey") }

func (s *server) passkeyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /security/passkeys", s.signedIn(s.startPasskey))
	mux.HandleFunc("POST /security/passkeys/finish", s.signedIn(s.finishPasskey))
	mux.HandleFunc("POST /security/passkeys/{id}/remove", s.signedIn(s.removePasskey))
	mux.HandleFunc("POST /login/passkey", s.startPasskeySignIn)
	mux.HandleFunc("POST /login/passkey/finish", s.passkeySignIn)
}

// passkeyView is the ceremony page.
type passkeyView struct {
	Mode    string // "create" or "get", for passkey.js
	Action  string
	Options string // JSON, in a data attribute
	Token   string
	Name    string
	Intro   string
	Button  string
}

// passkeyRow is one enrolled passkey on the security page.
type passkeyRow struct {
	ID       int64
	Name     string
	Created  stamp
	LastUsed string
}

// passkeyPanel is the security page's passkey section.
type passkeyPanel struct {
	On       bool
	Rows     []passkeyRow
	Name     field
	Password field // to add
	Remove   field // to remove; one field per form keeps ids unique
}

func (s *server) passkeyPanel(r *http.Request, loc locale.Locale, member identity.MemberID) (passkeyPanel, error) {
	if !s.Identity.PasskeysEnabled() {
		return passkeyPanel{}, nil
	}
	pks, err := s.Identity.Passkeys(r.Context(), member)
	if err != nil {
		return passkeyPanel{}, err
	}
	v := passkeyPanel{
		On: true,
		Name: field{ID: "passkey_name", Type: "text", Label: loc.T("passkey.name"), Help: loc.T("passkey.name.help"),
			MaxLength: 60, Autocomplete: "off"},
		Password: field{ID: "passkey_password", Type: "password", Label: loc.T("mfa.password"), Help: loc.T("mfa.password.help"),
			Autocomplete: "current-password", Required: true},
		Remove: field{ID: "passkey_remove_password", Type: "password", Label: loc.T("mfa.password"),
			Autocomplete: "current-password", Required: true},
	}
	for _, p := range pks {
		row := passkeyRow{ID: p.ID, Name: p.Name, Created: newStamp(loc, p.CreatedAt), LastUsed: loc.T("passkey.never")}
		if !p.LastUsedAt.IsZero() {
			row.LastUsed = when(loc, p.LastUsedAt)
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

func (s *server) ceremonyPage(w http.ResponseWriter, r *http.Request, loc locale.Locale, title string, v passkeyView) {
	p := s.newPage(r, loc, title)
	if v.Mode == "create" {
		p.Nav = "security"
	} else {
		p.Nav = "login"
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "passkey", p)
}

// startPasskey is POST /security/passkeys: after the password, the enrolment
// ceremony page.
func (s *server) startPasskey(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	c, err := s.Identity.BeginPasskeyEnrolment(r.Context(), sess.MemberID, form.Get("passkey_password"), s.source(r, loc.Code()))
	if err != nil {
		s.mfaFail(w, r, err)
		return
	}
	s.ceremonyPage(w, r, loc, "passkey.enrol.title", passkeyView{
		Mode: "create", Action: "/security/passkeys/finish", Options: string(c.Options), Token: string(c.Token),
		Name: form.Get("passkey_name"), Intro: loc.T("passkey.enrol.intro"), Button: loc.T("passkey.enrol.button"),
	})
}

// finishPasskey is POST /security/passkeys/finish: the authenticator's answer.
func (s *server) finishPasskey(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	_, err := s.Identity.FinishPasskeyEnrolment(r.Context(), sess.MemberID, identity.Token(form.Get("token")),
		form.Get("name"), []byte(form.Get("credential")), s.source(r, s.locale(r).Code()))
	if err != nil {
		s.mfaFail(w, r, err)
		return
	}
	redirect(w, r, "/security/mfa?done=passkey")
}

// removePasskey is POST /security/passkeys/{id}/remove. Another member's passkey is
// not found.
func (s *server) removePasskey(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	if err := s.Identity.RemovePasskey(r.Context(), sess.MemberID, id, form.Get("passkey_remove_password"),
		s.source(r, s.locale(r).Code())); err != nil {
		s.mfaFail(w, r, err)
		return
	}
	redirect(w, r, "/security/mfa?done=passkeyremoved")
}

// startPasskeySignIn is POST /login/passkey: the passwordless sign-in ceremony page.
// It is a POST because it stores a challenge.
func (s *server) startPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.readForm(w, r); !ok {
		return
	}
	loc := s.locale(r)
	r = s.withDevice(w, r)
	c, err := s.Identity.BeginPasskeySignIn(r.Context(), s.source(r, loc.Code()))
	if err != nil {
		s.passkeySignInFail(w, r, loc, err)
		return
	}
	s.ceremonyPage(w, r, loc, "passkey.signin.title", passkeyView{
		Mode: "get", Action: "/login/passkey/finish", Options: string(c.Options), Token: string(c.Token),
		Intro: loc.T("passkey.signin.intro"), Button: loc.T("passkey.signin.button"),
	})
}

// passkeySignIn is POST /login/passkey/finish.
func (s *server) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	r = s.withDevice(w, r)
	res, err := s.Identity.PasskeySignIn(r.Context(), identity.Token(form.Get("token")), []byte(form.Get("credential")),
		s.source(r, loc.Code()))
	if err != nil {
		s.passkeySignInFail(w, r, loc, err)
		return
	}
	s.startSession(w, r, res.Token)
	redirect(w, r, "/account")
}

// passkeySignInFail shows the sign-in page with the error, like a failed password.
func (s *server) passkeySignInFail(w http.ResponseWriter, r *http.Request, loc locale.Locale, err error) {
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
	remembered := rememberedUserID(r)
	p.Data = s.loginView(loc, remembered, remembered != "")
	safehttp.RetryAfter(w, err, s.Now())
	s.render(w, r, safehttp.Status(kind), "login", p)
}
