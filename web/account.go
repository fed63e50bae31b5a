package web

import (
	"net/http"
	"strconv"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

type accountView struct {
	ID        int64 // the account's id, for its live stream (live.go)
	Product   string
	Balance   string
	Available string
	Limit     string
	Due       string // formatted date, or the "no payment due" text
	MinDue    string // empty when nothing is due
	OverLimit bool
	Cards     []cardView

	// The ledger's part (SPEC AC1, AC2), set by the dashboard when it has a ledger.
	Pending string   // open authorisation holds; empty when there are none
	Recent  *txTable // the newest few transactions; nil leaves the list out
	TxURL   string   // the account's transaction list

	// The points balance and the rewards page (SPEC AC5, web/rewards.go); empty
	// without a rewards service.
	Points, RewardsURL string

	// The last statement's balance (SPEC AC3); empty before the first statement.
	StatementBalance string
}

type cardView struct {
	ID     int64  // for the card's own page, /cards/{id}
	Last   string // screen digits, to name the card in links
	Masked string // "•••• 12345": never more than the last digits the store keeps
	Holder string
	Role   string
	State  string
}

type dashboardView struct {
	Accounts []accountView
	// ContactReminder: the phone or email is not confirmed yet (SPEC ID4, contact.go).
	ContactReminder bool
}

// cardStates are the card states with a message; an unknown state shows as is.
var cardStates = map[string]string{
	"active": "card.state.active", "inactive": "card.state.inactive", "frozen": "card.state.frozen",
	"lost": "card.state.lost", "closed": "card.state.closed",
}

// dashboard is GET /account (SPEC AC1). Every figure comes from account.Store.
func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	m, err := s.Identity.Member(r.Context(), sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sums, err := s.Accounts.Summaries(r.Context(), m.CardholderID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "dashboard.title")
	p.Nav = "account"
	if r.URL.Query().Get("welcome") == "1" {
		p.Flash = loc.T("register.done")
	}
	var v dashboardView
	v.ContactReminder = s.contactReminder(r, sess.MemberID)
	for _, a := range sums {
		av := accountSummary(loc, a)
		if s.Ledger != nil {
			av.Recent = &txTable{Loc: loc, Rows: s.recentTransactions(r, loc, m.CardholderID, a.AccountID)}
			av.TxURL = "/accounts/" + strconv.FormatInt(a.AccountID, 10) + "/transactions"
		}
		if a.Pending != 0 {
			av.Pending = loc.Money(a.Pending, a.Currency)
		}
		av.Points, av.RewardsURL = s.rewardsLinks(r, loc, m.CardholderID, a.AccountID)
		v.Accounts = append(v.Accounts, av)
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "account", p)
}

func accountSummary(loc locale.Locale, a account.Summary) accountView {
	v := accountView{
		ID:        a.AccountID,
		Product:   a.ProductName,
		Balance:   loc.Money(a.Balance, a.Currency),
		Available: loc.Money(a.Available(), a.Currency),
		Limit:     loc.Money(a.CreditLimit, a.Currency),
		Due:       loc.T("dashboard.nodue"),
		OverLimit: a.Available() < 0,
	}
	if !a.PaymentDue.IsZero() {
		v.Due = loc.Date(a.PaymentDue)
		v.MinDue = loc.Money(a.MinimumDue, a.Currency)
	}
	if !a.StatementDate.IsZero() {
		v.StatementBalance = loc.Money(a.StatementBalance, a.Currency)
	}
	for _, c := range a.Cards {
		cv := cardView{ID: c.CardID, Last: c.Last, Masked: "•••• " + c.Last, Holder: c.HolderName, Role: loc.T("dashboard.additional"), State: c.State}
		if c.Basic {
			cv.Role = loc.T("dashboard.basic")
		}
		if id, ok := cardStates[c.State]; ok {
			cv.State = loc.T(id)
		}
		v.Cards = append(v.Cards, cv)
	}
	return v
}
