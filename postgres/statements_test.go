package postgres_test

import (
	"testing"

	"github.com/cardportal/cardportal/postgres"
	"github.com/cardportal/cardportal/storetest"
)

// TestStatementCloseTwoInstances closes the ended days from two stores on one
// database, as two instances would: each day once, each statement once.
func TestStatementCloseTwoInstances(t *testing.T) {
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
	storetest.StatementCloseOnce(t, stores...)
}
