package offers

import (
	"context"
	"log/slog"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
)

// Service runs benefits and offers. It keeps no state of its own.
type Service struct {
	store  Store
	ledger account.Ledger
	now    func() time.Time
	log    *slog.Logger
}

// New returns a Service that posts credits through ledger. now is the clock.
func New(store Store, ledger account.Ledger, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, ledger: ledger, now: now, log: log}
}

// View is what the offers page shows for an account.
type View struct {
	Offers     []Offer
	Enrolments []Enrolment
}

// EnrolledOn returns the enrolment of offerID on cardID, if any.
func (v View) EnrolledOn(offerID, cardID int64) (Enrolment, bool) {
	for _, e := range v.Enrolments {
		if e.OfferID == offerID && e.CardID == cardID {
			return e, true
		}
	}
	return Enrolment{}, false
}

// Offers lists today's offers for the account and the enrolments of the cards the
// holder may see. Returns NotFound if the holder is not on the account.
func (s *Service) Offers(ctx context.Context, cardholderID, accountID int64) (View, error) {
	os, es, err := s.store.AccountOffers(ctx, cardholderID, accountID, s.now())
	if err != nil {
		return View{}, scoped("offers.Offers", err)
	}
	return View{Offers: os, Enrolments: es}, nil
}

// Enrol adds an offer to one of the cards the holder may see. Adding it twice is not
// an error. Returns NotFound for a card or offer that is not there for this holder.
func (s *Service) Enrol(ctx context.Context, cardholderID, accountID, offerID, cardID int64) (Enrolment, error) {
	const op = "offers.Enrol"
	if offerID <= 0 || cardID <= 0 {
		return Enrolment{}, cp.E(op, cp.NotFound, "", nil)
	}
	e, err := s.store.Enrol(ctx, cardholderID, accountID, offerID, cardID, s.now().UTC())
	if err != nil {
		return Enrolment{}, scoped(op, err)
	}
	return e, nil
}

// Benefits lists the benefits of the account's product.
func (s *Service) Benefits(ctx context.Context, cardholderID, accountID int64) ([]Benefit, error) {
	bs, err := s.store.Benefits(ctx, cardholderID, accountID)
	if err != nil {
		return nil, scoped("offers.Benefits", err)
	}
	return bs, nil
}

// Grace is how long after an offer ends the sweep still looks for its purchases:
// a purchase made on the last day can take days to post.
const Grace = 30 * 24 * time.Hour

const sweepBatch = 500

// Sweep credits every enrolment whose card has a qualifying purchase and reports how
// many credits it posted. Safe to run anywhere, any number of times at once.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	const op = "offers.Sweep"
	now := s.now().UTC()
	var (
		after int64
		n     int
	)
	for {
		es, os, err := s.store.OpenEnrolments(ctx, now.Add(-Grace), after, sweepBatch)
		if err != nil {
			return n, cp.E(op, cp.Internal, "", err)
		}
		for _, e := range es {
			ok, err := s.credit(ctx, e, os[e.OfferID], now)
			if err != nil {
				return n, cp.E(op, cp.Internal, "", err)
			}
			if ok {
				n++
			}
		}
		if len(es) < sweepBatch {
			return n, nil
		}
		after = es[len(es)-1].ID
	}
}

func (s *Service) credit(ctx context.Context, e Enrolment, o Offer, now time.Time) (bool, error) {
	from := e.EnrolledAt
	if from.Before(o.StartsOn) {
		from = o.StartsOn
	}
	ps, err := s.store.CardPurchases(ctx, e.CardID, from, o.EndsOn.AddDate(0, 0, 1))
	if err != nil {
		return false, err
	}
	var hit *Purchase
	for i := range ps {
		if o.Qualifies(ps[i], e.CardID, e.EnrolledAt) {
			hit = &ps[i]
			break
		}
	}
	if hit == nil {
		return false, nil
	}
	key := LedgerKey(o.ID, e.CardID)
	desc, textID, args := "Offer credit: "+o.Merchant, "ledger.offer.credit.merchant", map[string]string{"merchant": o.Merchant}
	if o.Merchant == "" {
		desc, textID, args = "Offer credit", "ledger.offer.credit", nil
	}
	_, err = s.ledger.Post(ctx, account.Entry{
		AccountID: e.AccountID, CardID: e.CardID, Kind: account.Credit, Amount: -o.Credit, Currency: o.Currency,
		Description: desc, TextID: textID, TextArgs: args, Merchant: o.Merchant, PostedAt: now, IdempotencyKey: key,
	})
	// Conflict: the key was used by an earlier sweep whose entry differs only in its
	// time; the credit is there, so this one only has to be recorded.
	if err != nil && !cp.IsKind(err, cp.Conflict) {
		return false, err
	}
	if err := s.store.MarkCredited(ctx, e.ID, key); err != nil {
		return false, err
	}
	s.log.InfoContext(ctx, "offer credited", "offer_id", o.ID, "card_id", e.CardID, "purchase_id", hit.ID)
	return err == nil, nil
}

func scoped(op string, err error) error {
	if cp.IsKind(err, cp.NotFound) {
		return cp.E(op, cp.NotFound, "", err)
	}
	return cp.E(op, cp.Internal, "", err)
}
