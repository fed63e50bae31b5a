package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/notify"
)

// jobLease is the claim lease the job tests use.
const jobLease = 5 * time.Minute

func enqueueJob(t *testing.T, s jobs.Store, j jobs.Job, now time.Time) jobs.Job {
	t.Helper()
	if err := s.EnqueueJob(t.Context(), &j, now); err != nil {
		t.Fatalf("EnqueueJob(%s): %v", j.Kind, err)
	}
	return j
}

func claimJobs(t *testing.T, s jobs.Store, now time.Time, n int, kinds ...string) []jobs.Job {
	t.Helper()
	got, err := s.ClaimJobs(t.Context(), kinds, now, jobLease, n)
	if err != nil {
		t.Fatalf("ClaimJobs: %v", err)
	}
	return got
}

func jobIDs(js []jobs.Job) []int64 {
	out := []int64{}
	for _, j := range js {
		out = append(out, j.ID)
	}
	return out
}

func wantJobErr(t *testing.T, what string, err error, k cp.Kind) {
	t.Helper()
	if !cp.IsKind(err, k) {
		t.Errorf("%s: err = %v, want kind %v", what, err, k)
	}
}

func testJobsEnqueue(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	j := enqueueJob(t, s, jobs.Job{Kind: "a", Payload: []byte(`{"x":1}`), MaxAttempts: 3, DedupeKey: "k1"}, Base)
	want := jobs.Job{ID: j.ID, Kind: "a", Payload: []byte(`{"x":1}`), RunAt: Base, MaxAttempts: 3, State: jobs.Pending,
		DedupeKey: "k1", CreatedAt: Base, UpdatedAt: Base}
	if j.ID == 0 {
		t.Fatal("EnqueueJob left ID 0")
	}
	if diff := cmp.Diff(want, j); diff != "" {
		t.Errorf("enqueued job (-want +got):\n%s", diff)
	}
	listed, err := s.ListJobs(ctx, jobs.Filter{}, 10)
	if err != nil {
		t.Fatalf("ListJobs: %v", err)
	}
	if diff := cmp.Diff([]jobs.Job{want}, listed); diff != "" {
		t.Errorf("ListJobs (-want +got):\n%s", diff)
	}

	tests := []struct {
		name string
		job  jobs.Job
		want cp.Kind
	}{
		{"same dedupe key", jobs.Job{Kind: "b", MaxAttempts: 1, DedupeKey: "k1"}, cp.Conflict},
		{"no kind", jobs.Job{MaxAttempts: 1}, cp.Invalid},
		{"no attempts", jobs.Job{Kind: "a"}, cp.Invalid},
	}
	for _, tt := range tests {
		err := s.EnqueueJob(ctx, &tt.job, Base)
		wantJobErr(t, tt.name, err, tt.want)
	}
	// Jobs without a dedupe key never conflict with each other.
	a := enqueueJob(t, s, jobs.Job{Kind: "a", MaxAttempts: 1}, Base)
	b := enqueueJob(t, s, jobs.Job{Kind: "a", MaxAttempts: 1}, Base)
	if a.ID == b.ID {
		t.Error("two jobs got the same ID")
	}
	stats, err := s.JobStats(ctx)
	if err != nil {
		t.Fatalf("JobStats: %v", err)
	}
	if diff := cmp.Diff([]jobs.Stats{{Kind: "a", State: jobs.Pending, Count: 3}}, stats); diff != "" {
		t.Errorf("JobStats after refused enqueues (-want +got):\n%s", diff)
	}
}

