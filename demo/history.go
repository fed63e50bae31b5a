package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
)

// A year of history per account (SPEC PL7), in monthly billing cycles:
//
//   - Each account's statements close on the same day of the month; the last one closed
//     1 to 15 days ago and each is due paymentGraceDays after it closes, so the current
//     payment falls due 10 to 24 days from now.
//   - Purchases are spread over each cycle on the account's cards, at merchants with
//     real-looking names, categories (MCC), cities and channels: mostly at home, a few
//     in another US city, a few abroad; some online; subscriptions recur monthly. A few
//     purchases are refunded days later. The last two days' purchases may still be
//     pending authorisation holds.
//   - Each statement is paid before its due date: in full, a part of it, or only the
//     minimum, by the account's payer profile. The current one may not be paid yet.
//   - A statement not paid in full carries its unpaid part into the next cycle, which
//     is charged interest at closing: unpaid × aprBasisPoints / 10000 / 12, rounded half
//     up to the cent (a simple monthly rate, not a daily-balance method).
//   - Gold and Platinum charge their annual fee in the account's anniversary month;
//     Platinum credits streaming subscriptions back, up to streamingCredit a month.
//
// Purchases never take the balance plus holds past spendCeiling of the limit.
const (
	historyMonths    = 12
	paymentGraceDays = 25
	aprBasisPoints   = 2499 // 24.99% APR
	streamingCredit  = 2_000
	spendCeilingPct  = 80
)

// annualFees by product code, in cents.
var annualFees = map[string]int64{"gold": 25_000, "platinum": 69_500}

// shop is a fictional merchant with its category code and the range of a typical
// amount in cents.
type shop struct {
	name     string
	mcc      string
	min, max int64
	channel  account.Channel
	city     string // for online and recurring merchants, where they are based
	weight   int
}

var shops = []shop{
	{"Cedar Street Grocers", "5411", 1_500, 18_000, account.InPerson, "", 14},
	{"Harvest Moon Market", "5411", 800, 12_000, account.InPerson, "", 10},
	{"Blue Harbor Coffee", "5814", 350, 1_800, account.InPerson, "", 12},
	{"Riverbend Bistro", "5812", 2_500, 16_000, account.InPerson, "", 8},
	{"Golden Lantern Noodles", "5812", 1_400, 6_500, account.InPerson, "", 6},
	{"Northstar Fuel", "5541", 2_500, 9_000, account.InPerson, "", 9},
	{"Maple Leaf Pharmacy", "5912", 500, 8_000, account.InPerson, "", 5},
	{"Pine & Oak Hardware", "5251", 1_200, 25_000, account.InPerson, "", 3},
	{"Summit Outfitters", "5651", 4_000, 35_000, account.InPerson, "", 3},
	{"Quickline Transit", "4111", 250, 4_000, account.InPerson, "", 5},
	{"Lumen Books", "5942", 800, 6_000, account.Online, "Seattle", 4},
	{"Parcelpoint Online", "5999", 1_000, 22_000, account.Online, "Seattle", 8},
	{"Skyline Air", "4511", 12_000, 90_000, account.Online, "Dallas", 2},
	{"Harbor View Hotel", "7011", 12_000, 60_000, account.InPerson, "", 2},
	{"Rideway", "4121", 900, 5_500, account.Online, "San Francisco", 4},
}

// subscriptions recur monthly at a fixed price.
var subscriptions = []shop{
	{"Orbit Streaming", "4899", 1_599, 1_599, account.Recurring, "Los Angeles", 1},
	{"Tuneloop Music", "4899", 1_099, 1_099, account.Recurring, "New York", 1},
	{"Ironworks Gym", "7997", 4_500, 4_500, account.Recurring, "", 1},
}

type place struct{ city, country string }

var (
	homeCities = []place{
		{"Portland", "US"}, {"Denver", "US"}, {"Austin", "US"}, {"Chicago", "US"}, {"Boston", "US"},
		{"Atlanta", "US"}, {"Minneapolis", "US"}, {"San Diego", "US"}, {"Raleigh", "US"}, {"Phoenix", "US"},
	}
	abroad = []place{
		{"London", "GB"}, {"Madrid", "ES"}, {"Stockholm", "SE"}, {"Mumbai", "IN"},
		{"Mexico City", "MX"}, {"Toronto", "CA"}, {"Barcelona", "ES"}, {"Gothenburg", "SE"},
	}
)

