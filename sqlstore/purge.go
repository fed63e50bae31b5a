package sqlstore

import (
	"context"
	"time"

	cp "github.com/cardportal/cardportal"
)

// Purge deletes rows that can no longer affect anything: throttle windows that have
// ended, flows past their expiry, and sessions that ended (revoked or expired) and
// jobs that finished successfully more than keep ago. Failed jobs stay for operators;
// the security history is not touched: it is the member's record.
// Deleting is idempotent, so any number of instances may run it.
func (s *Store) Purge(ctx context.Context, now time.Time, keep time.Duration) (int64, error) {
	const op = "sqlstore.Purge"
	n := now.UnixMicro()
	old := now.Add(-keep).UnixMicro()
	var total int64
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM throttle WHERE window_end <= $1`, []any{n}},
		{`DELETE FROM flows WHERE expires_at <= $1`, []any{n}},
		{`DELETE FROM stepup_flows WHERE expires_at <= $1`, []any{n}}, // step-up flows too
		// Passkey ceremonies never answered: passkey.go.
		{`DELETE FROM webauthn_challenges WHERE expires_at <= $1`, []any{n}},
		// Password resets past their hour (used or not) are dead: recovery.go.
		{`DELETE FROM password_resets WHERE expires_at <= $1`, []any{n}},
		{`DELETE FROM sessions WHERE expires_at <= $1 OR (revoked_at > 0 AND revoked_at <= $1)`, []any{old}},
		{`DELETE FROM jobs WHERE state = 'done' AND updated_at <= $1`, []any{old}},
	} {
		res, err := s.write.ExecContext(ctx, q.sql, q.args...)
		if err != nil {
			return total, cp.E(op, cp.Internal, "", err)
		}
		k, _ := res.RowsAffected()
		total += k
	}
	return total, nil
}
