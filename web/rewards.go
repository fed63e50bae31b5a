package web

import (
	"net/http"
	"strconv"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/safehttp"
)

// The rewards, offers and benefits pages (SPEC AC5, AC6) are parsed with the others;
// they are listed here so the feature stays in its own files. Account ids in paths
// are the member's own: any other is the not-found page.
func init() {
	pageNames = append(pageNames, "rewards", "offers")
}

func (s *server) rewardsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /rewards", s.signedIn(s.rewardsHome))
	mux.HandleFunc("GET /accounts/{id}/rewards", s.signedIn(s.rewardsPage))
	mux.HandleFunc("POST /accounts/{id}/rewards/redeem", s.signedIn(s.redeem))
	mux.HandleFunc("GET /accounts/{id}/offers", s.signedIn(s.offersPage))
	mux.HandleFunc("POST /accounts/{id}/offers/{offer}/enrol", s.signedIn(s.enrolOffer))
}

type itemView struct {
	ID       int64
	Name     string
	Kind     string
	Price    string // "2,500 points", or "from 2,500 points, in steps of 500"
	Worth    string // what a statement credit is worth, or ""
	Variable bool   // the member types the points
	Min      int64
	Step     int64
	Disabled bool // the balance does not reach the minimum
}

type pointsRow struct {
	Date   string
	ISO    string
	Kind   string
	Text   string
	Points string
}

type redemptionRow struct {
	ID     int64
	Date   string
	ISO    string
	Item   string
	Points string
	Credit string // "" for other kinds
}

type rewardsView struct {
	AccountID   int64
	Product     string
	Balance     string
	Basic       bool // may redeem
	Key         string
	Items       []itemView
	History     []pointsRow
	Redemptions []redemptionRow
	OffersURL   string
}

// rewardsHome is GET /rewards: the first account's points.
func (s *server) rewardsHome(w http.ResponseWriter, r *http.Request) {
	sums, _, ok := s.memberSummaries(w, r)
	if !ok {
		return
	}
	if len(sums) == 0 {
		s.notFound(w, r)
		return
	}
	redirect(w, r, "/accounts/"+strconv.FormatInt(sums[0].AccountID, 10)+"/rewards")
}

// points formats a number of points in the locale.
func points(loc locale.Locale, n int64) string {
	return loc.T("rewards.points", "n", loc.Number(n))
}

