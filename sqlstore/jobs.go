package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/jobs"
)

var _ jobs.Store = (*Store)(nil)

// jobColumns is the column list every job query reads, in scanJob's order.
const jobColumns = `id, kind, payload, run_at, attempts, max_attempts, state, last_error, dedupe_key, lease_until, created_at, updated_at`

// queryRower and execer are what the statements shared between a single write and a
// transaction need of a *sql.DB or *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// EnqueueJob stores j as pending; see jobs.Store.
func (s *Store) EnqueueJob(ctx context.Context, j *jobs.Job, now time.Time) error {
	return s.insertJob(ctx, "sqlstore.EnqueueJob", s.write, j, now)
}

// insertJob inserts j through q, which may be a transaction that also writes the
// rows the job refers to.
func (s *Store) insertJob(ctx context.Context, op string, q queryRower, j *jobs.Job, now time.Time) error {
	if j.Kind == "" || j.MaxAttempts < 1 {
		return cp.E(op, cp.Invalid, "", nil)
	}
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	if j.Payload == nil {
		j.Payload = []byte{} // payload is NOT NULL
	}
	dedupe := sql.NullString{String: j.DedupeKey, Valid: j.DedupeKey != ""}
	err := q.QueryRowContext(ctx, `
INSERT INTO jobs (kind, payload, run_at, attempts, max_attempts, state, last_error, dedupe_key, lease_until, created_at, updated_at)
VALUES ($1, $2, $3, 0, $4, 'pending', '', $5, 0, $6, $6)
RETURNING id`,
		j.Kind, j.Payload, micros(j.RunAt), j.MaxAttempts, dedupe, micros(now)).Scan(&j.ID)
	if err != nil {
		if s.d.IsUniqueViolation(err, "jobs", "dedupe_key") {
			return cp.E(op, cp.Conflict, "", err)
		}
		return cp.E(op, cp.Internal, "", err)
	}
	j.State, j.Attempts, j.LastError, j.LeaseUntil = jobs.Pending, 0, "", time.Time{}
	j.CreatedAt, j.UpdatedAt = fromMicros(micros(now)), fromMicros(micros(now))
	j.RunAt = fromMicros(micros(j.RunAt))
	return nil
}

