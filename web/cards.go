package web

import (
	"net/http"
	"strconv"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// The card pages (SPEC AC7-AC10) are parsed with the others; they are listed here so
// the feature stays in its own files.
func init() {
	pageNames = append(pageNames, "card", "cardactivate", "cardpin", "cardlost")
	// The security history shows what was done to the member's cards (SPEC ID14).
	for kind, msg := range map[identity.EventKind]string{
		cardservice.EventActivated: "event.card.activated", cardservice.EventActivateFail: "event.card.activate.fail",
		cardservice.EventFrozen: "event.card.frozen", cardservice.EventUnfrozen: "event.card.unfrozen",
		cardservice.EventReportedLost: "event.card.lost", cardservice.EventPINChanged: "event.card.pin.changed",
		cardservice.EventPINIdentifyKO: "event.card.pin.idfail", identity.EventReidentifyFail: "event.reidentify.fail",
	} {
		shownEvents[kind] = msg
	}
}

// cardRoutes adds the card servicing pages. Every action is a POST (so it passes the
// cross-origin check) answered with a redirect; a card id that is not the member's is
// the same not-found page as one that does not exist.
func (s *server) cardRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /cards/activate", s.signedIn(s.showActivate))
	mux.HandleFunc("POST /cards/activate", s.signedIn(s.activateCard))
	mux.HandleFunc("GET /cards/{id}", s.signedIn(s.cardPage))
	mux.HandleFunc("POST /cards/{id}/freeze", s.signedIn(s.freezeCard))
	mux.HandleFunc("POST /cards/{id}/unfreeze", s.signedIn(s.unfreezeCard))
	mux.HandleFunc("GET /cards/{id}/lost", s.signedIn(s.showLost))
	mux.HandleFunc("POST /cards/{id}/lost", s.signedIn(s.reportLost))
	mux.HandleFunc("GET /cards/{id}/pin", s.signedIn(s.showPIN))
	mux.HandleFunc("POST /cards/{id}/pin", s.signedIn(s.setPIN))
	mux.HandleFunc("POST /cards/{id}/pin/send", s.signedIn(s.sendPINCode))
}

// cardFlashes are the ?done= outcomes the card page confirms.
var cardFlashes = map[string]string{
	"activated": "cards.activate.done", "frozen": "cards.frozen.done", "unfrozen": "cards.unfrozen.done",
	"pin": "cards.pin.done", "replaced": "cards.lost.done",
}

type cardPageView struct {
	ID       int64
	Title    string
	Holder   string
	State    string
	Expiry   string
	Replaces string // "Replaces your card ending ...", or ""
	PIN      string // whether a PIN is set
	CanPIN   bool
	Freeze   bool // the card can be frozen
	Unfreeze bool
	Lost     bool // the card can be reported lost
	Activate bool // the card awaits activation
}

// cardID reads the {id} path value; anything but a positive integer is not found.
func cardID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// memberCard loads the card the path names for the signed-in member, writing the
// not-found or error page itself when there is none.
func (s *server) memberCard(w http.ResponseWriter, r *http.Request) (cardservice.Card, bool) {
	id, ok := cardID(r)
	if !ok {
		s.notFound(w, r)
		return cardservice.Card{}, false
	}
	sess, _ := sessionFrom(r.Context())
	c, err := s.Cards.Card(r.Context(), sess.MemberID, id)
	if err != nil {
		s.cardFail(w, r, err)
		return cardservice.Card{}, false
	}
	return c, true
}

// cardFail answers an error that no form can show: not found, or a server error.
func (s *server) cardFail(w http.ResponseWriter, r *http.Request, err error) {
	if cp.IsKind(err, cp.NotFound) {
		s.notFound(w, r)
		return
	}
	s.fail(w, r, err)
}

// cardPage is GET /cards/{id}: the card and what the member can do with it.
func (s *server) cardPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.memberCard(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	// The title names the card, so it is filled in rather than taken as is.
	p := s.newPage(r, loc, "cards.title")
	p.Title = loc.T("cards.title", "last", c.Last)
	p.Nav = "account"
	if id, ok := cardFlashes[r.URL.Query().Get("done")]; ok {
		vars := []string{"last", c.Last}
		if id == "cards.lost.done" {
			vars = []string{"last", s.replacedLast(r, c), "newlast", c.Last}
		}
		p.Flash = loc.T(id, vars...)
	}
	p.Data = s.cardView(r, loc, c)
	s.render(w, r, http.StatusOK, "card", p)
}

