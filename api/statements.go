package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/statement"
)

// Statements (SPEC AC3). They are the basic card member's: an additional member's
// list is empty and every statement id is not found for them, as for anyone's but
// the holder's own.

type statementJSON struct {
	ID          int64  `json:"id"`
	AccountID   int64  `json:"account_id"`
	PeriodStart string `json:"period_start"`
	ClosingDate string `json:"closing_date"`
	DueDate     string `json:"due_date"`
	Currency    string `json:"currency"`
	Opening     int64  `json:"opening_balance"`
	Purchases   int64  `json:"purchases"`
	Credits     int64  `json:"credits"`
	Interest    int64  `json:"interest"`
	Closing     int64  `json:"closing_balance"`
	MinimumDue  int64  `json:"minimum_due"`
	Delivery    string `json:"delivery"`
}

func newStatementJSON(st statement.Statement) statementJSON {
	return statementJSON{
		ID: st.ID, AccountID: st.AccountID, PeriodStart: st.PeriodStart.Format(time.DateOnly),
		ClosingDate: st.ClosingDate.Format(time.DateOnly), DueDate: st.DueDate.Format(time.DateOnly), Currency: st.Currency,
		Opening: st.Opening, Purchases: st.Purchases, Credits: st.Credits, Interest: st.Interest, Closing: st.Closing,
		MinimumDue: st.MinimumDue, Delivery: string(st.Delivery),
	}
}

// statementsOn answers not found when the program runs without statements.
func (s *server) statementsOn() error {
	if s.statements == nil {
		return cp.E("api.statements", cp.NotFound, "", nil)
	}
	return nil
}

// listStatements is the member's statements, newest first, with each account's
// paperless choice.
func (s *server) listStatements(c *call) (int, any, error) {
	if err := s.statementsOn(); err != nil {
		return 0, nil, err
	}
	sts, err := s.statements.List(c.r.Context(), c.sess.CardholderID)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Statements []statementJSON `json:"statements"`
	}{Statements: []statementJSON{}}
	for _, st := range sts {
		out.Statements = append(out.Statements, newStatementJSON(st))
	}
	return http.StatusOK, out, nil
}

// memberStatement loads the {id} statement of the caller with its transactions.
func (s *server) memberStatement(c *call) (statement.Statement, []transactionJSON, error) {
	if err := s.statementsOn(); err != nil {
		return statement.Statement{}, nil, err
	}
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return statement.Statement{}, nil, cp.E("api.statement", cp.NotFound, "", nil)
	}
	st, txs, err := s.statements.Detail(c.r.Context(), c.sess.CardholderID, id)
	if err != nil {
		return statement.Statement{}, nil, err
	}
	out := []transactionJSON{}
	for _, t := range txs {
		out = append(out, newTransactionJSON(c.loc, t))
	}
	return st, out, nil
}

// getStatement is one statement with the posted transactions of its cycle, oldest
// first.
func (s *server) getStatement(c *call) (int, any, error) {
	st, txs, err := s.memberStatement(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, struct {
		statementJSON
		Transactions []transactionJSON `json:"transactions"`
	}{newStatementJSON(st), txs}, nil
}

// statementPDF is the statement as a PDF in the caller's language.
func (s *server) statementPDF(c *call) (int, any, error) {
	if err := s.statementsOn(); err != nil {
		return 0, nil, err
	}
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, cp.E("api.statementPDF", cp.NotFound, "", nil)
	}
	m, err := s.member(c)
	if err != nil {
		return 0, nil, err
	}
	st, txs, err := s.statements.Detail(c.r.Context(), m.CardholderID, id)
	if err != nil {
		return 0, nil, err
	}
	doc := statement.Document{Loc: c.loc, Issuer: statement.Issuer, Holder: m.Name, Statement: st, Transactions: txs}
	if sums, err := s.accts.Summaries(c.r.Context(), m.CardholderID); err == nil {
		for _, a := range sums {
			if a.AccountID == st.AccountID {
				doc.Product = a.ProductName
			}
		}
	}
	b, err := statement.RenderPDF(doc)
	if err != nil {
		return 0, nil, cp.E("api.statementPDF", cp.Internal, "", err)
	}
	return http.StatusOK, download{contentType: "application/pdf", filename: statement.PDFName(st), body: b}, nil
}

// statementCSV is the statement's transactions as CSV, header row in the caller's
// language.
func (s *server) statementCSV(c *call) (int, any, error) {
	if err := s.statementsOn(); err != nil {
		return 0, nil, err
	}
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, cp.E("api.statementCSV", cp.NotFound, "", nil)
	}
	st, txs, err := s.statements.Detail(c.r.Context(), c.sess.CardholderID, id)
	if err != nil {
		return 0, nil, err
	}
	var buf bytes.Buffer
	if err := statement.WriteCSV(&buf, c.loc, txs); err != nil {
		return 0, nil, cp.E("api.statementCSV", cp.Internal, "", err)
	}
	return http.StatusOK, download{contentType: "text/csv; charset=utf-8; header=present", filename: statement.CSVName(st), body: buf.Bytes()}, nil
}

type paperlessJSON struct {
	AccountID int64 `json:"account_id"`
	Paperless bool  `json:"paperless"`
}

// getPaperless reads an account's paperless choice: ?account_id=, the basic card
// member's only.
func (s *server) getPaperless(c *call) (int, any, error) {
	if err := s.statementsOn(); err != nil {
		return 0, nil, err
	}
	id, err := strconv.ParseInt(c.r.URL.Query().Get("account_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, cp.InvalidFields("api.getPaperless", cp.FieldError{Field: "account_id", Msg: "error.invalid"})
	}
	on, err := s.statements.Paperless(c.r.Context(), c.sess.CardholderID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, paperlessJSON{AccountID: id, Paperless: on}, nil
}

// setPaperless switches paper statements off or on. Setting the same value twice is
// harmless, so the request needs no idempotency key.
func (s *server) setPaperless(c *call) (int, any, error) {
	if err := s.statementsOn(); err != nil {
		return 0, nil, err
	}
	var req struct {
		AccountID *int64 `json:"account_id"`
		Paperless *bool  `json:"paperless"`
	}
	if err := decode(c, &req); err != nil {
		return 0, nil, err
	}
	var fs []cp.FieldError
	if req.AccountID == nil || *req.AccountID <= 0 {
		fs = append(fs, cp.FieldError{Field: "account_id", Msg: "error.invalid"})
	}
	if req.Paperless == nil {
		fs = append(fs, cp.FieldError{Field: "paperless", Msg: "error.invalid"})
	}
	if len(fs) > 0 {
		return 0, nil, cp.InvalidFields("api.setPaperless", fs...)
	}
	if err := s.statements.SetPaperless(c.r.Context(), c.sess.CardholderID, *req.AccountID, *req.Paperless); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, paperlessJSON{AccountID: *req.AccountID, Paperless: *req.Paperless}, nil
}
