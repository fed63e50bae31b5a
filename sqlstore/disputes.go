package sqlstore

import (
	"context"
	"fmt"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
)

var _ disputes.Store = (*Store)(nil)

// memberScope limits postings p (joined with their card c) to what member $1 may see:
// the whole account for the basic card member, their own cards' for an additional
// one, as Transactions does.
const memberScope = `
  JOIN members m ON m.id = $1
  JOIN cardholders me ON me.id = m.cardholder_id AND me.account_id = p.account_id
 WHERE (me.basic OR c.cardholder_id = me.id)`

// MemberTransaction returns a transaction the member may see.
func (s *Store) MemberTransaction(ctx context.Context, member identity.MemberID, postingID int64) (account.Transaction, error) {
	const op = "sqlstore.MemberTransaction"
	t, err := scanTransaction(s.read.QueryRowContext(ctx, `SELECT `+txColumns+txFrom+memberScope+` AND p.id = $2`, int64(member), postingID))
	if err != nil {
		return account.Transaction{}, notFoundOr(op, err)
	}
	return t, nil
}

const disputeSelect = `SELECT d.id, d.account_id, d.posting_id, d.member_id, d.reason, d.detail, d.status, d.amount,
       d.currency, d.credit_posting_id, d.reversal_posting_id, d.created_at, d.updated_at, ` + txColumns + `
  FROM disputes d
  JOIN postings p ON p.id = d.posting_id
  JOIN accounts a ON a.id = p.account_id
  LEFT JOIN cards c ON c.id = p.card_id
  LEFT JOIN cardholders h ON h.id = c.cardholder_id`

func scanDispute(r rowScanner) (disputes.Dispute, error) {
	var (
		d                      disputes.Dispute
		member                 int64
		reason, status         string
		created, updated       int64
		kind, channel, tstatus string
		textArgs               string
		postedAt               int64
		t                      = &d.Transaction
	)
	if err := r.Scan(&d.ID, &d.AccountID, &d.PostingID, &member, &reason, &d.Detail, &status, &d.Amount,
		&d.Currency, &d.CreditPostingID, &d.ReversalPostingID, &created, &updated,
		&t.ID, &t.AccountID, &t.CardID, &t.CardLast, &t.HolderName, &kind, &t.Amount, &t.Currency,
		&t.Description, &t.TextID, &textArgs, &t.Merchant, &t.MCC, &t.City, &t.Country, &channel, &tstatus, &postedAt); err != nil {
		return disputes.Dispute{}, err
	}
	var err error
	if t.TextArgs, err = decodeTextArgs(textArgs); err != nil {
		return disputes.Dispute{}, err
	}
	d.MemberID, d.Reason, d.Status = identity.MemberID(member), disputes.Reason(reason), disputes.Status(status)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	t.Kind, t.Channel, t.Status, t.PostedAt = account.Kind(kind), account.Channel(channel), account.Status(tstatus), fromMicros(postedAt)
	return d, nil
}

func (s *Store) disputeList(ctx context.Context, op, query string, args ...any) ([]disputes.Dispute, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	out, err := collect(rows, scanDispute)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// CreateDispute stores a dispute; the partial unique index disputes_one_open refuses
// a second unresolved one for the same posting, whatever the concurrency.
func (s *Store) CreateDispute(ctx context.Context, d *disputes.Dispute) error {
	const op = "sqlstore.CreateDispute"
	err := s.write.QueryRowContext(ctx, `
INSERT INTO disputes (account_id, posting_id, member_id, reason, detail, status, amount, currency, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING id`, d.AccountID, d.PostingID, int64(d.MemberID), string(d.Reason), d.Detail, string(d.Status), d.Amount, d.Currency,
		micros(d.CreatedAt), micros(d.UpdatedAt)).Scan(&d.ID)
	if err != nil {
		if s.d.IsUniqueViolation(err, "disputes", "") {
			return cp.E(op, cp.Conflict, "dispute.exists", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// SetDisputeCredit records the provisional credit's posting.
func (s *Store) SetDisputeCredit(ctx context.Context, id, postingID int64, at time.Time) error {
	const op = "sqlstore.SetDisputeCredit"
	res, err := s.write.ExecContext(ctx, `UPDATE disputes SET credit_posting_id = $1, updated_at = $2 WHERE id = $3`, postingID, micros(at), id)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return mustAffect(op, res)
}

// SetDisputeStatus moves a dispute on if it is still in from.
func (s *Store) SetDisputeStatus(ctx context.Context, id int64, from, to disputes.Status, reversalID int64, at time.Time) error {
	const op = "sqlstore.SetDisputeStatus"
	res, err := s.write.ExecContext(ctx, `
UPDATE disputes SET status = $1, updated_at = $2,
       reversal_posting_id = CASE WHEN CAST($3 AS BIGINT) <> 0 THEN CAST($3 AS BIGINT) ELSE reversal_posting_id END
 WHERE id = $4 AND status = $5`, string(to), micros(at), reversalID, id, string(from))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if err := mustAffect(op, res); err == nil || !cp.IsKind(err, cp.NotFound) {
		return err
	}
	var exists bool
	if err := s.write.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM disputes WHERE id = $1)`, id).Scan(&exists); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if !exists {
		return cp.E(op, cp.NotFound, "", nil)
	}
	return cp.E(op, cp.Conflict, "", fmt.Errorf("dispute %d is no longer %s", id, from))
}

// Dispute returns a dispute by id.
func (s *Store) Dispute(ctx context.Context, id int64) (disputes.Dispute, error) {
	d, err := scanDispute(s.read.QueryRowContext(ctx, disputeSelect+` WHERE d.id = $1`, id))
	if err != nil {
		return disputes.Dispute{}, notFoundOr("sqlstore.Dispute", err)
	}
	return d, nil
}

// MemberDispute returns a dispute whose transaction the member may see.
func (s *Store) MemberDispute(ctx context.Context, member identity.MemberID, id int64) (disputes.Dispute, error) {
	d, err := scanDispute(s.read.QueryRowContext(ctx, disputeSelect+memberScope+` AND d.id = $2`, int64(member), id))
	if err != nil {
		return disputes.Dispute{}, notFoundOr("sqlstore.MemberDispute", err)
	}
	return d, nil
}

// MemberDisputes lists the disputes of transactions the member may see, newest first.
func (s *Store) MemberDisputes(ctx context.Context, member identity.MemberID) ([]disputes.Dispute, error) {
	return s.disputeList(ctx, "sqlstore.MemberDisputes", disputeSelect+memberScope+` ORDER BY d.created_at DESC, d.id DESC`, int64(member))
}

// PostingDisputes returns the member-visible disputes of one transaction.
func (s *Store) PostingDisputes(ctx context.Context, member identity.MemberID, postingID int64) ([]disputes.Dispute, error) {
	return s.disputeList(ctx, "sqlstore.PostingDisputes", disputeSelect+memberScope+` AND d.posting_id = $2 ORDER BY d.created_at DESC, d.id DESC`, int64(member), postingID)
}
