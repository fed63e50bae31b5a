package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/rewards"
)

var _ rewards.Store = (*Store)(nil)

// RewardsAccount returns the account as the holder sees it.
func (s *Store) RewardsAccount(ctx context.Context, cardholderID, accountID int64) (rewards.Account, error) {
	const op = "sqlstore.RewardsAccount"
	var a rewards.Account
	err := s.read.QueryRowContext(ctx, `
SELECT a.id, a.currency, p.code, h.basic
  FROM cardholders h
  JOIN accounts a ON a.id = h.account_id
  JOIN products p ON p.id = a.product_id
 WHERE h.id = $1 AND a.id = $2`, cardholderID, accountID).Scan(&a.ID, &a.Currency, &a.ProductCode, &a.Basic)
	if err != nil {
		return rewards.Account{}, notFoundOr(op, err)
	}
	return a, nil
}

// PointsBalance reads the account's running total of its entries (migration 00016).
func (s *Store) PointsBalance(ctx context.Context, accountID int64) (int64, error) {
	var b int64
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE((SELECT points FROM reward_totals WHERE account_id = $1), 0)`, accountID).Scan(&b)
	if err != nil {
		return 0, cp.E("sqlstore.PointsBalance", cp.Internal, "", err)
	}
	return b, nil
}

// HolderPointsBalance is PointsBalance for a holder on the account, in one query.
// Returns NotFound if the holder is not on it.
func (s *Store) HolderPointsBalance(ctx context.Context, cardholderID, accountID int64) (int64, error) {
	var b int64
	err := s.read.QueryRowContext(ctx, `
SELECT COALESCE(t.points, 0)
  FROM cardholders h LEFT JOIN reward_totals t ON t.account_id = h.account_id
 WHERE h.id = $1 AND h.account_id = $2`, cardholderID, accountID).Scan(&b)
	if err != nil {
		return 0, notFoundOr("sqlstore.HolderPointsBalance", err)
	}
	return b, nil
}

// PointsHistory lists the account's non-zero entries, newest first.
func (s *Store) PointsHistory(ctx context.Context, accountID int64, limit int) ([]rewards.Entry, error) {
	const op = "sqlstore.PointsHistory"
	rows, err := s.read.QueryContext(ctx, `
SELECT id, account_id, kind, points, COALESCE(posting_id, 0), matched_id, description, at
  FROM reward_points
 WHERE account_id = $1 AND points <> 0
 ORDER BY at DESC, id DESC`+limitClause(limit), accountID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	out := []rewards.Entry{}
	for rows.Next() {
		var (
			e    rewards.Entry
			kind string
			at   int64
		)
		if err := rows.Scan(&e.ID, &e.AccountID, &kind, &e.Points, &e.PostingID, &e.MatchedID, &e.Description, &at); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		e.Kind, e.At = rewards.EntryKind(kind), fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

const itemColumns = `id, code, kind, points, step, value, currency`

func scanItem(r rowScanner) (rewards.Item, error) {
	var (
		it   rewards.Item
		kind string
	)
	err := r.Scan(&it.ID, &it.Code, &kind, &it.Points, &it.Step, &it.Value, &it.Currency)
	it.Kind = rewards.ItemKind(kind)
	return it, err
}

// Catalogue lists the items in display order.
func (s *Store) Catalogue(ctx context.Context) ([]rewards.Item, error) {
	const op = "sqlstore.Catalogue"
	rows, err := s.read.QueryContext(ctx, `SELECT `+itemColumns+` FROM reward_items ORDER BY position, id`)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	out, err := collect(rows, scanItem)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// RewardItem returns one item.
func (s *Store) RewardItem(ctx context.Context, id int64) (rewards.Item, error) {
	it, err := scanItem(s.read.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM reward_items WHERE id = $1`, id))
	if err != nil {
		return rewards.Item{}, notFoundOr("sqlstore.RewardItem", err)
	}
	return it, nil
}

const redemptionColumns = `r.id, r.account_id, r.cardholder_id, r.item_id, i.code, i.kind, r.points, r.credit, r.currency,
       COALESCE(r.posting_id, 0), r.idempotency_key, r.created_at`

const redemptionFrom = ` FROM reward_redemptions r JOIN reward_items i ON i.id = r.item_id`

func scanRedemption(r rowScanner) (rewards.Redemption, error) {
	var (
		x    rewards.Redemption
		kind string
		at   int64
	)
	err := r.Scan(&x.ID, &x.AccountID, &x.CardholderID, &x.ItemID, &x.ItemCode, &kind, &x.Points, &x.Credit, &x.Currency,
		&x.PostingID, &x.IdempotencyKey, &at)
	x.Kind, x.CreatedAt = rewards.ItemKind(kind), fromMicros(at)
	return x, err
}

