package sqlstore

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/identity"
)

var _ alerts.JobStore = (*Store)(nil)

// AlertPrefs returns the settings the member has made.
func (s *Store) AlertPrefs(ctx context.Context, member identity.MemberID) (alerts.Prefs, error) {
	const op = "sqlstore.AlertPrefs"
	var exists bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE id = $1)`, int64(member)).Scan(&exists); err != nil {
		return alerts.Prefs{}, cp.E(op, cp.Internal, "", err)
	}
	if !exists {
		return alerts.Prefs{}, cp.E(op, cp.NotFound, "", nil)
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT kind, email, sms, push, amount, days FROM alert_prefs WHERE member_id = $1`, int64(member))
	if err != nil {
		return alerts.Prefs{}, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	p := alerts.Prefs{Settings: map[alerts.Kind]alerts.Setting{}}
	for rows.Next() {
		var (
			kind string
			v    alerts.Setting
		)
		if err := rows.Scan(&kind, &v.Email, &v.SMS, &v.Push, &v.Amount, &v.Days); err != nil {
			return alerts.Prefs{}, cp.E(op, cp.Internal, "", err)
		}
		p.Settings[alerts.Kind(kind)] = v
	}
	if err := rows.Err(); err != nil {
		return alerts.Prefs{}, cp.E(op, cp.Internal, "", err)
	}
	return p, nil
}

// SetAlertPrefs writes the given settings in one transaction.
func (s *Store) SetAlertPrefs(ctx context.Context, member identity.MemberID, settings map[alerts.Kind]alerts.Setting, at time.Time) error {
	const op = "sqlstore.SetAlertPrefs"
	return s.inTx(ctx, op, func(tx *poolTx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE id = $1)`, int64(member)).Scan(&exists); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if !exists {
			return cp.E(op, cp.NotFound, "", nil)
		}
		// In a fixed order, so two concurrent writers take row locks alike.
		for _, k := range alerts.Kinds {
			v, ok := settings[k]
			if !ok {
				continue
			}
			_, err := tx.ExecContext(ctx, `
INSERT INTO alert_prefs (member_id, kind, email, sms, push, amount, days, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (member_id, kind) DO UPDATE SET email = excluded.email, sms = excluded.sms, push = excluded.push,
       amount = excluded.amount, days = excluded.days, updated_at = excluded.updated_at`,
				int64(member), string(k), v.Email, v.SMS, v.Push, v.Amount, v.Days, micros(at))
			if err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
		}
		return nil
	})
}

// AlertContacts returns the member's email, phone and language.
func (s *Store) AlertContacts(ctx context.Context, member identity.MemberID) (alerts.Contacts, error) {
	const op = "sqlstore.AlertContacts"
	var c alerts.Contacts
	err := s.read.QueryRowContext(ctx, `SELECT email, phone, locale FROM members WHERE id = $1`, int64(member)).Scan(&c.Email, &c.Phone, &c.Locale)
	if err != nil {
		return alerts.Contacts{}, notFoundOr(op, err)
	}
	return c, nil
}

// DueStatements returns each account's latest statement due between from and to,
// with its registered basic card member and the payments and credits posted since
// it closed.
func (s *Store) DueStatements(ctx context.Context, from, to time.Time) ([]alerts.DueStatement, error) {
	const op = "sqlstore.DueStatements"
	rows, err := s.read.QueryContext(ctx, `
SELECT m.id, st.id, st.account_id, st.closing_date, st.due_date, st.minimum_due, st.currency
  FROM statements st
  JOIN cardholders h ON h.account_id = st.account_id AND h.basic
  JOIN members m ON m.cardholder_id = h.id
 WHERE st.due_date >= $1 AND st.due_date <= $2
   AND st.closing_date = (SELECT MAX(s2.closing_date) FROM statements s2 WHERE s2.account_id = st.account_id)
 ORDER BY st.id`, civilDate(from), civilDate(to))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	out := []alerts.DueStatement{}
	for rows.Next() {
		var (
			d            alerts.DueStatement
			closing, due string
		)
		if err := rows.Scan(&d.Member, &d.StatementID, &d.AccountID, &closing, &due, &d.MinimumDue, &d.Currency); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		if d.Due, err = fromCivilDate(due); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		c, err := fromCivilDate(closing)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		// Paid counts from the day after the cycle closed: what the statement covers
		// is already in its minimum due.
		d.Paid = c.AddDate(0, 0, 1).UnixMicro()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	rows.Close()
	for i := range out {
		var paid int64
		err := s.read.QueryRowContext(ctx, `
SELECT COALESCE(-SUM(amount), 0) FROM postings
 WHERE account_id = $1 AND kind = 'payment' AND status = 'posted' AND posted_at >= $2`, out[i].AccountID, out[i].Paid).Scan(&paid)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out[i].Paid = paid
	}
	return out, nil
}

// ClaimAlert records a job's alert once; the primary key decides between instances.
func (s *Store) ClaimAlert(ctx context.Context, member identity.MemberID, kind alerts.Kind, ref string, at time.Time) (bool, error) {
	const op = "sqlstore.ClaimAlert"
	res, err := s.write.ExecContext(ctx, `
INSERT INTO alert_log (member_id, kind, ref, sent_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (member_id, kind, ref) DO NOTHING`, int64(member), string(kind), ref, micros(at))
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, cp.E(op, cp.Internal, "", err)
	}
	return n == 1, nil
}

// Alertees returns, for each card of cardIDs that has any, the registered members
// who hear of its purchases: its holder and the account's basic card member, the
// basic member first. The cards are read in one transaction (see stmtPool.begin).
func (s *Store) Alertees(ctx context.Context, cardIDs []int64) (map[int64][]identity.MemberID, error) {
	const op = "sqlstore.Alertees"
	out := map[int64][]identity.MemberID{}
	if len(cardIDs) == 0 {
		return out, nil
	}
	tx, err := s.read.begin(ctx)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer tx.done(ctx)
	seen := make(map[int64]bool, len(cardIDs))
	for _, id := range cardIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		members, err := cardAlertees(ctx, tx, id)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		if len(members) > 0 {
			out[id] = members
		}
	}
	return out, nil
}

func cardAlertees(ctx context.Context, tx *poolTx, cardID int64) ([]identity.MemberID, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT m.id
  FROM cards c
  JOIN cardholders h ON h.account_id = c.account_id AND (h.basic OR h.id = c.cardholder_id)
  JOIN members m ON m.cardholder_id = h.id
 WHERE c.id = $1
 ORDER BY h.basic DESC, m.id`, cardID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identity.MemberID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, identity.MemberID(id))
	}
	return out, rows.Err()
}
