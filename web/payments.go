package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/safehttp"
)

// The payment pages (SPEC AC4) are parsed with the others; they are listed here so the
// feature stays in its own files.
func init() {
	pageNames = append(pageNames, "payments", "payment", "paybanks", "payautopay")
}

// paymentRoutes adds the payment pages. Every action is a POST answered with a
// redirect; an id that is not on the member's account is the not-found page.
func (s *server) paymentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /payments", s.signedIn(s.paymentsPage))
	mux.HandleFunc("POST /payments", s.signedIn(s.makePayment))
	mux.HandleFunc("GET /payments/{id}", s.signedIn(s.paymentPage))
	mux.HandleFunc("POST /payments/{id}/change", s.signedIn(s.changePayment))
	mux.HandleFunc("POST /payments/{id}/cancel", s.signedIn(s.cancelPayment))
	mux.HandleFunc("GET /payments/banks", s.signedIn(s.banksPage))
	mux.HandleFunc("POST /payments/banks", s.signedIn(s.linkBank))
	mux.HandleFunc("POST /payments/banks/{id}/remove", s.signedIn(s.removeBank))
	mux.HandleFunc("GET /payments/autopay", s.signedIn(s.autopayPage))
	mux.HandleFunc("POST /payments/autopay", s.signedIn(s.saveAutopay))
	mux.HandleFunc("POST /payments/autopay/stop", s.signedIn(s.stopAutopay))
}

type bankOption struct {
	ID       int64
	Label    string
	Selected bool
}

type paymentRow struct {
	ID           int64
	Date         string
	ISO          string
	Amount       string
	Bank         string
	Status       string
	StatusCode   string
	Confirmation string
	Auto         bool
}

type paymentsView struct {
	Balance  string
	Owed     string
	Banks    []bankOption
	BankErr  []string
	Amount   field
	Date     field
	Key      string // the form's idempotency token
	Autopay  string // "Autopay is on: ..." or off
	Payments []paymentRow
}

type paymentView struct {
	Row      paymentRow
	Change   bool // still scheduled: show the change form and the cancel button
	Banks    []bankOption
	BankErr  []string
	Amount   field
	Date     field
	Currency string
}

type banksView struct {
	Banks    []bankRow
	Nickname field
	Routing  field
	Number   field
}

type bankRow struct {
	ID       int64
	Nickname string
	Routing  string
	Masked   string
}

type autopayView struct {
	Status string
	On     bool
	Banks  []bankOption
	Rules  []ruleOption
	Amount field
}

type ruleOption struct {
	Value, Label string
	Checked      bool
}

// payStatuses are the statuses' message IDs.
var payStatuses = map[payment.Status]string{
	payment.Scheduled: "payments.status.scheduled", payment.Processing: "payments.status.processing",
	payment.Posted: "payments.status.posted", payment.Cancelled: "payments.status.cancelled", payment.Failed: "payments.status.failed",
}

var payRules = []payment.Rule{payment.MinimumDue, payment.StatementBalance, payment.FixedAmount}

// payFlashes are the ?done= outcomes the pages confirm.
var payFlashes = map[string]string{
	"changed": "payments.done.changed", "cancelled": "payments.done.cancelled",
	"linked": "payments.banks.linked", "removed": "payments.banks.removed",
	"autopay": "payments.autopay.saved", "autopayoff": "payments.autopay.stopped",
}

func payRow(loc locale.Locale, p payment.Payment) paymentRow {
	return paymentRow{ID: p.ID, Date: loc.Date(p.On), ISO: p.On.Format(time.DateOnly), Amount: loc.Money(p.Amount, p.Currency),
		Bank: payment.Mask(p.BankLast4), Status: loc.T(payStatuses[p.Status]), StatusCode: string(p.Status),
		Confirmation: p.Confirmation, Auto: p.Kind == payment.Auto}
}

func bankOptions(bs []payment.BankAccount, selected int64) []bankOption {
	out := make([]bankOption, 0, len(bs))
	for i, b := range bs {
		label := b.Masked()
		if b.Nickname != "" {
			label = b.Nickname + " " + label
		}
		out = append(out, bankOption{ID: b.ID, Label: label, Selected: b.ID == selected || (selected == 0 && i == 0)})
	}
	return out
}

