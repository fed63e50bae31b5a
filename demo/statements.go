package demo

import (
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/statement"
)

// statements records the year's closed cycles of account a as the statement close
// job would have, from its postings (ps, in time order) and the cycle ends the
// history used (closes[0] starts the history, closes[1:] are the closing instants).
// Computing them here, with the statement package's own rules, keeps the first start
// as fast as loading rows: no close job has to replay a year. The interest is already
// among the postings (history posts it at each close), so no interest is added.
//
// The account's closing day becomes the last close's day, capped at 28, so the close
// job takes over next month where the history stops.
func (g *generator) statements(a *issuer.Account, ps []issuer.Posting, closes []time.Time) {
	rules := statement.DefaultRules
	last := statement.Civil(closes[len(closes)-1])
	a.CycleDay = min(28, last.Day())
	var (
		i       int
		opening int64
		start   = statement.Civil(closes[0])
	)
	for k := 1; k < len(closes); k++ {
		closing := statement.Civil(closes[k])
		end := statement.EndOfDay(closing)
		sums := statement.Sums{}
		for ; i < len(ps) && !ps[i].PostedAt.After(end); i++ {
			if ps[i].Status != string(account.Pending) {
				sums[account.Kind(ps[i].Kind)] += ps[i].Amount
			}
		}
		st, ok := rules.Compute(statement.Cycle{AccountID: a.ID, Currency: a.Currency, PeriodStart: start,
			ClosingDate: closing, Opening: opening, Sums: sums})
		start = closing.AddDate(0, 0, 1)
		if !ok {
			continue
		}
		opening = st.Closing
		g.ds.Statements = append(g.ds.Statements, issuer.Statement{
			ID: int64(len(g.ds.Statements) + 1), AccountID: a.ID, PeriodStart: st.PeriodStart, ClosingDate: st.ClosingDate,
			DueDate: st.DueDate, Currency: st.Currency, Opening: st.Opening, Purchases: st.Purchases, Credits: st.Credits,
			Interest: st.Interest, Closing: st.Closing, MinimumDue: st.MinimumDue, Delivery: string(st.Delivery),
			CreatedAt: end,
		})
	}
}
