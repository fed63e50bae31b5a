package web

import (
	"net/http"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

type accountView struct {
	Product   string
	Balance   string
	Available string
	Limit     string
	Due       string // formatted date, or the "no payment due" text
	MinDue    string // empty when nothing is due
	OverLimit bool
	Cards     []cardView
}

type cardView struct {
	Masked string // "•••• 12345": never more than the last digits the store keeps
	Holder string
	Role   string
	State  string
}

type dashboardView struct {
	Accounts []accountView
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
	for _, a := range sums {
		v.Accounts = append(v.Accounts, accountSummary(loc, a))
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "account", p)
}

func accountSummary(loc locale.Locale, a account.Summary) accountView {
	v := accountView{
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
	for _, c := range a.Cards {
		cv := cardView{Masked: "•••• " + c.Last, Holder: c.HolderName, Role: loc.T("dashboard.additional"), State: c.State}
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
