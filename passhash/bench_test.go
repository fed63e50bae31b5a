package passhash

import (
	"context"
	"testing"
)

// BenchmarkHashParallel measures raw argon2id throughput with DefaultParams
// across GOMAXPROCS goroutines (the default concurrency bound, so the
// semaphore adds no queueing). The hashes/s figure is the ceiling that login
// throughput is compared against: no login path can beat it.
func BenchmarkHashParallel(b *testing.B) {
	h, err := NewHasher(DefaultParams, 0)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	password := []byte("correct horse battery staple")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, password); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
