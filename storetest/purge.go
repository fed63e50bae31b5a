package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cardportal/cardportal/identity"
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
}