// replacedLast is the screen digits of the card c replaced, or "".
func (s *server) replacedLast(r *http.Request, c cardservice.Card) string {
	if c.ReplacesID == 0 {
		return ""
	}
	sess, _ := sessionFrom(r.Context())
	old, err := s.Cards.Card(r.Context(), sess.MemberID, c.ReplacesID)
	if err != nil {
		return ""
	}
	return old.Last
}

func (s *server) cardView(r *http.Request, loc locale.Locale, c cardservice.Card) cardPageView {
	v := cardPageView{
		ID: c.ID, Title: loc.T("cards.title", "last", c.Last), Holder: c.HolderName, State: string(c.State),
		Expiry: c.Expiry.String(), CanPIN: c.State.Usable(),
		Freeze: c.State == card.Active, Unfreeze: c.State == card.Frozen, Activate: c.State == card.Inactive,
	}
	if id, ok := cardStates[string(c.State)]; ok {
		v.State = loc.T(id)
	}
	_, _, err := card.Next(c.State, card.ReportLost)
	v.Lost = err == nil
	v.PIN = loc.T("cards.pin.unset")
	if c.HasPIN {
		v.PIN = loc.T("cards.pin.set")
	}
	if last := s.replacedLast(r, c); last != "" {
		v.Replaces = loc.T("cards.replaces", "last", last)
	}
	return v
}

// cardAction runs a one-button action and returns to the card page. A refusal (the
// card is blocked, or not in a state the action applies to) shows on the card page.
func (s *server) cardAction(w http.ResponseWriter, r *http.Request, done string,
	act func(*cardservice.Service, *http.Request, identity.MemberID, int64, identity.Source) (cardservice.Card, error)) {
	if _, ok := s.readForm(w, r); !ok {
		return
	}
	id, ok := cardID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	sess, _ := sessionFrom(r.Context())
	loc := s.locale(r)
	c, err := act(s.Cards, r, sess.MemberID, id, s.source(r, loc.Code()))
	if err != nil {
		s.cardRefused(w, r, err)
		return
	}
	redirect(w, r, "/cards/"+strconv.FormatInt(c.ID, 10)+"?done="+done)
}

