package postgres_test

import (
	"testing"

	"github.com/cardportal/cardportal/postgres"
	"github.com/cardportal/cardportal/storetest"
)

// TestPaymentDueOnceTwoInstances runs the payment-due job from two stores on one
// database, as two instances behind a load balancer would: each alert goes once.
func TestPaymentDueOnceTwoInstances(t *testing.T) {
	dsn := freshSchema(t)
	var stores []storetest.Store
	for range 2 {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.PaymentDueOnce(t, stores...)
}
