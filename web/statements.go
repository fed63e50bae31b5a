package web

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/statement"
)

// The statement pages (SPEC AC3): the list with the paperless choice, one statement
// with its transactions, and its PDF and CSV. Statements are the basic card member's
// (see package statement); for anyone else every statement ID is simply not found.

func init() { pageNames = append(pageNames, "statements", "statement") }

// statementRoutes adds the statement pages.
func (s *server) statementRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /statements", s.signedIn(s.statementList))
	mux.HandleFunc("POST /statements/paperless", s.signedIn(s.setPaperless))
	mux.HandleFunc("GET /statements/{id}", s.signedIn(s.statementPage))
	mux.HandleFunc("GET /statements/{id}/pdf", s.signedIn(s.statementPDF))
	mux.HandleFunc("GET /statements/{id}/csv", s.signedIn(s.statementCSV))
}

type statementRow struct {
	ID       int64
	Closing  string
	ISO      string
	Balance  string
	Minimum  string
	Due      string
	Delivery string
}

type statementsView struct {
	Product    string
	AccountID  int64
	Basic      bool // the member may see statements and choose paperless
	Paperless  bool
	Statements []statementRow
}

type statementView struct {
	ID      int64
	Title   string
	Product string
	Period  string
	Figures []stmtFigure
	Table   txTable
}

type stmtFigure struct{ Label, Value string }

func statementRowView(loc locale.Locale, st statement.Statement) statementRow {
	return statementRow{
		ID: st.ID, Closing: loc.Date(st.ClosingDate), ISO: st.ClosingDate.Format(time.DateOnly),
		Balance: loc.Money(st.Closing, st.Currency), Minimum: loc.Money(st.MinimumDue, st.Currency),
		Due: loc.Date(st.DueDate), Delivery: loc.T("stmt.delivery." + string(st.Delivery)),
	}
}

// statementList is GET /statements.
func (s *server) statementList(w http.ResponseWriter, r *http.Request) {
	sums, holder, ok := s.memberSummaries(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "stmt.title")
	p.Nav = "statements"
	switch r.URL.Query().Get("done") {
	case "paperless-on":
		p.Flash = loc.T("stmt.paperless.done_on")
	case "paperless-off":
		p.Flash = loc.T("stmt.paperless.done_off")
	}
	v := statementsView{}
	if len(sums) > 0 {
		v.Product, v.AccountID = sums[0].ProductName, sums[0].AccountID
		on, err := s.Statements.Paperless(r.Context(), holder, v.AccountID)
		switch {
		case err == nil:
			v.Basic, v.Paperless = true, on
		case !cp.IsKind(err, cp.NotFound):
			s.fail(w, r, err)
			return
		}
	}
	sts, err := s.Statements.List(r.Context(), holder)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, st := range sts {
		v.Statements = append(v.Statements, statementRowView(loc, st))
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "statements", p)
}

// setPaperless is POST /statements/paperless: account and on=1 or on=0.
func (s *server) setPaperless(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(form.Get("account"), 10, 64)
	on := form.Get("on")
	if err != nil || (on != "1" && on != "0") {
		s.badRequest(w, r)
		return
	}
	sess, _ := sessionFrom(r.Context())
	m, err := s.Identity.Member(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Statements.SetPaperless(r.Context(), m.CardholderID, id, on == "1"); err != nil {
		s.cardFail(w, r, err)
		return
	}
	done := "paperless-off"
	if on == "1" {
		done = "paperless-on"
	}
	redirect(w, r, "/statements?done="+done)
}

// memberStatement loads the statement the path names with its transactions, writing
// the not-found or error page itself when there is none.
func (s *server) memberStatement(w http.ResponseWriter, r *http.Request) (statement.Statement, []account.Transaction, bool) {
	id, ok := cardID(r)
	if !ok {
		s.notFound(w, r)
		return statement.Statement{}, nil, false
	}
	sess, _ := sessionFrom(r.Context())
	m, err := s.Identity.Member(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return statement.Statement{}, nil, false
	}
	st, txs, err := s.Statements.Detail(r.Context(), m.CardholderID, id)
	if err != nil {
		s.cardFail(w, r, err)
		return statement.Statement{}, nil, false
	}
	return st, txs, true
}

// statementFigures are a statement's figures as the pages and the PDF list them.
func statementFigures(loc locale.Locale, st statement.Statement) []stmtFigure {
	money := func(v int64) string { return loc.Money(v, st.Currency) }
	return []stmtFigure{
		{loc.T("stmt.opening"), money(st.Opening)},
		{loc.T("stmt.purchases"), money(st.Purchases)},
		{loc.T("stmt.credits"), money(st.Credits)},
		{loc.T("stmt.interest"), money(st.Interest)},
		{loc.T("stmt.closing"), money(st.Closing)},
		{loc.T("stmt.minimum"), money(st.MinimumDue)},
		{loc.T("stmt.due"), loc.Date(st.DueDate)},
	}
}

// statementPage is GET /statements/{id}.
func (s *server) statementPage(w http.ResponseWriter, r *http.Request) {
	st, txs, ok := s.memberStatement(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "stmt.title")
	p.Title = loc.T("stmt.detail.title", "date", loc.Date(st.ClosingDate))
	p.Nav = "statements"
	v := statementView{
		ID: st.ID, Title: p.Title, Period: loc.T("stmt.period", "from", loc.Date(st.PeriodStart), "to", loc.Date(st.ClosingDate)),
		Figures: statementFigures(loc, st), Table: txTable{Loc: loc},
	}
	for _, t := range txs {
		v.Table.Rows = append(v.Table.Rows, newTxView(loc, t))
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "statement", p)
}

// statementPDF is GET /statements/{id}/pdf.
func (s *server) statementPDF(w http.ResponseWriter, r *http.Request) {
	st, txs, ok := s.memberStatement(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	doc := statement.Document{Loc: loc, Issuer: statement.Issuer, Statement: st, Transactions: txs}
	sums, _, ok := s.memberSummaries(w, r)
	if !ok {
		return
	}
	for _, a := range sums {
		if a.AccountID != st.AccountID {
			continue
		}
		doc.Product = a.ProductName
		for _, c := range a.Cards {
			if c.Basic {
				doc.Holder = c.HolderName
				break
			}
		}
	}
	b, err := statement.RenderPDF(doc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	stmtDownload(w, "application/pdf", statement.PDFName(st), b)
}

// statementCSV is GET /statements/{id}/csv: the statement's transactions.
func (s *server) statementCSV(w http.ResponseWriter, r *http.Request) {
	st, txs, ok := s.memberStatement(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := statement.WriteCSV(&buf, s.locale(r), txs); err != nil {
		s.fail(w, r, err)
		return
	}
	stmtDownload(w, "text/csv; charset=utf-8; header=present", statement.CSVName(st), buf.Bytes())
}

// stmtDownload sends b as an attachment.
func stmtDownload(w http.ResponseWriter, contentType, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