// cardRefused shows a refused action on the card page with the reason.
func (s *server) cardRefused(w http.ResponseWriter, r *http.Request, err error) {
	kind := cp.ErrorKind(err)
	if kind == cp.NotFound || kind == cp.Internal {
		s.cardFail(w, r, err)
		return
	}
	c, ok := s.memberCard(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	// The title names the card, so it is filled in rather than taken as is.
	p := s.newPage(r, loc, "cards.title")
	p.Title = loc.T("cards.title", "last", c.Last)
	p.Nav = "account"
	p.Alert = loc.T(cp.ErrorMsg(err))
	p.Data = s.cardView(r, loc, c)
	s.render(w, r, safehttp.Status(kind), "card", p)
}

func (s *server) freezeCard(w http.ResponseWriter, r *http.Request) {
	s.cardAction(w, r, "frozen", func(cs *cardservice.Service, r *http.Request, m identity.MemberID, id int64, src identity.Source) (cardservice.Card, error) {
		return cs.Freeze(r.Context(), m, id, src)
	})
}

func (s *server) unfreezeCard(w http.ResponseWriter, r *http.Request) {
	s.cardAction(w, r, "unfrozen", func(cs *cardservice.Service, r *http.Request, m identity.MemberID, id int64, src identity.Source) (cardservice.Card, error) {
		return cs.Unfreeze(r.Context(), m, id, src)
	})
}

// reportLost is POST /cards/{id}/lost, the confirmed report: the old card is blocked
// and the member lands on the replacement's page.
func (s *server) reportLost(w http.ResponseWriter, r *http.Request) {
	s.cardAction(w, r, "replaced", func(cs *cardservice.Service, r *http.Request, m identity.MemberID, id int64, src identity.Source) (cardservice.Card, error) {
		rep, err := cs.ReportLost(r.Context(), m, id, src)
		return rep.New, err
	})
}

type lostView struct {
	ID    int64
	Intro string
}

// showLost is GET /cards/{id}/lost: the confirmation step before blocking.
func (s *server) showLost(w http.ResponseWriter, r *http.Request) {
	c, ok := s.memberCard(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	if _, _, err := card.Next(c.State, card.ReportLost); err != nil {
		s.cardRefused(w, r, cp.E("web.showLost", cp.Conflict, "card.error.blocked", err))
		return
	}
	p := s.newPage(r, loc, "cards.lost.title")
	p.Nav = "account"
	p.Data = lostView{ID: c.ID, Intro: loc.T("cards.lost.intro", "last", c.Last)}
	s.render(w, r, http.StatusOK, "cardlost", p)
}

type activateView struct {
	CardNumber field
	CID        field
}

func activateFields(loc locale.Locale, errs *formErrors) activateView {
	v := activateView{
		CardNumber: field{ID: "card_number", Type: "text", Label: loc.T("register.cardnumber"), Help: loc.T("register.cardnumber.help"),
			Autocomplete: "off", InputMode: "numeric", MaxLength: 23, Required: true, Verbatim: true, Errors: errs.byID["card_number"]},
		// Never kept in the browser's autofill, never written back into the page.
		CID: field{ID: "cid", Type: "text", Label: loc.T("register.cid"), Help: loc.T("register.cid.help"),
			Autocomplete: "off", InputMode: "numeric", MaxLength: 4, Required: true, Verbatim: true, Errors: errs.byID["cid"]},
	}
	return v
}

// showActivate is GET /cards/activate (SPEC AC7).
func (s *server) showActivate(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	p := s.newPage(r, loc, "cards.activate")
	p.Nav = "account"
	p.Data = activateFields(loc, newFormErrors(loc))
	s.render(w, r, http.StatusOK, "cardactivate", p)
}

// activateCard is POST /cards/activate. A mismatch says only that the details could
// not be confirmed; neither the number nor the code is written back.
func (s *server) activateCard(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	errs := newFormErrors(loc)
	for _, id := range []string{"card_number", "cid"} {
		if strings.TrimSpace(form.Get(id)) == "" {
			errs.add(id, "error.field.required")
		}
	}
	p := s.newPage(r, loc, "cards.activate")
	p.Nav = "account"
	status := http.StatusUnprocessableEntity
	if errs.empty() {
		sess, _ := sessionFrom(r.Context())
		c, err := s.Cards.Activate(r.Context(), sess.MemberID,
			cardservice.Activation{CardNumber: form.Get("card_number"), CID: form.Get("cid")}, s.source(r, loc.Code()))
		if err == nil {
			redirect(w, r, "/cards/"+strconv.FormatInt(c.ID, 10)+"?done=activated")
			return
		}
		kind := cp.ErrorKind(err)
		switch {
		case kind == cp.Internal:
			s.fail(w, r, err)
			return
		case len(cp.ErrorFields(err)) > 0:
			errs.addAll(cp.ErrorFields(err), func(f string) string { return f })
		default:
			p.Alert = loc.T(cp.ErrorMsg(err))
			safehttp.RetryAfter(w, err, s.Now())
		}
		status = safehttp.Status(kind)
	}
	v := activateFields(loc, errs)
	p.Summary = errs.summary(v.CardNumber, v.CID)
	p.Data = v
	s.render(w, r, status, "cardactivate", p)
}

// The PIN flow (SPEC AC8): the member first confirms it is them with a challenge from
// cardservice.StartPINChallenge (their security question, a one-time code by email or
// SMS, or their authenticator app), or with date of birth and the card's security code
// if they have none of those. The challenge's flow token travels only in a hidden form
// field, never in a URL; sending a code answers with the page itself, not a redirect,
// for the same reason.

type pinChoice struct {
	Factor  identity.Factor
	Label   string
	Checked bool
}

type pinSend struct {
	Channel identity.Factor
	Label   string
}

type pinView struct {
	ID        int64
	Intro     string
	FlowToken string
	Fallback  bool
	BirthDate field // fallback only
	CID       field // fallback only
	Sends     []pinSend
	// Choices are the factors that can be answered now, when there are several;
	// Factor is the only one otherwise. Answer is nil when none can be answered yet
	// (the member must send themselves a code first).
	Choices []pinChoice
	Factor  identity.Factor
	Answer  *field
	PIN     field
	Confirm field
}

func pinFields(loc locale.Locale, c cardservice.Card, ch *cardservice.PINChallenge, errs *formErrors, birth string, chosen identity.Factor) pinView {
	secret := func(id, labelID, helpID string) field {
		f := field{ID: id, Type: "password", Label: loc.T(labelID), Autocomplete: "off", InputMode: "numeric",
			MaxLength: card.PINLength, Required: true, Verbatim: true, Errors: errs.byID[id]}
		if helpID != "" {
			f.Help = loc.T(helpID)
		}
		return f
	}
	v := pinView{
		ID: c.ID, Intro: loc.T("cards.pin.intro", "last", c.Last), FlowToken: string(ch.FlowToken), Fallback: ch.Fallback(),
		PIN:     secret("pin", "cards.pin.new", "cards.pin.help"),
		Confirm: secret("pin_confirm", "cards.pin.confirm", ""),
	}
	if v.Fallback {
		v.BirthDate = field{ID: "birth_date", Type: "date", Label: loc.T("register.dob"), Autocomplete: "bday",
			MaxLength: 10, Required: true, Value: birth, Errors: errs.byID["birth_date"]}
		v.CID = field{ID: "cid", Type: "text", Label: loc.T("register.cid"), Help: loc.T("register.cid.help"),
			Autocomplete: "off", InputMode: "numeric", MaxLength: 4, Required: true, Verbatim: true, Errors: errs.byID["cid"]}
		return v
	}
	for _, f := range ch.Factors {
		switch f {
		case identity.FactorEmail, identity.FactorSMS:
			to := ch.Email
			if f == identity.FactorSMS {
				to = ch.Phone
			}
			v.Sends = append(v.Sends, pinSend{Channel: f, Label: loc.T("mfa.send."+string(f), "to", to)})
			if ch.CodeSent == f {
				v.Choices = append(v.Choices, pinChoice{Factor: f, Label: loc.T("mfa.code." + string(f))})
			}
		case identity.FactorTOTP:
			v.Choices = append(v.Choices, pinChoice{Factor: f, Label: loc.T("mfa.code.totp")})
		case identity.FactorQuestion:
			v.Choices = append(v.Choices, pinChoice{Factor: f, Label: loc.T("q." + ch.QuestionID)})
		}
	}
	if len(v.Choices) == 0 {
		return v
	}
	// The factor chosen before, else a code just sent, else the first (strongest).
	pick := 0
	for i, x := range v.Choices {
		if x.Factor == chosen {
			pick = i
			break
		}
		if x.Factor == ch.CodeSent {
			pick = i
		}
	}
	v.Choices[pick].Checked = true
	answer := field{ID: "answer", Type: "text", Label: v.Choices[pick].Label, Autocomplete: "off",
		MaxLength: 200, Required: true, Verbatim: true, Errors: errs.byID["answer"]}
	if len(v.Choices) == 1 {
		v.Factor, v.Choices = v.Choices[0].Factor, nil
	} else {
		answer.Label = loc.T("cards.pin.answer")
	}
	v.Answer = &answer
	return v
}

// showPIN is GET /cards/{id}/pin: "Your PIN" (SPEC AC8). Each visit starts a new
// challenge.
func (s *server) showPIN(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, ok := s.memberCard(w, r)
	if !ok {
		return
	}
	if !c.State.Usable() {
		s.cardRefused(w, r, cp.E("web.showPIN", cp.Conflict, "card.error.blocked", nil))
		return
	}
	loc := s.locale(r)
	s.pinPage(w, r, loc, c, "", http.StatusOK, "", "", newFormErrors(loc), "", "")
}

// pinPage renders the PIN page with the live challenge tok, or a new challenge if
// there is none (tok empty, expired or used).
func (s *server) pinPage(w http.ResponseWriter, r *http.Request, loc locale.Locale, c cardservice.Card, tok identity.Token,
	status int, alert, flash string, errs *formErrors, birth string, chosen identity.Factor) {
	sess, _ := sessionFrom(r.Context())
	src := s.source(r, loc.Code())
	var (
		ch  *cardservice.PINChallenge
		err error
	)
	if tok != "" {
		ch, err = s.Cards.PendingPINChallenge(r.Context(), sess.MemberID, c.ID, tok, src)
		if cp.IsKind(err, cp.Expired) || cp.IsKind(err, cp.Forbidden) {
			if alert == "" {
				alert = loc.T("card.pin.expired")
			}
			tok, err = "", nil
		}
	}
	if tok == "" && err == nil {
		ch, err = s.Cards.StartPINChallenge(r.Context(), sess.MemberID, c.ID, src)
	}
	if err != nil {
		safehttp.RetryAfter(w, err, s.Now())
		s.cardRefused(w, r, err)
		return
	}
	p := s.newPage(r, loc, "cards.pin.title")
	p.Nav = "account"
	p.Alert, p.Flash = alert, flash
	v := pinFields(loc, c, ch, errs, birth, chosen)
	fields := []field{v.BirthDate, v.CID}
	if v.Answer != nil {
		fields = append(fields, *v.Answer)
	}
	p.Summary = errs.summary(append(fields, v.PIN, v.Confirm)...)
	p.Data = v
	s.render(w, r, status, "cardpin", p)
}

// pinError sorts a refused PIN step into what the page shows: field problems, an alert,
// or (for what no form can show) a whole answer of its own, when it returns false.
func (s *server) pinError(w http.ResponseWriter, r *http.Request, loc locale.Locale, err error, errs *formErrors) (status int, alert string, ok bool) {
	kind := cp.ErrorKind(err)
	switch {
	case kind == cp.Internal || kind == cp.NotFound:
		s.cardFail(w, r, err)
		return 0, "", false
	case kind == cp.Conflict:
		s.cardRefused(w, r, err)
		return 0, "", false
	case len(cp.ErrorFields(err)) > 0:
		// The factor and the answer are one control on the page.
		errs.addAll(cp.ErrorFields(err), func(f string) string {
			if f == "factor" || f == "channel" {
				return "answer"
			}
			return f
		})
	default:
		alert = loc.T(cp.ErrorMsg(err), "time", when(loc, cp.ErrorUntil(err)))
		safehttp.RetryAfter(w, err, s.Now())
	}
	return safehttp.Status(kind), alert, true
}

// setPIN is POST /cards/{id}/pin. The PIN travels only in this POST body; it is never
// written back into the page, logged, or put in a URL. Nor is the answer.
func (s *server) setPIN(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	c, ok := s.memberCard(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	errs := newFormErrors(loc)
	tok := identity.Token(form.Get("flow_token"))
	factor, _ := identity.ParseFactor(form.Get("factor"))
	required := []string{"pin", "pin_confirm", "answer"}
	if tok == "" {
		required = []string{"birth_date", "cid", "pin", "pin_confirm"}
	}
	for _, id := range required {
		if strings.TrimSpace(form.Get(id)) == "" {
			errs.add(id, "error.field.required")
		}
	}
	status, alert := http.StatusUnprocessableEntity, ""
	if errs.empty() {
		sess, _ := sessionFrom(r.Context())
		err := s.Cards.SetPIN(r.Context(), sess.MemberID, c.ID, cardservice.PINChange{
			FlowToken: tok, Factor: factor, Answer: form.Get("answer"),
			BirthDate: form.Get("birth_date"), CID: form.Get("cid"), PIN: form.Get("pin"), Confirm: form.Get("pin_confirm"),
		}, s.source(r, loc.Code()))
		if err == nil {
			redirect(w, r, "/cards/"+strconv.FormatInt(c.ID, 10)+"?done=pin")
			return
		}
		if status, alert, ok = s.pinError(w, r, loc, err, errs); !ok {
			return
		}
	}
	s.pinPage(w, r, loc, c, tok, status, alert, "", errs, form.Get("birth_date"), factor)
}

// sendPINCode is POST /cards/{id}/pin/send: a one-time code for the challenge by email
// or SMS. It answers with the PIN page itself: the flow token stays in its forms.
func (s *server) sendPINCode(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	c, ok := s.memberCard(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	errs := newFormErrors(loc)
	tok := identity.Token(form.Get("flow_token"))
	channel, _ := identity.ParseFactor(form.Get("channel"))
	sess, _ := sessionFrom(r.Context())
	status, alert, flash := http.StatusOK, "", ""
	if err := s.Cards.SendPINCode(r.Context(), sess.MemberID, c.ID, tok, channel, s.source(r, loc.Code())); err != nil {
		if status, alert, ok = s.pinError(w, r, loc, err, errs); !ok {
			return
		}
	} else if id, ok := verifyFlashes[string(channel)]; ok {
		flash = loc.T(id)
	}
	s.pinPage(w, r, loc, c, tok, status, alert, flash, errs, "", channel)
}