// payFail answers an error no form shows: an additional member (forbidden), not
// found, or a server error.
func (s *server) payFail(w http.ResponseWriter, r *http.Request, err error) {
	switch cp.ErrorKind(err) {
	case cp.NotFound:
		s.notFound(w, r)
	case cp.Forbidden, cp.Unauthenticated:
		s.errorPage(w, r, http.StatusForbidden, cp.ErrorMsg(err))
	default:
		s.fail(w, r, err)
	}
}

// newKey is a form's idempotency token: a resubmitted form (a double click, a reload
// of the POST) carries the same one and so makes no second payment.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func payMember(r *http.Request) identity.MemberID {
	sess, _ := sessionFrom(r.Context())
	return sess.MemberID
}

// paymentsPage is GET /payments: pay, and the list with confirmation numbers.
func (s *server) paymentsPage(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	p := s.newPage(r, loc, "payments.title")
	if id, ok := payFlashes[r.URL.Query().Get("done")]; ok {
		p.Flash = loc.T(id)
	}
	s.renderPayments(w, r, p, http.StatusOK, nil, url.Values{})
}

func (s *server) renderPayments(w http.ResponseWriter, r *http.Request, p *page, status int, errs *formErrors, form url.Values) {
	ctx := r.Context()
	loc := p.Loc
	m := payMember(r)
	payer, err := s.Payments.Payer(ctx, m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	banks, err := s.Payments.BankAccounts(ctx, m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	list, err := s.Payments.Payments(ctx, m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	if errs == nil {
		errs = newFormErrors(loc)
	}
	owed := max(payer.Balance+max(payer.Pending, 0), 0)
	selected, _ := strconv.ParseInt(form.Get("bank_account_id"), 10, 64)
	key := form.Get("idempotency_key")
	if key == "" {
		key = newKey()
	}
	v := paymentsView{
		Balance: loc.Money(payer.Balance, payer.Currency), Owed: loc.Money(owed, payer.Currency),
		Banks: bankOptions(banks, selected), BankErr: errs.byID["bank_account_id"], Key: key,
		Amount: field{ID: "amount", Type: "text", Label: loc.T("payments.amount"), InputMode: "decimal", MaxLength: 20, Required: true,
			Help:  loc.T("payments.amount.help", "currency", payer.Currency, "owed", loc.Money(owed, payer.Currency)),
			Value: form.Get("amount"), Errors: errs.byID["amount"]},
		Date: field{ID: "date", Type: "date", Label: loc.T("payments.date"), MaxLength: 10, Value: form.Get("date"),
			Help: loc.T("payments.date.help", "max", loc.Date(s.Payments.MaxDate())), Errors: errs.byID["date"]},
		Autopay: loc.T("payments.autopay.off"),
	}
	if a, err := s.Payments.Autopay(ctx, m); err == nil {
		v.Autopay = loc.T("payments.autopay.on", "rule", loc.T("payments.autopay.rule."+string(a.Rule)), "bank", payment.Mask(a.BankLast4))
	} else if !cp.IsKind(err, cp.NotFound) {
		s.payFail(w, r, err)
		return
	}
	for _, x := range list {
		v.Payments = append(v.Payments, payRow(loc, x))
	}
	p.Nav = "payments"
	p.Summary = errs.summary(field{ID: "bank_account_id", Label: loc.T("payments.bank")}, v.Amount, v.Date)
	p.Data = v
	s.render(w, r, status, "payments", p)
}

// payFormErrors turns a refused request into the form's errors or alert; it reports
// false when it wrote an error page itself.
func (s *server) payFormErrors(w http.ResponseWriter, r *http.Request, p *page, errs *formErrors, err error) (int, bool) {
	kind := cp.ErrorKind(err)
	switch {
	case kind == cp.Internal || kind == cp.NotFound || kind == cp.Forbidden:
		s.payFail(w, r, err)
		return 0, false
	case len(cp.ErrorFields(err)) > 0:
		errs.addAll(cp.ErrorFields(err), func(f string) string { return f })
	default:
		p.Alert = p.Loc.T(cp.ErrorMsg(err))
	}
	return safehttp.Status(kind), true
}

// submitPay runs a payment form's action once the form's own checks have passed, and
// redirects to the page act names when it succeeds. Otherwise it reports the status
// to show the form again with (the problems are on p and errs by then), or false when
// an error page has been written instead.
func (s *server) submitPay(w http.ResponseWriter, r *http.Request, p *page, errs *formErrors, act func() (string, error)) (int, bool) {
	if !errs.empty() {
		return http.StatusUnprocessableEntity, true
	}
	to, err := act()
	if err == nil {
		redirect(w, r, to)
		return 0, false
	}
	return s.payFormErrors(w, r, p, errs, err)
}

// parsePayForm reads bank, amount and date from a form, adding field errors.
func parsePayForm(form url.Values, currency string, errs *formErrors) (bank, amount int64, on time.Time) {
	bank, err := strconv.ParseInt(form.Get("bank_account_id"), 10, 64)
	if err != nil || bank <= 0 {
		errs.add("bank_account_id", "payment.error.bank")
	}
	if strings.TrimSpace(form.Get("amount")) == "" {
		errs.add("amount", "error.field.required")
	} else if amount, err = account.ParseAmount(form.Get("amount"), currency); err != nil {
		errs.add("amount", "payment.error.amount")
	}
	if d := strings.TrimSpace(form.Get("date")); d != "" {
		if on, err = time.Parse(time.DateOnly, d); err != nil {
			errs.add("date", "error.date")
		}
	}
	return bank, amount, on
}

// makePayment is POST /payments: pay now (no date or today) or schedule.
func (s *server) makePayment(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	m := payMember(r)
	payer, err := s.Payments.Payer(r.Context(), m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	errs := newFormErrors(loc)
	bank, amount, on := parsePayForm(form, payer.Currency, errs)
	p := s.newPage(r, loc, "payments.title")
	status, ok := s.submitPay(w, r, p, errs, func() (string, error) {
		pay, err := s.Payments.Pay(r.Context(), m, payment.Request{BankAccountID: bank, Amount: amount, On: on,
			IdempotencyKey: form.Get("idempotency_key")})
		return "/payments/" + strconv.FormatInt(pay.ID, 10) + "?done=made", err
	})
	if ok {
		s.renderPayments(w, r, p, status, errs, form)
	}
}

// paymentID reads {id}; anything but a positive integer is not found.
func paymentID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// paymentPage is GET /payments/{id}: the payment, its confirmation number, and the
// change and cancel forms while it is scheduled.
func (s *server) paymentPage(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	s.renderPayment(w, r, s.newPage(r, loc, "payments.title"), http.StatusOK, nil, nil)
}

func (s *server) renderPayment(w http.ResponseWriter, r *http.Request, p *page, status int, errs *formErrors, form url.Values) {
	id, ok := paymentID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	loc := p.Loc
	m := payMember(r)
	pay, err := s.Payments.Payment(ctx, m, id)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	banks, err := s.Payments.BankAccounts(ctx, m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	if errs == nil {
		errs = newFormErrors(loc)
	}
	if form == nil {
		form = url.Values{}
		form.Set("amount", account.PlainAmount(pay.Amount, pay.Currency))
		form.Set("date", pay.On.Format(time.DateOnly))
		form.Set("bank_account_id", strconv.FormatInt(pay.BankAccountID, 10))
	}
	selected, _ := strconv.ParseInt(form.Get("bank_account_id"), 10, 64)
	row := payRow(loc, pay)
	p.Title = loc.T("payment.title", "confirmation", pay.Confirmation)
	p.Nav = "payments"
	switch r.URL.Query().Get("done") {
	case "made":
		vars := []string{"amount", row.Amount, "date", row.Date, "confirmation", pay.Confirmation}
		if pay.Status == payment.Posted {
			p.Flash = loc.T("payments.done.posted", vars...)
		} else {
			p.Flash = loc.T("payments.done.scheduled", vars...)
		}
	default:
		if id, ok := payFlashes[r.URL.Query().Get("done")]; ok {
			p.Flash = loc.T(id)
		}
	}
	v := paymentView{Row: row, Change: pay.Changeable(), Banks: bankOptions(banks, selected), BankErr: errs.byID["bank_account_id"],
		Currency: pay.Currency,
		Amount: field{ID: "amount", Type: "text", Label: loc.T("payments.amount"), InputMode: "decimal", MaxLength: 20, Required: true,
			Value: form.Get("amount"), Errors: errs.byID["amount"]},
		Date: field{ID: "date", Type: "date", Label: loc.T("payments.date"), MaxLength: 10, Required: true, Value: form.Get("date"),
			Help: loc.T("payments.date.help.change", "max", loc.Date(s.Payments.MaxDate())), Errors: errs.byID["date"]},
	}
	p.Summary = errs.summary(field{ID: "bank_account_id", Label: loc.T("payments.bank")}, v.Amount, v.Date)
	p.Data = v
	s.render(w, r, status, "payment", p)
}

// changePayment is POST /payments/{id}/change.
func (s *server) changePayment(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	id, ok := paymentID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	loc := s.locale(r)
	m := payMember(r)
	cur, err := s.Payments.Payment(r.Context(), m, id)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	errs := newFormErrors(loc)
	bank, amount, on := parsePayForm(form, cur.Currency, errs)
	if on.IsZero() && errs.byID["date"] == nil {
		errs.add("date", "error.field.required")
	}
	p := s.newPage(r, loc, "payments.title")
	status, ok := s.submitPay(w, r, p, errs, func() (string, error) {
		_, err := s.Payments.ChangePayment(r.Context(), m, id, payment.Changes{BankAccountID: bank, Amount: amount, On: on})
		return "/payments/" + strconv.FormatInt(id, 10) + "?done=changed", err
	})
	if ok {
		s.renderPayment(w, r, p, status, errs, form)
	}
}

// cancelPayment is POST /payments/{id}/cancel.
func (s *server) cancelPayment(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.readForm(w, r); !ok {
		return
	}
	id, ok := paymentID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	_, err := s.Payments.CancelPayment(r.Context(), payMember(r), id)
	if err != nil {
		loc := s.locale(r)
		p := s.newPage(r, loc, "payments.title")
		status, ok := s.payFormErrors(w, r, p, newFormErrors(loc), err)
		if ok {
			s.renderPayment(w, r, p, status, nil, nil)
		}
		return
	}
	redirect(w, r, "/payments/"+strconv.FormatInt(id, 10)+"?done=cancelled")
}

// banksPage is GET /payments/banks: the linked bank accounts and the link form.
func (s *server) banksPage(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	p := s.newPage(r, loc, "payments.banks.title")
	if id, ok := payFlashes[r.URL.Query().Get("done")]; ok {
		p.Flash = loc.T(id)
	}
	s.renderBanks(w, r, p, http.StatusOK, newFormErrors(loc), "")
}

func (s *server) renderBanks(w http.ResponseWriter, r *http.Request, p *page, status int, errs *formErrors, nickname string) {
	loc := p.Loc
	banks, err := s.Payments.BankAccounts(r.Context(), payMember(r))
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	v := banksView{
		Nickname: field{ID: "nickname", Type: "text", Label: loc.T("payments.banks.nickname"), MaxLength: payment.MaxNicknameLen,
			Value: nickname, Errors: errs.byID["nickname"]},
		// The numbers are never written back into the page.
		Routing: field{ID: "routing_number", Type: "text", Label: loc.T("payments.banks.routing"), Help: loc.T("payments.banks.routing.help"),
			InputMode: "numeric", Autocomplete: "off", MaxLength: 11, Required: true, Verbatim: true, Errors: errs.byID["routing_number"]},
		Number: field{ID: "account_number", Type: "text", Label: loc.T("payments.banks.number"), Help: loc.T("payments.banks.number.help"),
			InputMode: "numeric", Autocomplete: "off", MaxLength: 21, Required: true, Verbatim: true, Errors: errs.byID["account_number"]},
	}
	for _, b := range banks {
		v.Banks = append(v.Banks, bankRow{ID: b.ID, Nickname: b.Nickname, Routing: string(b.Routing), Masked: b.Masked()})
	}
	p.Nav = "payments"
	p.Summary = errs.summary(v.Nickname, v.Routing, v.Number)
	p.Data = v
	s.render(w, r, status, "paybanks", p)
}

// linkBank is POST /payments/banks.
func (s *server) linkBank(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	errs := newFormErrors(loc)
	p := s.newPage(r, loc, "payments.banks.title")
	status, ok := s.submitPay(w, r, p, errs, func() (string, error) {
		_, _, err := s.Payments.LinkBankAccount(r.Context(), payMember(r), payment.BankInput{
			Nickname: form.Get("nickname"), Routing: form.Get("routing_number"), Number: form.Get("account_number")})
		return "/payments/banks?done=linked", err
	})
	if ok {
		s.renderBanks(w, r, p, status, errs, form.Get("nickname"))
	}
}

// removeBank is POST /payments/banks/{id}/remove.
func (s *server) removeBank(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.readForm(w, r); !ok {
		return
	}
	id, ok := paymentID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	err := s.Payments.RemoveBankAccount(r.Context(), payMember(r), id)
	if err == nil {
		redirect(w, r, "/payments/banks?done=removed")
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "payments.banks.title")
	errs := newFormErrors(loc)
	if status, ok := s.payFormErrors(w, r, p, errs, err); ok {
		s.renderBanks(w, r, p, status, errs, "")
	}
}

// autopayPage is GET /payments/autopay.
func (s *server) autopayPage(w http.ResponseWriter, r *http.Request) {
	loc := s.locale(r)
	p := s.newPage(r, loc, "payments.autopay.title")
	if id, ok := payFlashes[r.URL.Query().Get("done")]; ok {
		p.Flash = loc.T(id)
	}
	s.renderAutopay(w, r, p, http.StatusOK, newFormErrors(loc), nil)
}

func (s *server) renderAutopay(w http.ResponseWriter, r *http.Request, p *page, status int, errs *formErrors, form url.Values) {
	ctx := r.Context()
	loc := p.Loc
	m := payMember(r)
	banks, err := s.Payments.BankAccounts(ctx, m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	a, err := s.Payments.Autopay(ctx, m)
	on := err == nil
	if err != nil && !cp.IsKind(err, cp.NotFound) {
		s.payFail(w, r, err)
		return
	}
	payer, err := s.Payments.Payer(ctx, m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	if form == nil {
		form = url.Values{}
		if on {
			form.Set("rule", string(a.Rule))
			form.Set("bank_account_id", strconv.FormatInt(a.BankAccountID, 10))
			if a.Rule == payment.FixedAmount {
				form.Set("amount", account.PlainAmount(a.Amount, payer.Currency))
			}
		}
	}
	selected, _ := strconv.ParseInt(form.Get("bank_account_id"), 10, 64)
	v := autopayView{On: on, Status: loc.T("payments.autopay.off"), Banks: bankOptions(banks, selected),
		Amount: field{ID: "amount", Type: "text", Label: loc.T("payments.autopay.amount"), InputMode: "decimal", MaxLength: 20,
			Value: form.Get("amount"), Errors: errs.byID["amount"]}}
	if on {
		v.Status = loc.T("payments.autopay.on", "rule", loc.T("payments.autopay.rule."+string(a.Rule)), "bank", payment.Mask(a.BankLast4))
	}
	rule := form.Get("rule")
	if rule == "" {
		rule = string(payment.MinimumDue)
	}
	for _, x := range payRules {
		v.Rules = append(v.Rules, ruleOption{Value: string(x), Label: loc.T("payments.autopay.rule." + string(x)), Checked: string(x) == rule})
	}
	p.Nav = "payments"
	p.Summary = errs.summary(field{ID: "rule", Label: loc.T("payments.autopay.rule")}, v.Amount)
	p.Data = v
	s.render(w, r, status, "payautopay", p)
}

// saveAutopay is POST /payments/autopay.
func (s *server) saveAutopay(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	m := payMember(r)
	payer, err := s.Payments.Payer(r.Context(), m)
	if err != nil {
		s.payFail(w, r, err)
		return
	}
	errs := newFormErrors(loc)
	in := payment.AutopayInput{Rule: payment.Rule(form.Get("rule"))}
	in.BankAccountID, _ = strconv.ParseInt(form.Get("bank_account_id"), 10, 64)
	if in.Rule == payment.FixedAmount {
		if in.Amount, err = account.ParseAmount(form.Get("amount"), payer.Currency); err != nil {
			errs.add("amount", "payment.error.amount")
		}
	}
	p := s.newPage(r, loc, "payments.autopay.title")
	status, ok := s.submitPay(w, r, p, errs, func() (string, error) {
		_, err := s.Payments.SetAutopay(r.Context(), m, in)
		return "/payments/autopay?done=autopay", err
	})
	if ok {
		s.renderAutopay(w, r, p, status, errs, form)
	}
}

// stopAutopay is POST /payments/autopay/stop; stopping when it is off is no error.
func (s *server) stopAutopay(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.readForm(w, r); !ok {
		return
	}
	err := s.Payments.StopAutopay(r.Context(), payMember(r))
	if err != nil && !cp.IsKind(err, cp.NotFound) {
		s.payFail(w, r, err)
		return
	}
	redirect(w, r, "/payments/autopay?done=autopayoff")
}
