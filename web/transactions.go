package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

// The transaction pages (SPEC AC2). The filter form is a GET: filters are no secret,
// and a filtered list can be bookmarked, reloaded and paged. Amounts are typed in
// major units ("12.50") and dates as YYYY-MM-DD (a date picker where the browser has
// one).

type txView struct {
	Date     string // in the locale's format
	ISO      string // YYYY-MM-DD, for <time datetime>
	Text     string // description
	Detail   string // where and how: "Portland, US · In person"
	Card     string // "•••• 12345 · Name", or "Account" for account-level entries
	Amount   string
	Credit   bool // reduces what is owed
	Pending  bool
	KindText string // for account-level entries: "Payment", "Interest", ...
	// Dispute links a posted purchase to its report/dispute page (web/disputes.go).
	Dispute string
}

// txTable is what the txtable partial renders.
type txTable struct {
	Loc  locale.Locale
	Rows []txView
}

type cardOption struct {
	ID       int64
	Label    string
	Selected bool
}

type transactionsView struct {
	AccountID int64
	Product   string
	Fields    []field // from, to, min, max, q
	Cards     []cardOption
	CardError string // the select's error, if any
	Rows      []txView
	Table     txTable
	NextURL   string
	FirstURL  string
	CSVURL    string
	Filtered  bool
	Invalid   bool // the filters have errors: no list, no download link
}

// transactionsHome is GET /transactions: the first account's list.
func (s *server) transactionsHome(w http.ResponseWriter, r *http.Request) {
	sums, _, ok := s.memberSummaries(w, r)
	if !ok {
		return
	}
	if len(sums) == 0 {
		s.notFound(w, r)
		return
	}
	redirect(w, r, "/accounts/"+strconv.FormatInt(sums[0].AccountID, 10)+"/transactions")
}

// memberSummaries loads the signed-in member's accounts, writing the error page
// itself when it fails.
func (s *server) memberSummaries(w http.ResponseWriter, r *http.Request) ([]account.Summary, int64, bool) {
	sess, _ := sessionFrom(r.Context())
	m, err := s.Identity.Member(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return nil, 0, false
	}
	sums, err := s.Accounts.Summaries(r.Context(), m.CardholderID)
	if err != nil {
		s.fail(w, r, err)
		return nil, 0, false
	}
	return sums, m.CardholderID, true
}

// txAccount finds the account named in the path among the member's own; any other ID,
// whoever's it is, is simply not found.
func (s *server) txAccount(w http.ResponseWriter, r *http.Request) (account.Summary, int64, bool) {
	sums, holder, ok := s.memberSummaries(w, r)
	if !ok {
		return account.Summary{}, 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		for _, a := range sums {
			if a.AccountID == id {
				return a, holder, true
			}
		}
	}
	s.notFound(w, r)
	return account.Summary{}, 0, false
}

// txForm is the filter form as typed.
type txForm struct {
	From, To, Min, Max, Q, Card, Cursor string
}

func readTxForm(q url.Values) txForm {
	return txForm{From: q.Get("from"), To: q.Get("to"), Min: q.Get("min"), Max: q.Get("max"), Q: q.Get("q"),
		Card: q.Get("card"), Cursor: q.Get("cursor")}
}

// values is the form as query parameters, without empty ones, so links stay short.
func (f txForm) values(withCursor bool) url.Values {
	v := url.Values{}
	for _, p := range []struct{ k, v string }{{"from", f.From}, {"to", f.To}, {"min", f.Min}, {"max", f.Max}, {"q", f.Q}, {"card", f.Card}} {
		if p.v != "" {
			v.Set(p.k, p.v)
		}
	}
	if withCursor && f.Cursor != "" {
		v.Set("cursor", f.Cursor)
	}
	return v
}