func testJobsClaim(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	late := enqueueJob(t, s, jobs.Job{Kind: "a", MaxAttempts: 3, RunAt: Base.Add(time.Minute)}, Base)
	first := enqueueJob(t, s, jobs.Job{Kind: "a", MaxAttempts: 3, RunAt: Base.Add(-2 * time.Minute)}, Base)
	second := enqueueJob(t, s, jobs.Job{Kind: "a", MaxAttempts: 3, RunAt: Base.Add(-time.Minute)}, Base)
	other := enqueueJob(t, s, jobs.Job{Kind: "b", MaxAttempts: 3}, Base)

	if got := claimJobs(t, s, Base, 10); len(got) != 0 {
		t.Errorf("claim with no kinds took %v", jobIDs(got))
	}
	got := claimJobs(t, s, Base, 1, "a")
	if diff := cmp.Diff([]int64{first.ID}, jobIDs(got)); diff != "" {
		t.Fatalf("claim of 1 (-want +got):\n%s", diff)
	}
	c := got[0]
	if c.State != jobs.Running || c.Attempts != 1 || !c.LeaseUntil.Equal(Base.Add(jobLease)) || !c.UpdatedAt.Equal(Base) {
		t.Errorf("claimed job = %+v, want running, attempt 1, lease until %v", c, Base.Add(jobLease))
	}
	got = claimJobs(t, s, Base, 10, "a", "c")
	if diff := cmp.Diff([]int64{second.ID}, jobIDs(got)); diff != "" {
		t.Errorf("second claim takes the other due job of kind a only (-want +got):\n%s", diff)
	}
	got = claimJobs(t, s, Base.Add(time.Minute), 10, "a", "b")
	if diff := cmp.Diff([]int64{other.ID, late.ID}, jobIDs(got)); diff != "" {
		t.Errorf("claim a minute later, oldest first (-want +got):\n%s", diff)
	}
	if got := claimJobs(t, s, Base.Add(time.Minute), 10, "a", "b"); len(got) != 0 {
		t.Errorf("running jobs with live leases were claimed again: %v", jobIDs(got))
	}

	// Outcomes are fenced by the attempt.
	wantJobErr(t, "complete under a stale attempt", s.CompleteJob(ctx, first.ID, 2, Base), cp.Conflict)
	wantJobErr(t, "complete an unknown job", s.CompleteJob(ctx, 999999, 1, Base), cp.NotFound)
	wantJobErr(t, "fail an unknown job", s.FailJob(ctx, 999999, 1, Base, time.Time{}, "x"), cp.NotFound)
	if err := s.CompleteJob(ctx, first.ID, 1, Base.Add(time.Second)); err != nil {
		t.Fatalf("CompleteJob: %v", err)
	}
	wantJobErr(t, "complete twice", s.CompleteJob(ctx, first.ID, 1, Base), cp.Conflict)

	// A retry: pending again from retryAt, with the error kept.
	retryAt := Base.Add(30 * time.Second)
	if err := s.FailJob(ctx, second.ID, 1, Base, retryAt, "dial tcp: connection refused"); err != nil {
		t.Fatalf("FailJob(retry): %v", err)
	}
	if got := claimJobs(t, s, retryAt.Add(-time.Microsecond), 10, "a"); len(got) != 0 {
		t.Errorf("job claimed before its retry time: %v", jobIDs(got))
	}
	got = claimJobs(t, s, retryAt, 10, "a")
	if len(got) != 1 || got[0].ID != second.ID || got[0].Attempts != 2 || got[0].LastError != "dial tcp: connection refused" {
		t.Fatalf("claim at retry time = %+v, want job %d on attempt 2 with its last error", got, second.ID)
	}
	// A permanent failure is never claimed again.
	if err := s.FailJob(ctx, second.ID, 2, retryAt, time.Time{}, "550 no such user"); err != nil {
		t.Fatalf("FailJob(permanent): %v", err)
	}
	// late is still running, under a lease that has expired: it is due again.
	got = claimJobs(t, s, Base.Add(24*time.Hour), 10, "a")
	if diff := cmp.Diff([]int64{late.ID}, jobIDs(got)); diff != "" {
		t.Errorf("claim a day later (-want +got):\n%s", diff)
	}

	failed, err := s.ListJobs(ctx, jobs.Filter{State: jobs.Failed}, 10)
	if err != nil {
		t.Fatalf("ListJobs: %v", err)
	}
	if len(failed) != 1 || failed[0].ID != second.ID || failed[0].LastError != "550 no such user" || failed[0].Attempts != 2 {
		t.Errorf("failed jobs = %+v, want job %d with its error", failed, second.ID)
	}
	byKind, err := s.ListJobs(ctx, jobs.Filter{Kind: "b"}, 10)
	if err != nil {
		t.Fatalf("ListJobs: %v", err)
	}
	if diff := cmp.Diff([]int64{other.ID}, jobIDs(byKind)); diff != "" {
		t.Errorf("ListJobs(kind b) (-want +got):\n%s", diff)
	}
	if got, _ := s.ListJobs(ctx, jobs.Filter{}, 0); len(got) != 0 {
		t.Errorf("ListJobs(limit 0) = %d jobs", len(got))
	}
	stats, err := s.JobStats(ctx)
	if err != nil {
		t.Fatalf("JobStats: %v", err)
	}
	want := []jobs.Stats{
		{Kind: "a", State: jobs.Done, Count: 1}, {Kind: "a", State: jobs.Failed, Count: 1}, {Kind: "a", State: jobs.Running, Count: 1},
		{Kind: "b", State: jobs.Running, Count: 1},
	}
	if diff := cmp.Diff(want, stats); diff != "" {
		t.Errorf("JobStats (-want +got):\n%s", diff)
	}
}

