package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
)

func TestBackoffDelay(t *testing.T) {
	b := jobs.DefaultBackoff
	tests := []struct {
		name    string
		attempt int
		r       float64
		want    time.Duration
	}{
		{"first failure", 1, 0, 30 * time.Second},
		{"second", 2, 0, time.Minute},
		{"fifth", 5, 0, 8 * time.Minute},
		{"seventh", 7, 0, 32 * time.Minute},
		{"capped", 8, 0, time.Hour},
		{"far past the cap", 60, 0, time.Hour},
		{"half jitter takes a tenth", 1, 0.5, 27 * time.Second},
		{"jitter on the cap", 9, 0.5, 54 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.Delay(tt.attempt, tt.r); got != tt.want {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("550 no such user")
	p := jobs.Permanent(base)
	if !jobs.IsPermanent(p) || !errors.Is(p, base) || p.Error() != base.Error() {
		t.Errorf("Permanent(%v) = %v: permanent %v, wraps %v", base, p, jobs.IsPermanent(p), errors.Is(p, base))
	}
	if jobs.IsPermanent(base) || jobs.IsPermanent(nil) || jobs.Permanent(nil) != nil {
		t.Error("an unmarked error counts as permanent")
	}
	if !jobs.IsPermanent(errors.Join(errors.New("x"), p)) {
		t.Error("a joined permanent error is not permanent")
	}
}

func newClock() *cardportaltest.Clock {
	return cardportaltest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}
func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// counter reads one value of a counter vector from reg.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

type env struct {
	store   *sqlstore.Store
	clock   *cardportaltest.Clock
	reg     *prometheus.Registry
	runner  *jobs.Runner
	logs    *bytes.Buffer
	calls   []int // attempts seen by the handler
	results []error
}

// newEnv returns a runner for kind "k" whose handler answers with results in turn
// (nil once they run out).
func newEnv(t *testing.T, results ...error) *env {
	e := &env{store: openStore(t), clock: newClock(), reg: prometheus.NewRegistry(), logs: new(bytes.Buffer), results: results}
	e.runner = &jobs.Runner{
		Store: e.store,
		Handlers: map[string]jobs.Handler{"k": func(ctx context.Context, j jobs.Job) error {
			e.calls = append(e.calls, j.Attempts)
			if len(e.results) == 0 {
				return nil
			}
			r := e.results[0]
			e.results = e.results[1:]
			if r != nil && r.Error() == "panic" {
				panic("handler bug")
			}
			return r
		}},
		Now:     e.clock.Now,
		Rand:    func() float64 { return 0 },
		Log:     slog.New(slog.NewJSONHandler(e.logs, nil)),
		Metrics: jobs.NewMetrics(e.reg),
	}
	return e
}

func (e *env) enqueue(t *testing.T, max int) jobs.Job {
	t.Helper()
	j := jobs.Job{Kind: "k", MaxAttempts: max, Payload: []byte("{}")}
	if err := e.store.EnqueueJob(t.Context(), &j, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.runner.Metrics.Enqueued("k")
	return j
}

func (e *env) runOnce(t *testing.T) int {
	t.Helper()
	n, err := e.runner.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func (e *env) job(t *testing.T, id int64) jobs.Job {
	t.Helper()
	all, err := e.store.ListJobs(t.Context(), jobs.Filter{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range all {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("job %d not listed", id)
	return jobs.Job{}
}

func (e *env) outcomes(t *testing.T) map[string]float64 {
	got := map[string]float64{}
	for _, o := range []string{"succeeded", "retried", "failed"} {
		if v := counter(t, e.reg, "cardportal_jobs_finished_total", map[string]string{"kind": "k", "outcome": o}); v != 0 {
			got[o] = v
		}
	}
	if v := counter(t, e.reg, "cardportal_jobs_enqueued_total", map[string]string{"kind": "k"}); v != 0 {
		got["enqueued"] = v
	}
	return got
}

func TestRunner(t *testing.T) {
	transient := errors.New("connection refused")
	tests := []struct {
		name        string
		max         int
		results     []error
		runs        int // RunOnce calls, each after the backoff of the previous failure
		wantCalls   []int
		wantState   jobs.State
		wantErr     string
		wantMetrics map[string]float64
	}{
		{"succeeds at once", 3, nil, 1, []int{1}, jobs.Done, "", map[string]float64{"enqueued": 1, "succeeded": 1}},
		{"retried then succeeds", 3, []error{transient, transient}, 3, []int{1, 2, 3}, jobs.Done, "connection refused",
			map[string]float64{"enqueued": 1, "retried": 2, "succeeded": 1}},
		{"gives up after max attempts", 3, []error{transient, transient, transient}, 5, []int{1, 2, 3}, jobs.Failed, "connection refused",
			map[string]float64{"enqueued": 1, "retried": 2, "failed": 1}},
		{"permanent error fails at once", 5, []error{jobs.Permanent(errors.New("550 no such user"))}, 3, []int{1}, jobs.Failed, "550 no such user",
			map[string]float64{"enqueued": 1, "failed": 1}},
		{"a panic is retried", 3, []error{errors.New("panic")}, 2, []int{1, 2}, jobs.Done, "handler panicked: handler bug",
			map[string]float64{"enqueued": 1, "retried": 1, "succeeded": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.results...)
			j := e.enqueue(t, tt.max)
			for run := range tt.runs {
				e.runOnce(t)
				if run < tt.runs-1 {
					// Nothing is due again before the backoff has passed.
					if n := e.runOnce(t); n != 0 {
						t.Fatalf("run %d: %d jobs claimed again before the backoff", run, n)
					}
					e.clock.Add(jobs.DefaultBackoff.Delay(run+1, 0))
				}
			}
			if diff := cmp.Diff(tt.wantCalls, e.calls); diff != "" {
				t.Errorf("attempts seen by the handler (-want +got):\n%s", diff)
			}
			got := e.job(t, j.ID)
			if got.State != tt.wantState || got.LastError != tt.wantErr {
				t.Errorf("job ends %s with error %q, want %s with %q", got.State, got.LastError, tt.wantState, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantMetrics, e.outcomes(t)); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunnerBackoffSchedule checks that retries are spaced by the backoff: the job
// is not claimed a microsecond before its retry time, and is at it.
func TestRunnerBackoffSchedule(t *testing.T) {
	fail := errors.New("down")
	e := newEnv(t, fail, fail, fail, fail)
	e.runner.Backoff = jobs.Backoff{Base: 10 * time.Second, Max: 25 * time.Second}
	e.enqueue(t, 10)
	e.runOnce(t)
	for i, wait := range []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second, 25 * time.Second} {
		e.clock.Add(wait - time.Microsecond)
		if n := e.runOnce(t); n != 0 {
			t.Fatalf("retry %d ran before %v", i+1, wait)
		}
		e.clock.Add(time.Microsecond)
		if n := e.runOnce(t); n != 1 {
			t.Fatalf("retry %d did not run after %v", i+1, wait)
		}
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, e.calls); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

// TestRunGracefulStop runs the polling loop for real and checks that it does the work
// and returns when its context ends.
func TestRunGracefulStop(t *testing.T) {
	e := newEnv(t)
	e.runner.Now = time.Now
	e.runner.Poll = 5 * time.Millisecond
	done := make(chan struct{})
	e.runner.Handlers["k"] = func(ctx context.Context, j jobs.Job) error { close(done); return nil }
	j := jobs.Job{Kind: "k", MaxAttempts: 1}
	if err := e.store.EnqueueJob(t.Context(), &j, time.Now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error)
	go func() { stopped <- e.runner.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the job did not run")
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if got := e.job(t, j.ID); got.State != jobs.Done {
		t.Errorf("job state %s, want done", got.State)
	}
}