// filter turns the form into a store filter, collecting every field's problem.
func (f txForm) filter(currency string) (account.Filter, []cp.FieldError) {
	var (
		out account.Filter
		fs  []cp.FieldError
	)
	date := func(name, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			fs = append(fs, cp.FieldError{Field: name, Msg: "error.date"})
		}
		return d
	}
	out.From, out.To = date("from", f.From), date("to", f.To)
	amount := func(name, v string) *int64 {
		if v == "" {
			return nil
		}
		n, err := account.ParseAmount(v, currency)
		if err != nil {
			fs = append(fs, cp.FieldError{Field: name, Msg: "tx.error.amount"})
			return nil
		}
		return &n
	}
	out.Min, out.Max = amount("min", f.Min), amount("max", f.Max)
	out.Query = f.Q
	if f.Card != "" {
		n, err := strconv.ParseInt(f.Card, 10, 64)
		if err != nil || n <= 0 {
			fs = append(fs, cp.FieldError{Field: "card", Msg: "error.invalid"})
		}
		out.CardID = n
	}
	if f.Cursor != "" {
		c, err := account.ParseCursor(f.Cursor)
		if err == nil {
			out.After = &c
		}
		// A mangled cursor just starts from the newest: it is our link, not input.
	}
	if len(fs) == 0 {
		fs = cp.ErrorFields(out.Validate())
	}
	return out, fs
}

