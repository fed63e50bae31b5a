package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/storetest"
)

// TestPaymentDueOnceTwoInstances opens one file twice, as two processes would, and
// runs the payment-due job from both: each alert goes once (SPEC AC12).
func TestPaymentDueOnceTwoInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.db")
	var stores []storetest.Store
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.PaymentDueOnce(t, stores...)
}