// rewardsPage is GET /accounts/{id}/rewards: balance, catalogue, history.
func (s *server) rewardsPage(w http.ResponseWriter, r *http.Request) {
	a, holder, ok := s.txAccount(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	p := s.newPage(r, loc, "rewards.title")
	if id, err := strconv.ParseInt(r.URL.Query().Get("redeemed"), 10, 64); err == nil {
		if x, err := s.Rewards.Redemption(r.Context(), holder, a.AccountID, id); err == nil {
			p.Flash = loc.T("rewards.redeem.done", "points", points(loc, x.Points), "item", loc.T("rewards.item."+x.ItemCode))
		}
	}
	s.renderRewards(w, r, p, http.StatusOK, a, holder)
}

func (s *server) renderRewards(w http.ResponseWriter, r *http.Request, p *page, status int, a account.Summary, holder int64) {
	ctx := r.Context()
	loc := p.Loc
	sum, err := s.Rewards.Summary(ctx, holder, a.AccountID)
	if err != nil {
		s.cardFail(w, r, err)
		return
	}
	items, err := s.Rewards.Catalogue(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := rewardsView{
		AccountID: a.AccountID, Product: a.ProductName, Balance: points(loc, sum.Balance), Basic: sum.Account.Basic,
		Key: newKey(), OffersURL: "/accounts/" + strconv.FormatInt(a.AccountID, 10) + "/offers",
	}
	for _, it := range items {
		if it.Kind == rewards.StatementCredit && it.Currency != a.Currency {
			continue
		}
		iv := itemView{ID: it.ID, Name: loc.T(it.NameID()), Kind: loc.T("rewards.kind." + string(it.Kind)),
			Price: points(loc, it.Points), Variable: it.Step > 0, Min: it.Points, Step: it.Step, Disabled: sum.Balance < it.Points}
		if it.Step > 0 {
			iv.Price = loc.T("rewards.price.from", "min", points(loc, it.Points), "step", loc.Number(it.Step))
		}
		if it.Kind == rewards.StatementCredit {
			iv.Worth = loc.T("rewards.worth", "points", points(loc, it.Points), "money", loc.Money(it.Credit(it.Points), it.Currency))
		}
		v.Items = append(v.Items, iv)
	}
	for _, e := range sum.History {
		row := pointsRow{Date: loc.Date(e.At), ISO: e.At.Format("2006-01-02"), Kind: loc.T("rewards.entry." + string(e.Kind)),
			Text: e.Description, Points: loc.Number(e.Points)}
		if e.Kind == rewards.Redeem {
			row.Text = loc.T(e.Description) // the item's message ID
		}
		if e.Points > 0 {
			row.Points = "+" + row.Points
		}
		v.History = append(v.History, row)
	}
	for _, x := range sum.Redemptions {
		row := redemptionRow{ID: x.ID, Date: loc.Date(x.CreatedAt), ISO: x.CreatedAt.Format("2006-01-02"),
			Item: loc.T("rewards.item." + x.ItemCode), Points: points(loc, x.Points)}
		if x.Credit != 0 {
			row.Credit = loc.Money(x.Credit, x.Currency)
		}
		v.Redemptions = append(v.Redemptions, row)
	}
	p.Nav = "rewards"
	p.Data = v
	s.render(w, r, status, "rewards", p)
}

// redeem is POST /accounts/{id}/rewards/redeem. The form's hidden key makes a
// resubmission (double click, reload) return the first redemption.
func (s *server) redeem(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	a, holder, ok := s.txAccount(w, r)
	if !ok {
		return
	}
	loc := s.locale(r)
	item, err := strconv.ParseInt(form.Get("item"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	var pts int64
	if v := strings.TrimSpace(strings.ReplaceAll(form.Get("points"), ",", "")); v != "" {
		if pts, err = strconv.ParseInt(v, 10, 64); err != nil || pts <= 0 {
			s.rewardsRefused(w, r, loc, a, holder, cp.InvalidFields("web.redeem", cp.FieldError{Field: "points", Msg: "rewards.error.points"}))
			return
		}
	}
	x, err := s.Rewards.Redeem(r.Context(), holder, a.AccountID, rewards.RedeemRequest{ItemID: item, Points: pts, IdempotencyKey: form.Get("idempotency_key")})
	if err != nil {
		s.rewardsRefused(w, r, loc, a, holder, err)
		return
	}
	redirect(w, r, "/accounts/"+strconv.FormatInt(a.AccountID, 10)+"/rewards?redeemed="+strconv.FormatInt(x.ID, 10))
}

// rewardsRefused shows why a redemption was refused on the rewards page.
func (s *server) rewardsRefused(w http.ResponseWriter, r *http.Request, loc locale.Locale, a account.Summary, holder int64, err error) {
	kind := cp.ErrorKind(err)
	if kind == cp.NotFound || kind == cp.Internal {
		s.cardFail(w, r, err)
		return
	}
	p := s.newPage(r, loc, "rewards.title")
	msg := cp.ErrorMsg(err)
	if fs := cp.ErrorFields(err); len(fs) > 0 {
		msg = fs[0].Msg
	}
	p.Alert = loc.T(msg)
	s.renderRewards(w, r, p, safehttp.Status(kind), a, holder)
}

type offerView struct {
	ID       int64
	Title    string
	Ends     string
	Enrolled []string     // the cards it is on, "•••• 1234" (with "credited" when paid)
	Cards    []cardOption // cards it can still be added to
}

type offersView struct {
	AccountID  int64
	Product    string
	Offers     []offerView
	Benefits   []string
	RewardsURL string
}

// offerTitle is the offer as a sentence: "Spend $50.00 at X, get $10.00 back".
func offerTitle(loc locale.Locale, o offers.Offer) string {
	where := o.Merchant
	if where == "" {
		where = loc.T("offers.mcc." + o.MCC)
	}
	return loc.T("offers.offer", "min", loc.Money(o.MinSpend, o.Currency), "where", where, "credit", loc.Money(o.Credit, o.Currency))
}

// offersPage is GET /accounts/{id}/offers: benefits of the product and the offers a
// card can be added to.
func (s *server) offersPage(w http.ResponseWriter, r *http.Request) {
	a, holder, ok := s.txAccount(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	loc := s.locale(r)
	p := s.newPage(r, loc, "offers.title")
	p.Nav = "rewards"
	if r.URL.Query().Get("done") == "enrolled" {
		p.Flash = loc.T("offers.enrol.done")
	}
	view, err := s.Offers.Offers(ctx, holder, a.AccountID)
	if err != nil {
		s.cardFail(w, r, err)
		return
	}
	bs, err := s.Offers.Benefits(ctx, holder, a.AccountID)
	if err != nil {
		s.cardFail(w, r, err)
		return
	}
	v := offersView{AccountID: a.AccountID, Product: a.ProductName, RewardsURL: "/accounts/" + strconv.FormatInt(a.AccountID, 10) + "/rewards"}
	for _, b := range bs {
		v.Benefits = append(v.Benefits, loc.T(b.TextID))
	}
	for _, o := range view.Offers {
		ov := offerView{ID: o.ID, Title: offerTitle(loc, o), Ends: loc.T("offers.ends", "date", loc.Date(o.EndsOn))}
		for _, c := range a.Cards {
			if e, ok := view.EnrolledOn(o.ID, c.CardID); ok {
				label := "•••• " + c.Last
				if e.PostingID != 0 {
					label = loc.T("offers.credited", "card", label)
				}
				ov.Enrolled = append(ov.Enrolled, label)
				continue
			}
			if c.State == "lost" || c.State == "closed" {
				continue
			}
			ov.Cards = append(ov.Cards, cardOption{ID: c.CardID, Label: "•••• " + c.Last + " · " + c.HolderName})
		}
		v.Offers = append(v.Offers, ov)
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "offers", p)
}

// enrolOffer is POST /accounts/{id}/offers/{offer}/enrol with the card in the form.
func (s *server) enrolOffer(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	a, holder, ok := s.txAccount(w, r)
	if !ok {
		return
	}
	offerID, err1 := strconv.ParseInt(r.PathValue("offer"), 10, 64)
	cardID, err2 := strconv.ParseInt(form.Get("card"), 10, 64)
	if err1 != nil || err2 != nil {
		s.notFound(w, r)
		return
	}
	if _, err := s.Offers.Enrol(r.Context(), holder, a.AccountID, offerID, cardID); err != nil {
		s.cardFail(w, r, err)
		return
	}
	redirect(w, r, "/accounts/"+strconv.FormatInt(a.AccountID, 10)+"/offers?done=enrolled")
}

// rewardsLinks is the dashboard's points figure and link for an account; empty
// when there is no rewards service or the figure cannot be read (the dashboard still
// shows the rest).
func (s *server) rewardsLinks(r *http.Request, loc locale.Locale, holder, accountID int64) (balance, link string) {
	if s.Rewards == nil {
		return "", ""
	}
	b, err := s.Rewards.Balance(r.Context(), holder, accountID)
	if err != nil {
		s.logError(r.Context(), r, err)
		return "", ""
	}
	return points(loc, b), "/accounts/" + strconv.FormatInt(accountID, 10) + "/rewards"
}
