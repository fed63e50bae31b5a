package api

import (
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/rewards"
)

// --- Rewards, offers and benefits (SPEC AC5, AC6) ---
//
// Account, redemption and offer ids in paths are looked up within the member's own
// accounts: anyone else's is 404 exactly like an id that does not exist.

type pointsEntryJSON struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind"`
	Points      int64  `json:"points"`
	Description string `json:"description"`
	PostingID   *int64 `json:"posting_id"`
	At          string `json:"at"`
}

type redemptionJSON struct {
	ID        int64   `json:"id"`
	AccountID int64   `json:"account_id"`
	ItemID    int64   `json:"item_id"`
	ItemCode  string  `json:"item_code"`
	ItemName  string  `json:"item_name"`
	Kind      string  `json:"kind"`
	Points    int64   `json:"points"`
	Credit    int64   `json:"credit"`
	Currency  *string `json:"currency"`
	PostingID *int64  `json:"posting_id"`
	CreatedAt string  `json:"created_at"`
}

type pointsJSON struct {
	AccountID   int64             `json:"account_id"`
	Balance     int64             `json:"points_balance"`
	CanRedeem   bool              `json:"can_redeem"`
	History     []pointsEntryJSON `json:"history"`
	Redemptions []redemptionJSON  `json:"redemptions"`
}

type catalogueItemJSON struct {
	ID       int64   `json:"id"`
	Code     string  `json:"code"`
	Kind     string  `json:"kind"`
	Name     string  `json:"name"`
	Points   int64   `json:"points"`
	Step     int64   `json:"step"`
	Value    int64   `json:"credit_per_100_points"`
	Currency *string `json:"currency"`
}

func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *server) newRedemptionJSON(c *call, x rewards.Redemption) redemptionJSON {
	return redemptionJSON{ID: x.ID, AccountID: x.AccountID, ItemID: x.ItemID, ItemCode: x.ItemCode,
		ItemName: c.loc.T("rewards.item." + x.ItemCode), Kind: string(x.Kind), Points: x.Points, Credit: x.Credit,
		Currency: optionalString(x.Currency), PostingID: optionalID(x.PostingID), CreatedAt: x.CreatedAt.UTC().Format(time.RFC3339)}
}

// pathAccountID reads {id}; anything but a positive integer is an account no member has.
func pathAccountID(c *call, name string) (int64, error) {
	id, err := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, cp.E("api.account", cp.NotFound, "", nil)
	}
	return id, nil
}

// rewardsScope is the member's card holder id and the account in the path.
func (s *server) rewardsScope(c *call) (holder, acct int64, err error) {
	if s.rewards == nil || s.offers == nil {
		return 0, 0, cp.E("api.rewards", cp.NotFound, "", nil)
	}
	if acct, err = pathAccountID(c, "id"); err != nil {
		return 0, 0, err
	}
	return c.sess.CardholderID, acct, nil
}

// points is GET /api/v1/accounts/{id}/rewards: balance, history, redemptions.
func (s *server) points(c *call) (int, any, error) {
	holder, acct, err := s.rewardsScope(c)
	if err != nil {
		return 0, nil, err
	}
	sum, err := s.rewards.Summary(c.r.Context(), holder, acct)
	if err != nil {
		return 0, nil, err
	}
	out := pointsJSON{AccountID: acct, Balance: sum.Balance, CanRedeem: sum.Account.Basic,
		History: []pointsEntryJSON{}, Redemptions: []redemptionJSON{}}
	for _, e := range sum.History {
		j := pointsEntryJSON{ID: e.ID, Kind: string(e.Kind), Points: e.Points, Description: e.Description,
			PostingID: optionalID(e.PostingID), At: e.At.UTC().Format(time.RFC3339)}
		if e.Kind == rewards.Redeem {
			j.Description = c.loc.T(e.Description)
		}
		out.History = append(out.History, j)
	}
	for _, x := range sum.Redemptions {
		out.Redemptions = append(out.Redemptions, s.newRedemptionJSON(c, x))
	}
	return http.StatusOK, out, nil
}

// catalogue is GET /api/v1/rewards/catalogue.
func (s *server) catalogue(c *call) (int, any, error) {
	if s.rewards == nil {
		return 0, nil, cp.E("api.catalogue", cp.NotFound, "", nil)
	}
	items, err := s.rewards.Catalogue(c.r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Items []catalogueItemJSON `json:"items"`
	}{Items: []catalogueItemJSON{}}
	for _, it := range items {
		out.Items = append(out.Items, catalogueItemJSON{ID: it.ID, Code: it.Code, Kind: string(it.Kind), Name: c.loc.T(it.NameID()),
			Points: it.Points, Step: it.Step, Value: it.Value, Currency: optionalString(it.Currency)})
	}
	return http.StatusOK, out, nil
}

type redeemRequest struct {
	ItemID int64 `json:"item_id"`
	Points int64 `json:"points"`
}

// redeem is POST /api/v1/accounts/{id}/rewards/redemptions. The Idempotency-Key
// header is required: a retry with it answers with the first redemption.
func (s *server) redeem(c *call) (int, any, error) {
	// The body is checked first, as on every route: its rules do not depend on whose
	// account the path names.
	var in redeemRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	holder, acct, err := s.rewardsScope(c)
	if err != nil {
		return 0, nil, err
	}
	key := c.r.Header.Get("Idempotency-Key")
	if rewards.CheckKey(key) != nil {
		return 0, nil, cp.InvalidFields("api.redeem", cp.FieldError{Field: "Idempotency-Key", Msg: "error.invalid"})
	}
	x, err := s.rewards.Redeem(c.r.Context(), holder, acct, rewards.RedeemRequest{ItemID: in.ItemID, Points: in.Points, IdempotencyKey: key})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, s.newRedemptionJSON(c, x), nil
}

