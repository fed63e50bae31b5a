package web

import (
	"net/http"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Personal details (SPEC AC11) and the second way to recover a User ID (SPEC ID8 by
// email, name and billing postcode). Listed here so the feature stays in its files.
func init() {
	pageNames = append(pageNames, "details", "useridemail")
	shownEvents[details.EventAddressChanged] = "event.details.address"
}

// servicingRoutes adds the pages of personal details, alert preferences and disputes
// for whichever of those services is wired.
func (s *server) servicingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /forgot/userid/email", s.showForgotUserIDByEmail)
	mux.HandleFunc("POST /forgot/userid/email", s.forgotUserIDByEmail)
	if s.Details != nil {
		mux.HandleFunc("GET /details", s.signedIn(s.showDetails))
		mux.HandleFunc("GET /details/address", s.signedIn(s.showAddressForm))
		mux.HandleFunc("POST /details/address", s.signedIn(s.changeAddress))
	}
	if s.Alerts != nil {
		s.alertRoutes(mux) // web/alerts.go
	}
	if s.Disputes != nil {
		s.disputeRoutes(mux) // web/disputes.go
	}
}

type detailsView struct {
	Mode      string // "show" or "edit"
	Name      string
	Address   []string // the address as printed, one line each; empty when none
	Updated   string
	Email     string
	Phone     string
	Line1     field
	Line2     field
	City      field
	Region    field
	Postcode  field
	Country   string
	Countries []option
	Password  field
}

// addressLines prints an address the way an envelope shows it.
func addressLines(loc locale.Locale, a issuer.Address) []string {
	if a.IsZero() {
		return nil
	}
	out := []string{a.Line1}
	if a.Line2 != "" {
		out = append(out, a.Line2)
	}
	city := strings.TrimSpace(strings.Join([]string{a.Postcode, a.City}, " "))
	if a.Country == "US" || a.Country == "IN" || a.Country == "GB" || a.Country == "MX" {
		city = strings.TrimSpace(a.City + ", " + strings.TrimSpace(a.Region+" "+a.Postcode))
	} else if a.Region != "" {
		out = append(out, city, a.Region)
		return append(out, loc.T("details.country."+strings.ToLower(a.Country)))
	}
	return append(out, city, loc.T("details.country."+strings.ToLower(a.Country)))
}

func (s *server) detailsView(loc locale.Locale, h details.Holder, mode string, errs *formErrors, form map[string]string) detailsView {
	a := h.Address
	if form != nil {
		a = issuer.Address{Line1: form["line1"], Line2: form["line2"], City: form["city"], Region: form["region"], Postcode: form["postcode"], Country: form["country"]}
	}
	f := func(id, labelID, auto string, max int, required bool, value string) field {
		return field{ID: id, Type: "text", Label: loc.T(labelID), Autocomplete: auto, MaxLength: max, Required: required,
			Value: value, Errors: errs.byID[id]}
	}
	v := detailsView{
		Mode: mode, Name: h.Name, Address: addressLines(loc, h.Address), Email: h.Email, Phone: h.Phone,
		Line1:    f("line1", "details.line1", "address-line1", details.MaxLine, true, a.Line1),
		Line2:    f("line2", "details.line2", "address-line2", details.MaxLine, false, a.Line2),
		City:     f("city", "details.city", "address-level2", details.MaxCity, true, a.City),
		Region:   f("region", "details.region", "address-level1", details.MaxRegion, false, a.Region),
		Postcode: f("postcode", "details.postcode", "postal-code", 16, true, a.Postcode),
		Password: field{ID: "password", Type: "password", Label: loc.T("details.password"), Help: loc.T("details.password.help"),
			Autocomplete: "current-password", Required: true, Errors: errs.byID["password"]},
		Country: a.Country,
	}
	v.Region.Help = loc.T("details.region.help")
	v.Postcode.Help = loc.T("details.postcode.help")
	if !h.UpdatedAt.IsZero() {
		v.Updated = loc.T("details.updated", "time", when(loc, h.UpdatedAt))
	}
	for _, c := range details.Countries {
		v.Countries = append(v.Countries, option{Value: c, Text: loc.T("details.country." + strings.ToLower(c)), Selected: c == a.Country})
	}
	return v
}

func (s *server) holder(w http.ResponseWriter, r *http.Request) (details.Holder, bool) {
	sess, _ := sessionFrom(r.Context())
	h, err := s.Details.Holder(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return details.Holder{}, false
	}
	return h, true
}

// showDetails is GET /details: the address, email and phone, with links to change
// each. Email and phone changes are the contact page's (re-confirmed by a code).
func (s *server) showDetails(w http.ResponseWriter, r *http.Request) {
	h, ok := s.holder(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "details.title")
	p.Nav = "account"
	if r.URL.Query().Get("done") == "address" {
		p.Flash = loc.T("details.address.done")
	}
	p.Data = s.detailsView(loc, h, "show", newFormErrors(loc), nil)
	s.render(w, r, http.StatusOK, "details", p)
}

// showAddressForm is GET /details/address.
func (s *server) showAddressForm(w http.ResponseWriter, r *http.Request) {
	h, ok := s.holder(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "details.address.title")
	p.Nav = "account"
	p.Data = s.detailsView(loc, h, "edit", newFormErrors(loc), nil)
	s.render(w, r, http.StatusOK, "details", p)
}

// changeAddress is POST /details/address: the new address and the password.
func (s *server) changeAddress(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	h, ok := s.holder(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "details.address.title")
	p.Nav = "account"
	errs := newFormErrors(loc)
	sess, _ := sessionFrom(r.Context())
	a := issuer.Address{Line1: form.Get("line1"), Line2: form.Get("line2"), City: form.Get("city"),
		Region: form.Get("region"), Postcode: form.Get("postcode"), Country: form.Get("country")}
	_, err := s.Details.ChangeAddress(r.Context(), sess.MemberID, form.Get("password"), a, s.source(r, loc.Code()))
	if err == nil {
		redirect(w, r, "/details?done=address")
		return
	}
	kind := cp.ErrorKind(err)
	switch {
	case kind == cp.Internal || kind == cp.NotFound:
		s.fail(w, r, err)
		return
	case len(cp.ErrorFields(err)) > 0:
		errs.addAll(cp.ErrorFields(err), func(f string) string { return f })
	default:
		p.Alert = loc.T(cp.ErrorMsg(err))
		safehttp.RetryAfter(w, err, s.Now())
	}
	v := s.detailsView(loc, h, "edit", errs, map[string]string{"line1": a.Line1, "line2": a.Line2, "city": a.City,
		"region": a.Region, "postcode": a.Postcode, "country": a.Country})
	countryField := field{ID: "country", Label: loc.T("details.country")}
	p.Summary = errs.summary(v.Line1, v.Line2, v.City, v.Region, v.Postcode, countryField, v.Password)
	p.Data = v
	s.render(w, r, safehttp.Status(kind), "details", p)
}

type userIDEmailView struct {
	Sent     bool
	Email    field
	Name     field
	Postcode field
}

func userIDEmailFields(loc locale.Locale, errs *formErrors, form map[string]string) userIDEmailView {
	f := func(id, typ, labelID, auto string, max int) field {
		return field{ID: id, Type: typ, Label: loc.T(labelID), Autocomplete: auto, MaxLength: max, Required: true,
			Value: form[id], Errors: errs.byID[id]}
	}
	v := userIDEmailView{
		Email:    f("email", "email", "recovery.email", "email", 254),
		Name:     f("name", "text", "recovery.name", "name", 100),
		Postcode: f("postcode", "text", "recovery.postcode", "postal-code", 16),
	}
	v.Email.Verbatim = true
	v.Name.Help = loc.T("recovery.name.help")
	return v
}

// showForgotUserIDByEmail is GET /forgot/userid/email.
func (s *server) showForgotUserIDByEmail(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	p := s.recoveryPage(r, loc, "recovery.userid.title")
	w.Header().Set("Cache-Control", "no-store")
	p.Data = userIDEmailFields(loc, newFormErrors(loc), nil)
	s.render(w, r, http.StatusOK, "useridemail", p)
}

// forgotUserIDByEmail is POST /forgot/userid/email. Whatever matched, the page says
// the same as the card path does.
func (s *server) forgotUserIDByEmail(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.recoveryPage(r, loc, "recovery.userid.title")
	w.Header().Set("Cache-Control", "no-store")
	errs := newFormErrors(loc)
	required(errs, form, "email", "name", "postcode")
	status := http.StatusUnprocessableEntity
	if errs.empty() {
		err := s.Identity.ForgotUserIDByEmail(r.Context(), identity.ForgotUserIDByEmailRequest{
			Email: form.Get("email"), Name: form.Get("name"), Postcode: form.Get("postcode"),
		}, s.source(r, loc.Code()))
		if err == nil {
			p.Flash = loc.T("recovery.userid.sent")
			p.Data = userIDEmailView{Sent: true}
			s.render(w, r, http.StatusOK, "useridemail", p)
			return
		}
		if status, ok = s.recoveryError(w, r, err, p, errs); !ok {
			return
		}
	}
	// What was typed goes back so it can be corrected; none of it is a secret the
	// member did not just type, and none of it says whether anything matched.
	v := userIDEmailFields(loc, errs, map[string]string{"email": form.Get("email"), "name": form.Get("name"), "postcode": form.Get("postcode")})
	p.Summary = errs.summary(v.Email, v.Name, v.Postcode)
	p.Data = v
	s.render(w, r, status, "useridemail", p)
}