// transactions is GET /accounts/{id}/transactions.
func (s *server) transactions(w http.ResponseWriter, r *http.Request) {
	a, holder, ok := s.txAccount(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	form := readTxForm(r.URL.Query())
	f, problems := form.filter(a.Currency)
	status := http.StatusOK
	var page account.Page
	if len(problems) == 0 {
		var err error
		if page, err = s.Ledger.Transactions(r.Context(), holder, a.AccountID, f); err != nil {
			if cp.IsKind(err, cp.NotFound) {
				s.notFound(w, r)
				return
			}
			s.fail(w, r, err)
			return
		}
	} else {
		status = http.StatusUnprocessableEntity
	}

	p := s.newPage(r, loc, "tx.title")
	p.Nav = "transactions"
	errs := newFormErrors(loc)
	// The controls are named as the query parameters, so field names map as they are.
	errs.addAll(problems, func(f string) string { return f })
	base := "/accounts/" + strconv.FormatInt(a.AccountID, 10) + "/transactions"
	v := transactionsView{AccountID: a.AccountID, Product: a.ProductName, Filtered: len(form.values(false)) > 0, Invalid: len(problems) > 0}
	mk := func(id, typ, label, value, help string) field {
		return field{ID: id, Type: typ, Label: loc.T(label), Value: value, Errors: errs.byID[id], Help: help}
	}
	v.Fields = []field{
		mk("from", "date", "tx.from", form.From, ""),
		mk("to", "date", "tx.to", form.To, ""),
		mk("min", "text", "tx.min", form.Min, loc.T("tx.amount.help")),
		mk("max", "text", "tx.max", form.Max, ""),
		mk("q", "search", "tx.q", form.Q, ""),
	}
	for i := range v.Fields[2:4] {
		v.Fields[2+i].InputMode = "decimal"
	}
	v.Fields[4].MaxLength = account.MaxQueryLen
	if e := errs.byID["card"]; len(e) > 0 {
		v.CardError = e[0]
	}
	for _, c := range a.Cards {
		id := strconv.FormatInt(c.CardID, 10)
		v.Cards = append(v.Cards, cardOption{ID: c.CardID, Label: "•••• " + c.Last + " · " + c.HolderName, Selected: id == form.Card})
	}
	p.Summary = errs.summary(append(v.Fields, field{ID: "card", Label: loc.T("tx.card")})...)
	for _, t := range page.Transactions {
		v.Rows = append(v.Rows, newTxView(loc, t))
	}
	v.Table = txTable{Loc: loc, Rows: v.Rows}
	if page.Next != nil {
		q := form.values(false)
		q.Set("cursor", page.Next.String())
		v.NextURL = base + "?" + q.Encode()
	}
	if form.Cursor != "" {
		v.FirstURL = base
		if q := form.values(false); len(q) > 0 {
			v.FirstURL += "?" + q.Encode()
		}
	}
	v.CSVURL = base + ".csv"
	if q := form.values(false); len(q) > 0 {
		v.CSVURL += "?" + q.Encode()
	}
	p.Data = v
	s.render(w, r, status, "transactions", p)
}

// transactionsCSV is GET /accounts/{id}/transactions.csv: every transaction the
// current filters select, as a CSV file whose header row is in the page's language.
func (s *server) transactionsCSV(w http.ResponseWriter, r *http.Request) {
	a, holder, ok := s.txAccount(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	form := readTxForm(r.URL.Query())
	form.Cursor = ""
	f, problems := form.filter(a.Currency)
	if len(problems) > 0 {
		s.badRequest(w, r)
		return
	}
	header := make([]string, len(account.CSVColumns))
	for i, c := range account.CSVColumns {
		header[i] = loc.T("tx.csv." + c)
	}
	var buf bytes.Buffer
	cw, err := account.NewCSVWriter(&buf, loc, header)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.Limit = account.MaxPageSize
	for rows := 0; rows < maxCSVRows; {
		page, err := s.Ledger.Transactions(r.Context(), holder, a.AccountID, f)
		if err != nil {
			if cp.IsKind(err, cp.NotFound) {
				s.notFound(w, r)
				return
			}
			s.fail(w, r, err)
			return
		}
		for _, t := range page.Transactions {
			if err := cw.Write(t); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		rows += len(page.Transactions)
		if page.Next == nil {
			break
		}
		f.After = page.Next
	}
	if err := cw.Flush(); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="transactions-`+strconv.FormatInt(a.AccountID, 10)+`.csv"`)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// maxCSVRows caps one download; a year of even a busy account is far below it.
const maxCSVRows = 10_000

var channelText = map[account.Channel]string{
	account.InPerson: "tx.channel.in_person", account.Online: "tx.channel.online", account.Recurring: "tx.channel.recurring",
}

func newTxView(loc locale.Locale, t account.Transaction) txView {
	v := txView{
		Date: loc.Date(t.PostedAt), ISO: t.PostedAt.UTC().Format(time.DateOnly), Text: t.Text(loc),
		Amount: loc.Money(t.Amount, t.Currency), Credit: t.Amount < 0, Pending: t.Status == account.Pending,
		Card: loc.T("tx.account"),
	}
	if t.CardID != 0 {
		v.Card = "•••• " + t.CardLast + " · " + t.HolderName
	}
	if t.Kind != account.Purchase {
		v.KindText = loc.T("tx.kind." + string(t.Kind))
	} else if t.ID > 0 {
		v.Dispute = "/transactions/" + strconv.FormatInt(t.ID, 10) + "/dispute"
	}
	var detail []string
	if t.City != "" {
		place := t.City
		if t.Country != "" {
			place += ", " + t.Country
		}
		detail = append(detail, place)
	}
	if id, ok := channelText[t.Channel]; ok {
		detail = append(detail, loc.T(id))
	}
	for i, d := range detail {
		if i > 0 {
			v.Detail += " · "
		}
		v.Detail += d
	}
	return v
}

// recentTransactions is the dashboard's short list: the newest few the member may
// see. A failure leaves the list out rather than the whole dashboard.
func (s *server) recentTransactions(r *http.Request, loc locale.Locale, holder, accountID int64) []txView {
	if s.Ledger == nil {
		return nil
	}
	page, err := s.Ledger.Transactions(r.Context(), holder, accountID, account.Filter{Limit: recentCount})
	if err != nil {
		s.logError(r.Context(), r, err)
		return nil
	}
	var out []txView
	for _, t := range page.Transactions {
		out = append(out, newTxView(loc, t))
	}
	return out
}

// recentCount is how many transactions the dashboard shows.
const recentCount = 5
