package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

// download is a handler result that is not JSON: a file the client saves. Only the
// CSV export uses it.
type download struct {
	contentType string
	filename    string
	body        []byte
}

func (d download) write(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("Content-Disposition", `attachment; filename="`+d.filename+`"`)
	h.Set("Content-Length", strconv.Itoa(len(d.body)))
	w.WriteHeader(status)
	w.Write(d.body)
}

type transactionJSON struct {
	ID          int64   `json:"id"`
	Status      string  `json:"status"`
	Kind        string  `json:"kind"`
	Amount      int64   `json:"amount"`
	Currency    string  `json:"currency"`
	Description string  `json:"description"`
	Merchant    string  `json:"merchant"`
	MCC         string  `json:"mcc"`
	City        string  `json:"city"`
	Country     string  `json:"country"`
	Channel     string  `json:"channel"`
	CardID      *int64  `json:"card_id"`
	CardLast    *string `json:"card_last_digits"`
	HolderName  *string `json:"holder_name"`
	PostedAt    string  `json:"posted_at"`
}

type transactionsResponse struct {
	Transactions []transactionJSON `json:"transactions"`
	NextCursor   *string           `json:"next_cursor"`
}

// newTransactionJSON shows t to a reader in loc: a text the system wrote (a payment
// received, interest) is in their language, a merchant's name as it came.
func newTransactionJSON(loc locale.Locale, t account.Transaction) transactionJSON {
	j := transactionJSON{
		ID: t.ID, Status: string(t.Status), Kind: string(t.Kind), Amount: t.Amount, Currency: t.Currency,
		Description: t.Text(loc), Merchant: t.Merchant, MCC: t.MCC, City: t.City, Country: t.Country,
		Channel: string(t.Channel), PostedAt: t.PostedAt.UTC().Format(time.RFC3339),
	}
	if t.CardID != 0 {
		j.CardID, j.CardLast, j.HolderName = &t.CardID, &t.CardLast, &t.HolderName
	}
	return j
}

// transactions is the account's transaction list (SPEC AC2), newest first, one page
// at a time: next_cursor, passed back as cursor, gives the next page. Amounts and the
// min and max filters are integer minor units.
func (s *server) transactions(c *call) (int, any, error) {
	acct, f, err := s.transactionQuery(c)
	if err != nil {
		return 0, nil, err
	}
	page, err := s.ledger.Transactions(c.r.Context(), c.sess.CardholderID, acct, f)
	if err != nil {
		return 0, nil, err
	}
	out := transactionsResponse{Transactions: []transactionJSON{}}
	for _, t := range page.Transactions {
		out.Transactions = append(out.Transactions, newTransactionJSON(c.loc, t))
	}
	if page.Next != nil {
		next := page.Next.String()
		out.NextCursor = &next
	}
	return http.StatusOK, out, nil
}

// maxCSVRows caps one download; a year of even a busy account is far below it.
const maxCSVRows = 10_000

// transactionsCSV is the same filtered list as a CSV file (RFC 4180, header row in the
// caller's language), every page of it rather than one. A separate path rather than
// content negotiation keeps each operation one media type, so the contract is simple
// to state and a link can be shared with an app's download manager.
func (s *server) transactionsCSV(c *call) (int, any, error) {
	acct, f, err := s.transactionQuery(c)
	if err != nil {
		return 0, nil, err
	}
	if f.After != nil || c.r.URL.Query().Has("limit") {
		return 0, nil, cp.InvalidFields("api.transactionsCSV", cp.FieldError{Field: "cursor", Msg: "error.invalid"})
	}
	var buf bytes.Buffer
	header := make([]string, len(account.CSVColumns))
	for i, col := range account.CSVColumns {
		header[i] = c.loc.T("tx.csv." + col)
	}
	w, err := account.NewCSVWriter(&buf, c.loc, header)
	if err != nil {
		return 0, nil, cp.E("api.transactionsCSV", cp.Internal, "", err)
	}
	f.Limit = account.MaxPageSize
	for rows := 0; rows < maxCSVRows; {
		page, err := s.ledger.Transactions(c.r.Context(), c.sess.CardholderID, acct, f)
		if err != nil {
			return 0, nil, err
		}
		for _, t := range page.Transactions {
			if err := w.Write(t); err != nil {
				return 0, nil, cp.E("api.transactionsCSV", cp.Internal, "", err)
			}
		}
		rows += len(page.Transactions)
		if page.Next == nil {
			break
		}
		f.After = page.Next
	}
	if err := w.Flush(); err != nil {
		return 0, nil, cp.E("api.transactionsCSV", cp.Internal, "", err)
	}
	name := "transactions-" + strconv.FormatInt(acct, 10) + ".csv"
	return http.StatusOK, download{contentType: "text/csv; charset=utf-8; header=present", filename: name, body: buf.Bytes()}, nil
}

// transactionQuery reads the account ID from the path and the filter from the query
// string, reporting every bad parameter at once. An account ID that is not a number
// is simply not found, like one that is not the caller's.
func (s *server) transactionQuery(c *call) (int64, account.Filter, error) {
	const op = "api.transactions"
	if s.ledger == nil {
		return 0, account.Filter{}, cp.E(op, cp.Internal, "", errors.New("no ledger configured"))
	}
	acct, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if err != nil || acct <= 0 {
		return 0, account.Filter{}, cp.E(op, cp.NotFound, "", err)
	}
	f, err := parseFilter(c.r.URL.Query())
	return acct, f, err
}

// parseFilter reads the query parameters of the transaction list.
func parseFilter(q url.Values) (account.Filter, error) {
	var (
		f  account.Filter
		fs []cp.FieldError
	)
	bad := func(field, msg string) { fs = append(fs, cp.FieldError{Field: field, Msg: msg}) }
	date := func(name string) time.Time {
		v := q.Get(name)
		if v == "" {
			return time.Time{}
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			bad(name, "error.date")
		}
		return d
	}
	f.From, f.To = date("from"), date("to")
	amount := func(name string) *int64 {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad(name, "tx.error.amount")
			return nil
		}
		return &n
	}
	f.Min, f.Max = amount("min"), amount("max")
	f.Query = q.Get("q")
	if v := q.Get("card"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad("card", "error.invalid")
		}
		f.CardID = n
	}
	if v := q.Get("cursor"); v != "" {
		cur, err := account.ParseCursor(v)
		if err != nil {
			bad("cursor", "error.invalid")
		} else {
			f.After = &cur
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > account.MaxPageSize {
			bad("limit", "error.limit")
		} else {
			f.Limit = n
		}
	}
	if len(fs) > 0 {
		return f, cp.InvalidFields("api.parseFilter", fs...)
	}
	return f, f.Validate()
}