// payer profiles: how an account pays its statements.
const (
	payInFull = iota
	payPart
	payMinimum
)

// usableCard is a card with the time range in which it made purchases.
type usableCard struct {
	id         int64
	basic      bool
	from, till time.Time
}

// history gives account a its year of postings and sets what is due.
func (g *generator) history(r *rand.Rand, a *issuer.Account, productCode string) {
	cards := g.usableCards(a)
	home := homeCities[r.IntN(len(homeCities))]
	profile := payInFull
	switch n := r.IntN(100); {
	case n >= 85:
		profile = payMinimum
	case n >= 50:
		profile = payPart
	}
	perMonth := 4 + r.IntN(8) // purchases a month: light to heavy spenders
	if r.IntN(4) == 0 {
		perMonth += 10 + r.IntN(15)
	}
	var subs []shop
	for _, s := range subscriptions {
		if r.IntN(100) < 45 {
			subs = append(subs, s)
		}
	}
	subDay := 1 + r.IntN(27)

	lastClose := g.today.AddDate(0, 0, -(1 + r.IntN(15))).Add(23*time.Hour + 30*time.Minute)
	closes := make([]time.Time, historyMonths+1)
	for k := range closes {
		closes[k] = lastClose.AddDate(0, k-historyMonths, 0)
	}
	ceiling := a.CreditLimit * spendCeilingPct / 100

	var (
		ps                 []issuer.Posting
		balance, pending   int64 // posted so far, and open holds
		statement, paidFor int64 // the last statement's balance, and payments since it closed
	)
	add := func(p issuer.Posting) {
		p.AccountID = a.ID
		ps = append(ps, p)
		if p.Status == string(account.Pending) {
			pending += p.Amount
		} else {
			balance += p.Amount
		}
	}
	for k := 1; k <= historyMonths+1; k++ {
		from := closes[k-1]
		current := k == historyMonths+1
		till := g.now
		if !current {
			till = closes[k]
		}

		// The cycle's events, processed in time order so that the ceiling is checked
		// against the balance as it stood.
		var events []issuer.Posting
		// Pay the statement that closed at from.
		if statement > 0 {
			payAt := from.AddDate(0, 0, 5+r.IntN(paymentGraceDays-6)).Add(-time.Duration(12+r.IntN(10)) * time.Hour)
			if payAt.Before(till) {
				amount := statement
				switch profile {
				case payPart:
					amount = max(minimumDue(statement), statement*int64(25+r.IntN(50))/100)
				case payMinimum:
					// A little over the minimum: enough to outpace the interest, so
					// the balance of a revolving account stays under its limit.
					amount = min(statement, max(minimumDue(statement), statement*3/100))
				}
				events = append(events, issuer.Posting{Amount: -amount, Kind: string(account.Payment), Description: "Payment received, thank you",
					TextID: "ledger.payment.thanks", PostedAt: payAt})
			}
		}
		for range perMonth {
			at := between(r, from, till)
			s := pickShop(r)
			events = append(events, g.purchase(r, s, home, at))
		}
		if current {
			// A purchase or two in the last day or so, still pending, so that the
			// demo shows holds beside posted transactions.
			for range 1 + r.IntN(2) {
				at := g.now.Add(-time.Duration(1+r.Int64N(40*3600)) * time.Second).Truncate(time.Second)
				if at.After(from) {
					events = append(events, g.purchase(r, pickShop(r), home, at))
				}
			}
		}
		for _, s := range subs {
			at := time.Date(from.Year(), from.Month(), subDay, 6, 0, 0, 0, time.UTC)
			if at.Before(from) {
				at = at.AddDate(0, 1, 0)
			}
			if at.Before(till) {
				events = append(events, g.purchase(r, s, home, at))
			}
		}
		if fee, ok := annualFees[productCode]; ok {
			// The anniversary in this cycle, which may be in the year after from's.
			for _, y := range []int{from.Year(), from.Year() + 1} {
				at := time.Date(y, a.OpenedAt.Month(), a.OpenedAt.Day(), 5, 0, 0, 0, time.UTC)
				if !at.Before(from) && at.Before(till) {
					events = append(events, issuer.Posting{Amount: fee, Kind: string(account.Fee), Description: "Annual membership fee",
						TextID: "ledger.fee.annual", PostedAt: at})
				}
			}
		}
		slices.SortStableFunc(events, func(x, y issuer.Posting) int { return x.PostedAt.Compare(y.PostedAt) })
		var (
			streamed int64
			refunds  []issuer.Posting // due later in the cycle, in time order
		)
		flushRefunds := func(until time.Time) {
			for len(refunds) > 0 && refunds[0].PostedAt.Before(until) {
				add(refunds[0])
				refunds = refunds[1:]
			}
		}
		for _, b := range events {
			flushRefunds(b.PostedAt)
			switch account.Kind(b.Kind) {
			case account.Payment:
				paidFor -= b.Amount
			case account.Purchase:
				c, ok := pickCard(r, cards, b.PostedAt)
				if !ok || balance+pending+b.Amount > ceiling {
					continue
				}
				b.CardID = c
				if current && g.now.Sub(b.PostedAt) < 48*time.Hour {
					b.Status = string(account.Pending) // not yet cleared
				}
			}
			add(b)
			if b.Kind == string(account.Purchase) && b.Status == "" {
				if b.MCC == "4899" {
					streamed += b.Amount
				}
				// A few purchases come back: a return, a cancelled booking.
				if b.Channel != string(account.Recurring) && r.IntN(40) == 0 {
					at := b.PostedAt.AddDate(0, 0, 2+r.IntN(9))
					if at.Before(till) {
						ref := b
						ref.Kind, ref.Amount, ref.PostedAt = string(account.Refund), -b.Amount, at
						ref.Description = "Refund: " + b.Merchant
						ref.TextID, ref.TextArgs = "ledger.refund", map[string]string{"merchant": b.Merchant}
						i, _ := slices.BinarySearchFunc(refunds, at, func(x issuer.Posting, t time.Time) int { return x.PostedAt.Compare(t) })
						refunds = slices.Insert(refunds, i, ref)
					}
				}
			}
		}
		flushRefunds(till)
		if productCode == "platinum" && streamed > 0 && !current {
			add(issuer.Posting{Amount: -min(streamed, streamingCredit), Kind: string(account.Credit),
				Description: "Streaming statement credit", TextID: "ledger.streaming.credit", PostedAt: till.Add(-time.Hour)})
		}

		if current {
			break
		}
		// Close the cycle: interest on what was left unpaid of the last statement.
		if unpaid := statement - paidFor; unpaid > 0 {
			add(issuer.Posting{Amount: interest(unpaid), Kind: string(account.Interest),
				Description: fmt.Sprintf("Interest charge at %d.%02d%% APR", aprBasisPoints/100, aprBasisPoints%100),
				TextID:      "ledger.interest", TextArgs: map[string]string{"apr_num": fmt.Sprintf("%d.%02d", aprBasisPoints/100, aprBasisPoints%100)},
				PostedAt: till.Add(-time.Minute)})
		}
		statement, paidFor = balance, 0
	}

	slices.SortStableFunc(ps, func(x, y issuer.Posting) int { return x.PostedAt.Compare(y.PostedAt) })
	for n := range ps {
		ps[n].ID = int64(len(g.ds.Postings) + 1)
		ps[n].IdempotencyKey = fmt.Sprintf("demo-%d-%d", a.ID, n+1)
		g.ds.Postings = append(g.ds.Postings, ps[n])
	}
	g.statements(a, ps, closes) // demo/statements.go

	a.PaymentDue, a.MinimumDue = time.Time{}, 0
	if owed := statement - paidFor; statement > 0 && owed > 0 {
		a.PaymentDue = civil(lastClose).AddDate(0, 0, paymentGraceDays)
		a.MinimumDue = min(owed, minimumDue(statement))
	}
}

