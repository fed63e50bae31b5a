package web

import (
	"net/http"
	"strconv"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// The registration flow cookie is scoped to the registration pages: no other page
// ever receives the flow token.
const flowPath = "/register"

type registerView struct {
	Step       string // "Step 1 of 2"
	CardNumber field
	CID        field
	Expiry     field
	Name       field
	BirthDate  field
	NationalID field
	Additional bool
	BasicBirth field
	AddLabel   string
}

var registerFlashes = map[string]string{"flowexpired": "register.flowexpired"}

// cardFields are the controls of step 1, named as identity.VerifyCard names its
// field errors, so an error lands on its control without a mapping table.
func (s *server) registerView(loc locale.Locale, errs *formErrors, form map[string]string, additional bool) registerView {
	f := func(id, typ, labelID, helpID, autocomplete string, max int) field {
		fl := field{ID: id, Type: typ, Label: loc.T(labelID), Autocomplete: autocomplete, MaxLength: max,
			Required: true, Value: form[id], Errors: errs.byID[id]}
		if helpID != "" {
			fl.Help = loc.T(helpID)
		}
		return fl
	}
	v := registerView{
		Step:       loc.T("register.stepof", "n", "1", "total", "2"),
		CardNumber: f("card_number", "text", "register.cardnumber", "register.cardnumber.help", "cc-number", 23),
		// Never store a security code in the browser's autofill.
		CID:        f("cid", "text", "register.cid", "register.cid.help", "off", 4),
		Expiry:     f("expiry", "text", "register.expiry", "", "cc-exp", 7),
		Name:       f("name", "text", "register.name", "", "cc-name", 200),
		BirthDate:  f("birth_date", "date", "register.dob", "", "bday", 10),
		NationalID: f("national_id", "text", loc.NationalIDLabelID(), "", "off", 4),
		Additional: additional,
		BasicBirth: f("basic_birth_date", "date", "register.basicdob", "", "off", 10),
		AddLabel:   loc.T("register.additional"),
	}
	v.CardNumber.InputMode, v.CID.InputMode, v.Expiry.InputMode = "numeric", "numeric", "numeric"
	v.CardNumber.Verbatim, v.CID.Verbatim, v.Expiry.Verbatim, v.NationalID.Verbatim = true, true, true, true
	v.Expiry.Placeholder = "MM/YY"
	v.BasicBirth.Required = additional
	return v
}

func (s *server) registerPage(loc locale.Locale, r *http.Request) *page {
	p := s.newPage(r, loc, "register.title")
	p.Nav = "register"
	if s.Maintenance != "" {
		p.Notice = loc.T("maintenance.notice", "when", s.Maintenance)
	}
	return p
}

// showRegister is GET /register: step 1, confirm the card.
func (s *server) showRegister(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	p := s.registerPage(loc, r)
	if id, ok := registerFlashes[r.URL.Query().Get("m")]; ok {
		p.Alert = loc.T(id)
	}
	p.Data = s.registerView(loc, newFormErrors(loc), nil, false)
	s.render(w, r, http.StatusOK, "register", p)
}

// verifyCard is POST /register. On a match the flow token goes into a cookie and the
// browser moves on to step 2; on a mismatch the page says only that the details
// could not be confirmed, never which one was wrong.
func (s *server) verifyCard(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	additional := form.Get("additional") == "1"
	in := identity.CardDetails{
		CardNumber: form.Get("card_number"), Code: form.Get("cid"), Expiry: form.Get("expiry"),
		Name: form.Get("name"), BirthDate: form.Get("birth_date"), NationalID: form.Get("national_id"),
	}
	if additional {
		in.BasicBirth = form.Get("basic_birth_date")
	}
	// Card number and security code are never written back into the page.
	keep := map[string]string{
		"expiry": in.Expiry, "name": in.Name, "birth_date": in.BirthDate,
		"national_id": in.NationalID, "basic_birth_date": form.Get("basic_birth_date"),
	}
	errs := newFormErrors(loc)
	// Presence is checked here so an empty form gets "required" on every empty field
	// at once; the service checks the formats and the records.
	required := []string{"card_number", "cid", "expiry", "name", "birth_date", "national_id"}
	if additional {
		required = append(required, "basic_birth_date")
	}
	for _, id := range required {
		if strings.TrimSpace(form.Get(id)) == "" {
			errs.add(id, "error.field.required")
		}
	}
	status := http.StatusUnprocessableEntity
	p := s.registerPage(loc, r)
	if errs.empty() {
		tok, err := s.Identity.VerifyCard(r.Context(), in, s.source(r, loc.Code()))
		if err == nil {
			s.setCookie(w, r, flowCookie, string(tok), flowPath, s.Identity.Config().FlowLife)
			redirect(w, r, "/register/credentials")
			return
		}
		kind := cp.ErrorKind(err)
		switch kind {
		case cp.Internal:
			s.fail(w, r, err)
			return
		case cp.Invalid:
			errs.addAll(cp.ErrorFields(err), func(f string) string { return f })
		default:
			// A mismatch, an already registered card or throttling: a message about
			// the whole form, tied to no field.
			p.Alert = loc.T(cp.ErrorMsg(err))
			safehttp.RetryAfter(w, err, s.Now())
		}
		status = safehttp.Status(kind)
	}
	v := s.registerView(loc, errs, keep, additional)
	p.Summary = errs.summary(v.CardNumber, v.CID, v.Expiry, v.Name, v.BirthDate, v.NationalID, v.BasicBirth)
	p.Data = v
	s.render(w, r, status, "register", p)
}

type credentialsView struct {
	Step      string
	Card      string
	UserID    field
	Password  field
	Confirm   field
	Rules     []ruleView
	Policy    identity.PasswordPolicy
	Met       string
	Unmet     string
	Legend    string
	Questions []questionView
	QErrors   []string
}

type ruleView struct {
	Rule   string
	Text   string
	Broken bool
}

type questionView struct {
	Select  field
	Options []option
	Answer  field
}

type option struct {
	Value, Text string
	Selected    bool
}

// credentialControl maps identity.Register's field names to the form's controls:
// "questions" is one error about the three selects, shown on the first.
func credentialControl(f string) string {
	if f == "questions" {
		return "question1"
	}
	return f
}

func (s *server) credentialsView(loc locale.Locale, ch identity.CardHolder, errs *formErrors, userID string, questions []string) credentialsView {
	pol := s.Identity.Config().Password
	v := credentialsView{
		Step: loc.T("register.stepof", "n", "2", "total", "2"),
		Card: loc.T("dashboard.card", "last", ch.CardLast),
		UserID: field{ID: "user_id", Type: "text", Label: loc.T("signin.userid"), Help: loc.T("register.userid.help"),
			Autocomplete: "username", MaxLength: identity.UserIDMax, Required: true, Verbatim: true,
			Value: userID, Errors: errs.byID["user_id"]},
		Password: field{ID: "password", Type: "password", Label: loc.T("signin.password"),
			Autocomplete: "new-password", Required: true, Errors: errs.byID["password"]},
		Confirm: field{ID: "confirm", Type: "password", Label: loc.T("register.confirm"),
			Autocomplete: "new-password", Required: true, Errors: errs.byID["confirm"]},
		Policy: pol,
		Met:    loc.T("pw.met"),
		Unmet:  loc.T("pw.unmet"),
		Legend: loc.T("register.questions"),
	}
	// The checklist shows the rules app.js can check as the member types; history
	// needs the stored hashes and the maximum length is only ever a server error.
	broken := map[string]bool{}
	for _, f := range errs.raw["password"] {
		broken[f] = true
	}
	add := func(on bool, r identity.Rule) {
		if on {
			id := "pw.rule." + string(r)
			v.Rules = append(v.Rules, ruleView{Rule: string(r), Text: loc.T(id, policyArgs(pol)...), Broken: broken[id]})
		}
	}
	add(pol.MinLength > 0, identity.RuleLength)
	add(pol.RequireUpper, identity.RuleUpper)
	add(pol.RequireLower, identity.RuleLower)
	add(pol.RequireDigitSymbol, identity.RuleDigitSymbol)
	add(pol.NoLeadingSymbol, identity.RuleFirstChar)
	add(pol.NoUserID, identity.RuleUserID)

	for i := 0; i < identity.QuestionsRequired; i++ {
		n := strconv.Itoa(i + 1)
		chosen := ""
		if i < len(questions) {
			chosen = questions[i]
		}
		q := questionView{
			Select: field{ID: "question" + n, Label: loc.T("register.question", "n", n), Required: true,
				Errors: errs.byID["question"+n]},
			// Answers are secrets like passwords: never echoed back.
			Answer: field{ID: "answer" + n, Type: "text", Label: loc.T("register.answer"), Autocomplete: "off",
				MaxLength: 200, Required: true, Errors: errs.byID["answer"+n], SummaryLabel: loc.T("register.answer.n", "n", n)},
		}
		q.Options = append(q.Options, option{Value: "", Text: loc.T("register.choose"), Selected: chosen == ""})
		for _, id := range identity.QuestionIDs {
			q.Options = append(q.Options, option{Value: id, Text: loc.T("q." + id), Selected: id == chosen})
		}
		v.Questions = append(v.Questions, q)
	}
	return v
}

// policyArgs are the placeholder values of the password rule messages.
func policyArgs(p identity.PasswordPolicy) []string {
	return []string{"min", strconv.Itoa(p.MinLength), "max", strconv.Itoa(p.MaxLength), "n", strconv.Itoa(p.History)}
}

// flowCard reads the flow cookie and returns the card it is for. ok is false when
// the response has been written: a redirect to step 1 for a missing or expired
// flow, or an error page.
func (s *server) flowCard(w http.ResponseWriter, r *http.Request) (identity.Token, identity.CardHolder, bool) {
	tok := identity.Token(cookie(r, flowCookie))
	ch, err := s.Identity.RegistrationCard(r.Context(), tok)
	if err != nil {
		if cp.ErrorKind(err) == cp.Internal {
			s.fail(w, r, err)
			return "", identity.CardHolder{}, false
		}
		s.clearCookie(w, r, flowCookie, flowPath)
		redirect(w, r, "/register?m=flowexpired")
		return "", identity.CardHolder{}, false
	}
	return tok, ch, true
}

func (s *server) credentialsPage(loc locale.Locale, r *http.Request) *page {
	p := s.newPage(r, loc, "register.step2")
	p.Nav = "register"
	return p
}

// showCredentials is GET /register/credentials: step 2, User ID, password and
// security questions.
func (s *server) showCredentials(w http.ResponseWriter, r *http.Request) {
	_, ch, ok := s.flowCard(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.credentialsPage(loc, r)
	p.Data = s.credentialsView(loc, ch, newFormErrors(loc), "", nil)
	s.render(w, r, http.StatusOK, "credentials", p)
}

// register is POST /register/credentials. On success the member is signed in.
func (s *server) register(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	tok, ch, ok := s.flowCard(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	in := identity.Credentials{UserID: form.Get("user_id"), Password: form.Get("password"), Confirm: form.Get("confirm")}
	for i := 1; i <= identity.QuestionsRequired; i++ {
		n := strconv.Itoa(i)
		in.Questions = append(in.Questions, form.Get("question"+n))
		in.Answers = append(in.Answers, form.Get("answer"+n))
	}
	r = s.withDevice(w, r) // the registering browser becomes a trusted device
	_, sessTok, _, err := s.Identity.Register(r.Context(), tok, in, s.source(r, loc.Code()))
	if err == nil {
		s.clearCookie(w, r, flowCookie, flowPath)
		s.startSession(w, r, sessTok)
		redirect(w, r, "/contact?m=welcome") // confirming the phone is the next step (SPEC ID4)
		return
	}
	kind := cp.ErrorKind(err)
	switch kind {
	case cp.Internal:
		s.fail(w, r, err)
		return
	case cp.Expired:
		s.clearCookie(w, r, flowCookie, flowPath)
		redirect(w, r, "/register?m=flowexpired")
		return
	}
	p := s.credentialsPage(loc, r)
	errs := newFormErrors(loc, policyArgs(s.Identity.Config().Password)...)
	errs.prefix["password"] = "pw.broken"
	if kind == cp.Invalid {
		errs.addAll(cp.ErrorFields(err), credentialControl)
	} else {
		p.Alert = loc.T(cp.ErrorMsg(err))
		safehttp.RetryAfter(w, err, s.Now())
	}
	// Only valid question IDs are selected again; anything else shows "choose".
	var questions []string
	for _, q := range in.Questions {
		questions = append(questions, validQuestion(q))
	}
	v := s.credentialsView(loc, ch, errs, cleanUserID(in.UserID), questions)
	fields := []field{v.UserID, v.Password, v.Confirm}
	for _, q := range v.Questions {
		fields = append(fields, q.Select, q.Answer)
	}
	p.Summary = errs.summary(fields...)
	p.Data = v
	s.render(w, r, safehttp.Status(kind), "credentials", p)
}

func validQuestion(id string) string {
	for _, q := range identity.QuestionIDs {
		if q == id {
			return id
		}
	}
	return ""
}

// cleanUserID is the typed User ID to show again: html/template escapes it, and the
// bound keeps a pasted novel out of the page.
func cleanUserID(id string) string {
	if len(id) > 4*identity.UserIDMax {
		return ""
	}
	return id
}