// testJobsLease checks that a job whose worker vanished is taken over once its lease
// expires, that the old worker can then no longer record an outcome, and that a lease
// expiring on the last attempt fails the job.
func testJobsLease(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	j := enqueueJob(t, s, jobs.Job{Kind: "a", MaxAttempts: 2}, Base)
	first := claimJobs(t, s, Base, 1, "a")
	if len(first) != 1 {
		t.Fatalf("first claim got %d jobs", len(first))
	}
	if got := claimJobs(t, s, Base.Add(jobLease-time.Microsecond), 1, "a"); len(got) != 0 {
		t.Errorf("job taken over before its lease expired")
	}
	second := claimJobs(t, s, Base.Add(jobLease), 1, "a")
	if len(second) != 1 || second[0].ID != j.ID || second[0].Attempts != 2 {
		t.Fatalf("claim after the lease = %+v, want job %d on attempt 2", second, j.ID)
	}
	wantJobErr(t, "the first worker completes late", s.CompleteJob(ctx, j.ID, 1, Base.Add(jobLease)), cp.Conflict)
	wantJobErr(t, "the first worker fails late", s.FailJob(ctx, j.ID, 1, Base.Add(jobLease), time.Time{}, "x"), cp.Conflict)

	// The second worker vanishes too, on the last attempt.
	if got := claimJobs(t, s, Base.Add(3*jobLease), 1, "a"); len(got) != 0 {
		t.Errorf("job claimed a third time with MaxAttempts 2: %+v", got)
	}
	failed, err := s.ListJobs(ctx, jobs.Filter{State: jobs.Failed}, 10)
	if err != nil {
		t.Fatalf("ListJobs: %v", err)
	}
	if len(failed) != 1 || failed[0].ID != j.ID || failed[0].LastError == "" {
		t.Errorf("failed jobs = %+v, want job %d failed with a reason", failed, j.ID)
	}
}

