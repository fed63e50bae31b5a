// Package jobs is cardportal's persistent job queue for background work: notification
// delivery now, statement close and scheduled payments later. Jobs live in the
// database, so they survive a restart, and a Store hands each due job to exactly one
// worker even when several instances share the database. A Runner polls the Store,
// runs each job's handler, retries failures with exponential backoff and gives up
// after MaxAttempts, leaving the job failed for an operator to see.
package jobs

import (
	"context"
	"errors"
	"time"
)

// State is where a job is in its life.
type State string

// States. A job starts pending, is running while a worker holds its lease, and ends
// done or failed; a failure that will be retried goes back to pending.
const (
	Pending State = "pending"
	Running State = "running"
	Done    State = "done"
	Failed  State = "failed"
)

// Job is one unit of background work.
type Job struct {
	ID      int64
	Kind    string // selects the handler, e.g. "notify.deliver"
	Payload []byte // the handler's input; references, never secrets
	// RunAt is when the job is due: when it was enqueued (or later, for scheduled
	// work) and, after a failure, when it is retried.
	RunAt time.Time
	// Attempts counts the times the job was claimed, including the current one while
	// it runs. It doubles as the claim's fencing token: Complete and Fail name it, so
	// a worker whose lease expired cannot overwrite the outcome of the next claim.
	Attempts    int
	MaxAttempts int
	State       State
	// LastError is the error of the last failed attempt, as an operator reads it. It
	// comes from error strings that never hold a message body, code or credential.
	LastError string
	// DedupeKey, when set, is unique among all jobs: enqueuing a second job with the
	// same key is refused, so a retried enqueue cannot do the work twice.
	DedupeKey  string
	LeaseUntil time.Time // while Running: when another worker may take the job over
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Stats counts the jobs of one kind in one state.
type Stats struct {
	Kind  string
	State State
	Count int
}

// Filter selects jobs to list; empty fields match everything.
type Filter struct {
	Kind  string
	State State
}

// Store keeps the jobs. Errors are *cardportal.Error values with the kinds stated.
type Store interface {
	// EnqueueJob stores j as pending and sets j.ID, j.State, j.CreatedAt and
	// j.UpdatedAt (to now). A zero RunAt means now. Returns Conflict if j.DedupeKey is
	// set and a job with that key already exists; the existing job is unchanged.
	EnqueueJob(ctx context.Context, j *Job, now time.Time) error
	// ClaimJobs atomically takes up to n jobs of the given kinds that are due at now
	// (pending with RunAt <= now, or running with an expired lease), oldest RunAt
	// first, marks them running with a lease until now+lease, increments their
	// Attempts and returns them. Concurrent callers, in this process or another
	// sharing the database, never receive the same claim. A running job whose lease
	// expired on its last attempt is marked failed instead of being claimed. No kinds
	// claims nothing.
	ClaimJobs(ctx context.Context, kinds []string, now time.Time, lease time.Duration, n int) ([]Job, error)
	// CompleteJob marks the job done. attempt is the Attempts of the claim being
	// completed; returns Conflict if the job is not running under that claim (its lease
	// expired and someone else took it), NotFound if there is no such job.
	CompleteJob(ctx context.Context, id int64, attempt int, now time.Time) error
	// FailJob records a failed attempt with its error. A non-zero retryAt makes the job
	// pending again from then; the zero time fails it for good. Same errors as
	// CompleteJob.
	FailJob(ctx context.Context, id int64, attempt int, now, retryAt time.Time, lastError string) error
	// JobStats counts jobs by kind and state, ordered by kind then state.
	JobStats(ctx context.Context) ([]Stats, error)
	// ListJobs returns the jobs f selects, most recently updated first, at most limit
	// (none for a limit below one).
	ListJobs(ctx context.Context, f Filter, limit int) ([]Job, error)
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the Runner fails the job at once instead of retrying:
// for a rejected recipient or a malformed payload, trying again only repeats the
// failure. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// LastAttempt reports whether a failure of the current claim of j ends it: the
// Runner does not retry a job that has used MaxAttempts. Handlers that record their
// own outcome (such as a message's delivery state) use it to tell "will retry" from
// "failed".
func (j Job) LastAttempt() bool { return j.Attempts >= j.MaxAttempts }
