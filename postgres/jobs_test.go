package postgres_test

import (
	"testing"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/postgres"
	"github.com/cardportal/cardportal/storetest"
)

// TestJobsTwoInstances opens one schema through two pools, as two instances would,
// and checks that workers on both claim every job exactly once (FOR UPDATE SKIP
// LOCKED).
func TestJobsTwoInstances(t *testing.T) {
	dsn := freshSchema(t)
	var stores []jobs.Store
	for range 2 {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.ConcurrentClaims(t, stores...)
}

// TestDeliveryTwoInstances runs job runners on two pools of one schema and checks
// that each queued message is sent exactly once.
func TestDeliveryTwoInstances(t *testing.T) {
	dsn := freshSchema(t)
	var stores []storetest.DeliveryStore
	for range 2 {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.ConcurrentDelivery(t, stores...)
}
