package rewards

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

// Service runs the points programme. It keeps no state: everything is in the store,
// shared by every instance.
type Service struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
}

// New returns a Service. now is the clock, injected so tests can move time.
func New(store Store, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, now: now, log: log}
}

// Limits of the lists a member sees.
const (
	HistoryLimit     = 50
	RedemptionsLimit = 20
)

// Summary is an account's points as a member sees them.
type Summary struct {
	Account     Account
	Balance     int64
	History     []Entry
	Redemptions []Redemption
}

// Account returns the account as the card holder sees it. Returns NotFound if the
// holder is not on it.
func (s *Service) Account(ctx context.Context, cardholderID, accountID int64) (Account, error) {
	a, err := s.store.RewardsAccount(ctx, cardholderID, accountID)
	if err != nil {
		return Account{}, scoped("rewards.Account", err)
	}
	return a, nil
}

// Balance is the account's points balance. Returns NotFound if the holder is not on
// the account.
func (s *Service) Balance(ctx context.Context, cardholderID, accountID int64) (int64, error) {
	b, err := s.store.HolderPointsBalance(ctx, cardholderID, accountID)
	if err != nil {
		return 0, scoped("rewards.Balance", err)
	}
	return b, nil
}

// Summary returns the balance, the recent history and the recent redemptions. Every
// holder on the account sees them: the points are the account's.
func (s *Service) Summary(ctx context.Context, cardholderID, accountID int64) (Summary, error) {
	const op = "rewards.Summary"
	a, err := s.Account(ctx, cardholderID, accountID)
	if err != nil {
		return Summary{}, err
	}
	out := Summary{Account: a}
	if out.Balance, err = s.store.PointsBalance(ctx, accountID); err != nil {
		return Summary{}, cp.E(op, cp.Internal, "", err)
	}
	if out.History, err = s.store.PointsHistory(ctx, accountID, HistoryLimit); err != nil {
		return Summary{}, cp.E(op, cp.Internal, "", err)
	}
	if out.Redemptions, err = s.store.Redemptions(ctx, accountID, RedemptionsLimit); err != nil {
		return Summary{}, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// Catalogue lists what points buy.
func (s *Service) Catalogue(ctx context.Context) ([]Item, error) {
	items, err := s.store.Catalogue(ctx)
	if err != nil {
		return nil, cp.E("rewards.Catalogue", cp.Internal, "", err)
	}
	return items, nil
}

// RedeemRequest is a member's redemption. Points 0 means the item's price (or
// minimum). IdempotencyKey is the client's: a retry with it returns the first result.
type RedeemRequest struct {
	ItemID         int64
	Points         int64
	IdempotencyKey string
}

// Redeem spends points on an item. Only the basic card member may redeem (Forbidden
// otherwise): points are the account's and a statement credit changes what the
// account owes. A statement credit is a `credit` posting made in the same transaction
// as the deduction, with a ledger key derived from the account and the client's key,
// so neither can happen without the other and a retry does neither twice. Returns
// NotFound for an account the holder is not on or an unknown item, Invalid for points
// that do not fit the item, and Conflict "rewards.error.insufficient" when the balance
// does not cover them.
func (s *Service) Redeem(ctx context.Context, cardholderID, accountID int64, in RedeemRequest) (Redemption, error) {
	const op = "rewards.Redeem"
	a, err := s.Account(ctx, cardholderID, accountID)
	if err != nil {
		return Redemption{}, err
	}
	if !a.Basic {
		return Redemption{}, cp.E(op, cp.Forbidden, "rewards.error.basiconly", nil)
	}
	if err := CheckKey(in.IdempotencyKey); err != nil {
		return Redemption{}, err
	}
	if in.ItemID <= 0 {
		return Redemption{}, cp.E(op, cp.NotFound, "", nil)
	}
	item, err := s.store.RewardItem(ctx, in.ItemID)
	if err != nil {
		return Redemption{}, scoped(op, err)
	}
	points, err := item.Cost(in.Points)
	if err != nil {
		return Redemption{}, err
	}
	now := s.now().UTC()
	r := Redemption{
		AccountID: a.ID, CardholderID: cardholderID, ItemID: item.ID, ItemCode: item.Code, Kind: item.Kind,
		Points: points, IdempotencyKey: in.IdempotencyKey, CreatedAt: now,
	}
	var credit *account.Entry
	if item.Kind == StatementCredit {
		if item.Currency != a.Currency {
			return Redemption{}, cp.InvalidFields(op, cp.FieldError{Field: "item_id", Msg: "rewards.error.currency"})
		}
		r.Credit, r.Currency = item.Credit(points), item.Currency
		credit = &account.Entry{
			AccountID: a.ID, Kind: account.Credit, Amount: -r.Credit, Currency: a.Currency,
			// The English of the message below, as the English pages show it.
			Description: "Rewards: " + locale.EnglishUS.Number(points) + " points redeemed", PostedAt: now,
			TextID: "ledger.rewards.redeemed", TextArgs: map[string]string{"points_num": strconv.FormatInt(points, 10)},
			IdempotencyKey: LedgerKey(a.ID, in.IdempotencyKey),
		}
		if err := credit.Validate(); err != nil {
			return Redemption{}, cp.E(op, cp.Internal, "", err)
		}
	}
	out, err := s.store.Redeem(ctx, r, credit)
	if err != nil {
		if k := cp.ErrorKind(err); k == cp.Conflict || k == cp.Invalid {
			return Redemption{}, err
		}
		return Redemption{}, cp.E(op, cp.Internal, "", err)
	}
	s.log.InfoContext(ctx, "points redeemed", "account_id", a.ID, "redemption_id", out.ID, "points", out.Points, "item", out.ItemCode)
	return out, nil
}

// LedgerKey is the idempotency key of a redemption's credit posting.
func LedgerKey(accountID int64, clientKey string) string {
	return "rewards:" + strconv.FormatInt(accountID, 10) + ":" + clientKey
}

// Redemption returns one of the account's redemptions. Any id that is not on an
// account the holder is on is NotFound.
func (s *Service) Redemption(ctx context.Context, cardholderID, accountID, id int64) (Redemption, error) {
	const op = "rewards.Redemption"
	if _, err := s.Account(ctx, cardholderID, accountID); err != nil {
		return Redemption{}, err
	}
	r, err := s.store.Redemption(ctx, accountID, id)
	if err != nil {
		return Redemption{}, scoped(op, err)
	}
	return r, nil
}

// SweepBatch is how many postings one store round trip of the sweep reads.
const SweepBatch = 1000

// Sweep gives points for every posted purchase and refund that has none yet and
// reports how many entries it wrote. It is idempotent and safe to run on several
// instances at once: an entry is unique per posting. Purchases of a batch are stored
// before its refunds are matched, so a refund finds a purchase of the same batch.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	const op = "rewards.Sweep"
	rates, err := s.store.EarnRates(ctx)
	if err != nil {
		return 0, cp.E(op, cp.Internal, "", err)
	}
	var (
		after int64
		n     int
	)
	for {
		ps, err := s.store.UnrewardedPostings(ctx, after, SweepBatch)
		if err != nil {
			return n, cp.E(op, cp.Internal, "", err)
		}
		var earned []Entry
		for _, p := range ps {
			if p.Kind == account.Purchase {
				earned = append(earned, Entry{AccountID: p.AccountID, Kind: Earn, PostingID: p.ID,
					Points: Points(p.Amount, rates[p.ProductCode].Rate(p.MCC)), Description: p.Description, At: p.PostedAt})
			}
		}
		k, err := s.store.AddPoints(ctx, earned)
		n += k
		if err != nil {
			return n, cp.E(op, cp.Internal, "", err)
		}
		// Refunds are matched in posting order and each reversal is stored before the
		// next refund looks for its purchase, so the next one sees what it took back,
		// whichever sweep (on this instance or another) stored it. Matching a batch in
		// memory and storing it at the end could count a reversal twice, once from the
		// batch and once from another sweep's commit. Refunds are few; a transaction
		// each is cheap.
		for _, p := range ps {
			if p.Kind != account.Refund {
				continue
			}
			cands, err := s.store.RefundCandidates(ctx, p)
			if err != nil {
				return n, cp.E(op, cp.Internal, "", err)
			}
			matched, points := Reversal(p, cands, rates[p.ProductCode])
			k, err := s.store.AddPoints(ctx, []Entry{{AccountID: p.AccountID, Kind: Reverse, PostingID: p.ID,
				MatchedID: matched, Points: points, Description: p.Description, At: p.PostedAt}})
			n += k
			if err != nil {
				return n, cp.E(op, cp.Internal, "", err)
			}
		}
		if len(ps) < SweepBatch {
			return n, nil
		}
		after = ps[len(ps)-1].ID
	}
}

// scoped keeps NotFound (the caller's scope) and makes anything else Internal.
func scoped(op string, err error) error {
	if cp.IsKind(err, cp.NotFound) {
		return cp.E(op, cp.NotFound, "", err)
	}
	return cp.E(op, cp.Internal, "", err)
}
