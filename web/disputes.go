package web

import (
	"net/http"
	"strconv"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/safehttp"
)

// Reporting suspicious activity and disputing a transaction (SPEC AC13). A
// transaction or dispute id that is not the member's is the same not-found page as
// one that does not exist.

func init() {
	pageNames = append(pageNames, "dispute", "disputes")
	shownEvents[disputes.EventOpened] = "event.dispute.opened"
	shownEvents[disputes.EventReported] = "event.dispute.suspicious"
}

func (s *server) disputeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /transactions/{id}/dispute", s.signedIn(s.showDispute))
	mux.HandleFunc("POST /transactions/{id}/dispute", s.signedIn(s.openDispute))
	mux.HandleFunc("GET /disputes", s.signedIn(s.listDisputes))
	mux.HandleFunc("GET /disputes/{id}", s.signedIn(s.disputePage))
}

type disputeRow struct {
	ID       int64
	Number   string
	Date     string
	Merchant string
	Amount   string
	Reason   string
	Status   string
	StatusID string
	Detail   string
	Credit   string // what happened to the amount, per the rule
	Freeze   string // the card page, offered after a report of suspicious activity
	Card     string
}

func newDisputeRow(loc locale.Locale, d disputes.Dispute) disputeRow {
	r := disputeRow{ID: d.ID, Number: strconv.FormatInt(d.ID, 10), Date: loc.Date(d.CreatedAt), Merchant: d.Transaction.Merchant,
		Amount: loc.Money(d.Amount, d.Currency), Reason: loc.T("dispute.reason." + string(d.Reason)),
		Status: loc.T("dispute.status." + string(d.Status)), StatusID: string(d.Status), Detail: d.Detail}
	if r.Merchant == "" {
		r.Merchant = d.Transaction.Text(loc)
	}
	switch {
	case d.Status == disputes.ResolvedMerchant:
		r.Credit = loc.T("dispute.credit.reversed", "amount", r.Amount)
	case d.CreditPostingID != 0:
		r.Credit = loc.T("dispute.credit.posted", "amount", r.Amount)
	}
	if d.Reason.Suspicious() && d.Transaction.CardID != 0 {
		r.Freeze = "/cards/" + strconv.FormatInt(d.Transaction.CardID, 10)
		r.Card = d.Transaction.CardLast
	}
	return r
}

type disputeView struct {
	TxID      int64
	Tx        txView
	Disputes  []disputeRow
	CanOpen   bool
	Refusal   string // why it cannot be disputed
	Reasons   []option
	ReasonErr []string
	Detail    field
	Freeze    string // the card page, to freeze the card used
	CardLast  string
}

// pathID reads {id}; anything but a positive integer is an id no member has.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *server) disputeView(loc locale.Locale, tx account.Transaction, ds []disputes.Dispute, errs *formErrors, reason, detail string) disputeView {
	v := disputeView{TxID: tx.ID, Tx: newTxView(loc, tx)}
	v.Tx.Dispute = ""
	open := false
	for _, d := range ds {
		v.Disputes = append(v.Disputes, newDisputeRow(loc, d))
		if !d.Status.Resolved() {
			open = true
		}
	}
	ok, why := disputes.Disputable(tx, s.Now())
	switch {
	case open:
		v.Refusal = loc.T("dispute.exists")
	case !ok:
		v.Refusal = loc.T(why)
	default:
		v.CanOpen = true
	}
	for _, r := range disputes.Reasons {
		v.Reasons = append(v.Reasons, option{Value: string(r), Text: loc.T("dispute.reason." + string(r)), Selected: string(r) == reason})
	}
	v.ReasonErr = errs.byID["reason"]
	v.Detail = field{ID: "detail", Type: "text", Label: loc.T("dispute.detail"), Help: loc.T("dispute.detail.help"),
		MaxLength: disputes.MaxDetail, Value: detail, Errors: errs.byID["detail"]}
	if tx.CardID != 0 {
		v.Freeze = "/cards/" + strconv.FormatInt(tx.CardID, 10)
		v.CardLast = tx.CardLast
	}
	return v
}

