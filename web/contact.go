package web

import (
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Confirming the mobile number and email address (SPEC ID4): the step after
// registration's credentials, and reachable from the dashboard's reminder until both
// are confirmed.

func init() { pageNames = append(pageNames, "contact") }

func (s *server) contactRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /contact", s.signedIn(s.showContact))
	mux.HandleFunc("POST /contact/send", s.signedIn(s.sendContactCode))
	mux.HandleFunc("POST /contact/confirm", s.signedIn(s.confirmContact))
	mux.HandleFunc("POST /contact/change", s.signedIn(s.changeContact))
}

type contactItem struct {
	Channel   string // sms or email
	Label     string
	Confirmed bool
	Code      field
	Pending   string // a new address waiting for its code, masked
	Change    string // "Change mobile number"
	Address   field
	Password  field
}

type contactView struct {
	Items   []contactItem
	Welcome bool
}

func contactItems(loc locale.Locale, st identity.ContactState, errs *formErrors) []contactItem {
	var out []contactItem
	add := func(ch, label string, confirmed bool, pending, what, addrType, auto string) {
		id := "code_" + ch
		it := contactItem{Channel: ch, Label: label, Confirmed: confirmed,
			Code: field{ID: id, Type: "text", Label: loc.T("contact.code"), Autocomplete: "one-time-code", InputMode: "numeric",
				MaxLength: 6, Required: true, Verbatim: true, Errors: errs.byID[id]},
			Change:  loc.T("contact.change.title", "what", loc.T(what)),
			Address: field{ID: "address_" + ch, Type: addrType, Label: loc.T("contact.change.address"), Autocomplete: auto, MaxLength: 254, Required: true, Verbatim: true, Errors: errs.byID["address_"+ch]},
			Password: field{ID: "password_" + ch, Type: "password", Label: loc.T("password.current"), Autocomplete: "current-password",
				MaxLength: 1024, Required: true, Verbatim: true, Errors: errs.byID["password_"+ch]},
		}
		if pending != "" {
			it.Pending = loc.T("contact.pending", "address", pending)
		}
		out = append(out, it)
	}
	if st.Phone != "" || st.PendingPhone != "" {
		add("sms", loc.T("contact.phone", "phone", st.Phone), !st.PhoneVerified.IsZero(), st.PendingPhone, "contact.what.phone", "tel", "tel")
	}
	if st.Email != "" || st.PendingEmail != "" {
		add("email", loc.T("contact.email", "email", st.Email), !st.EmailVerified.IsZero(), st.PendingEmail, "contact.what.email", "email", "email")
	}
	return out
}

func (s *server) renderContact(w http.ResponseWriter, r *http.Request, status int, p *page, errs *formErrors) {
	sess, _ := sessionFrom(r.Context())
	st, err := s.Identity.ContactState(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := p.Loc
	v := contactView{Items: contactItems(loc, st, errs), Welcome: r.URL.Query().Get("welcome") == "1"}
	if st.Confirmed() && p.Flash == "" && p.Alert == "" {
		p.Flash = loc.T("contact.done")
	}
	p.Data = v
	s.render(w, r, status, "contact", p)
}

// showContact is GET /contact.
func (s *server) showContact(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	p := s.newPage(r, loc, "contact.title")
	p.Nav = "security"
	switch r.URL.Query().Get("m") {
	case "sent":
		p.Flash = loc.T("contact.sent", "minutes", strconv.Itoa(int(s.Identity.Config().MFA.CodeLife/time.Minute)))
	case "welcome":
		p.Flash = loc.T("register.done")
	}
	s.renderContact(w, r, http.StatusOK, p, newFormErrors(loc))
}

// sendContactCode is POST /contact/send.
func (s *server) sendContactCode(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	err := s.Identity.SendContactCode(r.Context(), sess.MemberID, form.Get("channel"), s.source(r, loc.Code()))
	if err == nil {
		redirect(w, r, "/contact?m=sent")
		return
	}
	s.contactError(w, r, loc, err, "")
}

// confirmContact is POST /contact/confirm. The code is never written back.
func (s *server) confirmContact(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	ch := form.Get("channel")
	// The code's control is named per channel ("code_sms"), as the page has one per contact.
	err := s.Identity.ConfirmContact(r.Context(), sess.MemberID, ch, form.Get("code_"+ch), s.source(r, loc.Code()))
	if err == nil {
		redirect(w, r, "/contact")
		return
	}
	s.contactError(w, r, loc, err, "code_"+ch)
}

// changeContact is POST /contact/change: a code goes to the new address.
func (s *server) changeContact(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	ch := form.Get("channel")
	err := s.Identity.ChangeContact(r.Context(), sess.MemberID, identity.ContactChange{
		Channel: ch, Address: form.Get("address_" + ch), Password: form.Get("password_" + ch),
	}, s.source(r, loc.Code()))
	if err == nil {
		redirect(w, r, "/contact?m=sent")
		return
	}
	s.contactError(w, r, loc, err, "code_"+ch, ch)
}

func (s *server) contactError(w http.ResponseWriter, r *http.Request, loc locale.Locale, err error, codeField string, changeCh ...string) {
	kind := cp.ErrorKind(err)
	if kind == cp.Internal {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, loc, "contact.title")
	p.Nav = "security"
	errs := newFormErrors(loc)
	for _, f := range cp.ErrorFields(err) {
		switch {
		case f.Field == "code" && codeField != "":
			errs.add(codeField, f.Msg)
		case (f.Field == "address" || f.Field == "password") && len(changeCh) == 1:
			errs.add(f.Field+"_"+changeCh[0], f.Msg)
		default:
			p.Alert = loc.T(f.Msg)
		}
	}
	if errs.empty() && p.Alert == "" {
		p.Alert = loc.T(cp.ErrorMsg(err))
	}
	safehttp.RetryAfter(w, err, s.Now())
	s.renderContact(w, r, safehttp.Status(kind), p, errs)
}

// contactReminder reports whether the dashboard should remind the member to confirm
// their contacts. A failure only costs the reminder.
func (s *server) contactReminder(r *http.Request, id identity.MemberID) bool {
	st, err := s.Identity.ContactState(r.Context(), id)
	if err != nil {
		s.logError(r.Context(), r, err)
		return false
	}
	return !st.Confirmed()
}
