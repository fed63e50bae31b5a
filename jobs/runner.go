package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	cp "github.com/cardportal/cardportal"
)

// Handler does the work of one job. An error makes the Runner retry the job later,
// unless it is marked Permanent or the job has no attempts left. Handlers must be
// idempotent: a job whose worker dies after the work but before recording it runs
// again once its lease expires.
type Handler func(ctx context.Context, j Job) error

// Backoff spaces out the retries of a failing job: Base after the first failure,
// doubling with each further one, never more than Max. Jitter (0..1) takes up to that
// fraction off each delay at random, so jobs that failed together (a transport
// outage) do not all retry in the same instant.
type Backoff struct {
	Base   time.Duration
	Max    time.Duration
	Jitter float64
}

// DefaultBackoff retries after about 30s, 1m, 2m, 4m ... up to an hour.
var DefaultBackoff = Backoff{Base: 30 * time.Second, Max: time.Hour, Jitter: 0.2}

// Delay is the wait after the failed attempt number attempt (1 for the first), with
// r in [0, 1) choosing the jitter.
func (b Backoff) Delay(attempt int, r float64) time.Duration {
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	return d - time.Duration(float64(d)*b.Jitter*r)
}

// Runner runs the jobs of the kinds it has handlers for. Any number of Runners, in
// one process or many, may share a Store: each claimed job runs on one of them. One
// Runner works through its batch one job at a time; for parallel work, start several
// (each from its own goroutine: a Runner is not for concurrent use).
type Runner struct {
	Store    Store
	Handlers map[string]Handler
	// Poll is the pause between claims when there was nothing to do (default 1s).
	Poll time.Duration
	// Timeout bounds one handler call (default 1m).
	Timeout time.Duration
	// Lease is how long a claimed job is reserved for its worker (default 5m). It
	// must outlast Timeout, or a slow job would be handed to a second worker while
	// the first is still at it.
	Lease time.Duration
	// Batch is the most jobs claimed at once (default 10).
	Batch   int
	Backoff Backoff          // zero means DefaultBackoff
	Now     func() time.Time // default time.Now
	Rand    func() float64   // jitter source in [0, 1); default math/rand/v2
	Log     *slog.Logger
	Metrics *Metrics // may be nil
}

func (r *Runner) defaults() {
	if r.Poll <= 0 {
		r.Poll = time.Second
	}
	if r.Timeout <= 0 {
		r.Timeout = time.Minute
	}
	if r.Lease <= r.Timeout {
		r.Lease = max(5*time.Minute, 2*r.Timeout)
	}
	if r.Batch <= 0 {
		r.Batch = 10
	}
	if r.Backoff == (Backoff{}) {
		r.Backoff = DefaultBackoff
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Rand == nil {
		r.Rand = rand.Float64
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
}

func (r *Runner) kinds() []string {
	kinds := make([]string, 0, len(r.Handlers))
	for k := range r.Handlers {
		kinds = append(kinds, k)
	}
	return kinds
}

// Run works until ctx is cancelled, then returns nil once the job in hand (if any) is
// finished: a handler is not interrupted by shutdown, only by its Timeout, so a
// message is not cut off half-sent.
func (r *Runner) Run(ctx context.Context) error {
	r.defaults()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := r.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.Log.ErrorContext(ctx, "claim jobs", "err", err)
		}
		wait := r.Poll
		if n == r.Batch {
			wait = 0 // a full batch: there may be more waiting
		}
		t.Reset(wait)
	}
}

// RunOnce claims one batch of due jobs and runs them in turn, returning how many it
// claimed. Tests drive it directly with an injected clock.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	r.defaults()
	kinds := r.kinds()
	if len(kinds) == 0 {
		return 0, nil
	}
	claimed, err := r.Store.ClaimJobs(ctx, kinds, r.Now(), r.Lease, r.Batch)
	if err != nil {
		return 0, err
	}
	for i, j := range claimed {
		if ctx.Err() != nil {
			r.release(claimed[i:])
			break
		}
		r.run(context.WithoutCancel(ctx), j)
	}
	return len(claimed), nil
}

// release hands back claimed jobs that shutdown kept from starting, so another
// instance can run them now instead of after their lease runs out.
func (r *Runner) release(js []Job) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := r.Now()
	for _, j := range js {
		if err := r.Store.FailJob(ctx, j.ID, j.Attempts, now, now, "not started: shutting down"); err != nil {
			r.Log.WarnContext(ctx, "release job", "job", j.ID, "err", err)
		}
	}
}

// maxErrorLen caps a stored LastError; transport errors can quote long server replies.
const maxErrorLen = 500

func (r *Runner) run(ctx context.Context, j Job) {
	hctx, cancel := context.WithTimeout(ctx, r.Timeout)
	err := r.call(hctx, j)
	cancel()
	log := r.Log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "max_attempts", j.MaxAttempts)
	now := r.Now()
	if err == nil {
		if err := r.Store.CompleteJob(ctx, j.ID, j.Attempts, now); err != nil {
			r.lost(ctx, log, err)
			return
		}
		r.Metrics.observe(j.Kind, outcomeSucceeded)
		return
	}
	msg := err.Error()
	if len(msg) > maxErrorLen {
		n := maxErrorLen
		for n > 0 && msg[n]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			n--
		}
		msg = msg[:n]
	}
	var retryAt time.Time
	if !IsPermanent(err) && !j.LastAttempt() {
		retryAt = now.Add(r.Backoff.Delay(j.Attempts, r.Rand()))
	}
	if ferr := r.Store.FailJob(ctx, j.ID, j.Attempts, now, retryAt, msg); ferr != nil {
		r.lost(ctx, log, ferr)
		return
	}
	if retryAt.IsZero() {
		r.Metrics.observe(j.Kind, outcomeFailed)
		log.ErrorContext(ctx, "job failed", "err", msg, "permanent", IsPermanent(err))
		return
	}
	r.Metrics.observe(j.Kind, outcomeRetried)
	log.WarnContext(ctx, "job will be retried", "err", msg, "retry_at", retryAt)
}

// call runs the handler, turning a panic into an error so that one bad job cannot
// take the process down, and is retried like any other failure.
func (r *Runner) call(ctx context.Context, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return r.Handlers[j.Kind](ctx, j)
}

// lost logs an outcome that could not be recorded. Conflict means the lease ran out
// and another worker owns the job now; the job is not lost, its outcome is redone.
func (r *Runner) lost(ctx context.Context, log *slog.Logger, err error) {
	if cp.IsKind(err, cp.Conflict) {
		log.WarnContext(ctx, "job lease expired before it finished", "err", err)
		return
	}
	log.ErrorContext(ctx, "record job outcome", "err", err)
}