// memberTransaction loads the transaction the path names and its disputes, writing
// the not-found or error page itself when there is none.
func (s *server) memberTransaction(w http.ResponseWriter, r *http.Request) (account.Transaction, []disputes.Dispute, bool) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r)
		return account.Transaction{}, nil, false
	}
	sess, _ := sessionFrom(r.Context())
	tx, ds, err := s.Disputes.Transaction(r.Context(), sess.MemberID, id)
	if err != nil {
		s.cardFail(w, r, err)
		return account.Transaction{}, nil, false
	}
	return tx, ds, true
}

// showDispute is GET /transactions/{id}/dispute: the transaction, its disputes and,
// when it can be disputed, the form.
func (s *server) showDispute(w http.ResponseWriter, r *http.Request) {
	tx, ds, ok := s.memberTransaction(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "dispute.title")
	p.Nav = "transactions"
	p.Data = s.disputeView(loc, tx, ds, newFormErrors(loc), "", "")
	s.render(w, r, http.StatusOK, "dispute", p)
}

// openDispute is POST /transactions/{id}/dispute.
func (s *server) openDispute(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	tx, _, ok := s.memberTransaction(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	sess, _ := sessionFrom(r.Context())
	d, err := s.Disputes.Open(r.Context(), sess.MemberID, tx.ID, disputes.Request{Reason: form.Get("reason"), Detail: form.Get("detail")}, s.source(r, loc.Code()))
	if err == nil {
		redirect(w, r, "/disputes/"+strconv.FormatInt(d.ID, 10)+"?done=opened")
		return
	}
	kind := cp.ErrorKind(err)
	if kind == cp.Internal || kind == cp.NotFound {
		s.cardFail(w, r, err)
		return
	}
	p := s.newPage(r, loc, "dispute.title")
	p.Nav = "transactions"
	errs := newFormErrors(loc)
	if fs := cp.ErrorFields(err); len(fs) > 0 {
		errs.addAll(fs, func(f string) string { return f })
	} else {
		p.Alert = loc.T(cp.ErrorMsg(err))
	}
	_, ds, _ := s.Disputes.Transaction(r.Context(), sess.MemberID, tx.ID)
	v := s.disputeView(loc, tx, ds, errs, form.Get("reason"), form.Get("detail"))
	p.Summary = errs.summary(field{ID: "reason", Label: loc.T("dispute.reason")}, v.Detail)
	p.Data = v
	s.render(w, r, safehttp.Status(kind), "dispute", p)
}

type disputesView struct {
	Rows []disputeRow
	One  bool
}

// listDisputes is GET /disputes.
func (s *server) listDisputes(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	ds, err := s.Disputes.List(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "disputes.title")
	p.Nav = "transactions"
	v := disputesView{}
	for _, d := range ds {
		v.Rows = append(v.Rows, newDisputeRow(loc, d))
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "disputes", p)
}

// disputePage is GET /disputes/{id}.
func (s *server) disputePage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	sess, _ := sessionFrom(r.Context())
	d, err := s.Disputes.Dispute(r.Context(), sess.MemberID, id)
	if err != nil {
		s.cardFail(w, r, err)
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "dispute.one")
	p.Title = loc.T("dispute.one", "id", strconv.FormatInt(d.ID, 10))
	p.Nav = "transactions"
	if r.URL.Query().Get("done") == "opened" {
		p.Flash = loc.T("dispute.opened")
		if d.Reason.Suspicious() {
			p.Flash = loc.T("dispute.reported")
		}
	}
	p.Data = disputesView{Rows: []disputeRow{newDisputeRow(loc, d)}, One: true}
	s.render(w, r, http.StatusOK, "disputes", p)
}
