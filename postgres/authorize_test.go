package postgres_test

import (
	"testing"

	"github.com/cardportal/cardportal/postgres"
	"github.com/cardportal/cardportal/storetest"
)

// TestTwoInstancesAuthorise races authorisations for the last of an account's credit
// through two stores on one database, as two instances would: only the account row
// lock keeps them from both spending it.
func TestTwoInstancesAuthorise(t *testing.T) {
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
	storetest.ConcurrentAuthorise(t, stores...)
}
