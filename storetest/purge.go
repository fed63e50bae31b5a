package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/jobs"
)

// Purger is a store that can delete rows that have run their course.
type Purger interface {
	Purge(ctx context.Context, now time.Time, keep time.Duration) (int64, error)
}

// RunPurge checks that Purge removes ended throttle windows, expired flows and long-dead
// sessions, and leaves everything still in force alone.
func RunPurge(t *testing.T, s Store, p Purger) {
	ctx := context.Background()
	now := Base.Add(48 * time.Hour)
	if _, _, err := s.Hit(ctx, "old-window", time.Minute, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Hit(ctx, "live-window", time.Hour, now); err != nil {
		t.Fatal(err)
	}
	flows := []identity.Flow{
		{TokenHash: []byte("expired-flow-hash-0000000000000"), Kind: "registration", CardholderID: 1, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)},
		{TokenHash: []byte("live-flow-hash-00000000000000000"), Kind: "registration", CardholderID: 1, CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
	}
	for _, f := range flows {
		if err := s.CreateFlow(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	// A job finished two days ago goes; one finished just now stays.
	var doneIDs []int64
	for i, at := range []time.Time{now.Add(-48 * time.Hour), now} {
		j := &jobs.Job{Kind: "purge.test", Payload: []byte{byte(i)}, MaxAttempts: 1}
		if err := s.EnqueueJob(ctx, j, at); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimJobs(ctx, []string{"purge.test"}, at, time.Minute, 1)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		if err := s.CompleteJob(ctx, claimed[0].ID, claimed[0].Attempts, at); err != nil {
			t.Fatal(err)
		}
		doneIDs = append(doneIDs, claimed[0].ID)
	}
	if _, err := p.Purge(ctx, now, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.Hit(ctx, "old-window", time.Minute, now.Add(-time.Hour)); n != 1 {
		t.Errorf("an ended throttle window survived the purge: count %d", n)
	}
	if n, _, _ := s.Hit(ctx, "live-window", time.Hour, now); n != 2 {
		t.Errorf("a live throttle window was purged: count %d, want 2", n)
	}
	if _, err := s.FlowByTokenHash(ctx, flows[0].TokenHash); err == nil {
		t.Error("an expired flow survived the purge")
	}
	if _, err := s.FlowByTokenHash(ctx, flows[1].TokenHash); err != nil {
		t.Errorf("a live flow was purged: %v", err)
	}
	left, err := s.ListJobs(ctx, jobs.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, j := range left {
		if j.Kind == "purge.test" {
			ids = append(ids, j.ID)
		}
	}
	if len(ids) != 1 || ids[0] != doneIDs[1] {
		t.Errorf("jobs left after purge: %v, want only %d", ids, doneIDs[1])
	}
}