// interest is a month's interest on unpaid cents at the demo APR, rounded half up.
func interest(unpaid int64) int64 {
	return (unpaid*aprBasisPoints + 60_000) / 120_000
}

// purchase is a purchase at s, located and timed; the card is chosen later.
func (g *generator) purchase(r *rand.Rand, s shop, home place, at time.Time) issuer.Posting {
	where := placeOf(r, s, home)
	amount := s.amount(r)
	return issuer.Posting{
		Amount: amount, Kind: string(account.Purchase), Description: s.name, PostedAt: at,
		Merchant: s.name, MCC: s.mcc, City: where.city, Country: where.country, Channel: string(s.channel),
	}
}

// placeOf is where a purchase at s happens for a member living at home.
func placeOf(r *rand.Rand, s shop, home place) place {
	switch {
	case s.city != "":
		return place{s.city, "US"}
	case s.mcc == "7011" || r.IntN(100) < 3:
		// Hotels are away from home by nature; otherwise now and then a trip abroad.
		return abroad[r.IntN(len(abroad))]
	case r.IntN(100) < 5:
		return homeCities[r.IntN(len(homeCities))]
	}
	return home
}

// amount draws a typical amount at s.
func (s shop) amount(r *rand.Rand) int64 {
	if s.max > s.min {
		return s.min + r.Int64N(s.max-s.min+1)
	}
	return s.min
}

