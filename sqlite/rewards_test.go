package sqlite_test

import (
	"testing"
	"time"

	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/rewards"
)

// BenchmarkRewardsFirstSweep measures the points sweep over the default demo's year of
// history (300 accounts, about 43,000 purchases and refunds), as the program's first
// start runs it before it listens; the demo load itself is not timed.
//
//	go test -run x -bench RewardsFirstSweep -benchtime 3x ./sqlite/
func BenchmarkRewardsFirstSweep(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s := seedDemo(b, 300)
		if err := s.LoadRewards(b.Context(), demo.Rewards(time.Now())); err != nil {
			b.Fatal(err)
		}
		svc := rewards.New(s, time.Now, nil)
		b.StartTimer()
		n, err := svc.Sweep(b.Context())
		if err != nil || n == 0 {
			b.Fatalf("Sweep = %d, %v", n, err)
		}
		b.ReportMetric(float64(n), "entries/op")
	}
}

// BenchmarkRewardsIdleSweep measures a periodic sweep that finds nothing new over the
// same history: it reads the empty queue of migration 00018, so its price should not
// grow with the history.
//
//	go test -run x -bench RewardsIdleSweep ./sqlite/
func BenchmarkRewardsIdleSweep(b *testing.B) {
	s := seedDemo(b, 300)
	if err := s.LoadRewards(b.Context(), demo.Rewards(time.Now())); err != nil {
		b.Fatal(err)
	}
	svc := rewards.New(s, time.Now, nil)
	if _, err := svc.Sweep(b.Context()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if n, err := svc.Sweep(b.Context()); err != nil || n != 0 {
			b.Fatalf("Sweep = %d, %v", n, err)
		}
	}
}