// ClaimJobs takes due jobs for one worker; see jobs.Store. The candidates are chosen
// with the dialect's SkipLocked suffix inside the write transaction: on PostgreSQL a
// concurrent claimer skips the rows this one has locked and takes the next ones, and
// on SQLite the IMMEDIATE transaction keeps every other writer out until it commits.
func (s *Store) ClaimJobs(ctx context.Context, kinds []string, now time.Time, lease time.Duration, n int) ([]jobs.Job, error) {
	const op = "sqlstore.ClaimJobs"
	if len(kinds) == 0 || n < 1 {
		return nil, nil
	}
	var claimed []jobs.Job
	err := s.inTx(ctx, op, func(tx *poolTx) error {
		// A worker that died on a job's last attempt leaves it running; once the
		// lease is over, it has failed.
		kindIn, args := inList("kind", 2, kinds)
		if _, err := tx.ExecContext(ctx, `
UPDATE jobs SET state = 'failed', last_error = 'lease expired on the last attempt', lease_until = 0, updated_at = $1
 WHERE state = 'running' AND lease_until <= $1 AND attempts >= max_attempts AND `+kindIn,
			append([]any{micros(now)}, args...)...); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		rows, err := tx.QueryContext(ctx, `
SELECT id FROM jobs
 WHERE `+kindIn+`
   AND ((state = 'pending' AND run_at <= $1) OR (state = 'running' AND lease_until <= $1))
 ORDER BY run_at, id`+limitClause(n)+s.d.SkipLocked, append([]any{micros(now)}, args...)...)
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return cp.E(op, cp.Internal, "", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		if len(ids) == 0 {
			return nil
		}
		idIn, idArgs := inList("id", 3, ids)
		rows, err = tx.QueryContext(ctx, `
UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $2, updated_at = $1
 WHERE `+idIn+`
RETURNING `+jobColumns, append([]any{micros(now), micros(now.Add(lease))}, idArgs...)...)
		if err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				return cp.E(op, cp.Internal, "", err)
			}
			claimed = append(claimed, j)
		}
		if err := rows.Err(); err != nil {
			return cp.E(op, cp.Internal, "", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// RETURNING promises no order.
	slices.SortFunc(claimed, func(a, b jobs.Job) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return claimed, nil
}

// CompleteJob marks a claimed job done; see jobs.Store.
func (s *Store) CompleteJob(ctx context.Context, id int64, attempt int, now time.Time) error {
	const op = "sqlstore.CompleteJob"
	res, err := s.write.ExecContext(ctx, `
UPDATE jobs SET state = 'done', lease_until = 0, updated_at = $3
 WHERE id = $1 AND state = 'running' AND attempts = $2`, id, attempt, micros(now))
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return s.claimHeld(ctx, op, id, res)
}

// FailJob records a failed attempt; see jobs.Store.
func (s *Store) FailJob(ctx context.Context, id int64, attempt int, now, retryAt time.Time, lastError string) error {
	const op = "sqlstore.FailJob"
	var (
		res sql.Result
		err error
	)
	if retryAt.IsZero() {
		res, err = s.write.ExecContext(ctx, `
UPDATE jobs SET state = 'failed', last_error = $3, lease_until = 0, updated_at = $4
 WHERE id = $1 AND state = 'running' AND attempts = $2`, id, attempt, lastError, micros(now))
	} else {
		res, err = s.write.ExecContext(ctx, `
UPDATE jobs SET state = 'pending', run_at = $5, last_error = $3, lease_until = 0, updated_at = $4
 WHERE id = $1 AND state = 'running' AND attempts = $2`, id, attempt, lastError, micros(now), micros(retryAt))
	}
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return s.claimHeld(ctx, op, id, res)
}

// claimHeld turns an update that matched no row into NotFound (no such job) or
// Conflict (the claim is no longer the current one).
func (s *Store) claimHeld(ctx context.Context, op string, id int64, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if n > 0 {
		return nil
	}
	var one int
	if err := s.write.QueryRowContext(ctx, `SELECT 1 FROM jobs WHERE id = $1`, id).Scan(&one); err != nil {
		return notFoundOr(op, err)
	}
	return cp.E(op, cp.Conflict, "", nil)
}

// JobStats counts jobs by kind and state; see jobs.Store.
func (s *Store) JobStats(ctx context.Context) ([]jobs.Stats, error) {
	const op = "sqlstore.JobStats"
	rows, err := s.read.QueryContext(ctx, `
SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []jobs.Stats
	for rows.Next() {
		var (
			st    jobs.Stats
			state string
		)
		if err := rows.Scan(&st.Kind, &state, &st.Count); err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		st.State = jobs.State(state)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// ListJobs lists jobs for operators; see jobs.Store.
func (s *Store) ListJobs(ctx context.Context, f jobs.Filter, limit int) ([]jobs.Job, error) {
	const op = "sqlstore.ListJobs"
	if limit < 1 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT `+jobColumns+` FROM jobs
 WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR state = $2)
 ORDER BY updated_at DESC, id DESC`+limitClause(limit), f.Kind, string(f.State))
	if err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	defer rows.Close()
	var out []jobs.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, cp.E(op, cp.Internal, "", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, cp.E(op, cp.Internal, "", err)
	}
	return out, nil
}

// inList writes "column IN ($first, $first+1, ...)" for vals and returns it with the
// arguments to bind, for the statements whose list of values varies.
func inList[T any](column string, first int, vals []T) (string, []any) {
	ph := make([]string, len(vals))
	args := make([]any, len(vals))
	for i, v := range vals {
		ph[i] = "$" + strconv.Itoa(first+i)
		args[i] = v
	}
	return column + " IN (" + strings.Join(ph, ", ") + ")", args
}

func scanJob(rows *sql.Rows) (jobs.Job, error) {
	var (
		j                                   jobs.Job
		state                               string
		dedupe                              sql.NullString
		runAt, leaseUntil, created, updated int64
	)
	if err := rows.Scan(&j.ID, &j.Kind, &j.Payload, &runAt, &j.Attempts, &j.MaxAttempts, &state, &j.LastError,
		&dedupe, &leaseUntil, &created, &updated); err != nil {
		return jobs.Job{}, err
	}
	j.State = jobs.State(state)
	j.DedupeKey = dedupe.String
	j.RunAt, j.LeaseUntil = fromMicros(runAt), fromMicros(leaseUntil)
	j.CreatedAt, j.UpdatedAt = fromMicros(created), fromMicros(updated)
	return j, nil
}