func pickShop(r *rand.Rand) shop {
	total := 0
	for _, s := range shops {
		total += s.weight
	}
	n := r.IntN(total)
	for _, s := range shops {
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	return shops[0]
}

// pickCard chooses a card that was in use at t, the basic member's more often.
func pickCard(r *rand.Rand, cards []usableCard, t time.Time) (int64, bool) {
	var ok []usableCard
	for _, c := range cards {
		if !t.Before(c.from) && t.Before(c.till) {
			ok = append(ok, c)
			if c.basic {
				ok = append(ok, c, c) // three times the weight
			}
		}
	}
	if len(ok) == 0 {
		return 0, false
	}
	return ok[r.IntN(len(ok))].id, true
}

// usableCards are a's cards that can have made purchases, and when. A not yet
// activated card has made none; a lost card made them until its replacement was
// issued; a basic member's first card stands for the renewals before it (same number)
// and so is usable from the day the account opened.
func (g *generator) usableCards(a *issuer.Account) []usableCard {
	far := g.now.AddDate(1, 0, 0)
	var (
		out  []usableCard
		seen = map[int64]bool{}
	)
	// The account's holders and cards are the last ones generated, so a scan back
	// from the end finds them without walking the whole dataset.
	basic := map[int64]bool{}
	for i := len(g.ds.CardHolders) - 1; i >= 0 && g.ds.CardHolders[i].AccountID == a.ID; i-- {
		basic[g.ds.CardHolders[i].ID] = g.ds.CardHolders[i].Basic
	}
	var mine []issuer.Card
	for i := len(g.ds.Cards) - 1; i >= 0 && g.ds.Cards[i].AccountID == a.ID; i-- {
		mine = append(mine, g.ds.Cards[i])
	}
	slices.Reverse(mine)
	for i, c := range mine {
		if c.State == issuer.StateInactive {
			continue
		}
		u := usableCard{id: c.ID, basic: basic[c.CardHolderID], from: c.IssuedAt, till: far}
		if u.basic && !seen[c.CardHolderID] {
			u.from = a.OpenedAt
		}
		seen[c.CardHolderID] = true
		if c.State == issuer.StateLost {
			u.till = g.now
			for _, n := range mine[i+1:] {
				if n.CardHolderID == c.CardHolderID {
					u.till = n.IssuedAt
					break
				}
			}
		}
		out = append(out, u)
	}
	return out
}

// between is a whole-second instant in [from, till).
func between(r *rand.Rand, from, till time.Time) time.Time {
	secs := int64(till.Sub(from) / time.Second)
	if secs <= 1 {
		return from
	}
	return from.Add(time.Duration(1+r.Int64N(secs-1)) * time.Second)
}