// redemption is GET /api/v1/accounts/{id}/rewards/redemptions/{redemption}.
func (s *server) redemption(c *call) (int, any, error) {
	holder, acct, err := s.rewardsScope(c)
	if err != nil {
		return 0, nil, err
	}
	id, err := pathAccountID(c, "redemption")
	if err != nil {
		return 0, nil, err
	}
	x, err := s.rewards.Redemption(c.r.Context(), holder, acct, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.newRedemptionJSON(c, x), nil
}

type enrolmentJSON struct {
	CardID     int64  `json:"card_id"`
	EnrolledAt string `json:"enrolled_at"`
	Credited   bool   `json:"credited"`
	PostingID  *int64 `json:"posting_id"`
}

type offerJSON struct {
	ID         int64           `json:"id"`
	Title      string          `json:"title"`
	Merchant   *string         `json:"merchant"`
	MCC        *string         `json:"mcc"`
	MinSpend   int64           `json:"min_spend"`
	Credit     int64           `json:"credit"`
	Currency   string          `json:"currency"`
	StartsOn   string          `json:"starts_on"`
	EndsOn     string          `json:"ends_on"`
	Enrolments []enrolmentJSON `json:"enrolments"`
}

func newEnrolmentJSON(e offers.Enrolment) enrolmentJSON {
	return enrolmentJSON{CardID: e.CardID, EnrolledAt: e.EnrolledAt.UTC().Format(time.RFC3339), Credited: e.PostingID != 0,
		PostingID: optionalID(e.PostingID)}
}

func (s *server) offerTitle(c *call, o offers.Offer) string {
	where := o.Merchant
	if where == "" {
		where = c.loc.T("offers.mcc." + o.MCC)
	}
	return c.loc.T("offers.offer", "min", c.loc.Money(o.MinSpend, o.Currency), "where", where, "credit", c.loc.Money(o.Credit, o.Currency))
}

// accountOffers is GET /api/v1/accounts/{id}/offers: today's offers, each with its
// enrolments on the cards the member may see.
func (s *server) accountOffers(c *call) (int, any, error) {
	holder, acct, err := s.rewardsScope(c)
	if err != nil {
		return 0, nil, err
	}
	v, err := s.offers.Offers(c.r.Context(), holder, acct)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Offers []offerJSON `json:"offers"`
	}{Offers: []offerJSON{}}
	for _, o := range v.Offers {
		j := offerJSON{ID: o.ID, Title: s.offerTitle(c, o), Merchant: optionalString(o.Merchant), MCC: optionalString(o.MCC),
			MinSpend: o.MinSpend, Credit: o.Credit, Currency: o.Currency, StartsOn: o.StartsOn.Format(time.DateOnly),
			EndsOn: o.EndsOn.Format(time.DateOnly), Enrolments: []enrolmentJSON{}}
		for _, e := range v.Enrolments {
			if e.OfferID == o.ID {
				j.Enrolments = append(j.Enrolments, newEnrolmentJSON(e))
			}
		}
		out.Offers = append(out.Offers, j)
	}
	return http.StatusOK, out, nil
}

type enrolRequest struct {
	CardID int64 `json:"card_id"`
}

// enrolOffer is POST /api/v1/accounts/{id}/offers/{offer}/enrol; adding an offer to a
// card twice answers with the same enrolment.
func (s *server) enrolOffer(c *call) (int, any, error) {
	var in enrolRequest
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	holder, acct, err := s.rewardsScope(c)
	if err != nil {
		return 0, nil, err
	}
	offerID, err := pathAccountID(c, "offer")
	if err != nil {
		return 0, nil, err
	}
	e, err := s.offers.Enrol(c.r.Context(), holder, acct, offerID, in.CardID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newEnrolmentJSON(e), nil
}

// benefits is GET /api/v1/accounts/{id}/benefits: the product's benefits, translated.
func (s *server) benefits(c *call) (int, any, error) {
	holder, acct, err := s.rewardsScope(c)
	if err != nil {
		return 0, nil, err
	}
	bs, err := s.offers.Benefits(c.r.Context(), holder, acct)
	if err != nil {
		return 0, nil, err
	}
	type benefitJSON struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	out := struct {
		Benefits []benefitJSON `json:"benefits"`
	}{Benefits: []benefitJSON{}}
	for _, b := range bs {
		out.Benefits = append(out.Benefits, benefitJSON{ID: b.TextID, Text: c.loc.T(b.TextID)})
	}
	return http.StatusOK, out, nil
}

// pointsBalances fills in the accounts' points balances for GET /api/v1/accounts, from
// the same service the dashboard asks, so the two always agree.
func (s *server) pointsBalances(c *call, holder int64, accts []accountJSON) error {
	if s.rewards == nil {
		return nil
	}
	for i := range accts {
		b, err := s.rewards.Balance(c.r.Context(), holder, accts[i].AccountID)
		if err != nil {
			return err
		}
		accts[i].PointsBalance = &b
	}
	return nil
}