// Redeem serialises the account's redemptions with a conditional UPDATE of its
// reward_accounts row: on PostgreSQL the row lock is held to commit, so a second
// redemption waits and then, each statement reading afresh under READ COMMITTED, sees
// the first one's deduction; on SQLite the write transaction already excludes every
// other writer. Under that lock the key is looked up, the balance summed, and the
// redemption, its points entry and its credit posting written together.
func (s *Store) Redeem(ctx context.Context, r rewards.Redemption, credit *account.Entry) (rewards.Redemption, error) {
	const op = "sqlstore.Redeem"
	var out rewards.Redemption
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reward_accounts (account_id, version) VALUES ($1, 0)
ON CONFLICT (account_id) DO NOTHING`, r.AccountID); err != nil {
			return notFoundOr(op, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE reward_accounts SET version = version + 1 WHERE account_id = $1`, r.AccountID)
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if err := mustAffect(op, res); err != nil {
			return err
		}
		prev, err := scanRedemption(tx.QueryRowContext(ctx, `SELECT `+redemptionColumns+redemptionFrom+`
 WHERE r.account_id = $1 AND r.idempotency_key = $2`, r.AccountID, r.IdempotencyKey))
		switch {
		case err == nil && prev.Same(r):
			out = prev
			return nil
		case err == nil:
			return cp.E(op, cp.Conflict, "rewards.error.keyreused", fmt.Errorf("idempotency key reused for another redemption (%d)", prev.ID))
		case !errors.Is(err, sql.ErrNoRows):
			return cp.E(op, cp.Internal, "", err)
		}
		var balance int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT points FROM reward_totals WHERE account_id = $1), 0)`,
			r.AccountID).Scan(&balance); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if balance < r.Points {
			return cp.E(op, cp.Conflict, "rewards.error.insufficient", nil)
		}
		var postingID int64
		if credit != nil {
			e := *credit
			if e.Status == "" {
				e.Status = account.Posted
			}
			t, err := s.postTx(ctx, tx, op, e)
			if err != nil {
				return err
			}
			postingID = t.ID
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `
INSERT INTO reward_redemptions (account_id, cardholder_id, item_id, points, credit, currency, posting_id, idempotency_key, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id`, r.AccountID, r.CardholderID, r.ItemID, r.Points, r.Credit, r.Currency, nullID(postingID),
			r.IdempotencyKey, micros(r.CreatedAt)).Scan(&id); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if _, err := tx.ExecContext(ctx, `
INSERT INTO reward_points (account_id, kind, points, redemption_id, description, at)
VALUES ($1, $2, $3, $4, $5, $6)`, r.AccountID, string(rewards.Redeem), -r.Points, id,
			"rewards.item."+r.ItemCode, micros(r.CreatedAt)); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		out, err = scanRedemption(tx.QueryRowContext(ctx, `SELECT `+redemptionColumns+redemptionFrom+` WHERE r.id = $1`, id))
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
	if err != nil {
		return rewards.Redemption{}, err
	}
	return out, nil
}

// Redemptions lists the account's redemptions, newest first.
func (s *Store) Redemptions(ctx context.Context, accountID int64, limit int) ([]rewards.Redemption, error) {
	const op = "sqlstore.Redemptions"
	rows, err := s.read.QueryContext(ctx, `SELECT `+redemptionColumns+redemptionFrom+`
 WHERE r.account_id = $1 ORDER BY r.created_at DESC, r.id DESC`+limitClause(limit), accountID)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	out, err := collect(rows, scanRedemption)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// Redemption returns one of the account's redemptions.
func (s *Store) Redemption(ctx context.Context, accountID, id int64) (rewards.Redemption, error) {
	x, err := scanRedemption(s.read.QueryRowContext(ctx, `SELECT `+redemptionColumns+redemptionFrom+`
 WHERE r.account_id = $1 AND r.id = $2`, accountID, id))
	if err != nil {
		return rewards.Redemption{}, notFoundOr("sqlstore.Redemption", err)
	}
	return x, nil
}

// EarnRates reads every product's rates.
func (s *Store) EarnRates(ctx context.Context) (map[string]rewards.Rates, error) {
	const op = "sqlstore.EarnRates"
	rows, err := s.read.QueryContext(ctx, `SELECT p.code, r.mcc, r.points_per_100 FROM reward_rates r JOIN products p ON p.id = r.product_id`)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	out := map[string]rewards.Rates{}
	for rows.Next() {
		var (
			code, mcc string
			rate      int64
		)
		if err := rows.Scan(&code, &mcc, &rate); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		r := out[code]
		if mcc == "" {
			r.Base = rate
		} else {
			if r.Bonus == nil {
				r.Bonus = map[string]int64{}
			}
			r.Bonus[mcc] = rate
		}
		out[code] = r
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// UnrewardedPostings reads the queue that migration 00018's triggers fill in the
// posting's own transaction, so a posting that committed after a later id was swept is
// still found, and an idle sweep reads an empty table rather than the history. The
// NOT EXISTS guard skips a queued posting whose entry exists (it was queued again, or
// a sweep of an older version wrote the entry and left the row); such rows in the
// range read are deleted here, so they do not stay for ever.
func (s *Store) UnrewardedPostings(ctx context.Context, after int64, limit int) ([]rewards.Posting, error) {
	const op = "sqlstore.UnrewardedPostings"
	rows, err := s.read.QueryContext(ctx, `
SELECT p.id, p.account_id, COALESCE(p.card_id, 0), pr.code, p.kind, p.amount, p.merchant, p.mcc, p.description, p.posted_at
  FROM reward_queue q
  JOIN postings p ON p.id = q.posting_id
  JOIN accounts a ON a.id = p.account_id
  JOIN products pr ON pr.id = a.product_id
 WHERE q.posting_id > $1 AND p.kind IN ('purchase', 'refund') AND p.status = 'posted'
   AND NOT EXISTS (SELECT 1 FROM reward_points r WHERE r.posting_id = q.posting_id)
 ORDER BY q.posting_id`+limitClause(limit), after)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []rewards.Posting
	for rows.Next() {
		var (
			p    rewards.Posting
			kind string
			at   int64
		)
		if err := rows.Scan(&p.ID, &p.AccountID, &p.CardID, &p.ProductCode, &kind, &p.Amount, &p.Merchant, &p.MCC, &p.Description, &at); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		p.Kind, p.PostedAt = account.Kind(kind), fromMicros(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	// The range this page covered: up to its last posting, or the rest of the queue
	// when the page is not full.
	upto := int64(math.MaxInt64)
	if len(out) >= limit && len(out) > 0 {
		upto = out[len(out)-1].ID
	}
	if err := s.dropRewarded(ctx, after, upto); err != nil {
		return nil, err
	}
	return out, nil
}

// dropRewarded deletes the queue rows in (after, upto] whose posting has an entry. It
// looks first on the read pool, so that a sweep with nothing to drop (nearly every
// one) takes no write lock. The DELETE checks for the entry again itself: an entry is
// never deleted, so a row goes only once its posting is rewarded for good.
func (s *Store) dropRewarded(ctx context.Context, after, upto int64) error {
	const op = "sqlstore.UnrewardedPostings"
	const rewarded = ` FROM reward_queue
 WHERE posting_id > $1 AND posting_id <= $2
   AND EXISTS (SELECT 1 FROM reward_points r WHERE r.posting_id = reward_queue.posting_id)`
	var found bool
	err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1`+rewarded+`)`, after, upto).Scan(&found)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if !found {
		return nil
	}
	if _, err := s.write.ExecContext(ctx, `DELETE`+rewarded, after, upto); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// RefundCandidates reads the purchases a refund may be matched to, with what earlier
