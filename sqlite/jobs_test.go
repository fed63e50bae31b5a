package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/storetest"
)

// TestJobsTwoInstances opens one file twice, as two processes would, and checks that
// workers on both claim every job exactly once.
func TestJobsTwoInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	var stores []jobs.Store
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.ConcurrentClaims(t, stores...)
}

// TestDeliveryTwoInstances runs job runners on two handles of one file and checks
// that each queued message is sent exactly once.
func TestDeliveryTwoInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "delivery.db")
	var stores []storetest.DeliveryStore
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.ConcurrentDelivery(t, stores...)
}