// ConcurrentClaims enqueues jobs and lets many workers, spread over the given stores
// (which must share one fresh database: two stores stand for two instances), claim
// and complete them at once. Every job must be claimed exactly once.
func ConcurrentClaims(t *testing.T, stores ...jobs.Store) {
	t.Helper()
	const (
		njobs   = 120
		workers = 6 // per store
	)
	s := stores[0]
	want := map[int64]bool{}
	for i := range njobs {
		j := enqueueJob(t, s, jobs.Job{Kind: "c", MaxAttempts: 1, Payload: fmt.Appendf(nil, "%d", i)}, Base)
		want[j.ID] = true
	}
	var (
		mu     sync.Mutex
		seen   = map[int64]int{}
		errs   []error
		wg     sync.WaitGroup
		start  = make(chan struct{})
		nstore = len(stores)
	)
	for w := range workers * nstore {
		wg.Go(func() {
			st := stores[w%nstore]
			<-start
			for {
				got, err := st.ClaimJobs(t.Context(), []string{"c"}, Base, jobLease, 3)
				if err == nil {
					for _, j := range got {
						if cerr := st.CompleteJob(t.Context(), j.ID, j.Attempts, Base); cerr != nil {
							err = cerr
						}
					}
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for _, j := range got {
					seen[j.ID]++
				}
				mu.Unlock()
				if err != nil || len(got) == 0 {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("worker: %v", err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %d claimed %d times", id, n)
		}
		if !want[id] {
			t.Errorf("claimed unknown job %d", id)
		}
	}
	if len(seen) != njobs {
		t.Errorf("%d of %d jobs claimed", len(seen), njobs)
	}
	stats, err := s.JobStats(t.Context())
	if err != nil {
		t.Fatalf("JobStats: %v", err)
	}
	if diff := cmp.Diff([]jobs.Stats{{Kind: "c", State: jobs.Done, Count: njobs}}, stats); diff != "" {
		t.Errorf("JobStats after the run (-want +got):\n%s", diff)
	}
}

// testOutboxDelivery checks the queued side of notify's store: a message and its
// delivery job are written together, and the delivery state round-trips.
func testOutboxDelivery(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	m := notify.Message{MemberID: 7, Channel: notify.Email, To: "ana@example.com", Kind: "locked",
		Subject: "Cuenta bloqueada", Body: "Código 123456 — ñ å ä ö", CreatedAt: Base}
	j, err := s.QueueOutbox(ctx, &m, func(id int64) jobs.Job {
		return jobs.Job{Kind: notify.DeliverKind, Payload: fmt.Appendf(nil, "%d", id), MaxAttempts: 3, DedupeKey: fmt.Sprint("d:", id)}
	}, Base)
	if err != nil {
		t.Fatalf("QueueOutbox: %v", err)
	}
	if m.ID == 0 || j.ID == 0 || string(j.Payload) != fmt.Sprint(m.ID) {
		t.Fatalf("QueueOutbox: message %d, job %+v; want both stored, the job naming the message", m.ID, j)
	}
	got, err := s.OutboxMessage(ctx, m.ID)
	if err != nil {
		t.Fatalf("OutboxMessage: %v", err)
	}
	want := m
	want.Delivery = notify.Delivery{State: notify.Queued}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OutboxMessage (-want +got):\n%s", diff)
	}
	claimed := claimJobs(t, s, Base, 10, notify.DeliverKind)
	if diff := cmp.Diff([]int64{j.ID}, jobIDs(claimed)); diff != "" {
		t.Errorf("claim of the delivery job (-want +got):\n%s", diff)
	}

	// A taken dedupe key rolls back the message too.
	_, err = s.QueueOutbox(ctx, &notify.Message{Channel: notify.SMS, To: "+46700000000", Kind: "x", Body: "b", CreatedAt: Base},
		func(int64) jobs.Job {
			return jobs.Job{Kind: notify.DeliverKind, MaxAttempts: 1, DedupeKey: fmt.Sprint("d:", m.ID)}
		}, Base)
	wantJobErr(t, "QueueOutbox with a taken dedupe key", err, cp.Conflict)
	list, err := s.ListOutbox(ctx, 10)
	if err != nil {
		t.Fatalf("ListOutbox: %v", err)
	}
	if len(list) != 1 {
		t.Errorf("ListOutbox has %d messages after a refused queueing, want 1", len(list))
	}

	d := notify.Delivery{State: notify.Delivered, Attempts: 2, LastError: "", DeliveredAt: Base.Add(time.Minute)}
	if err := s.SetDelivery(ctx, m.ID, d); err != nil {
		t.Fatalf("SetDelivery: %v", err)
	}
	list, err = s.ListOutbox(ctx, 10)
	if err != nil {
		t.Fatalf("ListOutbox: %v", err)
	}
	want.Delivery = d
	if diff := cmp.Diff([]notify.Message{want}, list, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ListOutbox after SetDelivery (-want +got):\n%s", diff)
	}
	wantJobErr(t, "SetDelivery on an unknown message", s.SetDelivery(ctx, 999999, d), cp.NotFound)
	_, err = s.OutboxMessage(ctx, 999999)
	wantJobErr(t, "OutboxMessage of an unknown message", err, cp.NotFound)
}

// DeliveryStore is what ConcurrentDelivery needs of a backend.
type DeliveryStore interface {
	jobs.Store
	notify.QueueStore
	notify.OutboxStore
}

// ConcurrentDelivery queues messages and lets several job runners per store (the
// stores sharing one fresh database stand for instances) deliver them at once, with
// the real polling loop: every message must be sent exactly once and end delivered.
func ConcurrentDelivery(t *testing.T, stores ...DeliveryStore) {
	t.Helper()
	const (
		nmsgs   = 40
		runners = 2 // per store
	)
	log := slog.New(slog.DiscardHandler)
	q := &notify.Queue{Store: stores[0], Log: log, Now: time.Now}
	for i := range nmsgs {
		if err := q.Notify(t.Context(), notify.Message{Channel: notify.Email, To: fmt.Sprintf("m%d@example.com", i), Kind: "test", Body: "b"}); err != nil {
			t.Fatalf("Notify: %v", err)
		}
	}
	var (
		mu   sync.Mutex
		sent = map[int64]int{}
		all  = make(chan struct{})
	)
	send := sendFunc(func(_ context.Context, m notify.Message) error {
		mu.Lock()
		defer mu.Unlock()
		sent[m.ID]++
		if len(sent) == nmsgs && sent[m.ID] == 1 {
			close(all)
		}
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, s := range stores {
		d := &notify.Deliverer{Store: s, Transports: map[notify.Channel]notify.Transport{notify.Email: send}, Log: log, Now: time.Now}
		for range runners {
			r := &jobs.Runner{Store: s, Handlers: map[string]jobs.Handler{notify.DeliverKind: d.Handle}, Poll: 5 * time.Millisecond, Batch: 3, Log: log}
			wg.Go(func() { r.Run(ctx) })
		}
	}
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		t.Error("not every message was sent")
	}
	time.Sleep(50 * time.Millisecond) // room for a duplicate to show
	cancel()
	wg.Wait()
	for id, n := range sent {
		if n != 1 {
			t.Errorf("message %d sent %d times", id, n)
		}
	}
	msgs, err := stores[0].ListOutbox(t.Context(), 2*nmsgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Delivery.State != notify.Delivered || m.Delivery.Attempts != 1 {
			t.Errorf("message %d: delivery %+v, want delivered on the first attempt", m.ID, m.Delivery)
		}
	}
}

type sendFunc func(context.Context, notify.Message) error

func (f sendFunc) Send(ctx context.Context, m notify.Message) error { return f(ctx, m) }