// reversals took from each.
func (s *Store) RefundCandidates(ctx context.Context, refund rewards.Posting) ([]rewards.Earned, error) {
	const op = "sqlstore.RefundCandidates"
	rows, err := s.read.QueryContext(ctx, `
SELECT p.id, p.amount, p.mcc, e.points, p.posted_at,
       COALESCE((SELECT -SUM(x.points) FROM reward_points x WHERE x.matched_id = p.id), 0)
  FROM postings p
  JOIN reward_points e ON e.posting_id = p.id
 WHERE p.account_id = $1 AND COALESCE(p.card_id, 0) = $2 AND p.kind = 'purchase' AND p.status = 'posted'
   AND p.merchant = $3 AND p.mcc = $4 AND p.posted_at <= $5`,
		refund.AccountID, refund.CardID, refund.Merchant, refund.MCC, micros(refund.PostedAt))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []rewards.Earned
	for rows.Next() {
		var (
			e  rewards.Earned
			at int64
		)
		if err := rows.Scan(&e.PostingID, &e.Amount, &e.MCC, &e.Points, &at, &e.Reversed); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		e.PostedAt = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// AddPoints inserts entries in one transaction, several rows a statement; ON CONFLICT
// (posting_id) DO NOTHING makes a second sweep of the same posting, on this instance
// or another, a no-op. The same transaction deletes the postings' queue rows (00018):
// after the INSERT every one of them has an entry, this transaction's or one another
// sweep committed, so a row is never deleted without its entry.
func (s *Store) AddPoints(ctx context.Context, es []rewards.Entry) (int, error) {
	const op = "sqlstore.AddPoints"
	const cols = 7
	limit := s.d.BatchParams
	if limit <= 0 {
		limit = defaultBatchParams
	}
	per := max(limit/cols, 1)
	n := 0
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		for rest := es; len(rest) > 0; {
			chunk := rest[:min(per, len(rest))]
			rest = rest[len(chunk):]
			var (
				b    strings.Builder
				args = make([]any, 0, len(chunk)*cols)
			)
			b.WriteString(`INSERT INTO reward_points (account_id, kind, points, posting_id, matched_id, description, at) VALUES `)
			for i, e := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", i*cols+1, i*cols+2, i*cols+3, i*cols+4, i*cols+5, i*cols+6, i*cols+7)
				args = append(args, e.AccountID, string(e.Kind), e.Points, e.PostingID, e.MatchedID, e.Description, micros(e.At))
			}
			b.WriteString(` ON CONFLICT (posting_id) DO NOTHING`)
			res, err := tx.ExecContext(ctx, b.String(), args...)
			if err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			n += int(k)
			b.Reset()
			args = args[:0]
			b.WriteString(`DELETE FROM reward_queue WHERE posting_id IN (`)
			for i, e := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", i+1)
				args = append(args, e.PostingID)
			}
			b.WriteString(`)`)
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
